//! Running many paths: rayon over path indices in fixed-size chunks, results gathered in path order and
//! streamed to Parquet chunk by chunk, so output is identical for any thread count and memory stays bounded.

pub mod assumptions;
pub mod charts;
pub mod data;
pub mod manifest;
pub mod report;
pub mod tables;
pub mod workbook;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::batch::manifest::RunManifest;
use crate::batch::tables::{RunColumns, RunTable};
use crate::output::OutputError;
use crate::output::dir::StagedDir;
use crate::output::parquet::TableFile;
use crate::output::tables::{Calendar, Names};
use crate::scenario::Scenario;
use hashcycle_model::engine::simulate_path;
use hashcycle_model::params::Params;
use hashcycle_model::record::{PathFailure, PathSummary, Sink, Violation};
use hashcycle_model::units::Month;

/// Paths simulated per chunk. Fixed, so that row groups (and so file bytes) do not depend on thread count.
pub const PATHS_PER_CHUNK: usize = 128;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub n_paths: Option<u32>,
    pub seed: Option<u64>,
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    pub progress: bool,
}

#[derive(Debug)]
pub struct RunReport {
    pub dir: PathBuf,
    pub n_paths: u32,
    pub wall_seconds: f64,
    pub failures: Vec<PathFailure>,
    /// Problems that did not stop the results from being published (see `StagedDir::commit`).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The thread pool could not start. Fatal.
    #[error(transparent)]
    Threads(#[from] ThreadsError),
    /// Results could not be written; nothing was committed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A sweep cell's parameters, validated before any path ran, could not be built again when the cell was
    /// run (a data file it reads changed or was removed since). Fatal; nothing was committed.
    #[error("{0}")]
    Cell(String),
}

/// Applies command-line overrides to a scenario's parameters.
pub fn with_overrides(params: &Params, n_paths: Option<u32>, seed: Option<u64>) -> Params {
    let mut params = params.clone();
    if let Some(n) = n_paths {
        params.simulation.n_paths = n.max(1);
    }
    if let Some(s) = seed {
        params.simulation.seed = s;
    }
    params
}

/// The worker threads could not start. Fatal.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {threads} worker threads: {message}")]
pub struct ThreadsError {
    pub threads: usize,
    pub message: String,
}

pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ThreadsError> {
    let n = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| ThreadsError {
            threads: n,
            message: e.to_string(),
        })
}

/// How one path is simulated. The engine is the only implementation outside tests; the tests of this
/// module and of sweeps substitute one that corrupts a path's state on purpose, so that the reporting of a
/// failed check can be exercised end to end without a switch in the shipped tool that breaks the model.
pub(crate) trait PathSimulator: Sync {
    fn simulate<S: Sink>(&self, params: &Params, path_idx: u32, sink: &mut S) -> PathSummary;
}

/// The model's engine, `hashcycle_model::engine::simulate_path`.
pub(crate) struct Engine;

impl PathSimulator for Engine {
    fn simulate<S: Sink>(&self, params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
        simulate_path(params, path_idx, sink)
    }
}

/// Runs one path, turning a panic inside the model into a failure of that path alone.
pub fn simulate_path_guarded<S: Sink>(params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
    simulate_guarded(&Engine, params, path_idx, sink)
}

/// `simulate_path_guarded` with any simulator.
pub(crate) fn simulate_guarded<P: PathSimulator, S: Sink>(
    simulator: &P,
    params: &Params,
    path_idx: u32,
    sink: &mut S,
) -> PathSummary {
    match catch_unwind(AssertUnwindSafe(|| simulator.simulate(params, path_idx, sink))) {
        Ok(summary) => summary,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            PathSummary {
                path_idx,
                violation: Some(Violation {
                    month: Month(0),
                    what: format!("the model panicked: {message}"),
                    expected: 0.0,
                    actual: 0.0,
                }),
                ..PathSummary::default()
            }
        }
    }
}

