//! Shared helpers: load a shipped scenario with overrides, run paths in-process, run the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hashcycle::output::parquet::read_frame;
use hashcycle::scenario::Scenario;
use hashcycle::scenario::overrides;
use hashcycle::scenario::raw::{self, Value};
use hashcycle::scenario::reader::Problems;
use hashcycle_model::engine::simulate_path;
use hashcycle_model::params::Params;
use hashcycle_model::record::{Collect, EventKind, EventRow, PathSummary};

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
///
/// Its `[[uncertainty]]` draws are dropped: a test of a mechanism runs every path at the scenario's stated
/// (fitted median) values, so the world it scripts is the one it checks. Tests of the draws load the scenario
/// with [`Scenario::load`] or keep them with [`scenario_with_draws`].
pub fn scenario_with(name: &str, changes: &[(&str, Value)]) -> Scenario {
    let mut scenario = scenario_with_draws(name, changes);
    scenario.params.uncertainty.clear();
    scenario
}

/// [`scenario_with`], keeping the scenario's per-path parameter draws.
pub fn scenario_with_draws(name: &str, changes: &[(&str, Value)]) -> Scenario {
    // Loaded whole, so that a scenario that extends another (bear, bull) is changed as merged.
    let scenario = Scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut tree = scenario.tree.clone();
    apply(&mut tree, changes);
    scenario.revalidate(tree).unwrap_or_else(|e| panic!("{e}"))
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

/// The events of one kind a path recorded, in the order they happened.
pub fn events_of(rows: &Collect, kind: EventKind) -> impl Iterator<Item = &EventRow> {
    rows.events.iter().filter(move |e| e.kind == kind)
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
/// A shipped scenario with `extra` text appended and values replaced by path, without its per-path draws (as
/// [`scenario_with`]).
pub fn params_with_text(name: &str, extra: &str, changes: &[(&str, Value)]) -> Params {
    let path = scenario_path(name);
    let text = std::fs::read_to_string(&path).unwrap() + "\n" + extra;
    let (mut tree, errors) = raw::parse(&text);
    assert!(errors.is_empty(), "{errors:?}");
    apply(&mut tree, changes);
    let base_dir = path.parent().unwrap().to_path_buf();
    let mut params = Scenario::from_tree(tree, &text, "test.toml", &base_dir, Problems::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .params;
    params.uncertainty.clear();
    params
}

pub fn generation_idx(params: &Params, name: &str) -> usize {
    params.generations.iter().position(|g| g.name == name).unwrap()
}

/// Every non-finite number in a row's fields, found in its `Debug` text so that fields added later are
/// covered too: `f64` prints as `NaN`, `inf` or `-inf` there, and nothing else in a row does.
pub fn non_finite_fields(debug: &str) -> Vec<String> {
    let mut found = vec![];
    for (idx, _) in debug.match_indices(": ") {
        let rest = &debug[idx + 2..];
        let value = rest.split([',', ' ', '}']).next().unwrap_or("");
        let value = value.trim_start_matches("Some(").trim_end_matches(')');
        if matches!(value, "NaN" | "inf" | "-inf") {
            let field_start = debug[..idx].rfind([' ', '{']).map_or(0, |i| i + 1);
            found.push(format!("{} = {value}", &debug[field_start..idx]));
        }
    }
    found
}

pub fn assert_all_finite(rows: &Collect) {
    let tables: [(&str, Vec<String>); 6] = [
        ("network", rows.network.iter().map(|r| format!("{r:?}")).collect()),
        ("miners", rows.miners.iter().map(|r| format!("{r:?}")).collect()),
        (
            "manufacturers",
            rows.manufacturers.iter().map(|r| format!("{r:?}")).collect(),
        ),
        ("dealers", rows.dealers.iter().map(|r| format!("{r:?}")).collect()),
        ("regions", rows.regions.iter().map(|r| format!("{r:?}")).collect()),
        ("events", rows.events.iter().map(|r| format!("{r:?}")).collect()),
    ];
    for (table, debug_rows) in tables {
        for debug in debug_rows {
            let bad = non_finite_fields(&debug);
            assert!(bad.is_empty(), "{table} row has non-finite {bad:?}: {debug}");
        }
    }
}

pub fn assert_summary_finite(summary: &PathSummary) {
    let bad = non_finite_fields(&format!("{summary:?}"));
    assert!(bad.is_empty(), "summary has non-finite {bad:?}: {summary:?}");
}

/// `tests/data/small.toml` with textual replacements, written as `dir/file_name`.
pub fn small_scenario(dir: &Path, file_name: &str, replacements: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(project_dir().join("tests/data/small.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "fixture text `{from}` not found");
        text = text.replacen(from, to, 1);
    }
    let file = dir.join(file_name);
    std::fs::write(&file, text).unwrap();
    file
}

/// Every `.parquet` file under `dir` (hidden entries included only when `hidden`), sorted.
pub fn parquet_files(dir: &Path, hidden: bool) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') && !hidden {
                continue;
            }
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if name.ends_with(".parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Reads back every table of a finished run directory and checks that it is complete: it opens, the monthly
/// tables hold every month of every path `run.json` announces, and no float is non-finite.
pub fn assert_complete_run(dir: &Path) {
    let run_json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap())
        .unwrap_or_else(|e| panic!("{}: run.json: {e}", dir.display()));
    let n_paths = run_json["paths"].as_u64().unwrap() as usize;
    let n_months = run_json["horizon_months"].as_u64().unwrap() as usize;
    let tables = [
        "network.parquet",
        "miners.parquet",
        "manufacturers.parquet",
        "dealers.parquet",
        "regions.parquet",
        "events.parquet",
        "summary.parquet",
    ];
    for table in tables {
        assert!(dir.join(table).is_file(), "{}: {table} missing", dir.display());
    }
    for file in parquet_files(dir, true) {
        let frame = read_frame(&file).unwrap_or_else(|e| panic!("{} does not open: {e}", file.display()));
        hashcycle::output::parquet::check_finite(&frame, &file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name == "network.parquet" || name == "dealers.parquet" {
            assert_eq!(frame.height(), n_paths * n_months, "{}: rows", file.display());
        }
        if name == "summary.parquet" {
            let n_manufacturers = frame.column("manufacturer").unwrap().n_unique().unwrap();
            let n_summarised = frame.column("path").unwrap().n_unique().unwrap();
            assert_eq!(n_summarised, n_paths, "{}: paths", file.display());
            assert_eq!(frame.height(), n_paths * n_manufacturers, "{}: rows", file.display());
        }
    }
}
