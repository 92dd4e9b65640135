//! Replay: the full model (regions, manufacturers, dealers, key-account firms, retail), started from the real
//! state of a month and driven by the real price and fees, against what really happened.
//!
//! A replay scenario is an ordinary scenario whose price is `model = "historical"` (`scenarios/replay.toml`).
//! `hashcycle replay FILE` runs its paths and compares, month by month, the simulated network (p10, p50 and
//! p90 across paths) with the real hashrate and difficulty of the price history, and the manufacturers with
//! their filings (`industry_public_figures.csv`) and dealers' listing prices, in-sample (up to
//! `--calibrate-until`) and out-of-sample (after it).
//!
//! - `calibrate`: fitting the declared `[[uncertainty]]` ranges on the in-sample months (`--calibrate`);
//! - `figures`: the public figures and listings, read into the model's units;
//! - `tables`: `replay.parquet`, `replay_manufacturers.parquet`, `replay_figures.parquet` and `replay.json`;
//! - `charts`: the chart page, drawn from those files alone.

pub mod calibrate;
pub mod charts;
pub mod figures;
pub mod tables;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::backtest::data::History;
use crate::output::OutputError;
use crate::output::dir::StagedDir;
use crate::replay::figures::{Figure, Metric, Period};
use crate::scenario::Scenario;
use crate::stats::quantile_sorted;
use hashcycle_model::params::{Params, PriceProcess};
use hashcycle_model::record::{
    DealerRow, EventRow, ManufacturerRow, MinerRow, NetworkRow, PathFailure, RegionRow, Sink, Violation,
};
use hashcycle_model::units::YearMonth;

/// The last in-sample month when `--calibrate-until` is not given: the public figures stop at the end of 2022
/// on purpose, so that 2023 onwards is history the model was not fitted on.
pub const DEFAULT_CALIBRATE_UNTIL: YearMonth = YearMonth { year: 2022, month: 12 };

/// The quantiles every band reports.
pub const BAND_QUANTILES: [f64; 3] = [0.10, 0.50, 0.90];

/// Why a replay could not run or be written.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A bad scenario, option or data file: exit status 1, nothing written.
    #[error("{0}")]
    Usage(String),
    /// The worker threads could not start. Fatal.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    /// Results could not be written; nothing was committed. Exit status 2.
    #[error(transparent)]
    Output(#[from] OutputError),
}

#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub n_paths: Option<u32>,
    pub seed: Option<u64>,
    pub out_dir: PathBuf,
    pub threads: Option<usize>,
    /// Last in-sample month (default [`DEFAULT_CALIBRATE_UNTIL`]).
    pub calibrate_until: Option<YearMonth>,
    /// Filed figures (default: `industry_public_figures.csv` beside the price history, if there).
    pub figures: Option<PathBuf>,
    /// Dealers' listings (default: `asic_market_prices_2021-2022.csv` beside the price history, if there).
    pub listings: Option<PathBuf>,
    /// Fit the `[[uncertainty]]` ranges on the in-sample months first, and replay with the fitted ranges.
    pub calibrate: bool,
    /// Paths the calibration draws (default [`DEFAULT_CALIBRATION_PATHS`]).
    pub calibration_paths: Option<u32>,
    /// Share of the calibration's paths kept (default [`DEFAULT_ACCEPT_SHARE`]).
    pub accept_share: Option<f64>,
}

/// Paths a calibration draws when `--calibration-paths` is not given.
pub const DEFAULT_CALIBRATION_PATHS: u32 = 20_000;
/// Share of a calibration's paths kept when `--accept-share` is not given.
pub const DEFAULT_ACCEPT_SHARE: f64 = 0.05;

/// What one path keeps: its network and each manufacturer's months.
#[derive(Clone, Debug, Default)]
pub struct ReplayPath {
    pub hashrate_ehs: Vec<f64>,
    pub difficulty: Vec<f64>,
    /// `makers[manufacturer][month]`.
    pub makers: Vec<Vec<MakerMonth>>,
    pub violation: Option<Violation>,
}

