//! The cash waterfall: why one strategy ends with more or less cash than another, flow by flow.
//!
//! Every path records the focus manufacturer's cash tallies (`paths.parquet`): its starting cash, the cash it
//! collected for machines and received as prepayments, and what it paid the foundry, for assembly, for its
//! operations and in interest. The starting cash plus those flows is the ending cash on every path (a
//! conservation check), so the difference between two strategies' mean ending cash splits exactly into the
//! differences of their mean flows. Paths are paired by index (common random numbers), and each part
//! carries the standard error of its paired difference.
//!
//! Prepayments (with the advances on futures signed before the start) are split by what became of them:
//! applied to machines delivered, kept from buyers who walked away or defaulted, or still held as advances at
//! the end (refunds netted out). Write-downs and the cost of
//! goods move no cash; they are shown beside the waterfall as memo lines, not in it.

use plotters::coord::Shift;
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::OutputError;
use crate::output::charts::axes::{self, Axis, ValueFormat};
use crate::output::charts::canvas::{Chart, msg};
use crate::output::charts::data::Table;
use crate::output::charts::page::{LegendItem, Page, Swatch};
use crate::output::charts::style::{self, AMBER, BRICK, GRID, INK, INK_SOFT, NAVY};
use crate::output::charts::{AnyChart, ChartEntry, file_stem_part, format};
use crate::sweep::data::{Cell, SweepData};
use crate::sweep::frontier::{Measures, efficient_set};

/// The per-path columns of `paths.parquet` the waterfall reads.
pub const FLOW_COLUMNS: [&str; 21] = [
    "end_cash_usd",
    "start_cash_usd",
    "sales_collected_usd",
    "prepayments_received_usd",
    "prepayments_applied_usd",
    "prepayments_forfeited_usd",
    "prepayments_refunded_usd",
    "wafer_prepayments_paid_usd",
    "wafer_balances_paid_usd",
    "assembly_paid_usd",
    "cancellation_penalties_usd",
    "opex_usd",
    "interest_usd",
    "self_mining_revenue_usd",
    "self_mining_power_cost_usd",
    "scrap_proceeds_usd",
    "revenue_usd",
    "cogs_usd",
    "writedowns_usd",
    "other_lines_revenue_usd",
    "other_lines_cost_usd",
];

/// One path's flows, in `FLOW_COLUMNS` order.
pub type PathFlows = [f64; FLOW_COLUMNS.len()];

/// A path of a cell: its index, whether a check stopped it, and its flows.
pub type PathRecord = (u32, bool, PathFlows);

/// The parts of the waterfall, in order: (key, label). Their values on one path sum to its ending cash.
pub const PARTS: [(&str, &str); 13] = [
    ("start_cash", "Starting cash"),
    ("sales_collected", "Machines: cash collected on sale or delivery"),
    ("prepayments_applied", "Prepayments applied to machines delivered"),
    ("prepayments_kept", "Prepayments kept (walk-aways, defaults)"),
    ("advances_held", "Advances still held at the end"),
    ("foundry_prepayments", "Foundry prepayments on wafers"),
    ("foundry_balances_and_assembly", "Foundry balances and assembly"),
    ("cancellation_penalties", "Foundry cancellation penalties"),
    ("opex", "Operating cost and R&D"),
    ("interest", "Financing: interest on credit drawn"),
    ("self_mining", "Self-mining, net of power"),
    ("scrap", "Scrap proceeds"),
    ("other_lines", "Hosting and AI-chip units, net"),
];

/// Memo lines, accounting rather than cash: (key, label).
pub const MEMO: [(&str, &str); 4] = [
    ("revenue", "Revenue"),
    ("cogs", "Cost of goods sold"),
    ("writedowns", "Write-downs of stock"),
    ("gross_margin", "Gross margin"),
];

/// The parts of one path (signed: what each adds to ending cash), in `PARTS` order.
pub fn parts_of(f: &PathFlows) -> [f64; PARTS.len()] {
    let [
        _end,
        start,
        sales,
        received,
        applied,
        forfeited,
        refunded,
        wafer_prepaid,
        wafer_balances,
        assembly,
        penalties,
        opex,
        interest,
        self_mining_revenue,
        self_mining_power,
        scrap,
        _revenue,
        _cogs,
        _writedowns,
        other_lines_revenue,
        other_lines_cost,
    ] = *f;
    [
        start,
        sales,
        applied,
        forfeited,
        received - refunded - applied - forfeited,
        -wafer_prepaid,
        -(wafer_balances + assembly),
        -penalties,
        -opex,
        -interest,
        self_mining_revenue - self_mining_power,
        scrap,
        other_lines_revenue - other_lines_cost,
    ]
}

