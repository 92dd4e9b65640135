//! The baseline a model must beat: hashrate follows the price with a fixed lag and elasticity.
//!
//! `log H_t = a + b · log P_{t-L} (+ c · t)`, fitted by least squares on logs over the in-sample months
//! only; the lag `L` (0 to a maximum) is the one with the smallest in-sample sum of squared residuals.
//! The band a forecast carries is the 5th to 95th percentile of the in-sample residuals, added to the
//! fitted line, so the baseline is judged on coverage like the model.

/// A fitted baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineFit {
    pub lag_months: usize,
    pub intercept: f64,
    /// d log H / d log P.
    pub elasticity: f64,
    /// Log growth per month, when the fit has a trend (months counted from the first in-sample month).
    pub trend_log_per_month: Option<f64>,
    /// Sum of squared in-sample residuals (logs).
    pub sse: f64,
    /// 5th and 95th percentiles of the in-sample residuals (logs).
    pub residual_log_p5: f64,
    pub residual_log_p95: f64,
    /// Index of the first in-sample month, the origin of the trend.
    origin_idx: usize,
}

impl BaselineFit {
    /// Predicted log hashrate at month index `idx` of the series the fit was made on.
    pub fn predict_log(&self, log_price: &[f64], idx: usize) -> f64 {
        let trend = self
            .trend_log_per_month
            .map_or(0.0, |c| c * (idx as f64 - self.origin_idx as f64));
        self.intercept + self.elasticity * log_price[idx - self.lag_months] + trend
    }

    pub fn describe(&self) -> String {
        match self.trend_log_per_month {
            Some(c) => format!(
                "lag {} months, elasticity {:.3}, trend {:+.4} log per month",
                self.lag_months, self.elasticity, c
            ),
            None => format!("lag {} months, elasticity {:.3}", self.lag_months, self.elasticity),
        }
    }
}

/// A pivot smaller than this in the normal equations means they are singular.
const SINGULAR_PIVOT_TOLERANCE: f64 = 1e-12;

/// Solves the normal equations of a small least-squares problem by Gaussian elimination with pivoting;
/// `None` when they are singular (a regressor that does not vary).
fn least_squares(rows: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = rows.first()?.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for (row, &target) in rows.iter().zip(y) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += row[i] * row[j];
            }
            a[i][k] += row[i] * target;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[pivot][col].abs() < SINGULAR_PIVOT_TOLERANCE {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let factor = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= factor * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// The fewest in-sample months the baseline is fitted on: one per coefficient of the fit without a trend (the
/// level and the price elasticity). The fit with a trend needs one more, and is left out when it cannot be made.
pub const MIN_FIT_MONTHS: usize = 2;

/// Fits the baseline on months `fit_from..=fit_to` of aligned series (`log_hashrate[i]` and `log_price[i]`
/// are the same month), choosing the lag in `0..=max_lag_months` by in-sample fit. Lags reaching before the
/// start of the series are not tried. `None` when no lag can be fitted.
pub fn fit(
    log_hashrate: &[f64],
    log_price: &[f64],
    fit_from: usize,
    fit_to: usize,
    max_lag_months: usize,
    trend: bool,
) -> Option<BaselineFit> {
    let mut best: Option<BaselineFit> = None;
    for lag in 0..=max_lag_months.min(fit_from) {
        let months: Vec<usize> = (fit_from..=fit_to).collect();
        let rows: Vec<Vec<f64>> = months
            .iter()
            .map(|&t| {
                let mut row = vec![1.0, log_price[t - lag]];
                if trend {
                    row.push((t - fit_from) as f64);
                }
                row
            })
            .collect();
        let y: Vec<f64> = months.iter().map(|&t| log_hashrate[t]).collect();
        if rows.iter().flatten().chain(&y).any(|v| !v.is_finite()) {
            continue;
        }
        let Some(beta) = least_squares(&rows, &y) else {
            continue;
        };
        let mut residuals: Vec<f64> = rows
            .iter()
            .zip(&y)
            .map(|(row, target)| target - row.iter().zip(&beta).map(|(x, b)| x * b).sum::<f64>())
            .collect();
        let sse = residuals.iter().map(|r| r * r).sum::<f64>();
        if best.as_ref().is_some_and(|b| b.sse <= sse) {
            continue;
        }
        residuals.sort_by(f64::total_cmp);
        best = Some(BaselineFit {
            lag_months: lag,
            intercept: beta[0],
            elasticity: beta[1],
            trend_log_per_month: trend.then(|| beta[2]),
            sse,
            residual_log_p5: crate::stats::quantile_sorted(&residuals, 0.05),
            residual_log_p95: crate::stats::quantile_sorted(&residuals, 0.95),
            origin_idx: fit_from,
        });
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_systems_are_refused() {
        let rows = vec![vec![1.0, 2.0], vec![1.0, 2.0]];
        assert!(least_squares(&rows, &[1.0, 2.0]).is_none());
    }

    #[test]
    fn an_exact_line_is_recovered() {
        let rows: Vec<Vec<f64>> = (0..5).map(|x| vec![1.0, x as f64]).collect();
        let y: Vec<f64> = (0..5).map(|x| 2.0 - 0.5 * x as f64).collect();
        let beta = least_squares(&rows, &y).unwrap();
        assert!((beta[0] - 2.0).abs() < 1e-12 && (beta[1] + 0.5).abs() < 1e-12);
    }
}
