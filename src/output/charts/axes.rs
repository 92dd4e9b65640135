//! Plot areas with the house axes: round ticks chosen here (not by plotters), light horizontal grid lines,
//! formatted tick labels, axis descriptions with units, and labelled vertical markers for events.

use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::charts::canvas::msg;
use crate::output::charts::format;
use crate::output::charts::page::{LegendItem, Swatch, dashed};
use crate::output::charts::style::{self, AXIS, BACKGROUND, GRID, INK_SOFT};
use hashcycle_model::units::YearMonth;

/// A chart context with linear axes and our own tick positions.
pub type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// A linear coordinate whose grid lines and labels fall exactly on given ticks.
///
/// plotters' `WithKeyPoints` does the same but opts out of default formatting, which its mesh then refuses;
/// this type keeps default formatting (always overridden by our label formatters).
#[derive(Clone, Debug)]
pub struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let share = (value - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * share).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Ticks are bold lines only; there are no light lines between them.
        if hint.weight().allow_light_points() {
            vec![]
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// One axis: its range, where its ticks go, how they read, and what it measures (with unit).
pub struct Axis {
    pub range: (f64, f64),
    pub ticks: Vec<f64>,
    pub label: Box<dyn Fn(f64) -> String>,
    pub desc: String,
}

/// How a value axis reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueFormat {
    Usd,
    Count,
    Ehs,
    Share,
}

impl Axis {
    /// A monthly time axis of `n_months` months from `start`, labelled `2027-01`.
    pub fn months(start: YearMonth, n_months: usize) -> Axis {
        let last = n_months.saturating_sub(1).max(1) as f64;
        Axis {
            range: (0.0, last),
            ticks: format::month_ticks(start, n_months),
            label: Box::new(move |v| format::month(start, v)),
            desc: "Month".to_string(),
        }
    }

    /// A linear value axis covering [lo, hi] with round ticks.
    /// The range is the data's, padded a little except at zero, so a lone outlying tick does not waste a
    /// quarter of the plot; ticks are the round values inside it.
    pub fn linear(lo: f64, hi: f64, format: ValueFormat, desc: impl Into<String>) -> Axis {
        // A flat series (often all zero) still gets a readable axis.
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else if lo == 0.0 {
            (0.0, 1.0)
        } else {
            (lo - lo.abs() * 0.1, hi + hi.abs() * 0.1)
        };
        let pad = (hi - lo) * 0.03;
        let range = (
            if lo == 0.0 { 0.0 } else { lo - pad },
            if hi == 0.0 { 0.0 } else { hi + pad },
        );
        let (all_ticks, step, _) = format::linear_ticks(range.0, range.1, 6);
        let ticks: Vec<f64> = all_ticks
            .into_iter()
            .filter(|t| *t >= range.0 - step * 1e-9 && *t <= range.1 + step * 1e-9)
            .collect();
        let max_abs = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let label: Box<dyn Fn(f64) -> String> = match format {
            ValueFormat::Usd => Box::new(move |v| format::usd_axis(v, step, max_abs)),
            ValueFormat::Count => Box::new(move |v| format::count_axis(v, step, max_abs)),
            ValueFormat::Ehs => Box::new(move |v| format::ehs_axis(v, step)),
            ValueFormat::Share => Box::new(move |v| format::pct_axis(v, step)),
        };
        Axis {
            range,
            ticks,
            label,
            desc: desc.into(),
        }
    }

    /// A log10 value axis: values are plotted as log10, ticks read as money.
    pub fn log_usd(lo: f64, hi: f64, desc: impl Into<String>) -> Axis {
        let (lo_log, hi_log) = (lo.max(1e-9).log10(), hi.max(lo * 1.0001).max(1e-9).log10());
        let pad = (hi_log - lo_log).max(0.1) * 0.04;
        let range = (lo_log - pad, hi_log + pad);
        Axis {
            range,
            ticks: format::log_ticks(range.0, range.1),
            label: Box::new(|v| format::usd_round(10f64.powf(v))),
            desc: desc.into(),
        }
    }

    /// A log10 value axis for hashrate: values are plotted as log10, ticks read `0.5 EH/s`, `1,000 EH/s`.
    pub fn log_ehs(lo: f64, hi: f64, desc: impl Into<String>) -> Axis {
        let usd = Axis::log_usd(lo, hi, desc);
        Axis {
            label: Box::new(|v| format::ehs_round(10f64.powf(v))),
            ..usd
        }
    }
}

