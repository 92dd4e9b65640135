//! Running a sweep: for each scenario and strategy cell, every path in parallel (common random numbers:
//! the same seed and path indices for every cell), each path reduced to its outcome as it finishes.
//! Outcomes stream to `paths.parquet` cell by cell; metrics go to `sweep.parquet`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::json;

use crate::batch::tables::{RunColumns, RunTable};
use crate::batch::{Engine, PATHS_PER_CHUNK, PathSimulator, RunError, progress_bar, simulate_guarded, thread_pool};
use crate::output::dir::StagedDir;
use crate::output::parquet::{TableFile, write_frame};
use crate::output::tables::{Calendar, Names};
use crate::output::{OutputError, provenance};
use crate::sweep::metrics::{PairPoint, PathOutcome, cell_metrics, pair_points, paired};
use crate::sweep::plan::{Cell, Plan, PlannedScenario};
use crate::sweep::tables::{SweepRow, paths_frame, sweep_frame};
use hashcycle_model::params::Params;
use hashcycle_model::record::PathFailure;
use hashcycle_model::record::{OutcomeOnly, PathSummary};
use hashcycle_model::units::YearMonth;

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
    pub failures: Vec<CellFailure>,
    /// Problems that did not stop the results from being published (see `StagedDir::commit`).
    pub warnings: Vec<String>,
}

/// A path of a sweep stopped by a failed check, with the cell it belongs to.
#[derive(Clone, Debug)]
pub struct CellFailure {
    pub scenario: String,
    pub cell_idx: u32,
    /// The cell's strategy, e.g. `futures_share=0.8, prepay_share=0.5`.
    pub strategy: String,
    /// The scenario's first simulated month, which turns the failure's month index into a calendar month.
    pub start: YearMonth,
    pub failure: PathFailure,
}

impl CellFailure {
    /// The calendar month the check failed in.
    pub fn month(&self) -> YearMonth {
        self.start.plus_months(self.failure.violation.month.0 as i64)
    }
}

/// Monthly tables of one scenario, Hive-partitioned as `months/<table>/scenario=<name>/part-0.parquet`.
pub(crate) struct MonthlyFiles {
    files: Vec<(RunTable, TableFile)>,
}

impl MonthlyFiles {
    pub(crate) fn create(dir: &Path, scenario: &str) -> Result<MonthlyFiles, OutputError> {
        let mut files = vec![];
        for table in RunTable::ALL {
            let part_dir = dir
                .join("months")
                .join(table.name())
                .join(format!("scenario={scenario}"));
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
            let frame = columns.frame(*table, names, cal);
            let mut frame = frame.map_err(|e| OutputError::polars(Path::new(table.name()), e))?;
            // The scenario is the partition; the cell is a column.
            let n = frame.height();
            let _ = frame.drop_in_place("scenario");
            frame
                .insert_column(0, polars::prelude::Column::new("cell".into(), vec![cell_idx; n]))
                .map_err(|e| OutputError::polars(Path::new(table.name()), e))?;
            file.write(&frame)?;
        }
        Ok(())
    }

    pub(crate) fn finish(self, names: &Names, cal: &Calendar) -> Result<(), OutputError> {
        let empty = RunColumns::default();
        for (table, file) in self.files {
            file.finish(|| {
                let mut frame = empty.frame(table, names, cal)?;
                let _ = frame.drop_in_place("scenario");
                frame.insert_column(0, polars::prelude::Column::new("cell".into(), Vec::<u32>::new()))?;
                Ok(frame)
            })?;
        }
        Ok(())
    }
}

/// Where the monthly rows of a cell's paths go, a chunk of paths at a time.
pub(crate) type MonthlyRows<'a> = dyn FnMut(&RunColumns) -> Result<(), OutputError> + 'a;

