//! Crash safety: a run or sweep killed with SIGKILL at any moment leaves the previous complete results intact
//! (every visible Parquet file opens and holds every row), the next run removes the staging directory the
//! killed one left, and the tool never writes or deletes anything outside the output directory it was given.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{assert_complete_run, hashcycle, parquet_files, small_scenario, temp_dir};

/// Paths of the long run that gets killed: far more than the time to notice a stage, so the kill always
/// lands while the run is still at that stage.
const LONG_RUN_PATHS: &str = "20000";
/// Paths of a run that must reach its writing stage (charts and report) before being killed.
const WRITE_STAGE_PATHS: &str = "600";

/// Every file under `dir` with its bytes, by path relative to `dir`; symbolic links are listed by target.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            let file_type = entry.file_type().unwrap();
            if file_type.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(relative, format!("-> {}", target.display()).into_bytes());
            } else if file_type.is_dir() {
                out.insert(relative, b"<dir>".to_vec());
                stack.push(path);
            } else {
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn spawn(args: &[&str], cwd: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hashcycle"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls until `reached` holds for the staging directory while the child still runs, then kills it with
/// SIGKILL. Panics if the child ends first, since the kill would then test nothing.
fn kill_when(mut child: Child, staging: &Path, reached: impl Fn(&Path) -> bool) {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before the stage to kill it at was reached");
        }
        if reached(staging) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the child was killed by SIGKILL, not ended otherwise: {status}"
    );
}

fn staging_dir(out: &Path, name: &str, child: &Child) -> PathBuf {
    out.join(format!(".{name}.partial-{}", child.id()))
}

