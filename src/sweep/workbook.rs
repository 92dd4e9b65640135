//! A sweep's `report.xlsx`, from the same figures as its `report.html`:
//! - **Summary**: the sweep, its scenarios with their descriptions and assumptions, each scenario's reference,
//!   safest and riskiest cells, and the robust choices across scenarios;
//! - **Cells**: every cell of `sweep.parquet`: its swept values, metrics, Wilson interval, CVaR and whether it is
//!   tied with the reference;
//! - **Paired**: each cell less the reference cell on the same paths, with the standard errors;
//! - **Heatmap risk** and **Heatmap cash**: per scenario, P(cash < 0) and median ending cash over the two strategy
//!   axes, coloured by a three-colour scale that is the same for every scenario;
//! - **Frontier**: each cell's risk and return, the efficient cells and the references, and a native scatter
//!   chart of them, one series per scenario.
//!
//! Every table holds one row per cell at most, and is cut to Excel's row limit keeping the references and the
//! efficient cells (`crate::output::workbook::rows_that_fit`); `sweep.parquet` always holds every cell.

use std::path::{Path, PathBuf};

use polars::prelude::DataType;
use rust_xlsxwriter::{
    Chart, ChartAxisLabelPosition, ChartFormat, ChartLegendPosition, ChartLine, ChartMarker, ChartMarkerType,
    ChartSolidFill, ChartType, Color, ConditionalFormat3ColorScale, ConditionalFormatType, Format, FormatBorder,
};

use crate::output::OutputError;
use crate::output::charts::data::Table;
use crate::output::charts::format;
use crate::output::workbook::{
    Book, Cells, Column, Kind, MAX_COLS, MAX_ROWS, Placed, left_out_note, rows_that_fit, xlsx_error,
};
use crate::sweep::data::{Cell, SweepData, value_key as key};
use crate::sweep::frontier::efficient_set;
use crate::sweep::robust::{Choices, robust_choices};

/// Sheet names, as the README lists them.
pub const SUMMARY: &str = "Summary";
pub const CELLS: &str = "Cells";
pub const PAIRED: &str = "Paired";
pub const HEATMAP_RISK: &str = "Heatmap risk";
pub const HEATMAP_CASH: &str = "Heatmap cash";
pub const FRONTIER: &str = "Frontier";
pub const WATERFALL: &str = "Waterfall";

/// The paired comparisons of `sweep.parquet`: the figure, its label and its unit.
const PAIRED_FIGURES: [(&str, &str, Kind); 4] = [
    ("p_cash_below_zero", "P(cash < 0)", Kind::Share),
    ("min_cash_usd_p50", "Lowest cash, median (USD)", Kind::Usd),
    ("min_cash_usd_cvar5", "Lowest cash, CVaR-5% (USD)", Kind::Usd),
    ("end_cash_usd_p50", "Ending cash, median (USD)", Kind::Usd),
];

/// Rows a table may take: the sheet's less its label and name rows and the notes under it.
const TABLE_ROWS: usize = MAX_ROWS - 2 - 4;

/// Writes `dir/report.xlsx` for a sweep from its figures (`SweepData::load(dir)`) and `dir/sweep.parquet`,
/// which also holds the paired comparisons and the CVaR.
pub fn write_sweep_workbook(dir: &Path, data: &SweepData) -> Result<PathBuf, OutputError> {
    let table = Table::read(dir, "sweep.parquet")?;
    if table.height() != data.cells.len() {
        return Err(OutputError::Missing {
            path: table.path.clone(),
            message: format!(
                "holds {} cells where the sweep's figures have {}: redraw with `hashcycle plot`",
                table.height(),
                data.cells.len()
            ),
        });
    }
    let info = &data.info;
    let mut book = Book::new(
        dir,
        &format!("hashcycle sweep report: {}", info.sweep_name),
        &info.source_line(),
    )?;
    let (summary_idx, _) = book.add_sheet(SUMMARY)?;
    let (cells_idx, _) = book.add_sheet(CELLS)?;
    let (paired_idx, _) = book.add_sheet(PAIRED)?;
    let (risk_idx, _) = book.add_sheet(HEATMAP_RISK)?;
    let (cash_idx, _) = book.add_sheet(HEATMAP_CASH)?;
    let (frontier_idx, frontier_name) = book.add_sheet(FRONTIER)?;
    let (waterfall_idx, _) = book.add_sheet(WATERFALL)?;

    // Rows in scenario order, then cell order; the references and efficient cells are kept first if Excel's row
    // limit cuts the tables.
    let order = ordered_cells(data);
    let efficient = efficient_cells(data);
    let shown: Vec<usize> = rows_that_fit(order.len(), TABLE_ROWS, |i| {
        data.cells[order[i]].is_reference || efficient[order[i]]
    })
    .into_iter()
    .map(|i| order[i])
    .collect();

    summary(&mut Cells::of(&mut book, summary_idx)?, data)?;
    cells_sheet(&mut Cells::of(&mut book, cells_idx)?, data, &table, &shown)?;
    paired_sheet(&mut Cells::of(&mut book, paired_idx)?, data, &table, &shown)?;
    heatmap_sheet(&mut Cells::of(&mut book, risk_idx)?, data, Metric::Risk)?;
    heatmap_sheet(&mut Cells::of(&mut book, cash_idx)?, data, Metric::Cash)?;
    frontier_sheet(
        &mut Cells::of(&mut book, frontier_idx)?,
        &frontier_name,
        data,
        &shown,
        &efficient,
    )?;
    waterfall_sheet(&mut Cells::of(&mut book, waterfall_idx)?, data)?;
    book.save()
}

