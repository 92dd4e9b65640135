//! Calibration: fitting a few behaviour parameters so the simulated median hashrate follows history.
//!
//! The search runs on the in-sample months only: every candidate is simulated from the window's start to
//! the last in-sample month, so no later price, fee or hashrate is even loaded. It is deterministic (fixed
//! seed and paths, common random numbers across candidates) and has two stages:
//! 1. a coarse grid (`grid_points_per_parameter` points per parameter, at the centres of equal slices of
//!    each range) plus the template's own values, of which the best is kept;
//! 2. Nelder–Mead from there on the parameters scaled to [0, 1] (candidates outside are clamped to the
//!    bounds), restarted once from its result with a fresh simplex so that a collapsed simplex cannot stop
//!    it early, until `max_evaluations` objective evaluations are spent or the simplex has converged.
//!
//! Integer parameters are rounded before use, and repeated candidates are answered from a cache.

use std::collections::BTreeMap;

use crate::backtest::simulate::{Band, simulate};
use crate::backtest::template::{CalibrationSettings, Objective, Template};
use crate::scenario::ScenarioError;
use hashcycle_model::units::YearMonth;

/// Reflection, expansion, contraction and shrink coefficients of the standard Nelder–Mead method.
const NM_REFLECT: f64 = 1.0;
const NM_EXPAND: f64 = 2.0;
const NM_CONTRACT: f64 = 0.5;
const NM_SHRINK: f64 = 0.5;
/// The simplex has converged when every vertex is this close (in unit coordinates) to the best one ...
const NM_TOLERANCE_X: f64 = 1e-3;
/// ... and their objectives differ by no more than this.
const NM_TOLERANCE_F: f64 = 1e-6;
/// First simplex size, in unit coordinates, when no grid preceded Nelder–Mead, and for the restart.
const NM_INITIAL_STEP: f64 = 0.15;

/// The best point found by Nelder–Mead.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
    pub n_evaluations: usize,
}

fn clamp_unit(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v.clamp(0.0, 1.0)).collect()
}

/// Minimises `f` over the unit cube from `x0` with Nelder–Mead, spending at most `max_evaluations`.
/// Points are clamped into the cube before `f` sees them.
pub fn nelder_mead(
    f: &mut impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    initial_step: f64,
    max_evaluations: usize,
) -> Minimum {
    let n = x0.len();
    let mut n_evaluations = 0;
    let mut eval = |x: &[f64], n_evaluations: &mut usize| {
        *n_evaluations += 1;
        let value = f(x);
        if value.is_nan() { f64::INFINITY } else { value }
    };
    let start = clamp_unit(x0);
    let mut simplex: Vec<(Vec<f64>, f64)> = vec![];
    let f0 = eval(&start, &mut n_evaluations);
    simplex.push((start.clone(), f0));
    for i in 0..n {
        let mut x = start.clone();
        // Step inwards when the start sits on the upper bound.
        x[i] = if x[i] + initial_step <= 1.0 {
            x[i] + initial_step
        } else {
            x[i] - initial_step
        };
        let fx = eval(&x, &mut n_evaluations);
        simplex.push((x, fx));
    }
    while n_evaluations < max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = simplex[0].clone();
        let converged = simplex.iter().all(|(x, fx)| {
            x.iter().zip(&best.0).all(|(a, b)| (a - b).abs() <= NM_TOLERANCE_X) && (fx - best.1).abs() <= NM_TOLERANCE_F
        });
        if converged {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|i| simplex[..n].iter().map(|(x, _)| x[i]).sum::<f64>() / n as f64)
            .collect();
        let worst = simplex[n].clone();
        let along = |t: f64| -> Vec<f64> {
            clamp_unit(
                &centroid
                    .iter()
                    .zip(&worst.0)
                    .map(|(c, w)| c + t * (c - w))
                    .collect::<Vec<f64>>(),
            )
        };
        let reflected = along(NM_REFLECT);
        let f_reflected = eval(&reflected, &mut n_evaluations);
        if f_reflected < simplex[0].1 {
            let expanded = along(NM_EXPAND);
            let f_expanded = eval(&expanded, &mut n_evaluations);
            simplex[n] = if f_expanded < f_reflected {
                (expanded, f_expanded)
            } else {
                (reflected, f_reflected)
            };
            continue;
        }
        if f_reflected < simplex[n - 1].1 {
            simplex[n] = (reflected, f_reflected);
            continue;
        }
        // Contract towards the better of the worst point and its reflection.
        let (contracted, f_contracted) = if f_reflected < worst.1 {
            let x = along(NM_CONTRACT);
            let fx = eval(&x, &mut n_evaluations);
            (x, fx)
        } else {
            let x = along(-NM_CONTRACT);
            let fx = eval(&x, &mut n_evaluations);
            (x, fx)
        };
        if f_contracted < worst.1.min(f_reflected) {
            simplex[n] = (contracted, f_contracted);
            continue;
        }
        for vertex in simplex.iter_mut().skip(1) {
            let x: Vec<f64> = best
                .0
                .iter()
                .zip(&vertex.0)
                .map(|(b, v)| b + NM_SHRINK * (v - b))
                .collect();
            let fx = eval(&x, &mut n_evaluations);
            *vertex = (x, fx);
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    Minimum {
        x: simplex[0].0.clone(),
        f: simplex[0].1,
        n_evaluations,
    }
}

/// The calibration's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationReport {
    /// The template's values and their objective.
    pub start_values: Vec<f64>,
    pub start_objective: f64,
    /// The fitted values and their objective.
    pub values: Vec<f64>,
    pub objective: f64,
    pub n_evaluations: usize,
    pub n_in_sample_months: usize,
    pub wall_seconds: f64,
}