/// Options for a plot area.
#[derive(Clone, Copy, Debug)]
pub struct PlotOptions {
    /// Vertical grid lines at the x ticks.
    pub x_grid: bool,
    /// Draw the x tick labels and description (off for the upper panel of a stack).
    pub x_labels: bool,
    /// Extra space above the plot, for marker labels.
    pub top_px: i32,
    /// Extra space right of the plot (for a colour bar).
    pub right_px: i32,
    /// Width the y tick labels get at least, so that panels stacked on one time axis line up.
    pub y_label_min_px: u32,
}

impl Default for PlotOptions {
    fn default() -> PlotOptions {
        PlotOptions {
            x_grid: false,
            x_labels: true,
            top_px: 8,
            right_px: 12,
            y_label_min_px: 0,
        }
    }
}

/// Builds a plot with the house mesh on `area`.
pub fn plot<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    options: &PlotOptions,
) -> Result<Plot<'a, DB>, String> {
    let mut chart = build(area, x, y, options)?;
    let tick_style = style::text(style::TICK_PX, INK_SOFT);
    let x_label = |v: &f64| if options.x_labels { (x.label)(*v) } else { String::new() };
    let y_label = |v: &f64| (y.label)(*v);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(style::stroke(GRID, 1))
        .light_line_style(style::stroke(BACKGROUND, 0))
        .axis_style(style::stroke(AXIS, 1))
        .set_all_tick_mark_size(6)
        .label_style(tick_style)
        .axis_desc_style(style::text(style::AXIS_DESC_PX, INK_SOFT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_desc(y.desc.clone())
        .x_label_offset(0)
        .y_label_offset(0);
    if options.x_labels {
        mesh.x_desc(x.desc.clone());
    }
    if !options.x_grid {
        mesh.disable_x_mesh();
    }
    mesh.draw().map_err(msg)?;
    Ok(chart)
}

/// The width of the widest y tick label of `y` on `area`, in pixels.
pub fn y_label_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, y: &Axis) -> Result<u32, String> {
    let tick_style = style::text(style::TICK_PX, INK_SOFT);
    let mut widest = 0u32;
    for t in &y.ticks {
        let (w, _) = area.estimate_text_size(&(y.label)(*t), &tick_style).map_err(msg)?;
        widest = widest.max(w);
    }
    Ok(widest)
}

/// Lays out the plot area (label areas sized to the widest y tick label) without drawing anything.
fn build<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    options: &PlotOptions,
) -> Result<Plot<'a, DB>, String> {
    let widest = y_label_width(area, y)?.max(options.y_label_min_px);
    let y_area = widest as i32 + 18 + 34 + 16;
    let x_area = if options.x_labels { 86 } else { 16 };
    ChartBuilder::on(area)
        .margin_top(options.top_px)
        .margin_right(options.right_px)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(
            Ticked {
                lo: x.range.0,
                hi: x.range.1,
                ticks: x.ticks.clone(),
            },
            Ticked {
                lo: y.range.0,
                hi: y.range.1,
                ticks: y.ticks.clone(),
            },
        )
        .map_err(msg)
}

/// A plot of `n_rows` horizontal rows over `x` (row r centred at y = n_rows − 1 − r, the first at the top),
/// with vertical grid lines and a line at x = 0. The caller leaves room left of `area` for the rows' names.
pub fn rows_plot<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    n_rows: usize,
) -> Result<Plot<'a, DB>, String> {
    let y = Axis {
        range: (-0.5, n_rows as f64 - 0.5),
        ticks: vec![],
        label: Box::new(|_| String::new()),
        desc: String::new(),
    };
    let options = PlotOptions {
        x_grid: true,
        ..PlotOptions::default()
    };
    let mut plot = plot(area, x, &y, &options)?;
    plot.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, -0.5), (0.0, n_rows as f64 - 0.5)],
        style::stroke(style::INK, 2),
    )))
    .map_err(msg)?;
    Ok(plot)
}

