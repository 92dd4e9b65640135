//! Crash-safe output directories: results are written into a hidden sibling directory and swapped into
//! place only when complete, so a run killed at any moment leaves the previous complete results (or none),
//! never a mixture or a truncated file.

use std::path::{Path, PathBuf};

use crate::output::OutputError;

const PARTIAL_TAG: &str = ".partial-";
const REPLACED_TAG: &str = ".replaced-";

/// A results directory being written.
pub struct StagedDir {
    final_dir: PathBuf,
    staging_dir: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Prepares `root/<name>`: removes staging directories left by killed runs, then creates a fresh one.
    pub fn create(root: &Path, name: &str) -> Result<StagedDir, OutputError> {
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
        remove_stale(root, name)?;
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
        })
    }

    pub fn path(&self) -> &Path {
        &self.staging_dir
    }

    pub fn final_path(&self) -> &Path {
        &self.final_dir
    }

    /// Swaps the finished results into place: the old directory is moved aside, the new one renamed in,
    /// and the old one deleted.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        // Flush every file to disk before the rename makes them visible, so that after a power loss the
        // results directory holds complete files rather than ones the rename outran.
        sync_tree(&self.staging_dir)?;
        let parent = self.final_dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = self
            .final_dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let replaced = parent.join(format!(".{name}{REPLACED_TAG}{}", std::process::id()));
        // Not `exists()`, which follows a symbolic link: a link at the final path (even a dangling one) is
        // moved aside like a directory, and only the link is deleted, never what it points to.
        let had_old = std::fs::symlink_metadata(&self.final_dir).is_ok();
        if had_old {
            std::fs::rename(&self.final_dir, &replaced).map_err(|e| OutputError::io(&self.final_dir, e))?;
        }
        std::fs::rename(&self.staging_dir, &self.final_dir).map_err(|e| OutputError::io(&self.final_dir, e))?;
        self.committed = true;
        // The renames themselves reach the disk with the parent directory.
        if let Ok(parent_dir) = std::fs::File::open(&parent) {
            let _ = parent_dir.sync_all();
        }
        if had_old {
            std::fs::remove_dir_all(&replaced).map_err(|e| OutputError::io(&replaced, e))?;
        }
        Ok(self.final_dir.clone())
    }

    /// Moves the entries `names` of the finished staging directory into `target`, one rename each and in the
    /// given order, replacing what is there, then removes the staging directory.
    /// This is for a results directory that also holds things this writer does not own (a sharded sweep's
    /// `shards/`, which other machines may still be writing), so it cannot be swapped whole.
    /// Each entry appears complete or not at all, so put the entry that marks the set complete last.
    pub fn publish_into(mut self, target: &Path, names: &[&str]) -> Result<(), OutputError> {
        let pid = std::process::id();
        for name in names {
            remove_stale(target, name)?;
            let from = self.staging_dir.join(name);
            let to = target.join(name);
            if to.is_dir() {
                // A directory cannot be renamed over a non-empty one: move the old one aside first.
                let replaced = target.join(format!(".{name}{REPLACED_TAG}{pid}"));
                std::fs::rename(&to, &replaced).map_err(|e| OutputError::io(&to, e))?;
                std::fs::rename(&from, &to).map_err(|e| OutputError::io(&to, e))?;
                std::fs::remove_dir_all(&replaced).map_err(|e| OutputError::io(&replaced, e))?;
            } else {
                std::fs::rename(&from, &to).map_err(|e| OutputError::io(&to, e))?;
            }
        }
        self.committed = true;
        std::fs::remove_dir_all(&self.staging_dir).map_err(|e| OutputError::io(&self.staging_dir, e))
    }
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
        if !self.committed {
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

/// Removes `.name.partial-PID` and `.name.replaced-PID` directories whose process has gone. A replaced
/// directory whose final directory is missing (killed between the two renames) is restored instead.
fn remove_stale(root: &Path, name: &str) -> Result<(), OutputError> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let prefix = format!(".{name}");
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let (tag, pid) = if let Some(pid) = rest.strip_prefix(PARTIAL_TAG) {
            (PARTIAL_TAG, pid)
        } else if let Some(pid) = rest.strip_prefix(REPLACED_TAG) {
            (REPLACED_TAG, pid)
        } else {
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
        let path = entry.path();
        let final_dir = root.join(name);
        if tag == REPLACED_TAG && !final_dir.exists() {
            std::fs::rename(&path, &final_dir).map_err(|e| OutputError::io(&path, e))?;
        } else {
            std::fs::remove_dir_all(&path).map_err(|e| OutputError::io(&path, e))?;
        }
    }
    Ok(())
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

    #[test]
    fn a_commit_replaces_previous_results_and_leaves_nothing_else() {
        let root = temp_root("commit");
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::write(root.join("base/old.txt"), "old").unwrap();
        let staged = StagedDir::create(&root, "base").unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        let dir = staged.commit().unwrap();
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
}
