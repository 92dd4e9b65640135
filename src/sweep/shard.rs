//! Sharded sweeps: `hashcycle sweep FILE --shard K/N` runs the K-th of N equal slices of a sweep's work, so
//! that a cluster scheduler (a Slurm job array, a Kubernetes Indexed Job) can spread one study over many
//! machines; `merge` then joins the shards into the tables an unsharded run writes.
//!
//! The split rule: lay every (scenario, cell, path) of the sweep out in the order an unsharded run simulates
//! them (scenarios in the sweep file's order, then cells, then paths), `T = scenarios × cells × paths` in all.
//! Shard K takes positions `floor(K·T/N)` up to `floor((K+1)·T/N)`.
//! Shards therefore differ by at most one path, cover every path exactly once, and each is a run of whole or
//! partial cells (its work units), whatever N is: 7 shards of a 2-cell sweep split it by path ranges.
//! Each path is simulated with its own index and the cell's full parameters, so it draws the same random
//! streams as in an unsharded run.
//!
//! A shard writes only `DIR/<sweep name>/shards/K-of-N/`, through a hidden staging sibling renamed into place
//! when complete, so shards on different machines can share one output directory.
//! It holds `paths.parquet` (its per-path outcomes, with the columns of the sweep's `paths.parquet`), with
//! `--monthly` the monthly tables as `months/<table>/scenario=<name>/part-0.parquet`, and `shard.json`,
//! the manifest, written last.
//! The manifest records the work units, N, the seed, the paths per cell, the sweep file's and scenarios' texts
//! with their XXH3 hashes, and the outcome file's size and hash, so `merge` can check the shard is whole and
//! rebuild the plan without the original files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::batch::tables::RunColumns;
use crate::batch::{Engine, RunError, progress_bar, thread_pool};
use crate::output::OutputError;
use crate::output::dir::{SHARDS_DIR, StagedDir, write_atomic};
use crate::output::parquet::TableFile;
use crate::output::provenance;
use crate::output::tables::{Calendar, Names};
use crate::sweep::plan::Plan;
use crate::sweep::run::{CellFailure, MonthlyFiles, MonthlyRows, path_failures, simulate_paths};
use crate::sweep::tables::paths_frame;
use hashcycle_model::record::PathFailure;
use hashcycle_model::record::Violation;
use hashcycle_model::units::{Month, YearMonth};

/// A shard's completion marker and manifest.
pub const MANIFEST_FILE: &str = "shard.json";
/// A shard's per-path outcomes.
pub const OUTCOMES_FILE: &str = "paths.parquet";
/// Bumped when the manifest's meaning changes, so `merge` refuses shards it would misread.
/// Format 1 fingerprinted texts and outcome files with FNV-1a (`*_fnv1a64`); format 2 with XXH3 (`*_xxh3_64`).
pub const MANIFEST_FORMAT: u32 = 2;

/// The most shards a sweep may be split into: far more than a cluster runs at once, few enough that one
/// directory holds them all and `merge` checks them in moments. A split is otherwise free: more shards than
/// the sweep has paths leaves some empty.
pub const MAX_SHARDS: u32 = 100_000;

/// One of N shards: `K/N` on the command line, `K-of-N` as a directory name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShardSpec {
    pub shard_idx: u32,
    pub n_shards: u32,
}

