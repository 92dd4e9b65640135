//! Provenance written beside results: what produced them (scenario text, seed, paths, version, time).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::output::OutputError;
use hashcycle_model::record::PathFailure;
use hashcycle_model::units::YearMonth;

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    // chrono is already compiled for polars (its clock feature included), so the calendar is not redone here.
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A path stopped by a failed check, as provenance files list it. Fields in alphabetical order, the order
/// these files have always had.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailedPath {
    pub actual: f64,
    pub expected: f64,
    /// The calendar month, `YYYY-MM`.
    pub month: String,
    pub month_idx: u32,
    pub path: u32,
    pub what: String,
}

/// The failed paths of a run whose first month is `start`.
pub fn failed_paths(failures: &[PathFailure], start: YearMonth) -> Vec<FailedPath> {
    failures
        .iter()
        .map(|f| FailedPath {
            actual: f.violation.actual,
            expected: f.violation.expected,
            month: start.plus_months(f.violation.month.0 as i64).to_string(),
            month_idx: f.violation.month.0,
            path: f.path_idx,
            what: f.violation.what.clone(),
        })
        .collect()
}

/// `failed_paths` as a JSON value, for provenance built with `json!`.
pub fn failures_json(failures: &[PathFailure], start: YearMonth) -> serde_json::Value {
    serde_json::to_value(failed_paths(failures, start)).unwrap_or_default()
}

/// Writes `value` as pretty-printed JSON with a final newline, whole or not at all.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), OutputError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| OutputError::io(path, std::io::Error::other(e)))?;
    crate::output::dir::write_atomic(path, (text + "\n").as_bytes())
}
