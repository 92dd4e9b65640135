//! The mean power price of the cheapest share `q` of a region's sites, tabulated once per dispersion.
//!
//! Sites' power prices are log-normal around the region's median price `m` with log dispersion `s`. The
//! cheapest share `q` of the sites are those below `m exp(s z)` with `z = Φ⁻¹(q)`, and their mean price is
//! `m F(q)` with `F(q) = exp(s²/2) Φ(z - s) / q`. Every running cohort needs `F` every month, and the exact
//! form costs an inverse normal CDF (a logarithm and a square root in the tails) and a normal CDF. The
//! table below answers in a few multiplications, by cubic Hermite interpolation between nodes that hold `F`
//! and its exact slope `F'(q) = exp(s²/2) (G'(q) / q - G(q) / q²)`, where `G(q) = Φ(Φ⁻¹(q) - s)` and
//! `G'(q) = exp(s z - s²/2)`:
//!
//! - the central shares `[1/32, 31/32]` on a uniform grid;
//! - the tails (`q` or `1 - q` in `[2^-9, 1/32)` and `[2^-40, 1/32)`) on a grid that is uniform within each
//!   power of two: its spacing shrinks with the distance to 0 or 1, where `F` bends most.
//!
//! The table holds `F` to a relative 1e-7 of the exact form, whose normal CDF is itself accurate to a
//! relative 1.2e-7 (the tests check the whole range for dispersions from 0.05 to 3). The few shares beyond
//! the table (fewer than 2^-9 of the sites running, or all but 2^-40) use the exact form.
#![warn(missing_docs)]

use std::cell::RefCell;
use std::sync::Arc;

use super::Z_ALL_SITES;
use crate::math::{norm_cdf, norm_inv_cdf};

/// The central part of the table: shares in `[CENTRAL_LO, CENTRAL_HI]`, `CENTRAL_STEPS_PER_UNIT` nodes per unit.
const CENTRAL_LO: f64 = 1.0 / 32.0;
const CENTRAL_HI: f64 = 31.0 / 32.0;
const CENTRAL_STEPS_PER_UNIT: f64 = 1024.0;
const CENTRAL_INTERVALS: usize = 960; // (CENTRAL_HI - CENTRAL_LO) × CENTRAL_STEPS_PER_UNIT

/// Tails: nodes uniform within each power of two, `2^TAIL_BITS` of them per power.
const TAIL_BITS: u32 = 5;
const TAIL_NODES_PER_OCTAVE: usize = 1 << TAIL_BITS;
/// Exponent of 1/32, where both tails end.
const TAIL_EXP_END: i32 = -5;
/// The lower tail covers shares from 2^LOWER_EXP_MIN, the upper one distances to 1 from 2^UPPER_EXP_MIN.
const LOWER_EXP_MIN: i32 = -9;
const UPPER_EXP_MIN: i32 = -40;

/// Most curves a thread keeps: one per distinct dispersion of the scenarios it has run.
const MAX_CACHED_CURVES: usize = 64;

/// `F` for one log dispersion of site power prices.
#[derive(Debug)]
pub struct SitePriceCurve {
    sigma: f64,
    exp_half_sigma2: f64,
    /// `F` and its slope at the central nodes.
    central: Vec<[f64; 2]>,
    /// `F(q)` and its slope at the lower tail's nodes, `q = 2^e (1 + j / 2^TAIL_BITS)`.
    lower: Vec<[f64; 2]>,
    /// `F(1 - p)` and its slope in `p` at the upper tail's nodes, `p = 2^e (1 + j / 2^TAIL_BITS)`.
    upper: Vec<[f64; 2]>,
}

impl SitePriceCurve {
    pub fn new(sigma: f64) -> SitePriceCurve {
        let exp_half_sigma2 = (0.5 * sigma * sigma).exp();
        let mut curve = SitePriceCurve {
            sigma,
            exp_half_sigma2,
            central: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
        };
        if sigma <= 0.0 {
            return curve;
        }
        curve.central = (0..=CENTRAL_INTERVALS)
            .map(|i| node(CENTRAL_LO + i as f64 / CENTRAL_STEPS_PER_UNIT, sigma, exp_half_sigma2))
            .collect();
        curve.lower = octave_nodes(LOWER_EXP_MIN)
            .map(|q| node(q, sigma, exp_half_sigma2))
            .collect();
        // As a function of p = 1 - q the slope changes sign.
        curve.upper = octave_nodes(UPPER_EXP_MIN)
            .map(|p| {
                let [f, slope] = node(1.0 - p, sigma, exp_half_sigma2);
                [f, -slope]
            })
            .collect();
        curve
    }