/// Simulates paths `path_range` of one cell in parallel and returns their outcomes for the focus manufacturer
/// `focus_idx`, in path order, with the paths stopped by a failed check. Each path is reduced to its outcome
/// as it finishes, so a cell holds about 170 bytes a path. With `monthly`, paths run `PATHS_PER_CHUNK` at a
/// time and each chunk's monthly rows go to `monthly`, in path order, as soon as the chunk is done: a cell's
/// rows are never held whole (a cell of 1,000 base paths has about 2 GB of them), and the chunks, so the
/// files' row groups and bytes, do not depend on thread count.
/// A path's randomness depends only on (seed, path index, component), so any range of a cell gives exactly
/// the paths an unsharded run gives for those indices.
pub(crate) fn simulate_paths<P: PathSimulator>(
    pool: &rayon::ThreadPool,
    simulator: &P,
    params: &Params,
    focus_idx: usize,
    path_range: Range<u32>,
    monthly: Option<&mut MonthlyRows>,
    bar: &crate::batch::Progress,
) -> Result<CellPaths, OutputError> {
    let reduce = |summary: &PathSummary| {
        let failure = summary.violation.as_ref().map(|violation| PathFailure {
            path_idx: summary.path_idx,
            violation: violation.clone(),
        });
        (PathOutcome::from_summary(summary, focus_idx), failure)
    };
    let mut paths = CellPaths {
        outcomes: Vec::with_capacity(path_range.len()),
        failures: vec![],
    };
    let Some(monthly) = monthly else {
        let reduced: Vec<(PathOutcome, Option<PathFailure>)> = pool.install(|| {
            path_range
                .into_par_iter()
                .map(|path_idx| {
                    let summary = simulate_guarded(simulator, params, path_idx, &mut OutcomeOnly);
                    bar.inc(1);
                    reduce(&summary)
                })
                .collect()
        });
        for (outcome, failure) in reduced {
            paths.outcomes.push(outcome);
            paths.failures.extend(failure);
        }
        return Ok(paths);
    };
    let mut chunk_columns = RunColumns::default();
    let mut chunk_start = path_range.start;
    while chunk_start < path_range.end {
        let chunk_end = path_range.end.min(chunk_start.saturating_add(PATHS_PER_CHUNK as u32));
        let results: Vec<(RunColumns, (PathOutcome, Option<PathFailure>))> = pool.install(|| {
            (chunk_start..chunk_end)
                .into_par_iter()
                .map(|path_idx| {
                    let mut columns = RunColumns::default();
                    let summary = simulate_guarded(simulator, params, path_idx, &mut columns);
                    columns.push_violation(&summary);
                    bar.inc(1);
                    (columns, reduce(&summary))
                })
                .collect()
        });
        chunk_columns.clear();
        for (mut columns, (outcome, failure)) in results {
            chunk_columns.append(&mut columns);
            paths.outcomes.push(outcome);
            paths.failures.extend(failure);
        }
        monthly(&chunk_columns)?;
        chunk_start = chunk_end;
    }
    Ok(paths)
}

/// A cell's simulated paths: each one's outcome, in path order, and the paths stopped by a failed check.
pub(crate) struct CellPaths {
    pub outcomes: Vec<PathOutcome>,
    pub failures: Vec<PathFailure>,
}