/// The Waterfall sheet: each scenario's cash waterfall (`crate::sweep::waterfall`), one row per line.
fn waterfall_sheet(cells: &mut Cells, data: &SweepData) -> Result<(), OutputError> {
    let waterfalls = crate::sweep::waterfall::default_waterfalls(data);
    if waterfalls.is_empty() {
        cells.note(
            0,
            0,
            "No waterfall: the sweep has no reference with another cell beside it, or its paths.parquet holds no cash \
             tallies (written by an older hashcycle).",
        )?;
        return Ok(());
    }
    // (scenario, from, to, role, line): the parts, the total, then the memo lines.
    let mut rows: Vec<(
        &crate::sweep::waterfall::Waterfall,
        &str,
        &crate::sweep::waterfall::Line,
    )> = vec![];
    for w in &waterfalls {
        rows.extend(w.parts.iter().map(|l| (w, "part", l)));
        rows.push((w, "total", &w.total));
        rows.extend(w.memo.iter().map(|l| (w, "memo", l)));
    }
    let texts = |f: &dyn Fn(
        &(
            &crate::sweep::waterfall::Waterfall,
            &str,
            &crate::sweep::waterfall::Line,
        ),
    ) -> String| { rows.iter().map(f).collect::<Vec<String>>() };
    let numbers = |f: &dyn Fn(&crate::sweep::waterfall::Line) -> f64| rows.iter().map(|r| f(r.2)).collect::<Vec<f64>>();
    let columns = vec![
        Column::texts("Scenario", "scenario", texts(&|r| r.0.scenario.clone())),
        Column::texts(
            "Reference (from)",
            "from_strategy",
            texts(&|r| r.0.from_strategy.clone()),
        ),
        Column::texts("Alternative (to)", "to_strategy", texts(&|r| r.0.to_strategy.clone())),
        Column::texts(
            "Line: part of the split, its total, or a memo",
            "role",
            texts(&|r| r.1.to_string()),
        ),
        Column::texts("Cash flow", "line", texts(&|r| r.2.label.to_string())),
        Column::numbers(
            "Reference, mean (USD)",
            "from_mean_usd",
            Kind::Usd,
            numbers(&|l| l.from_mean_usd),
        ),
        Column::numbers(
            "Alternative, mean (USD)",
            "to_mean_usd",
            Kind::Usd,
            numbers(&|l| l.to_mean_usd),
        ),
        Column::numbers(
            "Difference (USD)",
            "difference_usd",
            Kind::Usd,
            numbers(&|l| l.difference_usd),
        ),
        Column::numbers(
            "Difference: standard error (USD)",
            "difference_se_usd",
            Kind::Usd,
            numbers(&|l| l.difference_se_usd),
        ),
    ];
    cells.tall_label_row(0)?;
    let placed = cells.table(0, 0, &columns, None)?;
    cells.note(
        placed.last_row + 3,
        0,
        "Each scenario's reference against its safest efficient strategy, path by path on the same paths. The parts \
         sum to the difference in mean ending cash (the total); memo lines are accounting, not cash.",
    )?;
    cells.freeze(2, 0)?;
    cells.widths(0, &[12.0, 30.0, 30.0, 10.0, 44.0, 16.0, 16.0, 16.0, 16.0])
}

/// Indices of `data.cells` in scenario order, then table order.
fn ordered_cells(data: &SweepData) -> Vec<usize> {
    let mut order = vec![];
    for scenario in &data.scenarios {
        order.extend((0..data.cells.len()).filter(|&i| data.cells[i].scenario == *scenario));
    }
    order
}

/// Whether each cell is on its scenario's risk-return frontier (P(cash < 0) against median ending cash).
fn efficient_cells(data: &SweepData) -> Vec<bool> {
    let mut efficient = vec![false; data.cells.len()];
    for scenario in &data.scenarios {
        let idx: Vec<usize> = (0..data.cells.len())
            .filter(|&i| data.cells[i].scenario == *scenario)
            .collect();
        let points: Vec<(f64, f64)> = idx
            .iter()
            .map(|&i| (data.cells[i].p_cash_below_zero, data.cells[i].end_cash_usd.p50))
            .collect();
        for k in efficient_set(&points) {
            efficient[idx[k]] = true;
        }
    }
    efficient
}