    /// Mean price of the cheapest share `q` of the sites, relative to the median site price. The central
    /// table, where most lookups land, is inlined into the caller's loop; the rest is a call.
    #[inline]
    pub fn factor(&self, q: f64) -> f64 {
        if (CENTRAL_LO..=CENTRAL_HI).contains(&q) && self.sigma > 0.0 {
            let t = (q - CENTRAL_LO) * CENTRAL_STEPS_PER_UNIT;
            // `t` is within [0, CENTRAL_INTERVALS]; signed casts are the cheap ones on x86-64.
            let k = (t as i64).min(CENTRAL_INTERVALS as i64 - 1);
            let i = k as usize;
            return hermite(
                self.central[i],
                self.central[i + 1],
                t - k as f64,
                1.0 / CENTRAL_STEPS_PER_UNIT,
            );
        }
        self.factor_outside_centre(q)
    }

    /// `factor` for shares outside the central table, and for no dispersion.
    #[inline(never)]
    fn factor_outside_centre(&self, q: f64) -> f64 {
        if self.sigma <= 0.0 {
            return 1.0;
        }
        if q > CENTRAL_HI {
            let p = 1.0 - q;
            if p >= exp2(UPPER_EXP_MIN) {
                return interpolate_octaves(&self.upper, p, UPPER_EXP_MIN);
            }
        } else if q >= exp2(LOWER_EXP_MIN) {
            return interpolate_octaves(&self.lower, q, LOWER_EXP_MIN);
        }
        exact_factor(q, self.sigma, self.exp_half_sigma2)
    }
}

/// The curve for `sigma`, built on first use by each thread and shared by every path it runs after.
pub fn site_price_curve(sigma: f64) -> Arc<SitePriceCurve> {
    thread_local! {
        static CURVES: RefCell<Vec<Arc<SitePriceCurve>>> = const { RefCell::new(Vec::new()) };
    }
    CURVES.with(|curves| {
        let mut curves = curves.borrow_mut();
        if let Some(curve) = curves.iter().find(|c| c.sigma.to_bits() == sigma.to_bits()) {
            return Arc::clone(curve);
        }
        if curves.len() >= MAX_CACHED_CURVES {
            curves.remove(0);
        }
        let curve = Arc::new(SitePriceCurve::new(sigma));
        curves.push(Arc::clone(&curve));
        curve
    })
}

/// 2^e for the small exponents used here.
fn exp2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// The tail nodes from 2^e_min up to 2^TAIL_EXP_END inclusive.
fn octave_nodes(e_min: i32) -> impl Iterator<Item = f64> {
    let n_octaves = (TAIL_EXP_END - e_min) as usize;
    (0..=n_octaves * TAIL_NODES_PER_OCTAVE).map(move |k| {
        let e = e_min + (k / TAIL_NODES_PER_OCTAVE) as i32;
        let j = (k % TAIL_NODES_PER_OCTAVE) as f64;
        exp2(e) * (1.0 + j / TAIL_NODES_PER_OCTAVE as f64)
    })
}

/// Interpolation between the tail nodes around `x`, a positive normal number in `[2^e_min, 2^TAIL_EXP_END)`:
/// its exponent picks the power of two, its top mantissa bits the node, the rest the position between nodes.
#[inline]
fn interpolate_octaves(nodes: &[[f64; 2]], x: f64, e_min: i32) -> f64 {
    const FRAC_BITS: u32 = 52 - TAIL_BITS;
    const EXPONENT_MASK: u64 = 0x7ff << 52;
    let bits = x.to_bits();
    let e = ((bits & EXPONENT_MASK) >> 52) as i32 - 1023;
    let j = ((bits >> FRAC_BITS) as usize) & (TAIL_NODES_PER_OCTAVE - 1);
    let u = (bits & ((1u64 << FRAC_BITS) - 1)) as i64 as f64 * (1.0 / (1u64 << FRAC_BITS) as f64);
    let k = (e - e_min) as usize * TAIL_NODES_PER_OCTAVE + j;
    // Nodes within the power of two 2^e are 2^e / 2^TAIL_BITS apart.
    let spacing = f64::from_bits(bits & EXPONENT_MASK) * (1.0 / TAIL_NODES_PER_OCTAVE as f64);
    hermite(nodes[k], nodes[k + 1], u, spacing)
}

/// Cubic Hermite interpolation at `u` in [0, 1] between two nodes (value, slope) `spacing` apart.
fn hermite([f0, d0]: [f64; 2], [f1, d1]: [f64; 2], u: f64, spacing: f64) -> f64 {
    let u2 = u * u;
    let v = 1.0 - u;
    let v2 = v * v;
    (1.0 + 2.0 * u) * v2 * f0 + u2 * (3.0 - 2.0 * u) * f1 + spacing * (u * v2 * d0 - u2 * v * d1)
}

