//! What every fuzz target asserts about one input, shared by the cargo-fuzz targets in `fuzz_targets/` and by
//! the stable test `tests/it/fuzz.rs`, which runs each target's seed corpus and a bounded, seeded mutation of
//! it through these same functions on every `cargo test` (and so in CI).
//!
//! Each function takes arbitrary bytes and the project's root directory (where `scenarios/` is); it returns
//! normally when hashcycle accepted or refused the input as it must, and panics (a crash, to the fuzzer) when
//! it panicked itself, accepted something unusable, or refused without saying where.

use std::path::Path;

use hashcycle::scenario::Scenario;
use hashcycle::sweep::file::{self, Design};
use hashcycle::sweep::merge;
use hashcycle::sweep::plan;
use hashcycle::sweep::shard::ShardSpec;

/// Designs up to this many cells are expanded; larger ones are valid but slow to build in a fuzz loop.
const MAX_CELLS_EXPANDED: u64 = 10_000;

/// Designs of up to this many (scenario, cell) pairs are built into a plan: each pair's parameters are
/// validated, which takes milliseconds, and what a larger design adds is more of the same.
const MAX_CELLS_PLANNED: u64 = 12;

/// Arbitrary bytes as a scenario file must be accepted or rejected with located problems, never panic, and
/// the rejection must print.
///
/// The bytes are decoded lossily, as the CLI refuses non-UTF-8 files before parsing (a test covers that), so
/// every input reaches the TOML parser and validation. Relative history files resolve against the shipped
/// `scenarios/` directory, so mutated `history_file` keys exercise the history readers too.
pub fn scenario(data: &[u8], project_dir: &Path) {
    let text = String::from_utf8_lossy(data);
    match Scenario::from_text(&text, "fuzz.toml", &project_dir.join("scenarios")) {
        Ok(scenario) => {
            // A valid scenario has what the engine relies on.
            let p = &scenario.params;
            assert!(p.simulation.horizon_months >= 1);
            assert!(p.simulation.n_paths >= 1);
            assert!(!p.regions.is_empty() && !p.generations.is_empty());
            assert!(p.price.start_price_usd.is_finite() && p.price.start_price_usd > 0.0);
        }
        Err(error) => {
            // A rejection always says why, and its message (which slices the text at problem spans) prints.
            assert!(!error.problems.is_empty(), "an error with no problem");
            let message = error.to_string();
            assert!(message.contains("fuzz.toml:"), "{message}");
        }
    }
}

/// Arbitrary bytes as a sweep file must be accepted or rejected with located problems, never panic; an
/// accepted design must expand into its strategy cells without panicking either.
///
/// Only the sweep file itself is read here: the scenario files it names are loaded by `plan::build`, which
/// `sweep_design` covers.
pub fn sweep_file(data: &[u8], project_dir: &Path) {
    let text = String::from_utf8_lossy(data);
    match file::from_text(&text, "fuzz_sweep.toml", &project_dir.join("scenarios/sweeps")) {
        Ok(sweep) => {
            let n_cells = n_cells(&sweep.design);
            assert!(n_cells <= file::MAX_CELLS, "{n_cells} cells accepted");
            if n_cells <= MAX_CELLS_EXPANDED {
                // Drawn as floats, and as whole numbers (a scenario's integer parameters).
                let whole_numbers = vec![true; sweep.design.parameters().len()];
                for whole_numbers in [&[][..], &whole_numbers[..]] {
                    let cells = plan::cells(&sweep.design, whole_numbers);
                    assert_eq!(cells.len() as u64, n_cells);
                }
            }
        }
        Err(error) => {
            assert!(!error.problems.is_empty(), "an error with no problem");
            let message = error.to_string();
            assert!(message.contains("fuzz_sweep.toml:"), "{message}");
        }
    }
}

