//! Extreme but valid inputs must not overflow, divide by zero or produce NaN: a start price of a tenth of a
//! cent and of a billion dollars, a 600-month horizon, 100,000 paths, zero fees, regions with no hosting
//! capacity, and power shocks and tightenings every month. Each is simulated in-process on the base scenario (every row finite, no failed check) and run
//! through the binary on the small test scenario (exit status 0, every table complete and finite).

use std::path::PathBuf;

use hashcycle_model::params::Params;
use hashcycle_model::record::EventKind;

use crate::support::{
    assert_all_finite, assert_complete_run, assert_summary_finite, events_of, f, hashcycle, i, params_with, run_path,
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

#[test]
fn power_shocks_every_month_set_a_price_level_that_does_not_compound() {
    // A ×100 shock every month that never decays, for 200 months: each shock meets the one in force, so the
    // price stays at 100 times its base (times the mean-reverting deviation) instead of 100^200 times it.
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(200)),
            ("regions.russia.power_shock_hazard_per_month", f(1.0)),
            ("regions.russia.power_shock_factor", f(100.0)),
            ("regions.russia.power_shock_decay_per_month", f(0.0)),
        ],
    );
    assert_clean_paths(&params, 1);
    let russia_idx = params.regions.iter().position(|r| r.name == "russia").unwrap();
    let region = &params.regions[russia_idx];
    // The log deviation is kept within ±10; the base scenario has no AI load on Russian power.
    let ceiling_usd_per_kwh = region.power_price_base_usd_per_kwh * 100.0 * 10f64.exp();
    let (rows, _) = run_path(&params, 0);
    let prices: Vec<f64> = rows
        .regions
        .iter()
        .filter(|r| r.region_idx == russia_idx)
        .map(|r| r.power_price_usd_per_kwh)
        .collect();
    assert_eq!(prices.len(), 200);
    assert!(
        prices.iter().all(|&p| p <= ceiling_usd_per_kwh),
        "max {:?}",
        prices.iter().copied().fold(0.0, f64::max)
    );
    // Milder shocks that never decay, half the months over a century, stay at their factor too.
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(1200)),
            ("regions.russia.power_shock_hazard_per_month", f(0.5)),
            ("regions.russia.power_shock_factor", f(1.5)),
            ("regions.russia.power_shock_decay_per_month", f(0.0)),
        ],
    );
    let (rows, _) = run_path(&params, 0);
    assert_all_finite(&rows);
    let ceiling_usd_per_kwh = region.power_price_base_usd_per_kwh * 1.5 * 10f64.exp();
    assert!(
        rows.regions
            .iter()
            .filter(|r| r.region_idx == russia_idx)
            .all(|r| r.power_price_usd_per_kwh <= ceiling_usd_per_kwh)
    );
    let dir = assert_clean_cli(
        "power-shocks",
        &[(
            "power_price_base_usd_per_kwh = 0.050",
            "power_price_base_usd_per_kwh = 0.050\npower_shock_hazard_per_month = 1\npower_shock_factor = 100",
        )],
        &["--set", "simulation.horizon_months=200"],
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap().parent().unwrap());
}

#[test]
fn tightenings_every_month_stop_at_the_largest_opex_share() {
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(200)),
            ("regions.china.tightening_hazard_per_month", f(1.0)),
            ("regions.china.tightening_opex_increase_share", f(0.5)),
        ],
    );
    assert_clean_paths(&params, 1);
    let china_idx = params.regions.iter().position(|r| r.name == "china").unwrap();
    let (rows, _) = run_path(&params, 0);
    let shares: Vec<f64> = rows
        .regions
        .iter()
        .filter(|r| r.region_idx == china_idx)
        .map(|r| r.opex_share_of_power)
        .collect();
    assert_eq!(
        shares.last(),
        Some(&10.0),
        "twenty tightenings of 0.5 reach the maximum"
    );
    assert!(
        shares.iter().all(|&s| s <= 10.0),
        "max {:?}",
        shares.iter().copied().fold(0.0, f64::max)
    );
    // The tightenings' events say what each raised: their sum is the rise from the starting share.
    let raised: f64 = events_of(&rows, EventKind::Tightening).map(|e| e.value).sum();
    assert!(
        (params.regions[china_idx].opex_share_of_power + raised - 10.0).abs() < 1e-9,
        "{raised}"
    );
}