/// The memo lines of one path, in `MEMO` order.
pub fn memo_of(f: &PathFlows) -> [f64; MEMO.len()] {
    let (revenue, cogs, writedowns) = (f[16], f[17], f[18]);
    [revenue, cogs, writedowns, revenue - cogs - writedowns]
}

/// Every path's flows of one cell, read from `paths.parquet`: (path index, failed a check, flows).
pub fn read_flows(paths: &Table) -> Result<Option<Vec<PathRecord>>, OutputError> {
    if FLOW_COLUMNS.iter().any(|c| !paths.has(c)) {
        // Written before the cash tallies were recorded.
        return Ok(None);
    }
    let path = paths.u32s("path")?;
    let failed = paths.bools("failed_check")?;
    let columns: Vec<Vec<f64>> = FLOW_COLUMNS.iter().map(|c| paths.f64s(c)).collect::<Result<_, _>>()?;
    Ok(Some(
        (0..paths.height())
            .map(|row| {
                let mut flows = [0.0; FLOW_COLUMNS.len()];
                for (k, column) in columns.iter().enumerate() {
                    flows[k] = column[row];
                }
                (path[row], failed[row], flows)
            })
            .collect(),
    ))
}

/// One line of a waterfall: the two strategies' means and their paired difference.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub key: &'static str,
    pub label: &'static str,
    pub from_mean_usd: f64,
    pub to_mean_usd: f64,
    /// Mean over paired paths of (to − from), in USD.
    pub difference_usd: f64,
    /// Standard error of that mean difference, in USD.
    pub difference_se_usd: f64,
}

/// The waterfall of one pair of strategies of one scenario.
#[derive(Clone, Debug)]
pub struct Waterfall {
    pub scenario: String,
    pub from_cell: u32,
    pub from_strategy: String,
    /// Whether the strategy compared from is the scenario's reference.
    pub from_is_reference: bool,
    pub to_cell: u32,
    pub to_strategy: String,
    /// Paths that completed in both cells.
    pub n_paths: usize,
    /// One line per part, in `PARTS` order.
    pub parts: Vec<Line>,
    /// Mean ending cash: the parts' sum.
    pub total: Line,
    pub memo: Vec<Line>,
    /// Median ending cash of each strategy over the paired paths, in USD (medians do not add, so the
    /// waterfall splits the mean; the medians are shown beside it).
    pub from_end_cash_p50_usd: f64,
    pub to_end_cash_p50_usd: f64,
}

/// Mean and standard error of the mean.
fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A line of `k` values per path: `from[i][k]` and `to[i][k]` over paired paths.
fn line(key: &'static str, label: &'static str, pairs: &[(f64, f64)]) -> Line {
    let from: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let to: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let diff: Vec<f64> = pairs.iter().map(|p| p.1 - p.0).collect();
    let (difference_usd, difference_se_usd) = mean_se(&diff);
    Line {
        key,
        label,
        from_mean_usd: mean_se(&from).0,
        to_mean_usd: mean_se(&to).0,
        difference_usd,
        difference_se_usd,
    }
}

/// A cell of the waterfall: its identity and its paths' flows.
pub struct Side<'a> {
    pub cell: u32,
    pub is_reference: bool,
    pub strategy: &'a str,
    pub flows: &'a [PathRecord],
}

