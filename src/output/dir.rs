//! Crash-safe output directories: results are written into a hidden sibling directory and swapped into
//! place only when complete, so a run killed at any moment leaves the previous complete results (or none),
//! never a mixture or a truncated file.
//!
//! Results are never silently lost: when new results replace a directory that holds a different run (its
//! manifest, `run.json`, `sweep.json` or `backtest.json`, differs in anything but when and how fast it ran),
//! the old results are kept beside the new as `<name>.kept-<when it started>`. Results of the same inputs
//! (the same files again) are simply replaced.

use std::path::{Path, PathBuf};

use crate::output::OutputError;

const PARTIAL_TAG: &str = ".partial-";
const REPLACED_TAG: &str = ".replaced-";
/// Previous results whose deletion failed after new ones were published: garbage, never restored.
const LEFTOVER_TAG: &str = ".leftover-";
/// Previous results of a different run, moved aside to be kept under a visible name once the new ones are in
/// place; a run killed in between leaves them for the next one to keep or restore, never to delete.
const KEEPING_TAG: &str = ".keeping-";
/// What kept results are named: `<name>.kept-<the UTC start of their run>`.
const KEPT_TAG: &str = ".kept-";
/// The manifests that say what results a directory holds, in the order they are looked for.
const MANIFESTS: [&str; 3] = ["run.json", "sweep.json", "backtest.json"];
/// Manifest entries that say when and how fast a run went, not what it computed: left out when two
/// manifests are compared.
const VOLATILE_KEYS: [&str; 3] = ["started_at_utc", "wall_seconds", "threads"];

/// The entry of a results directory that another writer owns: a sharded sweep's shards, which shards on
/// other machines may still be writing. Publishing a result over the directory (a run, an unsharded sweep
/// or a merge of the same name) carries it untouched into the new directory, and nothing here ever deletes it.
pub const SHARDS_DIR: &str = "shards";

/// A results directory being written.
pub struct StagedDir {
    final_dir: PathBuf,
    staging_dir: PathBuf,
    committed: bool,
    /// Problems that did not stop the results from being published, such as old results that could not be
    /// deleted; the command reports them and still succeeds.
    warnings: Vec<String>,
}

/// Results swapped into place.
#[derive(Debug)]
pub struct Published {
    pub dir: PathBuf,
    /// What went wrong without harming the new results, each naming the path concerned.
    pub warnings: Vec<String>,
}

impl StagedDir {
    /// Prepares `root/<name>`: removes staging directories left by killed runs, then creates a fresh one.
    pub fn create(root: &Path, name: &str) -> Result<StagedDir, OutputError> {
        StagedDir::create_with(root, name, |path| std::fs::remove_dir_all(path))
    }

    /// `create`, deleting what earlier runs left with `remove_dir_all`, so that tests can make it fail.
    fn create_with(
        root: &Path,
        name: &str,
        remove_dir_all: impl Fn(&Path) -> std::io::Result<()>,
    ) -> Result<StagedDir, OutputError> {
        if root.exists() && !root.is_dir() {
            return Err(OutputError::io(
                root,
                std::io::Error::other("the output directory given is not a directory"),
            ));
        }
        std::fs::create_dir_all(root).map_err(|e| OutputError::io(root, e))?;
        // Whatever is at the final path is moved aside and deleted on commit. A previous result is a
        // directory; anything else (a file the user keeps there) is not ours to delete, so refuse before
        // any work is done. A symbolic link is only ever renamed and unlinked, never followed.
        let final_dir = root.join(name);
        if let Ok(metadata) = std::fs::symlink_metadata(&final_dir)
            && !metadata.is_dir()
            && !metadata.file_type().is_symlink()
        {
            return Err(OutputError::io(
                &final_dir,
                std::io::Error::other("exists and is not a results directory; move it away or choose another --out"),
            ));
        }
        let mut warnings = vec![];
        remove_stale(root, name, &remove_dir_all, &mut warnings)?;
        let pid = std::process::id();
        let staging_dir = root.join(format!(".{name}{PARTIAL_TAG}{pid}"));
        if staging_dir.exists() {
            std::fs::remove_dir_all(&staging_dir).map_err(|e| OutputError::io(&staging_dir, e))?;
        }
        std::fs::create_dir_all(&staging_dir).map_err(|e| OutputError::io(&staging_dir, e))?;
        Ok(StagedDir {
            final_dir,
            staging_dir,
            committed: false,
            warnings,
        })
    }