/// A manufacturer's month, as the comparison with filings needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MakerMonth {
    pub units_sold: f64,
    pub hashrate_sold_ths: f64,
    pub revenue_usd: f64,
    pub gross_margin_usd: f64,
    pub customer_advances_usd: f64,
    pub inventory_value_usd: f64,
    pub list_price_usd_per_th: f64,
    pub secondary_price_usd_per_th: f64,
}

impl Sink for ReplayPath {
    const MONTHLY_ROWS: bool = true;
    fn network(&mut self, row: &NetworkRow) {
        self.hashrate_ehs.push(row.hashrate_ehs);
        self.difficulty.push(row.difficulty);
    }
    fn miner(&mut self, _row: &MinerRow) {}
    fn manufacturer(&mut self, row: &ManufacturerRow) {
        if self.makers.len() <= row.manufacturer_idx {
            self.makers.resize(row.manufacturer_idx + 1, vec![]);
        }
        self.makers[row.manufacturer_idx].push(MakerMonth {
            units_sold: (row.units_sold_spot + row.units_sold_dealers + row.units_delivered) as f64,
            hashrate_sold_ths: row.hashrate_sold_ths,
            revenue_usd: row.revenue_usd,
            gross_margin_usd: row.gross_margin_usd,
            customer_advances_usd: row.customer_advances_usd,
            inventory_value_usd: row.inventory_value_usd,
            list_price_usd_per_th: row.list_price_usd_per_th,
            secondary_price_usd_per_th: row.secondary_price_usd_per_th,
        });
    }
    fn dealer(&mut self, _row: &DealerRow) {}
    fn region(&mut self, _row: &RegionRow) {}
    fn event(&mut self, _row: EventRow) {}
}

/// p10, p50 and p90 across paths, month by month (or period by period).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Band {
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
}

impl Band {
    /// The band of `value(path, k)` for k in 0..n; non-finite values are left out.
    pub fn across(paths: &[ReplayPath], n: usize, value: impl Fn(&ReplayPath, usize) -> Option<f64>) -> Band {
        let mut band = Band::default();
        let mut values = Vec::with_capacity(paths.len());
        for k in 0..n {
            values.clear();
            values.extend(paths.iter().filter_map(|p| value(p, k)).filter(|v| v.is_finite()));
            values.sort_by(f64::total_cmp);
            let q = |q: f64| {
                if values.is_empty() {
                    f64::NAN
                } else {
                    quantile_sorted(&values, q)
                }
            };
            band.p10.push(q(BAND_QUANTILES[0]));
            band.p50.push(q(BAND_QUANTILES[1]));
            band.p90.push(q(BAND_QUANTILES[2]));
        }
        band
    }
}

/// How the median path and the p10–p90 band follow a real series over some months.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fit {
    pub n_months: usize,
    /// Median over the months of |ln(p50 / actual)|.
    pub median_abs_log_error: f64,
    /// Median over the months of ln(p50 / actual): negative when the model runs below history.
    pub median_log_error: f64,
    /// Share of months whose actual lies inside [p10, p90].
    pub coverage_share: f64,
}

impl Fit {
    pub fn over(actual: &[f64], band: &Band, months: impl Iterator<Item = usize>) -> Fit {
        let mut errors = vec![];
        let mut inside = 0;
        for m in months {
            let (a, s) = (actual[m], band.p50[m]);
            if !(a.is_finite() && a > 0.0 && s.is_finite() && s > 0.0) {
                continue;
            }
            errors.push((s / a).ln());
            inside += usize::from(a >= band.p10[m] && a <= band.p90[m]);
        }
        if errors.is_empty() {
            return Fit {
                n_months: 0,
                median_abs_log_error: f64::NAN,
                median_log_error: f64::NAN,
                coverage_share: f64::NAN,
            };
        }
        let n = errors.len();
        let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        errors.sort_by(f64::total_cmp);
        Fit {
            n_months: n,
            median_abs_log_error: quantile_sorted(&abs, 0.5),
            median_log_error: quantile_sorted(&errors, 0.5),
            coverage_share: inside as f64 / n as f64,
        }
    }
}

