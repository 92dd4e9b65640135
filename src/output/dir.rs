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
        std::fs::create_dir_all(root).map_err(|e| OutputError::io(root, e))?;
        remove_stale(root, name)?;
        let pid = std::process::id();
        let staging_dir = root.join(format!(".{name}{PARTIAL_TAG}{pid}"));
        if staging_dir.exists() {
            std::fs::remove_dir_all(&staging_dir).map_err(|e| OutputError::io(&staging_dir, e))?;
        }
        std::fs::create_dir_all(&staging_dir).map_err(|e| OutputError::io(&staging_dir, e))?;
        Ok(StagedDir {
            final_dir: root.join(name),
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
        let parent = self.final_dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = self
            .final_dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let replaced = parent.join(format!(".{name}{REPLACED_TAG}{}", std::process::id()));
        let had_old = self.final_dir.exists();
        if had_old {
            std::fs::rename(&self.final_dir, &replaced).map_err(|e| OutputError::io(&self.final_dir, e))?;
        }
        std::fs::rename(&self.staging_dir, &self.final_dir).map_err(|e| OutputError::io(&self.final_dir, e))?;
        self.committed = true;
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

/// Writes a file so that it appears whole or not at all: into a hidden sibling, flushed to disk, then renamed.
/// Used for completion markers, which must never be seen half-written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}{PARTIAL_TAG}{}", std::process::id()));
    let mut file = std::fs::File::create(&partial).map_err(|e| OutputError::io(&partial, e))?;
    file.write_all(bytes).map_err(|e| OutputError::io(&partial, e))?;
    file.sync_all().map_err(|e| OutputError::io(&partial, e))?;
    drop(file);
    std::fs::rename(&partial, path).map_err(|e| OutputError::io(path, e))
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging_dir);
        }
    }
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
