//! Running many paths: rayon over path indices in fixed-size chunks, results gathered in path order and
//! streamed to Parquet chunk by chunk, so output is identical for any thread count and memory stays bounded.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::model::engine::simulate_path;
use crate::model::params::Params;
use crate::model::record::{PathSummary, Sink, Violation};
use crate::model::units::Month;
use crate::output::OutputError;
use crate::output::dir::StagedDir;
use crate::output::parquet::{TableFile, write_frame};
use crate::output::tables::{self, Calendar, Names, RunColumns};
use crate::scenario::Scenario;

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

/// A path that stopped early: a failed conservation check or a panic inside the model.
#[derive(Clone, Debug)]
pub struct PathFailure {
    pub path_idx: u32,
    pub violation: Violation,
}

#[derive(Debug)]
pub struct RunReport {
    pub dir: PathBuf,
    pub n_paths: u32,
    pub wall_seconds: f64,
    pub failures: Vec<PathFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The thread pool could not start. Fatal.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    /// Results could not be written; nothing was committed.
    #[error(transparent)]
    Output(#[from] OutputError),
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

pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, RunError> {
    let n = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| RunError::Threads {
            threads: n,
            message: e.to_string(),
        })
}

/// Runs one path, turning a panic inside the model into a failure of that path alone.
pub fn simulate_path_guarded<S: Sink>(params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
    match catch_unwind(AssertUnwindSafe(|| simulate_path(params, path_idx, sink))) {
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

pub fn progress_bar(total: u64, enabled: bool, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{what} [{{bar:40}}] {{pos}}/{{len}} paths, {{elapsed_precise}} elapsed, ETA {{eta}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Runs every path of a scenario and writes `out_dir/<name>/` with the run tables and `run.json`.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, RunError> {
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
    let mut summaries: Vec<PathSummary> = Vec::with_capacity(n_paths as usize);
    let mut chunk_columns = RunColumns::default();
    let path_indices: Vec<u32> = (0..n_paths).collect();
    for chunk in path_indices.chunks(PATHS_PER_CHUNK) {
        let results: Vec<(RunColumns, PathSummary)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|&path_idx| {
                    let mut columns = RunColumns::default();
                    let summary = simulate_path_guarded(&params, path_idx, &mut columns);
                    columns.push_violation(&summary);
                    bar.inc(1);
                    (columns, summary)
                })
                .collect()
        });
        chunk_columns.clear();
        for (mut columns, summary) in results {
            chunk_columns.append(&mut columns);
            summaries.push(summary);
        }
        files.write(&chunk_columns, &names, &calendar)?;
    }
    bar.finish_and_clear();
    files.finish(&names, &calendar)?;
    write_frame(
        &dir.join("summary.parquet"),
        &tables::summary_frame(&summaries, &names, &calendar)
            .map_err(|e| OutputError::polars(&dir.join("summary.parquet"), e))?,
    )?;
    let failures: Vec<PathFailure> = summaries
        .iter()
        .filter_map(|s| {
            s.violation.clone().map(|violation| PathFailure {
                path_idx: s.path_idx,
                violation,
            })
        })
        .collect();
    let wall_seconds = started.elapsed().as_secs_f64();
    crate::output::provenance::write_run_json(
        &dir.join("run.json"),
        scenario,
        &params,
        &started_at,
        wall_seconds,
        options.threads,
        &failures,
    )?;
    // Charts and the report are drawn from the files just written, in the staging directory, so a run that
    // fails to draw them commits nothing.
    crate::output::charts::render_run(&dir)?;
    crate::output::report::write_run_report(&dir)?;
    let dir = staged.commit()?;
    Ok(RunReport {
        dir,
        n_paths,
        wall_seconds,
        failures,
    })
}

/// The five streamed run tables.
struct RunFiles {
    dir: PathBuf,
    network: TableFile,
    miners: TableFile,
    manufacturers: TableFile,
    dealers: TableFile,
    regions: TableFile,
    events: TableFile,
}

impl RunFiles {
    fn create(dir: &Path) -> Result<RunFiles, OutputError> {
        Ok(RunFiles {
            dir: dir.to_path_buf(),
            network: TableFile::create(&dir.join("network.parquet"))?,
            miners: TableFile::create(&dir.join("miners.parquet"))?,
            manufacturers: TableFile::create(&dir.join("manufacturers.parquet"))?,
            dealers: TableFile::create(&dir.join("dealers.parquet"))?,
            regions: TableFile::create(&dir.join("regions.parquet"))?,
            events: TableFile::create(&dir.join("events.parquet"))?,
        })
    }

    fn write(&mut self, c: &RunColumns, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        let err = |file: &str| {
            let path = self.dir.join(file);
            move |e| OutputError::polars(&path, e)
        };
        self.network
            .write(&tables::network_frame(&c.network, names, cal).map_err(err("network.parquet"))?)?;
        self.miners
            .write(&tables::miners_frame(&c.miners, names, cal).map_err(err("miners.parquet"))?)?;
        self.manufacturers
            .write(&tables::manufacturers_frame(&c.manufacturers, names, cal).map_err(err("manufacturers.parquet"))?)?;
        self.dealers
            .write(&tables::dealers_frame(&c.dealers, names, cal).map_err(err("dealers.parquet"))?)?;
        self.regions
            .write(&tables::regions_frame(&c.regions, names, cal).map_err(err("regions.parquet"))?)?;
        self.events
            .write(&tables::events_frame(&c.events, names, cal).map_err(err("events.parquet"))?)?;
        Ok(())
    }

    fn finish(self, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        let empty = RunColumns::default();
        self.network
            .finish(|| tables::network_frame(&empty.network, names, cal))?;
        self.miners.finish(|| tables::miners_frame(&empty.miners, names, cal))?;
        self.manufacturers
            .finish(|| tables::manufacturers_frame(&empty.manufacturers, names, cal))?;
        self.dealers
            .finish(|| tables::dealers_frame(&empty.dealers, names, cal))?;
        self.regions
            .finish(|| tables::regions_frame(&empty.regions, names, cal))?;
        self.events.finish(|| tables::events_frame(&empty.events, names, cal))?;
        Ok(())
    }
}
