//! The backtest's table (`backtest.parquet`, one row per month) and its provenance (`backtest.json`).

use std::path::Path;

use polars::prelude::*;
use serde_json::json;

use crate::backtest::simulate::FitMetrics;
use crate::backtest::template::Template;
use crate::backtest::{BacktestOptions, BacktestResult};
use crate::output::OutputError;

/// The columns of `backtest.parquet`, in order.
pub const COLUMNS: [&str; 16] = [
    "month",
    "in_sample",
    "price_usd",
    "actual_hashrate_ehs",
    "simulated_hashrate_ehs_p5",
    "simulated_hashrate_ehs_p50",
    "simulated_hashrate_ehs_p95",
    "actual_difficulty",
    "simulated_difficulty_p5",
    "simulated_difficulty_p50",
    "simulated_difficulty_p95",
    "baseline_hashrate_ehs",
    "baseline_hashrate_ehs_p5",
    "baseline_hashrate_ehs_p95",
    "baseline_trend_hashrate_ehs",
    "halving_month",
];

/// One row per month of the window.
pub fn backtest_frame(r: &BacktestResult) -> PolarsResult<DataFrame> {
    let n = r.months.len();
    let days: Vec<i32> = r.months.iter().map(|m| m.days_since_unix_epoch()).collect();
    let in_sample: Vec<bool> = r.months.iter().map(|m| *m <= r.window.calibrate_until).collect();
    let halving: Vec<bool> = r
        .months
        .iter()
        .map(|m| r.halvings.iter().any(|h| h.actual_month == *m))
        .collect();
    let trend = r.baseline_trend.as_ref().map_or_else(
        || vec![None; n],
        |t| t.hashrate_ehs.p50.iter().copied().map(Some).collect(),
    );
    let f = |name: &str, values: &[f64]| Column::new(name.into(), values.to_vec());
    DataFrame::new_infer_height(vec![
        Column::new(COLUMNS[0].into(), days).cast(&DataType::Date)?,
        Column::new(COLUMNS[1].into(), in_sample),
        f(COLUMNS[2], &r.price_usd),
        f(COLUMNS[3], &r.actual_hashrate_ehs),
        f(COLUMNS[4], &r.hashrate_ehs.p5),
        f(COLUMNS[5], &r.hashrate_ehs.p50),
        f(COLUMNS[6], &r.hashrate_ehs.p95),
        f(COLUMNS[7], &r.actual_difficulty),
        f(COLUMNS[8], &r.difficulty.p5),
        f(COLUMNS[9], &r.difficulty.p50),
        f(COLUMNS[10], &r.difficulty.p95),
        f(COLUMNS[11], &r.baseline_hashrate_ehs.p50),
        f(COLUMNS[12], &r.baseline_hashrate_ehs.p5),
        f(COLUMNS[13], &r.baseline_hashrate_ehs.p95),
        Column::new(COLUMNS[14].into(), trend),
        Column::new(COLUMNS[15].into(), halving),
    ])
}

fn metrics_json(m: &FitMetrics) -> serde_json::Value {
    // JSON has no NaN: serde_json writes an empty period's metrics (NaN) as null.
    json!({
        "months": m.n_months,
        "median_abs_log_error": m.median_abs_log_error,
        "mean_abs_log_error": m.mean_abs_log_error,
        "share_inside_p5_p95": m.coverage_share,
    })
}

/// Provenance and results: the command, template, window, hardware, fitted values, baseline and metrics.
pub fn write_backtest_json(
    path: &Path,
    template: &Template,
    r: &BacktestResult,
    options: &BacktestOptions,
) -> Result<(), OutputError> {
    let generations: Vec<serde_json::Value> = r
        .hardware
        .generations
        .iter()
        .map(|g| {
            json!({
                "name": g.name,
                "release_month": g.release.to_string(),
                "hashrate_ths": g.hashrate_ths,
                "power_w": g.power_w,
                "efficiency_jth": g.efficiency_jth(),
                "nameplate": g.nameplate,
                "price_new_usd": template.settings.price_usd_per_w * g.power_w,
            })
        })
        .collect();
    let fleet: Vec<serde_json::Value> = r
        .hardware
        .fleet
        .iter()
        .map(|(g, share)| json!({"generation": r.hardware.generations[*g].name, "hashrate_share": share}))
        .collect();
    let parameters: Vec<serde_json::Value> = template
        .settings
        .calibration
        .parameters
        .iter()
        .zip(&r.parameter_values)
        .enumerate()
        .map(|(k, (p, value))| {
            json!({
                "name": p.name,
                "paths": p.paths,
                "min": p.min,
                "max": p.max,
                "value": value,
                "template_value": r.calibration.as_ref().map(|c| c.start_values[k]),
            })
        })
        .collect();
    let baseline = |fit: &crate::backtest::baseline::BaselineFit| {
        json!({
            "lag_months": fit.lag_months,
            "intercept": fit.intercept,
            "elasticity": fit.elasticity,
            "trend_log_per_month": fit.trend_log_per_month,
            "residual_p5": fit.residual_log_p5,
            "residual_p95": fit.residual_log_p95,
        })
    };
    let value = json!({
        "tool": "hashcycle",
        "version": env!("CARGO_PKG_VERSION"),
        "command": if options.calibrate { "calibrate" } else { "backtest" },
        "template_file": template.path.display().to_string(),
        "template_text": template.text,
        "history_file": template.settings.history_file.display().to_string(),
        "asic_models_file": template.settings.asic_models_file.display().to_string(),
        "from_month": r.window.from.to_string(),
        "to_month": r.window.to.to_string(),
        "calibrate_until_month": r.window.calibrate_until.to_string(),
        "paths": r.n_paths,
        "seed": r.seed,
        "threads": options.threads,
        "wall_seconds": r.wall_seconds,
        "generations": generations,
        "start_fleet": fleet,
        "parameters": parameters,
        "calibration": r.calibration.as_ref().map(|c| json!({
            "objective": template.settings.calibration.objective.as_str(),
            "paths": template.settings.calibration.n_paths,
            "seed": template.settings.calibration.seed,
            "grid_points_per_parameter": template.settings.calibration.grid_points_per_parameter,
            "max_evaluations": template.settings.calibration.max_evaluations,
            "evaluations": c.n_evaluations,
            "in_sample_months": c.n_in_sample_months,
            "objective_at_template_values": c.start_objective,
            "objective_at_fitted_values": c.objective,
            "wall_seconds": c.wall_seconds,
        })),
        "metrics": {
            "model": {"in_sample": metrics_json(&r.model_in_sample), "out_of_sample": metrics_json(&r.model_out_of_sample)},
            "baseline": {"in_sample": metrics_json(&r.baseline_in_sample), "out_of_sample": metrics_json(&r.baseline_out_of_sample)},
            "baseline_trend": {
                "in_sample": r.baseline_trend.as_ref().map(|t| metrics_json(&t.in_sample)),
                "out_of_sample": r.baseline_trend.as_ref().map(|t| metrics_json(&t.out_of_sample)),
            },
        },
        "baseline": baseline(&r.baseline),
        "baseline_trend": r.baseline_trend.as_ref().map(|t| baseline(&t.fit)),
        "halvings": r.halvings.iter().map(|h| json!({
            "height": h.block_height,
            "actual_month": h.actual_month.to_string(),
            "simulated_months": h.simulated_months.iter().map(|(m, n)| json!({"month": m.to_string(), "paths": n})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "failed_paths": crate::output::provenance::failures_json(&r.failures, r.window.from),
        "tables": ["backtest.parquet"],
    });
    crate::output::provenance::write_json(path, &value)
}