/// The objective of a simulated median path against the actual in-sample series.
pub fn objective_value(objective: Objective, simulated_p50: &[f64], actual: &[f64]) -> f64 {
    let mut errors = crate::backtest::simulate::abs_log_errors(simulated_p50, actual);
    if errors.is_empty() || errors.len() < actual.len() || errors.iter().any(|e| !e.is_finite()) {
        return f64::INFINITY;
    }
    match objective {
        Objective::Mean => errors.iter().sum::<f64>() / errors.len() as f64,
        Objective::Median => {
            errors.sort_by(f64::total_cmp);
            crate::stats::quantile_sorted(&errors, 0.5)
        }
    }
}

/// Scores candidates, each distinct one simulated once.
struct Evaluator<'a> {
    template: &'a Template,
    from: YearMonth,
    until: YearMonth,
    actual_hashrate_ehs: &'a [f64],
    settings: &'a CalibrationSettings,
    cache: BTreeMap<Vec<u64>, f64>,
}

impl Evaluator<'_> {
    fn value(&mut self, values: &[f64]) -> f64 {
        let key: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        if let Some(&cached) = self.cache.get(&key) {
            return cached;
        }
        let settings = self.settings;
        let value = match self.template.scenario(self.from, self.until, Some(values)) {
            Ok((scenario, _)) => {
                let mut params = scenario.params;
                params.simulation.n_paths = settings.n_paths;
                params.simulation.seed = settings.seed;
                let paths = simulate(&params, settings.n_paths);
                if paths.iter().any(|p| p.violation.is_some()) {
                    f64::INFINITY
                } else {
                    let band = Band::across(&paths, self.actual_hashrate_ehs.len(), |p| &p.hashrate_ehs);
                    objective_value(settings.objective, &band.p50, self.actual_hashrate_ehs)
                }
            }
            // Values the scenario rules reject (a threshold above its ceiling, say) are simply bad candidates.
            Err(_) => f64::INFINITY,
        };
        self.cache.insert(key, value);
        value
    }
}

