//! A manufacturer's units on the median path, in two panels sharing the time axis.
//! - Upper: units per month by where they went (futures deliveries, spot, dealers, self-mining), stacked, with
//!   production as a dashed line over them.
//! - Lower: units at month end, inventory on hand and the backlog owed to futures buyers.
//!
//! Inventory and backlog are drawn over each other, not stacked: their sum would read as a total of
//! something, and it is not one.

use plotters::coord::Shift;
use plotters::element::Polygon;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::{DashedLineSeries, LineSeries};

use crate::output::charts::axes::{self, Axis, Marker, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::layers::{draw_stacked, finite_or_zero, stack};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BLUE_PALE, BRICK, NAVY, STACK};
use hashcycle_model::units::YearMonth;

pub struct StackChart {
    pub page: Page,
    pub start: YearMonth,
    /// Median units per month of each outlet, bottom layer first.
    pub flows_units: Vec<(String, Vec<f64>)>,
    pub produced_units: Vec<f64>,
    pub inventory_units: Vec<f64>,
    pub backlog_units: Vec<f64>,
    pub markers: Vec<Marker>,
}

const PRODUCED_COLOR: plotters::style::RGBColor = BRICK;
const INVENTORY_COLOR: plotters::style::RGBColor = style::TEAL;

impl StackChart {
    /// Outlets that sold anything on the median path, with their layer colours.
    fn layers(&self) -> Vec<(&str, &[f64], plotters::style::RGBColor)> {
        self.flows_units
            .iter()
            .enumerate()
            .filter(|(_, (_, values))| values.iter().any(|v| finite_or_zero(*v) > 0.0))
            .map(|(i, (label, values))| (label.as_str(), values.as_slice(), STACK[i % STACK.len()]))
            .collect()
    }

    fn legend(&self) -> Vec<LegendItem> {
        let mut legend: Vec<LegendItem> = self
            .layers()
            .iter()
            .map(|(label, _, color)| LegendItem::new(Swatch::Block(*color), *label))
            .collect();
        legend.push(LegendItem::new(
            Swatch::Line {
                color: PRODUCED_COLOR,
                width_px: style::SERIES_WIDTH_PX,
                dash: Some(style::DASH_SERIES),
            },
            "Produced",
        ));
        legend.push(LegendItem::new(
            Swatch::OutlinedBlock {
                fill: BLUE_PALE,
                line: NAVY,
            },
            "Backlog (futures owed)",
        ));
        legend.push(LegendItem::new(
            Swatch::Line {
                color: INVENTORY_COLOR,
                width_px: style::MEDIAN_WIDTH_PX,
                dash: Some(style::DASH_SERIES),
            },
            "Inventory (on hand)",
        ));
        legend.extend(axes::marker_legend(&self.markers));
        legend
    }
}

impl Chart for StackChart {
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
        let (upper, lower) = area.split_vertically(height as i32 * 53 / 100);
        let n_months = self
            .produced_units
            .len()
            .max(self.inventory_units.len())
            .max(self.flows_units.first().map_or(0, |f| f.1.len()));
        let x = Axis::months(self.start, n_months);

        // Upper panel: stacked outlets and production.
        let layers = self.layers();
        let (stacked, cumulative) = stack(&layers, n_months);
        let top = cumulative
            .iter()
            .chain(self.produced_units.iter())
            .copied()
            .map(finite_or_zero)
            .fold(0.0, f64::max);
        let y = Axis::linear(0.0, top.max(1.0), ValueFormat::Count, "Units per month");
        let options = PlotOptions {
            x_labels: false,
            ..PlotOptions::default()
        };
        let (mut plot, rows) = axes::plot_with_markers(&upper, &x, &y, &options, &self.markers)?;
        draw_stacked(&mut plot, &stacked)?;
        plot.draw_series(DashedLineSeries::new(
            self.produced_units
                .iter()
                .enumerate()
                .map(|(m, v)| (m as f64, finite_or_zero(*v))),
            style::DASH_SERIES.0,
            style::DASH_SERIES.1,
            style::stroke(PRODUCED_COLOR, style::SERIES_WIDTH_PX),
        ))
        .map_err(msg)?;
        axes::draw_markers(root, &plot, &self.markers, Some(&rows))?;

        // Lower panel: backlog (filled) and inventory (a line) at month end.
        let top = self
            .inventory_units
            .iter()
            .chain(self.backlog_units.iter())
            .copied()
            .map(finite_or_zero)
            .fold(0.0, f64::max);
        let y = Axis::linear(0.0, top.max(1.0), ValueFormat::Count, "Units at month end");
        let options = PlotOptions {
            top_px: 24,
            ..PlotOptions::default()
        };
        let mut plot = axes::plot(&lower, &x, &y, &options)?;
        let backlog: Vec<(f64, f64)> = self
            .backlog_units
            .iter()
            .enumerate()
            .map(|(m, v)| (m as f64, finite_or_zero(*v)))
            .collect();
        let mut area_points = backlog.clone();
        area_points.extend(backlog.iter().rev().map(|(m, _)| (*m, 0.0)));
        plot.draw_series(std::iter::once(Polygon::new(area_points, style::fill(BLUE_PALE))))
            .map_err(msg)?;
        plot.draw_series(LineSeries::new(backlog, style::stroke(NAVY, style::SERIES_WIDTH_PX)))
            .map_err(msg)?;
        plot.draw_series(DashedLineSeries::new(
            self.inventory_units
                .iter()
                .enumerate()
                .map(|(m, v)| (m as f64, finite_or_zero(*v))),
            style::DASH_SERIES.0,
            style::DASH_SERIES.1,
            style::stroke(INVENTORY_COLOR, style::MEDIAN_WIDTH_PX),
        ))
        .map_err(msg)?;
        axes::draw_markers(root, &plot, &self.markers, None)?;
        Ok(())
    }
}
