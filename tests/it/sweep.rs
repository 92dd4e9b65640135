//! Strategy sweeps: cells, metrics, determinism, common random numbers, and early errors.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use hashcycle::output::parquet::read_frame;

use crate::support::{hashcycle, project_dir, scenario_path, temp_dir};

/// A sweep file named `test_sweep` over the base and bear scenarios (12 paths, seed 5) with `body` as its design.
pub fn write_sweep(dir: &Path, body: &str) -> PathBuf {
    let file = dir.join("sweep.toml");
    let text = format!(
        "[sweep]\nname = \"test_sweep\"\nscenarios = [\"{}\", \"{}\"]\npaths = 12\nseed = 5\nfocus_manufacturer = \"bitmain\"\n\n{body}",
        scenario_path("base").display(),
        scenario_path("bear").display()
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// futures_share {0.2, 0.8} × prepay_share {0.1, 0.5} for bitmain.
pub const GRID_2X2: &str = "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.2, 0.8]\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.1, 0.5]\n";

fn sweep(dir: &Path, file: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let out_dir = dir.join(out);
    let mut args = vec!["sweep", file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()];
    if !extra.contains(&"--threads") {
        args.extend_from_slice(&["--threads", "2"]);
    }
    args.extend_from_slice(extra);
    hashcycle(&args, &project_dir())
}

fn f64s(df: &DataFrame, column: &str) -> Vec<f64> {
    df.column(column).unwrap().f64().unwrap().into_no_null_iter().collect()
}

/// An integer column, which files hold as i64, as u32.
fn u32s(df: &DataFrame, column: &str) -> Vec<u32> {
    let column = df.column(column).unwrap().strict_cast(&DataType::UInt32).unwrap();
    column.u32().unwrap().into_no_null_iter().collect()
}

fn bools(df: &DataFrame, column: &str) -> Vec<bool> {
    df.column(column)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

fn strs(df: &DataFrame, column: &str) -> Vec<String> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

#[test]
fn a_two_by_two_grid_over_two_scenarios_gives_eight_cells_with_sound_metrics() {
    let dir = temp_dir("sweep-grid");
    let file = write_sweep(&dir, GRID_2X2);
    let out = sweep(&dir, &file, "a", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("scenario base") && stdout.contains("scenario bear") && stdout.contains("reference"),
        "{stdout}"
    );
    let result = dir.join("a").join("test_sweep");
    let cells = read_frame(&result.join("sweep.parquet")).unwrap();
    assert_eq!(cells.height(), 8);
    let futures = f64s(&cells, "manufacturers.bitmain.strategy.futures_share");
    let prepay = f64s(&cells, "manufacturers.bitmain.strategy.prepay_share");
    let mut pairs: Vec<(f64, f64)> = futures.iter().copied().zip(prepay.iter().copied()).collect();
    pairs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        pairs,
        vec![
            (0.2, 0.1),
            (0.2, 0.1),
            (0.2, 0.5),
            (0.2, 0.5),
            (0.8, 0.1),
            (0.8, 0.1),
            (0.8, 0.5),
            (0.8, 0.5)
        ]
    );
    // The reference cell is the one matching the scenario's own strategy (0.8 / 0.5), once per scenario.
    let reference: Vec<bool> = bools(&cells, "is_reference");
    assert_eq!(reference.iter().filter(|&&r| r).count(), 2);
    for (k, &is_ref) in reference.iter().enumerate() {
        assert_eq!(is_ref, futures[k] == 0.8 && prepay[k] == 0.5);
    }
    let n: Vec<u32> = u32s(&cells, "n_paths");
    assert!(n.iter().all(|&n| n == 12));
    for (p_col, se_col) in [
        ("p_cash_below_zero", "p_cash_below_zero_se"),
        ("p_distress", "p_distress_se"),
    ] {
        for (p, se) in f64s(&cells, p_col).into_iter().zip(f64s(&cells, se_col)) {
            assert!((0.0..=1.0).contains(&p));
            assert!(
                (se - (p * (1.0 - p) / 12.0).sqrt()).abs() < 1e-12,
                "{p_col}: {p} with se {se}"
            );
        }
    }
    for q in ["p5", "p25", "p50", "p75", "p95"] {
        assert!(cells.column(&format!("end_cash_usd_{q}")).is_ok());
    }
    // Paired with the reference on the same paths: the reference differs from itself by exactly nothing; every
    // Wilson interval holds its proportion; the paired difference is the per-path table's.
    let vs = f64s(&cells, "p_cash_below_zero_vs_reference");
    let vs_se = f64s(&cells, "p_cash_below_zero_vs_reference_se");
    for (k, &is_ref) in reference.iter().enumerate() {
        if is_ref {
            assert_eq!((vs[k], vs_se[k]), (0.0, 0.0));
        }
        assert!(vs_se[k] >= 0.0);
    }
    let (p, lo, hi) = (
        f64s(&cells, "p_cash_below_zero"),
        f64s(&cells, "p_cash_below_zero_lo95"),
        f64s(&cells, "p_cash_below_zero_hi95"),
    );
    assert!((0..p.len()).all(|k| lo[k] <= p[k] && p[k] <= hi[k] && hi[k] > lo[k]));
    for column in [
        "min_cash_usd_cvar5",
        "min_cash_usd_p50_vs_reference",
        "min_cash_usd_cvar5_vs_reference_se",
        "end_cash_usd_p50_vs_reference",
        "tied_with_reference",
    ] {
        assert!(cells.column(column).is_ok(), "no column {column}");
    }
    let low = f64s(&cells, "min_cash_usd_p5");
    let high = f64s(&cells, "min_cash_usd_p95");
    assert!(low.iter().zip(&high).all(|(l, h)| l <= h));
    // Metrics agree with the per-path table.
    let paths = read_frame(&result.join("paths.parquet")).unwrap();
    assert_eq!(paths.height(), 8 * 12);
    let below: Vec<bool> = bools(&paths, "cash_below_zero");
    let cell_of: Vec<u32> = u32s(&paths, "cell");
    let scenario_of = strs(&paths, "scenario");
    let cell_scenarios = strs(&cells, "scenario");
    let cell_ids: Vec<u32> = u32s(&cells, "cell");
    let p = f64s(&cells, "p_cash_below_zero");
    for k in 0..8 {
        let hits = (0..paths.height())
            .filter(|&r| cell_of[r] == cell_ids[k] && scenario_of[r] == cell_scenarios[k] && below[r])
            .count();
        assert!((p[k] - hits as f64 / 12.0).abs() < 1e-12);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rerunning_a_sweep_with_the_same_seed_gives_identical_files() {
    let dir = temp_dir("sweep-repeat");
    let file = write_sweep(&dir, GRID_2X2);
    assert!(sweep(&dir, &file, "a", &["--threads", "1"]).status.success());
    assert!(sweep(&dir, &file, "b", &[]).status.success());
    for table in ["sweep.parquet", "paths.parquet"] {
        let a = std::fs::read(dir.join("a/test_sweep").join(table)).unwrap();
        let b = std::fs::read(dir.join("b/test_sweep").join(table)).unwrap();
        assert!(a == b, "{table} differs between runs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strategies_in_a_scenario_share_their_price_paths() {
    // Two strategies that differ only in the dealers' down payment: it cannot move the BTC price.
    let dir = temp_dir("sweep-crn");
    let file = write_sweep(
        &dir,
        "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.dealer_down_payment_share\"\nvalues = [0.1, 0.6]\n",
    );
    let out = sweep(&dir, &file, "a", &["--monthly"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let network = read_frame(&dir.join("a/test_sweep/months/network/scenario=base/part-0.parquet")).unwrap();
    let cell: Vec<u32> = u32s(&network, "cell");
    let price = f64s(&network, "price_usd");
    let of = |cell: &[u32], c: u32, v: &[f64]| -> Vec<f64> {
        (0..v.len()).filter(|&i| cell[i] == c).map(|i| v[i]).collect()
    };
    assert_eq!(of(&cell, 0, &price).len(), 12 * 120);
    assert_eq!(
        of(&cell, 0, &price),
        of(&cell, 1, &price),
        "price columns differ between strategies"
    );
    // The down payment moves the manufacturer's cash, whether or not it reaches the network's miners.
    let books = read_frame(&dir.join("a/test_sweep/months/manufacturers/scenario=base/part-0.parquet")).unwrap();
    let books_cell: Vec<u32> = u32s(&books, "cell");
    let cash = f64s(&books, "cash_usd");
    assert_ne!(
        of(&books_cell, 0, &cash),
        of(&books_cell, 1, &cash),
        "the strategies should differ somewhere"
    );
    let paths = read_frame(&dir.join("a/test_sweep/paths.parquet")).unwrap();
    let end_price = f64s(&paths, "end_price_usd");
    assert_eq!(end_price[..12], end_price[12..24]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_parameter_path_that_names_nothing_fails_before_any_simulation() {
    let dir = temp_dir("sweep-bad-path");
    let file = write_sweep(
        &dir,
        "[[grid]]\nparameter = \"manufacturers.bitmian.strategy.prepay_share\"\nvalues = [0.1, 0.5]\n",
    );
    let out = sweep(&dir, &file, "a", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sweep.toml:9:13"), "{stderr}");
    assert!(stderr.contains("no entry named \"bitmian\""), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(!dir.join("a").exists(), "nothing is written");
}

#[test]
fn an_out_of_range_sweep_value_is_reported_with_its_cell() {
    let dir = temp_dir("sweep-bad-value");
    let file = write_sweep(
        &dir,
        "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.5, 1.5]\n",
    );
    let out = sweep(&dir, &file, "a", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("prepay_share=1.5"), "{stderr}");
    assert!(stderr.contains("must be in [0, 1]"), "{stderr}");
    // Located in the sweep file, at the axis whose value the scenario refused.
    assert!(stderr.contains("sweep.toml:9:"), "{stderr}");
    assert!(!dir.join("a").exists());
}

#[test]
fn a_latin_hypercube_sweep_samples_the_requested_points() {
    let dir = temp_dir("sweep-lhs");
    let file = write_sweep(
        &dir,
        "[latin_hypercube]\npoints = 5\nseed = 3\n\n[[latin_hypercube.ranges]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nmin = 0.1\nmax = 0.9\n\n[[latin_hypercube.ranges]]\nparameter = \"manufacturers.bitmain.strategy.target_payback_months\"\nmin = 12\nmax = 20\n",
    );
    let out = sweep(&dir, &file, "a", &["--paths", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cells = read_frame(&dir.join("a/test_sweep/sweep.parquet")).unwrap();
    assert_eq!(cells.height(), 10);
    let prepay = f64s(&cells, "manufacturers.bitmain.strategy.prepay_share");
    assert!(prepay.iter().all(|p| (0.1..=0.9).contains(p)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Latin hypercube over a parameter the scenarios hold as a whole number draws whole numbers, one in each
/// stratum of the range, and labels its cells with them; a float parameter beside it keeps its float draws.
#[test]
fn a_latin_hypercube_over_a_whole_number_parameter_draws_whole_numbers() {
    let dir = temp_dir("sweep-lhs-whole");
    let file = write_sweep(
        &dir,
        "[latin_hypercube]\npoints = 3\n\n\
         [[latin_hypercube.ranges]]\nparameter = \"manufacturers.bitmain.strategy.delivery_months\"\nmin = 1\nmax = 36\n\n\
         [[latin_hypercube.ranges]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nmin = 0.1\nmax = 0.9\n",
    );
    let sweep = hashcycle::sweep::file::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let plan = hashcycle::sweep::plan::build(sweep, Some(1), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.cells.len(), 3);
    let mut strata = vec![];
    for cell in &plan.cells {
        let hashcycle::scenario::raw::Value::Int(months) = cell.values[0] else {
            panic!("cell {}: {:?} is not a whole number", cell.label, cell.values[0])
        };
        assert!((1..=36).contains(&months), "{}", cell.label);
        assert!(
            cell.label
                .starts_with(&format!("delivery_months={months}, prepay_share=0.")),
            "{}",
            cell.label
        );
        assert!(matches!(cell.values[1], hashcycle::scenario::raw::Value::Float(_)));
        // The 36 whole numbers in three strata of 12.
        strata.push((months - 1) / 12);
        for scenario in &plan.scenarios {
            let params = scenario.cell_params(cell).unwrap();
            let bitmain = params.manufacturers.iter().find(|m| m.name == "bitmain").unwrap();
            assert_eq!(i64::from(bitmain.strategy.delivery_months), months);
        }
    }
    strata.sort_unstable();
    assert_eq!(strata, vec![0, 1, 2], "one point in each stratum");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A value the sweep set that the scenario refuses is located at the line of the sweep file that names the
/// parameter, not at the top of the scenario file (which only holds the key).
#[test]
fn a_refused_sweep_value_is_located_in_the_sweep_file() {
    let dir = temp_dir("sweep-value-location");
    let file = write_sweep(
        &dir,
        "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.delivery_months\"\nvalues = [6, 2.5]\n",
    );
    let out = sweep(&dir, &file, "a", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "sweep.toml:9:13: `manufacturers[0].strategy.delivery_months` must be a whole number in [1, 36], found a float\n      9 | parameter = \"manufacturers.bitmain.strategy.delivery_months\""
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(":1:1:"), "{stderr}");
    assert!(!dir.join("a").exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The plan of a sweep file shipped with the project (path relative to the project), at one path per cell.
fn shipped_plan(relative_path: &str) -> hashcycle::sweep::plan::Plan {
    let file = project_dir().join(relative_path);
    let sweep = hashcycle::sweep::file::load(&file).unwrap_or_else(|e| panic!("{e}"));
    hashcycle::sweep::plan::build(sweep, Some(1), None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_shipped_reference_sweep_file_is_valid() {
    let plan = shipped_plan("scenarios/sweeps/futures_prepay.toml");
    assert_eq!(plan.cells.len(), 90);
    assert_eq!(plan.scenarios.len(), 3);
    assert!(
        plan.scenarios.iter().all(|s| s.reference_cell.is_some()),
        "the 80/50 cell is in the grid"
    );
}

#[test]
fn the_one_cell_sweep_for_the_memory_measurements_is_valid() {
    let plan = shipped_plan("benches/one_cell.toml");
    assert_eq!(plan.cells.len(), 1);
    assert_eq!(plan.scenarios.len(), 1);
}

/// Runs a sweep file that must be refused: exit status 1, the sweep file's line and column, no panic text,
/// nothing written.
fn assert_sweep_rejected(tag: &str, body: &str, expected: &[&str]) {
    let dir = temp_dir(tag);
    let file = write_sweep(&dir, body);
    let out = sweep(&dir, &file, "a", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{tag}: {stderr}");
    for needle in expected {
        assert!(stderr.contains(needle), "{tag}: `{needle}` missing from\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("a").exists(), "{tag}: something was written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_grid_with_too_many_cells_is_refused_before_any_cell_is_built() {
    // Three axes of 10,000 values: 10^12 cells, which would exhaust memory if they were built.
    let axis = |p: &str| {
        format!(
            "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.{p}\"\nfrom = 0\nto = 0.9999\nstep = 0.0001\n\n"
        )
    };
    let body = axis("futures_share") + &axis("prepay_share") + &axis("wafer_prepay_share");
    assert_sweep_rejected(
        "sweep-huge",
        &body,
        &[
            "sweep.toml:9:13",
            "make 1000000000000 strategy cells, more than the 1000000",
        ],
    );
}

#[test]
fn a_grid_range_too_wide_for_floats_is_refused_without_overflow() {
    assert_sweep_rejected(
        "sweep-overflow",
        "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nfrom = -1e308\nto = 1e308\nstep = 1e-300\n",
        &["sweep.toml:8:1", "would produce more than 10000 values"],
    );
}

#[test]
fn a_sweep_file_that_is_not_utf8_is_located() {
    let dir = temp_dir("sweep-utf8");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, b"[sweep]\nname = \"x\xC3(\"\n").unwrap();
    let out = sweep(&dir, &file, "a", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sweep.toml:2:10"), "{stderr}");
    assert!(stderr.contains("not UTF-8 text: byte 0xC3"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep file's own problems are reported as a sweep file's, not a scenario's.
#[test]
fn a_sweep_file_with_an_empty_axis_is_reported_as_an_invalid_sweep_file() {
    let dir = temp_dir("sweep-empty-axis");
    let file = write_sweep(
        &dir,
        "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = []\n",
    );
    let out = sweep(&dir, &file, "a", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: {} is not a valid sweep file: 1 problem\n",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("sweep.toml:10:10: `grid[0].values` must be a non-empty array"),
        "{stderr}"
    );
    assert!(!stderr.contains("valid scenario"), "{stderr}");
    assert!(!dir.join("a").exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a sweep whose design is `body` and checks it is refused before anything runs or is written, with
/// a message containing `expected`.
fn assert_design_refused(tag: &str, body: &str, expected: &str) {
    let dir = temp_dir(tag);
    let file = write_sweep(&dir, body);
    let out = sweep(&dir, &file, "a", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{tag}: {stderr}");
    assert!(stderr.contains(expected), "{tag}: {stderr}");
    assert!(stderr.contains("sweep.toml:"), "{tag}: located: {stderr}");
    assert!(!dir.join("a").exists(), "{tag}: nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defect 13: two grid axes on one parameter, and a Latin hypercube with no ranges, are refused
/// when the sweep file is read, not at write time.
#[test]
fn issue_30_a_parameter_swept_twice_or_a_hypercube_without_ranges_is_refused() {
    let axis = "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.1, 0.5]\n\n";
    assert_design_refused("sweep-twice", &format!("{axis}{axis}"), "is swept twice");
    assert_design_refused(
        "sweep-lhs-empty",
        "[latin_hypercube]\npoints = 4\n",
        "needs at least one [[latin_hypercube.ranges]]",
    );
}

/// Issue 30, defects 14 and 15: the simulation's start, horizon and path count cannot be swept (cells were
/// dated with the first cell's calendar, and sharded results differed from unsharded ones).
#[test]
fn issue_30_the_calendar_and_the_path_count_cannot_be_swept() {
    for (tag, parameter, values) in [
        ("sweep-start", "simulation.start_month", "[\"2025-01\", \"2026-01\"]"),
        ("sweep-horizon", "simulation.horizon_months", "[12, 24]"),
        ("sweep-paths", "simulation.paths", "[3, 7]"),
    ] {
        assert_design_refused(
            tag,
            &format!("[[grid]]\nparameter = \"{parameter}\"\nvalues = {values}\n"),
            "cannot be swept",
        );
    }
}
