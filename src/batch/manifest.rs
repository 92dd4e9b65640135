//! `run.json`, a run's manifest: what produced the results (scenario, seed, paths, version, time), the paths
//! stopped by a failed check, and each manufacturer's strategy. One typed struct, written by the run and read
//! back by its charts and report, so the two cannot drift apart and nothing re-parses the scenario text.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::output::OutputError;
use crate::output::charts::data::{read_json_as, tidy_path};
use crate::output::charts::format;
use crate::output::provenance::{FailedPath, failed_paths, write_json};
use crate::scenario::Scenario;
use hashcycle_model::params::Params;
use hashcycle_model::record::PathFailure;

/// The tables a run writes, in `run.json`'s `tables`.
pub const WRITTEN_TABLES: [&str; 7] = [
    "network.parquet",
    "miners.parquet",
    "manufacturers.parquet",
    "dealers.parquet",
    "regions.parquet",
    "events.parquet",
    "summary.parquet",
];

/// `run.json`. Fields are in alphabetical order, the order the file has always had. Every field has a default
/// when read, so a manifest written before a field existed still reads (`manufacturers` came later: a run
/// without it is drawn without strategies).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunManifest {
    pub command: String,
    /// The files the scenario extends (`extends`), nearest first, with their texts.
    pub extended_files: Vec<ExtendedFile>,
    pub failed_paths: Vec<FailedPath>,
    pub horizon_months: u32,
    /// Each manufacturer and its strategy, in the scenario's order.
    pub manufacturers: Vec<ManufacturerEntry>,
    /// The `--set key.path=value` overrides applied after the file, in order.
    pub overrides: Vec<String>,
    pub paths: u32,
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    pub scenario_name: String,
    pub scenario_text: String,
    pub seed: u64,
    pub start_month: String,
    pub started_at_utc: String,
    pub tables: Vec<String>,
    pub threads: Option<usize>,
    pub tool: String,
    pub version: String,
    pub wall_seconds: f64,
    /// The scenario's `description`, heading its report.
    #[serde(default)]
    pub description: String,
    /// The assumptions table, generated from the parameters.
    #[serde(default)]
    pub assumptions: Vec<crate::batch::assumptions::Assumption>,
    /// How well the model matches history: the shipped replay's fit (`data/replay_fit.json`) when this run draws
    /// exactly the behaviour ranges that fit was measured with; absent otherwise (and in older manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_fit: Option<HistoryFit>,
}

/// The shipped replay's fit, as a run's report shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryFit {
    /// The replay command and scenario that measured it.
    pub measured_by: String,
    pub calibrate_until_month: String,
    pub paths: u64,
    /// One row per year, then `in_sample` and `out_of_sample`.
    pub rows: Vec<HistoryFitRow>,
    /// Uncertain parameters this run states in some of the places the replay drew them (by `--set`, a sweep
    /// axis or a file extending the scenario): the fit describes the model with them drawn.
    #[serde(default)]
    pub stated_here: Vec<String>,
}

/// One period's hashrate fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryFitRow {
    pub period: String,
    pub in_sample: bool,
    pub median_abs_log_error: Option<f64>,
    pub median_log_error: Option<f64>,
    pub coverage_p10_p90_share: Option<f64>,
}

/// The fit of `hashcycle replay` on the shipped replay scenario, recorded when base.toml took its calibration.
const SHIPPED_REPLAY_FIT: &str = include_str!("../../data/replay_fit.json");

