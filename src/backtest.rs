//! Backtest: does the model, fed the real price and fee history, reproduce the real hashrate path?
//!
//! A backtest starts the network and the fleet from the real state of the month before `from`, replays the
//! monthly BTC price and fees, releases the hardware that moved the efficiency frontier at its real release
//! months, and simulates to `to`. The median simulated hashrate and its 5–95% band across paths are compared
//! with the real hashrate, in-sample (up to `calibrate_until`) and out-of-sample (after it), next to a
//! baseline fitted on the in-sample months alone (`baseline`).
//!
//! - `data`: the history and the ASIC list, the frontier and vintage-fleet rules;
//! - `template`: the template scenario and the scenario built for a window;
//! - `simulate`: running paths, bands and fit metrics;
//! - `baseline`: the lagged price-elasticity baseline;
//! - `calibrate`: fitting behaviour parameters on the in-sample months (grid, then Nelder–Mead).

pub mod baseline;
pub mod calibrate;
pub mod charts;
pub mod data;
pub mod simulate;
pub mod tables;
pub mod template;

use std::path::{Path, PathBuf};

use crate::backtest::baseline::BaselineFit;
use crate::backtest::calibrate::CalibrationReport;
use crate::backtest::simulate::{Band, FitMetrics, fit_metrics, simulate};
use crate::backtest::template::{Hardware, Template, Window};
use crate::output::OutputError;
use crate::output::dir::StagedDir;
use crate::scenario::{Scenario, ScenarioError};
use hashcycle_model::market::network::BLOCKS_PER_HALVING;
use hashcycle_model::record::PathFailure;
use hashcycle_model::units::YearMonth;

