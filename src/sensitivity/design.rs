//! The designs of a sensitivity analysis and their effects, independent of what is evaluated.
//!
//! Factors are scaled to [0, 1]: 0 is the low end of a factor's range, 1 the high end, and the scenario's
//! own value lies between. An evaluation maps a point (one value in [0, 1] per factor, or `None` for the
//! scenario's own value) to per-path figures over the same paths (common random numbers), so every effect is
//! a paired difference and its standard error comes from resampling those paths.
//!
//! - **One at a time** (the tornado): each factor at its low and its high end, every other at the scenario's
//!   value. The effect of an end is the metric there less the metric of the scenario itself.
//! - **Morris screening**: `r` trajectories over a 4-level grid; each moves every factor once by two thirds of
//!   its range, in a random order and direction, from a random start. A factor's elementary effect is the
//!   change in the metric per full range; μ* (mean absolute elementary effect) ranks factors globally, σ (their
//!   spread) says how much a factor's effect depends on where the others are.

use hashcycle_model::rng::mix64;

/// A point of a design: per factor, its position in [0, 1], or `None` for the scenario's own value.
pub type Point = Vec<Option<f64>>;

/// The Morris grid's step, in units of a factor's range: with 4 levels, Δ = p / (2 (p − 1)) = 2/3.
pub const MORRIS_DELTA: f64 = 2.0 / 3.0;

/// The one-at-a-time design: the scenario itself, then each factor at its low end and at its high end.
pub fn one_at_a_time(n_factors: usize) -> Vec<Point> {
    let mut points = vec![vec![None; n_factors]];
    for i in 0..n_factors {
        for end in [0.0, 1.0] {
            let mut p = vec![None; n_factors];
            p[i] = Some(end);
            points.push(p);
        }
    }
    points
}

/// One Morris trajectory: `n_factors + 1` points, consecutive points differing in one factor by ±Δ, and the
/// factor each step moves (in step order).
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    pub points: Vec<Point>,
    pub order: Vec<usize>,
}

/// `r` Morris trajectories drawn from a generator seeded with `seed`, so a design repeats exactly.
pub fn morris(n_factors: usize, r: usize, seed: u64) -> Vec<Trajectory> {
    let mut state = mix64(seed ^ 0x6d6f_7272_6973); // "morris"
    let mut next = || {
        state = mix64(state);
        state
    };
    (0..r)
        .map(|_| {
            // Start on the lower two levels {0, 1/3} stepping up, or the upper two {2/3, 1} stepping down.
            let mut x: Vec<f64> = Vec::with_capacity(n_factors);
            let mut up: Vec<bool> = Vec::with_capacity(n_factors);
            for _ in 0..n_factors {
                let bits = next();
                let step_up = bits & 1 == 0;
                let level = ((bits >> 1) & 1) as f64 / 3.0;
                x.push(if step_up { level } else { 1.0 - level });
                up.push(step_up);
            }
            let mut order: Vec<usize> = (0..n_factors).collect();
            for i in (1..n_factors).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let mut points = vec![x.iter().map(|&v| Some(v)).collect::<Point>()];
            for &i in &order {
                x[i] += if up[i] { MORRIS_DELTA } else { -MORRIS_DELTA };
                points.push(x.iter().map(|&v| Some(v)).collect());
            }
            Trajectory { points, order }
        })
        .collect()
}

/// Per-path figures of one evaluation, in path order; `None` for a path stopped by a failed check.
pub type Paths = Vec<Option<f64>>;

/// A metric of a set of per-path figures (a median, a mean, a share).
pub type Statistic = fn(&[f64]) -> f64;

/// The paths that completed in every evaluation given.
fn paired_paths(evaluations: &[&Paths]) -> Vec<usize> {
    let n = evaluations.iter().map(|e| e.len()).min().unwrap_or(0);
    (0..n).filter(|&p| evaluations.iter().all(|e| e[p].is_some())).collect()
}

fn values(e: &Paths, paths: &[usize]) -> Vec<f64> {
    paths.iter().map(|&p| e[p].unwrap_or(f64::NAN)).collect()
}

/// A difference `statistic(a) − statistic(b)` over the paths both completed, with its standard error from
/// `resamples` bootstrap resamples of those paths (the same resample in both: the difference is paired).
pub fn paired_difference(a: &Paths, b: &Paths, statistic: Statistic, resamples: usize, seed: u64) -> (f64, f64) {
    let paths = paired_paths(&[a, b]);
    if paths.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (va, vb) = (values(a, &paths), values(b, &paths));
    let point = statistic(&va) - statistic(&vb);
    let n = paths.len();
    let mut state = mix64(seed);
    let mut draws = Vec::with_capacity(resamples);
    let (mut ra, mut rb) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..resamples {
        for k in 0..n {
            state = mix64(state);
            let i = (state % n as u64) as usize;
            ra[k] = va[i];
            rb[k] = vb[i];
        }
        draws.push(statistic(&ra) - statistic(&rb));
    }
    (point, sd(&draws))
}

