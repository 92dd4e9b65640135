//! Running a sweep: for each scenario and strategy cell, every path in parallel (common random numbers:
//! the same seed and path indices for every cell), each path reduced to its outcome as it finishes.
//! Outcomes stream to `paths.parquet` cell by cell; metrics go to `sweep.parquet`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::json;

use crate::batch::{PathFailure, RunError, progress_bar, simulate_path_guarded, thread_pool};
use crate::model::params::Params;
use crate::model::record::{PathSummary, SummaryOnly};
use crate::output::dir::StagedDir;
use crate::output::parquet::{TableFile, write_frame};
use crate::output::sweep_tables::{SweepRow, paths_frame, sweep_frame};
use crate::output::tables::{self, Calendar, Names, RunColumns};
use crate::output::{OutputError, provenance};
use crate::sweep::metrics::{PathOutcome, cell_metrics};
use crate::sweep::plan::{Cell, Plan, PlannedScenario};

#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    pub progress: bool,
    /// Also write the full monthly tables of every cell (large).
    pub monthly: bool,
}

#[derive(Debug)]
pub struct SweepReport {
    pub dir: PathBuf,
    pub wall_seconds: f64,
    pub rows: Vec<SweepRow>,
    pub failures: Vec<(String, u32, PathFailure)>,
}

/// Monthly tables of one scenario, Hive-partitioned as `months/<table>/scenario=<name>/part-0.parquet`.
pub(crate) struct MonthlyFiles {
    files: Vec<(&'static str, TableFile)>,
}

const MONTHLY_TABLES: [&str; 6] = ["network", "miners", "manufacturers", "dealers", "regions", "events"];

impl MonthlyFiles {
    pub(crate) fn create(dir: &Path, scenario: &str) -> Result<MonthlyFiles, OutputError> {
        let mut files = vec![];
        for table in MONTHLY_TABLES {
            let part_dir = dir.join("months").join(table).join(format!("scenario={scenario}"));
            std::fs::create_dir_all(&part_dir).map_err(|e| OutputError::io(&part_dir, e))?;
            files.push((table, TableFile::create(&part_dir.join("part-0.parquet"))?));
        }
        Ok(MonthlyFiles { files })
    }

    pub(crate) fn write(
        &mut self,
        cell_idx: u32,
        columns: &RunColumns,
        names: &Names,
        cal: &Calendar,
    ) -> Result<(), OutputError> {
        for (table, file) in &mut self.files {
            let frame = match *table {
                "network" => tables::network_frame(&columns.network, names, cal),
                "miners" => tables::miners_frame(&columns.miners, names, cal),
                "manufacturers" => tables::manufacturers_frame(&columns.manufacturers, names, cal),
                "dealers" => tables::dealers_frame(&columns.dealers, names, cal),
                "regions" => tables::regions_frame(&columns.regions, names, cal),
                _ => tables::events_frame(&columns.events, names, cal),
            };
            let mut frame = frame.map_err(|e| OutputError::polars(Path::new(table), e))?;
            // The scenario is the partition; the cell is a column.
            let n = frame.height();
            let _ = frame.drop_in_place("scenario");
            frame
                .insert_column(0, polars::prelude::Column::new("cell".into(), vec![cell_idx; n]))
                .map_err(|e| OutputError::polars(Path::new(table), e))?;
            file.write(&frame)?;
        }
        Ok(())
    }

