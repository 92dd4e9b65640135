//! Fitting the uncertain behaviour parameters on the in-sample months: approximate Bayesian computation by
//! rejection.
//!
//! Each of `n_paths` paths draws the declared `[[uncertainty]]` parameters from their prior ranges and runs the
//! in-sample months only (the scenario is cut at `--calibrate-until`: its price, fees and horizon stop there,
//! so no later month can reach a path). Each path's distance to history is
//!
//! ```text
//! d = 1.00 × mean |ln(hashrate / real)| over the in-sample months
//!   + 0.25 × mean |ln(EH/s sold / filed)| over the in-sample quarters with filed EH/s sold
//!   + 0.25 × mean |gross margin − filed| over the in-sample quarters with a filed margin
//! ```
//!
//! (filings of the manufacturers the scenario names). The `accept_share` of paths nearest history are kept: their
//! parameter values are the posterior sample, and each parameter's 5th–95th percentile among them is the range
//! runs then draw from. Parameters are drawn independently from those ranges, so correlations between them in
//! the posterior are not kept.

use rayon::prelude::*;

use crate::replay::figures::{Figure, Metric};
use crate::replay::{ReplayPath, model_value};
use crate::stats::quantile_sorted;
use hashcycle_model::params::{Params, PriceProcess};
use hashcycle_model::uncertainty::{Distribution, UncertainParam, draws};
use hashcycle_model::units::YearMonth;

/// Weight of the mean |log error| of hashrate in the distance.
pub const WEIGHT_HASHRATE: f64 = 1.0;
/// Weight of the mean |log error| of filed hashrate sold.
pub const WEIGHT_HASHRATE_SOLD: f64 = 0.25;
/// Weight of the mean absolute error of filed gross margins.
pub const WEIGHT_GROSS_MARGIN: f64 = 0.25;
/// The posterior range runs draw from: these quantiles of the accepted values.
pub const POSTERIOR_RANGE_QUANTILES: (f64, f64) = (0.05, 0.95);

/// One fitted parameter: its prior and what the accepted paths say.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub prior: UncertainParam,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

/// What a calibration found.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub n_paths: u32,
    pub accept_share: f64,
    pub n_accepted: usize,
    pub calibrate_until: YearMonth,
    pub n_in_sample_months: usize,
    /// The filings the distance used.
    pub n_figures: usize,
    pub posteriors: Vec<Posterior>,
    /// Median distance over all paths, and over the accepted ones.
    pub median_distance_prior: f64,
    pub median_distance_accepted: f64,
    pub wall_seconds: f64,
}

impl Calibration {
    /// The declared parameters with the posterior ranges, to draw every run's paths from.
    pub fn fitted(&self) -> Vec<UncertainParam> {
        self.posteriors
            .iter()
            .map(|p| UncertainParam {
                min: p.p05,
                max: p.p95.max(p.p05),
                ..p.prior.clone()
            })
            .collect()
    }
}

/// `params` cut after `last`: horizon, replayed price and fees end there.
pub fn in_sample_params(params: &Params, last: YearMonth) -> Params {
    let mut cut = params.clone();
    let n = (last.months_since(params.simulation.start) + 1).clamp(0, params.simulation.horizon_months as i64) as usize;
    cut.simulation.horizon_months = n as u32;
    if let PriceProcess::Historical(h) = &mut cut.price.process {
        h.log_prices.truncate(n);
        h.regimes.truncate(n);
    }
    if let Some(fees) = &mut cut.fees.history_btc_per_block {
        fees.truncate(n);
    }
    // Scripted events after the cut are never reached; the queue drops them.
    cut
}

