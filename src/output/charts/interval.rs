//! The strategy comparison of a sweep: for each scenario, the ending cash of the reference strategy next to
//! the sweep's lowest-risk and highest-risk cells, as boxes (p25–p75) with whiskers (p5–p95) and medians.
//!
//! Risk is P(cash < 0); ties go to the higher (lowest risk) or lower (highest risk) median ending cash.
//! A cell that holds two roles (the reference is also the lowest-risk cell) is drawn once, with both names.

use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::LineSeries;
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::charts::axes::{self, Axis, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::format;
use crate::output::charts::page::Page;
use crate::output::charts::style::{self, BLUE, BRICK, GRID, INK, INK_SOFT, NAVY, SAND};
use crate::stats::Quantiles;

/// Why a cell is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Reference,
    LowestRisk,
    HighestRisk,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Reference => "Reference",
            Role::LowestRisk => "Safest",
            Role::HighestRisk => "Riskiest",
        }
    }

    /// Mid, light and dark fills, so the three roles stay apart in greyscale.
    pub fn fill(self) -> RGBColor {
        match self {
            Role::Reference => BLUE,
            Role::LowestRisk => SAND,
            Role::HighestRisk => NAVY,
        }
    }
}

/// One box: a cell of one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    pub scenario: String,
    /// The roles this cell holds, first one colours the box.
    pub roles: Vec<Role>,
    pub strategy: String,
    pub end_cash_usd: Quantiles,
    pub p_cash_below_zero: f64,
}

pub struct IntervalChart {
    pub page: Page,
    pub items: Vec<Interval>,
}

/// Vertical space of one line of labels under a panel.
const LABEL_LINE_PX: i32 = 26;
/// Space above each panel for the scenario's name.
const PANEL_TITLE_PX: i32 = 48;

impl IntervalChart {
    /// The items of each scenario, in order.
    fn panels(&self) -> Vec<(&str, Vec<&Interval>)> {
        let mut out: Vec<(&str, Vec<&Interval>)> = vec![];
        for item in &self.items {
            match out.last_mut() {
                Some((name, items)) if *name == item.scenario => items.push(item),
                _ => out.push((&item.scenario, vec![item])),
            }
        }
        out
    }
}

impl Chart for IntervalChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let panels = self.panels();
        let n_strategy_lines = self
            .items
            .iter()
            .map(|i| i.strategy.split(" · ").count())
            .max()
            .unwrap_or(1) as i32;
        // Role, the strategy's parameters one per line, then P(cash < 0).
        let labels_px = 16 + LABEL_LINE_PX * (n_strategy_lines + 2);
        let areas = area.split_evenly((1, panels.len().max(1)));
        for (panel_idx, ((scenario, items), panel)) in panels.iter().zip(&areas).enumerate() {
            let (x0, y0) = panel.get_base_pixel();
            let (w, _) = panel.dim_in_pixel();
            root.draw(&Text::new(
                format!("Scenario {scenario}"),
                (x0 + w as i32 / 2 + 40, y0 + 6),
                style::bold(style::SUBTITLE_PX, INK).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(msg)?;
            let body = panel.margin(PANEL_TITLE_PX, labels_px, 0, 24);
            let k = items.len();
            let x = Axis {
                range: (-0.6, k as f64 - 0.4),
                ticks: (0..k).map(|i| i as f64).collect(),
                label: Box::new(|_| String::new()),
                desc: String::new(),
            };
            let lo = items.iter().map(|i| i.end_cash_usd.p5).fold(0.0f64, f64::min);
            let hi = items.iter().map(|i| i.end_cash_usd.p95).fold(0.0f64, f64::max);
            let desc = if panel_idx == 0 { "Ending cash (USD)" } else { "" };
            let y = Axis::linear(lo, hi, ValueFormat::Usd, desc);
            let options = PlotOptions {
                x_labels: false,
                ..PlotOptions::default()
            };
            let mut plot = axes::plot(&body, &x, &y, &options)?;
            plot.draw_series(LineSeries::new(
                vec![(x.range.0, 0.0), (x.range.1, 0.0)],
                style::stroke(BRICK, 3),
            ))
            .map_err(msg)?;
            let half = 0.3;
            for (idx, item) in items.iter().enumerate() {
                let xc = idx as f64;
                let q = item.end_cash_usd;
                let fill = item.roles[0].fill();
                let whisker = style::stroke(INK, 2);
                for (a, b) in [(q.p5, q.p25), (q.p75, q.p95)] {
                    plot.draw_series(std::iter::once(PathElement::new(vec![(xc, a), (xc, b)], whisker)))
                        .map_err(msg)?;
                }
                for v in [q.p5, q.p95] {
                    plot.draw_series(std::iter::once(PathElement::new(
                        vec![(xc - half / 2.0, v), (xc + half / 2.0, v)],
                        whisker,
                    )))
                    .map_err(msg)?;
                }
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(xc - half, q.p25), (xc + half, q.p75)],
                    style::fill(fill),
                )))
                .map_err(msg)?;
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(xc - half, q.p25), (xc + half, q.p75)],
                    style::stroke(INK, 2),
                )))
                .map_err(msg)?;
                plot.draw_series(std::iter::once(PathElement::new(
                    vec![(xc - half, q.p50), (xc + half, q.p50)],
                    style::stroke(style::ink_on(fill), 5),
                )))
                .map_err(msg)?;
            }

            // Labels under the panel: role, the strategy's parameters, P(cash < 0).
            let (_, _, _, bottom) = axes::data_rect(&plot);
            let role_style = style::bold(style::NOTE_PX, INK).pos(Pos::new(HPos::Center, VPos::Top));
            let strategy_style = style::text(style::SOURCE_PX, INK_SOFT).pos(Pos::new(HPos::Center, VPos::Top));
            for (idx, item) in items.iter().enumerate() {
                let (px, _) = plot.backend_coord(&(idx as f64, 0.0));
                let roles: Vec<&str> = item.roles.iter().map(|r| r.name()).collect();
                let mut y_px = bottom + 14;
                root.draw(&Text::new(roles.join(" = "), (px, y_px), role_style.clone()))
                    .map_err(msg)?;
                for line in item.strategy.split(" · ") {
                    y_px += LABEL_LINE_PX;
                    root.draw(&Text::new(line.to_string(), (px, y_px), strategy_style.clone()))
                        .map_err(msg)?;
                }
                y_px += LABEL_LINE_PX;
                root.draw(&Text::new(
                    format::pct(item.p_cash_below_zero),
                    (px, y_px),
                    role_style.clone().color(&BRICK),
                ))
                .map_err(msg)?;
            }
            if panel_idx == 0 {
                // The row's name, once, left of the first panel's figures.
                let (left, _, _, _) = axes::data_rect(&plot);
                let y_px = bottom + 14 + LABEL_LINE_PX * (n_strategy_lines + 1);
                root.draw(&Text::new(
                    "P(cash < 0)",
                    (left - 12, y_px),
                    role_style.clone().color(&BRICK).pos(Pos::new(HPos::Right, VPos::Top)),
                ))
                .map_err(msg)?;
            }
            if panel_idx > 0 {
                let (_, top, _, _) = axes::data_rect(&plot);
                root.draw(&PathElement::new(
                    vec![(x0 - 4, top - PANEL_TITLE_PX), (x0 - 4, bottom + labels_px - 20)],
                    style::stroke(GRID, 2),
                ))
                .map_err(msg)?;
            }
        }
        Ok(())
    }
}
