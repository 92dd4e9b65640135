//! Simulates paths of a scenario without writing anything, for profilers:
//! `cargo run --release --example paths -- scenarios/base.toml 200 [HORIZON_MONTHS]` (file, number of paths,
//! optionally a horizon replacing the scenario's; one thread). Prints the path-months simulated and the rate.

use std::path::PathBuf;
use std::time::Instant;

use hashcycle::scenario::Scenario;
use hashcycle_model::engine::simulate_path;
use hashcycle_model::record::SummaryOnly;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().unwrap_or_else(|| "scenarios/base.toml".into()));
    let n_paths: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let horizon_months: Option<u32> = args.next().and_then(|s| s.parse().ok());
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
    let started = Instant::now();
    let path_months: u64 = (0..n_paths)
        .map(|p| u64::from(simulate_path(&params, p, &mut SummaryOnly).n_months))
        .sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{path_months} path-months in {seconds:.3} s: {:.0} path-months per second",
        path_months as f64 / seconds
    );
}
