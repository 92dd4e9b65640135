//! Backtest and calibration: short windows run with finite metrics, the shipped template beats the
//! baseline out of sample with halvings in their real months, calibration recovers parameters the model
//! itself generated the data with, and the baseline recovers a known lag.

use std::path::Path;

use hashcycle::backtest::baseline;
use hashcycle::backtest::calibrate::calibrate;
use hashcycle::backtest::simulate::{Band, simulate};
use hashcycle::backtest::template::{Template, Window};
use hashcycle::backtest::{self, BacktestResult};
use hashcycle::output::parquet::read_frame;
use hashcycle_model::units::YearMonth;

use crate::support::{hashcycle, project_dir, scenario_path, temp_dir};

fn ym(text: &str) -> YearMonth {
    YearMonth::parse(text).unwrap()
}

fn template() -> Template {
    Template::load(&scenario_path("backtest")).unwrap()
}

fn window(from: &str, to: &str, calibrate_until: &str) -> Window {
    Window {
        from: ym(from),
        to: ym(to),
        calibrate_until: ym(calibrate_until),
    }
}

fn assert_metrics_finite(result: &BacktestResult) {
    for (who, m) in [
        ("model in-sample", result.model_in_sample),
        ("model out-of-sample", result.model_out_of_sample),
        ("baseline in-sample", result.baseline_in_sample),
        ("baseline out-of-sample", result.baseline_out_of_sample),
    ] {
        assert!(m.n_months > 0, "{who}: no months");
        assert!(m.median_abs_log_error.is_finite(), "{who}: {m:?}");
        assert!(m.mean_abs_log_error.is_finite(), "{who}: {m:?}");
        assert!((0.0..=1.0).contains(&m.coverage_share), "{who}: {m:?}");
    }
}

#[test]
fn backtest_over_a_short_window_runs_and_its_metrics_are_finite() {
    let template = template();
    let w = window("2019-01", "2021-06", "2020-06");
    let result = backtest::compute(&template, w, Some(4), None, false).unwrap();
    assert_eq!(result.months.len(), 30);
    assert_eq!(result.hashrate_ehs.p50.len(), 30);
    assert_eq!(result.model_in_sample.n_months, 18);
    assert_eq!(result.model_out_of_sample.n_months, 12);
    assert_metrics_finite(&result);
    assert!(result.failures.is_empty(), "{:?}", result.failures);
    for m in 0..30 {
        let (p5, p50, p95) = (
            result.hashrate_ehs.p5[m],
            result.hashrate_ehs.p50[m],
            result.hashrate_ehs.p95[m],
        );
        assert!(
            p5.is_finite() && p5 > 0.0 && p5 <= p50 && p50 <= p95,
            "month {m}: {p5} {p50} {p95}"
        );
        assert!(result.difficulty.p50[m] > 0.0);
    }
    // The 2020-05 halving falls inside the window; every path has it in its real month.
    assert_eq!(result.halvings.len(), 1);
    assert_eq!(result.halvings[0].actual_month, ym("2020-05"));
    assert!(result.halvings[0].all_paths_on_time(4), "{:?}", result.halvings);
}

/// Out-of-sample (2021-01 on) the shipped template's median |log error| must stay below the baseline's, and
/// every halving must land in the month it really happened. Four paths are enough: the paths differ only
/// by power-price noise, so the median moves little between path counts.
#[test]
fn shipped_template_beats_the_baseline_out_of_sample_and_halves_on_time() {
    let template = template();
    let result = backtest::compute(&template, template.default_window(), Some(4), None, false).unwrap();
    assert_metrics_finite(&result);
    assert!(
        result.model_out_of_sample.median_abs_log_error < result.baseline_out_of_sample.median_abs_log_error,
        "model {:?} vs baseline {:?}",
        result.model_out_of_sample,
        result.baseline_out_of_sample
    );
    let actual: Vec<YearMonth> = result.halvings.iter().map(|h| h.actual_month).collect();
    assert_eq!(actual, vec![ym("2016-07"), ym("2020-05"), ym("2024-04")]);
    for h in &result.halvings {
        assert!(h.all_paths_on_time(4), "{h:?}");
    }
}

/// The tolerance of a recovered parameter, as a share of its search range: the synthetic history is the
/// median of paths with another seed than the calibration's, so an exact recovery is not expected.
const RECOVERY_TOLERANCE_SHARE_OF_RANGE: f64 = 0.05;

