//! Provenance written beside results: what produced them (scenario text, seed, paths, version, time).

use std::path::Path;

use serde_json::json;

use crate::output::OutputError;
use crate::scenario::Scenario;
use hashcycle_model::params::Params;
use hashcycle_model::record::PathFailure;
use hashcycle_model::units::YearMonth;

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The failed paths of a run whose first month is `start`, for `run.json`.
pub fn failures_json(failures: &[PathFailure], start: YearMonth) -> serde_json::Value {
    failures
        .iter()
        .map(|f| {
            json!({
                "path": f.path_idx,
                "month_idx": f.violation.month.0,
                "month": start.plus_months(f.violation.month.0 as i64).to_string(),
                "what": f.violation.what,
                "expected": f.violation.expected,
                "actual": f.violation.actual,
            })
        })
        .collect()
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), OutputError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| OutputError::io(path, std::io::Error::other(e)))?;
    crate::output::dir::write_atomic(path, (text + "\n").as_bytes())
}

pub fn write_run_json(
    path: &Path,
    scenario: &Scenario,
    params: &Params,
    started_at: &str,
    wall_seconds: f64,
    threads: Option<usize>,
    failures: &[PathFailure],
) -> Result<(), OutputError> {
    let value = json!({
        "tool": "hashcycle",
        "version": env!("CARGO_PKG_VERSION"),
        "command": "run",
        "scenario_name": params.simulation.name,
        "scenario_file": scenario.path.display().to_string(),
        "scenario_text": scenario.text,
        "start_month": params.simulation.start.to_string(),
        "horizon_months": params.simulation.horizon_months,
        "paths": params.simulation.n_paths,
        "seed": params.simulation.seed,
        "threads": threads,
        "started_at_utc": started_at,
        "wall_seconds": wall_seconds,
        "tables": ["network.parquet", "miners.parquet", "manufacturers.parquet", "dealers.parquet", "regions.parquet", "events.parquet", "summary.parquet"],
        "failed_paths": failures_json(failures, params.simulation.start),
    });
    write_json(path, &value)
}