/// The sample standard deviation (NaN of fewer than two values).
pub fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        // One value says nothing about spread: unknown, not zero.
        return f64::NAN;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// One factor's bar of the tornado.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// The metric with the factor at its low end, less the metric of the scenario itself, and its standard error.
    pub low: (f64, f64),
    /// The same at the high end.
    pub high: (f64, f64),
    /// High end less low end, and its standard error: the factor's swing.
    pub swing: (f64, f64),
}

impl Bar {
    /// The width of the bar pair, zero included: max(low, high, 0) − min(low, high, 0). Bars are ranked by
    /// it, so a parameter whose two ends move the metric the same way ranks by how far, not by their
    /// difference.
    pub fn span(&self) -> f64 {
        let (l, h) = (self.low.0, self.high.0);
        if !l.is_finite() || !h.is_finite() {
            return f64::NAN;
        }
        l.max(h).max(0.0) - l.min(h).min(0.0)
    }
}

/// The tornado's bars from the one-at-a-time evaluations (`one_at_a_time` order).
pub fn tornado(evaluations: &[Paths], statistic: Statistic, resamples: usize, seed: u64) -> Vec<Bar> {
    let base = &evaluations[0];
    (0..(evaluations.len() - 1) / 2)
        .map(|i| {
            let (lo, hi) = (&evaluations[1 + 2 * i], &evaluations[2 + 2 * i]);
            let s = mix64(seed ^ (i as u64));
            Bar {
                low: paired_difference(lo, base, statistic, resamples, s),
                high: paired_difference(hi, base, statistic, resamples, s),
                swing: paired_difference(hi, lo, statistic, resamples, s),
            }
        })
        .collect()
}

/// A factor's Morris screening measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Screening {
    /// Mean elementary effect (signed): the metric's change per full range of the factor.
    pub mu: f64,
    /// Mean absolute elementary effect: the ranking measure.
    pub mu_star: f64,
    /// Standard error of `mu_star` across trajectories.
    pub mu_star_se: f64,
    /// Standard deviation of the elementary effects: interaction and non-linearity.
    pub sigma: f64,
    /// Trajectories whose step for this factor could be evaluated.
    pub n_effects: usize,
}

/// The Morris measures of every factor: `evaluations[t][k]` is point `k` of trajectory `t`.
pub fn screening(
    trajectories: &[Trajectory],
    evaluations: &[Vec<Paths>],
    statistic: Statistic,
    n_factors: usize,
) -> Vec<Screening> {
    let mut effects: Vec<Vec<f64>> = vec![vec![]; n_factors];
    for (t, traj) in trajectories.iter().enumerate() {
        for (step, &i) in traj.order.iter().enumerate() {
            let (before, after) = (&evaluations[t][step], &evaluations[t][step + 1]);
            let paths = paired_paths(&[before, after]);
            if paths.is_empty() {
                continue;
            }
            let dx = traj.points[step + 1][i].unwrap_or(0.0) - traj.points[step][i].unwrap_or(0.0);
            let dy = statistic(&values(after, &paths)) - statistic(&values(before, &paths));
            effects[i].push(dy / dx);
        }
    }
    effects
        .iter()
        .map(|e| {
            let n = e.len();
            if n == 0 {
                return Screening {
                    mu: f64::NAN,
                    mu_star: f64::NAN,
                    mu_star_se: f64::NAN,
                    sigma: f64::NAN,
                    n_effects: 0,
                };
            }
            let abs: Vec<f64> = e.iter().map(|x| x.abs()).collect();
            Screening {
                mu: e.iter().sum::<f64>() / n as f64,
                mu_star: abs.iter().sum::<f64>() / n as f64,
                mu_star_se: sd(&abs) / (n as f64).sqrt(),
                sigma: sd(e),
                n_effects: n,
            }
        })
        .collect()
}