/// One year's (or one sample's) fit of hashrate and difficulty.
#[derive(Clone, Debug, PartialEq)]
pub struct FitRow {
    /// A year (`2023`), `in_sample` or `out_of_sample`.
    pub label: String,
    pub in_sample: bool,
    pub hashrate: Fit,
    pub difficulty: Fit,
}

/// A manufacturer's quarter across paths.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarterBands {
    pub manufacturer: String,
    /// First month of each quarter.
    pub quarters: Vec<YearMonth>,
    pub units_sold: Band,
    pub hashrate_sold_ehs: Band,
    pub revenue_usd: Band,
    pub gross_margin_share: Band,
    pub customer_advances_usd: Band,
    pub inventory_value_usd: Band,
}

/// A filed figure beside the model's p10, p50 and p90 for the same period and measure.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureCheck {
    pub figure: Figure,
    /// Whether the period ends in-sample.
    pub in_sample: bool,
    pub model_p10: f64,
    pub model_p50: f64,
    pub model_p90: f64,
}

/// Everything a replay computes, before anything is written.
#[derive(Clone, Debug)]
pub struct ReplayResult {
    pub scenario: Scenario,
    pub n_paths: u32,
    pub seed: u64,
    pub calibrate_until: YearMonth,
    pub history_file: PathBuf,
    pub figures_file: Option<PathBuf>,
    pub listings_file: Option<PathBuf>,
    pub months: Vec<YearMonth>,
    pub price_usd: Vec<f64>,
    pub actual_hashrate_ehs: Vec<f64>,
    pub actual_difficulty: Vec<f64>,
    pub hashrate_ehs: Band,
    pub difficulty: Band,
    /// The new machines' price: each path's list prices weighted by the hashrate each manufacturer sold (by
    /// the plain mean in a month with no sales).
    pub new_usd_per_th: Band,
    /// The used-machine price the manufacturers' current machines fetch.
    pub used_usd_per_th: Band,
    /// Dealers' listings: median $/TH and count per month (NaN and 0 where none).
    pub listing_usd_per_th: Vec<f64>,
    pub listing_count: Vec<usize>,
    pub fits: Vec<FitRow>,
    pub quarters: Vec<QuarterBands>,
    pub checks: Vec<FigureCheck>,
    /// The calibration run first, with `--calibrate`.
    pub calibration: Option<calibrate::Calibration>,
    pub failures: Vec<PathFailure>,
    pub wall_seconds: f64,
}

impl ReplayResult {
    /// The in-sample and out-of-sample rows of `fits`.
    pub fn sample_fit(&self, in_sample: bool) -> Option<&FitRow> {
        let label = if in_sample { "in_sample" } else { "out_of_sample" };
        self.fits.iter().find(|f| f.label == label)
    }
}

/// The price history a replay scenario names, resolved as the scenario resolves it.
pub fn history_file(scenario: &Scenario) -> Result<PathBuf, ReplayError> {
    if !matches!(scenario.params.price.process, PriceProcess::Historical(_)) {
        return Err(ReplayError::Usage(format!(
            "{}: a replay needs the real price: set `[price] model = \"historical\"` with `[price.historical] history_file` (see scenarios/replay.toml)",
            scenario.path.display()
        )));
    }
    let mut tree = scenario.tree.clone();
    let node = crate::scenario::overrides::get_node(&mut tree, "price.historical.history_file")
        .map_err(|e| ReplayError::Usage(format!("{}: {e}", scenario.path.display())))?;
    let crate::scenario::raw::Value::Str(name) = &node.value else {
        return Err(ReplayError::Usage(format!(
            "{}: `price.historical.history_file` is not a file name",
            scenario.path.display()
        )));
    };
    Ok(crate::scenario::data_path(&scenario.sources, name, node.span.as_ref()))
}