    pub fn path(&self) -> &Path {
        &self.staging_dir
    }

    pub fn final_path(&self) -> &Path {
        &self.final_dir
    }

    /// Swaps the finished results into place: the old directory is moved aside, its `shards/` (if any) moved
    /// into the new one, the new one renamed in, and the old one deleted.
    ///
    /// Once the new directory is in place the results are published: failing to delete the old one (a file
    /// in it that cannot be removed) is a warning naming where it was left, not an error, and later runs of
    /// the same name are not held up by it.
    pub fn commit(mut self) -> Result<Published, OutputError> {
        self.commit_with(|path| std::fs::remove_dir_all(path))
    }

    /// `commit`, deleting the old results with `remove_dir_all`, so that tests can make the deletion fail.
    fn commit_with(&mut self, remove_dir_all: impl Fn(&Path) -> std::io::Result<()>) -> Result<Published, OutputError> {
        // Flush every file to disk before the rename makes them visible, so that after a power loss the
        // results directory holds complete files rather than ones the rename outran.
        sync_tree(&self.staging_dir)?;
        let parent = self.final_dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = self
            .final_dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let pid = std::process::id();
        // Not `exists()`, which follows a symbolic link: a link at the final path (even a dangling one) is
        // moved aside like a directory, and only the link is deleted, never what it points to.
        let old = std::fs::symlink_metadata(&self.final_dir).ok();
        // A directory holding a different run is kept; anything else there is replaced.
        let keep =
            old.as_ref().is_some_and(std::fs::Metadata::is_dir) && holds_other_run(&self.final_dir, &self.staging_dir);
        let tag = if keep { KEEPING_TAG } else { REPLACED_TAG };
        let replaced = parent.join(format!(".{name}{tag}{pid}"));
        if old.is_some() {
            std::fs::rename(&self.final_dir, &replaced).map_err(|e| OutputError::io(&self.final_dir, e))?;
        }
        // Only a real directory has entries to carry over; a symbolic link is never followed.
        let carried = if old.as_ref().is_some_and(std::fs::Metadata::is_dir) {
            match carry_shards(&replaced, &self.staging_dir) {
                Ok(carried) => carried,
                Err(e) => {
                    let _ = std::fs::rename(&replaced, &self.final_dir);
                    return Err(e);
                }
            }
        } else {
            false
        };
        if let Err(e) = std::fs::rename(&self.staging_dir, &self.final_dir) {
            // Put everything back as it was, the shards first.
            if carried {
                let _ = std::fs::rename(self.staging_dir.join(SHARDS_DIR), replaced.join(SHARDS_DIR));
            }
            if old.is_some() {
                let _ = std::fs::rename(&replaced, &self.final_dir);
            }
            return Err(OutputError::io(&self.final_dir, e));
        }
        self.committed = true;
        // The renames themselves reach the disk with the parent directory.
        if let Ok(parent_dir) = std::fs::File::open(&parent) {
            let _ = parent_dir.sync_all();
        }
        if keep {
            match keep_aside(&replaced, &parent, &name) {
                Ok(kept) => self.warnings.push(format!(
                    "{} held a different run; it is kept as {}",
                    self.final_dir.display(),
                    kept.display()
                )),
                Err(e) => self.warnings.push(format!(
                    "{} held a different run; it could not be renamed ({e}) and is kept as {}",
                    self.final_dir.display(),
                    replaced.display()
                )),
            }
        } else if old.is_some()
            && let Err(e) = remove_dir_all(&replaced)
        {
            // The old results are partly deleted: renamed so that they can never be mistaken for results
            // moved aside by a killed run, and restored.
            let leftover = parent.join(format!(".{name}{LEFTOVER_TAG}{pid}"));
            let left_at = if std::fs::rename(&replaced, &leftover).is_ok() {
                leftover
            } else {
                replaced
            };
            self.warnings.push(format!(
                "the previous results of {} could not be deleted ({e}); they are left in {}, which you may delete",
                self.final_dir.display(),
                left_at.display()
            ));
        }
        Ok(Published {
            dir: self.final_dir.clone(),
            warnings: std::mem::take(&mut self.warnings),
        })
    }
}