/// The waterfall from `from` to `to` over the paths that completed in both; `None` when none did.
pub fn waterfall(scenario: &str, from: &Side, to: &Side) -> Option<Waterfall> {
    let by_path: std::collections::BTreeMap<u32, &PathFlows> = from
        .flows
        .iter()
        .filter(|(_, failed, _)| !failed)
        .map(|(p, _, f)| (*p, f))
        .collect();
    let paired: Vec<(&PathFlows, &PathFlows)> = to
        .flows
        .iter()
        .filter(|(_, failed, _)| !failed)
        .filter_map(|(p, _, f)| by_path.get(p).map(|a| (*a, f)))
        .collect();
    if paired.is_empty() {
        return None;
    }
    let from_parts: Vec<[f64; PARTS.len()]> = paired.iter().map(|(a, _)| parts_of(a)).collect();
    let to_parts: Vec<[f64; PARTS.len()]> = paired.iter().map(|(_, b)| parts_of(b)).collect();
    let parts = PARTS
        .iter()
        .enumerate()
        .map(|(k, (key, label))| {
            let pairs: Vec<(f64, f64)> = from_parts.iter().zip(&to_parts).map(|(a, b)| (a[k], b[k])).collect();
            line(key, label, &pairs)
        })
        .collect();
    let from_memo: Vec<[f64; MEMO.len()]> = paired.iter().map(|(a, _)| memo_of(a)).collect();
    let to_memo: Vec<[f64; MEMO.len()]> = paired.iter().map(|(_, b)| memo_of(b)).collect();
    let memo = MEMO
        .iter()
        .enumerate()
        .map(|(k, (key, label))| {
            let pairs: Vec<(f64, f64)> = from_memo.iter().zip(&to_memo).map(|(a, b)| (a[k], b[k])).collect();
            line(key, label, &pairs)
        })
        .collect();
    let end: Vec<(f64, f64)> = paired.iter().map(|(a, b)| (a[0], b[0])).collect();
    let total = line("end_cash", "Ending cash", &end);
    let mut from_end: Vec<f64> = end.iter().map(|p| p.0).collect();
    let mut to_end: Vec<f64> = end.iter().map(|p| p.1).collect();
    Some(Waterfall {
        scenario: scenario.to_string(),
        from_cell: from.cell,
        from_strategy: from.strategy.to_string(),
        from_is_reference: from.is_reference,
        to_cell: to.cell,
        to_strategy: to.strategy.to_string(),
        n_paths: paired.len(),
        parts,
        total,
        memo,
        from_end_cash_p50_usd: median(&mut from_end),
        to_end_cash_p50_usd: median(&mut to_end),
    })
}

/// The strategy a cell is compared with by default: the safest strategy on the sweep's frontier (its risk and
/// return measures, `crate::sweep::frontier::Measures`) other than `from`; when `from` is the only efficient
/// one, the safest other strategy. `None` when the scenario has no other cell.
pub fn default_alternative<'a>(data: &'a SweepData, scenario: &str, from: &Cell) -> Option<&'a Cell> {
    let measures = Measures::of(data);
    let cells: Vec<&Cell> = data.cells_of(scenario).collect();
    let risk_points: Vec<(f64, f64)> = cells.iter().map(|c| measures.as_risk(measures.point(c))).collect();
    efficient_set(&risk_points)
        .into_iter()
        .map(|i| cells[i])
        .find(|c| c.cell != from.cell)
        .or_else(|| {
            (0..cells.len())
                .filter(|&i| cells[i].cell != from.cell && risk_points[i].0.is_finite())
                .min_by(|&a, &b| {
                    risk_points[a]
                        .0
                        .total_cmp(&risk_points[b].0)
                        .then(risk_points[b].1.total_cmp(&risk_points[a].1))
                        .then(cells[a].cell.cmp(&cells[b].cell))
                })
                .map(|i| cells[i])
        })
}

/// The waterfall of two cells of a sweep; `None` when the sweep recorded no cash tallies or no path
/// completed in both.
pub fn between(data: &SweepData, from: &Cell, to: &Cell) -> Option<Waterfall> {
    let flows_of = |c: &Cell| data.flows.get(&(c.scenario.clone(), c.cell));
    let (a, b) = (flows_of(from)?, flows_of(to)?);
    waterfall(
        &from.scenario,
        &Side {
            cell: from.cell,
            is_reference: from.is_reference,
            strategy: &from.strategy,
            flows: a,
        },
        &Side {
            cell: to.cell,
            is_reference: to.is_reference,
            strategy: &to.strategy,
            flows: b,
        },
    )
}

/// Each scenario's default waterfall: its reference against `default_alternative`.
pub fn default_waterfalls(data: &SweepData) -> Vec<Waterfall> {
    data.scenarios
        .iter()
        .filter_map(|s| {
            let reference = data.reference(s)?;
            let alternative = default_alternative(data, s, reference)?;
            between(data, reference, alternative)
        })
        .collect()
}

/// The chart's file stem: `waterfall_<scenario>` for the default pair, else with both cells.
pub fn stem(w: &Waterfall, default_pair: bool) -> String {
    let scenario = file_stem_part(&w.scenario);
    if default_pair {
        format!("waterfall_{scenario}")
    } else {
        format!("waterfall_{scenario}_cell{}_vs_cell{}", w.from_cell, w.to_cell)
    }
}

