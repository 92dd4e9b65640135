//! The risk-return frontier of a sweep, one chart per scenario: every strategy as a point, its risk (P(cash < 0)
//! of the focus manufacturer, or the CVaR-5% of its minimum cash) against its return (median ending cash, or
//! median gross margin), as the sweep file chooses; the Pareto-efficient strategies joined and labelled, the
//! reference ringed.
//!
//! A strategy is efficient when no other has at most its risk and at least its return, one of them strictly.
//! Drawn from `sweep.parquet` alone, like every chart.

use plotters::coord::Shift;
use plotters::element::{Circle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::series::LineSeries;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::charts::axes::{self, Axis, PlotOptions, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BLUE_LIGHT, BRICK, INK, NAVY};
use crate::output::charts::{AnyChart, ChartEntry, file_stem_part, format};
use crate::sweep::data::{Cell, SweepData};

/// The indices of the Pareto-efficient points of `(risk, return)`: lower risk and higher return are better.
/// Points with a non-finite coordinate are never efficient. Returned in order of increasing risk.
pub fn efficient_set(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let dominates = |a: &(f64, f64), b: &(f64, f64)| a.0 <= b.0 && a.1 >= b.1 && (a.0 < b.0 || a.1 > b.1);
    let mut out: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| !points.iter().any(|q| finite(q) && dominates(q, &points[i])))
        .collect();
    out.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0).then(a.cmp(&b)));
    // Identical points: keep the first, so a label is not drawn twice.
    out.dedup_by(|a, b| points[*a] == points[*b]);
    out
}

/// What a frontier's axes measure (`[sweep] frontier_risk` and `frontier_return`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measures {
    /// P(cash < 0) and median ending cash (the default).
    CashBelowZeroEndCash,
    /// P(cash < 0) and median gross margin.
    CashBelowZeroMargin,
    /// CVaR-5% of minimum cash and median ending cash.
    Cvar5EndCash,
    /// CVaR-5% of minimum cash and median gross margin.
    Cvar5Margin,
}

impl Measures {
    /// The measures a sweep recorded.
    pub fn of(data: &SweepData) -> Measures {
        let cvar = data.info.frontier_risk == "min_cash_usd_cvar5";
        let margin = data.info.frontier_return == "gross_margin_usd_p50";
        match (cvar, margin) {
            (false, false) => Measures::CashBelowZeroEndCash,
            (false, true) => Measures::CashBelowZeroMargin,
            (true, false) => Measures::Cvar5EndCash,
            (true, true) => Measures::Cvar5Margin,
        }
    }

    fn cvar(self) -> bool {
        matches!(self, Measures::Cvar5EndCash | Measures::Cvar5Margin)
    }

    fn margin(self) -> bool {
        matches!(self, Measures::CashBelowZeroMargin | Measures::Cvar5Margin)
    }

    /// A cell's point as drawn: (risk axis value, return).
    pub fn point(self, c: &Cell) -> (f64, f64) {
        let risk = if self.cvar() {
            c.min_cash_usd_cvar5
        } else {
            c.p_cash_below_zero
        };
        let ret = if self.margin() {
            c.gross_margin_usd.p50
        } else {
            c.end_cash_usd.p50
        };
        (risk, ret)
    }

    /// A point with lower-is-better risk, for the efficient set: CVaR of minimum cash is better when higher.
    pub fn as_risk(self, (x, y): (f64, f64)) -> (f64, f64) {
        if self.cvar() { (-x, y) } else { (x, y) }
    }

    fn risk_desc(self) -> &'static str {
        if self.cvar() {
            "CVaR-5% of minimum cash: mean of the worst 5% of paths (USD; safer to the right)"
        } else {
            "P(cash < 0): share of paths whose cash went below zero"
        }
    }

    fn return_desc(self) -> &'static str {
        if self.margin() {
            "Median gross margin over the horizon (USD)"
        } else {
            "Median ending cash (USD)"
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        (
            if self.cvar() {
                "CVaR-5% of minimum cash"
            } else {
                "P(cash < 0)"
            },
            if self.margin() {
                "median gross margin"
            } else {
                "median ending cash"
            },
        )
    }
}

