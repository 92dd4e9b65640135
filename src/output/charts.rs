//! Board-ready charts of a run or a sweep, as 1920×1080 PNG and SVG in `<results dir>/charts/`.
//!
//! Charts are drawn from the Parquet files and the provenance JSON alone, so `hashcycle plot DIR`
//! redraws them at any time, byte for byte.
//! - `data` and `sweep_data` read the tables and reduce them to what is drawn.
//! - `fan`, `stack`, `heatmap`, `interval` and `backtest` draw one kind of chart each, framed by `page` on axes from
//!   `axes`, in the look fixed by `style` and with numbers from `format`.
//! - `canvas` draws each chart on the PNG and SVG canvases; `text` sets text in the embedded font.

pub mod axes;
pub mod backtest;
pub mod canvas;
pub mod data;
pub mod fan;
pub mod format;
pub mod heatmap;
pub mod interval;
pub mod page;
pub mod stack;
pub mod style;
pub mod sweep_data;
pub mod text;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::output::OutputError;
use crate::output::charts::axes::ValueFormat;
use crate::output::charts::canvas::write_chart;
use crate::output::charts::data::{Quantiles, RunData};
use crate::output::charts::fan::{FanChart, Scale, fan_legend};
use crate::output::charts::page::Page;
use crate::output::charts::stack::StackChart;
use crate::output::charts::sweep_data::SweepData;

/// One chart of a report: its file stem, its section and its title.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartEntry {
    pub stem: String,
    pub section: String,
    pub title: String,
}

/// Reads the run tables in `dir`, writes `dir/charts/*.png` and `*.svg`, and returns the files written.
pub fn render_run(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    render_run_data(dir, &RunData::load(dir)?)
}

/// `render_run` with the tables already read.
pub fn render_run_data(dir: &Path, data: &RunData) -> Result<Vec<PathBuf>, OutputError> {
    write_all(&charts_dir(dir)?, &run_charts(data))
}

/// Reads a backtest's table and provenance in `dir`, writes `dir/charts/backtest_*.png` and `*.svg`, and
/// returns the files written.
pub fn render_backtest(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let data = backtest::BacktestData::load(dir)?;
    write_all(&charts_dir(dir)?, &[backtest::chart(&data)])
}

/// Reads a sweep's tables in `dir`, writes `dir/charts/*.png` and `*.svg`, and returns the files written.
pub fn render_sweep(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    render_sweep_data(dir, &SweepData::load(dir)?)
}

/// `render_sweep` with the tables already read.
pub fn render_sweep_data(dir: &Path, data: &SweepData) -> Result<Vec<PathBuf>, OutputError> {
    write_all(&charts_dir(dir)?, &sweep_charts(data))
}

/// Draws charts in parallel (each chart is independent and writes its own files, so the bytes do not depend
/// on the order) and returns the files in chart order; the first error in chart order wins.
fn write_all(charts_dir: &Path, charts: &[AnyChart]) -> Result<Vec<PathBuf>, OutputError> {
    let results: Vec<Result<Vec<PathBuf>, OutputError>> =
        charts.par_iter().map(|chart| chart.write(charts_dir)).collect();
    let mut written = vec![];
    for result in results {
        written.extend(result?);
    }
    Ok(written)
}

fn charts_dir(dir: &Path) -> Result<PathBuf, OutputError> {
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| OutputError::io(&charts_dir, e))?;
    Ok(charts_dir)
}

/// A chart to draw, of any kind.
pub enum AnyChart {
    Fan(ChartEntry, FanChart),
    Stack(ChartEntry, StackChart),
    Heatmap(ChartEntry, heatmap::Heatmap),
    Interval(ChartEntry, interval::IntervalChart),
    Backtest(ChartEntry, backtest::BacktestChart),
}

impl AnyChart {
    pub fn entry(&self) -> &ChartEntry {
        match self {
            AnyChart::Fan(e, _)
            | AnyChart::Stack(e, _)
            | AnyChart::Heatmap(e, _)
            | AnyChart::Interval(e, _)
            | AnyChart::Backtest(e, _) => e,
        }
    }

    /// Draws the chart into `charts_dir` as PNG and SVG.
    pub fn write(&self, charts_dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
        match self {
            AnyChart::Fan(e, c) => write_chart(charts_dir, &e.stem, c),
            AnyChart::Stack(e, c) => write_chart(charts_dir, &e.stem, c),
            AnyChart::Heatmap(e, c) => write_chart(charts_dir, &e.stem, c),
            AnyChart::Interval(e, c) => write_chart(charts_dir, &e.stem, c),
            AnyChart::Backtest(e, c) => write_chart(charts_dir, &e.stem, c),
        }
    }
}

/// A name safe in a file name: lowercase letters, digits, `_` and `-`.
pub fn file_stem_part(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "unnamed".to_string() } else { s }
}

