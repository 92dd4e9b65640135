//! Sharded sweeps: shards merged give the unsharded tables byte for byte, and merge refuses (exit 1, writing
//! nothing) when a shard is missing, incomplete, damaged or from another study.

use std::path::{Path, PathBuf};
use std::process::Output;

use polars::prelude::*;

use hashcycle::output::parquet::read_frame;

use crate::support::{hashcycle, project_dir, temp_dir};
use crate::sweep::{GRID_2X2, write_sweep};

/// The tables a merge must reproduce exactly.
const TABLES: [&str; 2] = ["sweep.parquet", "paths.parquet"];

fn run(args: &[&str]) -> Output {
    hashcycle(args, &project_dir())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn unsharded(file: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ];
    args.extend_from_slice(extra);
    let result = run(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    out.join("test_sweep")
}

fn shard(file: &Path, out: &Path, k: u32, n: u32, extra: &[&str]) -> Output {
    let spec = format!("{k}/{n}");
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--shard",
        &spec,
        "--threads",
        "1",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Runs every shard of an N-way split, last first (the order shards finish in must not matter).
fn all_shards(file: &Path, out: &Path, n: u32, extra: &[&str]) -> PathBuf {
    for k in (0..n).rev() {
        let result = shard(file, out, k, n, extra);
        assert!(result.status.success(), "shard {k}/{n}: {}", stderr(&result));
    }
    out.join("test_sweep")
}

fn merge(dir: &Path) -> Output {
    run(&["merge", dir.to_str().unwrap()])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn assert_same_tables(whole: &Path, merged: &Path, what: &str) {
    for table in TABLES {
        let a = std::fs::read(whole.join(table)).unwrap();
        let b = std::fs::read(merged.join(table)).unwrap();
        assert!(a == b, "{what}: merged {table} differs from the unsharded one");
    }
}

/// A refused merge leaves the sweep directory as the shards left it: `shards/` and nothing else.
fn assert_nothing_written(dir: &Path) {
    assert_eq!(names_in(dir), vec!["shards".to_string()], "merge wrote something");
}

#[test]
fn shards_merged_give_the_unsharded_tables_byte_for_byte() {
    let dir = temp_dir("shard-equivalence");
    let file = write_sweep(&dir, GRID_2X2);
    let whole = unsharded(&file, &dir.join("whole"), &[]);
    for n in [1u32, 3, 7] {
        let sharded = all_shards(&file, &dir.join(format!("n{n}")), n, &[]);
        // Each shard wrote only its own directory: the sweep directory holds nothing but the shards.
        assert_nothing_written(&sharded);
        let shard_dirs: Vec<String> = (0..n).map(|k| format!("{k}-of-{n}")).collect();
        let mut expected_dirs = shard_dirs.clone();
        expected_dirs.sort();
        assert_eq!(names_in(&sharded.join("shards")), expected_dirs);
        for name in &shard_dirs {
            assert_eq!(
                names_in(&sharded.join("shards").join(name)),
                vec!["paths.parquet", "shard.json"]
            );
        }
        let result = merge(&sharded);
        assert!(result.status.success(), "merge of {n}: {}", stderr(&result));
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(
            stdout.contains("scenario bear") && stdout.contains("reference"),
            "{stdout}"
        );
        assert_same_tables(&whole, &sharded, &format!("{n} shards"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(sharded.join("sweep.json")).unwrap()).unwrap();
        assert_eq!(json["command"], "merge");
        assert_eq!(json["shards"]["n_shards"], n);
        assert_eq!(json["paths"], 12);
        assert_eq!(json["seed"], 5);
        assert!(sharded.join("report.html").is_file());
        assert!(sharded.join("charts").is_dir());
        // No staging directory is left behind.
        assert!(
            names_in(&sharded).iter().all(|name| !name.starts_with('.')),
            "{:?}",
            names_in(&sharded)
        );
    }
    // Merging again replaces the merged results with the same ones.
    let again = merge(&dir.join("n3/test_sweep"));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_same_tables(&whole, &dir.join("n3/test_sweep"), "second merge of 3 shards");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn more_shards_than_paths_leaves_empty_shards_that_still_merge() {
    let dir = temp_dir("shard-empty");
    let file = write_sweep(&dir, GRID_2X2);
    // 2 scenarios × 4 cells × 1 path = 8 paths over 10 shards: two shards have no work.
    let whole = unsharded(&file, &dir.join("whole"), &["--paths", "1"]);
    let sharded = all_shards(&file, &dir.join("n10"), 10, &["--paths", "1"]);
    let empty = (0..10)
        .filter(|k| {
            let text = std::fs::read_to_string(sharded.join(format!("shards/{k}-of-10/shard.json"))).unwrap();
            let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
            manifest["work_units"].as_array().unwrap().is_empty()
        })
        .count();
    assert_eq!(empty, 2);
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    assert_same_tables(&whole, &sharded, "10 shards of 8 paths");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_monthly_tables_hold_the_unsharded_rows_in_order() {
    let dir = temp_dir("shard-monthly");
    let file = write_sweep(&dir, GRID_2X2);
    let whole = unsharded(&file, &dir.join("whole"), &["--paths", "2", "--monthly"]);
    // 2 scenarios × 4 cells × 2 paths over 3 shards: the middle shard spans both scenarios.
    let sharded = all_shards(&file, &dir.join("n3"), 3, &["--paths", "2", "--monthly"]);
    for scenario in ["base", "bear"] {
        for table in ["network", "manufacturers"] {
            let part = format!("months/{table}/scenario={scenario}/part-0.parquet");
            let expected = read_frame(&whole.join(&part)).unwrap();
            let mut joined: Option<DataFrame> = None;
            for k in 0..3 {
                let shard_part = sharded.join(format!("shards/{k}-of-3")).join(&part);
                if !shard_part.exists() {
                    continue;
                }
                let frame = read_frame(&shard_part).unwrap();
                joined = Some(match joined {
                    None => frame,
                    Some(mut all) => {
                        all.vstack_mut(&frame).unwrap();
                        all
                    }
                });
            }
            let joined = joined.unwrap_or_else(|| panic!("no shard wrote {part}"));
            assert_eq!(joined.height(), expected.height(), "{part}");
            assert!(
                joined.equals(&expected),
                "{part}: the shards' rows differ from the unsharded ones"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_a_missing_shard_and_writes_nothing() {
    let dir = temp_dir("shard-missing");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 3, &["--paths", "2"]);
    std::fs::remove_dir_all(sharded.join("shards/1-of-3")).unwrap();
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("shard 1-of-3 is missing"),
        "{}",
        stderr(&result)
    );
    assert!(!stderr(&result).contains("shard 0-of-3"), "{}", stderr(&result));
    assert_nothing_written(&sharded);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_a_shard_without_its_manifest_and_writes_nothing() {
    let dir = temp_dir("shard-incomplete");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 3, &["--paths", "2"]);
    std::fs::remove_file(sharded.join("shards/2-of-3/shard.json")).unwrap();
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("shard 2-of-3 is incomplete: it has no shard.json"),
        "{}",
        stderr(&result)
    );
    assert_nothing_written(&sharded);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_a_damaged_outcome_file() {
    let dir = temp_dir("shard-damaged");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 2, &["--paths", "2"]);
    let outcomes = sharded.join("shards/0-of-2/paths.parquet");
    let bytes = std::fs::read(&outcomes).unwrap();
    std::fs::write(&outcomes, &bytes[..bytes.len() / 2]).unwrap();
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("shard 0-of-2 is incomplete or damaged"),
        "{}",
        stderr(&result)
    );
    assert_nothing_written(&sharded);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_a_manifest_of_the_older_fnv_format_by_its_format() {
    let dir = temp_dir("shard-old-format");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 2, &["--paths", "2"]);
    // Format 1 manifests fingerprinted with FNV-1a under `*_fnv1a64` names.
    let manifest = sharded.join("shards/1-of-2/shard.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"manifest_format\": 2,"), "{text}");
    let old = text
        .replace("\"manifest_format\": 2,", "\"manifest_format\": 1,")
        .replace("_xxh3_64\"", "_fnv1a64\"");
    std::fs::write(&manifest, old).unwrap();
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("shard 1-of-2 has manifest format 1; this hashcycle reads format 2"),
        "{}",
        stderr(&result)
    );
    assert!(!stderr(&result).contains("missing field"), "{}", stderr(&result));
    assert_nothing_written(&sharded);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_shards_of_another_seed_path_count_or_split() {
    let dir = temp_dir("shard-mixed");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 3, &["--paths", "2"]);
    let out = dir.join("out");

    // Shard 1 rerun with another seed and shard 2 with another path count.
    assert!(
        shard(&file, &out, 1, 3, &["--paths", "2", "--seed", "6"])
            .status
            .success()
    );
    assert!(shard(&file, &out, 2, 3, &["--paths", "3"]).status.success());
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    let message = stderr(&result);
    assert!(
        message.contains("shard 1-of-3 was run with seed 6, shard 0-of-3 with 5"),
        "{message}"
    );
    assert!(
        message.contains("shard 2-of-3 was run with paths per cell 3, shard 0-of-3 with 2"),
        "{message}"
    );
    assert_nothing_written(&sharded);

    // A shard of another split beside them.
    assert!(shard(&file, &out, 1, 3, &["--paths", "2"]).status.success());
    assert!(shard(&file, &out, 2, 3, &["--paths", "2"]).status.success());
    assert!(shard(&file, &out, 0, 2, &["--paths", "2"]).status.success());
    let result = merge(&sharded);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(stderr(&result).contains("2 different splits"), "{}", stderr(&result));
    assert_nothing_written(&sharded);

    // Without it, the three consistent shards merge.
    std::fs::remove_dir_all(sharded.join("shards/0-of-2")).unwrap();
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_shard_spec_outside_its_split_is_refused_before_anything_runs() {
    let dir = temp_dir("shard-bad-spec");
    let file = write_sweep(&dir, GRID_2X2);
    for bad in ["3/3", "1/0", "2", "a/b"] {
        let out = dir.join("out");
        let result = run(&[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--shard",
            bad,
        ]);
        assert_eq!(result.status.code(), Some(1), "{bad}");
        assert!(stderr(&result).contains("expected K/N"), "{}", stderr(&result));
        assert!(!out.exists(), "nothing is written for --shard {bad}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_split_into_more_shards_than_a_sweep_may_have_is_refused_before_anything_runs() {
    let dir = temp_dir("shard-too-many");
    let file = write_sweep(&dir, GRID_2X2);
    let out = dir.join("out");
    let result = run(&[
        "sweep",
        file.to_str().unwrap(),
        "--paths",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--shard",
        "1/10000001",
    ]);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("`1/10000001` is not a shard: a sweep may be split into at most 100000 shards"),
        "{}",
        stderr(&result)
    );
    assert!(!out.exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A merge lists at most 50 problems and counts the rest, and missing shards read as ranges: a split of
/// which few shards were run is a short message, not one line per shard.
#[test]
fn merge_lists_at_most_fifty_problems_and_missing_shards_as_ranges() {
    let dir = temp_dir("shard-many-problems");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = dir.join("out/test_sweep");
    let result = shard(&file, &dir.join("out"), 0, 100_000, &["--paths", "2"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let result = merge(&sharded);
    let message = stderr(&result);
    assert_eq!(result.status.code(), Some(1), "{message}");
    assert!(
        message.contains("1 problem\n  shards 1-of-100000 to 99999-of-100000 are missing (99999 shards)\n"),
        "{message}"
    );
    assert_nothing_written(&sharded);

    // 100 shards of which the even ones were started but never finished and the odd ones never started:
    // 100 problems, of which the first 50 are listed.
    std::fs::remove_dir_all(sharded.join("shards")).unwrap();
    for k in (0..100).step_by(2) {
        std::fs::create_dir_all(sharded.join(format!("shards/{k}-of-100"))).unwrap();
    }
    let result = merge(&sharded);
    let message = stderr(&result);
    assert_eq!(result.status.code(), Some(1), "{message}");
    assert!(message.contains(": 100 problems\n"), "{message}");
    assert!(
        message.contains("shard 0-of-100 is incomplete: it has no shard.json"),
        "{message}"
    );
    assert!(message.contains("shard 1-of-100 is missing"), "{message}");
    assert!(message.contains("shard 49-of-100 is missing"), "{message}");
    assert!(
        !message.contains("shard 50-of-100"),
        "only the first 50 are listed: {message}"
    );
    assert!(
        message.contains("\n  ... and 50 more problems not shown: fix these and merge again\nnothing was written"),
        "{message}"
    );
    assert_eq!(
        message.lines().filter(|l| l.starts_with("  shard")).count(),
        50,
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every file under `dir` with its bytes, and every directory, by path relative to `dir`.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(relative, b"<dir>".to_vec());
                stack.push(path);
            } else {
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Issue 30, defect 8: an unsharded sweep or a run with the sweep's name publishes its results over
/// `DIR/<name>/` and carries the `shards/` there into them untouched, the hidden directory of a shard still
/// being written included; the shards then still merge.
#[test]
fn issue_30_an_unsharded_sweep_or_a_run_of_the_same_name_keeps_the_shards() {
    let dir = temp_dir("shard-kept");
    let file = write_sweep(&dir, GRID_2X2);
    let out = dir.join("out");
    let sharded = all_shards(&file, &out, 2, &["--paths", "2"]);
    // A shard another machine is still writing, by this (live) process's id.
    let running = sharded.join(format!("shards/.0-of-2.partial-{}", std::process::id()));
    std::fs::create_dir_all(&running).unwrap();
    std::fs::write(running.join("paths.parquet"), "being written").unwrap();
    let shards_before = tree(&sharded.join("shards"));

    let whole = unsharded(&file, &out, &["--paths", "2"]);
    assert_eq!(whole, sharded);
    assert!(whole.join("sweep.parquet").is_file() && whole.join("sweep.json").is_file());
    assert_eq!(
        tree(&whole.join("shards")),
        shards_before,
        "the sweep changed the shards"
    );

    let scenario =
        crate::support::small_scenario(&dir, "same_name.toml", &[("name = \"small\"", "name = \"test_sweep\"")]);
    let result = run(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--paths",
        "2",
    ]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(sharded.join("run.json").is_file() && !sharded.join("sweep.json").exists());
    assert_eq!(
        tree(&sharded.join("shards")),
        shards_before,
        "the run changed the shards"
    );

    std::fs::remove_dir_all(&running).unwrap();
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    // No staging directory is left beside the results; the unsharded sweep and the run, each replaced by a
    // different one, are kept beside them (issue 31).
    let names = names_in(&out);
    assert_eq!(names[0], "test_sweep", "{names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[1..].iter().all(|n| n.starts_with("test_sweep.kept-")),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defect 9: merge publishes its results as one directory swap, so a publish that cannot finish
/// leaves the previous results whole, never new tables beside old charts with `sweep.json` deleted.
/// Here the previous results hold a file named `charts`, which no directory can be renamed over: merging
/// file by file stopped there, after replacing the tables and deleting `sweep.json`.
#[test]
fn issue_30_a_merge_publishes_its_results_in_one_swap() {
    let dir = temp_dir("shard-swap");
    let file = write_sweep(&dir, GRID_2X2);
    let out = dir.join("out");
    let sharded = all_shards(&file, &out, 2, &["--paths", "2"]);
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    std::fs::remove_dir_all(sharded.join("charts")).unwrap();
    std::fs::write(sharded.join("charts"), "not a directory").unwrap();
    // The shards run again with another seed, so new results differ from the old ones in every table.
    for k in 0..2 {
        let result = shard(&file, &out, k, 2, &["--paths", "2", "--seed", "6"]);
        assert!(result.status.success(), "{}", stderr(&result));
    }
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    let whole = unsharded(&file, &dir.join("whole"), &["--paths", "2", "--seed", "6"]);
    assert_same_tables(&whole, &sharded, "merge over results it could not update file by file");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sharded.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 6);
    assert!(sharded.join("charts").is_dir() && sharded.join("report.html").is_file());
    // Whatever else the previous results held goes with them.
    assert_eq!(
        names_in(&sharded),
        [
            "charts",
            "paths.parquet",
            "report.html",
            "report.xlsx",
            "shards",
            "sweep.json",
            "sweep.parquet"
        ]
    );
    // The previous merge, of a different seed, is kept beside the new results (issue 31).
    let names = names_in(&out);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[1].starts_with("test_sweep.kept-"), "{names:?}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(&names[1]).join("sweep.json")).unwrap()).unwrap();
    assert_ne!(kept["seed"], 6);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `merge` on `dir`, killing it if it takes longer than a merge of a few shards ever should, so that a
/// merge stuck on a device fails the test instead of hanging it.
fn merge_within(dir: &Path, seconds: u64) -> Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hashcycle"))
        .args(["merge", dir.to_str().unwrap()])
        .current_dir(project_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("merge of {} still running after {seconds} s", dir.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Sets `field` of a shard's manifest to `value`, keeping every other field.
fn edit_manifest(manifest: &Path, field: &str, value: serde_json::Value) {
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    json[field] = value;
    std::fs::write(manifest, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

/// A merge refused with exit status 1 for `needles`, with no panic text, and nothing written.
fn assert_refused(dir: &Path, result: &Output, needles: &[&str], what: &str) {
    let message = stderr(result);
    assert_eq!(result.status.code(), Some(1), "{what}: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{what}: `{needle}` missing from\n{message}");
    }
    assert!(
        !message.contains("internal error") && !message.contains("panicked"),
        "{what}: {message}"
    );
    assert_nothing_written(dir);
}

/// Issue 30, defect 2: a manifest whose fields disagree with the sweep rebuilt from its texts (positions,
/// row and cell counts, the path count, failed paths) is refused with exit status 1, naming the manifest
/// and the field, where merge used to index past the plan and panic.
#[test]
fn issue_30_a_manifest_field_that_disagrees_with_the_sweep_is_refused_naming_the_field() {
    let dir = temp_dir("shard-manifest-fields");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 2, &["--paths", "2"]);
    let manifests: Vec<PathBuf> = (0..2)
        .map(|k| sharded.join(format!("shards/{k}-of-2/shard.json")))
        .collect();
    let originals: Vec<String> = manifests.iter().map(|m| std::fs::read_to_string(m).unwrap()).collect();
    let huge = serde_json::json!(1_000_000_000_000_000u64);
    // A failed path in a month far beyond the horizon, on one of shard 1's paths (its first, bear cell 0).
    let far_month = serde_json::json!([{
        "scenario": "bear", "cell": 0, "path": 0, "month_idx": 4_000_000_000u32,
        "what": "machines", "expected": 1.0, "actual": 2.0
    }]);
    let not_failed = serde_json::json!([{
        "scenario": "bear", "cell": 0, "path": 0, "month_idx": 1,
        "what": "machines", "expected": 1.0, "actual": 2.0
    }]);
    let cases: Vec<(&[usize], &str, serde_json::Value, &[&str])> = vec![
        (
            &[1],
            "first_work_path",
            huge.clone(),
            &["`first_work_path` is 1000000000000000"],
        ),
        (
            &[1],
            "end_work_path",
            huge.clone(),
            &["`end_work_path` is 1000000000000000"],
        ),
        (
            &[1],
            "outcomes_rows",
            huge.clone(),
            &["`outcomes_rows` is 1000000000000000"],
        ),
        (
            &[0],
            "n_cells",
            serde_json::json!(4_000_000_000u32),
            &["`n_cells` is 4000000000"],
        ),
        (&[0, 1], "paths", serde_json::json!(0), &["`paths` is 0"]),
        (
            &[1],
            "failed_paths",
            far_month,
            &["`failed_paths[0]` has `month_idx` 4000000000"],
        ),
        (&[1], "failed_paths", not_failed, &["does not mark as failed"]),
    ];
    for (shards, field, value, needles) in cases {
        for &k in shards {
            edit_manifest(&manifests[k], field, value.clone());
        }
        let result = merge(&sharded);
        let shard_manifest = format!("shards/{}-of-2/shard.json", shards[0]);
        let mut expected = needles.to_vec();
        // The message names the manifest, except for a row that disagrees with it, which names the row's file.
        if field != "failed_paths" || needles[0].starts_with('`') {
            expected.push(&shard_manifest);
        }
        assert_refused(&sharded, &result, &expected, field);
        for (manifest, original) in manifests.iter().zip(&originals) {
            std::fs::write(manifest, original).unwrap();
        }
    }
    // Restored, the shards merge.
    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defect 3: merge reads a shard's files only from inside the shard's own directory and only as
/// regular files. An `outcomes_file` that is absolute (`/dev/zero` hung merge, `/etc/passwd` was read),
/// climbs out with `..` or holds a separator is refused by name; a symbolic link, a FIFO or a directory in
/// the shard, and a shard directory or manifest that is a symbolic link, are refused without being opened.
#[test]
fn issue_30_merge_reads_only_regular_files_inside_each_shard() {
    let dir = temp_dir("shard-file-kinds");
    let file = write_sweep(&dir, GRID_2X2);
    let sharded = all_shards(&file, &dir.join("out"), 2, &["--paths", "2"]);
    let shard_dir = sharded.join("shards/1-of-2");
    let manifest = shard_dir.join("shard.json");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let restore = || std::fs::write(&manifest, &original).unwrap();

    for name in [
        "/dev/zero",
        "/etc/passwd",
        "../0-of-2/paths.parquet",
        "sub/paths.parquet",
        ".",
        "",
    ] {
        edit_manifest(&manifest, "outcomes_file", serde_json::json!(name));
        let result = merge_within(&sharded, 60);
        assert_refused(
            &sharded,
            &result,
            &["shards/1-of-2/shard.json", "`outcomes_file`", "plain file names"],
            name,
        );
        restore();
    }

    // The outcome file replaced by a symbolic link to an identical copy outside the shard.
    let outcomes = shard_dir.join("paths.parquet");
    let outside = dir.join("outside.parquet");
    std::fs::copy(&outcomes, &outside).unwrap();
    std::fs::rename(&outcomes, dir.join("kept.parquet")).unwrap();
    std::os::unix::fs::symlink(&outside, &outcomes).unwrap();
    let result = merge_within(&sharded, 60);
    assert_refused(&sharded, &result, &["paths.parquet", "is a symbolic link"], "link");
    std::fs::remove_file(&outcomes).unwrap();

    // A FIFO (which blocks whoever opens it) and a directory under the outcome file's name.
    let made_fifo = std::process::Command::new("mkfifo")
        .arg(&outcomes)
        .status()
        .is_ok_and(|s| s.success());
    if made_fifo {
        let result = merge_within(&sharded, 60);
        assert_refused(&sharded, &result, &["paths.parquet", "is not a regular file"], "fifo");
        std::fs::remove_file(&outcomes).unwrap();
    }
    std::fs::create_dir(&outcomes).unwrap();
    let result = merge_within(&sharded, 60);
    assert_refused(
        &sharded,
        &result,
        &["paths.parquet", "is not a regular file"],
        "directory",
    );
    std::fs::remove_dir(&outcomes).unwrap();
    std::fs::rename(dir.join("kept.parquet"), &outcomes).unwrap();

    // The manifest a symbolic link to a copy of itself.
    std::fs::rename(&manifest, dir.join("shard.json")).unwrap();
    std::os::unix::fs::symlink(dir.join("shard.json"), &manifest).unwrap();
    let result = merge_within(&sharded, 60);
    assert_refused(
        &sharded,
        &result,
        &["shard.json", "is a symbolic link"],
        "manifest link",
    );
    std::fs::remove_file(&manifest).unwrap();
    std::fs::rename(dir.join("shard.json"), &manifest).unwrap();

    // The whole shard directory a symbolic link to a copy of itself elsewhere.
    let elsewhere = dir.join("elsewhere");
    std::fs::rename(&shard_dir, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &shard_dir).unwrap();
    let result = merge_within(&sharded, 60);
    assert_refused(&sharded, &result, &["shard 1-of-2", "is a symbolic link"], "shard link");
    std::fs::remove_file(&shard_dir).unwrap();
    std::fs::rename(&elsewhere, &shard_dir).unwrap();

    let result = merge(&sharded);
    assert!(result.status.success(), "{}", stderr(&result));
    let _ = std::fs::remove_dir_all(&dir);
}
