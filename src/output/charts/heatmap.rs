//! Heatmaps: one value over two parameters, with the value printed in every cell, a reference cell outlined,
//! and a colour bar; a design that is not a grid (a Latin hypercube) is drawn as coloured points on the same
//! axes instead.

use plotters::coord::Shift;
use plotters::element::{Circle, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontTransform, RGBColor};

use crate::output::charts::axes::{self, Axis, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::page::Page;
use crate::output::charts::style::{self, AXIS, BACKGROUND, ColorScale, INK, INK_SOFT};

/// One strategy's square (or point).
#[derive(Clone, Debug, PartialEq)]
pub struct HeatCell {
    /// Column and row index in a grid, or parameter values in a scatter.
    pub x: f64,
    pub y: f64,
    pub value: f64,
    pub label: String,
    pub sublabel: Option<String>,
    pub reference: bool,
}

pub struct Heatmap {
    pub page: Page,
    pub x_desc: String,
    pub y_desc: String,
    /// Tick labels of the grid's columns and rows; empty for a scatter.
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// Whether the axes are shares (scatter only).
    pub x_share: bool,
    pub y_share: bool,
    pub cells: Vec<HeatCell>,
    pub scale: ColorScale,
    pub range: (f64, f64),
    pub colorbar_desc: String,
    pub colorbar_format: ValueFormat,
}

/// Space right of the plot for the colour bar and its labels.
const COLORBAR_SPACE_PX: i32 = 250;
const COLORBAR_WIDTH_PX: i32 = 34;

impl Heatmap {
    fn t(&self, value: f64) -> f64 {
        let (lo, hi) = self.range;
        if hi > lo { (value - lo) / (hi - lo) } else { 0.5 }
    }

    fn axes(&self) -> (Axis, Axis) {
        if !self.x_labels.is_empty() {
            let labels = |values: &[String], desc: &str| {
                let values = values.to_vec();
                Axis {
                    range: (-0.5, values.len() as f64 - 0.5),
                    ticks: (0..values.len()).map(|i| i as f64).collect(),
                    label: Box::new(move |v| values.get(v.round().max(0.0) as usize).cloned().unwrap_or_default()),
                    desc: desc.to_string(),
                }
            };
            return (
                labels(&self.x_labels, &self.x_desc),
                labels(&self.y_labels, &self.y_desc),
            );
        }
        let span = |values: Vec<f64>, share: bool, desc: &str| {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let pad = ((hi - lo) * 0.08).max(0.02);
            let format = if share { ValueFormat::Share } else { ValueFormat::Count };
            Axis::linear(lo - pad, hi + pad, format, desc)
        };
        (
            span(self.cells.iter().map(|c| c.x).collect(), self.x_share, &self.x_desc),
            span(self.cells.iter().map(|c| c.y).collect(), self.y_share, &self.y_desc),
        )
    }
}

impl Chart for Heatmap {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let (x, y) = self.axes();
        let grid = !self.x_labels.is_empty();
        let options = PlotOptions {
            x_grid: !grid,
            right_px: COLORBAR_SPACE_PX,
            top_px: 12,
            ..PlotOptions::default()
        };
        let mut plot = axes::plot(&area, &x, &y, &options)?;
        let (left, top, right, bottom) = axes::data_rect(&plot);

        if grid {
            let nx = self.x_labels.len().max(1) as f64;
            let ny = self.y_labels.len().max(1) as f64;
            let cell_w = (right - left) as f64 / nx;
            let cell_h = (bottom - top) as f64 / ny;
            let size = (style::CELL_PX + 4.0).min(cell_h * 0.3).min(cell_w / 5.0).max(10.0);
            for c in &self.cells {
                let color = self.scale.at(self.t(c.value));
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(c.x - 0.5, c.y - 0.5), (c.x + 0.5, c.y + 0.5)],
                    style::fill(color),
                )))
                .map_err(msg)?;
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(c.x - 0.5, c.y - 0.5), (c.x + 0.5, c.y + 0.5)],
                    style::stroke(BACKGROUND, 2),
                )))
                .map_err(msg)?;
                let (px, py) = plot.backend_coord(&(c.x, c.y));
                let ink = style::ink_on(color);
                let has_sub = c.sublabel.is_some() && cell_h > size * 3.2;
                let main_y = if has_sub { py - (size * 0.45) as i32 } else { py };
                root.draw(&Text::new(
                    c.label.clone(),
                    (px, main_y),
                    style::bold(size, ink).pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(msg)?;
                if let (true, Some(sub)) = (has_sub, &c.sublabel) {
                    root.draw(&Text::new(
                        sub.clone(),
                        (px, py + (size * 0.75) as i32),
                        style::text(size * 0.72, ink).pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(msg)?;
                }
            }
            for c in self.cells.iter().filter(|c| c.reference) {
                let (x0, y0) = plot.backend_coord(&(c.x - 0.5, c.y + 0.5));
                let (x1, y1) = plot.backend_coord(&(c.x + 0.5, c.y - 0.5));
                root.draw(&Rectangle::new(
                    [(x0 + 4, y0 + 4), (x1 - 4, y1 - 4)],
                    style::stroke(INK, 6),
                ))
                .map_err(msg)?;
            }
        } else {
            for c in &self.cells {
                let color = self.scale.at(self.t(c.value));
                let (px, py) = plot.backend_coord(&(c.x, c.y));
                root.draw(&Circle::new((px, py), 16, style::fill(color))).map_err(msg)?;
                root.draw(&Circle::new((px, py), 16, style::stroke(INK, 2)))
                    .map_err(msg)?;
                if c.reference {
                    root.draw(&Circle::new((px, py), 25, style::stroke(INK, 5)))
                        .map_err(msg)?;
                }
                root.draw(&Text::new(
                    c.label.clone(),
                    (px + 30, py),
                    style::bold(style::NOTE_PX, INK).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(msg)?;
            }
        }
        // Keep plotters' borrow of the plot area short: colour bar is drawn on the root.
        drop(plot);
        self.draw_colorbar(root, (right + 48, top, bottom))
    }
}

impl Heatmap {
    /// A vertical colour bar at `x` from `top` to `bottom`, ticks on its right, description beyond them.
    fn draw_colorbar<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        (x, top, bottom): (i32, i32, i32),
    ) -> Result<(), String> {
        let height = (bottom - top).max(1);
        let steps = 120;
        for i in 0..steps {
            let y0 = bottom - height * i / steps;
            let y1 = bottom - height * (i + 1) / steps;
            let color: RGBColor = self.scale.at((i as f64 + 0.5) / steps as f64);
            root.draw(&Rectangle::new(
                [(x, y1), (x + COLORBAR_WIDTH_PX, y0)],
                style::fill(color),
            ))
            .map_err(msg)?;
        }
        root.draw(&Rectangle::new(
            [(x, top), (x + COLORBAR_WIDTH_PX, bottom)],
            style::stroke(AXIS, 1),
        ))
        .map_err(msg)?;
        let axis = Axis::linear(self.range.0, self.range.1, self.colorbar_format, "");
        let tick_style = style::text(style::TICK_PX, INK_SOFT).pos(Pos::new(HPos::Left, VPos::Center));
        let mut widest = 0;
        for t in axis
            .ticks
            .iter()
            .filter(|t| **t >= self.range.0 - 1e-9 && **t <= self.range.1 + 1e-9)
        {
            let y = bottom - (self.t(*t) * height as f64).round() as i32;
            root.draw(&plotters::element::PathElement::new(
                vec![(x + COLORBAR_WIDTH_PX, y), (x + COLORBAR_WIDTH_PX + 8, y)],
                style::stroke(AXIS, 1),
            ))
            .map_err(msg)?;
            let label = (axis.label)(*t);
            let (w, _) = root.estimate_text_size(&label, &tick_style).map_err(msg)?;
            widest = widest.max(w as i32);
            root.draw(&Text::new(label, (x + COLORBAR_WIDTH_PX + 14, y), tick_style.clone()))
                .map_err(msg)?;
        }
        let desc_style = style::text(style::AXIS_DESC_PX, INK_SOFT)
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            self.colorbar_desc.clone(),
            (x + COLORBAR_WIDTH_PX + 14 + widest + 30, (top + bottom) / 2),
            desc_style,
        ))
        .map_err(msg)
    }
}
