//! The backtest chart: the real network hashrate against the simulated median and its 5–95% band across
//! paths, with the baseline, on a log scale, the in-sample months set apart by a marker.
//!
//! Like every chart it is drawn from files alone (`backtest.parquet` and `backtest.json`).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::element::Polygon;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::{DashedLineSeries, LineSeries};

use crate::output::OutputError;
use crate::output::charts::axes::{self, Axis, Marker, MarkerKind, PlotOptions};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::data::{Table, json_str, json_u64, read_json, tidy_path, year_month_of_days};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, AMBER, BLUE_PALE, BRICK, NAVY};
use crate::output::charts::{self, AnyChart, ChartEntry, format};
use hashcycle_model::units::YearMonth;

/// Reads a backtest's table and provenance in `dir`, writes `dir/charts/backtest_*.png` and `*.svg`, and
/// returns the files written.
pub fn render_backtest(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let data = BacktestData::load(dir)?;
    charts::render(dir, &[chart(&data)])
}

/// What the backtest chart shows, read back from the backtest's files.
#[derive(Clone, Debug)]
pub struct BacktestData {
    pub start: YearMonth,
    pub actual_ehs: Vec<f64>,
    pub p5_ehs: Vec<f64>,
    pub p50_ehs: Vec<f64>,
    pub p95_ehs: Vec<f64>,
    pub baseline_ehs: Vec<f64>,
    pub in_sample: Vec<bool>,
    pub halving: Vec<bool>,
    pub version: String,
    pub template_file: String,
    /// The history the real hashrate comes from, as the backtest read it.
    pub history_file: String,
    pub n_paths: u64,
    pub seed: u64,
    pub calibrate_until: String,
    pub baseline_description: String,
    /// Median |log(simulated / actual)| of the model and the baseline, in- and out-of-sample.
    pub model_errors: (f64, f64),
    pub baseline_errors: (f64, f64),
}

fn metric(v: &serde_json::Value, who: &str, period: &str) -> f64 {
    v.pointer(&format!("/metrics/{who}/{period}/median_abs_log_error"))
        .and_then(|x| x.as_f64())
        .unwrap_or(f64::NAN)
}

impl BacktestData {
    pub fn load(dir: &Path) -> Result<BacktestData, OutputError> {
        let table = Table::read(dir, "backtest.parquet")?;
        let info = read_json(dir, "backtest.json")?;
        let days = table.days("month")?;
        let start = days
            .first()
            .map(|d| year_month_of_days(*d))
            .ok_or_else(|| OutputError::Missing {
                path: table.path.clone(),
                message: "the backtest table has no months".to_string(),
            })?;
        let baseline = info.get("baseline").cloned().unwrap_or_default();
        let lag = baseline.get("lag_months").and_then(|x| x.as_u64()).unwrap_or(0);
        let elasticity = baseline.get("elasticity").and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
        Ok(BacktestData {
            start,
            actual_ehs: table.f64s("actual_hashrate_ehs")?,
            p5_ehs: table.f64s("simulated_hashrate_ehs_p5")?,
            p50_ehs: table.f64s("simulated_hashrate_ehs_p50")?,
            p95_ehs: table.f64s("simulated_hashrate_ehs_p95")?,
            baseline_ehs: table.f64s("baseline_hashrate_ehs")?,
            in_sample: table.bools("in_sample")?,
            halving: table.bools("halving_month")?,
            version: json_str(&info, "version"),
            template_file: tidy_path(&json_str(&info, "template_file")),
            history_file: tidy_path(&json_str(&info, "history_file")),
            n_paths: json_u64(&info, "paths"),
            seed: json_u64(&info, "seed"),
            calibrate_until: json_str(&info, "calibrate_until_month"),
            baseline_description: format!("lag {lag} months, elasticity {elasticity:.2}"),
            model_errors: (
                metric(&info, "model", "in_sample"),
                metric(&info, "model", "out_of_sample"),
            ),
            baseline_errors: (
                metric(&info, "baseline", "in_sample"),
                metric(&info, "baseline", "out_of_sample"),
            ),
        })
    }

    fn markers(&self) -> Vec<Marker> {
        let mut markers: Vec<Marker> = self
            .halving
            .iter()
            .enumerate()
            .filter(|(_, h)| **h)
            .map(|(m, _)| Marker {
                month_idx: m as f64,
                label: format!("Halving {}", format::month(self.start, m as f64)),
                kind: MarkerKind::ActualHalving,
            })
            .collect();
        // The split sits between the last in-sample month and the first out-of-sample one.
        if let Some(last_in) = self.in_sample.iter().rposition(|b| *b)
            && last_in + 1 < self.in_sample.len()
        {
            markers.push(Marker {
                month_idx: last_in as f64 + 0.5,
                label: format!("Calibrated up to {} · out-of-sample after", self.calibrate_until),
                kind: MarkerKind::SampleSplit,
            });
        }
        markers
    }
}

