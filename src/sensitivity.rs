//! `hashcycle sensitivity`: which behaviour parameters move a strategy's outcome, and by how much.
//!
//! Factors are the scenario's behaviour parameters, each over a range:
//! - by default, the ranges the scenario declares in `[[uncertainty]]` (for the shipped scenarios, the ranges
//!   the fit to history left open), or, when it declares none, every documented behaviour parameter ±20%;
//! - with `--share X`, every documented behaviour parameter ±X of its own value (shares kept in [0, 1]).
//!
//! A documented behaviour parameter is one a scenario may draw per path (`UNCERTAIN_FIELDS` of each table);
//! an array's entries move together (`segments.*.price_sensitivity`), each scaled from its own value. Ends that
//! make an invalid scenario (with the rule they break), parameters that are zero (a ±share of zero is zero), and
//! the key-account firms' parameters in a scenario without firms (in one note), are left out and listed.
//!
//! Every evaluation runs the scenario's strategy (the reference) over the same paths with the same seed, with
//! nothing drawn per path: the factors are held at their values, so effects are paired differences
//! (`crate::sensitivity::design`). Writes `DIR/<scenario name>-sensitivity-<metric>/`: `sensitivity.parquet` (one
//! row per factor), `sensitivity.json`, the tornado and Morris charts and `report.html`.

pub mod charts;
pub mod design;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};
use rayon::prelude::*;
use serde_json::json;

use crate::batch::{Engine, RunError, progress_bar, simulate_guarded, thread_pool};
use crate::output::charts::format;
use crate::output::dir::{StagedDir, write_atomic};
use crate::output::parquet::write_frame;
use crate::output::report::{charts_html, esc, meta_table, write_page};
use crate::output::{OutputError, provenance};
use crate::scenario::Scenario;
use crate::scenario::overrides;
use crate::scenario::raw::{self, Node, Value};
use crate::stats::quantile_sorted;
use design::{Paths, Point, Statistic};
use hashcycle_model::params::{
    DealerParams, KeyAccountFirmsParams, ManufacturerParams, ManufacturerStrategy, NetworkParams, Params, RegionParams,
    RelocationParams, SecondaryMarketParams, SegmentParams,
};
use hashcycle_model::record::{OutcomeOnly, PathSummary};
use hashcycle_model::uncertainty::{Distribution, Table, set_value, value_at};

/// The share every documented behaviour parameter moves by when the scenario declares no ranges.
pub const DEFAULT_SHARE: f64 = 0.2;
/// Paths per evaluation by default.
pub const DEFAULT_PATHS: u32 = 200;
/// Morris trajectories by default.
pub const DEFAULT_TRAJECTORIES: u32 = 8;
/// Bootstrap resamples for the standard errors of the tornado's effects.
pub const RESAMPLES: usize = 200;

/// What a sensitivity analysis measures, for the scenario's focus manufacturer (its strategy as written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Share of paths whose cash ever fell below zero.
    PCashBelowZero,
    /// Median of the lowest cash over each path, in USD.
    MinCashUsdP50,
    /// Mean of the lowest 5% of paths' minimum cash, in USD.
    MinCashUsdCvar5,
    /// Median ending cash, in USD.
    EndCashUsdP50,
    /// Median gross margin over the horizon, in USD.
    GrossMarginUsdP50,
    /// Median network hashrate at the end, in EH/s.
    EndHashrateEhsP50,
}

