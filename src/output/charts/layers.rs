//! Parts of a whole over time on the median path: stacked layers (sites by use, revenue by line), with an
//! optional second panel below sharing the time axis for a related series (the network hashrate under the
//! sites it runs on).
//!
//! Layers are per-month medians across paths, stacked: the stack's height is a sum of medians, which the
//! subtitle says, not the median of the sums.

use plotters::coord::Shift;
use plotters::element::Polygon;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::LineSeries;

use crate::output::charts::axes::{self, Axis, Marker, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BACKGROUND, BRICK, NAVY, STACK, TEAL};
use hashcycle_model::units::YearMonth;

/// Layer colours, bottom first: the stack palette, then two more for a fifth and sixth layer.
const LAYER_COLORS: [plotters::style::RGBColor; 6] = [STACK[0], STACK[1], STACK[2], STACK[3], TEAL, BRICK];

/// A series of the lower panel: its label, per-month values, value format and axis description.
pub struct LowerPanel {
    pub label: String,
    pub values: Vec<f64>,
    pub format: ValueFormat,
    pub y_desc: String,
}

pub struct LayerChart {
    pub page: Page,
    pub start: YearMonth,
    /// Stacked layers, bottom first: label and per-month values. Layers that are zero throughout are left out.
    pub layers: Vec<(String, Vec<f64>)>,
    pub format: ValueFormat,
    pub y_desc: String,
    pub lower: Option<LowerPanel>,
    pub markers: Vec<Marker>,
}

/// One stacked layer: its lower and upper edge per month, and its colour.
pub type Band = (Vec<f64>, Vec<f64>, plotters::style::RGBColor);

/// Stacks `layers` (bottom first) over `n_months` months: each layer's band, and the stack's top per month.
/// Missing and non-finite values count as zero.
pub fn stack(layers: &[(&str, &[f64], plotters::style::RGBColor)], n_months: usize) -> (Vec<Band>, Vec<f64>) {
    let mut cumulative = vec![0.0f64; n_months];
    let mut bands = vec![];
    for (_, values, color) in layers {
        let lower_edge = cumulative.clone();
        for (m, c) in cumulative.iter_mut().enumerate() {
            *c += finite_or_zero(values.get(m).copied().unwrap_or(0.0));
        }
        bands.push((lower_edge, cumulative.clone(), *color));
    }
    (bands, cumulative)
}

/// Fills each band, with a white edge on top that keeps neighbours apart in greyscale.
pub fn draw_stacked<DB: DrawingBackend>(plot: &mut axes::Plot<DB>, bands: &[Band]) -> Result<(), String> {
    for (lower_edge, upper_edge, color) in bands {
        let mut points: Vec<(f64, f64)> = upper_edge.iter().enumerate().map(|(m, v)| (m as f64, *v)).collect();
        points.extend(lower_edge.iter().enumerate().rev().map(|(m, v)| (m as f64, *v)));
        plot.draw_series(std::iter::once(Polygon::new(points, style::fill(*color))))
            .map_err(msg)?;
        plot.draw_series(LineSeries::new(
            upper_edge.iter().enumerate().map(|(m, v)| (m as f64, *v)),
            style::stroke(BACKGROUND, 1),
        ))
        .map_err(msg)?;
    }
    Ok(())
}

/// A value as drawn in a stack: non-finite and negative values count as zero.
pub fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

impl LayerChart {
    /// Layers with anything in them, with their colours (given by position among all layers, so a layer keeps
    /// its colour when another is empty).
    fn drawn_layers(&self) -> Vec<(&str, &[f64], plotters::style::RGBColor)> {
        self.layers
            .iter()
            .enumerate()
            .filter(|(_, (_, values))| values.iter().any(|v| finite_or_zero(*v) > 0.0))
            .map(|(i, (label, values))| (label.as_str(), values.as_slice(), LAYER_COLORS[i % LAYER_COLORS.len()]))
            .collect()
    }

    fn legend(&self) -> Vec<LegendItem> {
        let mut legend: Vec<LegendItem> = self
            .drawn_layers()
            .iter()
            .map(|(label, _, color)| LegendItem::new(Swatch::Block(*color), *label))
            .collect();
        if let Some(lower) = &self.lower {
            legend.push(LegendItem::new(
                Swatch::Line {
                    color: NAVY,
                    width_px: style::MEDIAN_WIDTH_PX,
                    dash: None,
                },
                lower.label.as_str(),
            ));
        }
        legend.extend(axes::marker_legend(&self.markers));
        legend
    }

