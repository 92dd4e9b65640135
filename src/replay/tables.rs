//! The replay's files: `replay.parquet` (one row per month), `replay_manufacturers.parquet` (one row per
//! manufacturer and quarter), `replay_figures.parquet` (one row per filed figure, with the model beside it),
//! `replay.json` (provenance and fit by year) and `scenario.toml` (the scenario as run).

use std::path::Path;

use polars::prelude::*;
use serde_json::json;

use crate::output::OutputError;
use crate::output::parquet::write_frame;
use crate::replay::{Band, Fit, ReplayResult};
use hashcycle_model::params::Params;
use hashcycle_model::units::YearMonth;

fn date_column(name: &str, months: &[YearMonth]) -> PolarsResult<Column> {
    let days: Vec<i32> = months.iter().map(|m| m.days_since_unix_epoch()).collect();
    Column::new(name.into(), days).cast(&DataType::Date)
}

fn band_columns(stem: &str, band: &Band) -> Vec<Column> {
    vec![
        Column::new(format!("{stem}_p10").into(), band.p10.clone()),
        Column::new(format!("{stem}_p50").into(), band.p50.clone()),
        Column::new(format!("{stem}_p90").into(), band.p90.clone()),
    ]
}

/// Non-finite values are written as nulls.
fn nullable(name: &str, values: &[f64]) -> Column {
    let values: Vec<Option<f64>> = values.iter().map(|v| v.is_finite().then_some(*v)).collect();
    Column::new(name.into(), values)
}

/// One row per month.
pub fn monthly_frame(r: &ReplayResult) -> PolarsResult<DataFrame> {
    let in_sample: Vec<bool> = r.months.iter().map(|m| *m <= r.calibrate_until).collect();
    let mut columns = vec![
        date_column("month", &r.months)?,
        Column::new("in_sample".into(), in_sample),
        nullable("price_usd", &r.price_usd),
        Column::new("actual_hashrate_ehs".into(), r.actual_hashrate_ehs.clone()),
    ];
    columns.extend(band_columns("hashrate_ehs", &r.hashrate_ehs));
    columns.push(Column::new("actual_difficulty".into(), r.actual_difficulty.clone()));
    columns.extend(band_columns("difficulty", &r.difficulty));
    columns.extend(band_columns("new_usd_per_th", &r.new_usd_per_th));
    columns.extend(band_columns("used_usd_per_th", &r.used_usd_per_th));
    columns.push(nullable("listing_usd_per_th", &r.listing_usd_per_th));
    columns.push(Column::new(
        "listing_count".into(),
        r.listing_count.iter().map(|n| *n as u32).collect::<Vec<u32>>(),
    ));
    DataFrame::new_infer_height(columns)
}

/// One row per manufacturer and quarter.
pub fn manufacturers_frame(r: &ReplayResult) -> PolarsResult<DataFrame> {
    let mut quarter = vec![];
    let mut manufacturer = vec![];
    let mut in_sample = vec![];
    let mut bands: Vec<(&str, Band)> = [
        "units_sold",
        "hashrate_sold_ehs",
        "revenue_usd",
        "gross_margin_share",
        "customer_advances_usd",
        "inventory_value_usd",
    ]
    .into_iter()
    .map(|name| (name, Band::default()))
    .collect();
    for q in &r.quarters {
        for (k, first) in q.quarters.iter().enumerate() {
            quarter.push(*first);
            manufacturer.push(q.manufacturer.clone());
            in_sample.push(first.plus_months(2) <= r.calibrate_until);
            let of = [
                &q.units_sold,
                &q.hashrate_sold_ehs,
                &q.revenue_usd,
                &q.gross_margin_share,
                &q.customer_advances_usd,
                &q.inventory_value_usd,
            ];
            for ((_, band), source) in bands.iter_mut().zip(of) {
                band.p10.push(source.p10[k]);
                band.p50.push(source.p50[k]);
                band.p90.push(source.p90[k]);
            }
        }
    }
    let mut columns = vec![
        date_column("quarter", &quarter)?,
        Column::new("manufacturer".into(), manufacturer),
        Column::new("in_sample".into(), in_sample),
    ];
    for (name, band) in &bands {
        for (suffix, values) in [("p10", &band.p10), ("p50", &band.p50), ("p90", &band.p90)] {
            columns.push(nullable(&format!("{name}_{suffix}"), values));
        }
    }
    DataFrame::new_infer_height(columns)
}

