//! The frame around every chart: title, subtitle, a horizontal legend, and the source line.
//!
//! The legend sits above the plot, in a row of its own, so it can never cover data; items wrap onto a
//! second row when they do not fit.

use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::charts::canvas::{HEIGHT_PX, WIDTH_PX, msg};
use crate::output::charts::style::{self, INK, INK_SOFT, MUTED};

/// How a legend item is drawn.
#[derive(Clone, Debug)]
pub enum Swatch {
    /// A filled block, for bands, areas and cells.
    Block(RGBColor),
    /// A filled block with an outline.
    OutlinedBlock { fill: RGBColor, line: RGBColor },
    /// A line sample, solid or dashed (on, off pixels).
    Line {
        color: RGBColor,
        width_px: u32,
        dash: Option<(i32, i32)>,
    },
    /// A thick outline only, for the reference cell of a heatmap.
    Outline(RGBColor),
}

#[derive(Clone, Debug)]
pub struct LegendItem {
    pub swatch: Swatch,
    pub label: String,
}

impl LegendItem {
    pub fn new(swatch: Swatch, label: impl Into<String>) -> LegendItem {
        LegendItem {
            swatch,
            label: label.into(),
        }
    }
}

/// Title, subtitle, legend and source of one chart.
#[derive(Clone, Debug)]
pub struct Page {
    pub title: String,
    /// The scenario (and strategy) shown, and the headline figure if any.
    pub subtitle: String,
    pub legend: Vec<LegendItem>,
    /// Provenance: tool version, scenario file, paths, seed.
    pub source: String,
}

const TITLE_Y_PX: i32 = 30;
const SUBTITLE_Y_PX: i32 = 90;
const SUBTITLE_LINE_PX: i32 = 34;
const LEGEND_Y_PX: i32 = 140;
const LEGEND_ROW_PX: i32 = 38;
const SWATCH_W_PX: i32 = 48;
const SWATCH_H_PX: i32 = 22;
const SWATCH_GAP_PX: i32 = 12;
const ITEM_GAP_PX: i32 = 44;
/// Space kept free under the plot for the source line.
const FOOTER_PX: i32 = 62;

impl Page {
    /// Draws the frame on the whole canvas and returns the area left for the plot.
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<DrawingArea<DB, Shift>, String> {
        root.fill(&style::BACKGROUND).map_err(msg)?;
        let width = WIDTH_PX as i32 - style::MARGIN_LEFT_PX - style::MARGIN_RIGHT_PX;
        let left = style::MARGIN_LEFT_PX;
        let title_style = style::bold(style::TITLE_PX, INK);
        let title = fit(root, &self.title, &title_style, width)?;
        root.draw(&Text::new(title, (left, TITLE_Y_PX), title_style))
            .map_err(msg)?;
        let subtitle_style = style::text(style::SUBTITLE_PX, INK_SOFT);
        let lines = wrap(root, &self.subtitle, &subtitle_style, width, 2)?;
        for (i, line) in lines.iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (left, SUBTITLE_Y_PX + i as i32 * SUBTITLE_LINE_PX),
                subtitle_style.clone(),
            ))
            .map_err(msg)?;
        }
        let shift = (lines.len().max(1) as i32 - 1) * SUBTITLE_LINE_PX;
        let legend_bottom = self.draw_legend(root, left, width, LEGEND_Y_PX + shift)?;

        // The source line, under a hairline that separates it from the chart.
        let rule_y = HEIGHT_PX as i32 - FOOTER_PX + 18;
        root.draw(&PathElement::new(
            vec![(left, rule_y), (WIDTH_PX as i32 - style::MARGIN_RIGHT_PX, rule_y)],
            style::stroke(style::GRID, 1),
        ))
        .map_err(msg)?;
        let source_style = style::text(style::SOURCE_PX, MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        let source = fit(root, &self.source, &source_style, width)?;
        root.draw(&Text::new(source, (left, HEIGHT_PX as i32 - 24), source_style))
            .map_err(msg)?;

        let top = legend_bottom + 18;
        Ok(root.margin(top, FOOTER_PX, style::MARGIN_LEFT_PX - 8, style::MARGIN_RIGHT_PX))
    }

    /// Draws the legend rows and returns the y just below them.
    fn draw_legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        left: i32,
        width: i32,
        legend_y: i32,
    ) -> Result<i32, String> {
        if self.legend.is_empty() {
            return Ok(legend_y - 10);
        }
        let label_style = style::text(style::LEGEND_PX, INK).pos(Pos::new(HPos::Left, VPos::Center));
        let mut x = left;
        let mut y = legend_y + SWATCH_H_PX / 2;
        for item in &self.legend {
            let (label_w, _) = root.estimate_text_size(&item.label, &label_style).map_err(msg)?;
            let item_w = SWATCH_W_PX + SWATCH_GAP_PX + label_w as i32;
            if x > left && x + item_w > left + width {
                x = left;
                y += LEGEND_ROW_PX;
            }
            draw_swatch(root, &item.swatch, (x, y - SWATCH_H_PX / 2))?;
            root.draw(&Text::new(
                item.label.clone(),
                (x + SWATCH_W_PX + SWATCH_GAP_PX, y),
                label_style.clone(),
            ))
            .map_err(msg)?;
            x += item_w + ITEM_GAP_PX;
        }
        Ok(y + SWATCH_H_PX / 2 + 6)
    }
}

