//! Shared helpers: load a shipped scenario with overrides, run paths in-process, run the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hashcycle::model::engine::simulate_path;
use hashcycle::model::params::Params;
use hashcycle::model::record::{Collect, PathSummary};
use hashcycle::scenario::Scenario;
use hashcycle::scenario::overrides;
use hashcycle::scenario::raw::{self, Value};
use hashcycle::scenario::reader::Problems;

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario_path(name: &str) -> PathBuf {
    project_dir().join("scenarios").join(format!("{name}.toml"))
}

pub fn f(x: f64) -> Value {
    Value::Float(x)
}

pub fn i(x: i64) -> Value {
    Value::Int(x)
}

pub fn b(x: bool) -> Value {
    Value::Bool(x)
}

pub fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

/// Applies changes to a parsed scenario. Shortening `simulation.horizon_months` also drops the generations
/// (and roadmap entries) released after the new horizon, which the scenario rules would otherwise reject.
pub fn apply(tree: &mut raw::Node, changes: &[(&str, Value)]) {
    for (key, value) in changes {
        overrides::set(tree, key, value.clone()).unwrap_or_else(|e| panic!("{e}"));
        if *key == "simulation.horizon_months" {
            let Value::Int(months) = value else {
                panic!("horizon must be an integer")
            };
            prune_after_horizon(tree, *months);
        }
    }
}

fn ym(value: &Value) -> (i64, i64) {
    let Value::Str(text) = value else {
        panic!("month must be a string")
    };
    let (y, m) = text.split_once('-').unwrap();
    (y.parse().unwrap(), m.parse().unwrap())
}

fn prune_after_horizon(tree: &mut raw::Node, months: i64) {
    let start = ym(&overrides::get(tree, "simulation.start_month").unwrap());
    let end_ordinal = start.0 * 12 + start.1 - 1 + months;
    let before_end = |node: &raw::Node, key: &str| -> bool {
        let Value::Table(t) = &node.value else {
            return true;
        };
        let (y, m) = ym(&t.get(key).unwrap().value);
        y * 12 + m - 1 < end_ordinal
    };
    let Value::Table(top) = &mut tree.value else { panic!() };
    let mut removed = vec![];
    if let Some(Value::Array(gens)) = top.get_mut("generations").map(|n| &mut n.value) {
        gens.retain(|g| {
            let keep = before_end(g, "release_month");
            if !keep {
                let Value::Table(t) = &g.value else { unreachable!() };
                removed.push(t.get("name").unwrap().value.clone());
            }
            keep
        });
    }
    if let Some(Value::Array(makers)) = top.get_mut("manufacturers").map(|n| &mut n.value) {
        for maker in makers {
            let Value::Table(t) = &mut maker.value else {
                continue;
            };
            if let Some(Value::Array(entries)) = t.get_mut("roadmap").map(|n| &mut n.value) {
                entries.retain(|e| {
                    let Value::Table(et) = &e.value else {
                        return true;
                    };
                    before_end(e, "sell_from_month") && !removed.contains(&et.get("generation").unwrap().value)
                });
            }
        }
    }
}

/// A shipped scenario with values replaced by path; panics with the scenario's own message if invalid.
pub fn scenario_with(name: &str, changes: &[(&str, Value)]) -> Scenario {
    let path = scenario_path(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut tree, errors) = raw::parse(&text);
    assert!(errors.is_empty());
    apply(&mut tree, changes);
    let base_dir = path.parent().unwrap().to_path_buf();
    Scenario::from_tree(tree, &text, &path.display().to_string(), &base_dir, Problems::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn params_with(name: &str, changes: &[(&str, Value)]) -> Params {
    scenario_with(name, changes).params
}

/// Changes that remove randomness from prices, fees and power, for behaviour tests with a scripted world.
pub fn calm_world() -> Vec<(&'static str, Value)> {
    vec![
        ("price.jump_probability_per_month", f(0.0)),
        ("price.regime_switching.bull_drift_log_per_month", f(0.0)),
        ("price.regime_switching.bull_volatility_log_per_month", f(0.0)),
        ("price.regime_switching.bear_drift_log_per_month", f(0.0)),
        ("price.regime_switching.bear_volatility_log_per_month", f(0.0)),
        ("price.regime_switching.bull_to_bear_probability_per_month", f(0.0)),
        ("price.regime_switching.bear_to_bull_probability_per_month", f(0.0)),
        ("fees.volatility_log_per_month", f(0.0)),
        ("regions.us.power_price_volatility_log_per_month", f(0.0)),
        ("regions.china.power_price_volatility_log_per_month", f(0.0)),
        ("regions.russia.power_price_volatility_log_per_month", f(0.0)),
        ("regions.canada_nordics.power_price_volatility_log_per_month", f(0.0)),
        ("regions.other.power_price_volatility_log_per_month", f(0.0)),
    ]
}

pub fn with_calm(extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut v = calm_world();
    v.extend(extra.iter().cloned());
    v
}

pub fn run_path(params: &Params, path_idx: u32) -> (Collect, PathSummary) {
    let mut sink = Collect::default();
    let summary = simulate_path(params, path_idx, &mut sink);
    assert!(summary.violation.is_none(), "path {path_idx}: {:?}", summary.violation);
    (sink, summary)
}

pub fn hashcycle(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hashcycle"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hashcycle-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sample mean and standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// A shipped scenario with extra TOML appended (e.g. `[[events]]`) and values replaced by path.
pub fn params_with_text(name: &str, extra: &str, changes: &[(&str, Value)]) -> Params {
    let path = scenario_path(name);
    let text = std::fs::read_to_string(&path).unwrap() + "\n" + extra;
    let (mut tree, errors) = raw::parse(&text);
    assert!(errors.is_empty(), "{errors:?}");
    apply(&mut tree, changes);
    let base_dir = path.parent().unwrap().to_path_buf();
    Scenario::from_tree(tree, &text, "test.toml", &base_dir, Problems::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .params
}

pub fn generation_idx(params: &Params, name: &str) -> usize {
    params.generations.iter().position(|g| g.name == name).unwrap()
}
