//! The command line: `run`, `check`, `sweep` (whole or one shard), `merge`, `plot`, `sensitivity`, `waterfall`,
//! `backtest`, `replay` and `calibrate`.
//! Parses arguments, calls the library, reports outcomes.
//!
//! Exit status: 0 success; 1 a bad scenario or bad usage (nothing written); 2 a runtime or IO failure,
//! including paths stopped by a failed check (their results are still written).

// The argument types' doc comments are the `--help` text, where `<NAME>` is the convention for a value to
// fill in; rustdoc would read those as unclosed HTML tags.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::batch::{self, RunOptions};
use crate::scenario::Scenario;
use crate::scenario::validate::MAX_PATHS;
use crate::sweep::run::CellFailure;
use hashcycle_model::record::PathFailure;
use hashcycle_model::units::YearMonth;

#[derive(Parser, Debug)]
#[command(
    name = "hashcycle",
    version,
    about = "Monte Carlo simulator of the Bitcoin mining industry cycle"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario's Monte Carlo paths and write the tables to DIR/<scenario name>/.
    Run {
        /// Scenario file (TOML).
        file: PathBuf,
        #[command(flatten)]
        options: RunArgs,
        #[command(flatten)]
        overrides: SetArgs,
    },
    /// Validate a scenario and report every problem with file:line:col.
    Check {
        /// Scenario file (TOML).
        file: PathBuf,
        #[command(flatten)]
        overrides: SetArgs,
    },
    /// Run a strategy sweep (scenarios × a grid or Latin hypercube of parameters) into DIR/<sweep name>/.
    Sweep {
        /// Sweep file (TOML).
        file: PathBuf,
        #[command(flatten)]
        options: RunArgs,
        /// Also write every cell's monthly tables under months/<table>/scenario=<name>/ (large).
        #[arg(long)]
        monthly: bool,
        /// Run only shard K of N (K in 0..N, N at most 100000), e.g.
        /// `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`,
        /// into DIR/<sweep name>/shards/K-of-N/; `hashcycle merge DIR/<sweep name>` joins the shards.
        #[arg(long, value_name = "K/N", value_parser = crate::sweep::shard::ShardSpec::parse)]
        shard: Option<crate::sweep::shard::ShardSpec>,
        #[command(flatten)]
        overrides: SetArgs,
    },
    /// Join the shards of a sharded sweep (DIR/<sweep name>/shards/K-of-N/) into the tables, charts and report
    /// an unsharded run writes. Refuses, writing nothing, unless every shard is present and complete.
    Merge {
        /// The sharded sweep's directory, DIR/<sweep name>.
        dir: PathBuf,
    },
    /// Regenerate charts, report.html and report.xlsx of a run or sweep directory from its Parquet files.
    Plot {
        /// A run directory (with run.json), a sweep directory (with sweep.json), a backtest directory (with
        /// backtest.json) or a replay directory (with replay.json).
        dir: PathBuf,
    },
    /// Which behaviour parameters move the scenario's strategy's outcome: a tornado (one parameter at a time)
    /// and a Morris screening, on common random numbers; writes DIR/<scenario name>-sensitivity-<metric>/.
    Sensitivity {
        /// Scenario file (TOML). Its `[[uncertainty]]` ranges are the ranges varied, unless --share is given.
        file: PathBuf,
        /// What is measured, for the focus manufacturer under the scenario's strategy.
        #[arg(long, value_enum, default_value = "p-cash-below-zero")]
        metric: crate::sensitivity::Metric,
        /// Vary every documented behaviour parameter by ± this share of its value instead (e.g. 0.2); the
        /// default when the scenario declares no ranges.
        #[arg(long, value_parser = parse_share)]
        share: Option<f64>,
        /// The manufacturer measured (default: the scenario's first).
        #[arg(long)]
        manufacturer: Option<String>,
        /// Morris trajectories (default 8; 0 draws the tornado only).
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1000))]
        trajectories: Option<u32>,
        #[command(flatten)]
        options: RunArgs,
        #[command(flatten)]
        overrides: SetArgs,
    },
    /// Explain the difference in a sweep's ending cash between two strategies, flow by flow: writes the cash
    /// waterfall chart into DIR/charts/ and prints its table (default: the first scenario's reference against
    /// its safest efficient strategy).
    Waterfall {
        /// A sweep's directory, DIR/<sweep name> (with sweep.json and paths.parquet).
        dir: PathBuf,
        /// Scenario of the sweep (default: its first).
        #[arg(long)]
        scenario: Option<String>,
        /// The strategy compared from: a cell index, column `cell` of sweep.parquet (default: the reference).
        #[arg(long, value_name = "CELL")]
        from: Option<u32>,
        /// The strategy compared to: a cell index (default: the safest efficient strategy other than --from).
        #[arg(long, value_name = "CELL")]
        to: Option<u32>,
    },
    /// Replay history: start from the real network of the month before --from, drive it with the real
    /// price and fees, and compare the simulated hashrate with the real one; writes DIR/backtest/.
    Backtest {
        #[command(flatten)]
        args: BacktestArgs,
        /// Calibrate the template's fitted parameters on the in-sample months first (as `calibrate` does).
        #[arg(long)]
        calibrate: bool,
    },
    /// Replay history with the full model: run a scenario whose price is replayed from history (default
    /// `scenarios/replay.toml`), and compare its network with the real hashrate and difficulty and its
    /// manufacturers with their filings; writes DIR/<scenario name>/.
    Replay {
        /// Replay scenario (TOML) with `[price] model = "historical"` (default: `scenarios/replay.toml`).
        file: Option<PathBuf>,
        /// Last in-sample month, YYYY-MM (default 2022-12): errors are reported in- and out-of-sample.
        #[arg(long, value_parser = parse_year_month)]
        calibrate_until: Option<YearMonth>,
        /// Filed figures to compare with (default: industry_public_figures.csv beside the price history).
        #[arg(long, value_name = "FILE")]
        figures: Option<PathBuf>,
        /// Dealers' listing prices to compare with (default: asic_market_prices_2021-2022.csv beside the price history).
        #[arg(long, value_name = "FILE")]
        listings: Option<PathBuf>,
        /// Fit the scenario's `[[uncertainty]]` ranges on the in-sample months first (approximate Bayesian
        /// computation), write them to calibrated.toml, and replay with them.
        #[arg(long)]
        calibrate: bool,
        /// Paths the calibration draws from the prior ranges (default 20000).
        #[arg(long, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
        calibration_paths: Option<u32>,
        /// Share of the calibration's paths kept, nearest history first (default 0.05).
        #[arg(long, value_parser = parse_share)]
        accept_share: Option<f64>,
        #[command(flatten)]
        options: RunArgs,
        #[command(flatten)]
        overrides: SetArgs,
    },
    /// Fit the template's behaviour parameters on the in-sample months (up to --calibrate-until), write them
    /// to DIR/backtest/calibrated.toml, and backtest the whole window with them.
    Calibrate {
        #[command(flatten)]
        args: BacktestArgs,
    },
}

