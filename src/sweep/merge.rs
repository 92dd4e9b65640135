//! `hashcycle merge DIR/<sweep name>`: joins the shards of a sharded sweep into the tables an unsharded run
//! with the same seed writes, row for row and value for value.
//!
//! Merge first checks everything and writes nothing unless all is well:
//! - every shard `K-of-N` for K in 0..N is present and complete (its `shard.json` exists and its outcome file
//!   has the size and hash the manifest records);
//! - all shards belong to one split (one N) and one study (same sweep text, scenario texts, seed, paths per
//!   cell, manifest format and hashcycle version);
//! - each shard covered exactly the work the split rule assigns it.
//!
//! It then rebuilds the sweep's plan from the texts the shards recorded (so it needs neither the sweep file
//! nor the scenario files, only data files a scenario names, such as a bootstrap price history), reads the
//! shards' outcomes in order, checks each row is the (scenario, cell, path) expected at its position, and
//! writes `paths.parquet` and `sweep.parquet` through the same writer as an unsharded run, with each cell's
//! metrics recomputed from its per-path outcomes.
//! `sweep.json`, the charts, `report.html` and `report.xlsx` follow.
//! Results are staged in a hidden sibling of the sweep directory and swapped into place whole, as a run's are;
//! the swap carries the sweep directory's `shards/` into the new one untouched (`StagedDir::commit`).
//!
//! A manifest is input like any other: every field is checked against the plan rebuilt from the texts
//! before it is used, and a shard's files are read only from inside its own directory, as regular files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde_json::json;

use crate::output::OutputError;
use crate::output::dir::{SHARDS_DIR, StagedDir};
use crate::output::provenance;
use crate::output::tables::Calendar;
use crate::scenario::validate::MAX_PATHS;
use crate::scenario::{MAX_PROBLEMS_SHOWN, Scenario};
use crate::sweep::metrics::PathOutcome;
use crate::sweep::plan::{self, Plan};
use crate::sweep::run::{SweepJson, SweepTables, write_provenance_and_report};
use crate::sweep::shard::{
    MANIFEST_FILE, MANIFEST_FORMAT, MAX_SHARDS, ShardManifest, ShardSpec, fingerprint, manifest_format, plan_units,
    shard_positions, xxh3_64_hex,
};
use crate::sweep::tables::SweepRow;
use crate::sweep::{file, run::SweepReport};
use hashcycle_model::record::ManufacturerOutcome;

/// Why a merge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Shards are missing, incomplete, inconsistent or from different studies. Nothing was written; exit status 1.
    /// At most `MAX_PROBLEMS_SHOWN` problems are listed; the rest are counted.
    #[error("cannot merge {}: {}\nnothing was written", dir.display(), problem_list(problems))]
    Shards { dir: PathBuf, problems: Vec<String> },
    /// Reading the shards or writing the merged results failed. Nothing was committed; exit status 2.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// `N problems` and the first `MAX_PROBLEMS_SHOWN` of them, one a line, with a count of the rest: a split into
/// many shards of which few were run would otherwise list every missing one.
fn problem_list(problems: &[String]) -> String {
    let n = problems.len();
    let mut text = format!("{n} problem{}", if n == 1 { "" } else { "s" });
    for problem in problems.iter().take(MAX_PROBLEMS_SHOWN) {
        text.push_str("\n  ");
        text.push_str(problem);
    }
    if n > MAX_PROBLEMS_SHOWN {
        text.push_str(&format!(
            "\n  ... and {} more problems not shown: fix these and merge again",
            n - MAX_PROBLEMS_SHOWN
        ));
    }
    text
}

/// Rows of a shard's outcome file read at a time: about 20 MB of columns.
const MERGE_SLICE_ROWS: usize = 1 << 16;

/// A shard that passed the checks: where it is and what it says it holds.
struct CheckedShard {
    spec: ShardSpec,
    dir: PathBuf,
    manifest: ShardManifest,
}

/// Reads `dir/shards/`, checks every shard of the split it holds, and merges them into `dir`.
pub fn merge(dir: &Path) -> Result<SweepReport, MergeError> {
    merge_reading(dir, MERGE_SLICE_ROWS)
}

