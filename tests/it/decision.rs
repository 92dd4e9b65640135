//! Decision support: the cash waterfall of two strategies and the sensitivity analysis, end to end from the
//! command line.

use std::path::Path;

use polars::prelude::*;

use hashcycle::output::parquet::read_frame;
use hashcycle::sweep::data::SweepData;
use hashcycle::sweep::waterfall::{self, Request};

use crate::support::{hashcycle, project_dir, small_scenario, temp_dir};
use crate::sweep::{GRID_2X2, write_sweep};

fn f64s(df: &DataFrame, column: &str) -> Vec<f64> {
    df.column(column).unwrap().f64().unwrap().into_no_null_iter().collect()
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

fn run_sweep(dir: &Path) -> std::path::PathBuf {
    let file = write_sweep(dir, GRID_2X2);
    let out = dir.join("out");
    let args = [
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ];
    let output = hashcycle(&args, &project_dir());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    out.join("test_sweep")
}

#[test]
fn the_waterfall_parts_sum_to_the_difference_in_mean_ending_cash_on_a_real_sweep() {
    let dir = temp_dir("waterfall-sweep");
    let sweep_dir = run_sweep(&dir);
    // The default waterfall of each scenario is drawn with the sweep's charts and listed in its report.
    for scenario in ["base", "bear"] {
        assert!(sweep_dir.join(format!("charts/waterfall_{scenario}.png")).is_file());
        assert!(sweep_dir.join(format!("charts/waterfall_{scenario}.svg")).is_file());
    }
    let report = std::fs::read_to_string(sweep_dir.join("report.html")).unwrap();
    assert!(
        report.contains("Why the strategies' cash differs"),
        "report lists the waterfalls"
    );

    let mut data = SweepData::load(&sweep_dir).unwrap();
    // Loading keeps the paths of the cells the default waterfalls compare only: each scenario's reference
    // and its alternative.
    let defaults = data.default_waterfall_cells();
    assert_eq!(defaults.len(), 4);
    assert_eq!(data.flows.keys().cloned().collect::<Vec<_>>(), {
        let mut d = defaults.clone();
        d.sort();
        d
    });
    let every_cell: Vec<(String, u32)> = data.cells.iter().map(|c| (c.scenario.clone(), c.cell)).collect();
    data.read_flows_of(&sweep_dir, &every_cell).unwrap();
    assert_eq!(data.flows.len(), every_cell.len());
    let paths = read_frame(&sweep_dir.join("paths.parquet")).unwrap();
    let path_scenarios = strs(&paths, "scenario");
    let path_cells: Vec<i64> = paths
        .column("cell")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let path_end_cash = f64s(&paths, "end_cash_usd");
    for scenario in ["base", "bear"] {
        let cells: Vec<_> = data.cells_of(scenario).collect();
        for from in &cells {
            for to in cells.iter().filter(|c| c.cell != from.cell) {
                let w = waterfall::between(&data, from, to).unwrap();
                let sum: f64 = w.parts.iter().map(|l| l.difference_usd).sum();
                let scale: f64 = w
                    .parts
                    .iter()
                    .map(|l| l.from_mean_usd.abs() + l.to_mean_usd.abs())
                    .sum();
                assert!(
                    (sum - w.total.difference_usd).abs() <= 1e-6 * scale.max(1.0),
                    "{scenario} {} -> {}: parts {sum} vs total {}",
                    from.cell,
                    to.cell,
                    w.total.difference_usd
                );
                // The total is the difference of the two cells' mean ending cash in paths.parquet.
                let mean_end = |cell: u32| {
                    let v: Vec<f64> = (0..paths.height())
                        .filter(|&r| path_scenarios[r] == scenario && path_cells[r] == i64::from(cell))
                        .map(|r| path_end_cash[r])
                        .collect();
                    v.iter().sum::<f64>() / v.len() as f64
                };
                let expected = mean_end(to.cell) - mean_end(from.cell);
                assert!((w.total.difference_usd - expected).abs() <= 1e-6 * expected.abs().max(1.0));
                assert_eq!(w.n_paths, 12);
                assert!(w.parts.iter().all(|l| l.difference_se_usd.is_finite()));
            }
        }
    }
    // On the command line: any two cells, drawn beside the defaults, with the table printed.
    let out = hashcycle(
        &[
            "waterfall",
            sweep_dir.to_str().unwrap(),
            "--scenario",
            "bear",
            "--from",
            "0",
            "--to",
            "3",
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Difference in mean ending cash") && stdout.contains("Foundry prepayments on wafers"));
    assert!(sweep_dir.join("charts/waterfall_bear_cell0_vs_cell3.png").is_file());
    let svg = std::fs::read_to_string(sweep_dir.join("charts/waterfall_bear_cell0_vs_cell3.svg")).unwrap();
    assert!(svg.contains("<title>"), "the chart is titled");
    // The default pair: the reference against the safest efficient strategy.
    let request = Request {
        scenario: Some("base".to_string()),
        ..Request::default()
    };
    let (w, _) = waterfall::waterfall_command(&sweep_dir, &request).unwrap();
    assert!(w.from_is_reference);
    let alternative = waterfall::default_alternative(&data, "base", data.reference("base").unwrap()).unwrap();
    assert_eq!(w.to_cell, alternative.cell);
    // From any cell alone, the alternative is the safest efficient cell other than it, never itself.
    let request = Request {
        scenario: Some("base".to_string()),
        from_cell: Some(alternative.cell),
        to_cell: None,
    };
    let (w, _) = waterfall::waterfall_command(&sweep_dir, &request).unwrap();
    assert_eq!(w.from_cell, alternative.cell);
    assert_ne!(w.to_cell, alternative.cell);
}

#[test]
fn a_waterfall_of_cells_the_sweep_does_not_hold_is_refused_with_exit_status_1() {
    let dir = temp_dir("waterfall-bad");
    let sweep_dir = run_sweep(&dir);
    for (args, expected) in [
        (vec!["--scenario", "nowhere"], "no scenario `nowhere`"),
        (vec!["--from", "9"], "has no cell 9"),
        (vec!["--from", "1", "--to", "1"], "the same cell"),
    ] {
        let mut all = vec!["waterfall", sweep_dir.to_str().unwrap()];
        all.extend(args);
        let out = hashcycle(&all, &project_dir());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// The small scenario with three declared ranges: the starting cash pushes risk down, fixed costs push it up.
fn ranged_scenario(dir: &Path) -> std::path::PathBuf {
    let file = small_scenario(dir, "ranged.toml", &[("horizon_months = 12", "horizon_months = 36")]);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(
        "\n[[uncertainty]]\nparameter = \"manufacturers.*.strategy.target_payback_months\"\nmin = 6\nmax = 18\n\n\
         [[uncertainty]]\nparameter = \"segments.*.max_spend_share_per_month\"\nmin = 0.1\nmax = 0.5\n\n\
         [[uncertainty]]\nparameter = \"network.difficulty_foresight_share\"\nmin = 0\nmax = 1\n",
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn sensitivity_writes_a_tornado_and_a_morris_screening_with_standard_errors() {
    let dir = temp_dir("sensitivity");
    let file = ranged_scenario(&dir);
    let out_dir = dir.join("out");
    let out = hashcycle(
        &[
            "sensitivity",
            file.to_str().unwrap(),
            "--metric",
            "end-cash-usd-p50",
            "--paths",
            "16",
            "--trajectories",
            "3",
            "--out",
            out_dir.to_str().unwrap(),
            "--threads",
            "2",
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result = out_dir.join("small-sensitivity-end_cash_usd_p50");
    for file in [
        "sensitivity.parquet",
        "sensitivity.json",
        "report.html",
        "charts/tornado.png",
        "charts/tornado.svg",
    ] {
        assert!(result.join(file).is_file(), "{file} missing");
    }
    assert!(result.join("charts/morris.png").is_file());
    let table = read_frame(&result.join("sensitivity.parquet")).unwrap();
    assert_eq!(table.height(), 3, "one row per declared range");
    let swing = f64s(&table, "swing");
    assert!(
        swing.windows(2).all(|w| w[0].abs() >= w[1].abs()),
        "rows in tornado order: {swing:?}"
    );
    // The effects are paired differences of the metrics written beside them.
    let (low, high, base) = (
        f64s(&table, "metric_low"),
        f64s(&table, "metric_high"),
        f64s(&table, "metric_scenario"),
    );
    let (effect_low, effect_high) = (f64s(&table, "effect_low"), f64s(&table, "effect_high"));
    for k in 0..3 {
        assert!((effect_high[k] - (high[k] - base[k])).abs() <= 1e-6 * high[k].abs().max(1.0));
        assert!((effect_low[k] - (low[k] - base[k])).abs() <= 1e-6 * low[k].abs().max(1.0));
        assert!((swing[k] - (high[k] - low[k])).abs() <= 1e-6 * high[k].abs().max(1.0));
    }
    for column in [
        "swing_se",
        "effect_low_se",
        "effect_high_se",
        "morris_mu_star",
        "morris_mu_star_se",
        "morris_sigma",
    ] {
        assert!(
            f64s(&table, column).iter().all(|v| v.is_finite() && *v >= 0.0),
            "{column}"
        );
    }
    // The makers' payback target sets their prices: it must move their ending cash.
    let names = strs(&table, "parameter");
    let payback = names.iter().position(|n| n.contains("target_payback_months")).unwrap();
    assert!(swing[payback].abs() > 0.0);
    let svg = std::fs::read_to_string(result.join("charts/tornado.svg")).unwrap();
    assert!(
        svg.contains("<title>What moves median ending cash: scenario small</title>"),
        "{}",
        &svg[..300]
    );
    // `plot` draws the charts and report again from the files alone, byte for byte.
    let files = [
        "charts/tornado.png",
        "charts/tornado.svg",
        "charts/morris.svg",
        "report.html",
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(result.join(f)).unwrap()).collect();
    let out = hashcycle(&["plot", result.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (file, bytes) in files.iter().zip(&before) {
        assert!(
            std::fs::read(result.join(file)).unwrap() == *bytes,
            "{file} changed when redrawn"
        );
    }
    // The same request repeats exactly: common random numbers and a seeded design.
    let again = dir.join("again");
    let out = hashcycle(
        &[
            "sensitivity",
            file.to_str().unwrap(),
            "--metric",
            "end-cash-usd-p50",
            "--paths",
            "16",
            "--trajectories",
            "3",
            "--out",
            again.to_str().unwrap(),
            "--threads",
            "1",
        ],
        &project_dir(),
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(result.join("sensitivity.parquet")).unwrap(),
        std::fs::read(again.join("small-sensitivity-end_cash_usd_p50/sensitivity.parquet")).unwrap()
    );
}

/// One Morris trajectory has no spread and no standard error: the table holds nulls, and the report, the
/// chart and the console say n/a or leave the ± out, never NaN.
#[test]
fn sensitivity_with_one_trajectory_shows_no_sigma_and_no_nan() {
    let dir = temp_dir("sensitivity-one-trajectory");
    let file = ranged_scenario(&dir);
    let out_dir = dir.join("out");
    let out = hashcycle(
        &[
            "sensitivity",
            file.to_str().unwrap(),
            "--paths",
            "2",
            "--trajectories",
            "1",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NaN"));
    let result = out_dir.join("small-sensitivity-p_cash_below_zero");
    let table = read_frame(&result.join("sensitivity.parquet")).unwrap();
    for column in ["morris_sigma", "morris_mu_star_se"] {
        assert_eq!(table.column(column).unwrap().null_count(), table.height(), "{column}");
    }
    assert_eq!(table.column("morris_mu_star").unwrap().null_count(), 0);
    let html = std::fs::read_to_string(result.join("report.html")).unwrap();
    assert!(!html.contains("NaN"));
    assert!(html.contains("<td>n/a</td>"), "σ of one trajectory");
    let svg = std::fs::read_to_string(result.join("charts/morris.svg")).unwrap();
    assert!(!svg.contains("NaN"));
    assert!(svg.contains("σ n/a"));
}

#[test]
fn sensitivity_by_share_varies_every_documented_parameter_and_lists_what_it_leaves_out() {
    let dir = temp_dir("sensitivity-share");
    let file = small_scenario(&dir, "small.toml", &[]);
    let out_dir = dir.join("out");
    let out = hashcycle(
        &[
            "sensitivity",
            file.to_str().unwrap(),
            "--share",
            "0.3",
            "--paths",
            "4",
            "--trajectories",
            "0",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = read_frame(&out_dir.join("small-sensitivity-p_cash_below_zero/sensitivity.parquet")).unwrap();
    assert!(
        table.height() >= 30,
        "every documented behaviour parameter that is not zero: {}",
        table.height()
    );
    assert!(
        !out_dir
            .join("small-sensitivity-p_cash_below_zero/charts/morris.png")
            .exists(),
        "no trajectories, no screening"
    );
    // Each moves by ±30% of its own value, shares kept within [0, 1].
    let (low, mid, high) = (
        f64s(&table, "low_value"),
        f64s(&table, "scenario_value"),
        f64s(&table, "high_value"),
    );
    for k in (0..table.height()).filter(|&k| mid[k] >= 0.0) {
        assert!(low[k] <= mid[k] + 1e-12 && mid[k] <= high[k] + 1e-12, "row {k}");
        assert!((low[k] - 0.7 * mid[k]).abs() < 1e-9 * mid[k].abs().max(1.0) || low[k] == 0.0);
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("small-sensitivity-p_cash_below_zero/sensitivity.json")).unwrap(),
    )
    .unwrap();
    assert!(
        json["left_out"].as_array().is_some_and(|l| !l.is_empty()),
        "zero parameters are listed as left out"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("note: left out"), "{stderr}");
    // The small scenario has no key-account firms: one note says so, and no note reads as an internal error.
    assert_eq!(
        stderr.matches("note: left out key_account_firms").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("note: left out key_account_firms.*: the scenario has no key-account firms"),
        "{stderr}"
    );
    assert!(!stderr.contains("names no scenario parameter"), "{stderr}");
}

/// A parameter left out because an end breaks a rule says which rule and its valid range, not only that the
/// scenario is invalid; a table the scenario leaves at its defaults is varied like any other.
#[test]
fn sensitivity_notes_give_the_rule_an_end_breaks() {
    let scenario = hashcycle::scenario::Scenario::load(&project_dir().join("tests/data/small.toml")).unwrap();
    let (factors, left_out) = hashcycle::sensitivity::factors(&scenario, Some(0.5));
    let reason = |name: &str| {
        left_out
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.reason.clone())
            .unwrap_or_else(|| panic!("{name} is not left out: {left_out:?}"))
    };
    // 0.7 × 1.5 is above 1.
    let overhang = reason("relocation.overhang_persistence_per_month");
    assert!(
        overhang
            .starts_with("its high end makes an invalid scenario: `relocation.overhang_persistence_per_month` = 1.0")
            && overhang.ends_with(" is out of range: must be in [0, 1]"),
        "{overhang}"
    );
    assert!(
        left_out.iter().all(|l| !l.reason.contains("not a valid scenario")),
        "{left_out:?}"
    );
    // The small scenario states no [relocation]; its other parameters act at their defaults and are varied.
    assert!(
        factors.iter().any(|f| f.name == "relocation.cost_usd_per_unit"),
        "{:?}",
        factors.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    assert!(factors.iter().all(|f| !f.name.starts_with("key_account_firms")));
    assert_eq!(
        left_out
            .iter()
            .filter(|l| l.name.starts_with("key_account_firms"))
            .count(),
        1,
        "{left_out:?}"
    );
}

#[test]
fn sensitivity_refuses_an_unknown_manufacturer_and_writes_nothing() {
    let dir = temp_dir("sensitivity-bad");
    let file = small_scenario(&dir, "small.toml", &[]);
    let out_dir = dir.join("out");
    let out = hashcycle(
        &[
            "sensitivity",
            file.to_str().unwrap(),
            "--manufacturer",
            "nobody",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no such manufacturer") && stderr.contains("bitmain"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing written");
}

#[test]
fn the_frontier_draws_the_risk_and_return_the_sweep_file_chooses() {
    let dir = temp_dir("frontier-measures");
    let file = write_sweep(&dir, GRID_2X2);
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "focus_manufacturer = \"bitmain\"\n",
        "focus_manufacturer = \"bitmain\"\nfrontier_risk = \"min_cash_usd_cvar5\"\nfrontier_return = \"gross_margin_usd_p50\"\n",
    );
    std::fs::write(&file, &text).unwrap();
    let out = dir.join("out");
    let output = hashcycle(
        &["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &project_dir(),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let svg = std::fs::read_to_string(out.join("test_sweep/charts/frontier_bear.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let labels: Vec<&str> = doc.descendants().filter_map(|n| n.attribute("aria-label")).collect();
    assert!(
        labels.iter().any(|l| l.starts_with("CVaR-5% of minimum cash")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("Median gross margin")),
        "{labels:?}"
    );
    // The efficient set treats a higher CVaR of minimum cash as safer: no efficient cell is dominated.
    let data = SweepData::load(&out.join("test_sweep")).unwrap();
    let measures = hashcycle::sweep::frontier::Measures::of(&data);
    let cells: Vec<_> = data.cells_of("bear").collect();
    let points: Vec<(f64, f64)> = cells.iter().map(|c| measures.as_risk(measures.point(c))).collect();
    for &i in &hashcycle::sweep::frontier::efficient_set(&points) {
        let p = points[i];
        assert!(
            !points
                .iter()
                .any(|q| q.0 <= p.0 && q.1 >= p.1 && (q.0 < p.0 || q.1 > p.1))
        );
        assert_eq!(measures.point(cells[i]).0, cells[i].min_cash_usd_cvar5);
    }
    // A measure the frontier does not know is refused at its line and column.
    std::fs::write(&file, text.replace("\"min_cash_usd_cvar5\"", "\"volatility\"")).unwrap();
    let output = hashcycle(
        &["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &project_dir(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("sweep.toml:7:") && stderr.contains("min_cash_usd_cvar5"),
        "{stderr}"
    );
}