/// A money figure with its sign: `+$1.2M`, `−$340k`; `n/a` for a missing figure.
pub fn signed_usd(v: f64) -> String {
    if !v.is_finite() {
        "n/a".to_string()
    } else if v >= 0.0 {
        format!("+{}", format::usd(v))
    } else {
        format!("−{}", format::usd(-v))
    }
}

/// What `hashcycle waterfall` was asked for: a scenario and two cells (defaults: the sweep's first scenario,
/// its reference, and `default_alternative`).
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub scenario: Option<String>,
    pub from_cell: Option<u32>,
    pub to_cell: Option<u32>,
}

/// Why a waterfall cannot be drawn.
#[derive(Debug)]
pub enum WaterfallError {
    /// The request names what the sweep does not hold (exit status 1).
    Input(String),
    /// The sweep's files could not be read or the chart written (exit status 2).
    Output(OutputError),
}

impl From<OutputError> for WaterfallError {
    fn from(e: OutputError) -> WaterfallError {
        WaterfallError::Output(e)
    }
}

/// Why `dir` is not a sweep's output directory (it has no `sweep.json`), saying what it is instead; `None` for
/// a sweep's. A sweep directory that lacks one of its tables is a damaged sweep, which reading it reports.
fn not_a_sweep_dir(dir: &std::path::Path) -> Option<String> {
    if dir.join("sweep.json").is_file() {
        return None;
    }
    let shown = dir.display();
    let what = if !dir.exists() {
        format!("{shown} does not exist")
    } else if !dir.is_dir() {
        format!("{shown} is not a directory")
    } else if dir.join("run.json").is_file() {
        format!("{shown} is a run's output directory, not a sweep's")
    } else if dir.join(crate::output::dir::SHARDS_DIR).is_dir() {
        return Some(format!(
            "{shown} holds the shards of a sweep that has not been merged: run `hashcycle merge {shown}` first"
        ));
    } else {
        format!("{shown} is not a sweep's output directory (it has no sweep.json)")
    };
    Some(format!(
        "{what}: give a sweep's directory, DIR/<sweep name>, as `hashcycle sweep` or `merge` wrote it"
    ))
}

/// Computes the waterfall a request names from the sweep in `dir`, and draws it into `dir/charts/`. Returns
/// the waterfall and the files written.
pub fn waterfall_command(
    dir: &std::path::Path,
    request: &Request,
) -> Result<(Waterfall, Vec<std::path::PathBuf>), WaterfallError> {
    if let Some(problem) = not_a_sweep_dir(dir) {
        return Err(WaterfallError::Input(problem));
    }
    let mut data = SweepData::load(dir)?;
    let scenario = match &request.scenario {
        Some(s) if data.scenarios.contains(s) => s.clone(),
        Some(s) => {
            return Err(WaterfallError::Input(format!(
                "the sweep has no scenario `{s}`; its scenarios are {}",
                data.scenarios.join(", ")
            )));
        }
        None => data
            .scenarios
            .first()
            .cloned()
            .ok_or_else(|| WaterfallError::Input("the sweep has no cells".to_string()))?,
    };
    let cells: Vec<&Cell> = data.cells_of(&scenario).collect();
    let n_cells = cells.len();
    let find = |idx: u32| -> Result<&Cell, WaterfallError> {
        cells.iter().copied().find(|c| c.cell == idx).ok_or_else(|| {
            WaterfallError::Input(format!(
                "scenario {scenario} has no cell {idx}; its cells are 0 to {} (column `cell` of sweep.parquet)",
                n_cells.saturating_sub(1)
            ))
        })
    };
    let from = match request.from_cell {
        Some(idx) => find(idx)?,
        None => data.reference(&scenario).ok_or_else(|| {
            WaterfallError::Input(format!(
                "scenario {scenario} has no reference cell: name one with --from"
            ))
        })?,
    };
    let to = match request.to_cell {
        Some(idx) => find(idx)?,
        None => default_alternative(&data, &scenario, from).ok_or_else(|| {
            WaterfallError::Input(format!(
                "scenario {scenario} has no other cell to compare with: name one with --to"
            ))
        })?,
    };
    if from.cell == to.cell {
        return Err(WaterfallError::Input(format!(
            "--from and --to are the same cell ({}): a waterfall compares two strategies",
            from.cell
        )));
    }
    let pair = [(scenario.clone(), from.cell), (scenario.clone(), to.cell)];
    data.read_flows_of(dir, &pair)?;
    if !data.flows_recorded {
        return Err(WaterfallError::Input(
            "this sweep's paths.parquet has no cash tallies (written by an older hashcycle): run the sweep again"
                .to_string(),
        ));
    }
    let cell = |(scenario, idx): &(String, u32)| data.cells_of(scenario).find(|c| c.cell == *idx);
    let (Some(from), Some(to)) = (cell(&pair[0]), cell(&pair[1])) else {
        return Err(WaterfallError::Input(format!("scenario {scenario} lost its cells")));
    };
    let w = between(&data, from, to).ok_or_else(|| {
        WaterfallError::Input(format!(
            "no path completed in both cell {} and cell {}: there is nothing to compare",
            from.cell, to.cell
        ))
    })?;
    let is_default = request.from_cell.is_none() && request.to_cell.is_none();
    let written = crate::output::charts::render(dir, &[chart(&data, &w, is_default)])?;
    Ok((w, written))
}