/// The hashrate axis when no month has a positive value to show.
const EMPTY_HASHRATE_RANGE_EHS: (f64, f64) = (1.0, 10.0);

/// The chart: actual, simulated median and band, baseline, on a log axis.
pub struct BacktestChart {
    pub page: Page,
    pub data: BacktestData,
}

/// The backtest chart of `data`, with its report entry.
pub fn chart(data: &BacktestData) -> AnyChart {
    let title = "Backtest: real network hashrate vs the model fed the real BTC price".to_string();
    let subtitle = format!(
        "Median |log(simulated / real)|: model {} in-sample, {} out-of-sample · baseline {} and {} · template {}",
        format::grouped(data.model_errors.0, 2),
        format::grouped(data.model_errors.1, 2),
        format::grouped(data.baseline_errors.0, 2),
        format::grouped(data.baseline_errors.1, 2),
        data.template_file
    );
    // The shipped history's own sources are named; another file is named by its path alone.
    let history_sources = if data.history_file.ends_with("data/btc_monthly.csv") {
        " (Coin Metrics, blockchain.com)"
    } else {
        ""
    };
    let source = format!(
        "Source: hashcycle {} backtest of {} · {} path{} · seed {} · real hashrate: {}{}",
        data.version,
        data.template_file,
        format::grouped(data.n_paths as f64, 0),
        if data.n_paths == 1 { "" } else { "s" },
        data.seed,
        data.history_file,
        history_sources
    );
    let mut legend = vec![
        LegendItem::new(
            Swatch::Line {
                color: BRICK,
                width_px: style::MEDIAN_WIDTH_PX,
                dash: None,
            },
            "Real hashrate (monthly mean)",
        ),
        LegendItem::new(
            Swatch::Line {
                color: NAVY,
                width_px: style::MEDIAN_WIDTH_PX,
                dash: None,
            },
            "Model: median across paths",
        ),
        LegendItem::new(Swatch::Block(BLUE_PALE), "Model: 90% of paths (p5–p95)"),
        LegendItem::new(
            Swatch::Line {
                color: AMBER,
                width_px: style::SERIES_WIDTH_PX,
                dash: Some(style::DASH_SERIES),
            },
            format!("Baseline: price with {}", data.baseline_description),
        ),
    ];
    let markers = data.markers();
    legend.extend(axes::marker_legend(&markers));
    AnyChart::new(
        ChartEntry {
            stem: "backtest_hashrate".to_string(),
            section: "Backtest".to_string(),
            title: title.clone(),
        },
        BacktestChart {
            page: Page {
                title,
                subtitle,
                legend,
                source,
            },
            data: data.clone(),
        },
    )
}

impl Chart for BacktestChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let d = &self.data;
        let positive = |v: &f64| v.is_finite() && *v > 0.0;
        let all = d
            .actual_ehs
            .iter()
            .chain(&d.p5_ehs)
            .chain(&d.p95_ehs)
            .chain(&d.baseline_ehs)
            .filter(|v| positive(v));
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
        let (lo, hi) = if lo.is_finite() {
            (lo, hi)
        } else {
            EMPTY_HASHRATE_RANGE_EHS
        };
        let y = Axis::log_ehs(lo, hi, "Network hashrate (EH/s, monthly mean, log scale)");
        let n = d.actual_ehs.len();
        let x = Axis::months(d.start, n);
        let markers = d.markers();
        let (mut plot, rows) = axes::plot_with_markers(&area, &x, &y, &PlotOptions::default(), &markers)?;
        let series = |values: &[f64]| -> Vec<(f64, f64)> {
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| positive(v))
                .map(|(m, v)| (m as f64, v.log10()))
                .collect()
        };
        let months: Vec<usize> = (0..n)
            .filter(|&m| positive(&d.p5_ehs[m]) && positive(&d.p95_ehs[m]))
            .collect();
        let mut band: Vec<(f64, f64)> = months.iter().map(|&m| (m as f64, d.p95_ehs[m].log10())).collect();
        band.extend(months.iter().rev().map(|&m| (m as f64, d.p5_ehs[m].log10())));
        plot.draw_series(std::iter::once(Polygon::new(band, style::fill(BLUE_PALE))))
            .map_err(msg)?;
        plot.draw_series(DashedLineSeries::new(
            series(&d.baseline_ehs),
            style::DASH_SERIES.0,
            style::DASH_SERIES.1,
            style::stroke(AMBER, style::SERIES_WIDTH_PX),
        ))
        .map_err(msg)?;
        plot.draw_series(LineSeries::new(
            series(&d.p50_ehs),
            style::stroke(NAVY, style::MEDIAN_WIDTH_PX),
        ))
        .map_err(msg)?;
        plot.draw_series(LineSeries::new(
            series(&d.actual_ehs),
            style::stroke(BRICK, style::MEDIAN_WIDTH_PX),
        ))
        .map_err(msg)?;
        axes::draw_markers(root, &plot, &markers, Some(&rows))?;
        Ok(())
    }
}
