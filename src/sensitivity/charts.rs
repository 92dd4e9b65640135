//! The charts of a sensitivity analysis: the tornado (one parameter at a time) and the Morris screening, both
//! as horizontal bars, largest effect at the top, with two standard errors as whiskers.

use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::charts::axes::{self, Axis, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BLUE_LIGHT, INK, INK_SOFT, NAVY};
use crate::output::charts::{AnyChart, ChartEntry};
use crate::sensitivity::Analysis;

/// Parameters drawn at most: the rest are in `sensitivity.parquet` and the report's table.
pub const MAX_ROWS: usize = 20;

/// One row: a label, bars from 0, and whiskers.
#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    /// (value, colour, standard error): a bar from 0 to `value` with a ±2 se whisker at its end.
    pub bars: Vec<(f64, RGBColor, f64)>,
    /// The text right of the row.
    pub note: String,
}

/// A chart of horizontal bars.
pub struct Bars {
    pub page: Page,
    pub rows: Vec<Row>,
    pub format: ValueFormat,
    pub axis_desc: String,
}

/// Width of the left column with the parameters' names.
const LABELS_PX: i32 = 700;

impl Chart for Bars {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let n = self.rows.len().max(1);
        let ends = self
            .rows
            .iter()
            .flat_map(|r| r.bars.iter().map(|&(v, _, se)| (v - 2.0 * se, v + 2.0 * se)))
            .filter(|(a, b)| a.is_finite() && b.is_finite());
        let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
        let span = (hi - lo).max(match self.format {
            ValueFormat::Share => 1e-3,
            _ => 1.0,
        });
        // Room on the right for the notes.
        let x = Axis::linear(lo - 0.05 * span, hi + 0.75 * span, self.format, self.axis_desc.clone());
        let body = area.margin(0, 0, LABELS_PX, 0);
        let mut plot = axes::rows_plot(&body, &x, n)?;
        let (left, _, _, _) = axes::data_rect(&plot);
        let label_style = style::text(style::TICK_PX, INK).pos(Pos::new(HPos::Right, VPos::Center));
        // Notes end at the plot's right edge, clear of the bars (the axis leaves room for them).
        let (_, _, right, _) = axes::data_rect(&plot);
        let note_style = style::text(style::NOTE_PX, INK_SOFT).pos(Pos::new(HPos::Right, VPos::Center));
        for (r, row) in self.rows.iter().enumerate() {
            let yc = (n - 1 - r) as f64;
            let k = row.bars.len().max(1) as f64;
            let height = 0.7 / k;
            for (b, &(v, color, se)) in row.bars.iter().enumerate() {
                if !v.is_finite() {
                    continue;
                }
                let top = yc + 0.35 - b as f64 * height;
                let bottom = top - height;
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, bottom), (v, top)],
                    style::fill(color),
                )))
                .map_err(msg)?;
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, bottom), (v, top)],
                    style::stroke(INK, 1),
                )))
                .map_err(msg)?;
                let mid = (top + bottom) / 2.0;
                if se.is_finite() && se > 0.0 {
                    let whisker = style::stroke(INK, 2);
                    plot.draw_series(std::iter::once(PathElement::new(
                        vec![(v - 2.0 * se, mid), (v + 2.0 * se, mid)],
                        whisker,
                    )))
                    .map_err(msg)?;
                    for end in [v - 2.0 * se, v + 2.0 * se] {
                        plot.draw_series(std::iter::once(PathElement::new(
                            vec![(end, mid - height * 0.3), (end, mid + height * 0.3)],
                            whisker,
                        )))
                        .map_err(msg)?;
                    }
                }
            }
            let (_, py) = plot.backend_coord(&(0.0, yc));
            root.draw(&Text::new(row.label.clone(), (left - 16, py), label_style.clone()))
                .map_err(msg)?;
            root.draw(&Text::new(row.note.clone(), (right - 8, py), note_style.clone()))
                .map_err(msg)?;
        }
        Ok(())
    }
}

/// A parameter's name for a chart row: its path with `*` kept, shortened from the left when long.
fn short(name: &str) -> String {
    const MAX_CHARS: usize = 60;
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= MAX_CHARS {
        name.to_string()
    } else {
        format!("…{}", chars[chars.len() - MAX_CHARS + 1..].iter().collect::<String>())
    }
}