impl ShardSpec {
    /// Parses `K/N` with K in 0..N and N at most `MAX_SHARDS` (what `--shard` takes, e.g.
    /// `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
    pub fn parse(text: &str) -> Result<ShardSpec, String> {
        let usage = format!("expected K/N with N in 1..={MAX_SHARDS} and K in 0..N, e.g. 3/7");
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a shard: {usage}"))?;
        let parse = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{text}` is not a shard: {usage}"))
        };
        let (shard_idx, n_shards) = (parse(k)?, parse(n)?);
        if n_shards > MAX_SHARDS {
            return Err(format!(
                "`{text}` is not a shard: a sweep may be split into at most {MAX_SHARDS} shards ({usage})"
            ));
        }
        if n_shards == 0 || shard_idx >= n_shards {
            return Err(format!("`{text}` is not a shard: {usage}"));
        }
        Ok(ShardSpec { shard_idx, n_shards })
    }

    /// The shard's directory name, `K-of-N`.
    pub fn dir_name(&self) -> String {
        format!("{}-of-{}", self.shard_idx, self.n_shards)
    }

    /// Reads a directory name written by `dir_name`.
    pub fn from_dir_name(name: &str) -> Option<ShardSpec> {
        let (k, n) = name.split_once("-of-")?;
        let (shard_idx, n_shards) = (k.parse::<u32>().ok()?, n.parse::<u32>().ok()?);
        let spec = ShardSpec { shard_idx, n_shards };
        // Only the canonical spelling (no leading zeros or signs) names a shard.
        (shard_idx < n_shards && spec.dir_name() == name).then_some(spec)
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.dir_name())
    }
}

/// A contiguous range of one cell's paths: the unit a shard's work is made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUnit {
    /// Index of the scenario in the sweep file's list.
    pub scenario_idx: usize,
    pub scenario: String,
    pub cell: u32,
    /// First path index covered.
    pub path_start: u32,
    /// One past the last path index covered.
    pub path_end: u32,
}

impl WorkUnit {
    pub fn n_paths(&self) -> u32 {
        self.path_end - self.path_start
    }
}

/// The positions `[start, end)` of shard `spec` among `n_work_paths` paths laid out in run order.
pub fn shard_positions(n_work_paths: u64, spec: ShardSpec) -> std::ops::Range<u64> {
    // u128 so that K·T cannot overflow, whatever the sweep's size.
    let bound = |k: u32| (u128::from(n_work_paths) * u128::from(k) / u128::from(spec.n_shards)) as u64;
    bound(spec.shard_idx)..bound(spec.shard_idx + 1)
}

/// The work units of shard `spec` of a sweep with these dimensions, in run order, as
/// (scenario index, cell, path start, path end).
pub fn split(n_scenarios: usize, n_cells: usize, n_paths: u32, spec: ShardSpec) -> Vec<(usize, u32, u32, u32)> {
    let per_cell = u64::from(n_paths);
    let n_work_paths = n_scenarios as u64 * n_cells as u64 * per_cell;
    if n_work_paths == 0 {
        return vec![];
    }
    let positions = shard_positions(n_work_paths, spec);
    let mut units = vec![];
    let mut pos = positions.start;
    while pos < positions.end {
        let cell_ordinal = pos / per_cell;
        let path_start = pos % per_cell;
        let path_end = per_cell.min(path_start + (positions.end - pos));
        units.push((
            (cell_ordinal / n_cells as u64) as usize,
            (cell_ordinal % n_cells as u64) as u32,
            path_start as u32,
            path_end as u32,
        ));
        pos += path_end - path_start;
    }
    units
}

/// The work units of shard `spec` of a plan.
pub fn plan_units(plan: &Plan, spec: ShardSpec) -> Vec<WorkUnit> {
    split(plan.scenarios.len(), plan.cells.len(), plan.n_paths, spec)
        .into_iter()
        .map(|(scenario_idx, cell, path_start, path_end)| WorkUnit {
            scenario_idx,
            scenario: plan.scenarios[scenario_idx].name.clone(),
            cell,
            path_start,
            path_end,
        })
        .collect()
}

/// A scenario of the sweep as a shard recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestScenario {
    pub name: String,
    /// The file name as the plan resolved it (relative to `working_dir` unless absolute).
    pub file: String,
    pub text: String,
    pub text_xxh3_64: String,
    /// The files the scenario extends (`extends`), nearest first, as read; `merge` rebuilds the scenario from
    /// these, not from the files as they are then (absent in older manifests: none).
    #[serde(default)]
    pub extended_files: Vec<ManifestFile>,
}

/// A file as a shard read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub file: String,
    pub text: String,
}

/// A path stopped by a failed check, as a shard recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestFailure {
    pub scenario: String,
    pub cell: u32,
    pub path: u32,
    pub month_idx: u32,
    pub what: String,
    /// `None` when not finite (JSON has no NaN).
    pub expected: Option<f64>,
    pub actual: Option<f64>,
}

impl ManifestFailure {
    pub fn from_failure(failure: &CellFailure) -> ManifestFailure {
        let finite = |x: f64| x.is_finite().then_some(x);
        let v = &failure.failure.violation;
        ManifestFailure {
            scenario: failure.scenario.clone(),
            cell: failure.cell_idx,
            path: failure.failure.path_idx,
            month_idx: v.month.0,
            what: v.what.clone(),
            expected: finite(v.expected),
            actual: finite(v.actual),
        }
    }
    /// The failure, with its strategy label and start month taken from the plan the shards ran.
    pub fn to_failure(&self, plan: &Plan) -> CellFailure {
        let start = plan
            .scenarios
            .iter()
            .find(|s| s.name == self.scenario)
            .map(|s| s.first_cell_params.simulation.start)
            .unwrap_or(YearMonth { year: 1, month: 1 });
        CellFailure {
            scenario: self.scenario.clone(),
            cell_idx: self.cell,
            strategy: plan
                .cells
                .get(self.cell as usize)
                .map(|c| c.label.clone())
                .unwrap_or_default(),
            start,
            failure: PathFailure {
                path_idx: self.path,
                violation: Violation {
                    month: Month(self.month_idx),
                    what: self.what.clone(),
                    expected: self.expected.unwrap_or(f64::NAN),
                    actual: self.actual.unwrap_or(f64::NAN),
                },
            },
        }
    }
}

/// `shard.json`: what a shard covered and what it was run from. Its presence marks the shard complete.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub tool: String,
    pub version: String,
    pub manifest_format: u32,
    pub shard: u32,
    pub n_shards: u32,
    pub sweep_name: String,
    /// The sweep file as named on the command line; its scenario file names resolve against its directory.
    pub sweep_file: String,
    pub sweep_text: String,
    pub sweep_text_xxh3_64: String,
    /// The shard's working directory, against which relative file names resolve.
    pub working_dir: String,
    pub scenarios: Vec<ManifestScenario>,
    /// The `--set key.path=value` overrides applied to every scenario (absent in older manifests: none).
    #[serde(default)]
    pub overrides: Vec<String>,
    pub seed: u64,
    /// Paths per cell.
    pub paths: u32,
    pub n_cells: u32,
    /// scenarios × cells × paths: the whole sweep's work.
    pub n_work_paths: u64,
    /// This shard's positions in the run order, `[first, end)`.
    pub first_work_path: u64,
    pub end_work_path: u64,
    pub work_units: Vec<WorkUnit>,
    pub outcomes_file: String,
    pub outcomes_rows: u64,
    pub outcomes_bytes: u64,
    pub outcomes_xxh3_64: String,
    pub monthly_tables: bool,
    pub failed_paths: Vec<ManifestFailure>,
    pub host: String,
    pub threads: Option<usize>,
    pub started_at_utc: String,
    pub wall_seconds: f64,
}

/// The `manifest_format` of a manifest's text, read alone so that a manifest of another format can be refused
/// for that, whatever else it holds; `None` if the text has no such number.
pub fn manifest_format(text: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct FormatOnly {
        manifest_format: u32,
    }
    serde_json::from_str::<FormatOnly>(text).ok().map(|f| f.manifest_format)
}

/// 64-bit XXH3 (seed 0), as 16 hex digits: a fingerprint to notice changed texts and damaged files.
/// Not cryptographic; it guards against accidents, not tampering. XXH3 rather than a hand-written FNV-1a
/// because polars already compiles xxhash-rust, and it hashes a large outcome file many times faster.
pub fn xxh3_64_hex(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

/// The size and XXH3 hash (as `xxh3_64_hex` gives it) of a file, read in blocks so that large files need not
/// be held in memory.
pub fn file_fingerprint(path: &Path) -> Result<(u64, String), OutputError> {
    let file = std::fs::File::open(path).map_err(|e| OutputError::io(path, e))?;
    fingerprint(file, path)
}

/// The size and XXH3 hash of what `file` holds from where it stands; `path` names it in errors.
pub fn fingerprint(mut file: impl Read, path: &Path) -> Result<(u64, String), OutputError> {
    let mut hash = xxhash_rust::xxh3::Xxh3Default::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut n_bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| OutputError::io(path, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buffer[..n]);
        n_bytes += n as u64;
    }
    Ok((n_bytes, format!("{:016x}", hash.digest())))
}

/// This machine's name, for the manifest (which machine ran which shard helps when one misbehaves).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

#[derive(Clone, Debug)]
pub struct ShardOptions {
    pub spec: ShardSpec,
    /// The output root: the shard writes `out_dir/<sweep name>/shards/K-of-N/`.
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    pub progress: bool,
    pub monthly: bool,
}

#[derive(Debug)]
pub struct ShardReport {
    pub dir: PathBuf,
    pub wall_seconds: f64,
    pub units: Vec<WorkUnit>,
    pub n_work_paths: u64,
    pub failures: Vec<CellFailure>,
    /// Problems that did not stop the shard from being published (see `StagedDir::commit`).
    pub warnings: Vec<String>,
}

/// Runs shard `options.spec` of the plan and writes its directory.
pub fn run_shard(plan: &Plan, options: &ShardOptions) -> Result<ShardReport, RunError> {
    let started = Instant::now();
    let started_at = provenance::utc_now();
    let spec = options.spec;
    let pool = thread_pool(options.threads)?;
    let shards_root = options.out_dir.join(&plan.sweep.name).join(SHARDS_DIR);
    let staged = StagedDir::create(&shards_root, &spec.dir_name())?;
    let dir = staged.path().to_path_buf();
    let units = plan_units(plan, spec);
    let n_shard_paths: u64 = units.iter().map(|u| u64::from(u.n_paths())).sum();
    let bar = progress_bar(
        n_shard_paths,
        options.progress,
        &format!("sweep {} shard {spec}", plan.sweep.name),
    );
    let outcomes_path = dir.join(OUTCOMES_FILE);
    let mut outcomes_file = TableFile::create(&outcomes_path)?;
    let mut failures = vec![];
    // The monthly tables of the scenario being run; shards are runs of the plan order, so each scenario's
    // files are opened once.
    let mut monthly: Option<(usize, MonthlyFiles)> = None;
    for unit in &units {
        let scenario = &plan.scenarios[unit.scenario_idx];
        let cell = &plan.cells[unit.cell as usize];
        // Built when the unit runs, so that the plan need not hold every cell's parameters.
        let params = &scenario.cell_params(cell).map_err(RunError::Cell)?;
        let names = Names::new(&scenario.first_cell_params);
        let calendar = Calendar::new(&scenario.first_cell_params, 0);
        if options.monthly && monthly.as_ref().is_none_or(|(idx, _)| *idx != unit.scenario_idx) {
            if let Some((idx, files)) = monthly.take() {
                let previous = &plan.scenarios[idx].first_cell_params;
                files.finish(&Names::new(previous), &Calendar::new(previous, 0))?;
            }
            monthly = Some((unit.scenario_idx, MonthlyFiles::create(&dir, &scenario.name)?));
        }
        let mut write_monthly = |columns: &RunColumns| match monthly.as_mut() {
            Some((_, files)) => files.write(unit.cell, columns, &names, &calendar),
            None => Ok(()),
        };
        let paths = simulate_paths(
            &pool,
            &Engine,
            params,
            scenario.focus_manufacturer_idx,
            unit.path_start..unit.path_end,
            options.monthly.then_some(&mut write_monthly as &mut MonthlyRows),
            &bar,
        )?;
        let outcomes = paths.outcomes;
        failures.extend(path_failures(
            &scenario.name,
            cell,
            params.simulation.start,
            &paths.failures,
        ));
        let frame = paths_frame(
            &plan.sweep.name,
            &scenario.name,
            unit.cell,
            &plan.parameters,
            &cell.values,
            &outcomes,
            &calendar,
        )
        .map_err(|e| OutputError::polars(&outcomes_path, e))?;
        outcomes_file.write(&frame)?;
    }
    if let Some((idx, files)) = monthly.take() {
        let params = &plan.scenarios[idx].first_cell_params;
        files.finish(&Names::new(params), &Calendar::new(params, 0))?;
    }
    bar.finish_and_clear();
    let first = &plan.scenarios[0].first_cell_params;
    let calendar = Calendar::new(first, 0);
    outcomes_file.finish(|| {
        paths_frame(
            &plan.sweep.name,
            "",
            0,
            &plan.parameters,
            &plan.cells[0].values,
            &[],
            &calendar,
        )
    })?;
    let (outcomes_bytes, outcomes_xxh3_64) = file_fingerprint(&outcomes_path)?;
    let positions = shard_positions(plan.n_work_paths(), spec);
    let wall_seconds = started.elapsed().as_secs_f64();
    let manifest = ShardManifest {
        tool: "hashcycle".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        manifest_format: MANIFEST_FORMAT,
        shard: spec.shard_idx,
        n_shards: spec.n_shards,
        sweep_name: plan.sweep.name.clone(),
        sweep_file: plan.sweep.path.display().to_string(),
        sweep_text: plan.sweep.text.clone(),
        sweep_text_xxh3_64: xxh3_64_hex(plan.sweep.text.as_bytes()),
        working_dir: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        scenarios: plan
            .scenarios
            .iter()
            .map(|s| ManifestScenario {
                extended_files: s
                    .extended_files
                    .iter()
                    .map(|(file, text)| ManifestFile {
                        file: file.clone(),
                        text: text.clone(),
                    })
                    .collect(),
                name: s.name.clone(),
                file: s.file.clone(),
                text: s.text.clone(),
                text_xxh3_64: xxh3_64_hex(s.text.as_bytes()),
            })
            .collect(),
        overrides: plan.overrides.clone(),
        seed: plan.seed,
        paths: plan.n_paths,
        n_cells: plan.cells.len() as u32,
        n_work_paths: plan.n_work_paths(),
        first_work_path: positions.start,
        end_work_path: positions.end,
        work_units: units.clone(),
        outcomes_file: OUTCOMES_FILE.to_string(),
        outcomes_rows: n_shard_paths,
        outcomes_bytes,
        outcomes_xxh3_64,
        monthly_tables: options.monthly,
        failed_paths: failures.iter().map(ManifestFailure::from_failure).collect(),
        host: host_name(),
        threads: options.threads,
        started_at_utc: started_at,
        wall_seconds,
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| OutputError::io(&manifest_path, std::io::Error::other(e)))?;
    // Written last: a shard directory without its manifest is incomplete, whatever else it holds.
    write_atomic(&manifest_path, format!("{text}\n").as_bytes())?;
    let published = staged.commit()?;
    Ok(ShardReport {
        dir: published.dir,
        wall_seconds,
        units,
        n_work_paths: n_shard_paths,
        failures,
        warnings: published.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_name_directories() {
        let spec = ShardSpec::parse("3/7").unwrap();
        assert_eq!(
            spec,
            ShardSpec {
                shard_idx: 3,
                n_shards: 7
            }
        );
        assert_eq!(spec.dir_name(), "3-of-7");
        assert_eq!(ShardSpec::from_dir_name("3-of-7"), Some(spec));
        for bad in ["7/7", "1/0", "3", "a/2", "-1/2", "1/2/3"] {
            assert!(ShardSpec::parse(bad).is_err(), "{bad} should be refused");
        }
        for bad in ["03-of-7", "7-of-7", "3-of-07", ".3-of-7.partial-12", "3-of-"] {
            assert_eq!(ShardSpec::from_dir_name(bad), None, "{bad}");
        }
    }

    /// Every (scenario, cell, path) in run order, as the shards of an N-way split list them.
    fn covered(n_scenarios: usize, n_cells: usize, n_paths: u32, n_shards: u32) -> Vec<Vec<(usize, u32, u32)>> {
        (0..n_shards)
            .map(|k| {
                split(n_scenarios, n_cells, n_paths, ShardSpec { shard_idx: k, n_shards })
                    .into_iter()
                    .flat_map(|(s, c, start, end)| (start..end).map(move |p| (s, c, p)))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn shards_cover_every_path_once_in_run_order_and_differ_by_at_most_one_path() {
        for (n_scenarios, n_cells, n_paths) in [(2, 4, 3), (1, 2, 6), (3, 1, 1), (2, 3, 10)] {
            let mut run_order = vec![];
            for s in 0..n_scenarios {
                for c in 0..n_cells as u32 {
                    for p in 0..n_paths {
                        run_order.push((s, c, p));
                    }
                }
            }
            for n_shards in 1..=30 {
                let shards = covered(n_scenarios, n_cells, n_paths, n_shards);
                let joined: Vec<(usize, u32, u32)> = shards.concat();
                assert_eq!(
                    joined, run_order,
                    "{n_scenarios}×{n_cells}×{n_paths} in {n_shards} shards"
                );
                let sizes: Vec<usize> = shards.iter().map(Vec::len).collect();
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(max - min <= 1, "unbalanced: {sizes:?}");
            }
        }
    }

    #[test]
    fn seven_shards_of_a_two_cell_sweep_split_cells_by_path_ranges() {
        // 2 cells × 7 paths = 14 positions: two paths per shard, shard 3 straddling the cells.
        let units: Vec<Vec<(usize, u32, u32, u32)>> = (0..7)
            .map(|k| {
                split(
                    1,
                    2,
                    7,
                    ShardSpec {
                        shard_idx: k,
                        n_shards: 7,
                    },
                )
            })
            .collect();
        assert_eq!(units[0], vec![(0, 0, 0, 2)]);
        assert_eq!(units[3], vec![(0, 0, 6, 7), (0, 1, 0, 1)]);
        assert_eq!(units[6], vec![(0, 1, 5, 7)]);
    }

    #[test]
    fn more_shards_than_paths_leaves_some_shards_empty() {
        let shards = covered(1, 1, 2, 5);
        assert_eq!(shards.iter().filter(|s| s.is_empty()).count(), 3);
        assert_eq!(shards.concat(), vec![(0, 0, 0), (0, 0, 1)]);
    }

    #[test]
    fn xxh3_matches_the_reference_and_streams_like_one_shot() {
        // XXH3_64bits of the empty input, from the reference implementation's test suite.
        assert_eq!(xxh3_64_hex(b""), "2d06800538d394c2");
        // A file larger than the read block, hashed in pieces, gives the one-shot hash.
        let bytes: Vec<u8> = (0..(1u32 << 20) + 12_345)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let path = std::env::temp_dir().join(format!("hashcycle-fingerprint-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let fingerprint = file_fingerprint(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(fingerprint, (bytes.len() as u64, xxh3_64_hex(&bytes)));
    }
}