/// Builds a plot with room above it for the labels of `markers`, in as many rows as they need so that no
/// label overlaps another or the line of another marker. Returns the plot and each sorted marker's row.
pub fn plot_with_markers<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    options: &PlotOptions,
    markers: &[Marker],
) -> Result<(Plot<'a, DB>, Vec<usize>), String> {
    if markers.is_empty() {
        return Ok((plot(area, x, y, options)?, vec![]));
    }
    // Marker positions depend only on the label areas, not on the top margin, so a first layout gives them.
    let probe = build(area, x, y, options)?;
    let rows = assign_rows(&marker_spans(area, &probe, &sorted(markers))?);
    drop(probe);
    let n_rows = rows.iter().max().map_or(0, |r| r + 1) as i32;
    let options = PlotOptions {
        top_px: options.top_px.max(8) + n_rows * MARKER_ROW_PX + 6,
        ..*options
    };
    Ok((plot(area, x, y, &options)?, rows))
}

/// The pixel rectangle of a plot's data area: (left, top, right, bottom), absolute.
pub fn data_rect<DB: DrawingBackend>(plot: &Plot<DB>) -> (i32, i32, i32, i32) {
    let (xs, ys) = plot.plotting_area().get_pixel_range();
    (xs.start, ys.start, xs.end - 1, ys.end - 1)
}

/// What kind of event a vertical marker shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    /// A simulated halving, at the month most paths reach it.
    Halving,
    Scripted,
    /// A halving of the real chain (backtests).
    ActualHalving,
    /// The end of a backtest's in-sample (calibration) period, drawn like a scripted event.
    SampleSplit,
    /// An event drawn at random on some paths, at the month by which half the paths it hit had had it.
    Drawn,
}

impl MarkerKind {
    /// Every kind, in legend order.
    const ALL: [MarkerKind; 5] = [
        MarkerKind::Halving,
        MarkerKind::ActualHalving,
        MarkerKind::Scripted,
        MarkerKind::Drawn,
        MarkerKind::SampleSplit,
    ];

    fn color(self) -> RGBColor {
        match self {
            MarkerKind::Halving | MarkerKind::ActualHalving => style::SLATE,
            MarkerKind::Scripted | MarkerKind::SampleSplit => style::BRICK,
            MarkerKind::Drawn => style::AMBER,
        }
    }

    fn dash(self) -> (i32, i32) {
        match self {
            MarkerKind::Halving | MarkerKind::ActualHalving => style::DASH_HALVING,
            MarkerKind::Scripted | MarkerKind::SampleSplit => style::DASH_SCRIPTED,
            MarkerKind::Drawn => style::DASH_DRAWN,
        }
    }

    fn legend_label(self) -> &'static str {
        match self {
            MarkerKind::Halving => "Halving (month most paths reach it)",
            MarkerKind::ActualHalving => "Halving (real month)",
            MarkerKind::Scripted => "Scripted event",
            MarkerKind::SampleSplit => "End of the in-sample (calibration) period",
            MarkerKind::Drawn => "Drawn event (by when half the paths it hit had had it)",
        }
    }
}

/// A labelled vertical line at a month.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub month_idx: f64,
    pub label: String,
    pub kind: MarkerKind,
}

/// Height of one row of marker labels above a plot.
const MARKER_ROW_PX: i32 = 30;
/// Gap kept between neighbouring labels, and between a label and another marker's line.
const MARKER_GAP_PX: i32 = 14;

/// Legend entries for the kinds of marker present.
pub fn marker_legend(markers: &[Marker]) -> Vec<LegendItem> {
    let mut items = vec![];
    for kind in MarkerKind::ALL {
        if markers.iter().any(|m| m.kind == kind) {
            items.push(LegendItem::new(
                Swatch::Line {
                    color: kind.color(),
                    width_px: style::MARKER_WIDTH_PX,
                    dash: Some(kind.dash()),
                },
                kind.legend_label(),
            ));
        }
    }
    items
}

/// A marker's line x, and the left and right ends of its label, in pixels.
type LabelSpan = (i32, i32, i32);

fn sorted(markers: &[Marker]) -> Vec<&Marker> {
    let mut sorted: Vec<&Marker> = markers.iter().collect();
    sorted.sort_by(|a, b| a.month_idx.total_cmp(&b.month_idx).then(a.label.cmp(&b.label)));
    sorted
}

fn label_style() -> plotters::style::TextStyle<'static> {
    style::text(style::NOTE_PX, INK_SOFT).pos(Pos::new(HPos::Left, VPos::Center))
}

