//! The replay's chart page, drawn from its files alone (`replay.parquet`, `replay_manufacturers.parquet`,
//! `replay_figures.parquet`, `replay.json`):
//! - network hashrate: the real line against the model's median and p10–p90 band (log scale);
//! - machine prices: the model's new and used $/TH against dealers' listings (log scale);
//! - for the manufacturer with filed figures, hashrate sold and gross margin by quarter against its filings.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::element::{Circle, Polygon};
use plotters::prelude::{DrawingArea, DrawingBackend, RGBColor};
use plotters::series::LineSeries;

use crate::output::OutputError;
use crate::output::charts::axes::{self, Axis, Marker, MarkerKind, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::data::{Table, json_str, json_u64, read_json, tidy_path, year_month_of_days};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, AMBER, BLUE_PALE, BRICK, NAVY, TEAL};
use crate::output::charts::{self, AnyChart, ChartEntry, format};
use hashcycle_model::units::YearMonth;

/// Reads a replay's files in `dir`, writes `dir/charts/replay_*.png` and `*.svg`, and returns the files written.
pub fn render_replay(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    charts::render(dir, &replay_charts(dir)?)
}

/// How a chart's value axis reads.
#[derive(Clone, Copy, Debug)]
enum Scale {
    LogEhs,
    LogUsd,
    Linear(ValueFormat),
}

/// A line's points, colour and width in pixels.
type Line = (Vec<(f64, f64)>, RGBColor, u32);

/// A time chart of series against history: a band, lines and points, with markers.
struct SeriesChart {
    page: Page,
    start: YearMonth,
    n_months: usize,
    scale: Scale,
    y_desc: String,
    /// (month index, low, high).
    band: Vec<(f64, f64, f64)>,
    /// (points, colour, width).
    lines: Vec<Line>,
    /// (points, colour): drawn as dots with whiskers when given a range.
    points: Vec<(Vec<(f64, f64)>, RGBColor)>,
    markers: Vec<Marker>,
}

impl SeriesChart {
    fn y_of(&self, v: f64) -> f64 {
        match self.scale {
            Scale::LogEhs | Scale::LogUsd => v.log10(),
            Scale::Linear(_) => v,
        }
    }

    fn shown(&self, v: f64) -> bool {
        v.is_finite() && (matches!(self.scale, Scale::Linear(_)) || v > 0.0)
    }
}

impl Chart for SeriesChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let values = self
            .band
            .iter()
            .flat_map(|(_, lo, hi)| [*lo, *hi])
            .chain(self.lines.iter().flat_map(|(pts, _, _)| pts.iter().map(|p| p.1)))
            .chain(self.points.iter().flat_map(|(pts, _)| pts.iter().map(|p| p.1)))
            .filter(|v| self.shown(*v));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (1.0, 10.0) };
        let y = match self.scale {
            Scale::LogEhs => Axis::log_ehs(lo, hi, self.y_desc.clone()),
            Scale::LogUsd => Axis::log_usd(lo, hi, self.y_desc.clone()),
            Scale::Linear(f) => Axis::linear(lo.min(0.0), hi.max(0.0), f, self.y_desc.clone()),
        };
        let x = Axis::months(self.start, self.n_months);
        let (mut plot, rows) = axes::plot_with_markers(&area, &x, &y, &PlotOptions::default(), &self.markers)?;
        let band: Vec<&(f64, f64, f64)> = self
            .band
            .iter()
            .filter(|(_, lo, hi)| self.shown(*lo) && self.shown(*hi))
            .collect();
        if !band.is_empty() {
            let mut polygon: Vec<(f64, f64)> = band.iter().map(|(m, _, hi)| (*m, self.y_of(*hi))).collect();
            polygon.extend(band.iter().rev().map(|(m, lo, _)| (*m, self.y_of(*lo))));
            plot.draw_series(std::iter::once(Polygon::new(polygon, style::fill(BLUE_PALE))))
                .map_err(msg)?;
        }
        for (pts, color, width) in &self.lines {
            let pts: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| self.shown(p.1))
                .map(|p| (p.0, self.y_of(p.1)))
                .collect();
            plot.draw_series(LineSeries::new(pts, style::stroke(*color, *width)))
                .map_err(msg)?;
        }
        for (pts, color) in &self.points {
            let dots: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| self.shown(p.1))
                .map(|p| (p.0, self.y_of(p.1)))
                .collect();
            plot.draw_series(dots.into_iter().map(|p| Circle::new(p, 9, style::fill(*color))))
                .map_err(msg)?;
        }
        axes::draw_markers(root, &plot, &self.markers, Some(&rows))?;
        Ok(())
    }
}