/// The tornado and (with trajectories) the Morris chart of an analysis.
pub fn charts(a: &Analysis) -> Vec<AnyChart> {
    let metric = a.metric;
    let mut out = vec![];
    let rows: Vec<Row> = a
        .by_swing()
        .into_iter()
        .take(MAX_ROWS)
        .map(|r| {
            let (lo, hi) = r.factor.shown_ends();
            Row {
                label: short(&r.factor.name),
                bars: vec![
                    (r.bar.low.0, BLUE_LIGHT, r.bar.low.1),
                    (r.bar.high.0, NAVY, r.bar.high.1),
                ],
                note: format!(
                    "{} → {}: {} / {}",
                    crate::sensitivity::trim(lo),
                    crate::sensitivity::trim(hi),
                    metric.show_change(r.bar.low.0),
                    metric.show_change(r.bar.high.0)
                ),
            }
        })
        .collect();
    let more = a.results.len().saturating_sub(MAX_ROWS);
    let title = format!("What moves {}: scenario {}", metric.describe(), a.scenario_name);
    let subtitle = format!(
        "{}'s {} is {} with the scenario's values · each bar moves one parameter to its low or high end, {}{}",
        a.focus,
        metric.describe(),
        metric.show(a.metric_base),
        a.ranges_text(),
        if more > 0 {
            format!(" · {more} parameters with smaller swings are in sensitivity.parquet")
        } else {
            String::new()
        }
    );
    out.push(AnyChart::new(
        ChartEntry {
            stem: "tornado".to_string(),
            section: "Sensitivity".to_string(),
            title: title.clone(),
        },
        Bars {
            page: Page {
                title,
                subtitle,
                legend: vec![
                    LegendItem::new(Swatch::Block(BLUE_LIGHT), "Parameter at its low end"),
                    LegendItem::new(Swatch::Block(NAVY), "Parameter at its high end"),
                    LegendItem::new(
                        Swatch::Line {
                            color: INK,
                            width_px: 2,
                            dash: None,
                        },
                        "± 2 paired standard errors",
                    ),
                ],
                source: a.source_line(),
            },
            rows,
            format: metric.format(),
            axis_desc: format!("Change in {} from the scenario's values", metric.describe()),
        },
    ));
    let morris = a.by_mu_star();
    if !morris.is_empty() {
        let rows: Vec<Row> = morris
            .into_iter()
            .take(MAX_ROWS)
            .map(|r| {
                let s = r.screening.expect("ordered by mu_star, so screened");
                Row {
                    label: short(&r.factor.name),
                    bars: vec![(s.mu_star, NAVY, s.mu_star_se), (s.sigma, BLUE_LIGHT, 0.0)],
                    note: format!(
                        "μ* {} · σ {} · mean {}",
                        metric.show_size(s.mu_star),
                        metric.show_size(s.sigma),
                        metric.show_change(s.mu)
                    ),
                }
            })
            .collect();
        let title = format!(
            "Which parameters matter anywhere: Morris screening of scenario {}",
            a.scenario_name
        );
        let subtitle = format!(
            "{}'s {} over {} random trajectories through every parameter's range, {} · μ*: mean absolute change \
             per full range · σ: how much that change depends on the other parameters",
            a.focus,
            metric.describe(),
            a.trajectories,
            a.ranges_text()
        );
        out.push(AnyChart::new(
            ChartEntry {
                stem: "morris".to_string(),
                section: "Sensitivity".to_string(),
                title: title.clone(),
            },
            Bars {
                page: Page {
                    title,
                    subtitle,
                    legend: vec![
                        LegendItem::new(Swatch::Block(NAVY), "μ*: mean absolute effect (± 2 standard errors)"),
                        LegendItem::new(Swatch::Block(BLUE_LIGHT), "σ: spread of the effects"),
                    ],
                    source: a.source_line(),
                },
                rows,
                format: metric.format(),
                axis_desc: format!("Change in {} per full range of the parameter", metric.describe()),
            },
        ));
    }
    out
}