/// The waterfall as a plain-text table for the terminal.
pub fn text_table(w: &Waterfall) -> String {
    let width = PARTS
        .iter()
        .chain(MEMO.iter())
        .map(|(_, label)| label.chars().count())
        .max()
        .unwrap_or(20)
        .max("Difference in mean ending cash".len());
    let mut out = format!(
        "scenario {}: cell {} ({}) minus cell {} ({}), mean over {} paired paths\n",
        w.scenario, w.to_cell, w.to_strategy, w.from_cell, w.from_strategy, w.n_paths
    );
    out.push_str(&format!(
        "{:<width$}  {:>14}  {:>14}  {:>26}\n",
        "cash flow", "from, mean", "to, mean", "difference ± 2 se"
    ));
    let mut line = |l: &Line, label: &str| {
        let se = if l.difference_se_usd.is_finite() {
            format!(" ± {}", format::usd(2.0 * l.difference_se_usd))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{label:<width$}  {:>14}  {:>14}  {:>26}\n",
            format::usd(l.from_mean_usd),
            format::usd(l.to_mean_usd),
            format!("{}{se}", signed_usd(l.difference_usd)),
        ));
    };
    for l in &w.parts {
        line(l, l.label);
    }
    line(&w.total, "Difference in mean ending cash");
    for l in &w.memo {
        line(l, &format!("(memo) {}", l.label));
    }
    out.push_str(&format!(
        "median ending cash: {} (to) vs {} (from)\n",
        format::usd(w.to_end_cash_p50_usd),
        format::usd(w.from_end_cash_p50_usd)
    ));
    out
}

/// The waterfall chart.
pub struct WaterfallChart {
    page: Page,
    waterfall: Waterfall,
}

/// The chart of a waterfall.
pub fn chart(data: &SweepData, w: &Waterfall, default_pair: bool) -> AnyChart {
    let title = format!("Why the strategies' cash differs: scenario {}", w.scenario);
    let from = if w.from_is_reference {
        format!("the reference ({})", w.from_strategy)
    } else {
        w.from_strategy.clone()
    };
    let subtitle = format!(
        "{}: {} minus {from}, mean of {} paired paths, ± 2 paired s.e. · median ending cash {} vs {}",
        data.info.focus_manufacturer,
        w.to_strategy,
        format::grouped(w.n_paths as f64, 0),
        format::usd(w.to_end_cash_p50_usd),
        format::usd(w.from_end_cash_p50_usd),
    );
    let legend = vec![
        LegendItem::new(Swatch::Block(NAVY), "Adds cash"),
        LegendItem::new(Swatch::Block(BRICK), "Takes cash"),
        LegendItem::new(Swatch::Block(AMBER), "Difference in mean ending cash"),
    ];
    AnyChart::new(
        ChartEntry {
            stem: stem(w, default_pair),
            section: format!("Scenario {}", w.scenario),
            title: title.clone(),
        },
        WaterfallChart {
            page: Page {
                title,
                subtitle,
                legend,
                source: data.info.source_line(),
            },
            waterfall: w.clone(),
        },
    )
}