/// Ranks (1 = largest) of `values` by absolute size, NaN last; ties by index.
pub fn ranks_by_size(values: &[f64]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| if values[i].is_finite() { values[i].abs() } else { -1.0 };
        key(b).total_cmp(&key(a)).then(a.cmp(&b))
    });
    let mut ranks = vec![0; values.len()];
    for (rank, &i) in order.iter().enumerate() {
        ranks[i] = rank as u32 + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    /// A constructed model: per path, y = Σ a_i x_i + c x_0 x_1 + path noise (the same noise for every point:
    /// common random numbers), with x the factors' positions (0.5 for the scenario's own value).
    fn evaluate(a: &[f64], c: f64, point: &Point, n_paths: usize) -> Paths {
        let x: Vec<f64> = point.iter().map(|v| v.unwrap_or(0.5)).collect();
        (0..n_paths)
            .map(|p| {
                let noise = (mix64(p as u64 + 1) >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let y = a.iter().zip(&x).map(|(a, x)| a * x).sum::<f64>() + c * x[0] * x[1] + 3.0 * noise;
                Some(y)
            })
            .collect()
    }

    #[test]
    fn the_tornado_bars_change_sign_with_the_effect() {
        let a = [2.0, -5.0, 0.0];
        let evaluations: Vec<Paths> = one_at_a_time(3).iter().map(|p| evaluate(&a, 0.0, p, 500)).collect();
        let bars = tornado(&evaluations, mean, 100, 1);
        // Factor 0 raises the metric: its low end is below the scenario, its high end above.
        assert!((bars[0].low.0 + 1.0).abs() < 1e-9 && (bars[0].high.0 - 1.0).abs() < 1e-9);
        // Factor 1 lowers it: the bar flips.
        assert!((bars[1].low.0 - 2.5).abs() < 1e-9 && (bars[1].high.0 + 2.5).abs() < 1e-9);
        assert!((bars[1].swing.0 + 5.0).abs() < 1e-9);
        // Factor 2 does nothing, exactly, thanks to common random numbers.
        assert!(bars[2].swing.0.abs() < 1e-12 && bars[2].swing.1 < 1e-12);
        assert_eq!(
            ranks_by_size(&bars.iter().map(|b| b.span()).collect::<Vec<_>>()),
            vec![2, 1, 3]
        );
    }

    #[test]
    fn a_parameter_whose_two_ends_move_the_metric_alike_ranks_by_how_far() {
        let bar = |low: f64, high: f64| Bar {
            low: (low, 0.0),
            high: (high, 0.0),
            swing: (high - low, 0.0),
        };
        // A U-shaped effect: both ends 3 below the scenario, a swing of 0, yet it matters more than a
        // monotone parameter moving ±1.
        let bars = [bar(-3.0, -3.0), bar(-1.0, 1.0)];
        assert_eq!(bars[0].span(), 3.0);
        assert_eq!(bars[1].span(), 2.0);
        assert_eq!(
            ranks_by_size(&bars.iter().map(Bar::span).collect::<Vec<_>>()),
            vec![1, 2]
        );
    }

    #[test]
    fn a_spread_of_one_value_is_unknown_not_zero() {
        assert!(sd(&[4.0]).is_nan());
        assert_eq!(sd(&[1.0, 3.0]), 2f64.sqrt());
    }

    #[test]
    fn morris_trajectories_move_one_factor_by_delta_per_step_within_the_unit_cube() {
        for t in morris(7, 20, 3) {
            assert_eq!(t.points.len(), 8);
            let mut sorted = t.order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..7).collect::<Vec<_>>());
            for (step, &i) in t.order.iter().enumerate() {
                let (a, b) = (&t.points[step], &t.points[step + 1]);
                for k in 0..7 {
                    let (x, y) = (a[k].unwrap(), b[k].unwrap());
                    assert!((0.0..=1.0 + 1e-12).contains(&y));
                    if k == i {
                        assert!(((y - x).abs() - MORRIS_DELTA).abs() < 1e-12);
                    } else {
                        assert_eq!(x, y);
                    }
                }
            }
        }
        assert_eq!(morris(4, 3, 9), morris(4, 3, 9), "a design repeats exactly");
        assert_ne!(morris(4, 3, 9), morris(4, 3, 10));
    }

    #[test]
    fn morris_ranks_the_factors_by_their_effect_and_flags_the_interaction() {
        let a = [1.0, -6.0, 0.0, 0.5];
        let trajectories = morris(4, 30, 5);
        let evaluations: Vec<Vec<Paths>> = trajectories
            .iter()
            .map(|t| t.points.iter().map(|p| evaluate(&a, 3.0, p, 200)).collect())
            .collect();
        let s = screening(&trajectories, &evaluations, mean, 4);
        // Factor 1 matters most, then 0 (whose effect 1 + 3 x_1 varies with x_1), 3, and 2 not at all.
        let ranks = ranks_by_size(&s.iter().map(|m| m.mu_star).collect::<Vec<_>>());
        assert_eq!(ranks[1], 1);
        assert_eq!(ranks[2], 4);
        assert!(s[2].mu_star.abs() < 1e-9 && s[2].sigma < 1e-9);
        assert!(
            (s[3].mu_star - 0.5).abs() < 1e-9 && s[3].sigma < 1e-9,
            "a linear factor has no spread"
        );
        assert!(
            s[0].sigma > 0.5,
            "the interaction spreads factor 0's effects: {}",
            s[0].sigma
        );
        assert!(s.iter().all(|m| m.n_effects == 30 && m.mu_star_se.is_finite()));
    }

    #[test]
    fn paired_differences_cancel_the_common_noise() {
        let base: Paths = (0..400).map(|p| Some((mix64(p) % 1000) as f64)).collect();
        let shifted: Paths = base.iter().map(|v| v.map(|x| x + 2.0)).collect();
        let (d, se) = paired_difference(&shifted, &base, mean, 200, 1);
        assert!((d - 2.0).abs() < 1e-9 && se < 1e-9, "{d} ± {se}");
        // A path stopped in either evaluation is left out of both.
        let mut gap = shifted.clone();
        gap[3] = None;
        let (d, _) = paired_difference(&gap, &base, mean, 50, 1);
        assert!((d - 2.0).abs() < 1e-9);
    }
}