/// A path's distance to history over the in-sample months.
fn distance(path: &ReplayPath, months: &[YearMonth], actual: &[f64], names: &[String], figures: &[Figure]) -> f64 {
    // A path stopped early by a failed check is as far from history as it gets.
    if path.violation.is_some() {
        return f64::INFINITY;
    }
    let mean = |xs: &[f64]| {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let hashrate: Vec<f64> = actual
        .iter()
        .zip(&path.hashrate_ehs)
        .map(|(a, s)| if *s > 0.0 { (s / a).ln().abs() } else { 10.0 })
        .collect();
    let mut sold = vec![];
    let mut margin = vec![];
    for f in figures {
        let Some(maker) = names.iter().position(|n| n.eq_ignore_ascii_case(&f.company)) else {
            continue;
        };
        let model = model_value(path, months, maker, f.metric, f.period);
        match (f.metric, model) {
            (Metric::HashrateSoldEhs, Some(m)) if f.value > 0.0 => {
                sold.push(if m > 0.0 { (m / f.value).ln().abs() } else { 10.0 })
            }
            (Metric::GrossMarginShare, Some(m)) => margin.push((m - f.value).abs()),
            _ => {}
        }
    }
    WEIGHT_HASHRATE * mean(&hashrate) + WEIGHT_HASHRATE_SOLD * mean(&sold) + WEIGHT_GROSS_MARGIN * mean(&margin)
}

/// Runs the calibration. `params` must already be cut to the in-sample months (`in_sample_params`), and
/// `actual_hashrate_ehs` hold exactly those months; `figures` are the in-sample filings.
pub fn calibrate(
    params: &Params,
    actual_hashrate_ehs: &[f64],
    figures: &[Figure],
    n_paths: u32,
    accept_share: f64,
) -> Result<Calibration, String> {
    let started = std::time::Instant::now();
    if params.uncertainty.is_empty() {
        return Err(
            "nothing to fit: declare the parameters to fit, with their prior ranges, as [[uncertainty]] entries"
                .to_string(),
        );
    }
    let start = params.simulation.start;
    let months: Vec<YearMonth> = (0..params.simulation.horizon_months)
        .map(|k| start.plus_months(k as i64))
        .collect();
    if months.len() != actual_hashrate_ehs.len() || months.is_empty() {
        return Err(format!(
            "the in-sample months ({}) and the real hashrate ({} months) differ",
            months.len(),
            actual_hashrate_ehs.len()
        ));
    }
    let names: Vec<String> = params.manufacturers.iter().map(|m| m.name.clone()).collect();
    let scored: Vec<(f64, Vec<f64>)> = (0..n_paths)
        .into_par_iter()
        .map(|path_idx| {
            let mut path = ReplayPath::default();
            let summary = crate::batch::simulate_path_guarded(params, path_idx, &mut path);
            path.violation = summary.violation;
            (
                distance(&path, &months, actual_hashrate_ehs, &names, figures),
                draws(params, path_idx),
            )
        })
        .collect();
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| scored[a].0.total_cmp(&scored[b].0).then(a.cmp(&b)));
    let n_accepted = ((n_paths as f64 * accept_share).ceil() as usize).clamp(1, scored.len());
    let accepted = &order[..n_accepted];
    let median = |idx: &[usize]| {
        let mut d: Vec<f64> = idx.iter().map(|&i| scored[i].0).filter(|d| d.is_finite()).collect();
        d.sort_by(f64::total_cmp);
        if d.is_empty() {
            f64::NAN
        } else {
            quantile_sorted(&d, 0.5)
        }
    };
    let posteriors = params
        .uncertainty
        .iter()
        .enumerate()
        .map(|(k, prior)| {
            let mut values: Vec<f64> = accepted.iter().map(|&i| scored[i].1[k]).collect();
            values.sort_by(f64::total_cmp);
            let q = |x: f64| quantile_sorted(&values, x);
            Posterior {
                prior: prior.clone(),
                p05: q(POSTERIOR_RANGE_QUANTILES.0),
                p50: q(0.5),
                p95: q(POSTERIOR_RANGE_QUANTILES.1),
            }
        })
        .collect();
    Ok(Calibration {
        n_paths,
        accept_share,
        n_accepted,
        calibrate_until: months[months.len() - 1],
        n_in_sample_months: months.len(),
        n_figures: figures
            .iter()
            .filter(|f| matches!(f.metric, Metric::HashrateSoldEhs | Metric::GrossMarginShare))
            .filter(|f| names.iter().any(|n| n.eq_ignore_ascii_case(&f.company)))
            .count(),
        posteriors,
        median_distance_prior: median(&order),
        median_distance_accepted: median(accepted),
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// A value as written in the calibrated scenario text: four significant digits.
fn round4(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let v = (x * scale).round() / scale;
    if digits > 0 {
        format!("{v:.*}", digits as usize)
    } else {
        format!("{v:.0}")
    }
}

/// The `[[uncertainty]]` entries with the posterior ranges, as scenario text, headed by how they were fitted.
pub fn calibrated_toml(c: &Calibration, scenario_file: &str) -> String {
    let mut out = format!(
        "# Fitted by `hashcycle replay {scenario_file} --calibrate --calibrate-until {}`: approximate Bayesian computation\n\
         # by rejection, {} paths drawn from the prior ranges below, the {} ({:.0}%) nearest history kept.\n\
         # Distance: 1.00 x mean |ln(hashrate / real)| over {} in-sample months + 0.25 x mean |ln(EH/s sold / filed)|\n\
         # + 0.25 x mean |gross margin - filed| over {} filed figures. Median distance {:.4} over all paths, {:.4} over those kept.\n\
         # Each range is the 5th-95th percentile of the kept values; paste these entries into a scenario to draw from them.\n",
        c.calibrate_until,
        c.n_paths,
        c.n_accepted,
        100.0 * c.accept_share,
        c.n_in_sample_months,
        c.n_figures,
        c.median_distance_prior,
        c.median_distance_accepted,
    );
    for p in &c.posteriors {
        out.push_str(&format!(
            "\n[[uncertainty]]\nparameter = \"{}\"   # prior {} to {}; posterior median {}\ndistribution = \"{}\"\nmin = {}\nmax = {}\n",
            p.prior.name,
            round4(p.prior.min),
            round4(p.prior.max),
            round4(p.p50),
            match p.prior.distribution {
                Distribution::Uniform => "uniform",
                Distribution::LogUniform => "log_uniform",
            },
            round4(p.p05),
            round4(p.p95.max(p.p05)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_with_four_significant_digits() {
        assert_eq!(round4(0.284217), "0.2842");
        assert_eq!(round4(12.3456), "12.35");
        assert_eq!(round4(123456.0), "123500");
        assert_eq!(round4(0.0), "0");
    }
}