/// The lines the chart draws: parts with a difference (or the starting cash when it differs), then the total.
fn drawn_lines(w: &Waterfall) -> Vec<&Line> {
    let scale = w
        .parts
        .iter()
        .map(|l| l.difference_usd.abs())
        .fold(w.total.difference_usd.abs(), f64::max);
    w.parts
        .iter()
        .filter(|l| l.difference_usd.abs() > 1e-9 * scale.max(1.0))
        .collect()
}

/// Width of the left column holding the parts' names.
const LABELS_PX: i32 = 560;

impl Chart for WaterfallChart {
    fn title(&self) -> String {
        self.page.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = self.page.draw(root)?;
        let w = &self.waterfall;
        let lines = drawn_lines(w);
        let n_rows = lines.len() + 1;
        // Running sums: each bar spans from the sum before it to the sum after it.
        let mut spans = Vec::with_capacity(n_rows);
        let mut running = 0.0;
        for l in &lines {
            spans.push((running, running + l.difference_usd));
            running += l.difference_usd;
        }
        spans.push((0.0, w.total.difference_usd));
        let lo = spans.iter().map(|s| s.0.min(s.1)).fold(0.0, f64::min);
        let hi = spans.iter().map(|s| s.0.max(s.1)).fold(0.0, f64::max);
        let pad = (hi - lo).max(1.0) * 0.16;
        let x = Axis::linear(
            lo - pad * 0.3,
            hi + pad,
            ValueFormat::Usd,
            if w.from_is_reference {
                "Difference in USD (alternative minus reference)".to_string()
            } else {
                format!("Difference in USD (cell {} minus cell {})", w.to_cell, w.from_cell)
            },
        );
        let body = area.margin(0, 0, LABELS_PX, 0);
        let mut plot = axes::rows_plot(&body, &x, n_rows)?;
        // Rows from the top: row r sits at y = n_rows - 1 - r.
        let row_y = |r: usize| (n_rows - 1 - r) as f64;
        let half = 0.32;
        let (left, _, _, _) = axes::data_rect(&plot);
        let label_style = style::text(style::LEGEND_PX, INK).pos(Pos::new(HPos::Right, VPos::Center));
        let total_style = style::bold(style::LEGEND_PX, INK).pos(Pos::new(HPos::Right, VPos::Center));
        let value_style = style::text(style::NOTE_PX, INK_SOFT).pos(Pos::new(HPos::Left, VPos::Center));
        for (r, &(a, b)) in spans.iter().enumerate() {
            let yc = row_y(r);
            let is_total = r == n_rows - 1;
            let (line, fill) = if is_total {
                (&w.total, AMBER)
            } else if b >= a {
                (lines[r], NAVY)
            } else {
                (lines[r], BRICK)
            };
            plot.draw_series(std::iter::once(Rectangle::new(
                [(a.min(b), yc - half), (a.max(b), yc + half)],
                style::fill(fill),
            )))
            .map_err(msg)?;
            plot.draw_series(std::iter::once(Rectangle::new(
                [(a.min(b), yc - half), (a.max(b), yc + half)],
                style::stroke(INK, 1),
            )))
            .map_err(msg)?;
            // A connector from this bar's end to the next bar's start.
            if r + 2 < n_rows {
                plot.draw_series(std::iter::once(PathElement::new(
                    vec![(b, yc - half), (b, yc - 1.0 + half)],
                    style::stroke(GRID, 2),
                )))
                .map_err(msg)?;
            }
            let (_, py) = plot.backend_coord(&(0.0, yc));
            let label = if is_total {
                "Difference in mean ending cash"
            } else {
                line.label
            };
            root.draw(&Text::new(
                label.to_string(),
                (left - 16, py),
                if is_total {
                    total_style.clone()
                } else {
                    label_style.clone()
                },
            ))
            .map_err(msg)?;
            let (px, _) = plot.backend_coord(&(a.max(b), yc));
            let se = if line.difference_se_usd.is_finite() {
                format!(" ± {}", format::usd(2.0 * line.difference_se_usd))
            } else {
                String::new()
            };
            root.draw(&Text::new(
                format!("{}{se}", signed_usd(line.difference_usd)),
                (px + 10, py),
                value_style.clone(),
            ))
            .map_err(msg)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flows of a path whose ending cash is its starting cash plus the flows, with made-up magnitudes.
    fn flows(seed: u64) -> PathFlows {
        let mut state = seed;
        let mut next = || {
            state = hashcycle_model::rng::mix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 1e8
        };
        let mut f = [0.0; FLOW_COLUMNS.len()];
        for v in f.iter_mut().skip(1) {
            *v = next();
        }
        let received = f[3];
        // Applied, forfeited and refunded come out of what was received (and the advances held at the start).
        f[4] = received * 0.5;
        f[5] = received * 0.2;
        f[6] = received * 0.1;
        // Sales, prepayments, self-mining, scrap and the other lines' revenue in; refunds, the foundry,
        // assembly, penalties, opex, interest, self-mining power and the other lines' costs out.
        let cash_in = f[2] + f[3] + f[13] + f[15] + f[19];
        let cash_out = f[6] + f[7] + f[8] + f[9] + f[10] + f[11] + f[12] + f[14] + f[20];
        f[0] = f[1] + cash_in - cash_out;
        f
    }

    #[test]
    fn signed_money_reads_n_a_when_missing() {
        assert_eq!(signed_usd(1.2e6), "+$1.2M");
        assert_eq!(signed_usd(-3.4e5), "−$340K");
        assert_eq!(signed_usd(f64::NAN), "n/a");
    }

    #[test]
    fn the_parts_of_a_path_sum_to_its_ending_cash() {
        for seed in 1..200 {
            let f = flows(seed);
            let sum: f64 = parts_of(&f).iter().sum();
            assert!((sum - f[0]).abs() <= 1e-6 * f[0].abs().max(1.0), "{sum} vs {}", f[0]);
        }
    }

    #[test]
    fn the_waterfall_parts_sum_to_the_difference_in_mean_ending_cash() {
        let a: Vec<PathRecord> = (0..300).map(|p| (p, p % 37 == 5, flows(u64::from(p) + 1))).collect();
        let b: Vec<PathRecord> = (0..300)
            .map(|p| (p, p % 41 == 7, flows(u64::from(p) + 10_001)))
            .collect();
        let w = waterfall(
            "base",
            &Side {
                cell: 0,
                is_reference: true,
                strategy: "a",
                flows: &a,
            },
            &Side {
                cell: 1,
                is_reference: false,
                strategy: "b",
                flows: &b,
            },
        )
        .unwrap();
        // Paths failed in either cell are left out of both.
        assert_eq!(w.n_paths, 300 - 9 - 8 + 1);
        let sum: f64 = w.parts.iter().map(|l| l.difference_usd).sum();
        assert!(
            (sum - w.total.difference_usd).abs() <= 1e-6,
            "parts {sum} vs total {}",
            w.total.difference_usd
        );
        let means: f64 = w.parts.iter().map(|l| l.to_mean_usd).sum();
        assert!((means - w.total.to_mean_usd).abs() <= 1e-6);
        for l in w.parts.iter().chain(std::iter::once(&w.total)) {
            assert!((l.to_mean_usd - l.from_mean_usd - l.difference_usd).abs() <= 1e-6);
            assert!(l.difference_se_usd > 0.0);
        }
    }

    #[test]
    fn the_paired_standard_error_is_a_hand_computation_on_a_small_case() {
        let a = [flows(1), flows(2), flows(3)];
        let mut b = a;
        // Only opex differs: by 10, 20 and 60, so the ending cash falls by as much.
        for (k, d) in [10.0, 20.0, 60.0].into_iter().enumerate() {
            b[k][11] += d;
            b[k][0] -= d;
        }
        let side = |flows: &[PathFlows]| {
            flows
                .iter()
                .enumerate()
                .map(|(p, f)| (p as u32, false, *f))
                .collect::<Vec<_>>()
        };
        let (fa, fb) = (side(&a), side(&b));
        let w = waterfall(
            "s",
            &Side {
                cell: 0,
                is_reference: true,
                strategy: "a",
                flows: &fa,
            },
            &Side {
                cell: 1,
                is_reference: false,
                strategy: "b",
                flows: &fb,
            },
        )
        .unwrap();
        let opex = w.parts.iter().find(|l| l.key == "opex").unwrap();
        // Differences −10, −20, −60: mean −30, sample variance ((20² + 10² + 30²)/2) = 700, se = √(700/3).
        assert!((opex.difference_usd + 30.0).abs() < 1e-9);
        assert!((opex.difference_se_usd - (700.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!((w.total.difference_usd + 30.0).abs() < 1e-6);
        for l in w.parts.iter().filter(|l| l.key != "opex") {
            assert!(l.difference_usd.abs() < 1e-6, "{} moved", l.key);
        }
    }
}
