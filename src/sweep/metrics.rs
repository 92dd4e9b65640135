//! Per-path outcomes of the focus manufacturer and their reduction to one cell's metrics.
//!
//! Metrics are recomputed from the per-path outcomes wherever they are needed (a whole sweep, or a
//! merge of shards), so they are identical however the work was split.

use hashcycle_model::record::PathSummary;

/// The quantiles reported for every distribution.
pub const QUANTILES: [(f64, &str); 5] = [(0.05, "p5"), (0.25, "p25"), (0.50, "p50"), (0.75, "p75"), (0.95, "p95")];

/// What one path says about the focus manufacturer's strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct PathOutcome {
    pub path_idx: u32,
    pub failed_check: bool,
    pub min_cash_usd: f64,
    pub min_cash_month_idx: u32,
    pub end_cash_usd: f64,
    pub cash_below_zero: bool,
    pub distressed: bool,
    pub revenue_usd: f64,
    pub gross_margin_usd: f64,
    pub units_sold: u64,
    pub walk_away_rate: f64,
    pub prepayments_forfeited_usd: f64,
    pub writedowns_usd: f64,
    pub market_share: f64,
    pub end_price_usd: f64,
    pub end_hashrate_ehs: f64,
}

impl PathOutcome {
    pub fn from_summary(summary: &PathSummary, focus_idx: usize) -> PathOutcome {
        let failed_check = summary.violation.is_some();
        let net = &summary.network;
        match summary.manufacturers.get(focus_idx) {
            Some(o) => PathOutcome {
                path_idx: summary.path_idx,
                failed_check,
                min_cash_usd: o.min_cash_usd,
                min_cash_month_idx: o.min_cash_month,
                end_cash_usd: o.end_cash_usd,
                cash_below_zero: o.cash_below_zero,
                distressed: o.distressed,
                revenue_usd: o.revenue_usd,
                gross_margin_usd: o.gross_margin_usd,
                units_sold: o.units_sold,
                walk_away_rate: o.walk_away_rate,
                prepayments_forfeited_usd: o.prepayments_forfeited_usd,
                writedowns_usd: o.writedowns_usd,
                market_share: o.market_share,
                end_price_usd: net.end_price_usd,
                end_hashrate_ehs: net.end_hashrate_ehs,
            },
            // A path that failed before its first month has no manufacturer outcome.
            None => PathOutcome {
                path_idx: summary.path_idx,
                failed_check: true,
                min_cash_usd: 0.0,
                min_cash_month_idx: 0,
                end_cash_usd: 0.0,
                cash_below_zero: false,
                distressed: false,
                revenue_usd: 0.0,
                gross_margin_usd: 0.0,
                units_sold: 0,
                walk_away_rate: 0.0,
                prepayments_forfeited_usd: 0.0,
                writedowns_usd: 0.0,
                market_share: 0.0,
                end_price_usd: net.end_price_usd,
                end_hashrate_ehs: net.end_hashrate_ehs,
            },
        }
    }
}

/// Five quantiles of a distribution (p5, p25, p50, p75, p95).
pub type Quantiles = [f64; 5];

#[derive(Clone, Debug, PartialEq)]
pub struct CellMetrics {
    pub n_paths: u32,
    pub n_failed: u32,
    pub p_cash_below_zero: f64,
    pub p_cash_below_zero_se: f64,
    pub p_distress: f64,
    pub p_distress_se: f64,
    pub min_cash_usd: Quantiles,
    pub end_cash_usd: Quantiles,
    pub revenue_usd: Quantiles,
    pub gross_margin_usd: Quantiles,
    pub walk_away_rate_mean: f64,
    pub prepayments_forfeited_usd_mean: f64,
    pub writedowns_usd_mean: f64,
    pub market_share_mean: f64,
}

/// Linear-interpolation quantile of sorted data (the "type 7" definition, numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

fn quantiles(mut values: Vec<f64>) -> Quantiles {
    values.sort_by(f64::total_cmp);
    QUANTILES.map(|(q, _)| quantile_sorted(&values, q))
}

/// A proportion and its standard error sqrt(p(1-p)/n).
pub fn proportion(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let p = successes as f64 / n as f64;
    (p, (p * (1.0 - p) / n as f64).sqrt())
}

/// Reduces a cell's outcomes; paths stopped by a failed check are counted but not used.
pub fn cell_metrics(outcomes: &[PathOutcome]) -> CellMetrics {
    let ok: Vec<&PathOutcome> = outcomes.iter().filter(|o| !o.failed_check).collect();
    let n = ok.len();
    let mean = |f: fn(&PathOutcome) -> f64| {
        if n == 0 {
            0.0
        } else {
            ok.iter().map(|o| f(o)).sum::<f64>() / n as f64
        }
    };
    let collect = |f: fn(&PathOutcome) -> f64| ok.iter().map(|o| f(o)).collect::<Vec<f64>>();
    let (p_cash_below_zero, p_cash_below_zero_se) = proportion(ok.iter().filter(|o| o.cash_below_zero).count(), n);
    let (p_distress, p_distress_se) = proportion(ok.iter().filter(|o| o.distressed).count(), n);
    CellMetrics {
        n_paths: outcomes.len() as u32,
        n_failed: (outcomes.len() - n) as u32,
        p_cash_below_zero,
        p_cash_below_zero_se,
        p_distress,
        p_distress_se,
        min_cash_usd: quantiles(collect(|o| o.min_cash_usd)),
        end_cash_usd: quantiles(collect(|o| o.end_cash_usd)),
        revenue_usd: quantiles(collect(|o| o.revenue_usd)),
        gross_margin_usd: quantiles(collect(|o| o.gross_margin_usd)),
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
    fn quantiles_interpolate_linearly() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert_eq!(quantile_sorted(&v, 0.25), 2.0);
        assert!((quantile_sorted(&v, 0.05) - 1.2).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 1.0), 5.0);
    }

    #[test]
    fn proportion_standard_error_is_binomial() {
        let (p, se) = proportion(30, 120);
        assert_eq!(p, 0.25);
        assert!((se - (0.25f64 * 0.75 / 120.0).sqrt()).abs() < 1e-15);
        assert_eq!(proportion(0, 0), (0.0, 0.0));
    }
}