/// `median at 2034-12: 450 EH/s (90% of paths 300 to 700)`, from the last month with figures; `unit` follows
/// the median only.
fn end_note(data: &RunData, fan: &[Quantiles], show: impl Fn(f64) -> String, unit: &str) -> String {
    match fan.iter().enumerate().rev().find(|(_, q)| q.p50.is_finite()) {
        Some((m, q)) => format!(
            "median at {}: {}{unit} (90% of paths {} to {})",
            format::month(data.start, m as f64),
            show(q.p50),
            show(q.p5),
            show(q.p95)
        ),
        None => "no figures".to_string(),
    }
}

/// The charts of a run, in report order.
pub fn run_charts(data: &RunData) -> Vec<AnyChart> {
    let info = &data.info;
    let source = info.source_line();
    let scenario = format!("Scenario {}", info.scenario_name);
    let mut charts = vec![];
    let market = "Market";
    let fan = |stem: &str,
               section: &str,
               title: String,
               subtitle: String,
               fan: &[Quantiles],
               scale: Scale,
               y_desc: &str,
               zero_line: bool| {
        AnyChart::Fan(
            ChartEntry {
                stem: stem.to_string(),
                section: section.to_string(),
                title: title.clone(),
            },
            FanChart {
                page: Page {
                    title,
                    subtitle,
                    legend: fan_legend(zero_line, &data.markers),
                    source: source.clone(),
                },
                start: data.start,
                fan: fan.to_vec(),
                scale,
                y_desc: y_desc.to_string(),
                markers: data.markers.clone(),
                zero_line,
            },
        )
    };
    charts.push(fan(
        "btc_price",
        market,
        "BTC price: median path and range across paths".to_string(),
        format!("{scenario} · {}", end_note(data, &data.price_usd, format::usd, "")),
        &data.price_usd,
        Scale::LogUsd,
        "BTC price (USD, log scale)",
        false,
    ));
    charts.push(fan(
        "network_hashrate",
        market,
        "Network hashrate: median path and range across paths".to_string(),
        format!(
            "{scenario} · {}",
            end_note(data, &data.hashrate_ehs, |v| format::grouped(v, 0), " EH/s")
        ),
        &data.hashrate_ehs,
        Scale::Linear(ValueFormat::Ehs),
        "Hashrate (EH/s, monthly mean)",
        false,
    ));
    charts.push(fan(
        "hashprice",
        market,
        "Hashprice: miners' revenue per unit of hashrate".to_string(),
        format!(
            "{scenario} · {}",
            end_note(
                data,
                &data.hashprice_usd_per_ph_day,
                |v| format!("${v:.1}"),
                " per PH/s per day"
            )
        ),
        &data.hashprice_usd_per_ph_day,
        Scale::Linear(ValueFormat::Usd),
        "Hashprice (USD per PH/s per day)",
        false,
    ));
    for maker in &data.makers {
        let strategy = maker
            .strategy
            .as_ref()
            .map_or(String::new(), |s| format!(" · strategy: {}", s.describe()));
        let part = file_stem_part(&maker.name);
        let section = format!("Manufacturer {}", maker.name);
        charts.push(fan(
            &format!("cash_{part}"),
            &section,
            format!("{}: cash balance across paths", maker.name),
            format!(
                "{scenario}{strategy} · {}",
                end_note(data, &maker.cash_usd, format::usd, "")
            ),
            &maker.cash_usd,
            Scale::Linear(ValueFormat::Usd),
            "Cash (USD, month end)",
            true,
        ));
        charts.push(AnyChart::Stack(
            ChartEntry {
                stem: format!("units_{part}"),
                section: section.clone(),
                title: format!("{}: units produced, sold and owed (median path)", maker.name),
            },
            StackChart {
                page: Page {
                    title: format!("{}: units produced, sold and owed (median path)", maker.name),
                    subtitle: format!("{scenario}{strategy} · per-month medians across paths"),
                    legend: vec![],
                    source: source.clone(),
                },
                start: data.start,
                flows_units: maker.flows_units.clone(),
                produced_units: maker.produced_units.clone(),
                inventory_units: maker.inventory_units.clone(),
                backlog_units: maker.backlog_units.clone(),
                markers: data.markers.clone(),
            },
        ));
    }
    charts.push(fan(
        "dealer_inventory",
        "Dealers",
        "Dealer inventory: machines held by the dealer channel".to_string(),
        format!(
            "{scenario} · {}",
            end_note(data, &data.dealer_inventory_units, format::count, " units")
        ),
        &data.dealer_inventory_units,
        Scale::Linear(ValueFormat::Count),
        "Inventory (units, month end)",
        false,
    ));
    charts
}

/// The charts of a sweep, in report order.
pub fn sweep_charts(data: &SweepData) -> Vec<AnyChart> {
    let mut charts = vec![];
    for scenario in &data.scenarios {
        for metric in [heatmap::Metric::CashBelowZero, heatmap::Metric::MedianEndCash] {
            if let Some((entry, chart)) = heatmap::for_scenario(data, scenario, metric) {
                charts.push(AnyChart::Heatmap(entry, chart));
            }
        }
    }
    if let Some((entry, chart)) = interval::comparison(data) {
        charts.push(AnyChart::Interval(entry, chart));
    }
    charts
}
