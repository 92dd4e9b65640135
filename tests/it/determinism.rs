//! Output is a pure function of (scenario, seed): identical bytes for one thread or several.

use crate::support::{hashcycle, project_dir, temp_dir};

const TABLES: [&str; 6] = [
    "network.parquet",
    "miners.parquet",
    "manufacturers.parquet",
    "dealers.parquet",
    "events.parquet",
    "summary.parquet",
];

fn run(out: &std::path::Path, threads: &str, seed: &str) {
    let result = hashcycle(
        &[
            "run",
            "scenarios/base.toml",
            "--paths",
            "150",
            "--seed",
            seed,
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
}

#[test]
fn parquet_bytes_do_not_depend_on_thread_count() {
    let dir = temp_dir("determinism");
    let (one, two, other_seed) = (dir.join("one"), dir.join("two"), dir.join("other"));
    run(&one, "1", "7");
    run(&two, "2", "7");
    run(&other_seed, "2", "8");
    for table in TABLES {
        let a = std::fs::read(one.join("base").join(table)).unwrap();
        let b = std::fs::read(two.join("base").join(table)).unwrap();
        assert!(a == b, "{table} differs between 1 and 2 threads");
        let c = std::fs::read(other_seed.join("base").join(table)).unwrap();
        assert!(a != c, "{table} is the same for a different seed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_writes_every_table_and_provenance() {
    let dir = temp_dir("tables");
    run(&dir, "2", "3");
    let base = dir.join("base");
    for table in TABLES {
        let df = hashcycle::output::parquet::read_frame(&base.join(table)).unwrap();
        assert!(df.height() > 0, "{table} is empty");
    }
    let network = hashcycle::output::parquet::read_frame(&base.join("network.parquet")).unwrap();
    assert_eq!(network.height(), 150 * 120);
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["seed"], 3);
    assert_eq!(run_json["paths"], 150);
    assert!(run_json["scenario_text"].as_str().unwrap().contains("[simulation]"));
    assert_eq!(run_json["version"], env!("CARGO_PKG_VERSION"));
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep's sink takes no monthly rows, so the engine then keeps no events: what it skips must change
/// nothing in the model. Every path's summary is the same with and without rows, under uniform prices
/// (base), a bear market and a ban with tariffs (china_2021). A run's contract events split each fill over
/// regions: the units signed per contract add up to the contract's units.
#[test]
fn summaries_do_not_depend_on_whether_rows_and_events_are_kept() {
    use hashcycle_model::engine::simulate_path;
    use hashcycle_model::record::{Collect, EventKind, SummaryOnly};
    for name in ["base", "bear", "china_2021"] {
        let mut params = crate::support::params_with(name, &[]);
        params.simulation.horizon_months = params.simulation.horizon_months.min(48);
        let mut signed_events = 0;
        for path_idx in 0..6 {
            let mut rows = Collect::default();
            let with_rows = simulate_path(&params, path_idx, &mut rows);
            let without = simulate_path(&params, path_idx, &mut SummaryOnly);
            assert_eq!(
                format!("{with_rows:?}"),
                format!("{without:?}"),
                "{name}, path {path_idx}"
            );
            let signed: Vec<_> = crate::support::events_of(&rows, EventKind::ContractSigned).collect();
            let contracted: u64 = rows.manufacturers.iter().map(|m| m.units_sold_futures).sum();
            assert_eq!(
                signed.iter().map(|e| e.units).sum::<u64>(),
                contracted,
                "{name}, path {path_idx}"
            );
            signed_events += signed.len();
        }
        assert!(signed_events > 0, "{name}: no contracts signed");
    }
}

#[test]
fn issue_30_sweep_monthly_bytes_do_not_depend_on_thread_count() {
    // The monthly rows of a sweep stream a chunk of 128 paths at a time: 300 paths a cell make three chunks,
    // whose rows must reach the files in path order whatever finishes first.
    let dir = temp_dir("determinism-sweep-monthly");
    let small = project_dir().join("tests/data/small.toml");
    let sweep = dir.join("monthly.toml");
    std::fs::write(
        &sweep,
        format!(
            "[sweep]\nname = \"monthly\"\nscenarios = [{:?}]\npaths = 300\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.2, 0.8]\n",
            small.display().to_string()
        ),
    )
    .unwrap();
    let mut tables: Vec<Vec<Vec<u8>>> = vec![];
    for threads in ["1", "2"] {
        let out = dir.join(threads);
        let result = hashcycle(
            &[
                "sweep",
                sweep.to_str().unwrap(),
                "--monthly",
                "--threads",
                threads,
                "--out",
                out.to_str().unwrap(),
            ],
            &project_dir(),
        );
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let months = out.join("monthly/months");
        tables.push(
            ["network", "miners", "manufacturers", "dealers", "regions", "events"]
                .iter()
                .map(|t| std::fs::read(months.join(t).join("scenario=small/part-0.parquet")).unwrap())
                .collect(),
        );
    }
    assert!(
        tables[0] == tables[1],
        "a monthly table differs between 1 and 2 threads"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
