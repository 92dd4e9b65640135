//! Provenance written beside results: what produced them (scenario text, seed, paths, version, time).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::output::OutputError;
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
