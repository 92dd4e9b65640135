//! Benchmarks of the reference workloads. Throughput is reported in path-months per second
//! (`elements` in criterion's output). Run with `cargo bench`; figures go in `docs/performance.md`, and the
//! README keeps the current ones. Paths run as a sweep runs them (`OutcomeOnly`: conservation checks every
//! 12th month and the last) except `one_path`, which checks every month as `run` does.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

use hashcycle::batch::tables::{RunColumns, RunTable};
use hashcycle::output::tables::{Calendar, Names};
use hashcycle::scenario::Scenario;
use hashcycle_model::engine::simulate_path;
use hashcycle_model::params::Params;
use hashcycle_model::record::{OutcomeOnly, SummaryOnly};

fn base() -> Params {
    load("scenarios/base.toml")
}

fn load(file: &str) -> Params {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}")).params
}

fn one_path(c: &mut Criterion) {
    let params = base();
    let mut group = c.benchmark_group("one_path");
    group.throughput(Throughput::Elements(params.simulation.horizon_months as u64));
    group.bench_function("base_120_months", |b| {
        b.iter(|| simulate_path(&params, 0, &mut SummaryOnly))
    });
    group.finish();
}

fn many_paths(c: &mut Criterion) {
    let params = base();
    let mut group = c.benchmark_group("many_paths");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let n_paths = 1000u32;
        group.throughput(Throughput::Elements(
            n_paths as u64 * params.simulation.horizon_months as u64,
        ));
        group.bench_with_input(
            BenchmarkId::new("base_1000_paths_threads", threads),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| {
                        (0..n_paths)
                            .into_par_iter()
                            .map(|p| simulate_path(&params, p, &mut OutcomeOnly).n_months)
                            .sum::<u32>()
                    })
                })
            },
        );
    }
    group.finish();
}

/// The reduced configuration (`benches/reduced.toml`: one fleet of two segments in six regions, no
/// manufacturers, dealers or regions' extras, all-or-nothing switching), 1,000 paths on one thread: the
/// workload `benches/anchor.sh` compares with the NumPy anchor.
fn reduced(c: &mut Criterion) {
    let params = load("benches/reduced.toml");
    let n_paths = 1000u32;
    let mut group = c.benchmark_group("reduced");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(
        n_paths as u64 * params.simulation.horizon_months as u64,
    ));
    group.bench_function("reduced_1000_paths_one_thread", |b| {
        b.iter(|| {
            (0..n_paths)
                .map(|p| simulate_path(&params, p, &mut OutcomeOnly).n_months)
                .sum::<u32>()
        })
    });
    group.finish();
}

fn monthly_rows(c: &mut Criterion) {
    let params = base();
    let mut group = c.benchmark_group("monthly_rows");
    group.sample_size(10);
    group.throughput(Throughput::Elements(64 * params.simulation.horizon_months as u64));
    group.bench_function("base_64_paths_recorded", |b| {
        b.iter(|| {
            let mut columns = RunColumns::default();
            for p in 0..64 {
                simulate_path(&params, p, &mut columns);
            }
            columns.network.len()
        })
    });
    group.finish();
}

fn parquet_write(c: &mut Criterion) {
    let params = base();
    let mut columns = RunColumns::default();
    for p in 0..1000 {
        simulate_path(&params, p, &mut columns);
    }
    let names = Names::new(&params);
    let calendar = Calendar::new(&params, 0);
    let dir = std::env::temp_dir().join(format!("hashcycle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut group = c.benchmark_group("parquet_write");
    group.sample_size(10);
    group.throughput(Throughput::Elements(columns.network.len() as u64));
    group.bench_function("network_120k_rows", |b| {
        b.iter(|| {
            let df = columns.frame(RunTable::Network, &names, &calendar).unwrap();
            hashcycle::output::parquet::write_frame(&dir.join("network.parquet"), &df).unwrap();
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reference sweep (3 scenarios × 90 strategies) at 20 paths per cell, with `sweep.parquet`,
/// `paths.parquet`, charts and report written, on all cores.
fn reference_sweep(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n_paths = 20u32;
    let sweep = hashcycle::sweep::file::load(&root.join("scenarios/sweeps/futures_prepay.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let plan = hashcycle::sweep::plan::build(sweep, Some(n_paths), None).unwrap_or_else(|e| panic!("{e}"));
    let path_months: u64 = plan
        .scenarios
        .iter()
        .map(|s| plan.cells.len() as u64 * n_paths as u64 * s.first_cell_params.simulation.horizon_months as u64)
        .sum();
    let dir = std::env::temp_dir().join(format!("hashcycle-bench-sweep-{}", std::process::id()));
    let options = hashcycle::sweep::run::SweepOptions {
        out_dir: dir.clone(),
        threads: None,
        progress: false,
        monthly: false,
    };
    let mut group = c.benchmark_group("reference_sweep");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(path_months));
    group.bench_function("futures_prepay_20_paths", |b| {
        b.iter(|| {
            hashcycle::sweep::run::run(&plan, &options)
                .unwrap_or_else(|e| panic!("{e}"))
                .rows
                .len()
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(
    benches,
    one_path,
    many_paths,
    reduced,
    monthly_rows,
    parquet_write,
    reference_sweep
);
criterion_main!(benches);