/// A manifest's content without the entries that say when and how fast its run went, or `None` when the
/// directory has no manifest. A manifest that cannot be read compares as itself, byte for byte.
fn manifest_identity(dir: &Path) -> Option<(&'static str, serde_json::Value)> {
    let (file, text) = MANIFESTS
        .iter()
        .find_map(|&file| std::fs::read_to_string(dir.join(file)).ok().map(|text| (file, text)))?;
    let mut value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    strip_volatile(&mut value);
    Some((file, value))
}

fn strip_volatile(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for key in VOLATILE_KEYS {
                map.remove(key);
            }
            map.values_mut().for_each(strip_volatile);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// Whether `old` holds the results of a run other than the one in `new`: it has a manifest, and the new
/// results have none or a different one.
fn holds_other_run(old: &Path, new: &Path) -> bool {
    match manifest_identity(old) {
        None => false,
        Some(old_identity) => manifest_identity(new) != Some(old_identity),
    }
}

/// The visible name kept results of `name` get, from when their run started (`started_at_utc` in their
/// manifest; "previous" without one), made unique in `parent`.
fn kept_name(dir: &Path, parent: &Path, name: &str) -> PathBuf {
    let started = MANIFESTS
        .iter()
        .find_map(|&file| std::fs::read_to_string(dir.join(file)).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.get("started_at_utc").and_then(|s| s.as_str()).map(str::to_string))
        .map(|s| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
                .collect::<String>()
        })
        .unwrap_or_else(|| "previous".into());
    let base = format!("{name}{KEPT_TAG}{started}");
    let mut candidate = parent.join(&base);
    let mut n = 2;
    while std::fs::symlink_metadata(&candidate).is_ok() {
        candidate = parent.join(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// Renames results moved aside for keeping to their visible kept name; returns it.
fn keep_aside(aside: &Path, parent: &Path, name: &str) -> std::io::Result<PathBuf> {
    let kept = kept_name(aside, parent, name);
    std::fs::rename(aside, &kept)?;
    Ok(kept)
}

/// Moves `from/shards` to `to/shards`, if there is one; says whether it did.
fn carry_shards(from: &Path, to: &Path) -> Result<bool, OutputError> {
    let shards = from.join(SHARDS_DIR);
    if std::fs::symlink_metadata(&shards).is_err() {
        return Ok(false);
    }
    let target = to.join(SHARDS_DIR);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(OutputError::io(
            &target,
            std::io::Error::other(format!(
                "the new results hold a {SHARDS_DIR} entry of their own, which would hide the shards in {}",
                shards.display()
            )),
        ));
    }
    std::fs::rename(&shards, &target).map_err(|e| OutputError::io(&shards, e))?;
    Ok(true)
}

/// Longest name a scenario or sweep may have, in bytes: it names a directory, and the staging names built
/// from it (`.NAME.partial-PID`) must stay within common file systems' 255-byte limit.
pub const MAX_OUTPUT_NAME_BYTES: usize = 100;

/// Why `name` cannot name a results directory, or `None` if it can: a name is 1 to `MAX_OUTPUT_NAME_BYTES`
/// ASCII letters, digits, '_', '-' or '.', and does not start with '.', so that it can be neither `.` nor
/// `..` nor one of the hidden staging names this module keeps beside a results directory.
pub fn output_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if name.len() > MAX_OUTPUT_NAME_BYTES {
        return Some(format!(
            "is {} bytes long; at most {MAX_OUTPUT_NAME_BYTES} are allowed",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return Some("must not start with '.' (`.`, `..` and hidden names are refused)".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Some("may hold only letters, digits, '_', '-' and '.'".into());
    }
    None
}

/// Writes `bytes` to `path` so that the file appears whole or not at all (see `write_atomic_with`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic_with(path, |temp| {
        std::fs::write(temp, bytes).map_err(|e| OutputError::io(temp, e))
    })
}

/// Writes a file whole or not at all, the one way every file is replaced in place: `write` fills a hidden
/// sibling, which is flushed to disk and then renamed over `path`, and the rename is flushed with the parent
/// directory. Results directories are staged as a whole, but completion markers (a shard's manifest) must
/// never be seen half-written, and `hashcycle plot` redraws charts and the report inside a finished
/// directory: a process killed or a machine losing power there must leave the old file or the new one,
/// never a truncated one. The sibling keeps `path`'s extension because encoders such as the PNG writer
/// choose the format by it.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<(), OutputError>) -> Result<(), OutputError> {
    let temp = temp_sibling(path);
    let written = write(&temp).and_then(|()| {
        let file = std::fs::File::open(&temp).map_err(|e| OutputError::io(&temp, e))?;
        file.sync_all().map_err(|e| OutputError::io(&temp, e))
    });
    let renamed = written.and_then(|()| std::fs::rename(&temp, path).map_err(|e| OutputError::io(path, e)));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed?;
    // Some file systems cannot sync a directory handle; the file itself is what matters.
    if let Some(parent) = path.parent()
        && let Ok(parent_dir) = std::fs::File::open(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
    {
        let _ = parent_dir.sync_all();
    }
    Ok(())
}

/// A hidden name beside `path` for writing it, `.stem.tmp-PID.ext`.
fn temp_sibling(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let pid = std::process::id();
    match path.extension() {
        Some(ext) => path.with_file_name(format!(".{stem}.tmp-{pid}.{}", ext.to_string_lossy())),
        None => path.with_file_name(format!(".{stem}.tmp-{pid}")),
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // Shards a failed commit could not put back stay with the staging directory, which the next run of
        // this name returns to the results directory.
        if !self.committed && std::fs::symlink_metadata(self.staging_dir.join(SHARDS_DIR)).is_err() {
            let _ = std::fs::remove_dir_all(&self.staging_dir);
        }
    }
}

/// Flushes every file and directory under `dir` to disk.
fn sync_tree(dir: &Path) -> Result<(), OutputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| OutputError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| OutputError::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| OutputError::io(&path, e))?;
        if file_type.is_dir() {
            sync_tree(&path)?;
        } else if file_type.is_file() {
            let file = std::fs::File::open(&path).map_err(|e| OutputError::io(&path, e))?;
            file.sync_all().map_err(|e| OutputError::io(&path, e))?;
        }
    }
    let handle = std::fs::File::open(dir).map_err(|e| OutputError::io(dir, e))?;
    // Some file systems cannot sync a directory handle; the files themselves are what matters.
    let _ = handle.sync_all();
    Ok(())
}

