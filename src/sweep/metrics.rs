//! Per-path outcomes of the focus manufacturer and their reduction to one cell's metrics.
//!
//! Metrics are recomputed from the per-path outcomes wherever they are needed (a whole sweep, or a
//! merge of shards), so they are identical however the work was split.

use crate::stats::{Quantiles, quantiles};
use hashcycle_model::record::{ManufacturerOutcome, PathSummary};

/// What one path says about the focus manufacturer's strategy: the model's own per-manufacturer outcome,
/// with the path's identity and the network's end state beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct PathOutcome {
    pub path_idx: u32,
    pub failed_check: bool,
    /// The focus manufacturer's outcome; all zero for a path that failed before its first month.
    pub manufacturer: ManufacturerOutcome,
    pub end_price_usd: f64,
    pub end_hashrate_ehs: f64,
}

impl PathOutcome {
    pub fn from_summary(summary: &PathSummary, focus_idx: usize) -> PathOutcome {
        let net = &summary.network;
        let focus = summary.manufacturers.get(focus_idx);
        PathOutcome {
            path_idx: summary.path_idx,
            // A path that failed before its first month has no manufacturer outcome.
            failed_check: summary.violation.is_some() || focus.is_none(),
            manufacturer: focus.cloned().unwrap_or_else(|| ManufacturerOutcome {
                manufacturer_idx: focus_idx,
                ..ManufacturerOutcome::default()
            }),
            end_price_usd: net.end_price_usd,
            end_hashrate_ehs: net.end_hashrate_ehs,
        }
    }
}

/// A cell's metrics over its paths that completed. Every figure is `None` when no path completed (all
/// failed a check), and is written as null: a cell nobody could judge must not read as a safe one.
#[derive(Clone, Debug, PartialEq)]
pub struct CellMetrics {
    pub n_paths: u32,
    pub n_failed: u32,
    pub p_cash_below_zero: Option<f64>,
    pub p_cash_below_zero_se: Option<f64>,
    /// The 95% Wilson score interval of P(cash < 0): never zero width, even when no path or every path goes
    /// below zero.
    pub p_cash_below_zero_lo95: Option<f64>,
    pub p_cash_below_zero_hi95: Option<f64>,
    /// CVaR-5% of minimum cash: the mean of the lowest 5% of paths' minimum cash.
    pub min_cash_usd_cvar5: Option<f64>,
    pub p_distress: Option<f64>,
    pub p_distress_se: Option<f64>,
    pub min_cash_usd: Option<Quantiles>,
    pub end_cash_usd: Option<Quantiles>,
    pub revenue_usd: Option<Quantiles>,
    pub gross_margin_usd: Option<Quantiles>,
    pub walk_away_rate_mean: Option<f64>,
    pub prepayments_forfeited_usd_mean: Option<f64>,
    pub writedowns_usd_mean: Option<f64>,
    pub market_share_mean: Option<f64>,
}

/// A proportion and its standard error sqrt(p(1-p)/n); `None` of no trials.
pub fn proportion(successes: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let p = successes as f64 / n as f64;
    Some((p, (p * (1.0 - p) / n as f64).sqrt()))
}

/// The 95% Wilson score interval of a proportion of `successes` in `n` trials; `None` of no trials.
pub fn wilson_95(successes: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let centre = (p + Z * Z / (2.0 * n)) / (1.0 + Z * Z / n);
    let half = Z / (1.0 + Z * Z / n) * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt();
    // At 0 or n successes the interval ends exactly at 0 or 1 (the formula leaves rounding residue).
    let lo = if successes == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if successes as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lo, hi))
}

/// The share of the worst outcomes CVaR averages.
pub const CVAR_SHARE: f64 = 0.05;

/// The mean of the lowest `CVAR_SHARE` of `values` (at least one value); `None` of none.
pub fn cvar(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let k = ((sorted.len() as f64 * CVAR_SHARE).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[..k].iter().sum::<f64>() / k as f64)
}