fn summary(cells: &mut Cells, data: &SweepData) -> Result<(), OutputError> {
    let info = &data.info;
    let title = cells.styles.title.clone();
    cells.text(0, 0, &format!("hashcycle sweep report: {}", info.sweep_name), &title)?;
    let plain = cells.styles.text.clone();
    cells.text(
        1,
        0,
        &format!(
            "How the strategy of {} fares across {} scenario(s): {} strategy cells per scenario, each run on the same \
             {} paths (common random numbers, so cells differ only by strategy).",
            info.focus_manufacturer,
            data.scenarios.len(),
            data.cells.len() / data.scenarios.len().max(1),
            format::grouped(info.n_paths as f64, 0)
        ),
        &plain,
    )?;
    let scenarios: Vec<String> = info
        .scenarios
        .iter()
        .map(|(name, file)| format!("{name} ({file})"))
        .collect();
    let mut row = cells.pairs(
        3,
        &[
            ("Scenarios", scenarios.join(", ")),
            ("Swept parameters", data.parameters.join(", ")),
            ("Focus manufacturer", info.focus_manufacturer.clone()),
            ("Paths per cell", format::grouped(info.n_paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
        ],
    )?;

    row += 1;
    cells.heading(row, "Key figures")?;
    let reference_note = data.reference_note();
    // When every cell of a scenario shares one P(cash < 0), none is named the safest or the riskiest.
    let ties: String = data
        .scenarios
        .iter()
        .filter_map(|s| {
            data.risk_tie(s).map(|risk| {
                format!(
                    " In scenario {s} all {} strategies tie at {}.",
                    data.cells_of(s).count(),
                    format::pct(risk)
                )
            })
        })
        .collect();
    cells.note(
        row + 1,
        0,
        &format!(
            "For each scenario: {reference_note}the cells with the lowest (safest) and highest (riskiest) probability \
             that cash falls below zero.{ties}"
        ),
    )?;
    let mut picked: Vec<(&str, &Cell)> = vec![];
    for scenario in &data.scenarios {
        let tie = data.risk_tie(scenario).is_some();
        for (role, cell) in [
            ("reference", data.reference(scenario)),
            ("safest", data.best(scenario).filter(|_| !tie)),
            ("riskiest", data.worst(scenario).filter(|_| !tie)),
        ] {
            if let Some(cell) = cell {
                picked.push((role, cell));
            }
        }
    }
    let f = |get: fn(&Cell) -> f64| picked.iter().map(|(_, c)| get(c)).collect::<Vec<f64>>();
    let columns = vec![
        Column::texts(
            "Scenario",
            "scenario",
            picked.iter().map(|(_, c)| c.scenario.clone()).collect(),
        ),
        Column::texts("Role", "role", picked.iter().map(|(r, _)| r.to_string()).collect()),
        Column::numbers("Cell", "cell", Kind::Count, f(|c| c.cell as f64)),
        Column::texts(
            "Strategy",
            "strategy",
            picked.iter().map(|(_, c)| data.describe(c)).collect(),
        ),
        Column::numbers(
            "P(cash < 0)",
            "p_cash_below_zero",
            Kind::Share,
            f(|c| c.p_cash_below_zero),
        ),
        Column::numbers(
            "P(cash < 0), 95% low",
            "p_cash_below_zero_lo95",
            Kind::Share,
            f(|c| c.p_cash_below_zero_lo95),
        ),
        Column::numbers(
            "P(cash < 0), 95% high",
            "p_cash_below_zero_hi95",
            Kind::Share,
            f(|c| c.p_cash_below_zero_hi95),
        ),
        Column::numbers("P(distress)", "p_distress", Kind::Share, f(|c| c.p_distress)),
        Column::numbers(
            "Ending cash p5 (USD)",
            "end_cash_usd_p5",
            Kind::Usd,
            f(|c| c.end_cash_usd.p5),
        ),
        Column::numbers(
            "Ending cash median (USD)",
            "end_cash_usd_p50",
            Kind::Usd,
            f(|c| c.end_cash_usd.p50),
        ),
        Column::numbers(
            "Lowest cash, median (USD)",
            "min_cash_usd_p50",
            Kind::Usd,
            f(|c| c.min_cash_usd.p50),
        ),
        Column::numbers(
            "Revenue, median (USD)",
            "revenue_usd_p50",
            Kind::Usd,
            f(|c| c.revenue_usd.p50),
        ),
        Column::numbers(
            "Gross margin, median (USD)",
            "gross_margin_usd_p50",
            Kind::Usd,
            f(|c| c.gross_margin_usd.p50),
        ),
        Column::numbers(
            "Walk-away rate, mean",
            "walk_away_rate_mean",
            Kind::Share,
            f(|c| c.walk_away_rate_mean),
        ),
        Column::numbers(
            "Market share, mean",
            "market_share_mean",
            Kind::Share,
            f(|c| c.market_share_mean),
        ),
    ];
    cells.tall_label_row(row + 2)?;
    row = cells.table(row + 2, 0, &columns, None)?.last_row + 2;
    cells.wrap_labels = false;

    row = robust(cells, row, data)?;

    for (k, (name, file)) in info.scenarios.iter().enumerate() {
        cells.heading(row, &format!("Scenario {name} ({file})"))?;
        row += 1;
        if let Some(description) = info.descriptions.get(k).filter(|d| !d.is_empty()) {
            cells.text(row, 0, description, &plain)?;
            row += 1;
        }
        let assumptions = info.assumptions.get(k).map(Vec::as_slice).unwrap_or_default();
        if !assumptions.is_empty() {
            let columns = [
                Column::texts(
                    "Assumption",
                    "topic",
                    assumptions.iter().map(|a| a.topic.clone()).collect(),
                ),
                Column::texts(
                    "In this scenario (swept values: the first cell's)",
                    "value",
                    assumptions.iter().map(|a| a.value.clone()).collect(),
                ),
            ];
            row = cells.table(row, 0, &columns, None)?.last_row + 1;
        }
        row += 1;
    }

    cells.heading(row, "Sheets")?;
    row = cells.pairs(
        row + 1,
        &[
            (
                SUMMARY,
                "this page: the sweep, its scenarios and the key figures".to_string(),
            ),
            (
                CELLS,
                "every cell: swept values, P(cash < 0) with its 95% Wilson interval, P(distress), quantiles of lowest \
                 and ending cash, revenue and gross margin, CVaR-5% of lowest cash, tied with the reference"
                    .to_string(),
            ),
            (
                PAIRED,
                "every cell less its scenario's reference cell on the same paths, with standard errors".to_string(),
            ),
            (
                HEATMAP_RISK,
                "P(cash < 0) over the two strategy axes, per scenario, one colour scale for all".to_string(),
            ),
            (
                HEATMAP_CASH,
                "median ending cash over the two strategy axes, per scenario, one colour scale for all".to_string(),
            ),
            (
                FRONTIER,
                "risk against return of every cell, the efficient cells and the references, and their chart"
                    .to_string(),
            ),
        ],
    )?;
    cells.note(row + 1, 0, &info.source_line())?;
    cells.widths(0, &[24.0, 15.0, 8.0, 34.0])?;
    cells.widths(4, &[14.0; 11])?;
    Ok(())
}

/// "Robust choices across scenarios", when there are two scenarios or more; returns the next free row.
fn robust(cells: &mut Cells, mut row: u32, data: &SweepData) -> Result<u32, OutputError> {
    if data.scenarios.len() < 2 {
        return Ok(row);
    }
    let rows = |f: fn(&Cell) -> f64| -> Vec<(String, String, f64, bool)> {
        data.cells
            .iter()
            .map(|c| (c.scenario.clone(), c.strategy.clone(), f(c), c.is_reference))
            .collect()
    };
    let measures: [(&str, Option<Choices>, Kind); 2] = [
        (
            "P(cash < 0)",
            robust_choices(&rows(|c| c.p_cash_below_zero), true),
            Kind::Share,
        ),
        (
            "Median ending cash (USD)",
            robust_choices(&rows(|c| c.end_cash_usd.p50), false),
            Kind::Usd,
        ),
    ];
    if measures.iter().all(|m| m.1.is_none()) {
        return Ok(row);
    }
    cells.heading(row, "Robust choices across scenarios")?;
    cells.note(
        row + 1,
        0,
        "Best worst case: the strategy whose worst scenario is best. Least regret: the strategy never far from the \
         best strategy of each scenario; its regret is its largest shortfall from that best.",
    )?;
    row += 2;
    let label = cells.styles.label.clone();
    // In the key figures' columns: the strategy under theirs (the wide column D), the figures right of it.
    for (col, head) in [
        (0, "Measure"),
        (1, "Choice"),
        (2, ""),
        (3, "Strategy"),
        (4, "Worst case"),
        (5, "In scenario"),
        (6, "Largest regret"),
    ] {
        cells.text(row, col, head, &label)?;
    }
    row += 1;
    let text = cells.styles.text.clone();
    for (measure, choices, kind) in measures {
        let Some((maximin, regret, reference)) = choices else {
            continue;
        };
        let mut picks = vec![("best worst case", maximin), ("least regret", regret)];
        if let Some(r) = reference {
            picks.push(("reference", r));
        }
        for (role, s) in picks {
            cells.text(row, 0, measure, &text)?;
            cells.text(row, 1, role, &text)?;
            cells.text(row, 3, &s.strategy, &text)?;
            cells.number(row, 4, s.worst, kind)?;
            cells.text(row, 5, &s.worst_scenario, &text)?;
            cells.number(row, 6, s.max_regret, kind)?;
            row += 1;
        }
    }
    Ok(row + 1)
}

/// A column of `sweep.parquet` whose nulls are kept (as blanks), or `None` when the table lacks it.
fn table_numbers(table: &Table, name: &str) -> Result<Option<Vec<f64>>, OutputError> {
    if !table.has(name) {
        return Ok(None);
    }
    table.f64s(name).map(Some)
}

/// A boolean column whose nulls stay unknown (`tied_with_reference` is null for a cell with no reference).
fn table_flags(table: &Table, name: &str) -> Result<Option<Vec<Option<bool>>>, OutputError> {
    let Ok(column) = table.df.column(name) else {
        return Ok(None);
    };
    let column = column
        .cast(&DataType::Boolean)
        .map_err(|e| OutputError::polars(&table.path, e))?;
    let values = column.bool().map_err(|e| OutputError::polars(&table.path, e))?;
    Ok(Some(values.iter().collect()))
}

/// The Cells sheet: every column of `sweep.parquet` a reader compares cells by, in the table's order.
fn cells_sheet(cells: &mut Cells, data: &SweepData, table: &Table, shown: &[usize]) -> Result<(), OutputError> {
    let mut columns = key_columns(data);
    for (idx, parameter) in data.parameters.iter().enumerate() {
        let values: Vec<f64> = data.cells.iter().map(|c| c.params[idx]).collect();
        if data.is_text(idx) {
            let shown = values.iter().map(|v| data.show_value(idx, *v)).collect();
            columns.push(Column::texts(data.axis_desc(idx), parameter.clone(), shown));
        } else if data.info.boolean_parameters.contains(parameter) {
            let flags = values.iter().map(|v| v.is_finite().then_some(*v != 0.0)).collect();
            columns.push(Column::flags(data.axis_desc(idx), parameter.clone(), flags));
        } else {
            let kind = if data.is_share(idx) {
                Kind::Share
            } else {
                Kind::Decimal(2)
            };
            columns.push(Column::numbers(data.axis_desc(idx), parameter.clone(), kind, values));
        }
    }
    let mut metrics: Vec<(String, String, Kind)> = vec![
        ("n_paths".into(), "Paths (count)".into(), Kind::Count),
        (
            "n_failed".into(),
            "Paths stopped by a failed check (count)".into(),
            Kind::Count,
        ),
        ("p_cash_below_zero".into(), "P(cash < 0)".into(), Kind::Share),
        (
            "p_cash_below_zero_lo95".into(),
            "P(cash < 0), 95% Wilson low".into(),
            Kind::Share,
        ),
        (
            "p_cash_below_zero_hi95".into(),
            "P(cash < 0), 95% Wilson high".into(),
            Kind::Share,
        ),
        (
            "p_cash_below_zero_se".into(),
            "P(cash < 0), standard error".into(),
            Kind::Share,
        ),
        ("p_distress".into(), "P(distress)".into(), Kind::Share),
        (
            "p_distress_se".into(),
            "P(distress), standard error".into(),
            Kind::Share,
        ),
    ];
    for (stem, what) in [
        ("min_cash_usd", "Lowest cash"),
        ("end_cash_usd", "Ending cash"),
        ("revenue_usd", "Revenue"),
        ("gross_margin_usd", "Gross margin"),
    ] {
        for q in ["p5", "p25", "p50", "p75", "p95"] {
            metrics.push((format!("{stem}_{q}"), format!("{what} {q} (USD)"), Kind::Usd));
        }
        if stem == "min_cash_usd" {
            metrics.push((
                "min_cash_usd_cvar5".into(),
                "Lowest cash, CVaR-5%: mean of the worst 5% of paths (USD)".into(),
                Kind::Usd,
            ));
        }
    }
    metrics.extend([
        ("walk_away_rate_mean".into(), "Walk-away rate, mean".into(), Kind::Share),
        (
            "prepayments_forfeited_usd_mean".into(),
            "Prepayments forfeited, mean (USD)".into(),
            Kind::Usd,
        ),
        (
            "writedowns_usd_mean".into(),
            "Inventory write-downs, mean (USD)".into(),
            Kind::Usd,
        ),
        ("market_share_mean".into(), "Market share, mean".into(), Kind::Share),
    ]);
    for (name, label, kind) in metrics {
        if let Some(values) = table_numbers(table, &name)? {
            columns.push(Column::numbers(label, name, kind, values));
        }
    }
    if let Some(flags) = table_flags(table, "tied_with_reference")? {
        columns.push(Column::flags(
            "Tied with the reference on P(cash < 0)",
            "tied_with_reference",
            flags,
        ));
    }
    cells.tall_label_row(0)?;
    let placed = cells.table(0, 0, &columns, Some(shown))?;
    finish_table(cells, &placed, columns.len(), "cell")
}

/// The columns that name a cell: scenario, cell, strategy label, whether it is the reference.
fn key_columns(data: &SweepData) -> Vec<Column> {
    vec![
        Column::texts(
            "Scenario",
            "scenario",
            data.cells.iter().map(|c| c.scenario.clone()).collect(),
        ),
        Column::numbers(
            "Cell",
            "cell",
            Kind::Count,
            data.cells.iter().map(|c| c.cell as f64).collect(),
        ),
        Column::texts(
            "Strategy",
            "strategy",
            data.cells.iter().map(|c| c.strategy.clone()).collect(),
        ),
        Column::flags(
            "Reference",
            "is_reference",
            data.cells.iter().map(|c| Some(c.is_reference)).collect(),
        ),
    ]
}

/// Freezes the label rows and key columns, sets the widths and says what Excel's limits left out.
fn finish_table(cells: &mut Cells, placed: &Placed, n_columns: usize, what: &str) -> Result<(), OutputError> {
    if let Some(note) = left_out_note(placed, what, "sweep.parquet") {
        cells.note(placed.last_row + 2, 0, &note)?;
    }
    cells.freeze(2, 3)?;
    cells.widths(0, &[14.0, 6.0, 30.0, 10.0])?;
    let rest = vec![14.0; n_columns.saturating_sub(4).min(MAX_COLS - 4)];
    cells.widths(4, &rest)
}

/// The Paired sheet: each paired difference from the reference and its standard error.
fn paired_sheet(cells: &mut Cells, data: &SweepData, table: &Table, shown: &[usize]) -> Result<(), OutputError> {
    let mut columns = key_columns(data);
    if let Some(flags) = table_flags(table, "tied_with_reference")? {
        columns.push(Column::flags(
            "Tied with the reference on P(cash < 0)",
            "tied_with_reference",
            flags,
        ));
    }
    let n_keys = columns.len();
    for (stem, label, kind) in PAIRED_FIGURES {
        let name = format!("{stem}_vs_reference");
        let se = format!("{name}_se");
        if let (Some(values), Some(ses)) = (table_numbers(table, &name)?, table_numbers(table, &se)?) {
            columns.push(Column::numbers(
                format!("{label}: cell less reference"),
                name,
                kind,
                values,
            ));
            columns.push(Column::numbers(format!("{label}: standard error"), se, kind, ses));
        }
    }
    if columns.len() == n_keys {
        cells.note(
            0,
            0,
            "This sweep's table holds no paired comparison with the reference (written by an older hashcycle).",
        )?;
        return Ok(());
    }
    cells.tall_label_row(0)?;
    let placed = cells.table(0, 0, &columns, Some(shown))?;
    cells.note(
        placed.last_row + 3,
        0,
        "Each difference is the cell's figure less its scenario's reference cell's, on the same paths (common random \
         numbers). Tied: P(cash < 0) within two paired standard errors of the reference's.",
    )?;
    finish_table(cells, &placed, columns.len(), "cell")
}

/// What a heatmap sheet shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    Risk,
    Cash,
}

impl Metric {
    fn of(self, cell: &Cell) -> f64 {
        match self {
            Metric::Risk => cell.p_cash_below_zero,
            Metric::Cash => cell.end_cash_usd.p50,
        }
    }
}

/// A heatmap sheet: per scenario, a grid of the metric over the two strategy axes (the other swept parameters at
/// the reference's values), coloured by one three-colour scale spanning every scenario's cells.
fn heatmap_sheet(cells: &mut Cells, data: &SweepData, metric: Metric) -> Result<(), OutputError> {
    let focus = &data.info.focus_manufacturer;
    let (title, kind) = match metric {
        Metric::Risk => (
            format!("{focus}: probability that cash falls below zero, by strategy"),
            Kind::Share,
        ),
        Metric::Cash => (format!("{focus}: median ending cash (USD), by strategy"), Kind::Usd),
    };
    let heading = cells.styles.title.clone();
    cells.text(0, 0, &title, &heading)?;
    let finite: Vec<f64> = data
        .cells
        .iter()
        .map(|c| metric.of(c))
        .filter(|v| v.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        cells.note(1, 0, "No cell has this figure (no path completed).")?;
        return Ok(());
    }
    // Risk is scaled from zero to a round share just above the riskiest cell, as the heatmap charts are, so a
    // safe scenario looks safe next to a risky one and small risks still show shades; cash spans its range.
    let (lo, hi) = match metric {
        Metric::Risk => (
            0.0,
            [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
                .into_iter()
                .find(|top| *top >= hi)
                .unwrap_or(1.0),
        ),
        Metric::Cash => (lo, if hi > lo { hi } else { lo + 1.0 }),
    };
    let (green, yellow, red) = (Color::RGB(0x63BE7B), Color::RGB(0xFFEB84), Color::RGB(0xF8696B));
    let (low_color, high_color) = match metric {
        Metric::Risk => (green, red),
        Metric::Cash => (red, green),
    };
    let scale = ConditionalFormat3ColorScale::new()
        .set_minimum(ConditionalFormatType::Number, lo)
        .set_midpoint(ConditionalFormatType::Number, (lo + hi) / 2.0)
        .set_maximum(ConditionalFormatType::Number, hi)
        .set_minimum_color(low_color)
        .set_midpoint_color(yellow)
        .set_maximum_color(high_color);
    cells.note(
        1,
        0,
        &format!(
            "One colour scale for every scenario: {} at {}, {} at {}. Outlined: the reference cell (the scenario \
             file's own strategy).",
            if metric == Metric::Risk { "green" } else { "red" },
            show(lo, kind),
            if metric == Metric::Risk { "red" } else { "green" },
            show(hi, kind),
        ),
    )?;
    let label = cells.styles.label.clone();
    // Cash reads in millions on the grid (each cell keeps every dollar), so a column stays narrow.
    let base = match metric {
        Metric::Risk => cells.styles.share.clone(),
        Metric::Cash => Format::new().set_num_format("$#,##0,,\"M\""),
    };
    let outlined = base.clone().set_border(FormatBorder::Thick).set_bold();
    let mut row = 3u32;
    let mut widest = 0;
    let mut n_left_out = 0;
    for scenario in &data.scenarios {
        if row as usize + 3 >= MAX_ROWS {
            n_left_out += 1;
            continue;
        }
        let Some(grid) = data.axis_cells(scenario) else {
            continue;
        };
        let (xi, yi) = (data.x_param, data.y_param);
        let y_of = |c: &Cell| yi.map_or(0.0, |i| c.params[i]);
        let mut xs: Vec<i64> = grid.iter().map(|c| key(c.params[xi])).collect();
        let mut ys: Vec<i64> = grid.iter().map(|c| key(y_of(c))).collect();
        xs.sort_unstable();
        xs.dedup();
        ys.sort_unstable();
        ys.dedup();
        cells.heading(row, &format!("Scenario {scenario}"))?;
        let is_grid = xs.len() * ys.len() <= 2 * grid.len();
        let fits = xs.len() < MAX_COLS && (row as usize + ys.len() + 4) < MAX_ROWS;
        if !is_grid || !fits {
            let why = if is_grid {
                "too many values for one sheet"
            } else {
                "the cells do not form a grid of the two axes"
            };
            cells.note(row + 1, 0, &format!("No heatmap: {why}; see the Cells sheet."))?;
            row += 3;
            continue;
        }
        let y_name = yi.map_or("all".to_string(), |i| data.short_name(i).to_string());
        let corner = format!("{y_name} \\ {}", data.short_name(xi));
        cells.text(row + 1, 0, &corner, &label)?;
        for (j, x) in xs.iter().enumerate() {
            cells.text(row + 1, 1 + j as u16, &data.show_value(xi, *x as f64 / 1e9), &label)?;
        }
        let first = row + 2;
        for (i, y) in ys.iter().enumerate() {
            let shown = yi.map_or("all".to_string(), |yi| data.show_value(yi, *y as f64 / 1e9));
            cells.text(first + i as u32, 0, &shown, &label)?;
        }
        for c in &grid {
            let (Ok(j), Ok(i)) = (xs.binary_search(&key(c.params[xi])), ys.binary_search(&key(y_of(c)))) else {
                continue;
            };
            let format: &Format = if c.is_reference { &outlined } else { &base };
            cells.number_with(first + i as u32, 1 + j as u16, metric.of(c), format)?;
        }
        let last = first + ys.len().saturating_sub(1) as u32;
        widest = widest.max(xs.len());
        let r = cells
            .sheet
            .add_conditional_format(first, 1, last, xs.len() as u16, &scale);
        r.map_err(|e| xlsx_error(cells.path, e))?;
        let mut notes = vec![match data.reference(scenario) {
            Some(r) => format!("Reference: {}.", data.describe(r)),
            None => "No cell matches the scenario file's own strategy.".to_string(),
        }];
        if data.parameters.len() > 2 {
            notes.push("Other swept parameters at the reference's values.".to_string());
        }
        cells.note(last + 1, 0, &notes.join(" "))?;
        row = last + 3;
    }
    if n_left_out > 0 {
        cells.note(
            2,
            0,
            &format!("{n_left_out} scenario(s) left out: an Excel sheet holds {MAX_ROWS} rows; see the Cells sheet."),
        )?;
    }
    cells.sheet.set_print_fit_to_pages(1, 0);
    cells.widths(0, &[28.0])?;
    cells.widths(1, &vec![11.0; widest])
}

/// A figure as the report prints it.
fn show(v: f64, kind: Kind) -> String {
    match kind {
        Kind::Share => format::pct(v),
        Kind::Usd => format::usd(v),
        _ => format!("{v}"),
    }
}

/// The first sheet row under the frontier chart.
const CHART_ROWS: u32 = 30;

/// Colours of the scenarios' series, in order (cycled).
const SERIES_COLORS: [u32; 8] = [
    0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F,
];

/// The Frontier sheet: every cell's risk and return (columns A-G); to their right a scatter chart, and under it
/// the efficient cells in order of risk and the references (columns I-N): per scenario its cells as points and
/// its efficient cells
/// joined, the references ringed.
fn frontier_sheet(
    cells: &mut Cells,
    sheet: &str,
    data: &SweepData,
    shown: &[usize],
    efficient: &[bool],
) -> Result<(), OutputError> {
    let risk = |i: usize| data.cells[i].p_cash_below_zero;
    let cash = |i: usize| data.cells[i].end_cash_usd.p50;
    let all_columns = |idx: &[usize]| -> Vec<Column> {
        vec![
            Column::texts(
                "Scenario",
                "scenario",
                idx.iter().map(|&i| data.cells[i].scenario.clone()).collect(),
            ),
            Column::numbers(
                "Cell",
                "cell",
                Kind::Count,
                idx.iter().map(|&i| data.cells[i].cell as f64).collect(),
            ),
            Column::texts(
                "Strategy",
                "strategy",
                idx.iter().map(|&i| data.cells[i].strategy.clone()).collect(),
            ),
            Column::numbers(
                "P(cash < 0)",
                "p_cash_below_zero",
                Kind::Share,
                idx.iter().map(|&i| risk(i)).collect(),
            ),
            Column::numbers(
                "Ending cash median (USD)",
                "end_cash_usd_p50",
                Kind::Usd,
                idx.iter().map(|&i| cash(i)).collect(),
            ),
            Column::flags(
                "Efficient",
                "efficient",
                idx.iter().map(|&i| Some(efficient[i])).collect(),
            ),
            Column::flags(
                "Reference",
                "is_reference",
                idx.iter().map(|&i| Some(data.cells[i].is_reference)).collect(),
            ),
        ]
    };
    cells.tall_label_row(0)?;
    let placed = cells.table(0, 0, &all_columns(shown), None)?;
    if let Some(note) = left_out_note(&placed, "cell", "sweep.parquet") {
        cells.note(placed.last_row + 2, 0, &note)?;
    }

    // The efficient cells of each scenario, in order of risk, so that a line joins them.
    let mut frontier: Vec<usize> = vec![];
    for scenario in &data.scenarios {
        let mut on: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&i| efficient[i] && data.cells[i].scenario == *scenario)
            .collect();
        on.sort_by(|&a, &b| risk(a).total_cmp(&risk(b)).then(a.cmp(&b)));
        frontier.extend(on);
    }
    let series_names: Vec<String> = frontier
        .iter()
        .map(|&i| format!("{}: efficient", data.cells[i].scenario))
        .collect();
    let mut efficient_columns = vec![Column::texts("Series", "series", series_names)];
    efficient_columns.extend(all_columns(&frontier).into_iter().take(5));
    // Under the chart, which takes rows 2 to about 28 of columns I onwards.
    let efficient_placed = cells.table(CHART_ROWS, 8, &efficient_columns, None)?;

    let references: Vec<usize> = shown.iter().copied().filter(|&i| data.cells[i].is_reference).collect();
    let mut reference_columns = vec![Column::texts(
        "Series",
        "series",
        vec!["Reference (the scenario file's strategy)".to_string(); references.len()],
    )];
    reference_columns.extend(all_columns(&references).into_iter().take(5));
    let reference_placed = cells.table(efficient_placed.last_row + 3, 8, &reference_columns, None)?;
    cells.freeze(2, 0)?;
    cells.widths(0, &[14.0, 6.0, 30.0, 12.0, 16.0, 10.0, 10.0, 3.0])?;
    cells.widths(8, &[20.0, 14.0, 6.0, 30.0, 12.0, 16.0])?;

    let mut chart = Chart::new(ChartType::Scatter);
    // Rows of `shown`, `frontier` and `references` on the sheet are contiguous per scenario.
    let span = |rows: &[usize], placed: &Placed, scenario: &str| -> Option<(u32, u32)> {
        let first = rows.iter().position(|&i| data.cells[i].scenario == scenario)?;
        let n = rows.iter().filter(|&&i| data.cells[i].scenario == scenario).count();
        let first = placed.first_row + first as u32;
        (first + n as u32 - 1 <= placed.last_row).then_some((first, first + n as u32 - 1))
    };
    let shown_in_sheet = &shown[..shown.len() - placed.n_rows_left_out];
    for (k, scenario) in data.scenarios.iter().enumerate() {
        let color = Color::RGB(SERIES_COLORS[k % SERIES_COLORS.len()]);
        if let Some((first, last)) = span(shown_in_sheet, &placed, scenario) {
            let mut marker = ChartMarker::new();
            marker
                .set_type(ChartMarkerType::Circle)
                .set_size(6)
                .set_format(ChartSolidFill::new().set_color(color));
            chart
                .add_series()
                .set_name((sheet, first, 0))
                .set_categories((sheet, first, 3, last, 3))
                .set_values((sheet, first, 4, last, 4))
                .set_marker(&marker);
        }
        if let Some((first, last)) = span(&frontier, &efficient_placed, scenario) {
            let mut marker = ChartMarker::new();
            marker.set_none();
            chart
                .add_series()
                .set_name((sheet, first, 8))
                .set_categories((sheet, first, 12, last, 12))
                .set_values((sheet, first, 13, last, 13))
                .set_marker(&marker)
                .set_format(ChartLine::new().set_color(color).set_width(2.0));
        }
    }
    if reference_placed.last_row >= reference_placed.first_row {
        let (first, last) = (reference_placed.first_row, reference_placed.last_row);
        let mut marker = ChartMarker::new();
        marker.set_type(ChartMarkerType::Circle).set_size(13).set_format(
            ChartFormat::new()
                .set_no_fill()
                .set_line(ChartLine::new().set_color(Color::RGB(0x000000)).set_width(1.75)),
        );
        chart
            .add_series()
            .set_name((sheet, first, 8))
            .set_categories((sheet, first, 12, last, 12))
            .set_values((sheet, first, 13, last, 13))
            .set_marker(&marker);
    }
    chart.title().set_name(&format!(
        "Risk and return of every strategy: {}",
        data.info.focus_manufacturer
    ));
    chart
        .x_axis()
        .set_name("P(cash < 0), share of paths")
        .set_num_format("0%")
        .set_min(0.0)
        // Under the plot even when the value axis crosses zero inside it (negative cash).
        .set_label_position(ChartAxisLabelPosition::Low);
    chart
        .y_axis()
        .set_name("Median ending cash (USD millions)")
        .set_num_format("#,##0,,");
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(900).set_height(520);
    let r = cells.sheet.insert_chart(2, 8, &chart);
    r.map_err(|e| xlsx_error(cells.path, e))?;
    cells.sheet.set_print_fit_to_pages(1, 0);
    Ok(())
}