/// Options shared by `backtest` and `calibrate`.
#[derive(clap::Args, Debug)]
pub struct BacktestArgs {
    /// First simulated month, YYYY-MM (default: the template's `backtest.from_month`).
    #[arg(long, value_parser = parse_year_month)]
    pub from: Option<YearMonth>,
    /// Last simulated month, YYYY-MM (default: the last month of the history).
    #[arg(long, value_parser = parse_year_month)]
    pub to: Option<YearMonth>,
    /// Last in-sample month, YYYY-MM (default: the template's `backtest.calibrate_until_month`).
    #[arg(long, value_parser = parse_year_month)]
    pub calibrate_until: Option<YearMonth>,
    /// The backtest template (default: `scenarios/backtest.toml` of the working directory, or else of the
    /// project the binary was built from, so the command works from any directory).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub options: RunArgs,
}

/// The most `--threads`: far above any machine's cores, low enough that the range in a usage message reads
/// plainly (an open range prints as `1..18446744073709551615`).
const MAX_THREADS: u64 = 4096;

/// Options of every command that simulates: `run`, `sweep`, `backtest` and `calibrate`.
///
/// Clap checks the ranges, so a bad value is a usage error (exit status 1) naming the option and its
/// range, reported before any file is read.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Number of paths: of a run, per cell of a sweep, or of a backtest's run (calibration uses its own);
    /// overrides the file's `simulation.paths`.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PATHS)))]
    pub paths: Option<u32>,
    /// Master seed (overrides the file's `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output root directory.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS))]
    pub threads: Option<usize>,
}

