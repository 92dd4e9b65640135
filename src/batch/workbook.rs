//! A run's `report.xlsx`, from the same figures as its `report.html`:
//! - **Summary**: the scenario, its description and assumptions, the run's provenance, each manufacturer's
//!   strategy and key figures, and the network's;
//! - **Monthly**: one row per month, the p5/p25/p50/p75/p95 across paths of every fan the run charts draw (BTC
//!   price, network hashrate, hashprice, each manufacturer's cash, dealer inventory) and the per-month medians of
//!   each manufacturer's units;
//! - **Fans**: native Excel line charts of those fans, drawn from the Monthly sheet;
//! - **Events**: the halvings and scripted events the time charts mark.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Chart, ChartLegendPosition, ChartLine, ChartLineDashType, ChartType, Color};

use crate::batch::data::RunData;
use crate::output::OutputError;
use crate::output::charts::axes::MarkerKind;
use crate::output::charts::format;
use crate::output::workbook::{Book, Cells, Column, Kind, Values, left_out_note, xlsx_error};
use crate::stats::Quantiles;

/// Sheet names, as the README lists them.
pub const SUMMARY: &str = "Summary";
pub const MONTHLY: &str = "Monthly";
pub const FANS: &str = "Fans";
pub const EVENTS: &str = "Events";

/// One fan of the Monthly sheet and its chart.
struct Fan<'a> {
    /// What it is, for the column labels and the chart title.
    what: String,
    /// The column-name stem, carrying the unit (`price_usd`).
    name: String,
    /// The unit, for the labels and the chart's value axis.
    unit: &'a str,
    kind: Kind,
    fan: &'a [Quantiles],
    log_scale: bool,
}

/// Writes `dir/report.xlsx` for a run from its figures (`RunData::load(dir)`).
pub fn write_run_workbook(dir: &Path, data: &RunData) -> Result<PathBuf, OutputError> {
    let info = &data.info;
    let mut book = Book::new(
        dir,
        &format!("hashcycle run report: scenario {}", info.scenario_name),
        &info.source_line(),
    )?;
    let (summary_idx, _) = book.add_sheet(SUMMARY)?;
    let (monthly_idx, monthly) = book.add_sheet(MONTHLY)?;
    let (fans_idx, _) = book.add_sheet(FANS)?;
    let (events_idx, _) = book.add_sheet(EVENTS)?;

    summary(&mut Cells::of(&mut book, summary_idx)?, data)?;
    let fans = fans(data);
    let placed = monthly_sheet(&mut Cells::of(&mut book, monthly_idx)?, data, &fans)?;
    fan_charts(&mut Cells::of(&mut book, fans_idx)?, &monthly, &fans, placed)?;
    events(&mut Cells::of(&mut book, events_idx)?, data)?;
    book.save()
}

/// The fans of the run charts, in their order.
fn fans(data: &RunData) -> Vec<Fan<'_>> {
    let mut fans = vec![
        Fan {
            what: "BTC price".to_string(),
            name: "price_usd".to_string(),
            unit: "USD",
            kind: Kind::Usd,
            fan: &data.price_usd,
            log_scale: true,
        },
        Fan {
            what: "Network hashrate".to_string(),
            name: "hashrate_ehs".to_string(),
            unit: "EH/s",
            kind: Kind::Decimal(1),
            fan: &data.hashrate_ehs,
            log_scale: false,
        },
        Fan {
            what: "Hashprice".to_string(),
            name: "hashprice_usd_per_ph_day".to_string(),
            unit: "USD per PH/s per day",
            kind: Kind::Decimal(2),
            fan: &data.hashprice_usd_per_ph_day,
            log_scale: false,
        },
    ];
    for maker in &data.makers {
        fans.push(Fan {
            what: format!("{} cash", maker.name),
            name: format!("{}.cash_usd", maker.name),
            unit: "USD",
            kind: Kind::Usd,
            fan: &maker.cash_usd,
            log_scale: false,
        });
    }
    fans.push(Fan {
        what: "Dealer inventory".to_string(),
        name: "dealer_inventory_units".to_string(),
        unit: "units",
        kind: Kind::Count,
        fan: &data.dealer_inventory_units,
        log_scale: false,
    });
    fans
}