/// `merge`, reading each shard's outcome file `slice_rows` rows at a time.
fn merge_reading(dir: &Path, slice_rows: usize) -> Result<SweepReport, MergeError> {
    let started = Instant::now();
    let started_at = provenance::utc_now();
    let refuse = |problems: Vec<String>| MergeError::Shards {
        dir: dir.to_path_buf(),
        problems,
    };
    let (shards, plan) = check_shards(dir).map_err(refuse)?;
    crate::sweep::check_paths_fit(&plan).map_err(|e| refuse(vec![e]))?;

    // The merged results replace the sweep directory whole, beside which they are staged; the real
    // directory's parent, so that `merge .` or a path through a symbolic link swaps the directory the
    // shards are in.
    let real_dir = std::fs::canonicalize(dir).map_err(|e| OutputError::io(dir, e))?;
    let (Some(root), Some(name)) = (real_dir.parent(), real_dir.file_name()) else {
        return Err(refuse(vec![format!(
            "{} is a file system root; a sweep directory has a parent to stage its results in",
            real_dir.display()
        )]));
    };
    let staged = StagedDir::create(root, &name.to_string_lossy())?;
    let staging = staged.path().to_path_buf();
    let mut tables = SweepTables::create(&staging)?;
    let calendars: Vec<Calendar> = plan
        .scenarios
        .iter()
        .map(|s| Calendar::new(&s.first_cell_params, 0))
        .collect();
    // Rows arrive in run order across the shards; a cell is written as soon as its last path arrives.
    let n_paths = u64::from(plan.n_paths);
    let n_cells = plan.cells.len() as u64;
    let mut cell_outcomes: Vec<PathOutcome> = Vec::with_capacity(plan.n_paths as usize);
    let mut problems = vec![];
    for shard in &shards {
        let (path, file) = match open_shard_file(&shard.dir, &shard.manifest.outcomes_file) {
            Ok(opened) => opened,
            Err((path, e)) => {
                problems.push(format!("shard {}: cannot read {}: {e}", shard.spec, path.display()));
                break;
            }
        };
        // Rows are read a slice at a time, so memory follows the slice, not the shard.
        let n_rows = ParquetReader::new(file)
            .num_rows()
            .map_err(|e| OutputError::polars(&path, e))?;
        if n_rows as u64 != shard.manifest.outcomes_rows {
            problems.push(format!(
                "shard {}: {} holds {} rows where its {MANIFEST_FILE} records {}",
                shard.spec,
                path.display(),
                n_rows,
                shard.manifest.outcomes_rows
            ));
            break;
        }
        // The failed paths the manifest lists must be exactly the rows marked failed.
        let mut listed_failures: BTreeSet<(String, u32, u32)> = shard
            .manifest
            .failed_paths
            .iter()
            .map(|f| (f.scenario.clone(), f.cell, f.path))
            .collect();
        'slices: for offset in (0..n_rows).step_by(slice_rows.max(1)) {
            let file = match open_shard_file(&shard.dir, &shard.manifest.outcomes_file) {
                Ok((_, file)) => file,
                Err((path, e)) => {
                    problems.push(format!("shard {}: cannot read {}: {e}", shard.spec, path.display()));
                    break 'slices;
                }
            };
            let frame = ParquetReader::new(file)
                .with_slice(Some((offset, slice_rows.max(1).min(n_rows - offset))))
                .finish()
                .map_err(|e| OutputError::polars(&path, e))?;
            let rows = match read_rows(&frame) {
                Ok(rows) => rows,
                Err(e) => {
                    problems.push(format!("shard {}: {}: {e}", shard.spec, path.display()));
                    break 'slices;
                }
            };
            drop(frame);
            for (k, (scenario, cell, row)) in rows.into_iter().enumerate() {
                let row_idx = offset + k;
                // The manifest's positions were checked against the plan, so these are within it.
                let position = shard.manifest.first_work_path + row_idx as u64;
                let cell_ordinal = position / n_paths;
                let scenario_idx = (cell_ordinal / n_cells) as usize;
                let expected_cell = (cell_ordinal % n_cells) as u32;
                let expected_path = (position % n_paths) as u32;
                let (Some(planned), Some(calendar)) = (plan.scenarios.get(scenario_idx), calendars.get(scenario_idx))
                else {
                    problems.push(format!(
                        "shard {}: row {row_idx} of {} lies beyond the sweep's {} work paths",
                        shard.spec,
                        path.display(),
                        plan.n_work_paths()
                    ));
                    break 'slices;
                };
                if scenario != planned.name || cell != expected_cell || row.outcome.path_idx != expected_path {
                    problems.push(format!(
                            "shard {}: row {row_idx} of {} is scenario {scenario}, cell {cell}, path {} where scenario {}, cell {expected_cell}, path {expected_path} belongs",
                            shard.spec,
                            path.display(),
                            row.outcome.path_idx,
                            planned.name
                        ));
                    break 'slices;
                }
                let Some(month) = row.min_cash_month_day else {
                    problems.push(format!(
                        "shard {}: row {row_idx} of {} has no min_cash_month",
                        shard.spec,
                        path.display()
                    ));
                    break 'slices;
                };
                let Some(min_cash_month) = calendar.month_of_day(month) else {
                    problems.push(format!(
                        "shard {}: row {row_idx} of {} has a min_cash_month outside scenario {}'s horizon",
                        shard.spec,
                        path.display(),
                        planned.name
                    ));
                    break 'slices;
                };
                if row.outcome.failed_check
                    && !listed_failures.remove(&(planned.name.clone(), expected_cell, expected_path))
                {
                    problems.push(format!(
                            "shard {}: row {row_idx} of {} is a path stopped by a failed check, which `failed_paths` in its {MANIFEST_FILE} does not list",
                            shard.spec,
                            path.display()
                        ));
                    break 'slices;
                }
                let mut outcome = row.outcome;
                outcome.manufacturer.min_cash_month = min_cash_month.0;
                cell_outcomes.push(outcome);
                if expected_path + 1 == plan.n_paths {
                    let cell = &plan.cells[expected_cell as usize];
                    tables.add_cell(&plan, planned, cell, &cell_outcomes, calendar)?;
                    cell_outcomes.clear();
                }
            }
        }
        if problems.is_empty()
            && let Some((scenario, cell, path_idx)) = listed_failures.first()
        {
            problems.push(format!(
                "shard {}: `failed_paths` in its {MANIFEST_FILE} lists scenario {scenario}, cell {cell}, path {path_idx}, which {} does not mark as failed",
                shard.spec,
                path.display()
            ));
        }
        if !problems.is_empty() {
            break;
        }
    }
    if !problems.is_empty() {
        // The staging directory is removed when `staged` drops: nothing is written.
        return Err(refuse(problems));
    }
    let rows: Vec<SweepRow> = tables.finish(&plan)?;
    let failures: Vec<_> = shards
        .iter()
        .flat_map(|s| s.manifest.failed_paths.iter().map(|f| f.to_failure(&plan)))
        .collect();
    let monthly = shards.iter().any(|s| s.manifest.monthly_tables);
    let mut extra = serde_json::Map::new();
    extra.insert(
        "shards".to_string(),
        json!({
            "n_shards": shards.len(),
            "dir": SHARDS_DIR,
            "monthly_tables_dir": monthly.then(|| format!("{SHARDS_DIR}/*/months")),
            "shards": shards.iter().map(|s| json!({
                "shard": s.spec.dir_name(),
                "host": s.manifest.host,
                "work_paths": s.manifest.outcomes_rows,
                "started_at_utc": s.manifest.started_at_utc,
                "wall_seconds": s.manifest.wall_seconds,
            })).collect::<Vec<_>>(),
        }),
    );
    let wall_seconds = started.elapsed().as_secs_f64();
    write_provenance_and_report(
        &staging,
        &plan,
        &SweepJson {
            command: "merge",
            // The monthly tables stay in the shards' directories; the merged directory has none of its own.
            monthly_tables: false,
            threads: None,
            started_at_utc: &started_at,
            wall_seconds,
            failures: &failures,
            extra,
        },
    )?;
    // One swap: the old results (and an old sweep.json with them) stay whole until the new ones are whole.
    let published = staged.commit()?;
    Ok(SweepReport {
        dir: dir.to_path_buf(),
        wall_seconds,
        rows,
        failures,
        warnings: published.warnings,
    })
}