/// `--set`, for `run`, `check` and `sweep`.
#[derive(clap::Args, Debug)]
pub struct SetArgs {
    /// Set a scenario parameter, e.g. `--set manufacturers.bitmain.strategy.prepay_share=0.5` (repeatable).
    /// The path is written as in sweep files (entries of arrays of tables by `name` or `[index]`); the value
    /// is a TOML value. Applied in order after the file (and the files it extends), recorded in run.json.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
}

/// A share in (0, 1].
fn parse_share(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|x| *x > 0.0 && *x <= 1.0)
        .ok_or(format!("`{text}` is not a share in (0, 1]"))
}

fn parse_year_month(text: &str) -> Result<YearMonth, String> {
    YearMonth::parse(text).ok_or(format!("`{text}` is not a month in the form YYYY-MM"))
}

/// Outcome of a command: what to print and the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: exit status 1.
    Input(String),
    /// Runtime or IO failure: exit status 2.
    Runtime(String),
}

impl Failure {
    /// The process exit status this failure ends with.
    pub fn exit_status(&self) -> u8 {
        match self {
            Failure::Input(_) => 1,
            Failure::Runtime(_) => 2,
        }
    }

    /// What is printed on stderr.
    pub fn message(&self) -> &str {
        match self {
            Failure::Input(message) | Failure::Runtime(message) => message,
        }
    }
}

/// At most this many failed paths are listed on stderr; the files list them all.
const MAX_FAILURES_LISTED: usize = 20;

/// The outcome of a finished run: a runtime failure listing the paths stopped by a failed check, each with
/// the scenario, path, calendar month and the quantities that disagree.
pub fn run_outcome(scenario_name: &str, start: YearMonth, failures: &[PathFailure]) -> Result<(), Failure> {
    if failures.is_empty() {
        return Ok(());
    }
    let mut message = failed_paths_message(failures, start, &format!("scenario {scenario_name}, "), "run.json");
    message.push_str(
        "the other paths completed and were written; every failure is recorded in events.parquet (kind = \"invariant_violation\") and run.json",
    );
    Err(Failure::Runtime(message))
}

/// The first lines of a failure message: how many paths a check stopped, and the first
/// `MAX_FAILURES_LISTED` of them (each line begins with `prefix`), with the file that lists them all.
fn failed_paths_message(failures: &[PathFailure], start: YearMonth, prefix: &str, listed_in: &str) -> String {
    let mut message = format!("error: {} path(s) stopped by a failed check:\n", failures.len());
    for f in failures.iter().take(MAX_FAILURES_LISTED) {
        let v = &f.violation;
        let month = start.plus_months(v.month.0 as i64);
        message.push_str(&format!(
            "  {prefix}path {}, month {month}: {} (expected {}, actual {})\n",
            f.path_idx, v.what, v.expected, v.actual
        ));
    }
    if failures.len() > MAX_FAILURES_LISTED {
        message.push_str(&format!(
            "  ... and {} more (see {listed_in})\n",
            failures.len() - MAX_FAILURES_LISTED
        ));
    }
    message
}

/// The outcome of a finished sweep: a runtime failure listing the paths stopped by a failed check, each with
/// the scenario, strategy cell, path, calendar month and the quantities that disagree.
pub fn sweep_outcome(failures: &[CellFailure], monthly: bool, listed_in: &str) -> Result<(), Failure> {
    if failures.is_empty() {
        return Ok(());
    }
    let mut message = format!("error: {} path(s) stopped by a failed check:\n", failures.len());
    for f in failures.iter().take(MAX_FAILURES_LISTED) {
        let v = &f.failure.violation;
        message.push_str(&format!(
            "  scenario {}, strategy cell {} ({}), path {}, month {}: {} (expected {}, actual {})\n",
            f.scenario,
            f.cell_idx,
            f.strategy,
            f.failure.path_idx,
            f.month(),
            v.what,
            v.expected,
            v.actual
        ));
    }
    if failures.len() > MAX_FAILURES_LISTED {
        message.push_str(&format!(
            "  ... and {} more (see {listed_in})\n",
            failures.len() - MAX_FAILURES_LISTED
        ));
    }
    message.push_str(&format!("the other paths completed and were written; every failure is listed in {listed_in} (failed_paths), flagged in paths.parquet (failed_check) and left out of the cell's metrics"));
    if monthly {
        message.push_str(", and recorded in months/events (kind = \"invariant_violation\")");
    }
    Err(Failure::Runtime(message))
}

pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(1),
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprint!("{}", ensure_newline(failure.message().to_string()));
            ExitCode::from(failure.exit_status())
        }
    }
}

/// Problems that did not stop a command from publishing its results: on stderr, and the exit status stays
/// what the results make it.
fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

fn ensure_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A panic is a bug; say so plainly instead of printing Rust's panic text.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // Panics inside a path are caught and reported with the path; print nothing here for worker threads.
        if std::thread::current().name().is_some_and(|n| n == "main") {
            eprintln!("hashcycle: internal error: {message}");
        }
    }));
}

/// Loads the scenario `file` with `--set` overrides; a sweep file or a backtest template is refused with the
/// command it needs.
pub fn load_scenario(file: &std::path::Path, sets: &[String]) -> Result<Scenario, Failure> {
    Scenario::load_with(file, sets).map_err(|e| {
        if let Some(span) = crate::sweep::file::sweep_table_span(&e.text) {
            let (line, col) = crate::scenario::line_col(&e.text, span.start);
            Failure::Input(format!(
                "error: {}:{line}:{col}: {} is a sweep file, not a scenario: run it with `hashcycle sweep {}`",
                e.file, e.file, e.file
            ))
        } else if let Some(message) = backtest_template_message(&e.file, &e.text) {
            Failure::Input(message)
        } else {
            Failure::Input(format!("error: {e}"))
        }
    })
}

/// The message for a backtest template given where a scenario or a sweep file was expected, if `text` is one.
fn backtest_template_message(file: &str, text: &str) -> Option<String> {
    let span = crate::backtest::template::backtest_table_span(text)?;
    let (line, col) = crate::scenario::line_col(text, span.start);
    Some(format!(
        "error: {file}:{line}:{col}: {file} is a backtest template, not a scenario: its [backtest] table says how \
         to complete it from the data; run it with `hashcycle backtest --scenario {file}`"
    ))
}

/// A shipped scenario file when none is given: `relative` in the working directory, else in the project the binary
/// was built from (its data files resolve against it); `missing` says what to give instead.
fn shipped_file(relative: &str, what: &str, missing: &str) -> Result<PathBuf, Failure> {
    let relative = PathBuf::from(relative);
    if relative.is_file() {
        return Ok(relative);
    }
    let built_from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&relative);
    if built_from.is_file() {
        return Ok(built_from);
    }
    Err(Failure::Input(format!(
        "error: no {what}: neither {} nor {} exists; {missing}",
        relative.display(),
        built_from.display()
    )))
}

/// The backtest template when `--scenario` is not given.
fn default_backtest_template() -> Result<PathBuf, Failure> {
    shipped_file(
        "scenarios/backtest.toml",
        "backtest template",
        "give one with --scenario FILE",
    )
}

/// `backtest` and `calibrate`: run, print the metrics, say where the results are.
fn backtest(args: BacktestArgs, calibrate: bool) -> Result<(), Failure> {
    let template = match args.scenario {
        Some(file) => file,
        None => default_backtest_template()?,
    };
    let options = crate::backtest::BacktestOptions {
        template,
        from: args.from,
        to: args.to,
        calibrate_until: args.calibrate_until,
        n_paths: args.options.paths,
        seed: args.options.seed,
        out_dir: args.options.out,
        threads: args.options.threads,
        calibrate,
    };
    let report = crate::backtest::run(&options).map_err(|e| match e {
        crate::backtest::BacktestError::Template(_) | crate::backtest::BacktestError::Usage(_) => {
            Failure::Input(format!("error: {e}"))
        }
        _ => Failure::Runtime(format!("error: {e}")),
    })?;
    print!("{}", crate::backtest::summary_text(&report.result));
    println!(
        "wrote {} ({:.2} s{})",
        report.dir.display(),
        report.result.wall_seconds,
        if calibrate { ", with calibrated.toml" } else { "" }
    );
    print_warnings(&report.warnings);
    if report.result.failures.is_empty() {
        return Ok(());
    }
    let mut message = failed_paths_message(&report.result.failures, report.result.window.from, "", "backtest.json");
    message.push_str("the other paths completed and were written");
    Err(Failure::Runtime(message))
}

