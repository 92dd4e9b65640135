//! Fan charts: the median path with the 50% (p25–p75) and 90% (p5–p95) bands across paths, month by month.

use plotters::coord::Shift;
use plotters::element::Polygon;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::LineSeries;
use plotters::style::RGBColor;

use crate::output::charts::axes::{self, Axis, Marker, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BLUE_LIGHT, BLUE_PALE, BRICK, NAVY};
use crate::stats::Quantiles;
use hashcycle_model::units::YearMonth;

/// How the value axis is scaled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear(ValueFormat),
    /// Log10, read as money: for prices that compound.
    LogUsd,
}

pub struct FanChart {
    pub page: Page,
    pub start: YearMonth,
    /// One entry per month.
    pub fan: Vec<Quantiles>,
    pub scale: Scale,
    pub y_desc: String,
    pub markers: Vec<Marker>,
    /// Draw the zero line and keep zero in view: for cash.
    pub zero_line: bool,
}

/// The legend every fan chart shares.
pub fn fan_legend(zero_line: bool, markers: &[Marker]) -> Vec<LegendItem> {
    let mut legend = vec![
        LegendItem::new(
            Swatch::Line {
                color: NAVY,
                width_px: style::MEDIAN_WIDTH_PX,
                dash: None,
            },
            "Median across paths",
        ),
        LegendItem::new(Swatch::Block(BLUE_LIGHT), "50% of paths (p25–p75)"),
        LegendItem::new(Swatch::Block(BLUE_PALE), "90% of paths (p5–p95)"),
    ];
    if zero_line {
        legend.push(LegendItem::new(
            Swatch::Line {
                color: BRICK,
                width_px: 3,
                dash: None,
            },
            "Zero",
        ));
    }
    legend.extend(axes::marker_legend(markers));
    legend
}

impl FanChart {
    fn value(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear(_) => v,
            Scale::LogUsd => v.max(1e-9).log10(),
        }
    }
}

impl Chart for FanChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let months: Vec<(usize, &Quantiles)> = self
            .fan
            .iter()
            .enumerate()
            .filter(|(_, q)| [q.p5, q.p25, q.p50, q.p75, q.p95].iter().all(|v| v.is_finite()))
            .collect();
        let mut lo = months.iter().map(|(_, q)| q.p5).fold(f64::INFINITY, f64::min);
        let mut hi = months.iter().map(|(_, q)| q.p95).fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let y = match self.scale {
            Scale::Linear(format) => {
                // Zero stays in view for cash, and for positive series whose range would otherwise
                // exaggerate their swings.
                if self.zero_line || (lo > 0.0 && lo < 0.5 * hi) {
                    lo = lo.min(0.0);
                    hi = hi.max(0.0);
                }
                Axis::linear(lo, hi, format, self.y_desc.clone())
            }
            Scale::LogUsd => Axis::log_usd(lo, hi, self.y_desc.clone()),
        };
        let x = Axis::months(self.start, self.fan.len());
        let (mut plot, rows) = axes::plot_with_markers(&area, &x, &y, &PlotOptions::default(), &self.markers)?;

        type Bound = fn(&Quantiles) -> f64;
        let bands: [(Bound, Bound, RGBColor); 2] =
            [(|q| q.p5, |q| q.p95, BLUE_PALE), (|q| q.p25, |q| q.p75, BLUE_LIGHT)];
        for (lower, upper, color) in bands {
            let mut points: Vec<(f64, f64)> = months.iter().map(|(m, q)| (*m as f64, self.value(upper(q)))).collect();
            points.extend(months.iter().rev().map(|(m, q)| (*m as f64, self.value(lower(q)))));
            plot.draw_series(std::iter::once(Polygon::new(points, style::fill(color))))
                .map_err(msg)?;
        }
        if self.zero_line {
            let (x0, x1) = (x.range.0, x.range.1);
            plot.draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], style::stroke(BRICK, 3)))
                .map_err(msg)?;
        }
        plot.draw_series(LineSeries::new(
            months.iter().map(|(m, q)| (*m as f64, self.value(q.p50))),
            style::stroke(NAVY, style::MEDIAN_WIDTH_PX),
        ))
        .map_err(msg)?;
        axes::draw_markers(root, &plot, &self.markers, Some(&rows))?;
        Ok(())
    }
}
