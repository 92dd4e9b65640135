//! Simulates paths of a scenario without writing anything, for profilers:
//! `cargo run --release --example paths -- scenarios/base.toml 200 [HORIZON_MONTHS]` (file, number of paths,
//! optionally a horizon replacing the scenario's; one thread). Prints the path-months simulated and the rate.
//!
//! With `--sweep-checks`, paths run as a sweep runs them, with the conservation checks every 12th month and in
//! the last month instead of every month.
//!
//! With `--digest` anywhere among the arguments, each path is simulated twice, once keeping every monthly row
//! and event and once keeping its summary only, and one digest of everything both produced is printed: an
//! optimisation that leaves outputs identical leaves the digest unchanged.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use hashcycle::scenario::Scenario;
use hashcycle_model::engine::simulate_path;
use hashcycle_model::record::{Collect, OutcomeOnly, SummaryOnly};

fn main() {
    let (flags, mut args): (Vec<String>, Vec<String>) = std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let digest = flags.iter().any(|f| f == "--digest");
    let sweep_checks = flags.iter().any(|f| f == "--sweep-checks");
    if let Some(unknown) = flags.iter().find(|f| *f != "--digest" && *f != "--sweep-checks") {
        eprintln!("error: unknown flag {unknown} (the flags are --digest and --sweep-checks)");
        std::process::exit(1);
    }
    args.reverse();
    let file = PathBuf::from(args.pop().unwrap_or_else(|| "scenarios/base.toml".into()));
    let n_paths: u32 = args.pop().and_then(|s| s.parse().ok()).unwrap_or(200);
    let horizon_months: Option<u32> = args.pop().and_then(|s| s.parse().ok());
    let mut params = match Scenario::load(&file) {
        Ok(s) => s.params,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    if let Some(h) = horizon_months {
        params.simulation.horizon_months = h;
    }
    if digest {
        // Debug text prints every float to its last bit (shortest round trip, -0 apart from 0).
        let mut hasher = DefaultHasher::new();
        for p in 0..n_paths {
            let mut rows = Collect::default();
            let with_rows = simulate_path(&params, p, &mut rows);
            let summary_only = simulate_path(&params, p, &mut SummaryOnly);
            let outcome_only = simulate_path(&params, p, &mut OutcomeOnly);
            format!("{rows:?}{with_rows:?}{summary_only:?}{outcome_only:?}").hash(&mut hasher);
        }
        println!("digest of {n_paths} paths: {:016x}", hasher.finish());
        return;
    }
    let started = Instant::now();
    let path_months: u64 = (0..n_paths)
        .map(|p| {
            let summary = if sweep_checks {
                simulate_path(&params, p, &mut OutcomeOnly)
            } else {
                simulate_path(&params, p, &mut SummaryOnly)
            };
            u64::from(summary.n_months)
        })
        .sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{path_months} path-months in {seconds:.3} s: {:.0} path-months per second",
        path_months as f64 / seconds
    );
}