/// Every check that needs no outcome row: returns the shards in order and the rebuilt plan, or every problem.
fn check_shards(dir: &Path) -> Result<(Vec<CheckedShard>, Plan), Vec<String>> {
    let shards_dir = dir.join(SHARDS_DIR);
    if !dir.is_dir() {
        return Err(vec![format!("{} is not a directory", dir.display())]);
    }
    let entries = std::fs::read_dir(&shards_dir).map_err(|e| {
        vec![format!(
            "cannot read {}: {e} (shards write there: run `hashcycle sweep FILE --shard K/N --out ROOT` with ROOT/<sweep name> = {})",
            shards_dir.display(),
            dir.display()
        )]
    })?;
    // Shard directories by split, and the hidden staging directories of shards still running (or killed).
    let mut splits: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut staging: BTreeMap<String, String> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(spec) = ShardSpec::from_dir_name(&name) {
            splits.entry(spec.n_shards).or_default().push(spec.shard_idx);
        } else if let Some(rest) = name.strip_prefix('.')
            && let Some((shard, _)) = rest.split_once(".partial-")
        {
            staging.insert(shard.to_string(), name.clone());
        }
    }
    let n_shards = match splits.len() {
        0 => {
            return Err(vec![format!(
                "{} holds no shard (directories named K-of-N)",
                shards_dir.display()
            )]);
        }
        1 => *splits.keys().next().unwrap_or(&0),
        _ => {
            let found: Vec<String> = splits
                .iter()
                .map(|(n, ks)| {
                    let mut ks = ks.clone();
                    ks.sort_unstable();
                    let names: Vec<String> = ks.iter().map(|k| format!("{k}-of-{n}")).collect();
                    format!("{} of {n} ({})", ks.len(), names.join(", "))
                })
                .collect();
            return Err(vec![format!(
                "{} holds shards of {} different splits: {}; remove the shards of the splits you do not want",
                shards_dir.display(),
                splits.len(),
                found.join("; ")
            )]);
        }
    };

    if n_shards > MAX_SHARDS {
        return Err(vec![format!(
            "{} holds shards of a split into {n_shards}, more than the {MAX_SHARDS} shards a sweep may have",
            shards_dir.display()
        )]);
    }

    let mut problems = vec![];
    let mut shards = vec![];
    // Shards missing with no sign of having started are reported as runs (`shards 2-of-9 to 8-of-9 are
    // missing`), so that a split of which few shards were run reads as one problem, not thousands.
    let mut missing_from: Option<u32> = None;
    let missing_run = |from: u32, end: u32| match end - from {
        1 => format!("shard {from}-of-{n_shards} is missing"),
        n => format!(
            "shards {from}-of-{n_shards} to {}-of-{n_shards} are missing ({n} shards)",
            end - 1
        ),
    };
    for shard_idx in 0..n_shards {
        let spec = ShardSpec { shard_idx, n_shards };
        let shard_dir = shards_dir.join(spec.dir_name());
        let running = staging
            .get(&spec.dir_name())
            .map(|s| format!(" ({s} shows it was started: it is still running or was killed)"))
            .unwrap_or_default();
        let metadata = std::fs::symlink_metadata(&shard_dir);
        if metadata.is_err() && running.is_empty() {
            missing_from.get_or_insert(shard_idx);
            continue;
        }
        if let Some(from) = missing_from.take() {
            problems.push(missing_run(from, shard_idx));
        }
        match metadata {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(metadata) if metadata.file_type().is_symlink() => {
                problems.push(format!(
                    "shard {spec}: {} is a symbolic link; a shard is the directory the shard wrote there",
                    shard_dir.display()
                ));
                continue;
            }
            _ => {
                problems.push(format!("shard {spec} is missing{running}"));
                continue;
            }
        }
        let manifest_path = shard_dir.join(MANIFEST_FILE);
        let text = match open_shard_file(&shard_dir, MANIFEST_FILE) {
            Ok((_, mut file)) => {
                let mut text = String::new();
                match std::io::Read::read_to_string(&mut file, &mut text) {
                    Ok(_) => text,
                    Err(e) => {
                        problems.push(format!("shard {spec}: cannot read {}: {e}", manifest_path.display()));
                        continue;
                    }
                }
            }
            Err((_, e)) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!(
                    "shard {spec} is incomplete: it has no {MANIFEST_FILE}{running}"
                ));
                continue;
            }
            Err((path, e)) => {
                problems.push(format!("shard {spec}: cannot read {}: {e}", path.display()));
                continue;
            }
        };
        match parse_manifest(&text, spec, &manifest_path) {
            Ok(manifest) => shards.push(CheckedShard {
                spec,
                dir: shard_dir,
                manifest,
            }),
            Err(problem) => problems.push(problem),
        }
    }
    if let Some(from) = missing_from {
        problems.push(missing_run(from, n_shards));
    }

    // Every shard must belong to the same study as the first one found.
    if let Some(first) = shards.first() {
        let f = &first.manifest;
        for shard in &shards {
            let m = &shard.manifest;
            let spec = shard.spec;
            // (what, this shard's, the first shard's)
            let mut differences: Vec<(&str, String, String)> = vec![];
            let mut differs = |what: &'static str, theirs: String, ours: String| differences.push((what, theirs, ours));
            if m.shard != spec.shard_idx || m.n_shards != spec.n_shards {
                problems.push(format!(
                    "shard {spec}: its {MANIFEST_FILE} says it is shard {}-of-{} (was the directory renamed?)",
                    m.shard, m.n_shards
                ));
            }
            if m.version != f.version {
                differs("hashcycle", m.version.clone(), f.version.clone());
            }
            if m.sweep_text != f.sweep_text {
                differs(
                    "sweep file text",
                    format!("{} (hash {})", m.sweep_file, m.sweep_text_xxh3_64),
                    format!("{} (hash {})", f.sweep_file, f.sweep_text_xxh3_64),
                );
            }
            if m.scenarios
                .iter()
                .map(|s| (&s.name, &s.text, &s.extended_files))
                .ne(f.scenarios.iter().map(|s| (&s.name, &s.text, &s.extended_files)))
            {
                let hashes = |m: &ShardManifest| {
                    m.scenarios
                        .iter()
                        .map(|s| format!("{} {}", s.name, s.text_xxh3_64))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                differs("scenario texts", hashes(m), hashes(f));
            }
            if m.seed != f.seed {
                differs("seed", m.seed.to_string(), f.seed.to_string());
            }
            if m.paths != f.paths {
                differs("paths per cell", m.paths.to_string(), f.paths.to_string());
            }
            for (what, theirs, ours) in differences {
                problems.push(format!(
                    "shard {spec} was run with {what} {theirs}, shard {} with {ours}",
                    first.spec
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(first) = shards.first() else {
        return Err(vec!["no shard to merge".to_string()]);
    };
    let plan = plan_of_manifest(&first.manifest, first.spec, &first.dir.join(MANIFEST_FILE)).map_err(|e| vec![e])?;

    for shard in &shards {
        let spec = shard.spec;
        let m = &shard.manifest;
        let field_problems = manifest_problems(m, spec, &plan);
        if !field_problems.is_empty() {
            let manifest_path = shard.dir.join(MANIFEST_FILE);
            problems.extend(
                field_problems
                    .into_iter()
                    .map(|p| format!("shard {spec}: {}: {p}", manifest_path.display())),
            );
            continue;
        }
        let (outcomes, file) = match open_shard_file(&shard.dir, &m.outcomes_file) {
            Ok(opened) => opened,
            Err((path, e)) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("shard {spec} is incomplete: {}: {e}", path.display()));
                continue;
            }
            Err((path, e)) => {
                problems.push(format!("shard {spec}: cannot read {}: {e}", path.display()));
                continue;
            }
        };
        match fingerprint(file, &outcomes) {
            Ok((n_bytes, hash)) if n_bytes == m.outcomes_bytes && hash == m.outcomes_xxh3_64 => {}
            Ok((n_bytes, hash)) => problems.push(format!(
                "shard {spec} is incomplete or damaged: {} has {n_bytes} bytes (hash {hash}) where its {MANIFEST_FILE} records {} bytes (hash {})",
                outcomes.display(),
                m.outcomes_bytes,
                m.outcomes_xxh3_64
            )),
            Err(e) => problems.push(format!("shard {spec} is incomplete: {e}")),
        }
    }
    if problems.is_empty() {
        Ok((shards, plan))
    } else {
        Err(problems)
    }
}

/// What merge makes of one shard's manifest text on its own, read as shard `spec` of its split: the manifest
/// and the plan rebuilt from the texts it records when every field agrees with that plan, or every problem
/// found. `merge` checks each shard this way (the first shard's plan standing for all of them); the
/// `merge_manifest` fuzz target gives it arbitrary text.
pub fn check_manifest_text(text: &str, spec: ShardSpec) -> Result<(ShardManifest, Plan), Vec<String>> {
    let path = Path::new(MANIFEST_FILE);
    let manifest = parse_manifest(text, spec, path).map_err(|e| vec![e])?;
    let plan = plan_of_manifest(&manifest, spec, path).map_err(|e| vec![e])?;
    let problems = manifest_problems(&manifest, spec, &plan);
    if problems.is_empty() {
        Ok((manifest, plan))
    } else {
        Err(problems)
    }
}

/// Reads shard `spec`'s manifest from its text (read from `path`).
fn parse_manifest(text: &str, spec: ShardSpec, path: &Path) -> Result<ShardManifest, String> {
    // Checked before the rest is read, so that a manifest of another format is refused as such, not for
    // the first field it lacks.
    if let Some(format) = manifest_format(text).filter(|f| *f != MANIFEST_FORMAT) {
        return Err(format!(
            "shard {spec} has manifest format {format}; this hashcycle reads format {MANIFEST_FORMAT} (run the shard again with this hashcycle)"
        ));
    }
    serde_json::from_str::<ShardManifest>(text).map_err(|e| {
        format!(
            "shard {spec}: {} is not a hashcycle shard manifest: {e}",
            path.display()
        )
    })
}

/// The sweep's plan rebuilt from the texts shard `spec`'s manifest (read from `path`) records.
fn plan_of_manifest(manifest: &ShardManifest, spec: ShardSpec, path: &Path) -> Result<Plan, String> {
    // The path count sizes what merge holds per cell, so it is checked before the plan is built from it.
    if !(1..=MAX_PATHS).contains(&manifest.paths) {
        return Err(format!(
            "shard {spec}: {}: `paths` is {}, where a sweep has 1 to {MAX_PATHS} paths per cell",
            path.display(),
            manifest.paths
        ));
    }
    rebuild_plan(manifest).map_err(|e| format!("cannot rebuild the sweep from shard {spec}'s {MANIFEST_FILE}: {e}"))
}

/// Every way a manifest's fields disagree with shard `spec` of the plan rebuilt from the texts, each naming
/// the field; empty when the manifest can be used as it stands.
fn manifest_problems(m: &ShardManifest, spec: ShardSpec, plan: &Plan) -> Vec<String> {
    let mut problems = vec![];
    let mut differs = |field: &str, found: String, expected: String| {
        problems.push(format!("`{field}` is {found} where this sweep has {expected}"));
    };
    if m.tool != "hashcycle" {
        differs("tool", format!("{:?}", m.tool), "\"hashcycle\"".to_string());
    }
    if m.sweep_name != plan.sweep.name {
        differs(
            "sweep_name",
            format!("{:?}", m.sweep_name),
            format!("{:?}", plan.sweep.name),
        );
    }
    let sweep_hash = xxh3_64_hex(m.sweep_text.as_bytes());
    if m.sweep_text_xxh3_64 != sweep_hash {
        differs(
            "sweep_text_xxh3_64",
            format!("{:?}", m.sweep_text_xxh3_64),
            format!("{sweep_hash:?} (the hash of its sweep_text)"),
        );
    }
    if m.overrides != plan.overrides {
        differs(
            "overrides",
            format!("{:?}", m.overrides),
            format!("{:?}", plan.overrides),
        );
    }
    if m.scenarios.len() != plan.scenarios.len() {
        differs(
            "scenarios",
            format!("a list of {}", m.scenarios.len()),
            format!("{} scenarios", plan.scenarios.len()),
        );
    }
    for (idx, (recorded, planned)) in m.scenarios.iter().zip(&plan.scenarios).enumerate() {
        if recorded.name != planned.name {
            differs(
                &format!("scenarios[{idx}].name"),
                format!("{:?}", recorded.name),
                format!("{:?}", planned.name),
            );
        }
        let hash = xxh3_64_hex(recorded.text.as_bytes());
        if recorded.text_xxh3_64 != hash {
            differs(
                &format!("scenarios[{idx}].text_xxh3_64"),
                format!("{:?}", recorded.text_xxh3_64),
                format!("{hash:?} (the hash of its text)"),
            );
        }
    }
    if m.paths != plan.n_paths {
        differs("paths", m.paths.to_string(), plan.n_paths.to_string());
    }
    if m.seed != plan.seed {
        differs("seed", m.seed.to_string(), plan.seed.to_string());
    }
    if u64::from(m.n_cells) != plan.cells.len() as u64 {
        differs("n_cells", m.n_cells.to_string(), plan.cells.len().to_string());
    }
    if m.n_work_paths != plan.n_work_paths() {
        differs(
            "n_work_paths",
            m.n_work_paths.to_string(),
            plan.n_work_paths().to_string(),
        );
    }
    let positions = shard_positions(plan.n_work_paths(), spec);
    if m.first_work_path != positions.start {
        differs(
            "first_work_path",
            m.first_work_path.to_string(),
            format!("{} for shard {spec}", positions.start),
        );
    }
    if m.end_work_path != positions.end {
        differs(
            "end_work_path",
            m.end_work_path.to_string(),
            format!("{} for shard {spec}", positions.end),
        );
    }
    let units = plan_units(plan, spec);
    if m.work_units != units {
        differs(
            "work_units",
            format!("a list of {} units", m.work_units.len()),
            format!("other work for shard {spec} ({} units)", units.len()),
        );
    }
    let n_rows = positions.end - positions.start;
    if m.outcomes_rows != n_rows {
        differs(
            "outcomes_rows",
            m.outcomes_rows.to_string(),
            format!("{n_rows} for shard {spec}"),
        );
    }
    if let Some(problem) = plain_file_name_problem(&m.outcomes_file) {
        problems.push(format!("`outcomes_file` {problem}"));
    }
    if !m.wall_seconds.is_finite() || m.wall_seconds < 0.0 {
        problems.push(format!("`wall_seconds` is {}, not a duration", m.wall_seconds));
    }
    // Each failed path must be one of this shard's paths, in a month of its scenario, listed once.
    let mut seen = BTreeSet::new();
    for (idx, failure) in m.failed_paths.iter().enumerate() {
        let field = format!("`failed_paths[{idx}]`");
        let scenario = plan.scenarios.iter().position(|s| s.name == failure.scenario);
        let in_shard = scenario.is_some_and(|scenario_idx| {
            units.iter().any(|u| {
                u.scenario_idx == scenario_idx
                    && u.cell == failure.cell
                    && (u.path_start..u.path_end).contains(&failure.path)
            })
        });
        if !in_shard {
            problems.push(format!(
                "{field} is scenario {:?}, cell {}, path {}, which is not a path of shard {spec}",
                failure.scenario, failure.cell, failure.path
            ));
            continue;
        }
        let horizon = scenario.map_or(0, |idx| plan.scenarios[idx].first_cell_params.simulation.horizon_months);
        if failure.month_idx >= horizon {
            problems.push(format!(
                "{field} has `month_idx` {}, where scenario {} has months 0 to {}",
                failure.month_idx,
                failure.scenario,
                horizon.saturating_sub(1)
            ));
        }
        if failure.what.is_empty() || failure.what.chars().any(char::is_control) {
            problems.push(format!(
                "{field} has a `what` that is empty or holds control characters"
            ));
        }
        if !seen.insert((&failure.scenario, failure.cell, failure.path)) {
            problems.push(format!("{field} lists a path listed before it"));
        }
    }
    problems
}

/// Why `name` is not the plain name of a file inside a directory (absolute, with a separator, empty, `.`
/// or `..`), or `None` if it is.
fn plain_file_name_problem(name: &str) -> Option<String> {
    let mut components = Path::new(name).components();
    let plain = matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    ) && !name.contains(['/', '\\', '\0']);
    (!plain).then(|| format!("is {name:?}; a shard's files are named by plain file names inside its own directory"))
}

/// Opens the file `name` inside a shard's directory for reading, as (its path, the open file).
/// A shard's files are the regular files it wrote in its own directory: a name that is not a plain file
/// name, a symbolic link, and anything but a regular file (a device, a FIFO, a directory) are refused, so
/// that no manifest can make merge read outside the shard or wait forever on a device.
fn open_shard_file(shard_dir: &Path, name: &str) -> Result<(PathBuf, File), (PathBuf, std::io::Error)> {
    let path = shard_dir.join(name);
    let refuse = |path: &Path, why: String| {
        (
            path.to_path_buf(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, why),
        )
    };
    if let Some(problem) = plain_file_name_problem(name) {
        return Err(refuse(&path, format!("the name {problem}")));
    }
    let metadata = std::fs::symlink_metadata(&path).map_err(|e| (path.clone(), e))?;
    if metadata.file_type().is_symlink() {
        return Err(refuse(
            &path,
            "is a symbolic link; a shard's files are regular files inside its own directory".to_string(),
        ));
    }
    if !metadata.is_file() {
        return Err(refuse(&path, "is not a regular file".to_string()));
    }
    let file = File::open(&path).map_err(|e| (path.clone(), e))?;
    // The file opened must be the one checked, not something swapped in meanwhile.
    let opened = file.metadata().map_err(|e| (path.clone(), e))?;
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        opened.is_file() && opened.dev() == metadata.dev() && opened.ino() == metadata.ino()
    };
    #[cfg(not(unix))]
    let same = opened.is_file();
    if !same {
        return Err(refuse(&path, "changed while it was being opened".to_string()));
    }
    Ok((path, file))
}

/// Rebuilds the sweep's plan from the sweep and scenario texts a shard recorded, resolving file names as the
/// shard did (against its working directory), so the cells, labels and reference cells are the shard's.
fn rebuild_plan(manifest: &ShardManifest) -> Result<Plan, String> {
    let working_dir = PathBuf::from(&manifest.working_dir);
    let sweep = {
        let sweep_path = Path::new(&manifest.sweep_file);
        let base_dir = sweep_path.parent().map(Path::to_path_buf).unwrap_or_default();
        file::from_text(&manifest.sweep_text, &manifest.sweep_file, &base_dir)
    }
    .map_err(|e| e.to_string())?;
    let load = |path: &Path| {
        let name = path.display().to_string();
        let recorded =
            manifest
                .scenarios
                .iter()
                .find(|s| s.file == name)
                .ok_or_else(|| crate::scenario::ScenarioError {
                    file: name.clone(),
                    text: String::new(),
                    problems: vec![crate::scenario::reader::Problem {
                        span: None,
                        key_path: String::new(),
                        message: "the shard manifest does not record this scenario's text".to_string(),
                    }],
                    more_sources: vec![],
                })?;
        // Relative data files (a bootstrap price history) resolve where the shard found them.
        let base_dir = working_dir
            .join(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let extended: Vec<String> = recorded.extended_files.iter().map(|f| f.text.clone()).collect();
        let mut scenario =
            Scenario::from_recorded_text(&recorded.text, &name, &base_dir, &manifest.overrides, &extended)?;
        scenario.path = path.to_path_buf();
        Ok((scenario, base_dir))
    };
    // Every other field of every manifest is checked against this plan (`manifest_problems`).
    let mut plan = plan::build_with(sweep, Some(manifest.paths), Some(manifest.seed), &load)?;
    plan.overrides = manifest.overrides.clone();
    Ok(plan)
}

/// A row of a shard's outcome file, with its month of minimum cash still a date.
struct ShardRow {
    outcome: PathOutcome,
    /// Days since 1970-01-01 of the first day of the month of minimum cash.
    min_cash_month_day: Option<i32>,
}

/// Reads a shard's outcome rows as (scenario, cell, outcome), in file order.
fn read_rows(frame: &DataFrame) -> PolarsResult<Vec<(String, u32, ShardRow)>> {
    let f64s = |name: &str| -> PolarsResult<Vec<f64>> {
        Ok(frame
            .column(name)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    };
    let bools = |name: &str| -> PolarsResult<Vec<bool>> {
        Ok(frame.column(name)?.bool()?.iter().map(|v| v.unwrap_or(false)).collect())
    };
    let u32s = |name: &str| -> PolarsResult<Vec<u32>> {
        // Files hold every integer as i64.
        Ok(frame
            .column(name)?
            .strict_cast(&DataType::UInt32)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(u32::MAX))
            .collect())
    };
    let scenario: Vec<String> = frame
        .column("scenario")?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect();
    let cell = u32s("cell")?;
    let path = u32s("path")?;
    let failed_check = bools("failed_check")?;
    let min_cash_usd = f64s("min_cash_usd")?;
    let min_cash_month: Vec<Option<i32>> = frame
        .column("min_cash_month")?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .collect();
    let end_cash_usd = f64s("end_cash_usd")?;
    let cash_below_zero = bools("cash_below_zero")?;
    let distressed = bools("distressed")?;
    let revenue_usd = f64s("revenue_usd")?;
    let gross_margin_usd = f64s("gross_margin_usd")?;
    let units_sold: Vec<u64> = frame
        .column("units_sold")?
        .strict_cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let walk_away_rate = f64s("walk_away_rate")?;
    let prepayments_forfeited_usd = f64s("prepayments_forfeited_usd")?;
    let units_defaulted: Vec<u64> = frame
        .column("units_defaulted")?
        .strict_cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let balances_defaulted_usd = f64s("balances_defaulted_usd")?;
    let prepayments_kept_on_default_usd = f64s("prepayments_kept_on_default_usd")?;
    let writedowns_usd = f64s("writedowns_usd")?;
    let market_share = f64s("market_share")?;
    let end_price_usd = f64s("end_price_usd")?;
    let end_hashrate_ehs = f64s("end_hashrate_ehs")?;
    // The cash tallies of the waterfall.
    let cogs_usd = f64s("cogs_usd")?;
    let start_cash_usd = f64s("start_cash_usd")?;
    let sales_collected_usd = f64s("sales_collected_usd")?;
    let prepayments_received_usd = f64s("prepayments_received_usd")?;
    let prepayments_applied_usd = f64s("prepayments_applied_usd")?;
    let prepayments_refunded_usd = f64s("prepayments_refunded_usd")?;
    let wafer_prepayments_paid_usd = f64s("wafer_prepayments_paid_usd")?;
    let wafer_balances_paid_usd = f64s("wafer_balances_paid_usd")?;
    let assembly_paid_usd = f64s("assembly_paid_usd")?;
    let cancellation_penalties_usd = f64s("cancellation_penalties_usd")?;
    let opex_usd = f64s("opex_usd")?;
    let interest_usd = f64s("interest_usd")?;
    let self_mining_revenue_usd = f64s("self_mining_revenue_usd")?;
    let self_mining_power_cost_usd = f64s("self_mining_power_cost_usd")?;
    let scrap_proceeds_usd = f64s("scrap_proceeds_usd")?;
    let other_lines_revenue_usd = f64s("other_lines_revenue_usd")?;
    let other_lines_cost_usd = f64s("other_lines_cost_usd")?;
    Ok((0..frame.height())
        .map(|r| {
            (
                scenario[r].clone(),
                cell[r],
                ShardRow {
                    outcome: PathOutcome {
                        path_idx: path[r],
                        failed_check: failed_check[r],
                        // Only the focus manufacturer is in the file, and nothing reads its index.
                        manufacturer: ManufacturerOutcome {
                            manufacturer_idx: 0,
                            min_cash_usd: min_cash_usd[r],
                            min_cash_month: 0,
                            end_cash_usd: end_cash_usd[r],
                            cash_below_zero: cash_below_zero[r],
                            distressed: distressed[r],
                            revenue_usd: revenue_usd[r],
                            gross_margin_usd: gross_margin_usd[r],
                            units_sold: units_sold[r],
                            walk_away_rate: walk_away_rate[r],
                            prepayments_forfeited_usd: prepayments_forfeited_usd[r],
                            units_defaulted: units_defaulted[r],
                            balances_defaulted_usd: balances_defaulted_usd[r],
                            prepayments_kept_on_default_usd: prepayments_kept_on_default_usd[r],
                            writedowns_usd: writedowns_usd[r],
                            market_share: market_share[r],
                            cogs_usd: cogs_usd[r],
                            start_cash_usd: start_cash_usd[r],
                            sales_collected_usd: sales_collected_usd[r],
                            prepayments_received_usd: prepayments_received_usd[r],
                            prepayments_applied_usd: prepayments_applied_usd[r],
                            prepayments_refunded_usd: prepayments_refunded_usd[r],
                            wafer_prepayments_paid_usd: wafer_prepayments_paid_usd[r],
                            wafer_balances_paid_usd: wafer_balances_paid_usd[r],
                            assembly_paid_usd: assembly_paid_usd[r],
                            cancellation_penalties_usd: cancellation_penalties_usd[r],
                            opex_usd: opex_usd[r],
                            interest_usd: interest_usd[r],
                            self_mining_revenue_usd: self_mining_revenue_usd[r],
                            self_mining_power_cost_usd: self_mining_power_cost_usd[r],
                            scrap_proceeds_usd: scrap_proceeds_usd[r],
                            other_lines_revenue_usd: other_lines_revenue_usd[r],
                            other_lines_cost_usd: other_lines_cost_usd[r],
                        },
                        end_price_usd: end_price_usd[r],
                        end_hashrate_ehs: end_hashrate_ehs[r],
                    },
                    min_cash_month_day: min_cash_month[r],
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::shard::{ShardOptions, run_shard};

    #[test]
    fn shards_read_a_few_rows_at_a_time_merge_to_the_tables_read_whole() {
        // Merge reads each shard's outcomes in slices so that memory follows the slice (issue 30's bounded
        // memory); rows, cells and failed-path checks must carry across slice boundaries.
        let sweeps_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let text = "[sweep]\nname = \"sliced\"\nscenarios = [\"small.toml\"]\npaths = 5\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.2, 0.5, 0.8]\n";
        // Named by its path, as on the command line, so that merge resolves the scenario as the shards did.
        let sweep_path = sweeps_dir.join("sliced.toml").display().to_string();
        let sweep = file::from_text(text, &sweep_path, &sweeps_dir).unwrap();
        let plan = plan::build(sweep, None, None).unwrap();
        let out_dir = std::env::temp_dir().join(format!("hashcycle-unit-merge-slices-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        for shard_idx in 0..2 {
            let options = ShardOptions {
                spec: ShardSpec { shard_idx, n_shards: 2 },
                out_dir: out_dir.clone(),
                threads: Some(2),
                progress: false,
                monthly: false,
            };
            run_shard(&plan, &options).unwrap();
        }
        let dir = out_dir.join("sliced");
        let mut tables = vec![];
        // Slices of 1, 2 and 4 rows cut the shards' 8 and 7 rows inside cells; 1 << 16 reads each whole.
        for slice_rows in [1, 2, 4, MERGE_SLICE_ROWS] {
            merge_reading(&dir, slice_rows).unwrap();
            tables.push(
                ["sweep.parquet", "paths.parquet"].map(|t| crate::output::parquet::read_frame(&dir.join(t)).unwrap()),
            );
        }
        for sliced in &tables[..3] {
            for (a, b) in sliced.iter().zip(&tables[3]) {
                assert!(a.equals_missing(b), "{a}\n{b}");
            }
        }
        assert_eq!(tables[3][1].height(), 15);
        let _ = std::fs::remove_dir_all(&out_dir);
    }
}