/// Reduces a cell's outcomes; paths stopped by a failed check are counted but not used.
pub fn cell_metrics(outcomes: &[PathOutcome]) -> CellMetrics {
    let ok: Vec<&ManufacturerOutcome> = outcomes
        .iter()
        .filter(|o| !o.failed_check)
        .map(|o| &o.manufacturer)
        .collect();
    let n = ok.len();
    let mean = |f: fn(&ManufacturerOutcome) -> f64| (n > 0).then(|| ok.iter().map(|o| f(o)).sum::<f64>() / n as f64);
    let quantiles_of = |f: fn(&ManufacturerOutcome) -> f64| quantiles(&ok.iter().map(|o| f(o)).collect::<Vec<f64>>());
    let cash_below_zero = proportion(ok.iter().filter(|o| o.cash_below_zero).count(), n);
    let distress = proportion(ok.iter().filter(|o| o.distressed).count(), n);
    CellMetrics {
        n_paths: outcomes.len() as u32,
        n_failed: (outcomes.len() - n) as u32,
        p_cash_below_zero: cash_below_zero.map(|(p, _)| p),
        p_cash_below_zero_se: cash_below_zero.map(|(_, se)| se),
        p_cash_below_zero_lo95: wilson_95(ok.iter().filter(|o| o.cash_below_zero).count(), n).map(|(lo, _)| lo),
        p_cash_below_zero_hi95: wilson_95(ok.iter().filter(|o| o.cash_below_zero).count(), n).map(|(_, hi)| hi),
        min_cash_usd_cvar5: cvar(&ok.iter().map(|o| o.min_cash_usd).collect::<Vec<f64>>()),
        p_distress: distress.map(|(p, _)| p),
        p_distress_se: distress.map(|(_, se)| se),
        min_cash_usd: quantiles_of(|o| o.min_cash_usd),
        end_cash_usd: quantiles_of(|o| o.end_cash_usd),
        revenue_usd: quantiles_of(|o| o.revenue_usd),
        gross_margin_usd: quantiles_of(|o| o.gross_margin_usd),
        walk_away_rate_mean: mean(|o| o.walk_away_rate),
        prepayments_forfeited_usd_mean: mean(|o| o.prepayments_forfeited_usd),
        writedowns_usd_mean: mean(|o| o.writedowns_usd),
        market_share_mean: mean(|o| o.market_share),
    }
}

/// What a path says for the paired comparison with the reference cell; `None` for a path stopped by a check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairPoint {
    pub cash_below_zero: bool,
    pub min_cash_usd: f64,
    pub end_cash_usd: f64,
}

/// A cell's points, in path order.
pub fn pair_points(outcomes: &[PathOutcome]) -> Vec<Option<PairPoint>> {
    outcomes
        .iter()
        .map(|o| {
            (!o.failed_check).then_some(PairPoint {
                cash_below_zero: o.manufacturer.cash_below_zero,
                min_cash_usd: o.manufacturer.min_cash_usd,
                end_cash_usd: o.manufacturer.end_cash_usd,
            })
        })
        .collect()
}

/// A cell against its scenario's reference cell, path by path on the same paths (common random numbers):
/// each difference is the cell's figure less the reference's, with the standard error of that paired difference.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Paired {
    /// Paths that completed in both cells.
    pub n_pairs: usize,
    pub p_cash_below_zero: (f64, f64),
    pub min_cash_usd_p50: (f64, f64),
    pub min_cash_usd_cvar5: (f64, f64),
    pub end_cash_usd_p50: (f64, f64),
}

impl Paired {
    /// Whether the cell's P(cash < 0) is within two paired standard errors of the reference's.
    pub fn tied_on_risk(&self) -> bool {
        let (d, se) = self.p_cash_below_zero;
        d.abs() <= 2.0 * se
    }
}

/// Bootstrap resamples for the standard errors of paired differences of medians and CVaR.
pub const BOOTSTRAP_RESAMPLES: usize = 200;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    crate::stats::quantile_sorted(values, 0.5)
}

