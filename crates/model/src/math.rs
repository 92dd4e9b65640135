//! Numeric helpers for the model: the standard normal distribution and safe arithmetic.
#![warn(missing_docs)]

/// Complementary error function, with fractional error below 1.2e-7 everywhere
/// (Chebyshev fit from Numerical Recipes, `erfcc`). Fast enough for the per-cohort hot loop.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * poly.exp();
    if x >= 0.0 { ans } else { 2.0 - ans }
}

/// Standard normal cumulative distribution function.
pub fn norm_cdf(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Grid of the tabulated normal CDF: [-8, 8] in steps of 1/256.
const CDF_TABLE_MIN: f64 = -8.0;
const CDF_TABLE_STEPS_PER_UNIT: f64 = 256.0;
const CDF_TABLE_LEN: usize = 16 * 256 + 1;

static CDF_TABLE: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
    (0..CDF_TABLE_LEN)
        .map(|i| norm_cdf(CDF_TABLE_MIN + i as f64 / CDF_TABLE_STEPS_PER_UNIT))
        .collect()
});

/// The standard normal CDF by linear interpolation in a table (absolute error below 1e-6): the hot loop
/// evaluates it for every cohort every month, where `erfc`'s exponential dominated the run time.
#[inline]
pub fn norm_cdf_fast(x: f64) -> f64 {
    norm_cdf_fast_with_slope(x).0
}

/// `norm_cdf_fast(x)` with its slope in `x`: the slope of the interpolated segment `x` falls in, 0 outside
/// the table (where the value is 0 or 1) and for a NaN. For Newton steps on sums of tabulated CDFs.
#[inline]
pub fn norm_cdf_fast_with_slope(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (0.5, 0.0);
    }
    let t = (x - CDF_TABLE_MIN) * CDF_TABLE_STEPS_PER_UNIT;
    if t <= 0.0 {
        return (0.0, 0.0);
    }
    let last = (CDF_TABLE_LEN - 1) as f64;
    if t >= last {
        return (1.0, 0.0);
    }
    let k = t as i64;
    let i = k as usize;
    let frac = t - k as f64;
    let table = &*CDF_TABLE;
    let rise = table[i + 1] - table[i];
    (table[i] + frac * rise, rise * CDF_TABLE_STEPS_PER_UNIT)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9).
/// Returns -inf for p <= 0 and +inf for p >= 1.
pub fn norm_inv_cdf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// `numerator / denominator`, or `fallback` when the denominator is zero or the result is not finite.
pub fn ratio_or(numerator: f64, denominator: f64, fallback: f64) -> f64 {
    let r = numerator / denominator;
    if denominator != 0.0 && r.is_finite() {
        r
    } else {
        fallback
    }
}

/// Splits `total` units into integer parts proportional to `weights` (largest remainder, ties to the
/// lower index), so the parts always sum to `total`. All-zero weights put everything in the first part.
pub fn apportion(total: u64, weights: &[f64], parts: &mut [u64]) {
    apportion_by_sum(total, weights, apportion_sum(weights), parts);
}

/// The sum of the weights [`apportion`] splits by (negative weights count as 0).
pub fn apportion_sum(weights: &[f64]) -> f64 {
    weights.iter().map(|w| w.max(0.0)).sum()
}

/// [`apportion`] with the weights' sum (`apportion_sum(weights)`) given, for several totals split by the same
/// weights.
pub fn apportion_by_sum(total: u64, weights: &[f64], sum: f64, parts: &mut [u64]) {
    debug_assert_eq!(weights.len(), parts.len());
    debug_assert_eq!(sum.to_bits(), apportion_sum(weights).to_bits());
    let n = parts.len();
    if n == 0 {
        return;
    }
    if sum <= 0.0 || !sum.is_finite() {
        parts.iter_mut().for_each(|p| *p = 0);
        parts[0] = total;
        return;
    }
    let mut assigned = 0u64;
    let mut best_idx = 0;
    let mut best_rem = -1.0;
    for (i, (part, &weight)) in parts.iter_mut().zip(weights).enumerate() {
        let exact = units_f64(total) * weight.max(0.0) / sum;
        // Non-negative and at most `total`, so truncation is the floor.
        *part = exact as i64 as u64;
        let floor = units_f64(*part);
        assigned += *part;
        let rem = exact - floor;
        if rem > best_rem {
            best_rem = rem;
            best_idx = i;
        }
    }
    // Floating error can leave a few units over or under; settle them on the largest remainder.
    if assigned < total {
        parts[best_idx] += total - assigned;
    } else if assigned > total {
        let mut excess = assigned - total;
        for p in parts.iter_mut().rev() {
            let take = excess.min(*p);
            *p -= take;
            excess -= take;
            if excess == 0 {
                break;
            }
        }
    }
}

