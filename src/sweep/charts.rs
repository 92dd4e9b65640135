//! The charts of a sweep, in report order: per scenario a heatmap of the risk and one of the median ending
//! cash over the strategy axes, then each scenario's risk-return frontier (`crate::sweep::frontier`) and cash
//! waterfall (`crate::sweep::waterfall`), then the comparison of the reference, safest and riskiest cells, and
//! the robustness view (the best-worst-case and least-regret strategies beside the reference in every scenario).

use std::path::{Path, PathBuf};

use crate::output::OutputError;
use crate::output::charts::axes::ValueFormat;
use crate::output::charts::heatmap::{HeatCell, Heatmap};
use crate::output::charts::interval::{Interval, IntervalChart, Role};
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, BRICK, INK};
use crate::output::charts::{self, AnyChart, ChartEntry, file_stem_part, format};
use crate::sweep::data::{Cell, SweepData, value_key as key};

/// Reads a sweep's tables in `dir`, writes `dir/charts/*.png` and `*.svg`, and returns the files written.
pub fn render_sweep(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    render_sweep_data(dir, &SweepData::load(dir)?)
}

/// `render_sweep` with the tables already read.
pub fn render_sweep_data(dir: &Path, data: &SweepData) -> Result<Vec<PathBuf>, OutputError> {
    charts::render(dir, &sweep_charts(data))
}

/// The charts of a sweep, in report order.
pub fn sweep_charts(data: &SweepData) -> Vec<AnyChart> {
    let mut charts = vec![];
    for scenario in &data.scenarios {
        for metric in [Metric::CashBelowZero, Metric::MedianEndCash] {
            if let Some((entry, chart)) = heatmap_for_scenario(data, scenario, metric) {
                charts.push(AnyChart::new(entry, chart));
            }
        }
    }
    charts.extend(crate::sweep::frontier::frontier_charts(data));
    for w in crate::sweep::waterfall::default_waterfalls(data) {
        charts.push(crate::sweep::waterfall::chart(data, &w, true));
    }
    if let Some((entry, chart)) = comparison(data) {
        charts.push(AnyChart::new(entry, chart));
    }
    if let Some(chart) = robustness(data) {
        charts.push(chart);
    }
    charts
}

/// One strategy of the robustness view: its role, name, and per scenario its P(cash < 0) with the Wilson interval
/// and its median ending cash.
struct RobustRow {
    role: &'static str,
    strategy: String,
    /// Per scenario, in `Robustness::scenarios` order: (P(cash < 0), lo95, hi95, median ending cash).
    values: Vec<Option<(f64, f64, f64, f64)>>,
}

/// The robustness view: the best-worst-case and least-regret strategies on P(cash < 0), side by side with the
/// reference, in every scenario.
pub struct Robustness {
    page: Page,
    scenarios: Vec<String>,
    rows: Vec<RobustRow>,
}

