//! Extreme but valid inputs must not overflow, divide by zero or produce NaN: a start price of a tenth of a
//! cent and of a billion dollars, a 600-month horizon, 100,000 paths, zero fees, and regions with no hosting
//! capacity. Each is simulated in-process on the base scenario (every row finite, no failed check) and run
//! through the binary on the small test scenario (exit status 0, every table complete and finite).

use std::path::PathBuf;

use hashcycle_model::params::Params;

use crate::support::{
    assert_all_finite, assert_complete_run, assert_summary_finite, f, hashcycle, i, params_with, run_path,
    small_scenario, temp_dir,
};

/// Paths simulated in-process per case.
const PATHS: u32 = 3;

/// Simulates `n_paths` paths: none may fail a check (`run_path` asserts it), every row and summary is finite.
fn assert_clean_paths(params: &Params, n_paths: u32) {
    for path_idx in 0..n_paths {
        let (rows, summary) = run_path(params, path_idx);
        assert_eq!(
            rows.network.len() as u32,
            params.simulation.horizon_months,
            "path {path_idx}"
        );
        assert_all_finite(&rows);
        assert_summary_finite(&summary);
    }
}

/// Runs the binary on the small scenario changed by `replacements`; it must exit 0 and write complete,
/// finite tables. Returns the results directory.
fn assert_clean_cli(tag: &str, replacements: &[(&str, &str)], args: &[&str]) -> PathBuf {
    let dir = temp_dir(tag);
    let file = small_scenario(&dir, "extreme.toml", replacements);
    let mut all_args = vec!["run", file.to_str().unwrap(), "--out", "out"];
    all_args.extend_from_slice(args);
    let out = hashcycle(&all_args, &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{tag}: stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let results = dir.join("out/small");
    assert_complete_run(&results);
    results
}

#[test]
fn a_start_price_of_a_tenth_of_a_cent_runs_clean() {
    let params = params_with("base", &[("price.start_price_usd", f(1e-3))]);
    assert_clean_paths(&params, PATHS);
    let dir = assert_clean_cli(
        "price-low",
        &[("start_price_usd = 93429.20", "start_price_usd = 1e-3")],
        &[],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn a_start_price_of_a_billion_dollars_runs_clean() {
    let params = params_with("base", &[("price.start_price_usd", f(1e9))]);
    assert_clean_paths(&params, PATHS);
    let dir = assert_clean_cli(
        "price-high",
        &[("start_price_usd = 93429.20", "start_price_usd = 1e9")],
        &[],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn a_600_month_horizon_runs_clean() {
    let params = params_with("base", &[("simulation.horizon_months", i(600))]);
    assert_clean_paths(&params, 1);
    let dir = assert_clean_cli(
        "horizon-600",
        &[("horizon_months = 12", "horizon_months = 600")],
        &["--paths", "2"],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn a_hundred_thousand_paths_run_clean() {
    // A one-month horizon keeps the work small; the point is the path count through batching, tables and charts.
    let dir = assert_clean_cli(
        "paths-100k",
        &[("horizon_months = 12", "horizon_months = 1")],
        &["--paths", "100000"],
    );
    let summary = hashcycle::output::parquet::read_frame(&dir.join("summary.parquet")).unwrap();
    assert_eq!(summary.height(), 2 * 100_000, "one row per path and manufacturer");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn zero_fees_run_clean() {
    let params = params_with(
        "base",
        &[
            ("fees.bull_mean_btc_per_block", f(0.0)),
            ("fees.bear_mean_btc_per_block", f(0.0)),
        ],
    );
    assert_clean_paths(&params, PATHS);
    let (rows, _) = run_path(&params, 0);
    assert!(rows.network.iter().all(|r| r.fees_btc == 0.0), "no fees are paid");
    let dir = assert_clean_cli(
        "zero-fees",
        &[
            ("bull_mean_btc_per_block = 0.09", "bull_mean_btc_per_block = 0"),
            ("bear_mean_btc_per_block = 0.035", "bear_mean_btc_per_block = 0"),
        ],
        &[],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn a_region_with_zero_hosting_capacity_runs_clean() {
    let params = params_with("base", &[("regions.us.hosting_capacity_mw", f(0.0))]);
    assert_clean_paths(&params, PATHS);
    // Every region full from the start: new machines find no site anywhere.
    let keys: Vec<String> = ["us", "china", "russia", "canada_nordics", "other"]
        .iter()
        .map(|r| format!("regions.{r}.hosting_capacity_mw"))
        .collect();
    let everywhere: Vec<(&str, hashcycle::scenario::raw::Value)> = keys.iter().map(|k| (k.as_str(), f(0.0))).collect();
    assert_clean_paths(&params_with("base", &everywhere), PATHS);
    let dir = assert_clean_cli(
        "zero-capacity",
        &[("hosting_capacity_mw = 20000", "hosting_capacity_mw = 0")],
        &[],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}