/// A data file given on the command line (which must exist), or the default beside the history (used only
/// when it exists).
fn data_file(given: Option<&Path>, history: &Path, default_name: &str) -> Result<Option<PathBuf>, ReplayError> {
    match given {
        Some(path) if path.is_file() => Ok(Some(path.to_path_buf())),
        Some(path) => Err(ReplayError::Usage(format!("{} is not a file", path.display()))),
        None => Ok(Some(history.with_file_name(default_name)).filter(|p| p.is_file())),
    }
}

/// Runs the replay of `scenario` and computes every comparison; writes nothing.
pub fn compute(scenario: &Scenario, options: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    let started = Instant::now();
    let history_path = history_file(scenario)?;
    let history = History::load(&history_path).map_err(ReplayError::Usage)?;
    let figures_file = data_file(options.figures.as_deref(), &history_path, "industry_public_figures.csv")?;
    let listings_file = data_file(
        options.listings.as_deref(),
        &history_path,
        "asic_market_prices_2021-2022.csv",
    )?;
    let figures = match &figures_file {
        Some(path) => figures::load_figures(path).map_err(ReplayError::Usage)?,
        None => vec![],
    };
    let listings = match &listings_file {
        Some(path) => figures::load_listings(path).map_err(ReplayError::Usage)?,
        None => vec![],
    };
    let mut params: Params = crate::batch::with_overrides(&scenario.params, options.n_paths, options.seed);
    let start = params.simulation.start;
    let n_months = params.simulation.horizon_months as usize;
    let months: Vec<YearMonth> = (0..n_months).map(|k| start.plus_months(k as i64)).collect();
    let calibrate_until = options.calibrate_until.unwrap_or(DEFAULT_CALIBRATE_UNTIL);
    if calibrate_until < start {
        return Err(ReplayError::Usage(format!(
            "--calibrate-until {calibrate_until} is before the replay starts ({start}): no month would be in-sample"
        )));
    }
    let mut actual_hashrate_ehs = Vec::with_capacity(n_months);
    let mut actual_difficulty = Vec::with_capacity(n_months);
    let mut price_usd = Vec::with_capacity(n_months);
    for month in &months {
        let record = history.at(*month).ok_or_else(|| {
            ReplayError::Usage(format!(
                "{} has no network record for {month}: a replay runs only over months with history (it ends {})",
                history_path.display(),
                history.last_month()
            ))
        })?;
        actual_hashrate_ehs.push(record.hashrate_ehs);
        actual_difficulty.push(record.difficulty);
        price_usd.push(record.price_usd_close.unwrap_or(f64::NAN));
    }
    let calibration = if options.calibrate {
        // Only in-sample months reach the fit: the scenario is cut there, and so are the history and filings.
        let cut = calibrate::in_sample_params(&params, calibrate_until);
        let n_in = cut.simulation.horizon_months as usize;
        let in_sample_figures: Vec<Figure> = figures
            .iter()
            .filter(|f| f.period.last <= calibrate_until)
            .cloned()
            .collect();
        let accept_share = options.accept_share.unwrap_or(DEFAULT_ACCEPT_SHARE);
        let n_calibration = options.calibration_paths.unwrap_or(DEFAULT_CALIBRATION_PATHS);
        let c = calibrate::calibrate(
            &cut,
            &actual_hashrate_ehs[..n_in],
            &in_sample_figures,
            n_calibration,
            accept_share,
        )
        .map_err(|e| ReplayError::Usage(format!("{}: cannot calibrate: {e}", scenario.path.display())))?;
        params.uncertainty = c.fitted();
        Some(c)
    } else {
        None
    };
    let n_paths = params.simulation.n_paths;
    let path_bytes = std::mem::size_of::<ReplayPath>() as u64
        + 2 * crate::memory::vec_bytes::<f64>(n_months)
        + params.manufacturers.len() as u64 * crate::memory::vec_bytes::<MakerMonth>(n_months);
    crate::memory::paths_fit(
        "replay",
        "each path's months for its bands",
        u64::from(n_paths),
        path_bytes,
    )
    .map_err(ReplayError::Usage)?;
    let paths: Vec<ReplayPath> = (0..n_paths)
        .into_par_iter()
        .map(|path_idx| {
            let mut path = ReplayPath::default();
            let summary = crate::batch::simulate_path_guarded(&params, path_idx, &mut path);
            path.violation = summary.violation;
            path
        })
        .collect();
    let failures: Vec<PathFailure> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.violation.clone().map(|violation| PathFailure {
                path_idx: i as u32,
                violation,
            })
        })
        .collect();
    let hashrate_ehs = Band::across(&paths, n_months, |p, m| p.hashrate_ehs.get(m).copied());
    let difficulty = Band::across(&paths, n_months, |p, m| p.difficulty.get(m).copied());
    let new_usd_per_th = Band::across(&paths, n_months, new_machine_price);
    let used_usd_per_th = Band::across(&paths, n_months, |p, m| {
        let prices: Vec<f64> = p
            .makers
            .iter()
            .filter_map(|mm| mm.get(m).map(|x| x.secondary_price_usd_per_th))
            .filter(|v| *v > 0.0)
            .collect();
        (!prices.is_empty()).then(|| prices.iter().sum::<f64>() / prices.len() as f64)
    });
    let (listing_usd_per_th, listing_count) = months
        .iter()
        .map(|m| {
            listings
                .iter()
                .find(|(lm, _, _)| lm == m)
                .map_or((f64::NAN, 0), |(_, price, n)| (*price, *n))
        })
        .unzip();
    let fits = fit_rows(
        &months,
        calibrate_until,
        &actual_hashrate_ehs,
        &hashrate_ehs,
        &actual_difficulty,
        &difficulty,
    );
    let names: Vec<String> = params.manufacturers.iter().map(|m| m.name.clone()).collect();
    let quarters = quarter_bands(&paths, &months, &names);
    let checks = figure_checks(&paths, &months, &names, &figures, calibrate_until);
    Ok(ReplayResult {
        scenario: scenario.clone(),
        n_paths,
        seed: params.simulation.seed,
        calibrate_until,
        history_file: history_path,
        figures_file,
        listings_file,
        months,
        price_usd,
        actual_hashrate_ehs,
        actual_difficulty,
        hashrate_ehs,
        difficulty,
        new_usd_per_th,
        used_usd_per_th,
        listing_usd_per_th,
        listing_count,
        fits,
        quarters,
        checks,
        calibration,
        failures,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// A path's new-machine price in month `m`: list prices weighted by hashrate sold, else their plain mean.
fn new_machine_price(p: &ReplayPath, m: usize) -> Option<f64> {
    let rows: Vec<&MakerMonth> = p
        .makers
        .iter()
        .filter_map(|mm| mm.get(m))
        .filter(|x| x.list_price_usd_per_th > 0.0)
        .collect();
    if rows.is_empty() {
        return None;
    }
    let sold: f64 = rows.iter().map(|x| x.hashrate_sold_ths).sum();
    Some(if sold > 0.0 {
        rows.iter()
            .map(|x| x.list_price_usd_per_th * x.hashrate_sold_ths)
            .sum::<f64>()
            / sold
    } else {
        rows.iter().map(|x| x.list_price_usd_per_th).sum::<f64>() / rows.len() as f64
    })
}

/// Fits by calendar year, then over the in-sample and out-of-sample months.
fn fit_rows(
    months: &[YearMonth],
    calibrate_until: YearMonth,
    actual_hashrate: &[f64],
    hashrate: &Band,
    actual_difficulty: &[f64],
    difficulty: &Band,
) -> Vec<FitRow> {
    let mut years: Vec<i32> = months.iter().map(|m| m.year).collect();
    years.dedup();
    let row = |label: String, in_sample: bool, keep: &dyn Fn(YearMonth) -> bool| {
        let idx = || (0..months.len()).filter(|&k| keep(months[k]));
        FitRow {
            label,
            in_sample,
            hashrate: Fit::over(actual_hashrate, hashrate, idx()),
            difficulty: Fit::over(actual_difficulty, difficulty, idx()),
        }
    };
    let mut rows: Vec<FitRow> = years
        .iter()
        .map(|&y| {
            let in_sample = YearMonth { year: y, month: 12 } <= calibrate_until;
            row(y.to_string(), in_sample, &|m: YearMonth| m.year == y)
        })
        .collect();
    rows.push(row("in_sample".to_string(), true, &|m| m <= calibrate_until));
    rows.push(row("out_of_sample".to_string(), false, &|m| m > calibrate_until));
    rows
}

/// Index ranges of the whole quarters (and a last partial one) the months fall in.
fn quarter_ranges(months: &[YearMonth]) -> Vec<(YearMonth, std::ops::Range<usize>)> {
    let mut out: Vec<(YearMonth, std::ops::Range<usize>)> = vec![];
    for (k, m) in months.iter().enumerate() {
        let first = YearMonth::new(m.year, (m.month - 1) / 3 * 3 + 1).unwrap_or(*m);
        match out.last_mut() {
            Some((q, range)) if *q == first => range.end = k + 1,
            _ => out.push((first, k..k + 1)),
        }
    }
    out
}

fn quarter_bands(paths: &[ReplayPath], months: &[YearMonth], names: &[String]) -> Vec<QuarterBands> {
    let ranges = quarter_ranges(months);
    let n = ranges.len();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let flow = |f: fn(&MakerMonth) -> f64| {
                Band::across(paths, n, |p, q| {
                    let rows = p.makers.get(i)?.get(ranges[q].1.clone())?;
                    Some(rows.iter().map(f).sum())
                })
            };
            let balance = |f: fn(&MakerMonth) -> f64| {
                Band::across(paths, n, |p, q| p.makers.get(i)?.get(ranges[q].1.end - 1).map(f))
            };
            QuarterBands {
                manufacturer: name.clone(),
                quarters: ranges.iter().map(|(q, _)| *q).collect(),
                units_sold: flow(|x| x.units_sold),
                hashrate_sold_ehs: flow(|x| x.hashrate_sold_ths / 1e6),
                revenue_usd: flow(|x| x.revenue_usd),
                gross_margin_share: Band::across(paths, n, |p, q| {
                    let rows = p.makers.get(i)?.get(ranges[q].1.clone())?;
                    let revenue: f64 = rows.iter().map(|x| x.revenue_usd).sum();
                    (revenue > 0.0).then(|| rows.iter().map(|x| x.gross_margin_usd).sum::<f64>() / revenue)
                }),
                customer_advances_usd: balance(|x| x.customer_advances_usd),
                inventory_value_usd: balance(|x| x.inventory_value_usd),
            }
        })
        .collect()
}