/// The shipped replay scenario when none is given.
fn default_replay_scenario() -> Result<PathBuf, Failure> {
    shipped_file("scenarios/replay.toml", "replay scenario", "give one as FILE")
}

/// `replay`: run, print the fit and the filings, say where the results are.
fn replay(file: Option<PathBuf>, options: crate::replay::ReplayOptions, sets: &[String]) -> Result<(), Failure> {
    let file = match file {
        Some(file) => file,
        None => default_replay_scenario()?,
    };
    let scenario = load_scenario(&file, sets)?;
    let report = crate::replay::run(&scenario, &options).map_err(|e| match e {
        crate::replay::ReplayError::Usage(_) => Failure::Input(format!("error: {e}")),
        _ => Failure::Runtime(format!("error: {e}")),
    })?;
    print!("{}", crate::replay::summary_text(&report.result));
    println!("wrote {} ({:.2} s)", report.dir.display(), report.result.wall_seconds);
    print_warnings(&report.warnings);
    if report.result.failures.is_empty() {
        return Ok(());
    }
    let start = scenario.params.simulation.start;
    let mut message = failed_paths_message(&report.result.failures, start, "", "replay.json");
    message.push_str("the other paths completed and were written");
    Err(Failure::Runtime(message))
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Replay {
            file,
            calibrate_until,
            figures,
            listings,
            calibrate,
            calibration_paths,
            accept_share,
            options,
            overrides,
        } => replay(
            file,
            crate::replay::ReplayOptions {
                n_paths: options.paths,
                seed: options.seed,
                out_dir: options.out,
                threads: options.threads,
                calibrate_until,
                figures,
                listings,
                calibrate,
                calibration_paths,
                accept_share,
            },
            &overrides.set,
        ),
        Command::Backtest { args, calibrate } => backtest(args, calibrate),
        Command::Calibrate { args } => backtest(args, true),
        Command::Plot { dir } => {
            let written = crate::plot::plot_dir(&dir).map_err(|e| Failure::Runtime(format!("error: {e}")))?;
            let n_charts = written
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "png"))
                .count();
            let report = written.iter().find(|p| p.extension().is_some_and(|e| e == "html"));
            println!(
                "wrote {n_charts} charts (PNG and SVG) in {}{}",
                dir.join("charts").display(),
                report.map_or(String::new(), |r| format!(" and {}", r.display()))
            );
            Ok(())
        }
        Command::Sensitivity {
            file,
            metric,
            share,
            manufacturer,
            trajectories,
            options:
                RunArgs {
                    paths,
                    seed,
                    out,
                    threads,
                },
            overrides,
        } => {
            let mut scenario = load_scenario(&file, &overrides.set)?;
            if let Some(seed) = seed {
                scenario.params.simulation.seed = seed;
            }
            let options = crate::sensitivity::SensitivityOptions {
                out_dir: out,
                threads,
                progress: true,
                metric,
                share,
                manufacturer,
                paths: paths.unwrap_or(crate::sensitivity::DEFAULT_PATHS),
                trajectories: trajectories.unwrap_or(crate::sensitivity::DEFAULT_TRAJECTORIES),
            };
            let report = crate::sensitivity::run(&scenario, &options).map_err(|e| match e {
                crate::sensitivity::SensitivityError::Input(m) => Failure::Input(format!("error: {m}")),
                crate::sensitivity::SensitivityError::Run(e) => Failure::Runtime(format!("error: {e}")),
            })?;
            print_warnings(&report.warnings);
            for l in &report.left_out {
                eprintln!("note: left out {}: {}", l.name, l.reason);
            }
            println!(
                "{} parameters, {} evaluations of {} paths in {:.1} s; {} with the scenario's values is {}",
                report.results.len(),
                report.n_evaluations,
                options.paths,
                report.wall_seconds,
                report.metric.name(),
                report.metric.show(report.metric_base)
            );
            println!(
                "largest effects (low end, high end, each against the scenario's values, ± 2 paired standard errors):"
            );
            let mut order: Vec<&crate::sensitivity::FactorResult> = report.results.iter().collect();
            order.sort_by(|a, b| {
                let key = |r: &crate::sensitivity::FactorResult| {
                    let span = r.bar.span();
                    if span.is_finite() { span } else { -1.0 }
                };
                key(b).total_cmp(&key(a))
            });
            let m = report.metric;
            for r in order.iter().take(10) {
                println!(
                    "  {:<60} low {}, high {}",
                    r.factor.name,
                    m.show_with_error(m.show_change(r.bar.low.0), r.bar.low.1),
                    m.show_with_error(m.show_change(r.bar.high.0), r.bar.high.1)
                );
            }
            println!("wrote {}", report.dir.display());
            if report.n_failed_paths > 0 {
                return Err(Failure::Runtime(format!(
                    "error: {} path(s) over all evaluations were stopped by a failed check; each was left out of the \
                     effects it belongs to, and the count is in sensitivity.json (failed_paths)",
                    report.n_failed_paths
                )));
            }
            Ok(())
        }
        Command::Waterfall {
            dir,
            scenario,
            from,
            to,
        } => {
            use crate::sweep::waterfall::{Request, WaterfallError, text_table, waterfall_command};
            let request = Request {
                scenario,
                from_cell: from,
                to_cell: to,
            };
            let (w, written) = waterfall_command(&dir, &request).map_err(|e| match e {
                WaterfallError::Input(m) => Failure::Input(format!("error: {m}")),
                WaterfallError::Output(e) => Failure::Runtime(format!("error: {e}")),
            })?;
            print!("{}", text_table(&w));
            if let Some(png) = written.iter().find(|p| p.extension().is_some_and(|e| e == "png")) {
                println!("wrote {} (and its SVG)", png.display());
            }
            Ok(())
        }
        Command::Check { file, overrides } => {
            let scenario = load_scenario(&file, &overrides.set)?;
            let p = &scenario.params;
            println!(
                "{}: ok (scenario \"{}\", {} months from {}, {} paths, {} regions, {} generations, {} manufacturers, {} scripted events, {} parameters drawn per path)",
                file.display(),
                p.simulation.name,
                p.simulation.horizon_months,
                p.simulation.start,
                p.simulation.n_paths,
                p.regions.len(),
                p.generations.len(),
                p.manufacturers.len(),
                p.events.len(),
                p.uncertainty.len()
            );
            Ok(())
        }
        Command::Sweep {
            file,
            options:
                RunArgs {
                    paths,
                    seed,
                    out,
                    threads,
                },
            monthly,
            shard,
            overrides,
        } => {
            let sweep = crate::sweep::file::load(&file).map_err(|e| {
                let scenario_key = crate::sweep::file::scenario_key_span(&e.text);
                if scenario_key.is_some()
                    && let Some(message) = backtest_template_message(&e.file, &e.text)
                {
                    return Failure::Input(message);
                }
                match scenario_key {
                    Some(span) => {
                        let (line, col) = crate::scenario::line_col(&e.text, span.start);
                        Failure::Input(format!(
                            "error: {}:{line}:{col}: {} is a scenario file, not a sweep: run it with `hashcycle run {}`",
                            e.file, e.file, e.file
                        ))
                    }
                    None => Failure::Input(format!("error: {e}")),
                }
            })?;
            // The cells are validated on as many worker threads as the sweep is given.
            let plan = crate::batch::thread_pool(threads)
                .map_err(|e| Failure::Runtime(format!("error: {e}")))?
                .install(|| crate::sweep::plan::build_with_overrides(sweep, paths, seed, &overrides.set))
                .map_err(|e| Failure::Input(format!("error: {e}")))?;
            crate::sweep::check_paths_fit(&plan).map_err(|e| Failure::Input(format!("error: {e}")))?;
            eprintln!(
                "sweep {}: {} scenarios × {} strategies × {} paths",
                plan.sweep.name,
                plan.scenarios.len(),
                plan.cells.len(),
                plan.n_paths
            );
            if let Some(spec) = shard {
                let options = crate::sweep::shard::ShardOptions {
                    spec,
                    out_dir: out,
                    threads,
                    progress: true,
                    monthly,
                };
                let report = crate::sweep::shard::run_shard(&plan, &options)
                    .map_err(|e| Failure::Runtime(format!("error: {e}")))?;
                let unit_text = |u: &crate::sweep::shard::WorkUnit| {
                    format!("{} cell {} paths {}..{}", u.scenario, u.cell, u.path_start, u.path_end)
                };
                // A long list says no more than its two ends.
                let units: Vec<String> = match report.units.as_slice() {
                    [first, .., last] if report.units.len() > 3 => vec![
                        unit_text(first),
                        format!("… {} more units …", report.units.len() - 2),
                        unit_text(last),
                    ],
                    units => units.iter().map(unit_text).collect(),
                };
                println!(
                    "wrote {} (shard {spec}: {} of {} paths in {:.1} s: {})",
                    report.dir.display(),
                    report.n_work_paths,
                    plan.n_work_paths(),
                    report.wall_seconds,
                    if units.is_empty() {
                        "no work".to_string()
                    } else {
                        units.join("; ")
                    }
                );
                print_warnings(&report.warnings);
                return sweep_outcome(&report.failures, monthly, "the shard's shard.json");
            }
            let options = crate::sweep::run::SweepOptions {
                out_dir: out,
                threads,
                progress: true,
                monthly,
            };
            let report =
                crate::sweep::run::run(&plan, &options).map_err(|e| Failure::Runtime(format!("error: {e}")))?;
            print!("{}", crate::sweep::summary_text(&report.rows));
            println!(
                "wrote {} ({} cells in {:.1} s)",
                report.dir.display(),
                report.rows.len(),
                report.wall_seconds
            );
            print_warnings(&report.warnings);
            sweep_outcome(&report.failures, monthly, "sweep.json")
        }
        Command::Merge { dir } => {
            let report = crate::sweep::merge::merge(&dir).map_err(|e| match e {
                crate::sweep::merge::MergeError::Shards { .. } => Failure::Input(format!("error: {e}")),
                crate::sweep::merge::MergeError::Output(_) => Failure::Runtime(format!("error: {e}")),
            })?;
            print!("{}", crate::sweep::summary_text(&report.rows));
            println!(
                "wrote {} ({} cells merged from its shards in {:.1} s)",
                report.dir.display(),
                report.rows.len(),
                report.wall_seconds
            );
            print_warnings(&report.warnings);
            sweep_outcome(&report.failures, false, "sweep.json")
        }
        Command::Run {
            file,
            options:
                RunArgs {
                    paths,
                    seed,
                    out,
                    threads,
                },
            overrides,
        } => {
            let scenario = load_scenario(&file, &overrides.set)?;
            let n_paths = paths.unwrap_or(scenario.params.simulation.n_paths);
            crate::memory::run_fits(n_paths, scenario.params.simulation.horizon_months)
                .map_err(|e| Failure::Input(format!("error: {e}")))?;
            let options = RunOptions {
                n_paths: paths,
                seed,
                out_dir: out,
                threads,
                progress: true,
            };
            let report = batch::run(&scenario, &options).map_err(|e| Failure::Runtime(format!("error: {e}")))?;
            println!(
                "wrote {} ({} paths in {:.1} s)",
                report.dir.display(),
                report.n_paths,
                report.wall_seconds
            );
            print_warnings(&report.warnings);
            run_outcome(
                &scenario.params.simulation.name,
                scenario.params.simulation.start,
                &report.failures,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashcycle_model::record::Violation;
    use hashcycle_model::units::Month;

    #[test]
    fn failed_paths_are_listed_with_calendar_months_up_to_the_limit() {
        let failures: Vec<PathFailure> = (0..MAX_FAILURES_LISTED as u32 + 3)
            .map(|path_idx| PathFailure {
                path_idx,
                violation: Violation {
                    month: Month(14),
                    what: "machines".to_string(),
                    expected: 10.0,
                    actual: 11.0,
                },
            })
            .collect();
        let start = YearMonth::parse("2020-01").unwrap();
        let message = failed_paths_message(&failures, start, "", "backtest.json");
        assert!(
            message.starts_with("error: 23 path(s) stopped by a failed check:\n"),
            "{message}"
        );
        assert!(
            message.contains("  path 0, month 2021-03: machines (expected 10, actual 11)\n"),
            "{message}"
        );
        assert!(message.contains("  path 19, month 2021-03"), "{message}");
        assert!(!message.contains("path 20,"), "{message}");
        assert!(message.ends_with("  ... and 3 more (see backtest.json)\n"), "{message}");
        let Err(Failure::Runtime(run)) = run_outcome("base", start, &failures[..1]) else {
            panic!("a failed path must be a runtime failure")
        };
        assert!(
            run.contains("  scenario base, path 0, month 2021-03: machines"),
            "{run}"
        );
        assert!(!run.contains("more (see"), "{run}");
    }
}