impl Metric {
    /// The column name the metric is written under.
    pub fn name(self) -> &'static str {
        match self {
            Metric::PCashBelowZero => "p_cash_below_zero",
            Metric::MinCashUsdP50 => "min_cash_usd_p50",
            Metric::MinCashUsdCvar5 => "min_cash_usd_cvar5",
            Metric::EndCashUsdP50 => "end_cash_usd_p50",
            Metric::GrossMarginUsdP50 => "gross_margin_usd_p50",
            Metric::EndHashrateEhsP50 => "end_hashrate_ehs_p50",
        }
    }

    /// In words, for titles.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::PCashBelowZero => "P(cash < 0)",
            Metric::MinCashUsdP50 => "median minimum cash",
            Metric::MinCashUsdCvar5 => "CVaR-5% of minimum cash",
            Metric::EndCashUsdP50 => "median ending cash",
            Metric::GrossMarginUsdP50 => "median gross margin",
            Metric::EndHashrateEhsP50 => "median ending network hashrate",
        }
    }

    /// The unit its values are in: `share` (of paths), `usd` or `ehs`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::PCashBelowZero => "share",
            Metric::EndHashrateEhsP50 => "ehs",
            _ => "usd",
        }
    }

    /// How its values read.
    pub fn format(self) -> crate::output::charts::axes::ValueFormat {
        use crate::output::charts::axes::ValueFormat;
        match self {
            Metric::PCashBelowZero => ValueFormat::Share,
            Metric::EndHashrateEhsP50 => ValueFormat::Ehs,
            _ => ValueFormat::Usd,
        }
    }

    /// A value for people: `12.5%`, `$1.2M`, `512 EH/s`; `n/a` for a missing figure (NaN).
    pub fn show(self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        match self {
            Metric::PCashBelowZero => format::pct(v),
            Metric::EndHashrateEhsP50 => format::ehs(v),
            _ => format::usd(v),
        }
    }

    /// A difference for people, signed; shares in percentage points; `n/a` for a missing figure.
    pub fn show_change(self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        let sign = if v < 0.0 { "−" } else { "+" };
        match self {
            Metric::PCashBelowZero => format!("{sign}{:.1} pts", 100.0 * v.abs()),
            Metric::EndHashrateEhsP50 => format!("{sign}{}", format::ehs(v.abs())),
            _ => format!("{sign}{}", format::usd(v.abs())),
        }
    }

    /// A size (a standard error, a spread) for people; shares in percentage points; `n/a` for a missing figure
    /// (σ of a single trajectory).
    pub fn show_size(self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        match self {
            Metric::PCashBelowZero => format!("{:.1} pts", 100.0 * v),
            _ => self.show(v),
        }
    }

    /// `value ± 2 standard errors`, without the `±` part when there is no standard error (a single trajectory).
    pub fn show_with_error(self, value: String, se: f64) -> String {
        if se.is_finite() {
            format!("{value} ± {}", self.show_size(2.0 * se))
        } else {
            value
        }
    }

    /// One path's figure.
    fn of(self, s: &PathSummary, focus_idx: usize) -> Option<f64> {
        if s.violation.is_some() {
            return None;
        }
        if self == Metric::EndHashrateEhsP50 {
            return Some(s.network.end_hashrate_ehs);
        }
        let m = s.manufacturers.get(focus_idx)?;
        Some(match self {
            Metric::PCashBelowZero => f64::from(u8::from(m.cash_below_zero)),
            Metric::MinCashUsdP50 | Metric::MinCashUsdCvar5 => m.min_cash_usd,
            Metric::EndCashUsdP50 => m.end_cash_usd,
            Metric::GrossMarginUsdP50 => m.gross_margin_usd,
            Metric::EndHashrateEhsP50 => unreachable!("handled above"),
        })
    }

    /// The statistic over paths.
    fn statistic(self) -> Statistic {
        match self {
            Metric::PCashBelowZero => mean,
            Metric::MinCashUsdCvar5 => cvar5,
            _ => median,
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

fn cvar5(v: &[f64]) -> f64 {
    crate::sweep::metrics::cvar(v).unwrap_or(f64::NAN)
}

/// How a factor's ends are set.
#[derive(Clone, Debug, PartialEq)]
pub enum Ends {
    /// Every place between `min` and `max` (declared in `[[uncertainty]]`).
    Range { min: f64, max: f64, log: bool },
    /// Each place at its own value × (1 ± share), shares kept in [0, 1].
    Scale { share: f64 },
}

/// One factor: a parameter (an array's entries together) and its range.
#[derive(Clone, Debug)]
pub struct Factor {
    /// As `--set` names it, with `*` for every entry of an array.
    pub name: String,
    pub targets: Vec<(Table, &'static str)>,
    /// The scenario's value at each target.
    pub base: Vec<f64>,
    pub ends: Ends,
}

impl Factor {
    /// The value of target `k` at position `u` in [0, 1] (0 the low end, 1 the high end).
    pub fn value(&self, k: usize, u: f64) -> f64 {
        match self.ends {
            Ends::Range { min, max, log } => {
                if log {
                    (min.ln() + u * (max.ln() - min.ln())).exp()
                } else {
                    min + u * (max - min)
                }
            }
            Ends::Scale { share } => {
                let v = self.base[k] * (1.0 + share * (2.0 * u - 1.0));
                if self.targets[k].1.ends_with("_share") && (0.0..=1.0).contains(&self.base[k]) {
                    v.clamp(0.0, 1.0)
                } else {
                    v
                }
            }
        }
    }

    /// The low and high ends shown for people: the first target's.
    pub fn shown_ends(&self) -> (f64, f64) {
        (self.value(0, 0.0), self.value(0, 1.0))
    }
}

/// A factor left out, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct LeftOut {
    pub name: String,
    pub reason: String,
}

/// Every documented behaviour parameter's table kinds: (`--set` stem with `*`, tables, fields).
fn documented(params: &Params) -> Vec<(String, Vec<Table>, &'static [&'static str])> {
    let n_makers = params.manufacturers.len();
    let n_regions = params.regions.len();
    vec![
        (
            "segments.*".to_string(),
            (0..2).map(Table::Segment).collect(),
            SegmentParams::UNCERTAIN_FIELDS,
        ),
        (
            "manufacturers.*.strategy".to_string(),
            (0..n_makers).map(Table::Strategy).collect(),
            ManufacturerStrategy::UNCERTAIN_FIELDS,
        ),
        (
            "manufacturers.*".to_string(),
            (0..n_makers).map(Table::Manufacturer).collect(),
            ManufacturerParams::UNCERTAIN_FIELDS,
        ),
        (
            "regions.*".to_string(),
            (0..n_regions).map(Table::Region).collect(),
            RegionParams::UNCERTAIN_FIELDS,
        ),
        (
            "key_account_firms".to_string(),
            vec![Table::KeyAccountFirms],
            KeyAccountFirmsParams::UNCERTAIN_FIELDS,
        ),
        (
            "dealers".to_string(),
            vec![Table::Dealers],
            DealerParams::UNCERTAIN_FIELDS,
        ),
        (
            "secondary_market".to_string(),
            vec![Table::SecondaryMarket],
            SecondaryMarketParams::UNCERTAIN_FIELDS,
        ),
        (
            "relocation".to_string(),
            vec![Table::Relocation],
            RelocationParams::UNCERTAIN_FIELDS,
        ),
        (
            "network".to_string(),
            vec![Table::Network],
            NetworkParams::UNCERTAIN_FIELDS,
        ),
    ]
}

/// The `--set` path of a target.
fn set_path(params: &Params, (table, field): (Table, &str)) -> String {
    const SEGMENTS: [&str; 2] = ["key_account", "retail"];
    match table {
        Table::Segment(i) => format!("segments.{}.{field}", SEGMENTS[i]),
        Table::Strategy(i) => format!("manufacturers.{}.strategy.{field}", params.manufacturers[i].name),
        Table::Manufacturer(i) => format!("manufacturers.{}.{field}", params.manufacturers[i].name),
        Table::Region(i) => format!("regions.{}.{field}", params.regions[i].name),
        Table::KeyAccountFirms => format!("key_account_firms.{field}"),
        Table::Dealers => format!("dealers.{field}"),
        Table::SecondaryMarket => format!("secondary_market.{field}"),
        Table::Relocation => format!("relocation.{field}"),
        Table::Network => format!("network.{field}"),
    }
}

/// The factors of a scenario: its declared ranges, or (with `share`, or when it declares none) every documented
/// behaviour parameter ± that share, each end validated as a whole scenario.
pub fn factors(scenario: &Scenario, share: Option<f64>) -> (Vec<Factor>, Vec<LeftOut>) {
    let params = &scenario.params;
    if share.is_none() && !params.uncertainty.is_empty() {
        let factors = params
            .uncertainty
            .iter()
            .map(|u| Factor {
                name: u.name.clone(),
                targets: u.targets.clone(),
                base: u
                    .targets
                    .iter()
                    .map(|&t| value_at(params, t).unwrap_or(f64::NAN))
                    .collect(),
                ends: Ends::Range {
                    min: u.min,
                    max: u.max,
                    log: u.distribution == Distribution::LogUniform,
                },
            })
            .collect();
        return (factors, vec![]);
    }
    let share = share.unwrap_or(DEFAULT_SHARE);
    let mut factors = vec![];
    let mut left_out = vec![];
    for (stem, tables, fields) in documented(params) {
        if tables.is_empty() {
            continue;
        }
        // Without firms the key accounts are one pooled book, which these parameters do not describe: one
        // note says so instead of one for each parameter.
        if tables == [Table::KeyAccountFirms] && !params.key_account_firms.enabled() {
            left_out.push(LeftOut {
                name: format!("{stem}.*"),
                reason: "the scenario has no key-account firms (no [key_account_firms] table with firms), so \
                         these parameters do not act"
                    .to_string(),
            });
            continue;
        }
        for &field in fields {
            let name = format!("{stem}.{field}");
            let targets: Vec<(Table, &'static str)> = tables.iter().map(|&t| (t, field)).collect();
            let base: Vec<f64> = targets
                .iter()
                .map(|&t| value_at(params, t).unwrap_or(f64::NAN))
                .collect();
            if base.iter().all(|&v| v == 0.0) {
                left_out.push(LeftOut {
                    name,
                    reason: "zero in the scenario: a share of zero does not move it".to_string(),
                });
                continue;
            }
            let factor = Factor {
                name,
                targets,
                base,
                ends: Ends::Scale { share },
            };
            match check_ends(scenario, &factor) {
                Ok(()) => factors.push(factor),
                Err(reason) => left_out.push(LeftOut {
                    name: factor.name,
                    reason,
                }),
            }
        }
    }
    (factors, left_out)
}

/// Adds the tables on the way to `path` that the scenario leaves out (no `[relocation]` when every key of it is
/// at its default), so that a parameter at its default is set and validated like one the file states.
fn add_missing_tables(tree: &mut Node, path: &str) {
    let Some((parents, _)) = path.rsplit_once('.') else {
        return;
    };
    let mut node = tree;
    for key in parents.split('.') {
        // Entries of arrays of tables (`manufacturers.bitmain`) exist: the parameters name them.
        let Value::Table(table) = &mut node.value else {
            return;
        };
        if table.get(key).is_none() {
            let empty = Node {
                span: None,
                value: Value::Table(raw::Table::default()),
            };
            table.insert(key, empty);
        }
        let Some(next) = table.get_mut(key) else {
            return;
        };
        node = next;
    }
}

/// Validates the scenario with a factor at each end; the first problem, in words.
fn check_ends(scenario: &Scenario, factor: &Factor) -> Result<(), String> {
    for u in [0.0, 1.0] {
        let mut tree = scenario.tree.clone();
        for (k, &target) in factor.targets.iter().enumerate() {
            let path = set_path(&scenario.params, target);
            add_missing_tables(&mut tree, &path);
            overrides::set(&mut tree, &path, Value::Float(factor.value(k, u))).map_err(|e| e.to_string())?;
        }
        if let Err(e) = scenario.revalidate(tree) {
            let which = if u == 0.0 { "low" } else { "high" };
            // The rule the end breaks, with its valid range; not the report's heading.
            let first = e.problems.first().map_or("", |p| p.message.as_str());
            return Err(format!("its {which} end makes an invalid scenario: {first}"));
        }
    }
    Ok(())
}

/// What `hashcycle sensitivity` was asked for.
#[derive(Clone, Debug)]
pub struct SensitivityOptions {
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    pub progress: bool,
    pub metric: Metric,
    /// ± share for every documented behaviour parameter (instead of the declared ranges).
    pub share: Option<f64>,
    /// The manufacturer whose figures are measured (default: the first).
    pub manufacturer: Option<String>,
    pub paths: u32,
    /// Morris trajectories (0: the tornado only).
    pub trajectories: u32,
}

/// One factor's results.
#[derive(Clone, Debug)]
pub struct FactorResult {
    pub factor: Factor,
    pub bar: design::Bar,
    pub metric_low: f64,
    pub metric_high: f64,
    pub screening: Option<design::Screening>,
}

/// A finished analysis.
#[derive(Debug)]
pub struct SensitivityReport {
    pub dir: PathBuf,
    pub metric: Metric,
    pub metric_base: f64,
    pub results: Vec<FactorResult>,
    pub left_out: Vec<LeftOut>,
    pub n_evaluations: usize,
    /// Paths stopped by a failed check, over every evaluation: left out of the effects they belong to.
    pub n_failed_paths: usize,
    pub wall_seconds: f64,
    pub warnings: Vec<String>,
}

/// Problems with the request itself.
#[derive(Debug, thiserror::Error)]
pub enum SensitivityError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Run(#[from] RunError),
}

impl From<OutputError> for SensitivityError {
    fn from(e: OutputError) -> SensitivityError {
        SensitivityError::Run(RunError::from(e))
    }
}

/// The parameters an evaluation runs: the scenario's, nothing drawn, each factor at its position.
fn params_at(base: &Params, factors: &[Factor], point: &Point) -> Params {
    let mut params = base.clone();
    for (factor, position) in factors.iter().zip(point) {
        if let Some(u) = position {
            for (k, &target) in factor.targets.iter().enumerate() {
                set_value(&mut params, target, factor.value(k, *u));
            }
        }
    }
    params
}

/// Runs a sensitivity analysis of `scenario` and writes its directory.
pub fn run(scenario: &Scenario, options: &SensitivityOptions) -> Result<SensitivityReport, SensitivityError> {
    let started = std::time::Instant::now();
    let started_at = provenance::utc_now();
    let params = &scenario.params;
    let focus_idx = match &options.manufacturer {
        Some(name) => params
            .manufacturers
            .iter()
            .position(|m| &m.name == name)
            .ok_or_else(|| {
                SensitivityError::Input(format!(
                    "--manufacturer {name}: the scenario has no such manufacturer (it has: {})",
                    params
                        .manufacturers
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None if params.manufacturers.is_empty() && options.metric != Metric::EndHashrateEhsP50 => {
            return Err(SensitivityError::Input(format!(
                "the scenario has no manufacturer, so {} cannot be measured: use --metric end-hashrate-ehs-p50",
                options.metric.name()
            )));
        }
        None => 0,
    };
    if options.paths < 2 {
        return Err(SensitivityError::Input(format!(
            "--paths {}: a sensitivity needs at least 2 paths per evaluation, for its standard errors",
            options.paths
        )));
    }
    let (factors, left_out) = factors(scenario, options.share);
    if factors.is_empty() {
        return Err(SensitivityError::Input(
            "no parameter to vary: every documented behaviour parameter was left out (see above) and the scenario \
             declares no [[uncertainty]] ranges"
                .to_string(),
        ));
    }
    let mut base = params.clone();
    base.uncertainty.clear();
    base.simulation.n_paths = options.paths;

    let oat = design::one_at_a_time(factors.len());
    let trajectories = design::morris(factors.len(), options.trajectories as usize, base.simulation.seed);
    let n_evaluations = oat.len() + trajectories.iter().map(|t| t.points.len()).sum::<usize>();
    crate::memory::paths_fit(
        "a sensitivity",
        &format!("each path's metric in each of its {n_evaluations} evaluations"),
        u64::from(options.paths),
        n_evaluations as u64 * std::mem::size_of::<Option<f64>>() as u64,
    )
    .map_err(SensitivityError::Input)?;
    let pool = thread_pool(options.threads).map_err(RunError::from)?;
    let bar = progress_bar(
        n_evaluations as u64 * u64::from(options.paths),
        options.progress,
        &format!("sensitivity {}", params.simulation.name),
    );
    let metric = options.metric;
    let evaluate = |point: &Point| -> Paths {
        let p = params_at(&base, &factors, point);
        pool.install(|| {
            (0..options.paths)
                .into_par_iter()
                .map(|path_idx| {
                    let summary = simulate_guarded(&Engine, &p, path_idx, &mut OutcomeOnly);
                    bar.inc(1);
                    metric.of(&summary, focus_idx)
                })
                .collect()
        })
    };
    let oat_values: Vec<Paths> = oat.iter().map(&evaluate).collect();
    let morris_values: Vec<Vec<Paths>> = trajectories
        .iter()
        .map(|t| t.points.iter().map(&evaluate).collect())
        .collect();
    bar.finish_and_clear();
    // Paths stopped by a failed check are left out of every effect they belong to, and reported.
    let n_failed_paths = oat_values
        .iter()
        .chain(morris_values.iter().flatten())
        .map(|e| e.iter().filter(|v| v.is_none()).count())
        .sum::<usize>();

    let statistic = metric.statistic();
    let completed = |e: &Paths| e.iter().flatten().copied().collect::<Vec<f64>>();
    let metric_base = statistic(&completed(&oat_values[0]));
    let bars = design::tornado(&oat_values, statistic, RESAMPLES, base.simulation.seed);
    let screening =
        (!trajectories.is_empty()).then(|| design::screening(&trajectories, &morris_values, statistic, factors.len()));
    let results: Vec<FactorResult> = factors
        .iter()
        .enumerate()
        .map(|(i, f)| FactorResult {
            factor: f.clone(),
            bar: bars[i],
            metric_low: statistic(&completed(&oat_values[1 + 2 * i])),
            metric_high: statistic(&completed(&oat_values[2 + 2 * i])),
            screening: screening.as_ref().map(|s| s[i]),
        })
        .collect();

    // One directory per metric, so analyses of several metrics sit side by side.
    let name = format!("{}-sensitivity-{}", params.simulation.name, metric.name());
    let staged = StagedDir::create(&options.out_dir, &name)?;
    let dir = staged.path().to_path_buf();
    let mut analysis = Analysis {
        scenario_name: params.simulation.name.clone(),
        scenario_file: scenario.path.display().to_string(),
        focus: params
            .manufacturers
            .get(focus_idx)
            .map_or(String::new(), |m| m.name.clone()),
        seed: base.simulation.seed,
        paths: options.paths,
        trajectories: options.trajectories,
        metric,
        metric_base,
        share: options.share,
        declared: options.share.is_none() && !params.uncertainty.is_empty(),
        results,
        left_out,
    };
    // Results in tornado order, the order `sensitivity.parquet` holds them in, so that ties rank the same when
    // `plot` reads them back.
    analysis.results = analysis.by_swing().into_iter().cloned().collect();
    write_table(&dir, &analysis)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let sets = scenario.sets.clone();
    write_json(
        &dir,
        &analysis,
        &json!({
            "started_at": started_at,
            "wall_seconds": wall_seconds,
            "threads": pool.current_num_threads(),
            "evaluations": n_evaluations,
        "failed_paths": n_failed_paths,
            "sets": sets,
        }),
    )?;
    write_report(&dir, &analysis)?;
    let published = staged.commit()?;
    Ok(SensitivityReport {
        dir: published.dir,
        metric,
        metric_base,
        results: analysis.results,
        left_out: analysis.left_out,
        n_evaluations,
        n_failed_paths,
        wall_seconds,
        warnings: published.warnings,
    })
}

/// Everything the files of an analysis are written from.
pub struct Analysis {
    pub scenario_name: String,
    pub scenario_file: String,
    pub focus: String,
    pub seed: u64,
    pub paths: u32,
    pub trajectories: u32,
    pub metric: Metric,
    pub metric_base: f64,
    pub share: Option<f64>,
    /// Whether the ranges are the scenario's declared ones.
    pub declared: bool,
    pub results: Vec<FactorResult>,
    pub left_out: Vec<LeftOut>,
}

impl Analysis {
    /// The source line under the charts.
    pub fn source_line(&self) -> String {
        format!(
            "Source: hashcycle {} sensitivity of {} · {} paths per evaluation, common random numbers · seed {}",
            env!("CARGO_PKG_VERSION"),
            self.scenario_file,
            format::grouped(f64::from(self.paths), 0),
            self.seed
        )
    }

    /// How the ranges were chosen, in words.
    pub fn ranges_text(&self) -> String {
        if self.declared {
            "each over the range the scenario declares in [[uncertainty]]".to_string()
        } else {
            format!(
                "each ±{} of its scenario value (shares kept in [0, 1])",
                format::pct(self.share.unwrap_or(DEFAULT_SHARE))
            )
        }
    }

    /// Results in tornado order: widest bar pair first (`design::Bar::span`).
    pub fn by_swing(&self) -> Vec<&FactorResult> {
        let ranks = design::ranks_by_size(&self.results.iter().map(|r| r.bar.span()).collect::<Vec<_>>());
        let mut order: Vec<usize> = (0..self.results.len()).collect();
        order.sort_by_key(|&i| ranks[i]);
        order.iter().map(|&i| &self.results[i]).collect()
    }

    /// Results in Morris order: largest μ* first (empty without a screening).
    pub fn by_mu_star(&self) -> Vec<&FactorResult> {
        if self.results.iter().all(|r| r.screening.is_none()) {
            return vec![];
        }
        let values: Vec<f64> = self
            .results
            .iter()
            .map(|r| r.screening.map_or(f64::NAN, |s| s.mu_star))
            .collect();
        let ranks = design::ranks_by_size(&values);
        let mut order: Vec<usize> = (0..self.results.len()).collect();
        order.sort_by_key(|&i| ranks[i]);
        order.iter().map(|&i| &self.results[i]).collect()
    }
}

/// `sensitivity.parquet`: one row per factor, in tornado order.
fn write_table(dir: &Path, a: &Analysis) -> Result<(), OutputError> {
    let rows = a.by_swing();
    let morris_ranks = design::ranks_by_size(
        &rows
            .iter()
            .map(|r| r.screening.map_or(f64::NAN, |s| s.mu_star))
            .collect::<Vec<_>>(),
    );
    let n = rows.len();
    // A figure nobody could measure (every path failed, a spread of one value) is null, never a number.
    let finite = |v: f64| v.is_finite().then_some(v);
    let f = |g: &dyn Fn(&FactorResult) -> f64| rows.iter().map(|r| finite(g(r))).collect::<Vec<Option<f64>>>();
    let s = |g: &dyn Fn(&design::Screening) -> f64| {
        rows.iter()
            .map(|r| r.screening.and_then(|x| finite(g(&x))))
            .collect::<Vec<Option<f64>>>()
    };
    let columns = vec![
        Column::new("scenario".into(), vec![a.scenario_name.as_str(); n]),
        Column::new("focus_manufacturer".into(), vec![a.focus.as_str(); n]),
        Column::new("metric".into(), vec![a.metric.name(); n]),
        // The unit of every `metric_*`, `effect_*`, `swing*` and `morris_*` figure.
        Column::new("metric_unit".into(), vec![a.metric.unit(); n]),
        Column::new(
            "parameter".into(),
            rows.iter().map(|r| r.factor.name.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "range".into(),
            rows.iter()
                .map(|r| match r.factor.ends {
                    Ends::Range { log: true, .. } => "declared, log-uniform".to_string(),
                    Ends::Range { .. } => "declared".to_string(),
                    Ends::Scale { share } => format!("±{share} of its value"),
                })
                .collect::<Vec<_>>(),
        ),
        Column::new("low_value".into(), f(&|r| r.factor.shown_ends().0)),
        Column::new("scenario_value".into(), f(&|r| r.factor.base[0])),
        Column::new("high_value".into(), f(&|r| r.factor.shown_ends().1)),
        Column::new("metric_scenario".into(), vec![finite(a.metric_base); n]),
        Column::new("metric_low".into(), f(&|r| r.metric_low)),
        Column::new("metric_high".into(), f(&|r| r.metric_high)),
        Column::new("effect_low".into(), f(&|r| r.bar.low.0)),
        Column::new("effect_low_se".into(), f(&|r| r.bar.low.1)),
        Column::new("effect_high".into(), f(&|r| r.bar.high.0)),
        Column::new("effect_high_se".into(), f(&|r| r.bar.high.1)),
        Column::new("swing".into(), f(&|r| r.bar.swing.0)),
        Column::new("swing_se".into(), f(&|r| r.bar.swing.1)),
        Column::new("span".into(), f(&|r| r.bar.span())),
        Column::new("tornado_rank".into(), (1..=n as u32).collect::<Vec<u32>>()),
        Column::new("morris_mu".into(), s(&|x| x.mu)),
        Column::new("morris_mu_star".into(), s(&|x| x.mu_star)),
        Column::new("morris_mu_star_se".into(), s(&|x| x.mu_star_se)),
        Column::new("morris_sigma".into(), s(&|x| x.sigma)),
        Column::new(
            "morris_rank".into(),
            rows.iter()
                .zip(&morris_ranks)
                .map(|(r, &k)| r.screening.map(|_| k))
                .collect::<Vec<Option<u32>>>(),
        ),
    ];
    let path = dir.join("sensitivity.parquet");
    let frame = DataFrame::new(n, columns).map_err(|e| OutputError::polars(&path, e))?;
    write_frame(&path, &frame)
}

/// Reads a finished analysis back from `sensitivity.parquet` and `sensitivity.json`, enough to draw its charts
/// and report again (`hashcycle plot`).
pub fn load(dir: &Path) -> Result<Analysis, OutputError> {
    use crate::output::charts::data::{Table, json_str, json_u64, read_json};
    let json = read_json(dir, "sensitivity.json")?;
    let table = Table::read(dir, "sensitivity.parquet")?;
    let metric_name = json_str(&json, "metric");
    let metric = <Metric as clap::ValueEnum>::value_variants()
        .iter()
        .copied()
        .find(|m| m.name() == metric_name)
        .ok_or_else(|| OutputError::Missing {
            path: dir.join("sensitivity.json"),
            message: format!("`metric` is `{metric_name}`, which this hashcycle does not know"),
        })?;
    let ranges = json_str(&json, "ranges");
    let declared = ranges == "declared";
    let share = ranges.strip_prefix('±').and_then(|s| s.parse::<f64>().ok());
    let names = table.strs("parameter")?;
    let f = |c: &str| table.f64s(c);
    let (low, mid, high) = (f("low_value")?, f("scenario_value")?, f("high_value")?);
    let (metric_low, metric_high) = (f("metric_low")?, f("metric_high")?);
    let (effect_low, effect_low_se) = (f("effect_low")?, f("effect_low_se")?);
    let (effect_high, effect_high_se) = (f("effect_high")?, f("effect_high_se")?);
    let (swing, swing_se) = (f("swing")?, f("swing_se")?);
    let (mu, mu_star, mu_star_se, sigma) = (
        f("morris_mu")?,
        f("morris_mu_star")?,
        f("morris_mu_star_se")?,
        f("morris_sigma")?,
    );
    let trajectories = json_u64(&json, "morris_trajectories") as u32;
    let results = (0..table.height())
        .map(|k| FactorResult {
            // The ends as written: a range from the low to the high value shows them again.
            factor: Factor {
                name: names[k].clone(),
                targets: vec![],
                base: vec![mid[k]],
                ends: Ends::Range {
                    min: low[k],
                    max: high[k],
                    log: false,
                },
            },
            bar: design::Bar {
                low: (effect_low[k], effect_low_se[k]),
                high: (effect_high[k], effect_high_se[k]),
                swing: (swing[k], swing_se[k]),
            },
            metric_low: metric_low[k],
            metric_high: metric_high[k],
            screening: mu_star[k].is_finite().then_some(design::Screening {
                mu: mu[k],
                mu_star: mu_star[k],
                mu_star_se: mu_star_se[k],
                sigma: sigma[k],
                n_effects: trajectories as usize,
            }),
        })
        .collect();
    let left_out = json
        .get("left_out")
        .and_then(|l| l.as_array())
        .map(|l| {
            l.iter()
                .map(|e| LeftOut {
                    name: json_str(e, "parameter"),
                    reason: json_str(e, "reason"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Analysis {
        scenario_name: json_str(&json, "scenario"),
        scenario_file: json_str(&json, "scenario_file"),
        focus: json_str(&json, "focus_manufacturer"),
        seed: json_u64(&json, "seed"),
        paths: json_u64(&json, "paths_per_evaluation") as u32,
        trajectories,
        metric,
        metric_base: json.get("metric_scenario").and_then(|v| v.as_f64()).unwrap_or(f64::NAN),
        share,
        declared,
        results,
        left_out,
    })
}

/// Draws an analysis's charts and `report.html` again from its files; returns the files written.
pub fn redraw(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let analysis = load(dir)?;
    let mut written = crate::output::charts::render(dir, &charts::charts(&analysis))?;
    written.push(write_report(dir, &analysis)?);
    Ok(written)
}

/// `sensitivity.json`: what was run, and how.
fn write_json(dir: &Path, a: &Analysis, how: &serde_json::Value) -> Result<(), OutputError> {
    let doc = json!({
        "hashcycle_version": env!("CARGO_PKG_VERSION"),
        "scenario": a.scenario_name,
        "scenario_file": a.scenario_file,
        "focus_manufacturer": a.focus,
        "metric": a.metric.name(),
        "metric_scenario": a.metric_base,
        "seed": a.seed,
        "paths_per_evaluation": a.paths,
        "morris_trajectories": a.trajectories,
        "ranges": if a.declared { "declared".to_string() } else { format!("±{}", a.share.unwrap_or(DEFAULT_SHARE)) },
        "factors": a.results.iter().map(|r| r.factor.name.clone()).collect::<Vec<_>>(),
        "left_out": a.left_out.iter().map(|l| json!({"parameter": l.name, "reason": l.reason})).collect::<Vec<_>>(),
        "run": how,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    write_atomic(&dir.join("sensitivity.json"), text.as_bytes())
}

/// `report.html`: the charts and the full table.
fn write_report(dir: &Path, a: &Analysis) -> Result<PathBuf, OutputError> {
    let charts = charts::charts(a);
    let mut body = String::new();
    let _ = writeln!(body, "<header>\n<p class=\"kicker\">hashcycle sensitivity report</p>");
    let _ = writeln!(
        body,
        "<h1>What moves {}: scenario {}</h1>",
        esc(a.metric.describe()),
        esc(&a.scenario_name)
    );
    let _ = writeln!(
        body,
        "<p class=\"lede\">{} behaviour parameters, {}; the scenario's strategy for {}, {} there.</p>",
        a.results.len(),
        esc(&a.ranges_text()),
        esc(&a.focus),
        esc(&a.metric.show(a.metric_base))
    );
    meta_table(
        &mut body,
        &[
            ("Scenario file", a.scenario_file.clone()),
            ("Paths per evaluation", format::grouped(f64::from(a.paths), 0)),
            ("Morris trajectories", a.trajectories.to_string()),
            ("Seed", a.seed.to_string()),
            ("hashcycle", env!("CARGO_PKG_VERSION").to_string()),
        ],
    );
    let _ = writeln!(body, "</header>");
    let _ = writeln!(
        body,
        "<section>\n<p class=\"note\">Every evaluation runs the same paths with the same seed and nothing drawn per path, \
         so each effect is a paired difference; ± is two bootstrap standard errors. The tornado moves one parameter at \
         a time from the scenario's values; the Morris screening moves every parameter along random trajectories, so its \
         μ* (mean absolute change per full range) ranks parameters over the whole space and its σ shows how much a \
         parameter's effect depends on the others.</p>\n</section>"
    );
    let glyphs = charts_html(dir, &charts, &mut body)?;
    let _ = writeln!(body, "<section>\n<h2>Every parameter</h2>");
    let _ = writeln!(
        body,
        "<table class=\"figures compact\">\n<thead><tr><th>Parameter</th><th>Low</th><th>Scenario</th><th>High</th>\
         <th>At low</th><th>At high</th><th>Swing (high − low)</th><th>Morris μ*</th><th>σ</th></tr></thead>\n<tbody>"
    );
    for r in a.by_swing() {
        let (lo, hi) = r.factor.shown_ends();
        let (mu, sigma) = r.screening.map_or((String::new(), String::new()), |s| {
            (
                a.metric.show_with_error(a.metric.show_size(s.mu_star), s.mu_star_se),
                a.metric.show_size(s.sigma),
            )
        });
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.factor.name),
            trim(lo),
            trim(r.factor.base[0]),
            trim(hi),
            esc(&a.metric.show(r.metric_low)),
            esc(&a.metric.show(r.metric_high)),
            esc(&a
                .metric
                .show_with_error(a.metric.show_change(r.bar.swing.0), r.bar.swing.1)),
            esc(&mu),
            esc(&sigma)
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>");
    if !a.left_out.is_empty() {
        let _ = writeln!(body, "<p>Left out:</p>\n<ul>");
        for l in &a.left_out {
            let _ = writeln!(body, "<li><code>{}</code>: {}</li>", esc(&l.name), esc(&l.reason));
        }
        let _ = writeln!(body, "</ul>");
    }
    let _ = writeln!(body, "</section>");
    write_page(
        dir,
        &format!("Sensitivity of scenario {}", a.scenario_name),
        &glyphs,
        &body,
    )
}

/// A parameter value for people: four significant digits, without float noise; `n/a` for a missing value.
pub fn trim(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    // Four significant digits, at most six decimals.
    let decimals = if v == 0.0 {
        0
    } else {
        (3 - v.abs().log10().floor() as i64).clamp(0, 6) as usize
    };
    let s = format!("{v:.decimals$}");
    if !s.contains('.') {
        return s;
    }
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_read_n_a_and_drop_their_error() {
        for metric in [Metric::PCashBelowZero, Metric::EndHashrateEhsP50] {
            assert_eq!(metric.show(f64::NAN), "n/a");
            assert_eq!(metric.show_change(f64::NAN), "n/a");
            assert_eq!(metric.show_size(f64::NAN), "n/a");
        }
        let p = Metric::PCashBelowZero;
        assert_eq!(p.show_with_error(p.show_size(0.02), f64::NAN), "2.0 pts");
        assert_eq!(p.show_with_error(p.show_size(0.02), 0.005), "2.0 pts ± 1.0 pts");
        assert_eq!(trim(f64::NAN), "n/a");
        assert_eq!(trim(0.35), "0.35");
    }
}