    pub(crate) fn finish(self, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        let empty = RunColumns::default();
        for (table, file) in self.files {
            file.finish(|| {
                let mut frame = match table {
                    "network" => tables::network_frame(&empty.network, names, cal),
                    "miners" => tables::miners_frame(&empty.miners, names, cal),
                    "manufacturers" => tables::manufacturers_frame(&empty.manufacturers, names, cal),
                    "dealers" => tables::dealers_frame(&empty.dealers, names, cal),
                    "regions" => tables::regions_frame(&empty.regions, names, cal),
                    _ => tables::events_frame(&empty.events, names, cal),
                }?;
                let _ = frame.drop_in_place("scenario");
                frame.insert_column(0, polars::prelude::Column::new("cell".into(), Vec::<u32>::new()))?;
                Ok(frame)
            })?;
        }
        Ok(())
    }
}

/// Simulates paths `path_range` of one cell in parallel, gathered in path order; with `monthly`, also their
/// monthly tables. A path's randomness depends only on (seed, path index, component), so any range of a cell
/// gives exactly the paths an unsharded run gives for those indices.
pub(crate) fn simulate_paths(
    pool: &rayon::ThreadPool,
    params: &Params,
    path_range: Range<u32>,
    monthly: bool,
    bar: &indicatif::ProgressBar,
) -> (Vec<PathSummary>, Option<RunColumns>) {
    if monthly {
        let results: Vec<(RunColumns, PathSummary)> = pool.install(|| {
            path_range
                .into_par_iter()
                .map(|path_idx| {
                    let mut columns = RunColumns::default();
                    let summary = simulate_path_guarded(params, path_idx, &mut columns);
                    columns.push_violation(&summary);
                    bar.inc(1);
                    (columns, summary)
                })
                .collect()
        });
        let mut all = RunColumns::default();
        let mut summaries = Vec::with_capacity(results.len());
        for (mut c, s) in results {
            all.append(&mut c);
            summaries.push(s);
        }
        (summaries, Some(all))
    } else {
        let summaries = pool.install(|| {
            path_range
                .into_par_iter()
                .map(|path_idx| {
                    let summary = simulate_path_guarded(params, path_idx, &mut SummaryOnly);
                    bar.inc(1);
                    summary
                })
                .collect()
        });
        (summaries, None)
    }
}

/// The paths of one cell stopped by a failed check, labelled with their scenario and cell.
pub(crate) fn path_failures(
    scenario: &str,
    cell_idx: u32,
    summaries: &[PathSummary],
) -> Vec<(String, u32, PathFailure)> {
    summaries
        .iter()
        .filter_map(|s| {
            s.violation.as_ref().map(|violation| {
                (
                    scenario.to_string(),
                    cell_idx,
                    PathFailure {
                        path_idx: s.path_idx,
                        violation: violation.clone(),
                    },
                )
            })
        })
        .collect()
}

/// The sweep tables of a results directory, written cell by cell in plan order: `paths.parquet` streams one
/// batch per cell, and `sweep.parquet` gets each cell's metrics, recomputed from its per-path outcomes.
/// `run` and `merge` both write through it, so a merged sweep's tables are built exactly as an unsharded one's.
pub(crate) struct SweepTables {
    dir: PathBuf,
    paths_file: TableFile,
    rows: Vec<SweepRow>,
}

impl SweepTables {
    pub(crate) fn create(dir: &Path) -> Result<SweepTables, OutputError> {
        Ok(SweepTables {
            dir: dir.to_path_buf(),
            paths_file: TableFile::create(&dir.join("paths.parquet"))?,
            rows: vec![],
        })
    }

    /// Appends one whole cell: its outcomes in path order.
    pub(crate) fn add_cell(
        &mut self,
        plan: &Plan,
        scenario: &PlannedScenario,
        cell: &Cell,
        outcomes: &[PathOutcome],
        calendar: &Calendar,
    ) -> Result<(), OutputError> {
        let frame = paths_frame(
            &plan.sweep.name,
            &scenario.name,
            cell.cell_idx,
            &plan.parameters,
            &cell.values,
            outcomes,
            calendar,
        )
        .map_err(|e| OutputError::polars(&self.dir.join("paths.parquet"), e))?;
        self.paths_file.write(&frame)?;
        self.rows.push(SweepRow {
            scenario: scenario.name.clone(),
            cell_idx: cell.cell_idx,
            strategy: cell.label.clone(),
            values: cell.values.clone(),
            is_reference: scenario.reference_cell == Some(cell.cell_idx),
            focus_manufacturer: scenario.focus_manufacturer.clone(),
            metrics: cell_metrics(outcomes),
        });
        Ok(())
    }