/// `cell` against `reference` (both in path order, the same paths). The difference in P(cash < 0) is the
/// mean of the per-path differences, with their standard error; the differences of medians and of CVaR-5% take
/// their standard errors from `BOOTSTRAP_RESAMPLES` resamples of the paired paths, drawn from a generator
/// seeded by `seed`, so they repeat exactly. `None` when no path completed in both.
pub fn paired(cell: &[Option<PairPoint>], reference: &[Option<PairPoint>], seed: u64) -> Option<Paired> {
    let pairs: Vec<(PairPoint, PairPoint)> = cell
        .iter()
        .zip(reference)
        .filter_map(|(c, r)| Some(((*c)?, (*r)?)))
        .collect();
    let n = pairs.len();
    if n == 0 {
        return None;
    }
    let d: Vec<f64> = pairs
        .iter()
        .map(|(c, r)| f64::from(u8::from(c.cash_below_zero)) - f64::from(u8::from(r.cash_below_zero)))
        .collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let statistic = |idx: &[usize], f: &dyn Fn(&[f64]) -> f64, get: fn(&PairPoint) -> f64| {
        let c: Vec<f64> = idx.iter().map(|&i| get(&pairs[i].0)).collect();
        let r: Vec<f64> = idx.iter().map(|&i| get(&pairs[i].1)).collect();
        f(&c) - f(&r)
    };
    let med = |v: &[f64]| median(&mut v.to_vec());
    let tail = |v: &[f64]| cvar(v).unwrap_or(f64::NAN);
    let all: Vec<usize> = (0..n).collect();
    type Stat<'a> = (&'a dyn Fn(&[f64]) -> f64, fn(&PairPoint) -> f64);
    let stats: [Stat; 3] = [
        (&med, |p| p.min_cash_usd),
        (&tail, |p| p.min_cash_usd),
        (&med, |p| p.end_cash_usd),
    ];
    let mut state = seed;
    let mut resampled: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    let mut idx = vec![0usize; n];
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for slot in idx.iter_mut() {
            state = hashcycle_model::rng::mix64(state);
            *slot = (state % n as u64) as usize;
        }
        for (k, (f, get)) in stats.iter().enumerate() {
            resampled[k].push(statistic(&idx, *f, *get));
        }
    }
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
    };
    let point = |k: usize| statistic(&all, stats[k].0, stats[k].1);
    Some(Paired {
        n_pairs: n,
        p_cash_below_zero: (mean, (var / n as f64).sqrt()),
        min_cash_usd_p50: (point(0), sd(&resampled[0])),
        min_cash_usd_cvar5: (point(1), sd(&resampled[1])),
        end_cash_usd_p50: (point(2), sd(&resampled[2])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(cash_below_zero: bool, min_cash_usd: f64, end_cash_usd: f64) -> Option<PairPoint> {
        Some(PairPoint {
            cash_below_zero,
            min_cash_usd,
            end_cash_usd,
        })
    }

    /// A hand computation: paths 0-3, one failed in the cell; P(cash<0) differences +1, 0, -, +1 over three
    /// pairs: mean 2/3, sample variance 1/3, standard error sqrt(1/9) = 1/3.
    #[test]
    fn the_paired_difference_and_its_standard_error_match_a_hand_computation() {
        let reference = [
            point(false, 1.0, 5.0),
            point(true, -1.0, 2.0),
            point(false, 0.0, 1.0),
            point(false, 3.0, 4.0),
        ];
        let cell = [
            point(true, -2.0, 4.0),
            point(true, -1.0, 3.0),
            None,
            point(true, -1.0, 1.0),
        ];
        let p = paired(&cell, &reference, 7).unwrap();
        assert_eq!(p.n_pairs, 3);
        assert!((p.p_cash_below_zero.0 - 2.0 / 3.0).abs() < 1e-12);
        assert!((p.p_cash_below_zero.1 - 1.0 / 3.0).abs() < 1e-12);
        // Medians over the three pairs: cell min cash {-2, -1, -1} -> -1, reference {1, -1, 3} -> 1.
        assert_eq!(p.min_cash_usd_p50.0, -2.0);
        // CVaR-5% of three values is the lowest: -2 against -1.
        assert_eq!(p.min_cash_usd_cvar5.0, -1.0);
        assert!(p.min_cash_usd_p50.1 >= 0.0);
        assert_eq!(paired(&cell, &reference, 7), Some(p), "repeats exactly");
        assert_eq!(paired(&[None], &[point(true, 0.0, 0.0)], 7), None);
    }

    /// Common random numbers: when a cell differs from the reference by a small effect on the same paths, the
    /// paired standard error is far below the unpaired one sqrt(se_a^2 + se_b^2).
    #[test]
    fn pairing_on_common_paths_shrinks_the_standard_error() {
        let n = 2000;
        let mut state = 11u64;
        let mut uniform = || {
            state = hashcycle_model::rng::mix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut reference, mut cell) = (vec![], vec![]);
        for _ in 0..n {
            let risk = uniform();
            reference.push(point(risk < 0.3, -risk, 1.0 - risk));
            cell.push(point(risk < 0.32, -risk - 0.01, 1.0 - risk));
        }
        let p = paired(&cell, &reference, 1).unwrap();
        let unpaired = |k: usize| {
            let q = k as f64 / n as f64;
            q * (1.0 - q) / n as f64
        };
        let k_ref = reference.iter().filter(|p| p.unwrap().cash_below_zero).count();
        let k_cell = cell.iter().filter(|p| p.unwrap().cash_below_zero).count();
        let unpaired_se = (unpaired(k_ref) + unpaired(k_cell)).sqrt();
        assert!(
            p.p_cash_below_zero.1 < 0.5 * unpaired_se,
            "{} vs {unpaired_se}",
            p.p_cash_below_zero.1
        );
        assert!(p.p_cash_below_zero.0 > 0.0 && !p.tied_on_risk());
    }

    #[test]
    fn wilson_intervals_never_collapse_to_a_point() {
        let (lo, hi) = wilson_95(0, 1000).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.001 && hi < 0.005, "{hi}");
        let (lo, hi) = wilson_95(1000, 1000).unwrap();
        assert!(lo < 0.999 && hi == 1.0);
        let (lo, hi) = wilson_95(50, 100).unwrap();
        assert!((lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson_95(0, 0), None);
    }

    #[test]
    fn proportion_standard_error_is_binomial() {
        let (p, se) = proportion(30, 120).unwrap();
        assert_eq!(p, 0.25);
        assert!((se - (0.25f64 * 0.75 / 120.0).sqrt()).abs() < 1e-15);
        assert_eq!(proportion(0, 0), None);
    }

    #[test]
    fn a_cell_whose_paths_all_failed_has_no_figures_rather_than_zeros() {
        let failed = PathOutcome {
            path_idx: 0,
            failed_check: true,
            manufacturer: ManufacturerOutcome::default(),
            end_price_usd: 1.0,
            end_hashrate_ehs: 1.0,
        };
        let m = cell_metrics(&[failed.clone(), PathOutcome { path_idx: 1, ..failed }]);
        assert_eq!((m.n_paths, m.n_failed), (2, 2));
        assert_eq!(m.p_cash_below_zero, None);
        assert_eq!(m.p_distress, None);
        assert_eq!(m.end_cash_usd, None);
        assert_eq!(m.market_share_mean, None);
    }
}
