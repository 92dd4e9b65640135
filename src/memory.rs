//! What a command may keep in memory of its paths. Most commands stream: a run and a sweep write each chunk
//! of paths as it finishes, and charts read their tables in slices. Three keep something of every path
//! until the end, because their figures need all paths at once: a replay keeps each path's months for its
//! bands, a backtest its hashrate and difficulty series, and a sensitivity each evaluation's metric. They
//! refuse, before simulating anything, more paths than fit in [`PATHS_MEMORY_BUDGET_BYTES`]. A run refuses more
//! path-months than its tables' footers hold ([`MAX_RUN_PATH_MONTHS`]).

/// Memory a command may plan to keep of its paths: 640 MiB, so that with its fixed needs (the scenario,
/// buffers, charts) it stays within 1 GiB.
pub const PATHS_MEMORY_BUDGET_BYTES: u64 = 640 << 20;

/// Bytes a vector of `len` elements of `T` may take once filled by pushing: its capacity can reach the next
/// power of two.
pub fn vec_bytes<T>(len: usize) -> u64 {
    (len.max(1).next_power_of_two() * std::mem::size_of::<T>()) as u64
}

/// `Ok` when keeping `bytes_per_path` of each of `n_paths` paths fits in the budget; otherwise a message saying
/// what `command` keeps, what it would need and how many paths fit.
pub fn paths_fit(command: &str, kept: &str, n_paths: u64, bytes_per_path: u64) -> Result<(), String> {
    let bytes_per_path = bytes_per_path.max(1);
    let max_paths = PATHS_MEMORY_BUDGET_BYTES / bytes_per_path;
    if n_paths <= max_paths {
        return Ok(());
    }
    Err(format!(
        "{n_paths} paths are more than {command} can hold: it keeps {kept} ({} bytes a path), so {n_paths} paths \
         would need {} MB where {} MB are allowed; at most {max_paths} paths fit (--paths)",
        bytes_per_path,
        n_paths.saturating_mul(bytes_per_path) / 1_000_000,
        PATHS_MEMORY_BUDGET_BYTES / 1_000_000
    ))
}

/// Path-months a run may write. A run streams its tables, but the Parquet encoder keeps each row group's
/// metadata until a file's footer, about 3 KB for every path of the base scenario's 120 months: a run of
/// 100,000 base paths (12 million path-months) peaked at 939 MB.
pub const MAX_RUN_PATH_MONTHS: u64 = 12_000_000;

/// `Ok` when a run of `n_paths` paths over `horizon_months` months stays within [`MAX_RUN_PATH_MONTHS`];
/// otherwise a message saying how many paths fit, and that a sweep (which keeps each path's outcome only)
/// takes more.
pub fn run_fits(n_paths: u32, horizon_months: u32) -> Result<(), String> {
    let path_months = u64::from(n_paths) * u64::from(horizon_months.max(1));
    if path_months <= MAX_RUN_PATH_MONTHS {
        return Ok(());
    }
    Err(format!(
        "{n_paths} paths of {horizon_months} months are more than a run writes: its tables' footers grow with \
         every path-month, and at most {MAX_RUN_PATH_MONTHS} path-months ({} paths of this horizon) fit in memory; \
         for more paths, run a sweep of the scenario, which keeps each path's outcome only (--paths)",
        MAX_RUN_PATH_MONTHS / u64::from(horizon_months.max(1))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_fit_pass_and_the_first_that_does_not_is_refused_with_the_limit() {
        let per_path = 1 << 20;
        let max = PATHS_MEMORY_BUDGET_BYTES / per_path;
        assert!(paths_fit("replay", "months", max, per_path).is_ok());
        let message = paths_fit("replay", "each path's months", max + 1, per_path).unwrap_err();
        assert!(message.contains(&format!("at most {max} paths fit")), "{message}");
        assert!(
            message.contains("more than replay can hold: it keeps each path's months"),
            "{message}"
        );
        assert_eq!(vec_bytes::<f64>(84), 128 * 8);
        assert_eq!(vec_bytes::<f64>(0), 8);
    }

    #[test]
    fn a_run_of_more_path_months_than_fit_is_refused_with_the_paths_that_fit() {
        assert!(run_fits(100_000, 120).is_ok());
        let message = run_fits(100_001, 120).unwrap_err();
        assert!(message.contains("(100000 paths of this horizon)"), "{message}");
        assert!(run_fits(12_000_000, 1).is_ok());
        assert!(run_fits(u32::MAX, u32::MAX).is_err());
    }
}