/// Each marker's line x and label span (x0, x1) in pixels; `None` outside the plot. Labels run right of the
/// line, or end at it when they would leave the plot.
fn marker_spans<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &Plot<DB>,
    markers: &[&Marker],
) -> Result<Vec<Option<LabelSpan>>, String> {
    let (left, _, right, _) = data_rect(plot);
    let mut spans = vec![];
    for marker in markers {
        let (x, _) = plot.backend_coord(&(marker.month_idx, plot.y_range().start));
        if x < left || x > right {
            spans.push(None);
            continue;
        }
        let (w, _) = area.estimate_text_size(&marker.label, &label_style()).map_err(msg)?;
        let w = w as i32;
        spans.push(Some(if x + 8 + w <= right {
            (x, x + 8, x + 8 + w)
        } else {
            (x, x - 8 - w, x - 8)
        }));
    }
    Ok(spans)
}

/// Rows for labels, first fit: a label may not overlap a label in its row, nor cross the line that joins a
/// label in a higher row to the plot, and its own line may not cross a label in a lower row.
fn assign_rows(spans: &[Option<LabelSpan>]) -> Vec<usize> {
    let mut placed: Vec<(i32, i32, i32, usize)> = vec![];
    let mut rows = vec![];
    for span in spans {
        let Some((x, x0, x1)) = *span else {
            rows.push(0);
            continue;
        };
        let covers = |a: i32, b: i32, at: i32| at >= a - MARKER_GAP_PX && at <= b + MARKER_GAP_PX;
        let row = (0..=placed.len())
            .find(|&r| {
                placed.iter().all(|&(px, p0, p1, pr)| {
                    let overlaps = p0 - MARKER_GAP_PX < x1 && x0 < p1 + MARKER_GAP_PX;
                    let conflict =
                        (pr == r && overlaps) || (pr < r && covers(x0, x1, px)) || (pr > r && covers(p0, p1, x));
                    !conflict
                })
            })
            .unwrap_or(placed.len());
        placed.push((x, x0, x1, row));
        rows.push(row);
    }
    rows
}

/// Draws markers as dashed vertical lines across the plot; with `rows` (from `plot_with_markers`), also their
/// labels in the space above it, each joined to its line.
pub fn draw_markers<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot<DB>,
    markers: &[Marker],
    rows: Option<&[usize]>,
) -> Result<(), String> {
    let (_, top, _, bottom) = data_rect(plot);
    let sorted = sorted(markers);
    let spans = marker_spans(root, plot, &sorted)?;
    let n_rows = rows.map_or(0, |r| r.iter().max().map_or(0, |m| m + 1)) as i32;
    for (i, (marker, span)) in sorted.iter().zip(&spans).enumerate() {
        let Some((x, x0, x1)) = *span else {
            continue;
        };
        let color = marker.kind.color();
        dashed(
            root,
            (x, top),
            (x, bottom),
            color,
            style::MARKER_WIDTH_PX,
            marker.kind.dash(),
        )?;
        let Some(rows) = rows else {
            continue;
        };
        let row = rows.get(i).copied().unwrap_or(0) as i32;
        let y = top - 6 - (n_rows - row) * MARKER_ROW_PX + MARKER_ROW_PX / 2;
        root.draw(&PathElement::new(
            vec![(x, y - MARKER_ROW_PX / 2 + 4), (x, top)],
            style::stroke(color, style::MARKER_WIDTH_PX),
        ))
        .map_err(msg)?;
        root.draw(&Rectangle::new(
            [(x0 - 4, y - MARKER_ROW_PX / 2 + 3), (x1 + 4, y + MARKER_ROW_PX / 2 - 3)],
            style::fill(BACKGROUND),
        ))
        .map_err(msg)?;
        root.draw(&Text::new(marker.label.clone(), (x0, y), label_style().color(&color)))
            .map_err(msg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_labels_avoid_each_other_and_other_markers_lines() {
        // Two labels that would overlap: the second drops a row.
        assert_eq!(assign_rows(&[Some((100, 108, 300)), Some((200, 208, 400))]), [0, 1]);
        // A later marker whose line would cross the first label: it drops below it rather than above.
        assert_eq!(
            assign_rows(&[Some((100, 108, 300)), Some((250, 258, 400)), Some((290, 298, 500))]),
            [0, 1, 2]
        );
        // Far apart: one row.
        assert_eq!(
            assign_rows(&[Some((100, 108, 300)), Some((600, 608, 800)), None]),
            [0, 0, 0]
        );
    }
}