/// Half the width of a risk axis (as a share) when every strategy has the same P(cash < 0): five points either
/// side, wide enough to read the figure and its neighbours.
const FLAT_SHARE_HALF_WIDTH: f64 = 0.05;

/// Half the width of a money axis, as a share of the value, when every strategy has the same figure.
const FLAT_USD_HALF_SHARE: f64 = 0.1;

/// The range an axis shows for data in [lo, hi]: 8% of the span either side, or, when every point has the same
/// value, `flat_half_width` either side (when above zero) or else a tenth of the value (at least 1) either side,
/// so that a tie reads as one value on a readable axis rather than as a sliver of float noise.
fn padded_range(lo: f64, hi: f64, flat_half_width: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 1e-9 * hi.abs().max(lo.abs()).max(1.0) {
        let span = span.max(hi.abs() * 0.02);
        return (lo - 0.08 * span, hi + 0.08 * span);
    }
    let half_width = if flat_half_width > 0.0 {
        flat_half_width
    } else {
        (hi.abs() * FLAT_USD_HALF_SHARE).max(1.0)
    };
    (lo - half_width, hi + half_width)
}

/// One scenario's frontier.
pub struct Frontier {
    page: Page,
    measures: Measures,
    /// (risk, return) of every cell, as drawn.
    points: Vec<(f64, f64)>,
    labels: Vec<String>,
    efficient: Vec<usize>,
    reference: Option<usize>,
}

/// The frontier chart of every scenario with cells.
pub fn frontier_charts(data: &SweepData) -> Vec<AnyChart> {
    data.scenarios
        .iter()
        .filter_map(|scenario| {
            let cells: Vec<&Cell> = data.cells_of(scenario).collect();
            if cells.is_empty() {
                return None;
            }
            let measures = Measures::of(data);
            let points: Vec<(f64, f64)> = cells.iter().map(|c| measures.point(c)).collect();
            let efficient = efficient_set(&points.iter().map(|&p| measures.as_risk(p)).collect::<Vec<_>>());
            let reference = cells.iter().position(|c| c.is_reference);
            let title = format!("Risk and return of every strategy: scenario {scenario}");
            let focus = &data.info.focus_manufacturer;
            let (risk_name, return_name) = measures.names();
            let subtitle = format!(
                "{focus}: {risk_name} against {return_name}, {} strategies, {} paths each · efficient strategies \
                 joined: no other is both safer and richer",
                cells.len(),
                format::grouped(data.info.n_paths as f64, 0)
            );
            let mut legend = vec![
                LegendItem::new(Swatch::Block(BLUE_LIGHT), "Strategy"),
                LegendItem::new(
                    Swatch::Line {
                        color: NAVY,
                        width_px: style::SERIES_WIDTH_PX,
                        dash: None,
                    },
                    "Efficient strategies (labelled)",
                ),
            ];
            if reference.is_some() {
                legend.push(LegendItem::new(
                    Swatch::Outline(BRICK),
                    "Reference (the scenario file's strategy)",
                ));
            }
            Some(AnyChart::new(
                ChartEntry {
                    stem: format!("frontier_{}", file_stem_part(scenario)),
                    section: format!("Scenario {scenario}"),
                    title: title.clone(),
                },
                Frontier {
                    measures,
                    page: Page {
                        title,
                        subtitle,
                        legend,
                        source: data.info.source_line(),
                    },
                    points,
                    labels: cells.iter().map(|c| c.strategy.clone()).collect(),
                    efficient,
                    reference,
                },
            ))
        })
        .collect()
}