/// The model's value of a figure's measure on one path, over the figure's period.
pub(crate) fn model_value(
    p: &ReplayPath,
    months: &[YearMonth],
    maker: usize,
    metric: Metric,
    period: Period,
) -> Option<f64> {
    let idx: Vec<usize> = (0..months.len()).filter(|&k| period.contains(months[k])).collect();
    // A period only partly simulated is not compared.
    let n_period_months = period.last.months_since(period.first) as usize + 1;
    let flow_complete = idx.len() == n_period_months;
    let rows = p.makers.get(maker)?;
    let sum = |f: fn(&MakerMonth) -> f64| idx.iter().filter_map(|&k| rows.get(k)).map(f).sum::<f64>();
    let last = || idx.last().and_then(|&k| rows.get(k));
    match metric {
        Metric::HashrateSoldEhs if flow_complete => Some(sum(|x| x.hashrate_sold_ths) / 1e6),
        Metric::RevenueUsd if flow_complete => Some(sum(|x| x.revenue_usd)),
        Metric::GrossMarginShare if flow_complete => {
            let revenue = sum(|x| x.revenue_usd);
            (revenue > 0.0).then(|| sum(|x| x.gross_margin_usd) / revenue)
        }
        Metric::CustomerAdvancesUsd => last().map(|x| x.customer_advances_usd),
        Metric::InventoryUsd => last().map(|x| x.inventory_value_usd),
        Metric::MarketShareHashrateSold if flow_complete => {
            let total: f64 = p
                .makers
                .iter()
                .map(|r| {
                    idx.iter()
                        .filter_map(|&k| r.get(k))
                        .map(|x| x.hashrate_sold_ths)
                        .sum::<f64>()
                })
                .sum();
            (total > 0.0).then(|| sum(|x| x.hashrate_sold_ths) / total)
        }
        _ => None,
    }
}