/// The visible entries of the output root: the results, and nothing half-written beside them.
fn visible_entries(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn hidden_entries(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn a_killed_run_leaves_the_previous_results_intact_and_the_next_run_cleans_up() {
    let dir = temp_dir("kill-run");
    let scenario = small_scenario(&dir, "small.toml", &[]);
    let scenario = scenario.to_str().unwrap();
    let out = dir.join("out");
    let results = out.join("small");

    // A first, complete run.
    let first = hashcycle(&["run", scenario, "--out", "out", "--paths", "3"], &dir);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_complete_run(&results);
    let before = snapshot(&results);

    // Killed while simulating, with the streamed tables partly written in the staging directory.
    let child = spawn(
        &[
            "run",
            scenario,
            "--out",
            "out",
            "--paths",
            LONG_RUN_PATHS,
            "--threads",
            "1",
        ],
        &dir,
    );
    let staging = staging_dir(&out, "small", &child);
    kill_when(child, &staging, |staging| {
        std::fs::metadata(staging.join("network.parquet")).is_ok_and(|m| m.len() > 0)
    });
    assert!(
        staging.is_dir(),
        "the kill landed mid-run, so the staging directory is still there"
    );
    assert_eq!(snapshot(&results), before, "the previous results changed");
    assert_eq!(visible_entries(&out), vec!["small"]);
    assert_complete_run(&results);

    // Killed while writing: the tables are done and charts are being drawn.
    let child = spawn(
        &[
            "run",
            scenario,
            "--out",
            "out",
            "--paths",
            WRITE_STAGE_PATHS,
            "--threads",
            "1",
        ],
        &dir,
    );
    let staging_2 = staging_dir(&out, "small", &child);
    kill_when(child, &staging_2, |staging| staging.join("charts").is_dir());
    assert!(
        staging_2.join("summary.parquet").is_file(),
        "the kill came after the tables were written"
    );
    assert_eq!(snapshot(&results), before, "the previous results changed");
    assert_eq!(visible_entries(&out), vec!["small"]);
    for file in parquet_files(&out, false) {
        hashcycle::output::parquet::read_frame(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }

    // The next run removes what the killed ones left and replaces the results.
    let next = hashcycle(&["run", scenario, "--out", "out", "--paths", "5"], &dir);
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    assert!(
        !staging.exists() && !staging_2.exists(),
        "stale staging directories remain"
    );
    assert_eq!(hidden_entries(&out), Vec::<String>::new());
    // The first run, of 3 paths, is a different run: it is kept beside the new results (issue 31).
    let visible = visible_entries(&out);
    assert_eq!(visible.len(), 2, "{visible:?}");
    assert_eq!(visible[0], "small");
    assert!(visible[1].starts_with("small.kept-"), "{visible:?}");
    assert_eq!(
        snapshot(&out.join(&visible[1])),
        before,
        "the kept results are the first run's"
    );
    assert_complete_run(&results);
    let run_json = std::fs::read_to_string(results.join("run.json")).unwrap();
    assert!(run_json.contains("\"paths\": 5"), "the new results replaced the old");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_sweep_leaves_the_previous_results_intact() {
    let dir = temp_dir("kill-sweep");
    small_scenario(&dir, "small.toml", &[]);
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "[sweep]\nname = \"s\"\nscenarios = [\"small.toml\"]\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3, 0.6]\n",
    )
    .unwrap();
    let out = dir.join("out");
    let results = out.join("s");
    let first = hashcycle(&["sweep", "sweep.toml", "--out", "out", "--paths", "2"], &dir);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = snapshot(&results);

    let child = spawn(
        &[
            "sweep",
            "sweep.toml",
            "--out",
            "out",
            "--paths",
            LONG_RUN_PATHS,
            "--threads",
            "1",
        ],
        &dir,
    );
    let staging = staging_dir(&out, "s", &child);
    kill_when(child, &staging, |staging| staging.join("paths.parquet").is_file());
    assert!(staging.is_dir());
    assert_eq!(snapshot(&results), before, "the previous results changed");
    assert_eq!(visible_entries(&out), vec!["s"]);
    for file in parquet_files(&results, false) {
        hashcycle::output::parquet::read_frame(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let cells = hashcycle::output::parquet::read_frame(&results.join("sweep.parquet")).unwrap();
    assert_eq!(cells.height(), 2);

    let next = hashcycle(&["sweep", "sweep.toml", "--out", "out", "--paths", "2"], &dir);
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    assert!(!staging.exists(), "the stale staging directory remains");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nothing_outside_the_output_directory_is_written_or_deleted() {
    let dir = temp_dir("outside");
    let scenario = small_scenario(&dir, "small.toml", &[]);
    let scenario = scenario.to_str().unwrap();
    // Beside the output root and in its parent: files, another directory, and a directory whose name looks
    // like a stale staging directory but is outside the output root.
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    std::fs::write(dir.join("elsewhere/precious.txt"), "keep me").unwrap();
    std::fs::create_dir_all(dir.join(".small.partial-999999999")).unwrap();
    // Inside the output root: other results, a file, another scenario's stale staging directory, and a file
    // and a symbolic link named like staging directories of this one (not ours, so left alone).
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("other_run")).unwrap();
    std::fs::write(out.join("other_run/network.parquet"), "not really").unwrap();
    std::fs::write(out.join("keep.txt"), "keep").unwrap();
    std::fs::create_dir_all(out.join(".other.partial-999999999")).unwrap();
    std::fs::write(out.join(".small.partial-999999998"), "a file, not a staging directory").unwrap();
    std::os::unix::fs::symlink(dir.join("elsewhere"), out.join(".small.replaced-999999997")).unwrap();
    // The results path itself is a symbolic link to a directory elsewhere: it is replaced, never followed.
    std::os::unix::fs::symlink(dir.join("elsewhere"), out.join("small")).unwrap();
    // A stale staging directory of this scenario, left by a process that no longer exists: it goes.
    let stale = out.join(".small.partial-999999996");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("network.parquet"), "truncated").unwrap();

    let mut before = snapshot(&dir);
    let run = hashcycle(&["run", scenario, "--out", "out", "--paths", "2"], &dir);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut after = snapshot(&dir);
    // What changed is exactly the results path (a link before, the results after) and the stale directory.
    let results = PathBuf::from("out/small");
    before.retain(|p, _| !p.starts_with(&results) && !p.starts_with("out/.small.partial-999999996"));
    after.retain(|p, _| !p.starts_with(&results));
    assert_eq!(before, after, "something outside the results changed");
    assert!(
        !stale.exists(),
        "the stale staging directory of this scenario was not removed"
    );
    assert!(out.join("small").is_dir() && !out.join("small").is_symlink());
    assert_complete_run(&out.join("small"));

    // `--out` naming a file fails cleanly, before anything is simulated, and leaves the file alone.
    let before = snapshot(&dir);
    let run = hashcycle(&["run", scenario, "--out", "notes.txt", "--paths", "2"], &dir);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not a directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(snapshot(&dir), before, "a failed run changed something");

    // A file where the results would go is the user's: the run refuses instead of deleting it.
    std::fs::create_dir_all(dir.join("out2")).unwrap();
    std::fs::write(dir.join("out2/small"), "my own file named like the scenario").unwrap();
    let before = snapshot(&dir);
    let run = hashcycle(&["run", scenario, "--out", "out2", "--paths", "2"], &dir);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a results directory"), "{stderr}");
    assert_eq!(snapshot(&dir), before, "a refused run changed something");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sets (`+i`) or clears (`-i`) a file's immutable attribute; false where that cannot be done.
fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes `file` impossible to delete: read-only parent directory for an ordinary user, the immutable
/// attribute for root (whom permissions do not stop). Returns the undo, given where the file is by then, or
/// `None` where neither works here.
fn make_undeletable(file: &Path) -> Option<fn(&Path)> {
    use std::os::unix::fs::PermissionsExt;
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(0o555)).unwrap();
        return Some(|file: &Path| {
            let _ = std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(0o755));
        });
    }
    if !chattr("+i", file) {
        return None;
    }
    Some(|file: &Path| {
        chattr("-i", file);
    })
}

/// Issue 30, defect 18: once new results are in place, old results that cannot be deleted (a file in them
/// that cannot be removed) are a warning naming where they were left, with exit status 0, not a failure;
/// and later runs of the same name still succeed.
#[test]
fn issue_30_old_results_that_cannot_be_deleted_are_a_warning_and_later_runs_succeed() {
    let dir = temp_dir("undeletable");
    let scenario = small_scenario(&dir, "small.toml", &[]);
    let out = dir.join("out");
    let run = || {
        hashcycle(
            &[
                "run",
                scenario.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--paths",
                "2",
            ],
            &dir,
        )
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let locked = out.join("small/kept/locked.txt");
    std::fs::create_dir_all(locked.parent().unwrap()).unwrap();
    std::fs::write(&locked, "cannot be deleted").unwrap();
    let Some(undo) = make_undeletable(&locked) else {
        // Neither permissions nor the immutable attribute can stop a deletion on this file system; the unit
        // test of `StagedDir` covers the commit with a deletion made to fail.
        eprintln!("no way to make a file undeletable here; the binary's part of this test did not run");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let mut leftover = PathBuf::new();
    for attempt in ["the run over them", "a later run"] {
        let result = run();
        let stderr = String::from_utf8_lossy(&result.stderr).to_string();
        assert_eq!(result.status.code(), Some(0), "{attempt}: {stderr}");
        assert!(stderr.contains("warning: "), "{attempt}: {stderr}");
        assert_complete_run(&out.join("small"));
        assert!(
            !out.join("small/kept").exists(),
            "{attempt}: the new results are the run's alone"
        );
        let hidden = hidden_entries(&out);
        assert_eq!(hidden.len(), 1, "{attempt}: {hidden:?}");
        assert!(
            hidden[0].starts_with(".small.leftover-") && stderr.contains(&hidden[0]),
            "{attempt}: the warning names the leftover {hidden:?}: {stderr}"
        );
        leftover = out.join(&hidden[0]);
    }
    // Deletable again, the leftover goes with the next run, silently.
    undo(&leftover.join("kept/locked.txt"));
    let result = run();
    let stderr = String::from_utf8_lossy(&result.stderr).to_string();
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(hidden_entries(&out).is_empty(), "{:?}", hidden_entries(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 31, friction 2: a run never silently replaces a different one. A 2-path run over a 3-path run keeps
/// the 3-path results beside the new ones and says where; the same 2-path run again replaces its own
/// results and keeps nothing more.
#[test]
fn issue_31_a_different_run_is_kept_and_the_same_run_again_is_replaced() {
    let dir = temp_dir("keep-runs");
    let scenario = small_scenario(&dir, "small.toml", &[]);
    let scenario = scenario.to_str().unwrap();
    let out = dir.join("out");
    let first = hashcycle(&["run", scenario, "--out", "out", "--paths", "3"], &dir);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = snapshot(&out.join("small"));

    let second = hashcycle(&["run", scenario, "--out", "out", "--paths", "2"], &dir);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    let visible = visible_entries(&out);
    assert_eq!(visible.len(), 2, "{visible:?}");
    assert!(visible[1].starts_with("small.kept-"), "{visible:?}");
    assert!(
        stderr.contains("held a different run") && stderr.contains(&visible[1]),
        "{stderr}"
    );
    assert_eq!(
        snapshot(&out.join(&visible[1])),
        before,
        "the 3-path results are kept whole"
    );
    assert_complete_run(&out.join("small"));

    let again = hashcycle(
        &["run", scenario, "--out", "out", "--paths", "2", "--threads", "1"],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(!stderr.contains("held a different run"), "{stderr}");
    assert_eq!(visible_entries(&out), visible, "the same run again keeps nothing more");
    assert_eq!(hidden_entries(&out), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