/// The shipped replay's fit, when `params` draws exactly the ranges it was measured with.
pub fn history_fit_for(params: &Params) -> Option<HistoryFit> {
    let record: serde_json::Value = serde_json::from_str(SHIPPED_REPLAY_FIT).ok()?;
    let declared = record.get("uncertainty")?.as_array()?;
    // An entry every place of which a run states is dropped from its draws, so compare by name.
    let find = |name: &str| {
        declared
            .iter()
            .find(|d| d.get("parameter").and_then(|v| v.as_str()) == Some(name))
    };
    let same = params.uncertainty.iter().all(|u| {
        find(&u.name).is_some_and(|d| {
            d.get("min").and_then(|v| v.as_f64()) == Some(u.min) && d.get("max").and_then(|v| v.as_f64()) == Some(u.max)
        })
    });
    let stated_here: Vec<String> = declared
        .iter()
        .filter_map(|d| {
            let name = d.get("parameter")?.as_str()?;
            let drawn = params
                .uncertainty
                .iter()
                .find(|u| u.name == name)
                .map_or(0, |u| u.targets.len());
            (drawn < places_in(name, params)).then(|| name.to_string())
        })
        .collect();
    if !same || params.uncertainty.is_empty() {
        return None;
    }
    let rows = record
        .get("fit")?
        .as_array()?
        .iter()
        .map(|row| {
            let hashrate = row.get("hashrate");
            let get = |k: &str| hashrate.and_then(|h| h.get(k)).and_then(|v| v.as_f64());
            HistoryFitRow {
                period: row.get("period").and_then(|v| v.as_str()).unwrap_or("").to_string(),
                in_sample: row.get("in_sample").and_then(|v| v.as_bool()).unwrap_or(false),
                median_abs_log_error: get("median_abs_log_error"),
                median_log_error: get("median_log_error"),
                coverage_p10_p90_share: get("coverage_p10_p90_share"),
            }
        })
        .collect();
    Some(HistoryFit {
        measured_by: format!(
            "hashcycle replay {} ({} paths, seed {})",
            record.get("scenario_file")?.as_str()?,
            record.get("paths")?.as_u64()?,
            record.get("seed")?.as_u64()?
        ),
        calibrate_until_month: record.get("calibrate_until_month")?.as_str()?.to_string(),
        paths: record.get("paths")?.as_u64()?,
        rows,
        stated_here,
    })
}

/// How many places an `[[uncertainty]]` name sets in a scenario with `params`' tables: every entry of its
/// array for a `*`, else one.
fn places_in(name: &str, params: &Params) -> usize {
    let mut parts = name.split('.');
    match (parts.next(), parts.next()) {
        (Some("segments"), Some("*")) => params.segments.len(),
        (Some("manufacturers"), Some("*")) => params.manufacturers.len(),
        (Some("regions"), Some("*")) => params.regions.len(),
        _ => 1,
    }
}

/// A scenario file a run's scenario extends, as it was read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedFile {
    /// The file's name as `extends` resolved it.
    pub file: String,
    pub text: String,
}

/// A manufacturer of the run and the strategy its charts describe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManufacturerEntry {
    pub name: String,
    pub strategy: StrategyEntry,
}

/// The strategy terms the charts and report show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategyEntry {
    pub delivery_months: u32,
    pub futures_share: f64,
    pub prepay_share: f64,
}

impl StrategyEntry {
    /// `80% futures over 6 monthly batches, 50% prepayment`.
    pub fn describe(&self) -> String {
        format!(
            "{} futures over {} monthly batches, {} prepayment",
            format::pct(self.futures_share),
            self.delivery_months,
            format::pct(self.prepay_share)
        )
    }
}