/// Progress of a command over its paths: a bar on a terminal; elsewhere (a batch job's log) a plain line on
/// stderr at every tenth of the work, so a Slurm log shows how far a long run is.
pub struct Progress {
    bar: indicatif::ProgressBar,
    lines: Option<ProgressLines>,
}

/// The plain progress lines written when stderr is not a terminal.
struct ProgressLines {
    what: String,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    start: std::time::Instant,
}

impl Progress {
    /// Counts `n` more paths done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if let Some(lines) = &self.lines {
            use std::sync::atomic::Ordering;
            let before = lines.done.fetch_add(n, Ordering::Relaxed);
            let after = before + n;
            // A line each time the count crosses a tenth of the total (paths finish in any order on any thread,
            // but each tenth is crossed by exactly one increment).
            let tenth = |k: u64| k.saturating_mul(10) / lines.total.max(1);
            if tenth(after) > tenth(before) && after < lines.total {
                eprintln!(
                    "{}: {} of {} paths ({}%), {:.0} s elapsed",
                    lines.what,
                    after,
                    lines.total,
                    after * 100 / lines.total.max(1),
                    lines.start.elapsed().as_secs_f64()
                );
            }
        }
    }

    /// Ends the progress: the bar is cleared; in a log a last line says the paths are done.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
        if let Some(lines) = &self.lines {
            eprintln!(
                "{}: {} paths simulated in {:.1} s",
                lines.what,
                lines.total,
                lines.start.elapsed().as_secs_f64()
            );
        }
    }
}