#[test]
fn calibration_recovers_parameters_of_a_history_the_model_generated() {
    let mut template = template();
    let names = ["growth_cap_share_per_month", "power_price_usd_per_kwh"];
    let settings = &mut template.settings.calibration;
    settings.parameters.retain(|p| names.contains(&p.name.as_str()));
    assert_eq!(settings.parameters.len(), 2);
    settings.n_paths = 8;
    settings.grid_points_per_parameter = 4;
    settings.max_evaluations = 80;
    let (from, until) = (ym("2016-01"), ym("2018-12"));
    let n_months = until.months_since(from) as usize + 1;
    // Known parameters, away from the template's values and from the bounds.
    let known = [0.16, 0.065];
    let (scenario, _) = template.scenario(from, until, Some(&known)).unwrap();
    let mut params = scenario.params;
    params.simulation.seed = 99;
    let paths = simulate(&params, 8);
    let synthetic = Band::across(&paths, n_months, |p| &p.hashrate_ehs).p50;
    let report = calibrate(&template, from, &synthetic).unwrap();
    eprintln!(
        "known {known:?}, fitted {:?}, objective {}",
        report.values, report.objective
    );
    for ((parameter, fitted), truth) in template
        .settings
        .calibration
        .parameters
        .iter()
        .zip(&report.values)
        .zip(known)
    {
        let tolerance = RECOVERY_TOLERANCE_SHARE_OF_RANGE * (parameter.max - parameter.min);
        assert!(
            (fitted - truth).abs() <= tolerance,
            "{}: fitted {fitted}, true {truth}, tolerance {tolerance} ({report:?})",
            parameter.name
        );
    }
    assert!(report.objective <= report.start_objective);
}

#[test]
fn calibration_never_sees_out_of_sample_months() {
    let mut template = template();
    let settings = &mut template.settings.calibration;
    settings.parameters.truncate(2);
    settings.n_paths = 2;
    settings.grid_points_per_parameter = 0;
    settings.max_evaluations = 12;
    let w = window("2019-01", "2020-12", "2019-12");
    let first = backtest::compute(&template, w, Some(2), None, true).unwrap();
    // Double every month of history after the in-sample period: the fitted values must not move.
    let mut altered = template.clone();
    for record in altered
        .history
        .records
        .iter_mut()
        .filter(|r| r.month > w.calibrate_until)
    {
        record.hashrate_ehs *= 2.0;
    }
    let second = backtest::compute(&altered, w, Some(2), None, true).unwrap();
    assert_eq!(first.parameter_values, second.parameter_values);
    assert_eq!(
        first.calibration.as_ref().unwrap().objective,
        second.calibration.as_ref().unwrap().objective
    );
    assert_ne!(first.model_out_of_sample, second.model_out_of_sample);
}

/// log H_t = 1.5 + 0.8 log P_{t-3}, exactly: the fit picks lag 3 and recovers the coefficients.
#[test]
fn baseline_fit_recovers_a_known_lag_and_elasticity() {
    let n = 80;
    let log_price: Vec<f64> = (0..n)
        .map(|t| {
            let t = t as f64;
            8.0 + 0.02 * t + 0.6 * (t / 5.0).sin() + 0.3 * (t / 2.3).cos()
        })
        .collect();
    let mut log_hashrate = vec![f64::NAN; n];
    for t in 3..n {
        log_hashrate[t] = 1.5 + 0.8 * log_price[t - 3];
    }
    // Fit on months 20..=59 only; the later months must not matter.
    for value in log_hashrate.iter_mut().skip(60) {
        *value += 5.0;
    }
    let fit = baseline::fit(&log_hashrate, &log_price, 20, 59, 12, false).unwrap();
    assert_eq!(fit.lag_months, 3);
    assert!((fit.elasticity - 0.8).abs() < 1e-9, "{fit:?}");
    assert!((fit.intercept - 1.5).abs() < 1e-9, "{fit:?}");
    assert!(fit.sse < 1e-15, "{fit:?}");
    assert!((fit.predict_log(&log_price, 70) - (1.5 + 0.8 * log_price[67])).abs() < 1e-9);
}

