//! The charts of a run, in report order: market fans, each manufacturer's cash fan and units stack, and the
//! dealers' inventory, drawn from the run's files alone.

use std::path::{Path, PathBuf};

use crate::batch::data::RunData;
use crate::output::OutputError;
use crate::output::charts::axes::ValueFormat;
use crate::output::charts::fan::{FanChart, Scale, fan_legend};
use crate::output::charts::layers::{LayerChart, LowerPanel};
use crate::output::charts::page::Page;
use crate::output::charts::stack::StackChart;
use crate::output::charts::{self, AnyChart, ChartEntry, file_stem_part, format};
use crate::stats::Quantiles;

/// Reads the run tables in `dir`, writes `dir/charts/*.png` and `*.svg`, and returns the files written.
pub fn render_run(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    render_run_data(dir, &RunData::load(dir)?)
}

/// `render_run` with the tables already read.
pub fn render_run_data(dir: &Path, data: &RunData) -> Result<Vec<PathBuf>, OutputError> {
    charts::render(dir, &run_charts(data))
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
        AnyChart::new(
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
    if let Some(layers) = &data.sites_by_use_mw {
        let hashrate: Vec<f64> = data.hashrate_ehs.iter().map(|q| q.p50).collect();
        let title = "Sites by use, and the network hashrate they leave".to_string();
        charts.push(AnyChart::new(
            ChartEntry {
                stem: "sites_by_use".to_string(),
                section: market.to_string(),
                title: title.clone(),
            },
            LayerChart {
                page: Page {
                    title,
                    subtitle: format!(
                        "{scenario} · MW of sites by use, per-month medians across paths summed over regions; \
                         below, the median network hashrate"
                    ),
                    legend: vec![],
                    source: source.clone(),
                },
                start: data.start,
                layers: layers.clone(),
                format: ValueFormat::Count,
                y_desc: "Sites (MW, month end)".to_string(),
                lower: Some(LowerPanel {
                    label: "Network hashrate (median path)".to_string(),
                    values: hashrate,
                    format: ValueFormat::Ehs,
                    y_desc: "Hashrate (EH/s)".to_string(),
                }),
                markers: data.markers.clone(),
            },
        ));
    }
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
        charts.push(AnyChart::new(
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
        if !maker.revenue_by_line_usd.is_empty() {
            let title = format!("{}: revenue by line (median path)", maker.name);
            charts.push(AnyChart::new(
                ChartEntry {
                    stem: format!("revenue_lines_{part}"),
                    section: section.clone(),
                    title: title.clone(),
                },
                LayerChart {
                    page: Page {
                        title,
                        subtitle: format!(
                            "{scenario}{strategy} · revenue per month by line, per-month medians across paths"
                        ),
                        legend: vec![],
                        source: source.clone(),
                    },
                    start: data.start,
                    layers: maker.revenue_by_line_usd.clone(),
                    format: ValueFormat::Usd,
                    y_desc: "Revenue (USD per month)".to_string(),
                    lower: None,
                    markers: data.markers.clone(),
                },
            ));
        }
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