/// Largest quantity converted to whole units (well inside `u64`, and exactly representable in `f64`).
const MAX_UNITS: f64 = 9.0e15;

/// Rounds a non-negative quantity to whole units (half up), saturating; NaN and negatives give 0.
/// Done with an add and a truncating cast: on the baseline x86-64 target `f64::round` is a library call,
/// and this runs for every cohort every month. The cast goes through `i64` (the value is below
/// `MAX_UNITS`, so the result is the same): x86-64 truncates to a signed integer in one instruction and
/// to an unsigned one only with a second conversion and a blend.
pub fn to_units(x: f64) -> u64 {
    if x > 0.0 {
        (x.min(MAX_UNITS) + 0.5) as i64 as u64
    } else {
        0
    }
}

/// Rounds down a non-negative quantity to whole units, saturating; NaN and negatives give 0.
pub fn floor_units(x: f64) -> u64 {
    if x > 0.0 { x.min(MAX_UNITS) as i64 as u64 } else { 0 }
}

/// The larger of two numbers that are never NaN (shares, prices): one instruction, where `f64::max` adds NaN
/// handling. For the per-cohort and per-contract loops.
#[inline]
pub fn max_not_nan(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// The smaller of two numbers that are never NaN; see `max_not_nan`.
#[inline]
pub fn min_not_nan(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// A count of units as `f64`, through `i64`: the same value as `n as f64` for every count below 2^63 (unit
/// counts stay below `MAX_UNITS`), in one conversion instruction where an unsigned one takes six on
/// x86-64. For the per-cohort loops.
#[inline]
pub fn units_f64(n: u64) -> f64 {
    debug_assert!(n < 1 << 63);
    n as i64 as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_conversions_through_i64_match_the_unsigned_ones() {
        for n in [
            0u64,
            1,
            2,
            999,
            1 << 20,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            9_000_000_000_000_001,
            1 << 62,
        ] {
            assert_eq!(units_f64(n).to_bits(), (n as f64).to_bits(), "{n}");
        }
        for x in [0.4, 0.5, 1.49, 2.5, 1e6 + 0.5, 8.9e15, 9.0e15, 1e300, f64::INFINITY] {
            let capped = x.min(MAX_UNITS);
            assert_eq!(to_units(x), (capped + 0.5) as u64, "{x}");
            assert_eq!(floor_units(x), capped as u64, "{x}");
        }
        for x in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!((to_units(x), floor_units(x)), (0, 0), "{x}");
        }
    }

    #[test]
    fn normal_cdf_matches_tabulated_values() {
        let table = [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.96, 0.024_997_895),
            (3.0, 0.998_650_102),
        ];
        for (x, p) in table {
            assert!((norm_cdf(x) - p).abs() < 1e-7, "cdf({x})");
        }
    }

    #[test]
    fn tabulated_cdf_is_within_a_millionth() {
        for k in -900..=900 {
            let x = k as f64 / 100.0;
            assert!((norm_cdf_fast(x) - norm_cdf(x)).abs() < 1e-6, "x = {x}");
        }
        assert_eq!(norm_cdf_fast(f64::NEG_INFINITY), 0.0);
        assert_eq!(norm_cdf_fast(f64::INFINITY), 1.0);
    }

    #[test]
    fn inverse_cdf_inverts_cdf() {
        for p in [1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1.0 - 1e-6] {
            let x = norm_inv_cdf(p);
            assert!((norm_cdf(x) - p).abs() < 1e-6 * p.max(1e-3), "p={p}");
        }
    }

    #[test]
    fn unit_rounding_handles_edges() {
        assert_eq!(to_units(2.5), 3);
        assert_eq!(to_units(2.49), 2);
        assert_eq!(floor_units(2.99), 2);
        assert_eq!(to_units(f64::NAN), 0);
        assert_eq!(floor_units(-3.0), 0);
        assert_eq!(to_units(f64::INFINITY), 9_000_000_000_000_000);
    }

    #[test]
    fn apportion_conserves_the_total() {
        let mut parts = [0u64; 3];
        apportion(10, &[1.0, 1.0, 1.0], &mut parts);
        assert_eq!(parts.iter().sum::<u64>(), 10);
        apportion(7, &[0.0, 0.0, 0.0], &mut parts);
        assert_eq!(parts, [7, 0, 0]);
        apportion(1_000_003, &[0.2, 0.3, 0.5], &mut parts);
        assert_eq!(parts.iter().sum::<u64>(), 1_000_003);
    }
}
