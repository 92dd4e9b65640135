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

#[cfg(test)]
mod tests {
    use super::*;

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
