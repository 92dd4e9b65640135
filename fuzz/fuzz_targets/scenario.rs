//! Fuzz target: arbitrary bytes as a scenario file must be accepted or rejected with located problems,
//! never panic, and the rejection must print.
//!
//! The bytes are decoded lossily, as the CLI refuses non-UTF-8 files before parsing (a test covers that),
//! so every input reaches the TOML parser and validation. Relative history files resolve against the
//! shipped `scenarios/` directory, so mutated `history_file` keys exercise the history readers too.

#![no_main]

use std::path::PathBuf;

use hashcycle::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let base_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    match Scenario::from_text(&text, "fuzz.toml", &base_dir) {
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
});
