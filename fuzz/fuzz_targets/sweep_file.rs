//! Fuzz target: arbitrary bytes as a sweep file must be accepted or rejected with located problems, never
//! panic; an accepted design must expand into its strategy cells without panicking either.
//!
//! Only the sweep file itself is fuzzed: the scenario files it names are loaded by `plan::build`, which the
//! scenario target covers through `Scenario::from_text`.

#![no_main]

use std::path::PathBuf;

use hashcycle::sweep::file::{self, Design};
use hashcycle::sweep::plan;
use libfuzzer_sys::fuzz_target;

/// Designs up to this many cells are expanded; larger ones are valid but slow to build in a fuzz loop.
const MAX_CELLS_EXPANDED: u64 = 10_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let base_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/sweeps");
    match file::from_text(&text, "fuzz_sweep.toml", &base_dir) {
        Ok(sweep) => {
            let n_cells = match &sweep.design {
                Design::Grid(axes) => axes
                    .iter()
                    .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64)),
                Design::LatinHypercube { n_points, .. } => u64::from(*n_points),
            };
            assert!(n_cells <= file::MAX_CELLS, "{n_cells} cells accepted");
            if n_cells <= MAX_CELLS_EXPANDED {
                let cells = plan::cells(&sweep.design);
                assert_eq!(cells.len() as u64, n_cells);
            }
        }
        Err(error) => {
            assert!(!error.problems.is_empty(), "an error with no problem");
            let message = error.to_string();
            assert!(message.contains("fuzz_sweep.toml:"), "{message}");
        }
    }
});