/// Runs `backtest` or `calibrate` over [from, to, calibrate-until] with `paths` paths into `dir`; it must
/// succeed. Returns what it printed.
fn run_window_command(command: &str, [from, to, calibrate_until]: [&str; 3], paths: &str, dir: &Path) -> String {
    let out = hashcycle(
        &[
            command,
            "--from",
            from,
            "--to",
            to,
            "--calibrate-until",
            calibrate_until,
            "--paths",
            paths,
            "--out",
            dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn backtest_command_writes_the_table_and_chart_and_prints_the_metrics() {
    let dir = temp_dir("backtest-cli");
    let stdout = run_window_command("backtest", ["2019-06", "2020-12", "2020-03"], "4", &dir);
    assert!(stdout.contains("median |log(sim/act)|"), "{stdout}");
    assert!(
        stdout.contains("halving at height 630000: real 2020-05, simulated 2020-05 (4 paths)"),
        "{stdout}"
    );
    let frame = read_frame(&dir.join("backtest/backtest.parquet")).unwrap();
    assert_eq!(frame.height(), 19);
    for column in [
        "month",
        "actual_hashrate_ehs",
        "simulated_hashrate_ehs_p5",
        "simulated_hashrate_ehs_p50",
        "simulated_hashrate_ehs_p95",
        "actual_difficulty",
        "simulated_difficulty_p5",
        "simulated_difficulty_p50",
        "simulated_difficulty_p95",
        "baseline_hashrate_ehs",
    ] {
        assert!(frame.column(column).is_ok(), "no column {column}");
    }
    let chart = dir.join("backtest/charts/backtest_hashrate.png");
    let drawn = std::fs::read(&chart).unwrap();
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("backtest/backtest.json")).unwrap()).unwrap();
    assert_eq!(info["failed_paths"], serde_json::json!([]));
    assert!(info["baseline_trend"]["trend_log_per_month"].is_f64(), "{info}");
    assert!(
        info["metrics"]["baseline_trend"]["in_sample"]["median_abs_log_error"].is_f64(),
        "{info}"
    );
    // The chart credits the history file the backtest read, with the shipped file's sources.
    let svg = std::fs::read_to_string(dir.join("backtest/charts/backtest_hashrate.svg")).unwrap();
    assert!(
        svg.contains("real hashrate: data/btc_monthly.csv (Coin Metrics, blockchain.com)"),
        "source line"
    );
    // `plot` redraws the chart from the files alone, byte for byte.
    std::fs::remove_file(&chart).unwrap();
    let out = hashcycle(&["plot", dir.join("backtest").to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&chart).unwrap(), drawn);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn calibrate_command_writes_a_template_with_the_fitted_values_that_loads_again() {
    let dir = temp_dir("calibrate-cli");
    let stdout = run_window_command("calibrate", ["2019-01", "2019-12", "2019-06"], "2", &dir);
    assert!(stdout.contains("calibration:"), "{stdout}");
    let calibrated = dir.join("backtest/calibrated.toml");
    let text = std::fs::read_to_string(&calibrated).unwrap();
    assert!(text.starts_with("# Calibrated by `hashcycle calibrate --from 2019-01 --calibrate-until 2019-06`"));
    // Its data paths are relative to scenarios/, so load it from there.
    let reloaded = Template::from_text(&text, "calibrated.toml", &project_dir().join("scenarios")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("backtest/backtest.json")).unwrap()).unwrap();
    let fitted: Vec<f64> = json["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    for (written, fitted) in reloaded.fitted_values().iter().zip(&fitted) {
        // Written with four significant digits.
        assert!(
            (written - fitted).abs() <= 1e-3 * fitted.abs().max(1.0),
            "{written} vs {fitted}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_windows_are_refused_with_exit_status_1_and_nothing_written() {
    let dir = temp_dir("backtest-bad");
    for args in [
        vec!["--from", "2030-01"],
        vec!["--to", "2015-01"],
        vec!["--from", "2009-01"],
        vec!["--from", "2012-01", "--to", "2016-12"],
        vec!["--from", "2021-01", "--calibrate-until", "2020-12"],
        vec!["--from", "2021-13"],
        vec!["--scenario", "scenarios/base.toml"],
    ] {
        let mut all = vec!["backtest", "--out", dir.to_str().unwrap()];
        all.extend(&args);
        let out = hashcycle(&all, &project_dir());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(args[1]),
            "{args:?}: the message names the bad month: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!dir.join("backtest").exists(), "{args:?} wrote output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A window with fewer in-sample months than the baseline fits on is refused before anything runs, with the
/// number of months needed and the month the in-sample months must reach.
#[test]
fn a_window_too_short_for_the_baseline_says_how_many_months_it_needs() {
    let dir = temp_dir("backtest-short");
    let out = hashcycle(
        &[
            "backtest",
            "--from",
            "2016-01",
            "--to",
            "2016-01",
            "--paths",
            "4",
            "--out",
            dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: the window has 1 in-sample month (2016-01 to 2016-01), and the baseline needs at least 2 to fit its \
         level and price elasticity: end the in-sample months (--calibrate-until, and --to) at 2016-02 or later\n"
    );
    assert!(!dir.join("backtest").exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `backtest` without `--scenario` finds the project's template from any working directory, and its data
/// files with it.
#[test]
fn issue_31_backtest_runs_from_any_directory() {
    let dir = temp_dir("backtest-elsewhere");
    let out = hashcycle(
        &[
            "backtest", "--from", "2019-01", "--to", "2020-06", "--paths", "4", "--out", "results",
        ],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(dir.join("results/backtest/backtest.parquet").is_file(), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