/// Whether a process with this id is running (Linux); elsewhere, assume it is.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Removes `.name.partial-PID`, `.name.replaced-PID` and `.name.leftover-PID` directories whose process has
/// gone. A replaced directory whose final directory is missing (killed between the two renames) is restored
/// instead; a `.name.keeping-PID` directory (a different run moved aside) is restored the same way, or else
/// kept under its visible kept name, never deleted. A `shards/` that a killed publish left in one of them goes back into the results directory
/// first, so that no shard is ever deleted with it. A directory that cannot be deleted is a warning: the
/// new run does not depend on it.
fn remove_stale(
    root: &Path,
    name: &str,
    remove_dir_all: &impl Fn(&Path) -> std::io::Result<()>,
    warnings: &mut Vec<String>,
) -> Result<(), OutputError> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(());
    };
    let final_dir = root.join(name);
    let prefix = format!(".{name}");
    let mut stale: Vec<(&str, PathBuf)> = vec![];
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((tag, pid)) = [PARTIAL_TAG, REPLACED_TAG, LEFTOVER_TAG, KEEPING_TAG]
            .into_iter()
            .find_map(|tag| rest.strip_prefix(tag).map(|pid| (tag, pid)))
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        // Only directories are ours: a file or a symbolic link with such a name is left alone.
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        stale.push((tag, entry.path()));
    }
    // Results moved aside are restored before anything is deleted, so that shards left elsewhere can go
    // back into them.
    stale.sort_by_key(|(tag, path)| (*tag != REPLACED_TAG && *tag != KEEPING_TAG, path.clone()));
    for (tag, path) in stale {
        let moved_aside = tag == REPLACED_TAG || tag == KEEPING_TAG;
        if moved_aside && std::fs::symlink_metadata(&final_dir).is_err() {
            std::fs::rename(&path, &final_dir).map_err(|e| OutputError::io(&path, e))?;
            continue;
        }
        if tag == KEEPING_TAG {
            // A different run's results, moved aside by a run killed before it could keep them: kept now.
            match keep_aside(&path, root, name) {
                Ok(kept) => warnings.push(format!(
                    "{} held a different run, moved aside by an interrupted run; it is kept as {}",
                    final_dir.display(),
                    kept.display()
                )),
                Err(e) => warnings.push(format!(
                    "{} holds a different run's results left by an interrupted run and could not be renamed ({e}); it is kept there",
                    path.display()
                )),
            }
            continue;
        }
        if !rescue_shards(&path, &final_dir, warnings)? {
            continue;
        }
        if let Err(e) = remove_dir_all(&path) {
            warnings.push(format!(
                "{} is left from an earlier run and could not be deleted ({e}); you may delete it",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Moves a `shards/` out of a stale directory into the results directory `final_dir`, creating it if need
/// be. Returns false, with a warning, when the stale directory must be kept because its shards have nowhere
/// to go (the results directory has its own `shards/`, or is not a directory).
fn rescue_shards(stale: &Path, final_dir: &Path, warnings: &mut Vec<String>) -> Result<bool, OutputError> {
    let shards = stale.join(SHARDS_DIR);
    if std::fs::symlink_metadata(&shards).is_err() {
        return Ok(true);
    }
    let target = final_dir.join(SHARDS_DIR);
    let room = match std::fs::symlink_metadata(final_dir) {
        Err(_) => {
            std::fs::create_dir(final_dir).map_err(|e| OutputError::io(final_dir, e))?;
            true
        }
        Ok(metadata) => metadata.is_dir() && std::fs::symlink_metadata(&target).is_err(),
    };
    if !room {
        warnings.push(format!(
            "{} was kept: it holds shards ({SHARDS_DIR}/) left by an interrupted run, and {} has a {SHARDS_DIR}/ of its own; compare them and move what you need",
            stale.display(),
            final_dir.display()
        ));
        return Ok(false);
    }
    std::fs::rename(&shards, &target).map_err(|e| OutputError::io(&shards, e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No process can have this id: Linux caps process ids at 2^22.
    const DEAD_PID: u32 = 999_999_999;

    fn temp_root(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("hashcycle-unit-dir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    #[test]
    fn results_moved_aside_by_a_run_killed_between_its_renames_are_restored() {
        let root = temp_root("restore");
        let replaced = root.join(format!(".base{REPLACED_TAG}{DEAD_PID}"));
        std::fs::create_dir_all(&replaced).unwrap();
        std::fs::write(replaced.join("run.json"), "{}").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("base/run.json")).unwrap(), "{}");
        assert!(!replaced.exists());
        drop(staged);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn only_stale_staging_directories_of_this_name_are_removed() {
        let root = temp_root("stale");
        let stale = root.join(format!(".base{PARTIAL_TAG}{DEAD_PID}"));
        let live = root.join(format!(".base{PARTIAL_TAG}1"));
        let other_name = root.join(format!(".bear{PARTIAL_TAG}{DEAD_PID}"));
        let a_file = root.join(format!(".base{PARTIAL_TAG}{}", DEAD_PID - 1));
        for dir in [&stale, &live, &other_name] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&a_file, "not a directory").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        assert!(!stale.exists(), "a dead process's staging directory remains");
        assert!(live.exists(), "process 1 is alive: its staging directory must stay");
        assert!(
            other_name.exists() && a_file.exists(),
            "not this name's, or not a directory"
        );
        // The new staging directory is cleaned up when dropped without a commit.
        let staging = staged.path().to_path_buf();
        assert!(staging.is_dir());
        drop(staged);
        assert!(!staging.exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    fn cannot_delete(_: &Path) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
    }

    /// Issue 30, defect 18: the new results are published even when the old ones cannot be deleted; the
    /// leftover is a warning naming it, is never restored as results, and does not stop later runs.
    #[test]
    fn issue_30_old_results_that_cannot_be_deleted_are_a_warning_and_later_runs_succeed() {
        let root = temp_root("undeletable");
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::write(root.join("base/old.txt"), "old").unwrap();
        let mut staged = StagedDir::create(&root, "base").unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        let published = staged.commit_with(cannot_delete).unwrap();
        drop(staged);
        assert_eq!(published.dir, root.join("base"));
        assert_eq!(names_in(&published.dir), vec!["new.txt"]);
        let leftover = format!(".base{LEFTOVER_TAG}{}", std::process::id());
        assert_eq!(names_in(&root), vec![leftover.clone(), "base".to_string()]);
        assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);
        assert!(
            published.warnings[0].contains(&root.join(&leftover).display().to_string()),
            "{:?}",
            published.warnings
        );
        // As left by a process that has gone, still undeletable: a later run warns and carries on, and the
        // leftover is not taken for results moved aside, even with the results gone.
        let stale = root.join(format!(".base{LEFTOVER_TAG}{DEAD_PID}"));
        std::fs::rename(root.join(&leftover), &stale).unwrap();
        std::fs::remove_dir_all(root.join("base")).unwrap();
        let staged = StagedDir::create_with(&root, "base", cannot_delete).unwrap();
        assert!(stale.is_dir() && !root.join("base").exists());
        assert_eq!(staged.warnings.len(), 1, "{:?}", staged.warnings);
        assert!(
            staged.warnings[0].contains(&stale.display().to_string()),
            "{:?}",
            staged.warnings
        );
        let published = staged.commit().unwrap();
        assert_eq!(published.warnings.len(), 1);
        // Once it can be deleted, the next run deletes it.
        let staged = StagedDir::create(&root, "base").unwrap();
        assert!(!stale.exists() && staged.warnings.is_empty());
        drop(staged);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Issue 30, defect 8: publishing over a results directory carries its `shards/` into the new one,
    /// untouched, whatever else of the old results goes.
    #[test]
    fn issue_30_publishing_carries_the_shards_into_the_new_results() {
        let root = temp_root("carry");
        let running = root.join(format!("base/{SHARDS_DIR}/.0-of-2{PARTIAL_TAG}1"));
        std::fs::create_dir_all(&running).unwrap();
        std::fs::write(running.join("paths.parquet"), "being written").unwrap();
        std::fs::write(root.join("base/old.txt"), "old").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        let published = staged.commit().unwrap();
        assert!(published.warnings.is_empty(), "{:?}", published.warnings);
        assert_eq!(names_in(&published.dir), vec!["new.txt", SHARDS_DIR]);
        assert_eq!(
            std::fs::read_to_string(running.join("paths.parquet")).unwrap(),
            "being written"
        );
        assert_eq!(names_in(&root), vec!["base"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A publish killed after the shards moved into the new results but before those were renamed into
    /// place: the next run restores the old results and returns the shards to them before deleting anything.
    #[test]
    fn shards_left_in_the_staging_directory_of_a_killed_publish_go_back_to_the_results() {
        let root = temp_root("rescue");
        let replaced = root.join(format!(".base{REPLACED_TAG}{DEAD_PID}"));
        let partial = root.join(format!(".base{PARTIAL_TAG}{DEAD_PID}"));
        std::fs::create_dir_all(&replaced).unwrap();
        std::fs::write(replaced.join("old.txt"), "old").unwrap();
        std::fs::create_dir_all(partial.join(format!("{SHARDS_DIR}/0-of-1"))).unwrap();
        std::fs::write(partial.join(format!("{SHARDS_DIR}/0-of-1/shard.json")), "{}").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        assert!(staged.warnings.is_empty(), "{:?}", staged.warnings);
        assert_eq!(names_in(&root.join("base")), vec!["old.txt", SHARDS_DIR]);
        assert_eq!(
            std::fs::read_to_string(root.join(format!("base/{SHARDS_DIR}/0-of-1/shard.json"))).unwrap(),
            "{}"
        );
        assert!(!partial.exists() && !replaced.exists());
        drop(staged);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_commit_replaces_previous_results_and_leaves_nothing_else() {
        let root = temp_root("commit");
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::write(root.join("base/old.txt"), "old").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        let dir = staged.commit().unwrap().dir;
        assert_eq!(dir, root.join("base"));
        assert!(!root.join("base/old.txt").exists());
        assert_eq!(std::fs::read_to_string(root.join("base/new.txt")).unwrap(), "new");
        let entries: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("base")]);
        let _ = std::fs::remove_dir_all(&root);
    }

    fn visible(dir: &Path) -> Vec<String> {
        names_in(dir).into_iter().filter(|n| !n.starts_with('.')).collect()
    }

    fn write_manifest(dir: &Path, json: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("run.json"), json).unwrap();
    }

    /// Issue 31, friction 2: results of a different run are kept beside the new ones, named by when their run
    /// started, and the command says so.
    #[test]
    fn issue_31_a_different_run_is_kept_beside_the_new_results() {
        let root = temp_root("keep-different");
        write_manifest(
            &root.join("base"),
            r#"{"paths": 1000, "started_at_utc": "2026-01-02T03:04:05Z"}"#,
        );
        std::fs::write(root.join("base/summary.parquet"), "thousand paths").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        write_manifest(
            staged.path(),
            r#"{"paths": 20, "started_at_utc": "2026-01-03T00:00:00Z"}"#,
        );
        let published = staged.commit().unwrap();
        let kept = root.join("base.kept-2026-01-02T03-04-05Z");
        assert_eq!(visible(&root), ["base", "base.kept-2026-01-02T03-04-05Z"]);
        assert_eq!(
            std::fs::read_to_string(kept.join("summary.parquet")).unwrap(),
            "thousand paths"
        );
        assert!(
            std::fs::read_to_string(root.join("base/run.json"))
                .unwrap()
                .contains("20")
        );
        assert_eq!(published.warnings.len(), 1, "{:?}", published.warnings);
        assert!(published.warnings[0].contains("kept as"), "{:?}", published.warnings);

        // A third, different run keeps the second; names never collide.
        let staged = StagedDir::create(&root, "base").unwrap();
        write_manifest(
            staged.path(),
            r#"{"paths": 5, "started_at_utc": "2026-01-02T03:04:05Z"}"#,
        );
        staged.commit().unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        write_manifest(
            staged.path(),
            r#"{"paths": 6, "started_at_utc": "2026-01-04T00:00:00Z"}"#,
        );
        staged.commit().unwrap();
        assert_eq!(
            visible(&root),
            [
                "base",
                "base.kept-2026-01-02T03-04-05Z",
                "base.kept-2026-01-02T03-04-05Z-2",
                "base.kept-2026-01-03T00-00-00Z"
            ]
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The same inputs again (only when and how fast it ran differ) replace their results: nothing is lost.
    #[test]
    fn issue_31_the_same_run_again_replaces_its_results() {
        let root = temp_root("keep-same");
        write_manifest(
            &root.join("base"),
            r#"{"paths": 3, "started_at_utc": "A", "wall_seconds": 1.5, "threads": 1, "calibration": {"wall_seconds": 4}}"#,
        );
        let staged = StagedDir::create(&root, "base").unwrap();
        write_manifest(
            staged.path(),
            r#"{"paths": 3, "started_at_utc": "B", "wall_seconds": 0.5, "threads": 2, "calibration": {"wall_seconds": 9}}"#,
        );
        let published = staged.commit().unwrap();
        assert_eq!(visible(&root), ["base"]);
        assert!(published.warnings.is_empty(), "{:?}", published.warnings);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A run killed after moving a different run aside to keep it, before naming it: the next run keeps it
    /// (or, with no results in place, restores it), and never deletes it.
    #[test]
    fn issue_31_a_different_run_moved_aside_by_a_killed_run_is_kept_not_deleted() {
        let root = temp_root("keep-killed");
        write_manifest(
            &root.join(format!(".base{KEEPING_TAG}{DEAD_PID}")),
            r#"{"paths": 7, "started_at_utc": "T1"}"#,
        );
        write_manifest(&root.join("base"), r#"{"paths": 8}"#);
        let staged = StagedDir::create(&root, "base").unwrap();
        assert_eq!(visible(&root), ["base", "base.kept-T1"]);
        drop(staged);

        let root2 = temp_root("keep-killed-restore");
        write_manifest(
            &root2.join(format!(".base{KEEPING_TAG}{DEAD_PID}")),
            r#"{"paths": 7, "started_at_utc": "T1"}"#,
        );
        let staged = StagedDir::create(&root2, "base").unwrap();
        assert_eq!(visible(&root2), ["base"]);
        assert!(
            std::fs::read_to_string(root2.join("base/run.json"))
                .unwrap()
                .contains('7')
        );
        drop(staged);
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&root2);
    }
}