/// Arbitrary bytes as a sweep file whose design is applied to the shipped scenarios it names: a design that
/// parses must either build a plan, with every cell's parameters valid in every scenario and the swept values
/// in place, or be refused with a message that names the sweep file or the cell; never panic.
pub fn sweep_design(data: &[u8], project_dir: &Path) {
    let text = String::from_utf8_lossy(data);
    let Ok(sweep) = file::from_text(&text, "fuzz_design.toml", &project_dir.join("scenarios/sweeps")) else {
        return; // `sweep_file` covers refusals of the file itself.
    };
    let n_cells = n_cells(&sweep.design);
    let n_scenarios = sweep.scenario_files.len();
    if n_cells.saturating_mul(n_scenarios as u64) > MAX_CELLS_PLANNED {
        return;
    }
    match plan::build(sweep, Some(1), None) {
        Ok(plan) => {
            assert_eq!(plan.cells.len() as u64, n_cells);
            assert_eq!(plan.scenarios.len(), n_scenarios);
            assert_eq!(plan.n_work_paths(), (n_scenarios as u64) * n_cells);
            for scenario in &plan.scenarios {
                assert!(scenario.focus_manufacturer_idx < scenario.first_cell_params.manufacturers.len());
                if let Some(reference) = scenario.reference_cell {
                    assert!((reference as usize) < plan.cells.len());
                }
                for cell in &plan.cells {
                    // Every cell was validated; its parameters build again, cell 0's as the plan kept them.
                    let params = scenario
                        .cell_params(cell)
                        .unwrap_or_else(|e| panic!("a planned cell's parameters do not build again: {e}"));
                    assert_eq!(params.simulation.n_paths, 1);
                    assert!(params.simulation.horizon_months >= 1);
                    if cell.cell_idx == 0 {
                        assert_eq!(format!("{params:?}"), format!("{:?}", scenario.first_cell_params));
                    }
                }
            }
            for (idx, cell) in plan.cells.iter().enumerate() {
                assert_eq!(cell.cell_idx as usize, idx);
                assert_eq!(cell.values.len(), plan.parameters.len());
            }
        }
        Err(message) => {
            // A problem of the design is located in the sweep file; a swept value a scenario refuses is named
            // with its cell and the override that set it.
            assert!(
                message.contains("fuzz_design.toml")
                    || (message.contains("cell ") && message.contains("sweep override")),
                "{message}"
            );
        }
    }
}

/// Arbitrary bytes as a shard's `shard.json`: merge must accept it only when every field agrees with the
/// plan rebuilt from the texts it records, so that nothing it then indexes lies outside that plan, and must
/// otherwise refuse it with problems; never panic.
pub fn merge_manifest(data: &[u8], project_dir: &Path) {
    let text = String::from_utf8_lossy(data);
    let value = serde_json::from_str::<serde_json::Value>(&text).ok();
    // A recorded sweep of many cells is valid but slow to rebuild in a fuzz loop.
    let sweep_text = value.as_ref().and_then(|v| v.get("sweep_text")?.as_str());
    if let Some(sweep) =
        sweep_text.and_then(|t| file::from_text(t, "s.toml", &project_dir.join("scenarios/sweeps")).ok())
        && n_cells(&sweep.design).saturating_mul(sweep.scenario_files.len() as u64) > MAX_CELLS_PLANNED
    {
        return;
    }
    // The shard the manifest says it is, when that is a shard at all (merge reads it from the directory name).
    let spec = value
        .and_then(|v| {
            let k = u32::try_from(v.get("shard")?.as_u64()?).ok()?;
            let n = u32::try_from(v.get("n_shards")?.as_u64()?).ok()?;
            (k < n).then_some(ShardSpec {
                shard_idx: k,
                n_shards: n,
            })
        })
        .unwrap_or(ShardSpec {
            shard_idx: 0,
            n_shards: 1,
        });
    match merge::check_manifest_text(&text, spec) {
        Ok((manifest, plan)) => {
            let n_work_paths = plan.n_work_paths();
            assert!(manifest.first_work_path <= manifest.end_work_path);
            assert!(manifest.end_work_path <= n_work_paths);
            assert_eq!(
                manifest.outcomes_rows,
                manifest.end_work_path - manifest.first_work_path
            );
            for unit in &manifest.work_units {
                assert!(unit.scenario_idx < plan.scenarios.len());
                assert!((unit.cell as usize) < plan.cells.len());
                assert!(unit.path_start < unit.path_end && unit.path_end <= plan.n_paths);
            }
            for failure in &manifest.failed_paths {
                let failure = failure.to_failure(&plan);
                let _ = failure.month();
            }
            assert!(!manifest.outcomes_file.contains(['/', '\\', '\0']));
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "a refusal with no problem");
            assert!(problems.iter().all(|p| !p.is_empty()));
        }
    }
}

/// The number of strategy cells a design describes.
fn n_cells(design: &Design) -> u64 {
    match design {
        Design::Grid(axes) => axes.iter().fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64)),
        Design::LatinHypercube { n_points, .. } => u64::from(*n_points),
    }
}