/// Fits the template's calibration parameters so the median simulated hashrate from `from` follows
/// `actual_hashrate_ehs` (one value per month from `from`; its length sets the last in-sample month).
pub fn calibrate(
    template: &Template,
    from: YearMonth,
    actual_hashrate_ehs: &[f64],
) -> Result<CalibrationReport, ScenarioError> {
    let settings = &template.settings.calibration;
    let started = std::time::Instant::now();
    let n_months = actual_hashrate_ehs.len();
    let until = from.plus_months(n_months as i64 - 1);
    let parameters = &settings.parameters;
    // A scenario the template cannot build at all is the user's to fix: report it before searching.
    template.scenario(from, until, None)?;
    let mut evaluator = Evaluator {
        template,
        from,
        until,
        actual_hashrate_ehs,
        settings,
        cache: BTreeMap::new(),
    };
    let to_values = |u: &[f64]| -> Vec<f64> { parameters.iter().zip(u).map(|(p, &x)| p.value_at(x)).collect() };
    let start_values = template.fitted_values();
    let start_unit: Vec<f64> = parameters
        .iter()
        .zip(&start_values)
        .map(|(p, &v)| p.unit_of(v))
        .collect();
    let start_objective = evaluator.value(&to_values(&start_unit));
    let mut best = (start_unit, start_objective);
    let g = settings.grid_points_per_parameter as usize;
    if g > 0 && !parameters.is_empty() {
        let n_cells = g.checked_pow(parameters.len() as u32).unwrap_or(usize::MAX);
        for cell in 0..n_cells {
            let mut rest = cell;
            let u: Vec<f64> = (0..parameters.len())
                .map(|_| {
                    let i = rest % g;
                    rest /= g;
                    (i as f64 + 0.5) / g as f64
                })
                .collect();
            let value = evaluator.value(&to_values(&u));
            if value < best.1 {
                best = (u, value);
            }
        }
    }
    let step = if g > 0 { 0.5 / g as f64 } else { NM_INITIAL_STEP };
    let budget = settings.max_evaluations as usize;
    let mut objective_at = |u: &[f64]| evaluator.value(&to_values(u));
    let first = nelder_mead(&mut objective_at, &best.0, step, budget);
    let spent = first.n_evaluations;
    let mut minimum = first;
    if spent < budget {
        let second = nelder_mead(&mut objective_at, &minimum.x, NM_INITIAL_STEP.min(step), budget - spent);
        if second.f <= minimum.f {
            minimum = second;
        }
    }
    let (unit, objective) = if minimum.f <= best.1 {
        (minimum.x, minimum.f)
    } else {
        best
    };
    Ok(CalibrationReport {
        start_values,
        start_objective,
        values: to_values(&unit),
        objective,
        n_evaluations: evaluator.cache.len(),
        n_in_sample_months: n_months,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_the_minimum_of_a_bowl_inside_the_cube() {
        let mut f = |x: &[f64]| (x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2);
        let m = nelder_mead(&mut f, &[0.9, 0.1], 0.15, 500);
        assert!((m.x[0] - 0.3).abs() < 2e-3 && (m.x[1] - 0.7).abs() < 2e-3, "{m:?}");
        assert!(m.n_evaluations <= 500);
    }

    #[test]
    fn nelder_mead_stops_at_the_bound_when_the_minimum_lies_outside() {
        let mut f = |x: &[f64]| (x[0] - 1.5).powi(2);
        let m = nelder_mead(&mut f, &[0.2], 0.15, 200);
        assert!((m.x[0] - 1.0).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn the_objective_is_the_median_or_mean_absolute_log_error() {
        let actual = [1.0, 1.0, 1.0];
        let simulated = [1.0, std::f64::consts::E, 1.0 / std::f64::consts::E];
        assert!((objective_value(Objective::Median, &simulated, &actual) - 1.0).abs() < 1e-12);
        assert!((objective_value(Objective::Mean, &simulated, &actual) - 2.0 / 3.0).abs() < 1e-12);
        assert!(objective_value(Objective::Mean, &simulated[..2], &actual).is_infinite());
    }
}