/// Why a backtest could not run or be written.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The template or the window is wrong: exit status 1, nothing written.
    #[error("{0}")]
    Template(#[from] ScenarioError),
    /// A bad option (an empty window, a calibration with no in-sample month): exit status 1.
    #[error("{0}")]
    Usage(String),
    /// The worker threads could not start. Fatal.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    /// Results could not be written; nothing was committed. Exit status 2.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// One halving inside the window: when it really happened and when the paths had it.
#[derive(Clone, Debug, PartialEq)]
pub struct HalvingCheck {
    pub block_height: u64,
    pub actual_month: YearMonth,
    /// Distinct simulated months with the number of paths halving then, earliest first (paths that did not
    /// reach the height are left out).
    pub simulated_months: Vec<(YearMonth, u32)>,
}

impl HalvingCheck {
    /// Whether every path halved in the real month.
    pub fn all_paths_on_time(&self, n_paths: u32) -> bool {
        self.simulated_months == vec![(self.actual_month, n_paths)]
    }
}

/// Everything a backtest computes, before anything is written.
#[derive(Clone, Debug)]
pub struct BacktestResult {
    pub window: Window,
    pub n_paths: u32,
    pub seed: u64,
    pub scenario: Scenario,
    pub hardware: Hardware,
    /// Names and values of the fitted parameters used (calibrated, or the template's).
    pub parameter_names: Vec<String>,
    pub parameter_values: Vec<f64>,
    pub calibration: Option<CalibrationReport>,
    pub months: Vec<YearMonth>,
    pub price_usd: Vec<f64>,
    pub actual_hashrate_ehs: Vec<f64>,
    pub actual_difficulty: Vec<f64>,
    pub hashrate_ehs: Band,
    pub difficulty: Band,
    pub baseline: BaselineFit,
    /// The baseline's prediction and its residual band, month by month.
    pub baseline_hashrate_ehs: Band,
    /// The same baseline with a log-linear trend, reported beside it (absent when it cannot be fitted).
    pub baseline_trend: Option<TrendBaseline>,
    pub model_in_sample: FitMetrics,
    pub model_out_of_sample: FitMetrics,
    pub baseline_in_sample: FitMetrics,
    pub baseline_out_of_sample: FitMetrics,
    pub halvings: Vec<HalvingCheck>,
    /// Paths stopped by a failed check, with the month counted from the window's first.
    pub failures: Vec<PathFailure>,
    pub wall_seconds: f64,
}

/// The baseline with a log-linear trend: its fit, its prediction band and how well it fits.
#[derive(Clone, Debug)]
pub struct TrendBaseline {
    pub fit: BaselineFit,
    pub hashrate_ehs: Band,
    pub in_sample: FitMetrics,
    pub out_of_sample: FitMetrics,
}

/// The first month whose end height reaches `height`.
fn month_reaching(template: &Template, height: u64) -> Option<YearMonth> {
    template
        .history
        .records
        .iter()
        .find(|r| r.height_end >= height)
        .map(|r| r.month)
}

/// Fits the baseline on the in-sample months of the history and predicts the window.
fn baseline_band(template: &Template, window: &Window, trend: bool) -> Result<(BaselineFit, Band), BacktestError> {
    let history = &template.history;
    let log_hashrate: Vec<f64> = history.records.iter().map(|r| r.hashrate_ehs.ln()).collect();
    let log_price: Vec<f64> = history
        .records
        .iter()
        .map(|r| r.price_usd_close.map_or(f64::NAN, f64::ln))
        .collect();
    let first = history.first_month();
    let idx = |m: YearMonth| m.months_since(first) as usize;
    let fit = baseline::fit(
        &log_hashrate,
        &log_price,
        idx(window.from),
        idx(window.calibrate_until.min(window.to)),
        template.settings.baseline_max_lag_months as usize,
        trend,
    )
    .ok_or_else(|| {
        BacktestError::Usage(format!(
            "the baseline cannot be fitted on the in-sample months {} to {}: some lack a price or hashrate, or the \
             price does not vary",
            window.from,
            window.calibrate_until.min(window.to)
        ))
    })?;
    let mut band = Band::default();
    for k in 0..window.n_months() {
        let centre = fit.predict_log(&log_price, idx(window.from) + k);
        band.p5.push((centre + fit.residual_log_p5).exp());
        band.p50.push(centre.exp());
        band.p95.push((centre + fit.residual_log_p95).exp());
    }
    Ok((fit, band))
}

/// Checks a window against the template's history and the rules of a backtest.
pub fn check_window(template: &Template, window: &Window, calibrating: bool) -> Result<(), BacktestError> {
    let (first, last) = (template.history.first_month(), template.history.last_month());
    if window.from > last {
        return Err(BacktestError::Usage(format!(
            "--from {} is after the last month of the history ({last})",
            window.from
        )));
    }
    if window.to < window.from {
        return Err(BacktestError::Usage(format!(
            "--to ({}) must not come before --from ({})",
            window.to, window.from
        )));
    }
    if window.to > last {
        return Err(BacktestError::Usage(format!(
            "--to {} is after the last month of the history ({last})",
            window.to
        )));
    }
    if window.from.plus_months(-1) < first {
        return Err(BacktestError::Usage(format!(
            "--from {} needs the month before it in the history, which starts in {first}",
            window.from
        )));
    }
    // The starting fleet is made of the listed ASICs, so the first of them must be out before the start.
    let first_asic = crate::backtest::data::frontier(
        &template.models,
        template.settings.frontier_min_improvement_share,
        template.settings.nominal_unit_hashrate_ths,
        window.to,
    )
    .into_iter()
    .next();
    if let Some(g) = first_asic.filter(|g| g.release >= window.from) {
        return Err(BacktestError::Usage(format!(
            "--from {} is not after the first ASIC of the model list ({}, released {}): the starting fleet is made of ASICs",
            window.from, g.name, g.release
        )));
    }
    if window.n_in_sample() == 0 {
        return Err(BacktestError::Usage(format!(
            "--calibrate-until {} leaves no in-sample month after --from {}: the baseline{} needs some",
            window.calibrate_until,
            window.from,
            if calibrating { " and the calibration" } else { "" }
        )));
    }
    let n_in_sample = window.n_in_sample();
    if n_in_sample < baseline::MIN_FIT_MONTHS {
        let last = window.calibrate_until.min(window.to);
        return Err(BacktestError::Usage(format!(
            "the window has {n_in_sample} in-sample month{} ({} to {last}), and the baseline needs at least {} to fit its \
             level and price elasticity: end the in-sample months (--calibrate-until, and --to) at {} or later",
            if n_in_sample == 1 { "" } else { "s" },
            window.from,
            baseline::MIN_FIT_MONTHS,
            window.from.plus_months(baseline::MIN_FIT_MONTHS as i64 - 1)
        )));
    }
    Ok(())
}

/// Runs a backtest of `template` over `window` (on the current rayon pool): calibrates first when asked,
/// then simulates the whole window with the fitted (or the template's) values.
pub fn compute(
    template: &Template,
    window: Window,
    n_paths: Option<u32>,
    seed: Option<u64>,
    calibrate: bool,
) -> Result<BacktestResult, BacktestError> {
    let started = std::time::Instant::now();
    check_window(template, &window, calibrate)?;
    let records = template
        .history
        .window(window.from, window.to)
        .map_err(BacktestError::Usage)?;
    let actual_hashrate_ehs: Vec<f64> = records.iter().map(|r| r.hashrate_ehs).collect();
    let actual_difficulty: Vec<f64> = records.iter().map(|r| r.difficulty).collect();
    let n_in = window.n_in_sample();
    let calibration = if calibrate {
        Some(calibrate::calibrate(
            template,
            window.from,
            &actual_hashrate_ehs[..n_in],
        )?)
    } else {
        None
    };
    let parameter_values = calibration
        .as_ref()
        .map_or_else(|| template.fitted_values(), |c| c.values.clone());
    let (scenario, hardware) = template.scenario(window.from, window.to, Some(&parameter_values))?;
    let params = crate::batch::with_overrides(&scenario.params, n_paths, seed);
    let n_months = window.n_months();
    let path_bytes = std::mem::size_of::<crate::backtest::simulate::PathSeries>() as u64
        + 2 * crate::memory::vec_bytes::<f64>(n_months);
    crate::memory::paths_fit(
        "a backtest",
        "each path's hashrate and difficulty by month",
        u64::from(params.simulation.n_paths),
        path_bytes,
    )
    .map_err(BacktestError::Usage)?;
    let paths = simulate(&params, params.simulation.n_paths);
    let failures: Vec<PathFailure> = paths
        .iter()
        .enumerate()
        .filter_map(|(path_idx, p)| {
            p.violation.clone().map(|violation| PathFailure {
                path_idx: path_idx as u32,
                violation,
            })
        })
        .collect();
    let hashrate_ehs = Band::across(&paths, n_months, |p| &p.hashrate_ehs);
    let difficulty = Band::across(&paths, n_months, |p| &p.difficulty);
    let (baseline, baseline_hashrate_ehs) = baseline_band(template, &window, false)?;
    let trend = baseline_band(template, &window, true).ok();
    let in_sample = 0..n_in;
    let out_of_sample = n_in..n_months;
    let metrics = |band: &Band, months: std::ops::Range<usize>| {
        fit_metrics(&actual_hashrate_ehs, &band.p50, &band.p5, &band.p95, months)
    };
    let start_height = template
        .history
        .at(window.from.plus_months(-1))
        .map_or(0, |r| r.height_end);
    let end_height = records.last().map_or(0, |r| r.height_end);
    let mut halvings = vec![];
    let mut height = (start_height / BLOCKS_PER_HALVING + 1) * BLOCKS_PER_HALVING;
    let mut nth = 0;
    while height <= end_height {
        let mut simulated_months: Vec<(YearMonth, u32)> = vec![];
        for p in &paths {
            if let Some(&m) = p.halving_month_idx.get(nth) {
                let month = window.from.plus_months(m as i64);
                match simulated_months.iter_mut().find(|(sm, _)| *sm == month) {
                    Some((_, n)) => *n += 1,
                    None => simulated_months.push((month, 1)),
                }
            }
        }
        simulated_months.sort();
        if let Some(actual_month) = month_reaching(template, height) {
            halvings.push(HalvingCheck {
                block_height: height,
                actual_month,
                simulated_months,
            });
        }
        height += BLOCKS_PER_HALVING;
        nth += 1;
    }
    Ok(BacktestResult {
        window,
        n_paths: params.simulation.n_paths,
        seed: params.simulation.seed,
        parameter_names: template
            .settings
            .calibration
            .parameters
            .iter()
            .map(|p| p.name.clone())
            .collect(),
        parameter_values,
        calibration,
        months: records.iter().map(|r| r.month).collect(),
        price_usd: records.iter().map(|r| r.price_usd_close.unwrap_or(f64::NAN)).collect(),
        model_in_sample: metrics(&hashrate_ehs, in_sample.clone()),
        model_out_of_sample: metrics(&hashrate_ehs, out_of_sample.clone()),
        baseline_in_sample: metrics(&baseline_hashrate_ehs, in_sample.clone()),
        baseline_out_of_sample: metrics(&baseline_hashrate_ehs, out_of_sample.clone()),
        baseline_trend: trend.map(|(fit, hashrate_ehs)| TrendBaseline {
            fit,
            in_sample: metrics(&hashrate_ehs, in_sample.clone()),
            out_of_sample: metrics(&hashrate_ehs, out_of_sample.clone()),
            hashrate_ehs,
        }),
        actual_hashrate_ehs,
        actual_difficulty,
        hashrate_ehs,
        difficulty,
        baseline,
        baseline_hashrate_ehs,
        halvings,
        failures,
        scenario,
        hardware,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Options of `hashcycle backtest` and `hashcycle calibrate`.
#[derive(Clone, Debug)]
pub struct BacktestOptions {
    pub template: PathBuf,
    pub from: Option<YearMonth>,
    pub to: Option<YearMonth>,
    pub calibrate_until: Option<YearMonth>,
    pub n_paths: Option<u32>,
    pub seed: Option<u64>,
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    pub calibrate: bool,
}

/// What a finished backtest wrote.
#[derive(Debug)]
pub struct BacktestReport {
    pub dir: PathBuf,
    pub result: BacktestResult,
    /// Problems that did not stop the results from being published (see `StagedDir::commit`).
    pub warnings: Vec<String>,
}

/// Loads the template, runs the backtest and writes `out_dir/backtest/`.
pub fn run(options: &BacktestOptions) -> Result<BacktestReport, BacktestError> {
    let template = Template::load(&options.template)?;
    let defaults = template.default_window();
    let window = Window {
        from: options.from.unwrap_or(defaults.from),
        to: options.to.unwrap_or(defaults.to),
        calibrate_until: options.calibrate_until.unwrap_or(defaults.calibrate_until),
    };
    let pool = crate::batch::thread_pool(options.threads).map_err(|e| BacktestError::Threads {
        threads: e.threads,
        message: e.message,
    })?;
    let result = pool.install(|| compute(&template, window, options.n_paths, options.seed, options.calibrate))?;
    let staged = StagedDir::create(&options.out_dir, "backtest")?;
    write(staged.path(), &template, &result, options)?;
    let published = staged.commit()?;
    Ok(BacktestReport {
        dir: published.dir,
        result,
        warnings: published.warnings,
    })
}

/// The generated scenario's text, with its data paths made absolute so that it runs from anywhere.
fn scenario_text(template: &Template, result: &BacktestResult) -> String {
    let mut tree = result.scenario.tree.clone();
    for key in ["price.historical.history_file", "fees.historical.history_file"] {
        if let Ok(crate::scenario::raw::Value::Str(file)) = crate::scenario::overrides::get(&mut tree, key) {
            let path = template.base_dir.join(&file);
            let absolute = std::fs::canonicalize(&path).unwrap_or(path);
            let _ = crate::scenario::overrides::set(
                &mut tree,
                key,
                crate::scenario::raw::Value::Str(absolute.display().to_string()),
            );
        }
    }
    format!(
        "# hashcycle backtest scenario, generated from {} for {} to {}.\n# Run it with `hashcycle run` to get every table of the backtest's paths.\n\n{}",
        template.path.display(),
        result.window.from,
        result.window.to,
        crate::scenario::raw::to_toml(&tree)
    )
}

/// Writes the table, the provenance, the scenarios and the charts into `dir`.
fn write(
    dir: &Path,
    template: &Template,
    result: &BacktestResult,
    options: &BacktestOptions,
) -> Result<(), OutputError> {
    let table = dir.join("backtest.parquet");
    let frame = crate::backtest::tables::backtest_frame(result).map_err(|e| OutputError::polars(&table, e))?;
    crate::output::parquet::write_frame(&table, &frame)?;
    let scenario_file = dir.join("scenario.toml");
    std::fs::write(&scenario_file, scenario_text(template, result)).map_err(|e| OutputError::io(&scenario_file, e))?;
    if let Some(calibration) = &result.calibration {
        let header = format!(
            "Calibrated by `hashcycle calibrate --from {} --calibrate-until {}`: {} of |log(simulated p50 / actual)| over {} in-sample months {:.4} (template values: {:.4}).\nOnly the parameters listed under [backtest.calibration] were changed; every comment below is the template's.",
            result.window.from,
            result.window.calibrate_until,
            template.settings.calibration.objective.as_str(),
            calibration.n_in_sample_months,
            calibration.objective,
            calibration.start_objective,
        );
        let calibrated = dir.join("calibrated.toml");
        std::fs::write(&calibrated, template.with_values_text(&calibration.values, &header))
            .map_err(|e| OutputError::io(&calibrated, e))?;
    }
    crate::backtest::tables::write_backtest_json(&dir.join("backtest.json"), template, result, options)?;
    crate::backtest::charts::render_backtest(dir)?;
    Ok(())
}

/// The metrics as the command prints them.
pub fn summary_text(result: &BacktestResult) -> String {
    let w = &result.window;
    let mut out = format!(
        "backtest {} to {} ({} months; in-sample to {}: {} months, out-of-sample: {} months), {} paths, seed {}\n",
        w.from,
        w.to,
        w.n_months(),
        w.calibrate_until,
        result.model_in_sample.n_months,
        result.model_out_of_sample.n_months,
        result.n_paths,
        result.seed
    );
    let pct = |x: f64| {
        if x.is_finite() {
            format!("{:.0}%", 100.0 * x)
        } else {
            "n/a".to_string()
        }
    };
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "n/a".to_string()
        }
    };
    out.push_str(&format!(
        "{:<44} {:>22} {:>22}\n",
        "hashrate", "median |log(sim/act)|", "actual inside p5-p95"
    ));
    out.push_str(&format!(
        "{:<44} {:>10} {:>11} {:>10} {:>11}\n",
        "", "in", "out", "in", "out"
    ));
    let mut rows = vec![
        (
            "model (median path, p5-p95 across paths)".to_string(),
            result.model_in_sample,
            result.model_out_of_sample,
        ),
        (
            "baseline (price, fixed lag and elasticity)".to_string(),
            result.baseline_in_sample,
            result.baseline_out_of_sample,
        ),
    ];
    let mut notes = vec![format!("baseline: {}", result.baseline.describe())];
    if let Some(trend) = &result.baseline_trend {
        rows.push((
            "baseline with a log-linear trend".to_string(),
            trend.in_sample,
            trend.out_of_sample,
        ));
        notes.push(format!("baseline with a log-linear trend: {}", trend.fit.describe()));
    }
    for (name, a, b) in rows {
        out.push_str(&format!(
            "{:<44} {:>10} {:>11} {:>10} {:>11}\n",
            name,
            num(a.median_abs_log_error),
            num(b.median_abs_log_error),
            pct(a.coverage_share),
            pct(b.coverage_share)
        ));
    }
    for note in notes {
        out.push_str(&note);
        out.push('\n');
    }
    for h in &result.halvings {
        let simulated: Vec<String> = h
            .simulated_months
            .iter()
            .map(|(m, n)| format!("{m} ({n} paths)"))
            .collect();
        out.push_str(&format!(
            "halving at height {}: real {}, simulated {}\n",
            h.block_height,
            h.actual_month,
            if simulated.is_empty() {
                "never".to_string()
            } else {
                simulated.join(", ")
            }
        ));
    }
    if let Some(c) = &result.calibration {
        out.push_str(&format!(
            "calibration: {} evaluations in {:.1} s, in-sample objective {:.4} (template values {:.4})\n",
            c.n_evaluations, c.wall_seconds, c.objective, c.start_objective
        ));
    }
    for (name, value) in result.parameter_names.iter().zip(&result.parameter_values) {
        out.push_str(&format!("  {name} = {}\n", template::format_float(*value)));
    }
    out
}