/// The robustness chart of a sweep with at least two scenarios.
fn robustness(data: &SweepData) -> Option<AnyChart> {
    if data.scenarios.len() < 2 {
        return None;
    }
    let cells: Vec<(String, String, f64, bool)> = data
        .cells
        .iter()
        .map(|c| {
            (
                c.scenario.clone(),
                c.strategy.clone(),
                c.p_cash_below_zero,
                c.is_reference,
            )
        })
        .collect();
    let (maximin, regret, reference) = crate::sweep::robust::robust_choices(&cells, true)?;
    let mut picks = vec![("Best worst case", maximin), ("Least regret", regret)];
    if let Some(r) = reference {
        picks.push(("Reference", r));
    }
    let rows: Vec<RobustRow> = picks
        .into_iter()
        .map(|(role, standing)| RobustRow {
            role,
            values: data
                .scenarios
                .iter()
                .map(|s| {
                    data.cells_of(s).find(|c| c.strategy == standing.strategy).map(|c| {
                        (
                            c.p_cash_below_zero,
                            c.p_cash_below_zero_lo95,
                            c.p_cash_below_zero_hi95,
                            c.end_cash_usd.p50,
                        )
                    })
                })
                .collect(),
            strategy: standing.strategy,
        })
        .collect();
    let title = "Robust choices: how each strategy fares in every scenario".to_string();
    let subtitle = format!(
        "{}: P(cash < 0) with its 95% interval, and median ending cash, per scenario · best worst case: the strategy whose \
         worst scenario is best · least regret: never far from each scenario's safest",
        data.info.focus_manufacturer
    );
    // The legend names each strategy; a strategy holding two roles is named under each.
    let legend = rows
        .iter()
        .map(|r: &RobustRow| {
            let color = ROBUST_STYLES
                .iter()
                .find(|(role, _)| *role == r.role)
                .map_or(style::INK, |s| s.1);
            LegendItem::new(Swatch::Block(color), format!("{}: {}", r.role, r.strategy))
        })
        .collect();
    Some(AnyChart::new(
        ChartEntry {
            stem: "robustness".to_string(),
            section: "Across scenarios".to_string(),
            title: title.clone(),
        },
        Robustness {
            page: Page {
                title,
                subtitle,
                legend,
                source: data.info.source_line(),
            },
            scenarios: data.scenarios.clone(),
            rows,
        },
    ))
}

/// Each role's colour: dark, mid and light, apart in greyscale.
const ROBUST_STYLES: [(&str, plotters::style::RGBColor); 3] = [
    ("Best worst case", style::NAVY),
    ("Least regret", style::BLUE_LIGHT),
    ("Reference", style::AMBER),
];

impl charts::canvas::Chart for Robustness {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String> {
        use crate::output::charts::axes::{self, Axis, PlotOptions};
        use crate::output::charts::canvas::msg;
        use plotters::element::{PathElement, Rectangle};