fn figure_checks(
    paths: &[ReplayPath],
    months: &[YearMonth],
    names: &[String],
    figures: &[Figure],
    calibrate_until: YearMonth,
) -> Vec<FigureCheck> {
    let mut checks = vec![];
    for figure in figures {
        let Some(maker) = names.iter().position(|n| n.eq_ignore_ascii_case(&figure.company)) else {
            continue;
        };
        let band = Band::across(paths, 1, |p, _| {
            model_value(p, months, maker, figure.metric, figure.period)
        });
        if !band.p50[0].is_finite() {
            continue;
        }
        checks.push(FigureCheck {
            figure: figure.clone(),
            in_sample: figure.period.last <= calibrate_until,
            model_p10: band.p10[0],
            model_p50: band.p50[0],
            model_p90: band.p90[0],
        });
    }
    checks
}

/// What a finished replay wrote.
#[derive(Debug)]
pub struct ReplayReport {
    pub dir: PathBuf,
    pub result: ReplayResult,
    pub warnings: Vec<String>,
}

/// Runs the replay of `scenario` and writes `out_dir/<scenario name>/`.
pub fn run(scenario: &Scenario, options: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    let pool = crate::batch::thread_pool(options.threads).map_err(|e| ReplayError::Threads {
        threads: e.threads,
        message: e.message,
    })?;
    let result = pool.install(|| compute(scenario, options))?;
    let staged = StagedDir::create(&options.out_dir, &scenario.params.simulation.name)?;
    tables::write(staged.path(), &result)?;
    charts::render_replay(staged.path())?;
    let published = staged.commit()?;
    Ok(ReplayReport {
        dir: published.dir,
        result,
        warnings: published.warnings,
    })
}