impl Chart for Frontier {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let finite: Vec<(f64, f64)> = self
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let (x_lo, x_hi, y_lo, y_hi) = finite.iter().fold(
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY),
            |(a, b, c, d), p| (a.min(p.0), b.max(p.0), c.min(p.1), d.max(p.1)),
        );
        if !x_lo.is_finite() {
            return Ok(());
        }
        let cvar = self.measures.cvar();
        let (x_lo, x_hi) = padded_range(x_lo, x_hi, if cvar { 0.0 } else { FLAT_SHARE_HALF_WIDTH });
        let (y_lo, y_hi) = padded_range(y_lo, y_hi, 0.0);
        let x = if cvar {
            Axis::linear(x_lo, x_hi, ValueFormat::Usd, self.measures.risk_desc())
        } else {
            Axis::linear(
                x_lo.max(0.0),
                x_hi.min(1.0),
                ValueFormat::Share,
                self.measures.risk_desc(),
            )
        };
        let y = Axis::linear(y_lo, y_hi, ValueFormat::Usd, self.measures.return_desc());
        let mut plot = axes::plot(
            &area,
            &x,
            &y,
            &PlotOptions {
                x_grid: true,
                ..PlotOptions::default()
            },
        )?;
        plot.draw_series(finite.iter().map(|p| Circle::new(*p, 7, style::fill(BLUE_LIGHT))))
            .map_err(msg)?;
        let front: Vec<(f64, f64)> = self.efficient.iter().map(|&i| self.points[i]).collect();
        plot.draw_series(LineSeries::new(
            front.clone(),
            style::stroke(NAVY, style::SERIES_WIDTH_PX),
        ))
        .map_err(msg)?;
        plot.draw_series(front.iter().map(|p| Circle::new(*p, 8, style::fill(NAVY))))
            .map_err(msg)?;
        if let Some(r) = self
            .reference
            .filter(|&r| self.points[r].0.is_finite() && self.points[r].1.is_finite())
        {
            plot.draw_series(std::iter::once(Circle::new(
                self.points[r],
                14,
                style::stroke(BRICK, 4),
            )))
            .map_err(msg)?;
        }
        // Labels of the efficient strategies, alternately above and below the line so neighbours do not collide.
        for (k, &i) in self.efficient.iter().enumerate() {
            let (px, py) = plot.backend_coord(&self.points[i]);
            let (dy, v) = if k % 2 == 0 {
                (-16, VPos::Bottom)
            } else {
                (16, VPos::Top)
            };
            root.draw(&Text::new(
                self.labels[i].clone(),
                (px + 10, py + dy),
                style::text(style::NOTE_PX, INK).pos(Pos::new(HPos::Left, v)),
            ))
            .map_err(msg)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dominated(points: &[(f64, f64)], i: usize) -> bool {
        let p = points[i];
        points
            .iter()
            .any(|q| q.0 <= p.0 && q.1 >= p.1 && (q.0 < p.0 || q.1 > p.1))
    }

    #[test]
    fn the_efficient_set_holds_no_dominated_point_and_dominates_every_other() {
        let mut state = 5u64;
        let mut next = || {
            state = hashcycle_model::rng::mix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..50 {
            let points: Vec<(f64, f64)> = (0..40).map(|_| (next(), next() * 1e9)).collect();
            let front = efficient_set(&points);
            assert!(!front.is_empty());
            for &i in &front {
                assert!(!dominated(&points, i), "{:?} is dominated", points[i]);
            }
            for i in (0..points.len()).filter(|i| !front.contains(i)) {
                assert!(
                    dominated(&points, i),
                    "{:?} is neither efficient nor dominated",
                    points[i]
                );
            }
            assert!(front.windows(2).all(|w| points[w[0]].0 <= points[w[1]].0));
        }
    }

    #[test]
    fn a_tie_gets_a_readable_range_around_its_value() {
        assert_eq!(
            padded_range(0.1, 0.1, FLAT_SHARE_HALF_WIDTH),
            (0.05, 0.15000000000000002)
        );
        assert_eq!(padded_range(0.0, 0.0, FLAT_SHARE_HALF_WIDTH), (-0.05, 0.05));
        assert_eq!(padded_range(2e9, 2e9, 0.0), (1.8e9, 2.2e9));
        assert_eq!(padded_range(0.0, 0.0, 0.0), (-1.0, 1.0));
        // A spread keeps 8% of its span either side.
        let (lo, hi) = padded_range(0.1, 0.6, FLAT_SHARE_HALF_WIDTH);
        assert!((lo - 0.06).abs() < 1e-12 && (hi - 0.64).abs() < 1e-12, "{lo} {hi}");
    }

    #[test]
    fn a_point_without_figures_is_never_efficient_and_ties_are_drawn_once() {
        let points = [(0.1, 5.0), (f64::NAN, 9.0), (0.1, 5.0), (0.2, 4.0), (0.05, 1.0)];
        assert_eq!(efficient_set(&points), vec![4, 0]);
    }
}