pub fn progress_bar(total: u64, enabled: bool, what: &str) -> Progress {
    use std::io::IsTerminal;
    if !enabled {
        return Progress {
            bar: indicatif::ProgressBar::hidden(),
            lines: None,
        };
    }
    if !std::io::stderr().is_terminal() {
        return Progress {
            bar: indicatif::ProgressBar::hidden(),
            lines: Some(ProgressLines {
                what: what.to_string(),
                total,
                done: std::sync::atomic::AtomicU64::new(0),
                start: std::time::Instant::now(),
            }),
        };
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{what} [{{bar:40}}] {{pos}}/{{len}} paths, {{elapsed_precise}} elapsed, ETA {{eta}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    Progress { bar, lines: None }
}

/// Runs every path of a scenario and writes `out_dir/<name>/` with the run tables and `run.json`.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, RunError> {
    run_with(scenario, options, &Engine)
}

/// `run` with any path simulator.
pub(crate) fn run_with<P: PathSimulator>(
    scenario: &Scenario,
    options: &RunOptions,
    simulator: &P,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = crate::output::provenance::utc_now();
    let params = with_overrides(&scenario.params, options.n_paths, options.seed);
    let n_paths = params.simulation.n_paths;
    let pool = thread_pool(options.threads)?;
    let staged = StagedDir::create(&options.out_dir, &params.simulation.name)?;
    let dir = staged.path().to_path_buf();
    let names = Names::new(&params);
    let calendar = Calendar::new(&params, 0);
    let mut files = RunFiles::create(&dir)?;
    let bar = progress_bar(
        n_paths as u64,
        options.progress,
        &format!("run {}", params.simulation.name),
    );
    // Every table streams chunk by chunk; only the failed paths are kept, so memory does not grow with paths.
    let summary_path = dir.join("summary.parquet");
    let mut summary_file = TableFile::create(&summary_path)?;
    let parameters_path = dir.join("parameters.parquet");
    let mut parameters_file = if params.uncertainty.is_empty() {
        None
    } else {
        Some(TableFile::create(&parameters_path)?)
    };
    let mut failures: Vec<PathFailure> = vec![];
    let mut chunk_columns = RunColumns::default();
    let mut chunk_start = 0;
    while chunk_start < n_paths {
        let chunk_end = n_paths.min(chunk_start.saturating_add(PATHS_PER_CHUNK as u32));
        let results: Vec<(RunColumns, PathSummary)> = pool.install(|| {
            (chunk_start..chunk_end)
                .into_par_iter()
                .map(|path_idx| {
                    let mut columns = RunColumns::default();
                    let summary = simulate_guarded(simulator, &params, path_idx, &mut columns);
                    columns.push_violation(&summary);
                    bar.inc(1);
                    (columns, summary)
                })
                .collect()
        });
        chunk_columns.clear();
        let mut summaries = Vec::with_capacity(results.len());
        for (mut columns, summary) in results {
            chunk_columns.append(&mut columns);
            if let Some(violation) = &summary.violation {
                failures.push(PathFailure {
                    path_idx: summary.path_idx,
                    violation: violation.clone(),
                });
            }
            summaries.push(summary);
        }
        files.write(&chunk_columns, &names, &calendar)?;
        summary_file.write(
            &tables::summary_frame(&summaries, &names, &calendar).map_err(|e| OutputError::polars(&summary_path, e))?,
        )?;
        if let Some(file) = parameters_file.as_mut() {
            file.write(
                &tables::parameters_frame(&params, chunk_start..chunk_end, &names)
                    .map_err(|e| OutputError::polars(&parameters_path, e))?,
            )?;
        }
        chunk_start = chunk_end;
    }
    bar.finish_and_clear();
    files.finish(&names, &calendar)?;
    summary_file.finish(|| tables::summary_frame(&[], &names, &calendar))?;
    if let Some(file) = parameters_file {
        file.finish(|| tables::parameters_frame(&params, 0..0, &names))?;
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    RunManifest::new(scenario, &params, &started_at, wall_seconds, options.threads, &failures)
        .write(&dir.join("run.json"))?;
    // Charts and the report are drawn from the files just written, in the staging directory, so a run that
    // fails to draw them commits nothing.
    let data = crate::batch::data::RunData::load(&dir)?;
    crate::batch::charts::render_run_data(&dir, &data)?;
    crate::batch::report::run_report(&dir, &data)?;
    crate::batch::workbook::write_run_workbook(&dir, &data)?;
    let published = staged.commit()?;
    Ok(RunReport {
        dir: published.dir,
        n_paths,
        wall_seconds,
        failures,
        warnings: published.warnings,
    })
}

/// The streamed monthly run tables, one file each.
struct RunFiles {
    files: Vec<(RunTable, PathBuf, TableFile)>,
}

impl RunFiles {
    fn create(dir: &Path) -> Result<RunFiles, OutputError> {
        let mut files = vec![];
        for table in RunTable::ALL {
            let path = dir.join(format!("{}.parquet", table.name()));
            let file = TableFile::create(&path)?;
            files.push((table, path, file));
        }
        Ok(RunFiles { files })
    }

    fn write(&mut self, c: &RunColumns, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        for (table, path, file) in &mut self.files {
            file.write(&c.frame(*table, names, cal).map_err(|e| OutputError::polars(path, e))?)?;
        }
        Ok(())
    }

    fn finish(self, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        let empty = RunColumns::default();
        for (table, _, file) in self.files {
            file.finish(|| empty.frame(table, names, cal))?;
        }
        Ok(())
    }
}

/// A simulator for tests that slips machines nobody produced into the first manufacturer's stock before one
/// month of one path: a deliberately inconsistent state, which the engine's own conservation checks must
/// catch at the end of that month. Every other path runs the engine unchanged.
#[cfg(test)]
pub(crate) struct SmuggleStock {
    pub path_idx: u32,
    pub month: u32,
    pub units: u64,
    /// Only cells whose parameters pass this test are corrupted (sweeps); `None` means every run.
    pub only_if: Option<fn(&Params) -> bool>,
}

#[cfg(test)]
impl PathSimulator for SmuggleStock {
    fn simulate<S: Sink>(&self, params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
        if path_idx != self.path_idx || self.only_if.is_some_and(|f| !f(params)) {
            return Engine.simulate(params, path_idx, sink);
        }
        let mut world = hashcycle_model::world::World::new(params, path_idx);
        let mut violation = None;
        for month in 0..params.simulation.horizon_months {
            if month == self.month {
                hashcycle_model::fixtures::smuggle_stock(&mut world, 0, 0, self.units);
            }
            if let Err(v) = world.step(sink) {
                violation = Some(v);
                break;
            }
        }
        world.summary(violation)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::cli::{Failure, run_outcome};
    use crate::output::parquet::read_frame;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hashcycle-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The base scenario cut to `horizon_months` (later generations are simply never released).
    fn base_scenario(horizon_months: u32) -> Scenario {
        let mut scenario = crate::scenario::shipped_base();
        scenario.params.simulation.horizon_months = horizon_months;
        scenario
    }

    fn u32s(df: &DataFrame, column: &str) -> Vec<u32> {
        // Files hold every integer as i64.
        let column = df.column(column).unwrap().strict_cast(&DataType::UInt32).unwrap();
        column.u32().unwrap().into_no_null_iter().collect()
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

    #[test]
    fn a_failed_check_stops_its_path_only_and_is_reported_and_recorded() {
        const HORIZON_MONTHS: u32 = 6;
        const N_PATHS: u32 = 5;
        const BAD_PATH: u32 = 3;
        const BAD_MONTH: u32 = 2;
        const SMUGGLED_UNITS: u64 = 7;
        let scenario = base_scenario(HORIZON_MONTHS);
        let out_dir = temp_dir("violation-run");
        let options = RunOptions {
            n_paths: Some(N_PATHS),
            seed: None,
            out_dir: out_dir.clone(),
            threads: Some(2),
            progress: false,
        };
        let simulator = SmuggleStock {
            path_idx: BAD_PATH,
            month: BAD_MONTH,
            units: SMUGGLED_UNITS,
            only_if: None,
        };
        let report = run_with(&scenario, &options, &simulator).unwrap();

        // The engine's check found it, in the month it happened, naming the manufacturer and the quantities.
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let failure = &report.failures[0];
        assert_eq!(failure.path_idx, BAD_PATH);
        assert_eq!(failure.violation.month, Month(BAD_MONTH));
        assert!(
            failure.violation.what.contains("manufacturer bitmain"),
            "{:?}",
            failure.violation
        );
        assert!(failure.violation.what.contains("machines"), "{:?}", failure.violation);
        assert_eq!(
            failure.violation.actual - failure.violation.expected,
            SMUGGLED_UNITS as f64,
            "the quantities that disagree differ by the smuggled units"
        );

        // The other paths completed and every path's months up to its end were written.
        let dir = out_dir.join("base");
        assert_eq!(report.dir, dir);
        let network = read_frame(&dir.join("network.parquet")).unwrap();
        let paths = u32s(&network, "path");
        for path_idx in 0..N_PATHS {
            let n_rows = paths.iter().filter(|&&p| p == path_idx).count() as u32;
            let expected = if path_idx == BAD_PATH {
                BAD_MONTH + 1
            } else {
                HORIZON_MONTHS
            };
            assert_eq!(n_rows, expected, "network rows of path {path_idx}");
        }
        let summary = read_frame(&dir.join("summary.parquet")).unwrap();
        let failed: Vec<bool> = summary
            .column("failed_check")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        let summary_paths = u32s(&summary, "path");
        for (path_idx, failed) in summary_paths.iter().zip(&failed) {
            assert_eq!(*failed, *path_idx == BAD_PATH, "failed_check of path {path_idx}");
        }

        // events.parquet records the failure with its path, month and the disagreement.
        let events = read_frame(&dir.join("events.parquet")).unwrap();
        let kinds = strs(&events, "kind");
        let rows: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i] == "invariant_violation")
            .collect();
        assert_eq!(rows.len(), 1);
        let row = rows[0];
        assert_eq!(u32s(&events, "path")[row], BAD_PATH);
        let month = events.column("month").unwrap().cast(&DataType::String).unwrap();
        assert_eq!(month.str().unwrap().get(row), Some("2025-03-01"));
        let detail = &strs(&events, "detail")[row];
        assert!(detail.contains("manufacturer bitmain"), "{detail}");
        assert!(
            detail.contains(&format!("expected {}", failure.violation.expected)),
            "{detail}"
        );

        // run.json lists it with its calendar month.
        let run_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
        let listed = run_json["failed_paths"].as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["path"], BAD_PATH);
        assert_eq!(listed[0]["month"], "2025-03");

        // What the command line prints, and its exit status.
        let outcome = run_outcome("base", scenario.params.simulation.start, &report.failures);
        let Err(failure @ Failure::Runtime(_)) = outcome else {
            panic!("a failed check must be a runtime failure")
        };
        assert_eq!(failure.exit_status(), 2);
        let message = failure.message();
        for needle in [
            "1 path(s) stopped by a failed check",
            "scenario base, path 3, month 2025-03",
            "manufacturer bitmain",
            &format!(
                "(expected {}, actual {})",
                report.failures[0].violation.expected, report.failures[0].violation.actual
            ),
            "events.parquet",
        ] {
            assert!(message.contains(needle), "`{needle}` missing from\n{message}");
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }

    #[test]
    fn issue_30_a_one_month_runs_chunks_are_gathered_into_few_row_groups() {
        // A one-month run wrote a row group per 128-path chunk to every table, and the encoder kept each one's
        // metadata to the end: about 4.4 KB a path, 1.78 GB at 400,000 paths.
        const N_PATHS: u32 = 1_000;
        let scenario = base_scenario(1);
        let out_dir = temp_dir("row-groups-run");
        let options = RunOptions {
            n_paths: Some(N_PATHS),
            seed: None,
            out_dir: out_dir.clone(),
            threads: Some(2),
            progress: false,
        };
        run_with(&scenario, &options, &Engine).unwrap();
        let dir = out_dir.join("base");
        for table in ["network", "manufacturers", "dealers", "summary"] {
            let path = dir.join(format!("{table}.parquet"));
            let mut file = std::fs::File::open(&path).unwrap();
            let metadata = polars_parquet::parquet::read::read_metadata(&mut file).unwrap();
            let rows: Vec<usize> = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
            assert_eq!(rows.len(), 1, "{table}: row groups of {rows:?} rows");
        }
        // Every path is there, once, in order.
        let summary = read_frame(&dir.join("summary.parquet")).unwrap();
        let mut paths = u32s(&summary, "path");
        paths.dedup();
        assert_eq!(paths, (0..N_PATHS).collect::<Vec<u32>>());
        let _ = std::fs::remove_dir_all(&out_dir);
    }

    #[test]
    fn a_run_without_failures_succeeds() {
        let scenario = base_scenario(2);
        assert!(run_outcome("base", scenario.params.simulation.start, &[]).is_ok());
    }

    #[test]
    fn a_panic_inside_a_path_becomes_that_paths_failure() {
        struct Panics;
        impl PathSimulator for Panics {
            fn simulate<S: Sink>(&self, _params: &Params, path_idx: u32, _sink: &mut S) -> PathSummary {
                panic!("boom in path {path_idx}");
            }
        }
        let scenario = base_scenario(1);
        let summary = simulate_guarded(&Panics, &scenario.params, 4, &mut hashcycle_model::record::SummaryOnly);
        let violation = summary.violation.unwrap();
        assert_eq!(summary.path_idx, 4);
        assert!(
            violation.what.contains("the model panicked: boom in path 4"),
            "{violation:?}"
        );
    }
}
