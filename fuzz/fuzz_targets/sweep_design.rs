//! Fuzz target: arbitrary bytes as a sweep file whose design is applied to the scenarios it names (see `checks::sweep_design`).
//! The assertions live in `fuzz/checks.rs`, which `tests/it/fuzz.rs` also runs on every `cargo test`.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

// Each target uses one of the checks.
#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    checks::sweep_design(data, &Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
});
