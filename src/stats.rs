//! Statistics across paths: linear-interpolation quantiles, medians and means, the one definition used by
//! sweep metrics, backtest bands and every chart.

pub mod grouped;

/// The five quantiles reported for every distribution: p5, p25, p50, p75, p95.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantiles {
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

/// A quantile's name, as column suffixes spell it, and how to read it.
pub type NamedQuantile = (&'static str, fn(&Quantiles) -> f64);

impl Quantiles {
    /// Each quantile's name and value, in order.
    pub const NAMED: [NamedQuantile; 5] = [
        ("p5", |q| q.p5),
        ("p25", |q| q.p25),
        ("p50", |q| q.p50),
        ("p75", |q| q.p75),
        ("p95", |q| q.p95),
    ];
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics (numpy's default,
/// so figures match a Python check of the same Parquet file).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let i = pos.floor() as usize;
            let f = pos - i as f64;
            if i + 1 < n {
                sorted[i] + (sorted[i + 1] - sorted[i]) * f
            } else {
                sorted[n - 1]
            }
        }
    }
}

/// Quantiles of the finite values; `None` when there are none.
pub fn quantiles(values: &[f64]) -> Option<Quantiles> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let q = |p| quantile_sorted(&sorted, p);
    Some(Quantiles {
        p5: q(0.05),
        p25: q(0.25),
        p50: q(0.50),
        p75: q(0.75),
        p95: q(0.95),
    })
}

pub fn median(values: &[f64]) -> f64 {
    quantiles(values).map_or(f64::NAN, |q| q.p50)
}

pub fn mean(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        f64::NAN
    } else {
        finite.iter().sum::<f64>() / finite.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let q = quantiles(&[4.0, 1.0, 3.0, 2.0, f64::NAN, 5.0]).unwrap();
        assert_eq!(q.p50, 3.0);
        assert_eq!(q.p25, 2.0);
        assert!((q.p5 - 1.2).abs() < 1e-12);
        assert!((q.p95 - 4.8).abs() < 1e-12);
        assert!(quantiles(&[f64::NAN]).is_none());
    }
}