    /// Closes `paths.parquet` and writes `sweep.parquet`; returns the cells' rows.
    pub(crate) fn finish(self, plan: &Plan) -> Result<Vec<SweepRow>, OutputError> {
        let first = plan
            .scenarios
            .first()
            .and_then(|s| s.params.first())
            .ok_or_else(|| OutputError::io(&self.dir, std::io::Error::other("a sweep needs a scenario")))?;
        let calendar = Calendar::new(first, 0);
        let empty_values = plan.cells.first().map(|c| c.values.clone()).unwrap_or_default();
        self.paths_file
            .finish(|| paths_frame(&plan.sweep.name, "", 0, &plan.parameters, &empty_values, &[], &calendar))?;
        let frame = sweep_frame(&plan.sweep.name, &plan.parameters, &self.rows)
            .map_err(|e| OutputError::polars(&self.dir.join("sweep.parquet"), e))?;
        write_frame(&self.dir.join("sweep.parquet"), &frame)?;
        Ok(self.rows)
    }
}

/// Writes `sweep.json`, then the charts and `report.html` drawn from the tables already in `dir`.
pub(crate) fn write_provenance_and_report(dir: &Path, plan: &Plan, how: &SweepJson) -> Result<(), OutputError> {
    write_sweep_json(&dir.join("sweep.json"), plan, how)?;
    crate::output::charts::render_sweep(dir)?;
    crate::output::report::write_sweep_report(dir)?;
    Ok(())
}

/// Runs every cell of the plan and writes `out_dir/<sweep name>/`.
pub fn run(plan: &Plan, options: &SweepOptions) -> Result<SweepReport, RunError> {
    let started = Instant::now();
    let started_at = provenance::utc_now();
    let pool = thread_pool(options.threads)?;
    let staged = StagedDir::create(&options.out_dir, &plan.sweep.name)?;
    let dir = staged.path().to_path_buf();
    let bar = progress_bar(
        plan.n_work_paths(),
        options.progress,
        &format!("sweep {}", plan.sweep.name),
    );
    let mut tables = SweepTables::create(&dir)?;
    let mut failures = vec![];
    for scenario in &plan.scenarios {
        let names = Names::new(&scenario.params[0]);
        let calendar = Calendar::new(&scenario.params[0], 0);
        let mut monthly = if options.monthly {
            Some(MonthlyFiles::create(&dir, &scenario.name)?)
        } else {
            None
        };
        for (cell, params) in plan.cells.iter().zip(&scenario.params) {
            let (summaries, columns) =
                simulate_paths(&pool, params, 0..params.simulation.n_paths, monthly.is_some(), &bar);
            let outcomes: Vec<PathOutcome> = summaries
                .iter()
                .map(|s| PathOutcome::from_summary(s, scenario.focus_manufacturer_idx))
                .collect();
            failures.extend(path_failures(&scenario.name, cell.cell_idx, &summaries));
            tables.add_cell(plan, scenario, cell, &outcomes, &calendar)?;
            if let (Some(files), Some(columns)) = (monthly.as_mut(), columns.as_ref()) {
                files.write(cell.cell_idx, columns, &names, &calendar)?;
            }
        }
        if let Some(files) = monthly {
            files.finish(&names, &calendar)?;
        }
    }
    bar.finish_and_clear();
    let rows = tables.finish(plan)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    write_provenance_and_report(
        &dir,
        plan,
        &SweepJson {
            command: "sweep",
            monthly_tables: options.monthly,
            threads: options.threads,
            started_at_utc: &started_at,
            wall_seconds,
            failures: &failures,
            extra: serde_json::Map::new(),
        },
    )?;
    let dir = staged.commit()?;
    Ok(SweepReport {
        dir,
        wall_seconds,
        rows,
        failures,
    })
}

/// What `sweep.json` records beyond the plan: how the results were produced.
pub(crate) struct SweepJson<'a> {
    /// `sweep` or `merge`.
    pub command: &'a str,
    pub monthly_tables: bool,
    pub threads: Option<usize>,
    pub started_at_utc: &'a str,
    pub wall_seconds: f64,
    pub failures: &'a [(String, u32, PathFailure)],
    /// Further keys, such as the shards a merge read.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn write_sweep_json(path: &Path, plan: &Plan, how: &SweepJson) -> Result<(), OutputError> {
    let failures = how.failures;
    let scenarios: Vec<serde_json::Value> = plan
        .scenarios
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "file": s.file,
                "focus_manufacturer": s.focus_manufacturer,
                "reference_cell": s.reference_cell,
                "horizon_months": s.params[0].simulation.horizon_months,
                "start_month": s.params[0].simulation.start.to_string(),
            })
        })
        .collect();
    let failed: Vec<serde_json::Value> = failures
        .iter()
        .map(|(scenario, cell, f)| {
            json!({"scenario": scenario, "cell": cell, "path": f.path_idx, "month_idx": f.violation.month.0, "what": f.violation.what})
        })
        .collect();
    let focus = plan
        .scenarios
        .first()
        .map(|s| s.focus_manufacturer.clone())
        .unwrap_or_default();
    let mut value = json!({
        "tool": "hashcycle",
        "version": env!("CARGO_PKG_VERSION"),
        "command": how.command,
        "sweep_name": plan.sweep.name,
        "sweep_file": plan.sweep.path.display().to_string(),
        "sweep_text": plan.sweep.text,
        "paths": plan.n_paths,
        "seed": plan.seed,
        "focus_manufacturer": focus,
        "parameters": plan.parameters,
        "n_cells": plan.cells.len(),
        "scenarios": scenarios,
        "monthly_tables": how.monthly_tables,
        "threads": how.threads,
        "started_at_utc": how.started_at_utc,
        "wall_seconds": how.wall_seconds,
        "tables": ["sweep.parquet", "paths.parquet"],
        "failed_paths": failed,
    });
    if let Some(object) = value.as_object_mut() {
        object.extend(how.extra.clone());
    }
    provenance::write_json(path, &value)
}