/// `F` and its slope at share `q`, with the accurate normal CDF (the nodes lie where no cap applies):
/// `F'(q) = exp(s²/2) (G'(q) / q - G(q) / q²)` with `G(q) = Φ(z - s)` and `G'(q) = exp(s z - s²/2)`.
fn node(q: f64, sigma: f64, exp_half_sigma2: f64) -> [f64; 2] {
    let z = norm_inv_cdf(q).clamp(-Z_ALL_SITES, Z_ALL_SITES);
    let g = norm_cdf(z - sigma);
    let dg = (sigma * z - 0.5 * sigma * sigma).exp();
    [exp_half_sigma2 * g / q, exp_half_sigma2 * (dg / q - g / (q * q))]
}

/// `F` computed directly: the table's reference, and its answer for shares outside it.
fn exact_factor(q: f64, sigma: f64, exp_half_sigma2: f64) -> f64 {
    if sigma <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        // Every site runs: the mean of the whole log-normal.
        return exp_half_sigma2;
    }
    let z = norm_inv_cdf(q.max(1e-300)).clamp(-Z_ALL_SITES, Z_ALL_SITES);
    let ratio = exp_half_sigma2 * norm_cdf(z - sigma) / q;
    // Never above the dearest running site itself (only a concern when very few sites run).
    if q > 1e-3 && ratio.is_finite() {
        ratio
    } else {
        ratio.min((sigma * z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shares spread over the whole range, dense in both tails.
    fn shares() -> Vec<f64> {
        let mut qs: Vec<f64> = (1..20_000).map(|i| i as f64 / 20_000.0).collect();
        for k in 0..4_000 {
            let d = 10f64.powf(-13.0 + 11.0 * k as f64 / 4_000.0);
            qs.push(d);
            qs.push(1.0 - d);
        }
        qs.push(1.0);
        qs
    }

    #[test]
    fn the_table_matches_the_exact_form_to_a_relative_1e7() {
        for sigma in [0.05, 0.3, 0.7, 1.5, 3.0] {
            let e = (0.5f64 * sigma * sigma).exp();
            let curve = SitePriceCurve::new(sigma);
            let mut worst = (0.0f64, 0.0f64);
            for q in shares() {
                let tabulated = curve.factor(q);
                let reference = exact_factor(q, sigma, e);
                let err = (tabulated / reference - 1.0).abs();
                if err > worst.0 {
                    worst = (err, q);
                }
            }
            assert!(
                worst.0 < 1e-7,
                "sigma {sigma}: relative error {:e} at q = {}",
                worst.0,
                worst.1
            );
        }
    }

    #[test]
    fn the_factor_is_continuous_at_the_table_boundaries() {
        for sigma in [0.3, 3.0] {
            let curve = SitePriceCurve::new(sigma);
            // Either side of each edge, a relative 1e-9 of the share (or of its distance to 1) away.
            let lower_edges = [CENTRAL_LO, exp2(LOWER_EXP_MIN)].map(|q| (q * (1.0 - 1e-9), q * (1.0 + 1e-9)));
            let upper_edges =
                [1.0 - CENTRAL_HI, exp2(UPPER_EXP_MIN)].map(|p| (1.0 - p * (1.0 + 1e-9), 1.0 - p * (1.0 - 1e-9)));
            for (below, above) in lower_edges.into_iter().chain(upper_edges) {
                let (f_below, f_above) = (curve.factor(below), curve.factor(above));
                assert!(
                    (f_below / f_above - 1.0).abs() < 2e-7,
                    "sigma {sigma} between {below} and {above}: {f_below} vs {f_above}"
                );
            }
        }
    }

    #[test]
    fn the_factor_tends_to_the_lognormal_mean() {
        let sigma = 0.3;
        let e = (0.5f64 * sigma * sigma).exp();
        let curve = SitePriceCurve::new(sigma);
        assert!((curve.factor(1.0) - e).abs() < 1e-12);
        assert!((curve.factor(0.999_999) - e).abs() < 1e-4);
        // Only cheaper sites run when the bound is low: the mean sits below the median.
        let q = crate::math::norm_cdf(-1.0);
        assert!(curve.factor(q) < 1.0);
        assert!(curve.factor(q) <= (-sigma).exp() * (1.0 + 1e-6));
    }

    #[test]
    fn no_dispersion_means_every_site_pays_the_median() {
        let curve = SitePriceCurve::new(0.0);
        assert_eq!(curve.factor(0.3), 1.0);
        assert_eq!(curve.factor(1.0), 1.0);
    }

    #[test]
    fn threads_share_a_curve_per_dispersion() {
        let a = site_price_curve(0.3);
        let b = site_price_curve(0.3);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &site_price_curve(0.31)));
    }
}