/// The comparison as the command prints it.
pub fn summary_text(r: &ReplayResult) -> String {
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "n/a".to_string()
        }
    };
    let pct = |x: f64| {
        if x.is_finite() {
            format!("{:.0}%", 100.0 * x)
        } else {
            "n/a".to_string()
        }
    };
    let mut out = format!(
        "replay of {} from {} to {} ({} paths, seed {}), in-sample to {}\n",
        r.scenario.path.display(),
        r.months.first().map_or(String::new(), |m| m.to_string()),
        r.months.last().map_or(String::new(), |m| m.to_string()),
        r.n_paths,
        r.seed,
        r.calibrate_until
    );
    out.push_str(&format!(
        "{:<14} {:>9} {:>9} {:>10}   {:>9} {:>10}\n",
        "", "hashrate", "bias", "in p10-p90", "difficulty", "in p10-p90"
    ));
    out.push_str(&format!(
        "{:<14} {:>9} {:>9} {:>10}   {:>9} {:>10}\n",
        "", "|log err|", "log err", "", "|log err|", ""
    ));
    for f in &r.fits {
        out.push_str(&format!(
            "{:<14} {:>9} {:>9} {:>10}   {:>9} {:>10}\n",
            f.label.replace('_', "-"),
            num(f.hashrate.median_abs_log_error),
            num(f.hashrate.median_log_error),
            pct(f.hashrate.coverage_share),
            num(f.difficulty.median_abs_log_error),
            pct(f.difficulty.coverage_share)
        ));
    }
    if let Some(c) = &r.calibration {
        out.push_str(&format!(
            "calibration to {}: {} paths, {} kept; median distance {:.4} (prior) -> {:.4} (kept); {:.1} s\n",
            c.calibrate_until,
            c.n_paths,
            c.n_accepted,
            c.median_distance_prior,
            c.median_distance_accepted,
            c.wall_seconds
        ));
        for p in &c.posteriors {
            out.push_str(&format!(
                "  {:<58} prior {:>9.4} to {:<9.4} fitted {:>9.4} to {:<9.4} (median {:.4})\n",
                p.prior.name, p.prior.min, p.prior.max, p.p05, p.p95, p.p50
            ));
        }
    }
    if !r.checks.is_empty() {
        out.push_str("filed figures against the model (p50, p10-p90):\n");
        for c in &r.checks {
            let (scale, unit) = match c.figure.metric {
                Metric::HashrateSoldEhs => (1.0, " EH/s"),
                Metric::GrossMarginShare | Metric::MarketShareHashrateSold => (100.0, "%"),
                _ => (1e-6, " $M"),
            };
            out.push_str(&format!(
                "  {:<8} {:<11} {:<27} filed {:>8.1}{unit}  model {:>8.1}{unit} ({:.1} to {:.1}){}\n",
                c.figure.company,
                c.figure.period_text,
                c.figure.metric.name(),
                c.figure.value * scale,
                c.model_p50 * scale,
                c.model_p10 * scale,
                c.model_p90 * scale,
                if c.in_sample { "" } else { "  [out-of-sample]" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_report_error_bias_and_coverage() {
        let band = Band {
            p10: vec![0.5, 3.0, 3.0],
            p50: vec![1.0, 4.0, 4.0],
            p90: vec![1.5, 5.0, 5.0],
        };
        let fit = Fit::over(&[1.0, 2.0, 8.0], &band, 0..3);
        assert_eq!(fit.n_months, 3);
        assert!((fit.median_abs_log_error - 2f64.ln()).abs() < 1e-12);
        // Errors 0, +ln 2, -ln 2: the median is 0.
        assert!(fit.median_log_error.abs() < 1e-12);
        assert!((fit.coverage_share - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(Fit::over(&[1.0], &band, 0..0).n_months, 0);
    }

    #[test]
    fn quarters_group_calendar_quarters_and_a_partial_last_one() {
        let start = YearMonth::new(2019, 2).unwrap();
        let months: Vec<YearMonth> = (0..6).map(|k| start.plus_months(k)).collect();
        let q = quarter_ranges(&months);
        assert_eq!(
            q,
            vec![
                (YearMonth::new(2019, 1).unwrap(), 0..2),
                (YearMonth::new(2019, 4).unwrap(), 2..5),
                (YearMonth::new(2019, 7).unwrap(), 5..6)
            ]
        );
    }

    #[test]
    fn a_figure_is_compared_over_its_whole_period_only() {
        let start = YearMonth::new(2021, 11).unwrap();
        let months: Vec<YearMonth> = (0..4).map(|k| start.plus_months(k)).collect();
        let month = |ths: f64, revenue: f64, advances: f64| MakerMonth {
            hashrate_sold_ths: ths,
            revenue_usd: revenue,
            gross_margin_usd: revenue / 2.0,
            customer_advances_usd: advances,
            ..MakerMonth::default()
        };
        let path = ReplayPath {
            makers: vec![vec![
                month(1e6, 10.0, 1.0),
                month(2e6, 30.0, 2.0),
                month(3e6, 0.0, 3.0),
                month(4e6, 0.0, 4.0),
            ]],
            ..ReplayPath::default()
        };
        let q1 = Period::parse("2022Q1").unwrap();
        let q4 = Period::parse("2021Q4").unwrap();
        let end = Period::parse("2021-12-31").unwrap();
        // 2022Q1 is only partly simulated (January and February): no flow is compared.
        assert_eq!(model_value(&path, &months, 0, Metric::HashrateSoldEhs, q1), None);
        // 2021Q4 is only November and December here too.
        assert_eq!(model_value(&path, &months, 0, Metric::RevenueUsd, q4), None);
        assert_eq!(
            model_value(&path, &months, 0, Metric::CustomerAdvancesUsd, end),
            Some(2.0)
        );
        let year = Period::parse("2022-01").unwrap();
        assert_eq!(model_value(&path, &months, 0, Metric::HashrateSoldEhs, year), Some(3.0));
        assert_eq!(model_value(&path, &months, 0, Metric::GrossMarginShare, year), None);
    }
}
