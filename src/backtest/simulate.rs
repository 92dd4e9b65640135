//! Running a backtest scenario's paths and reducing them to monthly bands and fit metrics.
//!
//! With the price and fees replayed from history, what differs between paths is the rest of the world's
//! randomness (regional power prices, agents' draws). Paths run in parallel and are gathered in path order,
//! so results do not depend on the thread count.

use rayon::prelude::*;

use crate::batch::simulate_path_guarded;
use crate::stats::quantile_sorted;
use hashcycle_model::params::Params;
use hashcycle_model::record::{
    DealerRow, EventKind, EventRow, ManufacturerRow, MinerRow, NetworkRow, RegionRow, Sink, Violation,
};

/// What a backtest keeps of one path: its monthly hashrate and difficulty, and when it halved.
#[derive(Clone, Debug, Default)]
pub struct PathSeries {
    pub hashrate_ehs: Vec<f64>,
    /// Difficulty in force at the end of each month.
    pub difficulty: Vec<f64>,
    /// Month index of each halving, in order.
    pub halving_month_idx: Vec<u32>,
    pub violation: Option<Violation>,
}

impl Sink for PathSeries {
    const MONTHLY_ROWS: bool = true;
    fn network(&mut self, row: &NetworkRow) {
        self.hashrate_ehs.push(row.hashrate_ehs);
        self.difficulty.push(row.difficulty);
    }
    fn miner(&mut self, _row: &MinerRow) {}
    fn manufacturer(&mut self, _row: &ManufacturerRow) {}
    fn dealer(&mut self, _row: &DealerRow) {}
    fn region(&mut self, _row: &RegionRow) {}
    fn event(&mut self, row: EventRow) {
        if row.kind == EventKind::Halving {
            self.halving_month_idx.push(row.month.0);
        }
    }
}

/// Simulates paths `0..n_paths` of `params` (on the current rayon pool), in path order.
pub fn simulate(params: &Params, n_paths: u32) -> Vec<PathSeries> {
    (0..n_paths)
        .into_par_iter()
        .map(|path_idx| {
            let mut series = PathSeries::default();
            let summary = simulate_path_guarded(params, path_idx, &mut series);
            series.violation = summary.violation;
            series
        })
        .collect()
}

/// The 5th, 50th and 95th percentiles across paths, month by month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Band {
    pub p5: Vec<f64>,
    pub p50: Vec<f64>,
    pub p95: Vec<f64>,
}

impl Band {
    /// The band of `value(path)[month]` over paths; months a path did not reach are left out of that month.
    pub fn across(paths: &[PathSeries], n_months: usize, value: impl Fn(&PathSeries) -> &[f64]) -> Band {
        let mut band = Band::default();
        let mut month_values = Vec::with_capacity(paths.len());
        for m in 0..n_months {
            month_values.clear();
            month_values.extend(paths.iter().filter_map(|p| value(p).get(m).copied()));
            month_values.retain(|v| v.is_finite());
            month_values.sort_by(f64::total_cmp);
            let q = |q: f64| {
                if month_values.is_empty() {
                    f64::NAN
                } else {
                    quantile_sorted(&month_values, q)
                }
            };
            band.p5.push(q(0.05));
            band.p50.push(q(0.50));
            band.p95.push(q(0.95));
        }
        band
    }
}

/// How well a central path and a band follow the actual series, over one set of months.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FitMetrics {
    pub n_months: usize,
    /// Median over the months of |log(central / actual)|.
    pub median_abs_log_error: f64,
    /// Mean of the same.
    pub mean_abs_log_error: f64,
    /// Share of months whose actual lies inside [low, high].
    pub coverage_share: f64,
}

/// |ln(simulated / actual)| month by month: the error the fit metrics and the calibration objective share.
pub fn abs_log_errors(simulated: &[f64], actual: &[f64]) -> Vec<f64> {
    simulated.iter().zip(actual).map(|(s, a)| (s / a).ln().abs()).collect()
}

/// Metrics over `months` (indices into the series).
pub fn fit_metrics(
    actual: &[f64],
    central: &[f64],
    low: &[f64],
    high: &[f64],
    months: std::ops::Range<usize>,
) -> FitMetrics {
    let mut errors = abs_log_errors(&central[months.clone()], &actual[months.clone()]);
    let inside = months.filter(|&m| actual[m] >= low[m] && actual[m] <= high[m]).count();
    let n = errors.len();
    if n == 0 {
        return FitMetrics {
            n_months: 0,
            median_abs_log_error: f64::NAN,
            mean_abs_log_error: f64::NAN,
            coverage_share: f64::NAN,
        };
    }
    let mean = errors.iter().sum::<f64>() / n as f64;
    errors.sort_by(f64::total_cmp);
    FitMetrics {
        n_months: n,
        median_abs_log_error: quantile_sorted(&errors, 0.5),
        mean_abs_log_error: mean,
        coverage_share: inside as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_count_errors_and_coverage_over_the_given_months() {
        let actual = [1.0, 2.0, 4.0, 8.0];
        let central = [1.0, 4.0, 4.0, 4.0];
        let low = [0.5, 3.0, 3.0, 3.0];
        let high = [1.5, 5.0, 5.0, 5.0];
        let m = fit_metrics(&actual, &central, &low, &high, 0..3);
        assert_eq!(m.n_months, 3);
        assert!((m.median_abs_log_error - 0.0).abs() < 1e-12);
        assert!((m.mean_abs_log_error - 2f64.ln() / 3.0).abs() < 1e-12);
        assert!((m.coverage_share - 2.0 / 3.0).abs() < 1e-12);
        let later = fit_metrics(&actual, &central, &low, &high, 3..4);
        assert!((later.median_abs_log_error - 2f64.ln()).abs() < 1e-12);
        assert_eq!(later.coverage_share, 0.0);
    }

    #[test]
    fn bands_are_quantiles_across_paths() {
        let paths: Vec<PathSeries> = (0..21)
            .map(|i| PathSeries {
                hashrate_ehs: vec![i as f64, 2.0 * i as f64],
                ..PathSeries::default()
            })
            .collect();
        let band = Band::across(&paths, 2, |p| &p.hashrate_ehs);
        assert_eq!(band.p50, vec![10.0, 20.0]);
        assert_eq!(band.p5, vec![1.0, 2.0]);
        assert_eq!(band.p95, vec![19.0, 38.0]);
    }
}