/// The paths of one cell stopped by a failed check, labelled with their scenario and cell.
pub(crate) fn path_failures(
    scenario: &str,
    cell: &Cell,
    start: YearMonth,
    failures: &[PathFailure],
) -> Vec<CellFailure> {
    failures
        .iter()
        .map(|failure| CellFailure {
            scenario: scenario.to_string(),
            cell_idx: cell.cell_idx,
            strategy: cell.label.clone(),
            start,
            failure: failure.clone(),
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
    /// Each scenario's reference cell's per-path figures, once it has been added.
    reference_points: Vec<(String, Vec<Option<PairPoint>>)>,
    /// Cells added before their scenario's reference cell, with their per-path figures: compared when it comes.
    /// Memory is at most these cells' paths × 32 bytes.
    pending: Vec<(usize, Vec<Option<PairPoint>>)>,
}

/// The seed of a cell's bootstrap resamples: fixed by its scenario and cell, so tables repeat exactly.
fn bootstrap_seed(scenario: &str, cell_idx: u32) -> u64 {
    scenario.bytes().fold(u64::from(cell_idx), |h, b| {
        hashcycle_model::rng::mix64(h ^ u64::from(b))
    })
}

impl SweepTables {
    pub(crate) fn create(dir: &Path) -> Result<SweepTables, OutputError> {
        Ok(SweepTables {
            dir: dir.to_path_buf(),
            paths_file: TableFile::create(&dir.join("paths.parquet"))?,
            rows: vec![],
            reference_points: vec![],
            pending: vec![],
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
            paired: None,
        });
        let row_idx = self.rows.len() - 1;
        let points = pair_points(outcomes);
        if self.rows[row_idx].is_reference {
            self.reference_points.push((scenario.name.clone(), points));
            let waiting: Vec<(usize, Vec<Option<PairPoint>>)> = std::mem::take(&mut self.pending);
            for (idx, cell_points) in waiting {
                if self.rows[idx].scenario == scenario.name {
                    self.compare(idx, &cell_points);
                } else {
                    self.pending.push((idx, cell_points));
                }
            }
            let own = self.reference_points.last().map(|(_, p)| p.clone()).unwrap_or_default();
            self.compare(row_idx, &own);
        } else if self.reference_points.iter().any(|(name, _)| *name == scenario.name) {
            self.compare(row_idx, &points);
        } else if scenario.reference_cell.is_some() {
            self.pending.push((row_idx, points));
        }
        Ok(())
    }

    /// Pairs row `row_idx` with its scenario's reference cell.
    fn compare(&mut self, row_idx: usize, points: &[Option<PairPoint>]) {
        let row = &self.rows[row_idx];
        let Some((_, reference)) = self.reference_points.iter().find(|(name, _)| *name == row.scenario) else {
            return;
        };
        let seed = bootstrap_seed(&row.scenario, row.cell_idx);
        self.rows[row_idx].paired = paired(points, reference, seed);
    }

    /// Closes `paths.parquet` and writes `sweep.parquet`; returns the cells' rows.
    pub(crate) fn finish(self, plan: &Plan) -> Result<Vec<SweepRow>, OutputError> {
        let first = plan
            .scenarios
            .first()
            .map(|s| &s.first_cell_params)
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

/// Writes `sweep.json`, then the charts, `report.html` and `report.xlsx` drawn from the tables already in `dir`.
pub(crate) fn write_provenance_and_report(dir: &Path, plan: &Plan, how: &SweepJson) -> Result<(), OutputError> {
    write_sweep_json(&dir.join("sweep.json"), plan, how)?;
    let data = crate::sweep::data::SweepData::load(dir)?;
    crate::sweep::charts::render_sweep_data(dir, &data)?;
    crate::sweep::report::sweep_report(dir, &data)?;
    crate::sweep::workbook::write_sweep_workbook(dir, &data)?;
    Ok(())
}

/// Runs every cell of the plan and writes `out_dir/<sweep name>/`.
pub fn run(plan: &Plan, options: &SweepOptions) -> Result<SweepReport, RunError> {
    run_with(plan, options, &Engine)
}

/// `run` with any path simulator.
pub(crate) fn run_with<P: PathSimulator>(
    plan: &Plan,
    options: &SweepOptions,
    simulator: &P,
) -> Result<SweepReport, RunError> {
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
        let names = Names::new(&scenario.first_cell_params);
        let calendar = Calendar::new(&scenario.first_cell_params, 0);
        let mut monthly = if options.monthly {
            Some(MonthlyFiles::create(&dir, &scenario.name)?)
        } else {
            None
        };
        for cell in &plan.cells {
            // Built when the cell runs, so that the plan need not hold every cell's parameters.
            let params = &scenario.cell_params(cell).map_err(RunError::Cell)?;
            let mut write_monthly = |columns: &RunColumns| match monthly.as_mut() {
                Some(files) => files.write(cell.cell_idx, columns, &names, &calendar),
                None => Ok(()),
            };
            let paths = simulate_paths(
                &pool,
                simulator,
                params,
                scenario.focus_manufacturer_idx,
                0..params.simulation.n_paths,
                options.monthly.then_some(&mut write_monthly as &mut MonthlyRows),
                &bar,
            )?;
            failures.extend(path_failures(
                &scenario.name,
                cell,
                params.simulation.start,
                &paths.failures,
            ));
            tables.add_cell(plan, scenario, cell, &paths.outcomes, &calendar)?;
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
    let published = staged.commit()?;
    Ok(SweepReport {
        dir: published.dir,
        wall_seconds,
        rows,
        failures,
        warnings: published.warnings,
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
    pub failures: &'a [CellFailure],
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
                "horizon_months": s.first_cell_params.simulation.horizon_months,
                "start_month": s.first_cell_params.simulation.start.to_string(),
                "history_fit": crate::batch::manifest::history_fit_for(&s.first_cell_params),
                "description": s.first_cell_params.simulation.description,
                "assumptions": crate::batch::assumptions::assumptions(&s.first_cell_params),
            })
        })
        .collect();
    let failed: Vec<serde_json::Value> = failures
        .iter()
        .map(|f| {
            let v = &f.failure.violation;
            json!({
                "scenario": f.scenario,
                "cell": f.cell_idx,
                "strategy": f.strategy,
                "path": f.failure.path_idx,
                "month_idx": v.month.0,
                "month": f.month().to_string(),
                "what": v.what,
                "expected": v.expected,
                "actual": v.actual,
            })
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
        "frontier_risk": plan.sweep.frontier_risk,
        "frontier_return": plan.sweep.frontier_return,
        "parameters": plan.parameters,
        // Swept values that are booleans (written 0/1 in the tables); charts read them as yes/no.
        "boolean_parameters": plan
            .parameters
            .iter()
            .enumerate()
            .filter(|(k, _)| !plan.cells.is_empty() && plan.cells.iter().all(|c| matches!(c.values.get(*k), Some(crate::scenario::raw::Value::Bool(_)))))
            .map(|(_, p)| p.clone())
            .collect::<Vec<String>>(),
        "overrides": plan.overrides,
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

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::batch::SmuggleStock;
    use crate::cli::{Failure, sweep_outcome};
    use crate::output::parquet::read_frame;
    use crate::sweep::{file, plan};

    fn u32s(df: &DataFrame, column: &str) -> Vec<u32> {
        // Files hold every integer as i64.
        let column = df.column(column).unwrap().strict_cast(&DataType::UInt32).unwrap();
        column.u32().unwrap().into_no_null_iter().collect()
    }

    /// A sweep of the small test scenario over bitmain's prepay share (0.3, then 0.9), cut to `horizon_months`.
    fn small_prepay_sweep(n_paths: u32, horizon_months: u32) -> Plan {
        let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let text = "[sweep]\nname = \"t\"\nscenarios = [\"small.toml\"]\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3, 0.9]\n";
        let sweep = file::from_text(text, "t.toml", &data_dir).unwrap();
        let horizon = format!("simulation.horizon_months={horizon_months}");
        plan::build_with_overrides(sweep, Some(n_paths), None, &[horizon]).unwrap()
    }

    #[test]
    fn a_failed_check_in_one_cell_is_reported_with_its_cell_and_the_rest_is_written() {
        const HORIZON_MONTHS: u32 = 4;
        const N_PATHS: u32 = 3;
        let plan = small_prepay_sweep(N_PATHS, HORIZON_MONTHS);
        let out_dir = std::env::temp_dir().join(format!("hashcycle-unit-violation-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        let options = SweepOptions {
            out_dir: out_dir.clone(),
            threads: Some(2),
            progress: false,
            monthly: true,
        };
        // Path 1 of the cell with prepay_share = 0.9 (cell 1) gets machines nobody made in month 1.
        let simulator = SmuggleStock {
            path_idx: 1,
            month: 1,
            units: 11,
            only_if: Some(|p: &hashcycle_model::params::Params| p.manufacturers[0].strategy.prepay_share > 0.8),
        };
        let report = run_with(&plan, &options, &simulator).unwrap();

        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let f = &report.failures[0];
        assert_eq!((f.scenario.as_str(), f.cell_idx, f.failure.path_idx), ("small", 1, 1));
        assert_eq!(f.strategy, "prepay_share=0.9");
        assert_eq!(f.month().to_string(), "2025-02");
        assert_eq!(f.failure.violation.actual - f.failure.violation.expected, 11.0);

        // Both cells were written; the failed path is flagged and left out of its cell's metrics.
        let dir = out_dir.join("t");
        let cells = read_frame(&dir.join("sweep.parquet")).unwrap();
        assert_eq!(u32s(&cells, "n_failed"), vec![0, 1]);
        let paths = read_frame(&dir.join("paths.parquet")).unwrap();
        assert_eq!(paths.height(), 2 * N_PATHS as usize);
        let cell = u32s(&paths, "cell");
        let path = u32s(&paths, "path");
        let failed: Vec<bool> = paths
            .column("failed_check")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        for i in 0..paths.height() {
            assert_eq!(
                failed[i],
                cell[i] == 1 && path[i] == 1,
                "cell {} path {}",
                cell[i],
                path[i]
            );
        }
        let events = read_frame(&dir.join("months/events/scenario=small/part-0.parquet")).unwrap();
        let kinds: Vec<&str> = events
            .column("kind")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        let violations: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i] == "invariant_violation")
            .collect();
        assert_eq!(violations.len(), 1);
        assert_eq!(u32s(&events, "cell")[violations[0]], 1);
        assert_eq!(u32s(&events, "path")[violations[0]], 1);
        let sweep_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
        let listed = &sweep_json["failed_paths"][0];
        assert_eq!(listed["cell"], 1);
        assert_eq!(listed["strategy"], "prepay_share=0.9");
        assert_eq!(listed["month"], "2025-02");

        // What the command line prints, and its exit status.
        let Err(failure @ Failure::Runtime(_)) = sweep_outcome(&report.failures, true, "sweep.json") else {
            panic!("a failed check must be a runtime failure")
        };
        assert_eq!(failure.exit_status(), 2);
        let message = failure.message();
        let v = &f.failure.violation;
        for needle in [
            "scenario small, strategy cell 1 (prepay_share=0.9), path 1, month 2025-02",
            "manufacturer bitmain",
            &format!("(expected {}, actual {})", v.expected, v.actual),
            "paths.parquet",
            "months/events",
        ] {
            assert!(message.contains(needle), "`{needle}` missing from\n{message}");
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }

    #[test]
    fn issue_30_a_cells_monthly_rows_go_out_a_chunk_of_paths_at_a_time_in_path_order() {
        // A cell's monthly rows were gathered whole before being written: 2.3 GB at 1,000 base paths.
        const N_PATHS: u32 = 300;
        let mut params = crate::scenario::shipped_base().params;
        params.simulation.horizon_months = 2;
        let names = Names::new(&params);
        let calendar = Calendar::new(&params, 0);
        let pool = crate::batch::thread_pool(Some(2)).unwrap();
        let bar = progress_bar(0, false, "test");
        let mut chunks: Vec<Vec<u32>> = vec![];
        let mut record = |columns: &RunColumns| {
            let frame = columns.frame(RunTable::Network, &names, &calendar).unwrap();
            chunks.push(u32s(&frame, "path"));
            Ok(())
        };
        let paths = simulate_paths(&pool, &Engine, &params, 0, 0..N_PATHS, Some(&mut record), &bar).unwrap();
        assert_eq!(chunks.len(), (N_PATHS as usize).div_ceil(PATHS_PER_CHUNK));
        for chunk in &chunks {
            let mut paths = chunk.clone();
            paths.dedup();
            assert!(paths.len() <= PATHS_PER_CHUNK, "a chunk of {} paths", paths.len());
        }
        // Every path's two months, in path order.
        let rows: Vec<u32> = chunks.concat();
        let expected: Vec<u32> = (0..N_PATHS).flat_map(|p| [p, p]).collect();
        assert_eq!(rows, expected);
        let indices: Vec<u32> = paths.outcomes.iter().map(|o| o.path_idx).collect();
        assert_eq!(indices, (0..N_PATHS).collect::<Vec<u32>>());
    }

    #[test]
    fn a_cell_whose_paths_all_failed_is_written_with_null_metrics_and_drawn() {
        let plan = small_prepay_sweep(1, 3);
        let out_dir = std::env::temp_dir().join(format!("hashcycle-unit-all-failed-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        let options = SweepOptions {
            out_dir: out_dir.clone(),
            threads: Some(2),
            progress: false,
            monthly: false,
        };
        // The one path of cell 1 fails, so no path of that cell completes.
        let simulator = SmuggleStock {
            path_idx: 0,
            month: 1,
            units: 11,
            only_if: Some(|p: &hashcycle_model::params::Params| p.manufacturers[0].strategy.prepay_share > 0.8),
        };
        let report = run_with(&plan, &options, &simulator).unwrap();
        assert_eq!(report.failures.len(), 1);
        // The charts and the report were drawn from a table with nulls.
        let dir = out_dir.join("t");
        assert!(dir.join("report.html").is_file());
        let cells = read_frame(&dir.join("sweep.parquet")).unwrap();
        assert_eq!(u32s(&cells, "n_failed"), vec![0, 1]);
        for name in [
            "p_cash_below_zero",
            "p_distress",
            "end_cash_usd_p50",
            "market_share_mean",
        ] {
            let values = cells.column(name).unwrap().f64().unwrap().clone();
            assert!(values.get(0).is_some(), "{name} of the cell that completed");
            assert_eq!(values.get(1), None, "{name} of the cell whose paths all failed");
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }
}