fn summary(cells: &mut Cells, data: &RunData) -> Result<(), OutputError> {
    let info = &data.info;
    let title = cells.styles.title.clone();
    cells.text(
        0,
        0,
        &format!("hashcycle run report: scenario {}", info.scenario_name),
        &title,
    )?;
    let description = if info.description.is_empty() {
        &info.scenario_name
    } else {
        &info.description
    };
    let plain = cells.styles.text.clone();
    cells.text(1, 0, description, &plain)?;
    let horizon_end = data.start.plus_months(data.n_months.saturating_sub(1) as i64);
    let mut row = cells.pairs(
        3,
        &[
            ("Scenario file", info.shown_scenario_file()),
            (
                "Months",
                format!("{} to {} ({} months)", data.start, horizon_end, data.n_months),
            ),
            ("Paths", format::grouped(info.paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
            ("Paths stopped by a failed check", info.n_failed_paths().to_string()),
        ],
    )?;

    row += 1;
    cells.heading(row, "Key figures")?;
    cells.note(
        row + 1,
        0,
        &format!(
            "Across {} paths at the end of the horizon; p5 and p95 are the 5th and 95th percentiles of paths.",
            format::grouped(info.paths as f64, 0)
        ),
    )?;
    let makers = &data.maker_figures;
    let q = |f: fn(&Quantiles) -> f64, get: fn(&crate::batch::data::MakerFigures) -> &Option<Quantiles>| {
        makers
            .iter()
            .map(|m| get(m).as_ref().map_or(f64::NAN, f))
            .collect::<Vec<f64>>()
    };
    let columns = vec![
        Column::texts(
            "Manufacturer",
            "manufacturer",
            makers.iter().map(|m| m.name.clone()).collect(),
        ),
        Column::numbers(
            "P(cash < 0)",
            "p_cash_below_zero",
            Kind::Share,
            makers.iter().map(|m| m.p_cash_below_zero).collect(),
        ),
        Column::numbers(
            "P(distress)",
            "p_distressed",
            Kind::Share,
            makers.iter().map(|m| m.p_distressed).collect(),
        ),
        Column::numbers(
            "Lowest cash, median (USD)",
            "min_cash_usd_p50",
            Kind::Usd,
            q(|q| q.p50, |m| &m.min_cash_usd),
        ),
        Column::numbers(
            "Ending cash p5 (USD)",
            "end_cash_usd_p5",
            Kind::Usd,
            q(|q| q.p5, |m| &m.end_cash_usd),
        ),
        Column::numbers(
            "Ending cash median (USD)",
            "end_cash_usd_p50",
            Kind::Usd,
            q(|q| q.p50, |m| &m.end_cash_usd),
        ),
        Column::numbers(
            "Ending cash p95 (USD)",
            "end_cash_usd_p95",
            Kind::Usd,
            q(|q| q.p95, |m| &m.end_cash_usd),
        ),
        Column::numbers(
            "Revenue, median (USD)",
            "revenue_usd_p50",
            Kind::Usd,
            q(|q| q.p50, |m| &m.revenue_usd),
        ),
        Column::numbers(
            "Gross margin, median (USD)",
            "gross_margin_usd_p50",
            Kind::Usd,
            q(|q| q.p50, |m| &m.gross_margin_usd),
        ),
        Column::numbers(
            "Walk-away rate, mean",
            "walk_away_rate_mean",
            Kind::Share,
            makers.iter().map(|m| m.walk_away_rate_mean).collect(),
        ),
        Column::numbers(
            "Market share, mean",
            "market_share_mean",
            Kind::Share,
            makers.iter().map(|m| m.market_share_mean).collect(),
        ),
    ];
    cells.tall_label_row(row + 2)?;
    let placed = cells.table(row + 2, 0, &columns, None)?;
    cells.wrap_labels = false;
    row = placed.last_row + 2;

    // The network's figures: one row per figure, median then the 90% range.
    let label = cells.styles.label.clone();
    for (j, head) in ["Network at the end of the horizon", "Median", "p5", "p95"]
        .iter()
        .enumerate()
    {
        cells.text(row, j as u16, head, &label)?;
    }
    row += 1;
    let n = &data.network_figures;
    let figures: [(&str, &Option<Quantiles>, Kind); 3] = [
        ("BTC price (USD)", &n.end_price_usd, Kind::Usd),
        ("Network hashrate (EH/s)", &n.end_hashrate_ehs, Kind::Decimal(1)),
        ("Largest hashrate drawdown (share)", &n.max_drawdown_share, Kind::Share),
    ];
    let key = cells.styles.key.clone();
    for (what, q, kind) in figures {
        cells.text(row, 0, what, &key)?;
        if let Some(q) = q {
            cells.number(row, 1, q.p50, kind)?;
            cells.number(row, 2, q.p5, kind)?;
            cells.number(row, 3, q.p95, kind)?;
        }
        row += 1;
    }
    cells.text(row, 0, "Halvings in the horizon (count)", &key)?;
    cells.number(row, 1, n.n_halvings_median, Kind::Count)?;
    row += 2;

    if !info.assumptions.is_empty() {
        cells.heading(row, "Scenario assumptions")?;
        let columns = [
            Column::texts(
                "Assumption",
                "topic",
                info.assumptions.iter().map(|a| a.topic.clone()).collect(),
            ),
            Column::texts(
                "In this scenario",
                "value",
                info.assumptions.iter().map(|a| a.value.clone()).collect(),
            ),
        ];
        row = cells.table(row + 1, 0, &columns, None)?.last_row + 2;
    }

    cells.heading(row, "Manufacturers' strategies")?;
    let columns = [
        Column::texts(
            "Manufacturer",
            "manufacturer",
            data.makers.iter().map(|m| m.name.clone()).collect(),
        ),
        Column::texts(
            "Strategy in the scenario file",
            "strategy",
            data.makers
                .iter()
                .map(|m| m.strategy.as_ref().map_or("not set".to_string(), |s| s.describe()))
                .collect(),
        ),
    ];
    row = cells.table(row + 1, 0, &columns, None)?.last_row + 2;

    cells.heading(row, "Sheets")?;
    row = cells.pairs(
        row + 1,
        &[
            (SUMMARY, "this page: the scenario, the run and the key figures".to_string()),
            (
                MONTHLY,
                "one row per month: p5, p25, median, p75 and p95 across paths of each charted series, and the per-month \
                 medians of each manufacturer's units"
                    .to_string(),
            ),
            (FANS, "charts of the Monthly fans: the median path and the range across paths".to_string()),
            (EVENTS, "the halvings and scripted events marked on the time charts".to_string()),
        ],
    )?;
    cells.note(row + 1, 0, &info.source_line())?;
    cells.widths(0, &[36.0])?;
    cells.widths(1, &[15.0; 10])?;
    Ok(())
}

/// The Monthly sheet: the month, five quantiles of every fan, then each manufacturer's median units.
fn monthly_sheet(
    cells: &mut Cells,
    data: &RunData,
    fans: &[Fan],
) -> Result<crate::output::workbook::Placed, OutputError> {
    let months: Vec<_> = (0..data.n_months).map(|m| data.start.plus_months(m as i64)).collect();
    let mut columns = vec![Column {
        label: "Month".to_string(),
        name: "month".to_string(),
        kind: Kind::Month,
        values: Values::Months(months),
    }];
    for fan in fans {
        for (suffix, pick) in Quantiles::NAMED {
            columns.push(Column::numbers(
                format!("{} {suffix} ({})", fan.what, fan.unit),
                format!("{}_{suffix}", fan.name),
                fan.kind,
                padded(fan.fan.iter().map(pick).collect(), data.n_months),
            ));
        }
    }
    for maker in &data.makers {
        let mut series: Vec<(String, &[f64])> = maker
            .flows_units
            .iter()
            .map(|(label, values)| (label.to_lowercase(), values.as_slice()))
            .collect();
        series.push(("produced".to_string(), &maker.produced_units));
        series.push(("inventory".to_string(), &maker.inventory_units));
        series.push(("backlog".to_string(), &maker.backlog_units));
        for (what, values) in series {
            columns.push(Column::numbers(
                format!("{} {what}, median (units)", maker.name),
                format!("{}.{}_units_p50", maker.name, what.replace([' ', '-'], "_")),
                Kind::Decimal(1),
                padded(values.to_vec(), data.n_months),
            ));
        }
    }
    cells.tall_label_row(0)?;
    let placed = cells.table(0, 0, &columns, None)?;
    if let Some(note) = left_out_note(&placed, "month", "the run's Parquet tables") {
        cells.note(placed.last_row + 2, 0, &note)?;
    }
    cells.freeze(2, 1)?;
    cells.widths(0, &[10.0])?;
    let widths = vec![14.0; columns.len().saturating_sub(1)];
    cells.widths(1, &widths)?;
    Ok(placed)
}

/// `values` cut or padded with NaN (blank cells) to `n` months.
fn padded(mut values: Vec<f64>, n: usize) -> Vec<f64> {
    values.resize(n, f64::NAN);
    values
}

/// One line chart per fan, two across, each drawing the five quantile columns of the Monthly sheet.
fn fan_charts(
    cells: &mut Cells,
    monthly: &str,
    fans: &[Fan],
    placed: crate::output::workbook::Placed,
) -> Result<(), OutputError> {
    cells.note(
        0,
        0,
        "Each chart: the median path (dark), the middle half of paths (p25 to p75) and 90% of paths (p5 to p95, \
         dashed), from the Monthly sheet.",
    )?;
    if placed.last_row < placed.first_row {
        return Ok(());
    }
    let (first, last) = (placed.first_row, placed.last_row);
    // Light to dark: p5/p95 dashed, p25/p75 thin, p50 thick.
    let styles: [(u32, f64, Option<ChartLineDashType>); 5] = [
        (0x9FB8D3, 1.0, Some(ChartLineDashType::Dash)),
        (0x5B84B1, 1.25, None),
        (0x1F3B5C, 2.5, None),
        (0x5B84B1, 1.25, None),
        (0x9FB8D3, 1.0, Some(ChartLineDashType::Dash)),
    ];
    for (k, fan) in fans.iter().enumerate() {
        // The fan's first quantile column: after the month and five columns per earlier fan.
        let first_col = 1 + 5 * k as u16;
        let mut chart = Chart::new(ChartType::Line);
        for (q, (name, _)) in Quantiles::NAMED.iter().enumerate() {
            let (color, width, dash) = styles[q];
            let mut line = ChartLine::new();
            line.set_color(Color::RGB(color)).set_width(width);
            if let Some(dash) = dash {
                line.set_dash_type(dash);
            }
            chart
                .add_series()
                .set_name(if *name == "p50" { "median" } else { name })
                .set_categories((monthly, first, 0, last, 0))
                .set_values((monthly, first, first_col + q as u16, last, first_col + q as u16))
                .set_format(&mut line);
        }
        chart
            .title()
            .set_name(&format!("{}: median path and range across paths", fan.what));
        chart.x_axis().set_date_axis(true).set_num_format("yyyy-mm");
        // Cash runs to billions: its axis reads in millions (the cells keep every dollar).
        let (unit, axis_format) = match fan.kind {
            Kind::Usd if fan.name.ends_with("cash_usd") => ("USD millions", "#,##0,,"),
            Kind::Usd => (fan.unit, "#,##0"),
            _ => (fan.unit, "General"),
        };
        chart
            .y_axis()
            .set_name(&format!("{} ({unit})", fan.what))
            .set_num_format(axis_format);
        if fan.log_scale {
            chart.y_axis().set_log_base(10);
        }
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.set_width(720).set_height(380);
        let row = 2 + 20 * (k / 2) as u32;
        let col = 12 * (k % 2) as u16;
        let r = cells.sheet.insert_chart(row, col, &chart);
        r.map_err(|e| xlsx_error(cells.path, e))?;
        cells.sheet.set_print_fit_to_pages(1, 0);
    }
    Ok(())
}

/// The Events sheet: each marker's month, kind and label.
fn events(cells: &mut Cells, data: &RunData) -> Result<(), OutputError> {
    if data.markers.is_empty() {
        cells.note(0, 0, "No halving or scripted event falls in the horizon.")?;
        return Ok(());
    }
    let columns = [
        Column {
            label: "Month".to_string(),
            name: "month".to_string(),
            kind: Kind::Month,
            values: Values::Months(
                data.markers
                    .iter()
                    .map(|m| data.start.plus_months(m.month_idx.round() as i64))
                    .collect(),
            ),
        },
        Column::texts(
            "Kind",
            "kind",
            data.markers
                .iter()
                .map(|m| match m.kind {
                    MarkerKind::Halving | MarkerKind::ActualHalving => "halving",
                    _ => "scripted event",
                })
                .map(str::to_string)
                .collect(),
        ),
        Column::texts("Event", "label", data.markers.iter().map(|m| m.label.clone()).collect()),
    ];
    cells.table(0, 0, &columns, None)?;
    cells.freeze(2, 0)?;
    cells.widths(0, &[10.0, 16.0, 60.0])?;
    Ok(())
}