/// Draws a legend swatch with its top-left corner at `at`.
pub fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    swatch: &Swatch,
    at: (i32, i32),
) -> Result<(), String> {
    let (x, y) = at;
    let (x1, y1) = (x + SWATCH_W_PX, y + SWATCH_H_PX);
    match swatch {
        Swatch::Block(color) => root
            .draw(&Rectangle::new([(x, y), (x1, y1)], style::fill(*color)))
            .map_err(msg),
        Swatch::OutlinedBlock { fill, line } => {
            root.draw(&Rectangle::new([(x, y), (x1, y1)], style::fill(*fill)))
                .map_err(msg)?;
            root.draw(&Rectangle::new([(x, y), (x1, y1)], style::stroke(*line, 2)))
                .map_err(msg)
        }
        Swatch::Line { color, width_px, dash } => {
            let mid = y + SWATCH_H_PX / 2;
            match dash {
                None => root
                    .draw(&PathElement::new(
                        vec![(x, mid), (x1, mid)],
                        style::stroke(*color, *width_px),
                    ))
                    .map_err(msg),
                Some(pattern) => dashed(root, (x, mid), (x1, mid), *color, *width_px, *pattern),
            }
        }
        Swatch::Outline(color) => root
            .draw(&Rectangle::new(
                [(x + 2, y + 1), (x1 - 2, y1 - 1)],
                style::stroke(*color, 4),
            ))
            .map_err(msg),
    }
}

/// A dashed straight line in canvas pixels: plotters has dashed series in data space only, and markers and
/// legends need them in pixel space.
pub fn dashed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    color: RGBColor,
    width_px: u32,
    (on, off): (i32, i32),
) -> Result<(), String> {
    let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        return Ok(());
    }
    let at = |d: f64| {
        (
            from.0 + (dx * d / len).round() as i32,
            from.1 + (dy * d / len).round() as i32,
        )
    };
    let mut d = 0.0;
    // A last dash shorter than half a dash reads as a dot; leave it out.
    while d + on as f64 / 2.0 < len {
        let end = (d + on as f64).min(len);
        root.draw(&PathElement::new(vec![at(d), at(end)], style::stroke(color, width_px)))
            .map_err(msg)?;
        d += (on + off) as f64;
    }
    Ok(())
}

/// Breaks `text` at ` · ` separators into at most `max_lines` lines of at most `max_px`; the last line is
/// shortened with an ellipsis if the rest still does not fit.
pub fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &plotters::style::TextStyle,
    max_px: i32,
    max_lines: usize,
) -> Result<Vec<String>, String> {
    let width = |t: &str| root.estimate_text_size(t, style).map(|(w, _)| w as i32).map_err(msg);
    let parts: Vec<&str> = text.split(" · ").collect();
    let mut lines: Vec<String> = vec![];
    let mut current = String::new();
    for (i, part) in parts.iter().enumerate() {
        let candidate = if current.is_empty() {
            part.to_string()
        } else {
            format!("{current} · {part}")
        };
        if current.is_empty() || width(&candidate)? <= max_px {
            current = candidate;
            continue;
        }
        if lines.len() + 1 == max_lines {
            // No more lines: the rest joins the last one, which `fit` shortens.
            current = format!("{current} · {}", parts[i..].join(" · "));
            break;
        }
        lines.push(std::mem::take(&mut current));
        current = part.to_string();
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.iter().map(|l| fit(root, l, style, max_px)).collect()
}

/// Shortens `text` with an ellipsis until it fits in `max_px`.
pub fn fit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &plotters::style::TextStyle,
    max_px: i32,
) -> Result<String, String> {
    let width = |t: &str| root.estimate_text_size(t, style).map(|(w, _)| w as i32).map_err(msg);
    if width(text)? <= max_px {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if width(&candidate)? <= max_px {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}