        let area = self.page.draw(root)?;
        let panels = area.split_evenly((1, 2));
        let n = self.scenarios.len();
        let k = self.rows.len().max(1);
        let width = 0.8 / k as f64;
        for (panel_idx, panel) in panels.iter().enumerate() {
            let risk = panel_idx == 0;
            let pick = |v: &(f64, f64, f64, f64)| if risk { (v.0, v.1, v.2) } else { (v.3, v.3, v.3) };
            let values: Vec<(f64, f64, f64)> = self
                .rows
                .iter()
                .flat_map(|r| r.values.iter().flatten().map(pick))
                .collect();
            let lo = values
                .iter()
                .map(|v| v.1.min(v.0))
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::min);
            let hi = values
                .iter()
                .map(|v| v.2.max(v.0))
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max);
            let y = if risk {
                Axis::linear(0.0, (hi * 1.3).clamp(0.01, 1.0), ValueFormat::Share, "P(cash < 0)")
            } else {
                let pad = (hi - lo).max(1.0) * 0.08;
                Axis::linear(lo - pad, hi + pad, ValueFormat::Usd, "Median ending cash (USD)")
            };
            let x = Axis {
                range: (-0.5, n as f64 - 0.5),
                ticks: (0..n).map(|i| i as f64).collect(),
                label: {
                    let names = self.scenarios.clone();
                    Box::new(move |v| names.get(v.round() as usize).cloned().unwrap_or_default())
                },
                desc: "Scenario".to_string(),
            };
            let body = panel.margin(10, 0, 0, 30);
            let mut plot = axes::plot(&body, &x, &y, &PlotOptions::default())?;
            for (r, row) in self.rows.iter().enumerate() {
                let color = ROBUST_STYLES
                    .iter()
                    .find(|(role, _)| *role == row.role)
                    .map_or(style::INK, |s| s.1);
                for (s, v) in row.values.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let (value, lo, hi) = pick(v);
                    if !value.is_finite() {
                        continue;
                    }
                    let x0 = s as f64 - 0.4 + r as f64 * width;
                    // Bars stand on zero, which both axes include: a negative median hangs below it.
                    let base = 0.0;
                    plot.draw_series(std::iter::once(Rectangle::new(
                        [(x0 + 0.1 * width, base), (x0 + 0.9 * width, value)],
                        style::fill(color),
                    )))
                    .map_err(msg)?;
                    plot.draw_series(std::iter::once(Rectangle::new(
                        [(x0 + 0.1 * width, base), (x0 + 0.9 * width, value)],
                        style::stroke(INK, 1),
                    )))
                    .map_err(msg)?;
                    if risk && lo.is_finite() && hi.is_finite() {
                        let xc = x0 + 0.5 * width;
                        plot.draw_series(std::iter::once(PathElement::new(
                            vec![(xc, lo), (xc, hi)],
                            style::stroke(INK, 2),
                        )))
                        .map_err(msg)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a heatmap shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Share of paths in which the focus manufacturer's cash fell below zero.
    CashBelowZero,
    /// Median ending cash of the focus manufacturer.
    MedianEndCash,
}

/// The heatmap of one metric for one scenario; `None` when the scenario has no cells.
pub fn heatmap_for_scenario(data: &SweepData, scenario: &str, metric: Metric) -> Option<(ChartEntry, Heatmap)> {
    let (xi, yi) = (data.x_param, data.y_param);
    let cells = data.axis_cells(scenario)?;
    let x_of = |c: &Cell| c.params[xi];
    let y_of = |c: &Cell| yi.map_or(0.0, |i| c.params[i]);
    let mut xs: Vec<i64> = cells.iter().map(|c| key(x_of(c))).collect();
    let mut ys: Vec<i64> = cells.iter().map(|c| key(y_of(c))).collect();
    xs.sort_unstable();
    xs.dedup();
    ys.sort_unstable();
    ys.dedup();
    let grid = xs.len() <= 25 && ys.len() <= 25 && xs.len() * ys.len() <= 2 * cells.len();

    let focus = &data.info.focus_manufacturer;
    let values: Vec<f64> = cells
        .iter()
        .map(|c| match metric {
            Metric::CashBelowZero => c.p_cash_below_zero,
            Metric::MedianEndCash => c.end_cash_usd.p50,
        })
        .collect();
    // One colour scale per metric across every scenario of the sweep, so the same shade means the same value
    // on every heatmap (base's 14% is not as dark as bear's 72%).
    let finite: Vec<f64> = data
        .cells
        .iter()
        .map(|c| match metric {
            Metric::CashBelowZero => c.p_cash_below_zero,
            Metric::MedianEndCash => c.end_cash_usd.p50,
        })
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = (
        finite.iter().copied().fold(f64::INFINITY, f64::min),
        finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (scale, range, colorbar_desc, colorbar_format, title, stem_metric) = match metric {
        Metric::CashBelowZero => {
            // The scale tops out at a round share just above the worst cell, so that small risks still
            // show shades.
            let top = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
                .into_iter()
                .find(|t| hi.is_finite() && *t >= hi)
                .unwrap_or(1.0);
            (
                style::RISK_SCALE,
                (0.0, top),
                "P(cash < 0), share of paths".to_string(),
                ValueFormat::Share,
                format!("{focus}: probability that cash falls below zero, by strategy"),
                "p_cash_below_zero",
            )
        }
        Metric::MedianEndCash => {
            let (lo, hi) = if lo.is_finite() && hi > lo {
                (lo, hi)
            } else {
                (lo.min(0.0), lo.max(0.0) + 1.0)
            };
            (
                style::MONEY_SCALE,
                (lo, hi),
                "Median ending cash (USD)".to_string(),
                ValueFormat::Usd,
                format!("{focus}: median ending cash, by strategy"),
                "end_cash_median",
            )
        }
    };
    let heat_cells: Vec<HeatCell> = cells
        .iter()
        .zip(&values)
        .map(|(c, &value)| {
            let (label, sublabel) = match metric {
                Metric::CashBelowZero => (
                    format::pct(value),
                    // The 95% Wilson interval, which never reads "0% ± 0" when no path goes below zero.
                    if c.p_cash_below_zero_lo95.is_finite() && c.p_cash_below_zero_hi95.is_finite() {
                        Some(format!(
                            "{:.1}-{:.1}%",
                            c.p_cash_below_zero_lo95 * 100.0,
                            c.p_cash_below_zero_hi95 * 100.0
                        ))
                    } else {
                        c.p_cash_below_zero_se
                            .is_finite()
                            .then(|| format!("± {:.1} pp", c.p_cash_below_zero_se * 100.0))
                    },
                ),
                Metric::MedianEndCash => (
                    format::usd(value),
                    Some(format!("p5 {}", format::usd(c.end_cash_usd.p5))),
                ),
            };
            let (x, y) = if grid {
                (
                    xs.binary_search(&key(x_of(c))).unwrap_or(0) as f64,
                    ys.binary_search(&key(y_of(c))).unwrap_or(0) as f64,
                )
            } else {
                (x_of(c), y_of(c))
            };
            HeatCell {
                x,
                y,
                value,
                label,
                sublabel,
                reference: c.is_reference,
            }
        })
        .collect();

    let show = |idx: Option<usize>, k: &i64| idx.map_or("all".to_string(), |i| data.show_value(i, *k as f64 / 1e9));
    let reference_note = match data.reference(scenario) {
        Some(r) => format!(
            "outlined: reference strategy from the scenario file ({})",
            data.describe(r)
        ),
        None => "no cell matches the scenario file's own strategy".to_string(),
    };
    let held = if data.parameters.len() > 2 {
        " · other swept parameters at the reference values"
    } else {
        ""
    };
    // Only grid cells have room for the second line these notes explain.
    let se_note = match (grid, metric) {
        (false, _) => "",
        (true, Metric::CashBelowZero) => " · under each share its 95% interval",
        (true, Metric::MedianEndCash) => " · p5: 5th percentile",
    };
    let subtitle = format!(
        "Scenario {scenario} · {} paths per cell · {reference_note}{se_note}{held} · colours on one scale for every scenario",
        format::grouped(data.info.n_paths as f64, 0)
    );
    let mut legend = vec![];
    if data.reference(scenario).is_some() {
        legend.push(LegendItem::new(
            Swatch::Outline(INK),
            "Reference strategy (the scenario file's values)",
        ));
    }
    legend.push(LegendItem::new(
        Swatch::Block(scale.at(0.15)),
        format!("Low {}", colorbar_desc_short(metric)),
    ));
    legend.push(LegendItem::new(
        Swatch::Block(scale.at(0.9)),
        format!("High {}", colorbar_desc_short(metric)),
    ));
    let entry = ChartEntry {
        stem: format!("heatmap_{stem_metric}_{}", file_stem_part(scenario)),
        section: format!("Scenario {scenario}"),
        title: title.clone(),
    };
    let chart = Heatmap {
        page: Page {
            title,
            subtitle,
            legend,
            source: data.info.source_line(),
        },
        x_desc: data.axis_desc(xi),
        y_desc: yi.map_or("(one row: a single swept parameter)".to_string(), |i| data.axis_desc(i)),
        x_labels: if grid {
            xs.iter().map(|k| show(Some(xi), k)).collect()
        } else {
            vec![]
        },
        y_labels: if grid {
            ys.iter().map(|k| show(yi, k)).collect()
        } else {
            vec![]
        },
        x_share: data.is_share(xi),
        y_share: yi.is_none_or(|i| data.is_share(i)),
        cells: heat_cells,
        scale,
        range,
        colorbar_desc,
        colorbar_format,
    };
    Some((entry, chart))
}

fn colorbar_desc_short(metric: Metric) -> &'static str {
    match metric {
        Metric::CashBelowZero => "risk",
        Metric::MedianEndCash => "ending cash",
    }
}

/// The comparison chart of a sweep; `None` when it has no cells.
pub fn comparison(data: &SweepData) -> Option<(ChartEntry, IntervalChart)> {
    let mut items = vec![];
    for scenario in &data.scenarios {
        let mut picked: Vec<(Role, &Cell)> = vec![];
        if let Some(c) = data.reference(scenario) {
            picked.push((Role::Reference, c));
        }
        // When every cell shares one P(cash < 0), none is the safest or the riskiest.
        if data.risk_tie(scenario).is_none() {
            if let Some(c) = data.best(scenario) {
                picked.push((Role::LowestRisk, c));
            }
            if let Some(c) = data.worst(scenario) {
                picked.push((Role::HighestRisk, c));
            }
        }
        let mut merged: Vec<(Vec<Role>, &Cell)> = vec![];
        for (role, cell) in picked {
            match merged.iter_mut().find(|(_, c)| c.cell == cell.cell) {
                Some((roles, _)) => roles.push(role),
                None => merged.push((vec![role], cell)),
            }
        }
        for (roles, cell) in merged {
            items.push(Interval {
                scenario: scenario.clone(),
                roles,
                strategy: data.describe(cell),
                end_cash_usd: cell.end_cash_usd,
                p_cash_below_zero: cell.p_cash_below_zero,
            });
        }
    }
    if items.is_empty() {
        return None;
    }
    let focus = &data.info.focus_manufacturer;
    let title = format!("{focus}: ending cash by strategy and scenario");
    let entry = ChartEntry {
        stem: "strategy_comparison".to_string(),
        section: "All scenarios".to_string(),
        title: title.clone(),
    };
    let has_role = |role: Role| items.iter().any(|item| item.roles.contains(&role));
    let mut legend = vec![];
    if has_role(Role::Reference) {
        legend.push(LegendItem::new(
            Swatch::OutlinedBlock {
                fill: Role::Reference.fill(),
                line: INK,
            },
            "Reference (scenario file's strategy)",
        ));
    }
    if has_role(Role::LowestRisk) {
        legend.push(LegendItem::new(
            Swatch::OutlinedBlock {
                fill: Role::LowestRisk.fill(),
                line: INK,
            },
            "Safest: lowest P(cash < 0) in the sweep",
        ));
    }
    if has_role(Role::HighestRisk) {
        legend.push(LegendItem::new(
            Swatch::OutlinedBlock {
                fill: Role::HighestRisk.fill(),
                line: INK,
            },
            "Riskiest: highest P(cash < 0)",
        ));
    }
    legend.push(LegendItem::new(
        Swatch::Line {
            color: BRICK,
            width_px: 2,
            dash: None,
        },
        "Zero",
    ));
    let shown = match (has_role(Role::Reference), has_role(Role::LowestRisk)) {
        (true, true) => "the reference strategy against the sweep's lowest- and highest-risk cells",
        (true, false) => "the reference strategy",
        (false, _) => "the sweep's lowest- and highest-risk cells (no cell matches a scenario file's own strategy)",
    };
    let ties: Vec<String> = data
        .scenarios
        .iter()
        .filter_map(|s| {
            data.risk_tie(s)
                .map(|risk| format!("in {s} all strategies tie at P(cash < 0) {}", format::pct(risk)))
        })
        .collect();
    let ties = if ties.is_empty() {
        String::new()
    } else {
        format!(" · {}", ties.join(", "))
    };
    let chart = IntervalChart {
        page: Page {
            title,
            subtitle: format!(
                "Sweep {} · {} paths per cell · {shown}{ties} · box: p25–p75 of paths, whiskers: p5–p95, bar: median · \
                 each scenario on its own scale",
                data.info.sweep_name,
                format::grouped(data.info.n_paths as f64, 0)
            ),
            legend,
            source: data.info.source_line(),
        },
        items,
    };
    Some((entry, chart))
}
