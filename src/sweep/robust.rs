//! Robust choices across a sweep's scenarios, on one metric where lower is better (P(cash < 0)) or higher is
//! better (median ending cash):
//! - **max-min**: the strategy whose worst scenario is best;
//! - **least regret**: the strategy whose largest shortfall from the best strategy of each scenario is smallest.
//!
//! A strategy is identified by its label; only strategies present, with a figure, in every scenario count.

/// One strategy's standing across the scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub strategy: String,
    /// Its figure in its worst scenario, and that scenario.
    pub worst: f64,
    pub worst_scenario: String,
    /// Its largest regret over the scenarios (always >= 0, in the metric's unit).
    pub max_regret: f64,
}

/// The max-min choice, the least-regret choice and the reference's standing.
pub type Choices = (Standing, Standing, Option<Standing>);

/// The robust choices (`None` when no strategy has a figure in every scenario). `cells` are (scenario, strategy,
/// figure, is reference).
pub fn robust_choices(cells: &[(String, String, f64, bool)], lower_is_better: bool) -> Option<Choices> {
    let mut scenarios: Vec<&str> = vec![];
    let mut strategies: Vec<&str> = vec![];
    for (scenario, strategy, _, _) in cells {
        if !scenarios.contains(&scenario.as_str()) {
            scenarios.push(scenario);
        }
        if !strategies.contains(&strategy.as_str()) {
            strategies.push(strategy);
        }
    }
    let figure = |scenario: &str, strategy: &str| {
        cells
            .iter()
            .find(|c| c.0 == scenario && c.1 == strategy)
            .map(|c| c.2)
            .filter(|v| v.is_finite())
    };
    // Lower is better once the sign is set.
    let sign = if lower_is_better { 1.0 } else { -1.0 };
    let best: Vec<f64> = scenarios
        .iter()
        .map(|s| {
            strategies
                .iter()
                .filter_map(|t| figure(s, t))
                .map(|v| sign * v)
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let standing = |strategy: &str| -> Option<Standing> {
        let figures: Vec<f64> = scenarios.iter().map(|s| figure(s, strategy)).collect::<Option<_>>()?;
        let (worst_idx, _) = figures
            .iter()
            .enumerate()
            .max_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)))?;
        let max_regret = figures
            .iter()
            .zip(&best)
            .map(|(v, b)| sign * v - b)
            .fold(0.0f64, f64::max);
        Some(Standing {
            strategy: strategy.to_string(),
            worst: figures[worst_idx],
            worst_scenario: scenarios[worst_idx].to_string(),
            max_regret,
        })
    };
    let all: Vec<Standing> = strategies.iter().filter_map(|t| standing(t)).collect();
    let maximin = all
        .iter()
        .min_by(|a, b| (sign * a.worst).total_cmp(&(sign * b.worst)))?
        .clone();
    let least_regret = all.iter().min_by(|a, b| a.max_regret.total_cmp(&b.max_regret))?.clone();
    let reference = cells
        .iter()
        .find(|c| c.3)
        .and_then(|c| all.iter().find(|s| s.strategy == c.1).cloned());
    Some((maximin, least_regret, reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(scenario: &str, strategy: &str, v: f64, reference: bool) -> (String, String, f64, bool) {
        (scenario.into(), strategy.into(), v, reference)
    }

    /// A constructed case: A is best in base but terrible in bear; B is never best but never bad; C is best in
    /// bear. Max-min picks B or C by their worst scenario; least regret picks B.
    #[test]
    fn max_min_and_least_regret_pick_the_robust_strategies() {
        let cells = vec![
            cell("base", "A", 0.05, true),
            cell("base", "B", 0.10, false),
            cell("base", "C", 0.20, false),
            cell("bear", "A", 0.60, true),
            cell("bear", "B", 0.35, false),
            cell("bear", "C", 0.30, false),
        ];
        let (maximin, regret, reference) = robust_choices(&cells, true).unwrap();
        assert_eq!((maximin.strategy.as_str(), maximin.worst), ("C", 0.30));
        // Regrets: A max(0, 0.30) = 0.30; B max(0.05, 0.05) = 0.05; C max(0.15, 0) = 0.15.
        assert_eq!(regret.strategy, "B");
        assert!((regret.max_regret - 0.05).abs() < 1e-12);
        let reference = reference.unwrap();
        assert_eq!(
            (reference.strategy.as_str(), reference.worst_scenario.as_str()),
            ("A", "bear")
        );
        assert!((reference.max_regret - 0.30).abs() < 1e-12);
        // Higher is better (cash): the same figures read the other way round.
        let (maximin, _, _) = robust_choices(&cells, false).unwrap();
        assert_eq!(
            (maximin.strategy.as_str(), maximin.worst),
            ("C", 0.20),
            "C's worst is the highest worst"
        );
    }

    #[test]
    fn a_strategy_missing_a_scenario_is_not_a_candidate() {
        let cells = vec![
            cell("base", "A", 0.1, false),
            cell("bear", "B", 0.2, false),
            cell("base", "B", 0.3, false),
        ];
        let (maximin, regret, reference) = robust_choices(&cells, true).unwrap();
        assert_eq!((maximin.strategy.as_str(), regret.strategy.as_str()), ("B", "B"));
        assert_eq!(reference, None);
    }
}