    fn n_months(&self) -> usize {
        self.layers
            .iter()
            .map(|(_, v)| v.len())
            .chain(self.lower.iter().map(|l| l.values.len()))
            .max()
            .unwrap_or(0)
    }
}

impl Chart for LayerChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let page = Page {
            legend: self.legend(),
            ..self.page.clone()
        };
        let area = page.draw(root)?;
        let (_, height) = area.dim_in_pixel();
        let (upper, lower) = match &self.lower {
            Some(_) => {
                let (upper, lower) = area.split_vertically(height as i32 * 60 / 100);
                (upper, Some(lower))
            }
            None => (area, None),
        };
        let n_months = self.n_months();
        let x = Axis::months(self.start, n_months);

        let layers = self.drawn_layers();
        let (stacked, cumulative) = stack(&layers, n_months);
        let top = cumulative.iter().copied().fold(0.0, f64::max);
        let y = Axis::linear(0.0, top.max(1.0), self.format, self.y_desc.clone());
        let lower_y = self.lower.as_ref().map(|panel| {
            let finite: Vec<f64> = panel.values.iter().copied().filter(|v| v.is_finite()).collect();
            let lo = finite.iter().copied().fold(0.0, f64::min);
            let hi = finite.iter().copied().fold(0.0, f64::max);
            Axis::linear(lo, hi, panel.format, panel.y_desc.clone())
        });
        // Both panels' tick labels get the wider width, so their time axes line up.
        let label_px = match &lower_y {
            Some(lower_y) => axes::y_label_width(&upper, &y)?.max(axes::y_label_width(&upper, lower_y)?),
            None => 0,
        };
        let options = PlotOptions {
            x_labels: self.lower.is_none(),
            y_label_min_px: label_px,
            ..PlotOptions::default()
        };
        let (mut plot, rows) = axes::plot_with_markers(&upper, &x, &y, &options, &self.markers)?;
        draw_stacked(&mut plot, &stacked)?;
        axes::draw_markers(root, &plot, &self.markers, Some(&rows))?;

        if let (Some(panel), Some(lower), Some(y)) = (&self.lower, lower, lower_y) {
            let options = PlotOptions {
                top_px: 24,
                y_label_min_px: label_px,
                ..PlotOptions::default()
            };
            let mut plot = axes::plot(&lower, &x, &y, &options)?;
            plot.draw_series(LineSeries::new(
                panel
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(m, v)| (m as f64, *v)),
                style::stroke(NAVY, style::MEDIAN_WIDTH_PX),
            ))
            .map_err(msg)?;
            axes::draw_markers(root, &plot, &self.markers, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::charts::canvas::render_svg;

    fn chart(lower: bool) -> LayerChart {
        LayerChart {
            page: Page {
                title: "Sites by use".to_string(),
                subtitle: "medians".to_string(),
                legend: vec![],
                source: "Source: test".to_string(),
            },
            start: YearMonth::parse("2025-01").unwrap(),
            layers: vec![
                ("Mining".to_string(), vec![100.0, 90.0, 80.0]),
                ("Converting to AI".to_string(), vec![0.0, 0.0, 0.0]),
                ("Hosting AI".to_string(), vec![0.0, 10.0, 20.0]),
            ],
            format: ValueFormat::Count,
            y_desc: "MW".to_string(),
            lower: lower.then(|| LowerPanel {
                label: "Network hashrate (median)".to_string(),
                values: vec![800.0, 790.0, f64::NAN],
                format: ValueFormat::Ehs,
                y_desc: "EH/s".to_string(),
            }),
            markers: vec![],
        }
    }

    #[test]
    fn empty_layers_are_left_out_of_the_legend_and_the_lower_panel_is_labelled() {
        let svg = render_svg(&chart(true)).unwrap();
        assert!(
            svg.contains("Mining") && svg.contains("Hosting AI"),
            "layers in the legend"
        );
        assert!(!svg.contains("Converting to AI"), "an empty layer is not drawn");
        assert!(svg.contains("Network hashrate (median)"));
        let without = render_svg(&chart(false)).unwrap();
        assert!(!without.contains("Network hashrate"));
    }
}