/// One row per filed figure the model can be compared with.
pub fn figures_frame(r: &ReplayResult) -> PolarsResult<DataFrame> {
    let c = &r.checks;
    DataFrame::new_infer_height(vec![
        Column::new(
            "period".into(),
            c.iter().map(|x| x.figure.period_text.clone()).collect::<Vec<_>>(),
        ),
        date_column(
            "period_end",
            &c.iter().map(|x| x.figure.period.last).collect::<Vec<_>>(),
        )?,
        Column::new(
            "company".into(),
            c.iter().map(|x| x.figure.company.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "metric".into(),
            c.iter().map(|x| x.figure.metric.name()).collect::<Vec<_>>(),
        ),
        Column::new("in_sample".into(), c.iter().map(|x| x.in_sample).collect::<Vec<_>>()),
        Column::new("filed".into(), c.iter().map(|x| x.figure.value).collect::<Vec<_>>()),
        Column::new("model_p10".into(), c.iter().map(|x| x.model_p10).collect::<Vec<_>>()),
        Column::new("model_p50".into(), c.iter().map(|x| x.model_p50).collect::<Vec<_>>()),
        Column::new("model_p90".into(), c.iter().map(|x| x.model_p90).collect::<Vec<_>>()),
        Column::new(
            "source".into(),
            c.iter().map(|x| x.figure.source.clone()).collect::<Vec<_>>(),
        ),
    ])
}

fn fit_json(f: &Fit) -> serde_json::Value {
    let n = |x: f64| {
        if x.is_finite() {
            json!(x)
        } else {
            serde_json::Value::Null
        }
    };
    json!({
        "months": f.n_months,
        "median_abs_log_error": n(f.median_abs_log_error),
        "median_log_error": n(f.median_log_error),
        "coverage_p10_p90_share": n(f.coverage_share),
    })
}

/// The scripted events, labelled for charts.
fn event_labels(params: &Params) -> Vec<serde_json::Value> {
    params
        .events
        .iter()
        .map(|e| {
            let label = crate::batch::assumptions::event_label(params, &e.kind);
            json!({"month": e.at.to_string(), "kind": e.kind.as_str(), "label": label})
        })
        .collect()
}

/// Provenance and the fit by year.
pub fn replay_json(r: &ReplayResult) -> serde_json::Value {
    let fits: Vec<serde_json::Value> = r
        .fits
        .iter()
        .map(|f| {
            json!({
                "period": f.label,
                "in_sample": f.in_sample,
                "hashrate": fit_json(&f.hashrate),
                "difficulty": fit_json(&f.difficulty),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "command": "replay",
        "scenario_file": r.scenario.path.display().to_string(),
        "scenario_name": r.scenario.params.simulation.name,
        "sets": r.scenario.sets,
        "paths": r.n_paths,
        "seed": r.seed,
        "start_month": r.months.first().map(|m| m.to_string()),
        "end_month": r.months.last().map(|m| m.to_string()),
        "calibrate_until_month": r.calibrate_until.to_string(),
        "history_file": r.history_file.display().to_string(),
        "figures_file": r.figures_file.as_ref().map(|p| p.display().to_string()),
        "listings_file": r.listings_file.as_ref().map(|p| p.display().to_string()),
        "band": "p10-p90 across paths",
        "events": event_labels(&r.scenario.params),
        "fit": fits,
        "failed_paths": r.failures.iter().map(|f| json!({"path": f.path_idx, "month_idx": f.violation.month.0, "what": f.violation.what, "expected": f.violation.expected, "actual": f.violation.actual})).collect::<Vec<_>>(),
        "uncertainty": r.scenario.params.uncertainty.iter().map(|u| json!({"parameter": u.name, "min": u.min, "max": u.max, "places": u.targets.len()})).collect::<Vec<_>>(),
        "calibration": r.calibration.as_ref().map(|c| json!({
            "method": "approximate Bayesian computation by rejection",
            "distance": format!(
                "{} x mean |ln(hashrate / real)| + {} x mean |ln(EH/s sold / filed)| + {} x mean |gross margin - filed|, in-sample only",
                crate::replay::calibrate::WEIGHT_HASHRATE,
                crate::replay::calibrate::WEIGHT_HASHRATE_SOLD,
                crate::replay::calibrate::WEIGHT_GROSS_MARGIN
            ),
            "paths": c.n_paths,
            "accept_share": c.accept_share,
            "accepted": c.n_accepted,
            "in_sample_months": c.n_in_sample_months,
            "filed_figures": c.n_figures,
            "median_distance_prior": c.median_distance_prior,
            "median_distance_accepted": c.median_distance_accepted,
            "parameters": c.posteriors.iter().map(|p| json!({
                "parameter": p.prior.name,
                "prior_min": p.prior.min,
                "prior_max": p.prior.max,
                "p05": p.p05,
                "p50": p.p50,
                "p95": p.p95,
            })).collect::<Vec<_>>(),
        })),
        "wall_seconds": r.wall_seconds,
    })
}

/// Writes every table, `replay.json` and `scenario.toml` into `dir`.
pub fn write(dir: &Path, r: &ReplayResult) -> Result<(), OutputError> {
    for (file, frame) in [
        ("replay.parquet", monthly_frame(r)),
        ("replay_manufacturers.parquet", manufacturers_frame(r)),
        ("replay_figures.parquet", figures_frame(r)),
    ] {
        let path = dir.join(file);
        let frame = frame.map_err(|e| OutputError::polars(&path, e))?;
        write_frame(&path, &frame)?;
    }
    let json_path = dir.join("replay.json");
    let text = serde_json::to_string_pretty(&replay_json(r))
        .map_err(|e| OutputError::io(&json_path, std::io::Error::other(e)))?;
    std::fs::write(&json_path, text + "\n").map_err(|e| OutputError::io(&json_path, e))?;
    if let Some(c) = &r.calibration {
        let calibrated = dir.join("calibrated.toml");
        let text = crate::replay::calibrate::calibrated_toml(c, &r.scenario.path.display().to_string());
        std::fs::write(&calibrated, text).map_err(|e| OutputError::io(&calibrated, e))?;
    }
    let scenario_path = dir.join("scenario.toml");
    std::fs::write(&scenario_path, &r.scenario.text).map_err(|e| OutputError::io(&scenario_path, e))?;
    Ok(())
}