impl RunManifest {
    /// The manifest of a finished run of `scenario` with `params` (the scenario's, with command-line overrides).
    pub fn new(
        scenario: &Scenario,
        params: &Params,
        started_at_utc: &str,
        wall_seconds: f64,
        threads: Option<usize>,
        failures: &[PathFailure],
    ) -> RunManifest {
        RunManifest {
            command: "run".to_string(),
            extended_files: scenario
                .sources
                .iter()
                .skip(1)
                .filter(|s| s.file != "--set")
                .map(|s| ExtendedFile {
                    file: s.file.clone(),
                    text: s.text.clone(),
                })
                .collect(),
            failed_paths: failed_paths(failures, params.simulation.start),
            horizon_months: params.simulation.horizon_months,
            manufacturers: params
                .manufacturers
                .iter()
                .map(|m| ManufacturerEntry {
                    name: m.name.clone(),
                    strategy: StrategyEntry {
                        delivery_months: m.strategy.delivery_months,
                        futures_share: m.strategy.futures_share,
                        prepay_share: m.strategy.prepay_share,
                    },
                })
                .collect(),
            overrides: scenario.sets.clone(),
            paths: params.simulation.n_paths,
            scenario_file: scenario.path.display().to_string(),
            scenario_name: params.simulation.name.clone(),
            scenario_text: scenario.text.clone(),
            seed: params.simulation.seed,
            start_month: params.simulation.start.to_string(),
            started_at_utc: started_at_utc.to_string(),
            tables: WRITTEN_TABLES
                .iter()
                .map(|t| t.to_string())
                .chain((!params.uncertainty.is_empty()).then(|| "parameters.parquet".to_string()))
                .collect(),
            threads,
            tool: "hashcycle".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            wall_seconds,
            history_fit: history_fit_for(params),
            description: params.simulation.description.clone(),
            assumptions: crate::batch::assumptions::assumptions(params),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), OutputError> {
        write_json(path, self)
    }

    /// Reads `dir/run.json`; a missing or unreadable file is an `OutputError::Missing` naming it.
    pub fn read(dir: &Path) -> Result<RunManifest, OutputError> {
        read_json_as(dir, "run.json")
    }

    /// The scenario file as provenance shows it, with `dir/..` and `.` steps collapsed.
    pub fn shown_scenario_file(&self) -> String {
        tidy_path(&self.scenario_file)
    }

    pub fn n_failed_paths(&self) -> usize {
        self.failed_paths.len()
    }

    /// A manufacturer's strategy, if the manifest names it.
    pub fn strategy(&self, manufacturer: &str) -> Option<&StrategyEntry> {
        self.manufacturers
            .iter()
            .find(|m| m.name == manufacturer)
            .map(|m| &m.strategy)
    }

    /// The source line printed under every chart. No timestamp, so charts stay reproducible.
    pub fn source_line(&self) -> String {
        let mut s = format!(
            "Source: hashcycle {} simulation of {} · {} path{} · seed {} · quantiles across paths, month by month",
            self.version,
            self.shown_scenario_file(),
            format::grouped(self.paths as f64, 0),
            if self.paths == 1 { "" } else { "s" },
            self.seed
        );
        if self.n_failed_paths() > 0 {
            s.push_str(&format!(
                " · {} path(s) stopped by a failed check",
                self.n_failed_paths()
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> RunManifest {
        RunManifest {
            scenario_name: "t".into(),
            scenario_file: "scenarios/sweeps/../t.toml".into(),
            scenario_text: "# A test\n# scenario\n\n[simulation]\n".into(),
            paths: 1,
            seed: 1,
            manufacturers: vec![ManufacturerEntry {
                name: "a".into(),
                strategy: StrategyEntry {
                    delivery_months: 6,
                    futures_share: 0.8,
                    prepay_share: 0.5,
                },
            }],
            failed_paths: vec![FailedPath::default()],
            ..RunManifest::default()
        }
    }

    #[test]
    fn a_manifest_reads_back_what_was_written() {
        let dir = std::env::temp_dir().join(format!("hashcycle-unit-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = manifest();
        written.write(&dir.join("run.json")).unwrap();
        assert_eq!(RunManifest::read(&dir).unwrap(), written);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn strategies_come_from_the_manifest() {
        let m = manifest();
        let s = m.strategy("a").unwrap();
        assert_eq!(s.describe(), "80% futures over 6 monthly batches, 50% prepayment");
        assert!(m.strategy("b").is_none());
        assert_eq!(m.shown_scenario_file(), "scenarios/t.toml");
        assert!(
            m.source_line().ends_with("1 path(s) stopped by a failed check"),
            "{}",
            m.source_line()
        );
    }

    #[test]
    fn a_manifest_without_manufacturers_still_reads() {
        let m: RunManifest = serde_json::from_str(r#"{"command": "run", "paths": 3, "seed": 2}"#).unwrap();
        assert_eq!((m.paths, m.seed), (3, 2));
        assert!(m.manufacturers.is_empty());
    }
}