/// What every replay chart shares, read from `replay.json`.
struct Provenance {
    start: YearMonth,
    n_months: usize,
    source: String,
    markers: Vec<Marker>,
    calibrate_until: String,
}

fn provenance(dir: &Path, table: &Table) -> Result<Provenance, OutputError> {
    let info = read_json(dir, "replay.json")?;
    let days = table.days("month")?;
    let start = days
        .first()
        .map(|d| year_month_of_days(*d))
        .ok_or_else(|| OutputError::Missing {
            path: table.path.clone(),
            message: "the replay table has no months".to_string(),
        })?;
    let n_paths = json_u64(&info, "paths");
    let history = tidy_path(&json_str(&info, "history_file"));
    let calibrate_until = json_str(&info, "calibrate_until_month");
    let source = format!(
        "Source: hashcycle {} replay of {} · {} path{} · seed {} · real data: {}{}",
        json_str(&info, "version"),
        tidy_path(&json_str(&info, "scenario_file")),
        format::grouped(n_paths as f64, 0),
        if n_paths == 1 { "" } else { "s" },
        json_u64(&info, "seed"),
        history,
        if history.ends_with("data/btc_monthly.csv") {
            " (Coin Metrics, blockchain.com)"
        } else {
            ""
        }
    );
    let in_sample = table.bools("in_sample")?;
    let mut markers: Vec<Marker> = info
        .get("events")
        .and_then(|e| e.as_array())
        .map(|events| {
            events
                .iter()
                .filter_map(|e| {
                    let month = YearMonth::parse(e.get("month")?.as_str()?)?;
                    let label = e.get("label")?.as_str()?;
                    Some(Marker {
                        month_idx: month.months_since(start) as f64,
                        label: format!("{label} · {month}"),
                        kind: MarkerKind::Scripted,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(last_in) = in_sample.iter().rposition(|b| *b)
        && last_in + 1 < in_sample.len()
    {
        markers.push(Marker {
            month_idx: last_in as f64 + 0.5,
            label: format!("In-sample to {calibrate_until} · out-of-sample after"),
            kind: MarkerKind::SampleSplit,
        });
    }
    markers.sort_by(|a, b| a.month_idx.total_cmp(&b.month_idx));
    Ok(Provenance {
        start,
        n_months: days.len(),
        source,
        markers,
        calibrate_until,
    })
}

fn line(color: RGBColor, width_px: u32, label: impl Into<String>) -> LegendItem {
    LegendItem::new(
        Swatch::Line {
            color,
            width_px,
            dash: None,
        },
        label,
    )
}

fn dot(color: RGBColor, label: impl Into<String>) -> LegendItem {
    LegendItem::new(Swatch::Block(color), label)
}

fn indexed(values: &[f64]) -> Vec<(f64, f64)> {
    values.iter().enumerate().map(|(m, v)| (m as f64, *v)).collect()
}

fn fit_text(info: &serde_json::Value, period: &str) -> String {
    let fit = info
        .get("fit")
        .and_then(|f| f.as_array())
        .and_then(|rows| {
            rows.iter()
                .find(|r| r.get("period").and_then(|p| p.as_str()) == Some(period))
        })
        .and_then(|r| r.get("hashrate").cloned());
    let get = |k: &str| fit.as_ref().and_then(|f| f.get(k)).and_then(|v| v.as_f64());
    match (get("median_abs_log_error"), get("coverage_p10_p90_share")) {
        (Some(e), Some(c)) => format!(
            "{} (real inside p10–p90 in {:.0}% of months)",
            format::grouped(e, 2),
            100.0 * c
        ),
        _ => "n/a".to_string(),
    }
}

/// Every chart of the replay in `dir`.
pub fn replay_charts(dir: &Path) -> Result<Vec<AnyChart>, OutputError> {
    let table = Table::read(dir, "replay.parquet")?;
    let info = read_json(dir, "replay.json")?;
    let p = provenance(dir, &table)?;
    let entry = |stem: &str, title: &str| ChartEntry {
        stem: stem.to_string(),
        section: "Replay".to_string(),
        title: title.to_string(),
    };
    let band = |lo: &[f64], hi: &[f64]| -> Vec<(f64, f64, f64)> {
        lo.iter()
            .zip(hi)
            .enumerate()
            .map(|(m, (l, h))| (m as f64, *l, *h))
            .collect()
    };
    let mut out = vec![];

    let title = "Replay: real network hashrate vs the full model fed the real BTC price";
    let hashrate = SeriesChart {
        page: Page {
            title: title.to_string(),
            subtitle: format!(
                "Median |log(model p50 / real)|: {} in-sample (to {}), {} out-of-sample",
                fit_text(&info, "in_sample"),
                p.calibrate_until,
                fit_text(&info, "out_of_sample")
            ),
            legend: [
                vec![
                    line(BRICK, style::MEDIAN_WIDTH_PX, "Real hashrate (monthly mean)"),
                    line(NAVY, style::MEDIAN_WIDTH_PX, "Model: median across paths"),
                    LegendItem::new(Swatch::Block(BLUE_PALE), "Model: 80% of paths (p10–p90)"),
                ],
                axes::marker_legend(&p.markers),
            ]
            .concat(),
            source: p.source.clone(),
        },
        start: p.start,
        n_months: p.n_months,
        scale: Scale::LogEhs,
        y_desc: "Network hashrate (EH/s, monthly mean, log scale)".to_string(),
        band: band(&table.f64s("hashrate_ehs_p10")?, &table.f64s("hashrate_ehs_p90")?),
        lines: vec![
            (indexed(&table.f64s("hashrate_ehs_p50")?), NAVY, style::MEDIAN_WIDTH_PX),
            (
                indexed(&table.f64s("actual_hashrate_ehs")?),
                BRICK,
                style::MEDIAN_WIDTH_PX,
            ),
        ],
        points: vec![],
        markers: p.markers.clone(),
    };
    out.push(AnyChart::new(entry("replay_hashrate", title), hashrate));

    let title = "Replay: machine prices in the model vs dealers' listings";
    let listings = table.f64s("listing_usd_per_th")?;
    let prices = SeriesChart {
        page: Page {
            title: title.to_string(),
            subtitle: "New machines: list prices weighted by hashrate sold · used: what the makers' current machines fetch · listings: median dealer $/TH of the month".to_string(),
            legend: [
                vec![
                    line(NAVY, style::MEDIAN_WIDTH_PX, "Model: new $/TH (median)"),
                    LegendItem::new(Swatch::Block(BLUE_PALE), "Model: new $/TH, p10–p90"),
                    line(AMBER, style::SERIES_WIDTH_PX, "Model: used $/TH (median)"),
                    dot(BRICK, "Dealers' listings (median of the month)"),
                ],
                axes::marker_legend(&p.markers),
            ]
            .concat(),
            source: p.source.clone(),
        },
        start: p.start,
        n_months: p.n_months,
        scale: Scale::LogUsd,
        y_desc: "USD per TH/s (log scale)".to_string(),
        band: band(&table.f64s("new_usd_per_th_p10")?, &table.f64s("new_usd_per_th_p90")?),
        lines: vec![
            (indexed(&table.f64s("new_usd_per_th_p50")?), NAVY, style::MEDIAN_WIDTH_PX),
            (indexed(&table.f64s("used_usd_per_th_p50")?), AMBER, style::SERIES_WIDTH_PX),
        ],
        points: vec![(indexed(&listings), BRICK)],
        markers: p.markers.clone(),
    };
    out.push(AnyChart::new(entry("replay_usd_per_th", title), prices));

    out.extend(filing_charts(dir, &p)?);
    Ok(out)
}

/// Hashrate sold and gross margin by quarter for the manufacturer with the most filed figures.
fn filing_charts(dir: &Path, p: &Provenance) -> Result<Vec<AnyChart>, OutputError> {
    let figures = Table::read(dir, "replay_figures.parquet")?;
    let companies = figures.strs("company")?;
    let Some(company) = most_common(&companies) else {
        return Ok(vec![]);
    };
    let metrics = figures.strs("metric")?;
    // Quarterly charts show quarterly filings only (a year's total is in the table, not on the chart).
    let periods = figures.strs("period")?;
    let ends = figures.days("period_end")?;
    let filed = figures.f64s("filed")?;
    let quarters = Table::read(dir, "replay_manufacturers.parquet")?;
    let makers = quarters.strs("manufacturer")?;
    let quarter_days = quarters.days("quarter")?;
    let mut out = vec![];
    for (metric, column, title, y_desc, format) in [
        (
            "hashrate_sold_ehs",
            "hashrate_sold_ehs",
            "hashrate sold by quarter: model vs filings",
            "EH/s sold in the quarter",
            ValueFormat::Ehs,
        ),
        (
            "gross_margin_share",
            "gross_margin_share",
            "gross margin by quarter: model vs filings",
            "Gross margin (share of revenue)",
            ValueFormat::Share,
        ),
    ] {
        // Quarters are drawn at their middle month.
        let at = |days: i32, offset: f64| year_month_of_days(days).months_since(p.start) as f64 + offset;
        let rows: Vec<usize> = (0..makers.len()).filter(|&i| makers[i] == company).collect();
        let pick = |name: &str| -> Result<Vec<(f64, f64)>, OutputError> {
            let values = quarters.f64s(name)?;
            Ok(rows.iter().map(|&i| (at(quarter_days[i], 1.0), values[i])).collect())
        };
        let p50 = pick(&format!("{column}_p50"))?;
        let lo = pick(&format!("{column}_p10"))?;
        let hi = pick(&format!("{column}_p90"))?;
        let filed_points: Vec<(f64, f64)> = (0..metrics.len())
            .filter(|&i| companies[i] == company && metrics[i] == metric && periods[i].contains('Q'))
            .map(|i| (at(ends[i], -1.0), filed[i]))
            .collect();
        if filed_points.is_empty() {
            continue;
        }
        let full_title = format!("Replay: {company} {title}");
        let chart = SeriesChart {
            page: Page {
                title: full_title.clone(),
                subtitle: format!(
                    "Model by calendar quarter (median and p10–p90 across paths) · filings as published, in-sample to {}",
                    p.calibrate_until
                ),
                legend: [
                    vec![
                        line(NAVY, style::MEDIAN_WIDTH_PX, "Model: median across paths"),
                        LegendItem::new(Swatch::Block(BLUE_PALE), "Model: p10–p90"),
                        dot(TEAL, format!("{company} filings")),
                    ],
                    axes::marker_legend(&p.markers),
                ]
                .concat(),
                source: format!("{} · filings: industry_public_figures.csv", p.source),
            },
            start: p.start,
            n_months: p.n_months,
            scale: Scale::Linear(format),
            y_desc: y_desc.to_string(),
            band: lo.iter().zip(&hi).map(|(l, h)| (l.0, l.1, h.1)).collect(),
            lines: vec![(p50, NAVY, style::MEDIAN_WIDTH_PX)],
            points: vec![(filed_points, TEAL)],
            markers: p.markers.clone(),
        };
        out.push(AnyChart::new(
            ChartEntry {
                stem: format!("replay_{}_{metric}", charts::file_stem_part(&company)),
                section: "Replay".to_string(),
                title: full_title,
            },
            chart,
        ));
    }
    Ok(out)
}

fn most_common(values: &[String]) -> Option<String> {
    let mut best: Option<(&String, usize)> = None;
    for v in values {
        let n = values.iter().filter(|w| *w == v).count();
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((v, n));
        }
    }
    best.map(|(v, _)| v.clone())
}
