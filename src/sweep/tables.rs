//! The sweep tables: one row per (scenario, cell) with the swept values and metrics, and one row per
//! (scenario, cell, path) with the path outcomes.

use polars::prelude::*;

use crate::output::tables::Calendar;
use crate::scenario::raw::Value;
use crate::sweep::metrics::{CellMetrics, PathOutcome, QUANTILES};
use crate::sweep::plan::value_f64;
use hashcycle_model::units::Month;

/// One cell's row of `sweep.parquet`.
#[derive(Clone, Debug)]
pub struct SweepRow {
    pub scenario: String,
    pub cell_idx: u32,
    pub strategy: String,
    pub values: Vec<Value>,
    pub is_reference: bool,
    pub focus_manufacturer: String,
    pub metrics: CellMetrics,
}

/// A swept parameter's column: numbers as f64 (booleans as 0/1), anything else as text.
fn parameter_column(name: &str, values: Vec<&Value>) -> Column {
    if values.iter().all(|v| value_f64(v).is_some()) {
        Column::new(
            name.into(),
            values.iter().map(|v| value_f64(v).unwrap_or(0.0)).collect::<Vec<f64>>(),
        )
    } else {
        Column::new(
            name.into(),
            values
                .iter()
                .map(|v| crate::sweep::plan::value_text(v))
                .collect::<Vec<String>>(),
        )
    }
}

pub fn sweep_frame(sweep_name: &str, parameters: &[String], rows: &[SweepRow]) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let mut columns = vec![
        Column::new("sweep".into(), vec![sweep_name; n]),
        Column::new(
            "scenario".into(),
            rows.iter().map(|r| r.scenario.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("cell".into(), rows.iter().map(|r| r.cell_idx).collect::<Vec<_>>()),
        Column::new(
            "strategy".into(),
            rows.iter().map(|r| r.strategy.as_str()).collect::<Vec<_>>(),
        ),
    ];
    for (k, parameter) in parameters.iter().enumerate() {
        columns.push(parameter_column(parameter, rows.iter().map(|r| &r.values[k]).collect()));
    }
    let m = |f: fn(&CellMetrics) -> f64| rows.iter().map(|r| f(&r.metrics)).collect::<Vec<f64>>();
    columns.push(Column::new(
        "is_reference".into(),
        rows.iter().map(|r| r.is_reference).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "focus_manufacturer".into(),
        rows.iter().map(|r| r.focus_manufacturer.as_str()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "n_paths".into(),
        rows.iter().map(|r| r.metrics.n_paths).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "n_failed".into(),
        rows.iter().map(|r| r.metrics.n_failed).collect::<Vec<_>>(),
    ));
    columns.push(Column::new("p_cash_below_zero".into(), m(|x| x.p_cash_below_zero)));
    columns.push(Column::new(
        "p_cash_below_zero_se".into(),
        m(|x| x.p_cash_below_zero_se),
    ));
    columns.push(Column::new("p_distress".into(), m(|x| x.p_distress)));
    columns.push(Column::new("p_distress_se".into(), m(|x| x.p_distress_se)));
    type Distribution = fn(&CellMetrics) -> &[f64; 5];
    let distributions: [(&str, Distribution); 4] = [
        ("min_cash_usd", |x| &x.min_cash_usd),
        ("end_cash_usd", |x| &x.end_cash_usd),
        ("revenue_usd", |x| &x.revenue_usd),
        ("gross_margin_usd", |x| &x.gross_margin_usd),
    ];
    for (name, get) in distributions {
        for (k, (_, suffix)) in QUANTILES.iter().enumerate() {
            columns.push(Column::new(
                format!("{name}_{suffix}").into(),
                rows.iter().map(|r| get(&r.metrics)[k]).collect::<Vec<f64>>(),
            ));
        }
    }
    columns.push(Column::new("walk_away_rate_mean".into(), m(|x| x.walk_away_rate_mean)));
    columns.push(Column::new(
        "prepayments_forfeited_usd_mean".into(),
        m(|x| x.prepayments_forfeited_usd_mean),
    ));
    columns.push(Column::new("writedowns_usd_mean".into(), m(|x| x.writedowns_usd_mean)));
    columns.push(Column::new("market_share_mean".into(), m(|x| x.market_share_mean)));
    DataFrame::new(n, columns)
}

/// One cell's rows of `paths.parquet`.
pub fn paths_frame(
    sweep_name: &str,
    scenario: &str,
    cell_idx: u32,
    parameters: &[String],
    values: &[Value],
    outcomes: &[PathOutcome],
    calendar: &Calendar,
) -> PolarsResult<DataFrame> {
    let n = outcomes.len();
    let mut columns = vec![
        Column::new("sweep".into(), vec![sweep_name; n]),
        Column::new("scenario".into(), vec![scenario; n]),
        Column::new("cell".into(), vec![cell_idx; n]),
        Column::new("path".into(), outcomes.iter().map(|o| o.path_idx).collect::<Vec<_>>()),
    ];
    for (parameter, value) in parameters.iter().zip(values) {
        columns.push(parameter_column(parameter, vec![value; n]));
    }
    let f = |name: &str, get: fn(&PathOutcome) -> f64| {
        Column::new(name.into(), outcomes.iter().map(get).collect::<Vec<f64>>())
    };
    let b = |name: &str, get: fn(&PathOutcome) -> bool| {
        Column::new(name.into(), outcomes.iter().map(get).collect::<Vec<bool>>())
    };
    columns.extend([
        b("failed_check", |o| o.failed_check),
        f("min_cash_usd", |o| o.min_cash_usd),
        Column::new(
            "min_cash_month".into(),
            outcomes
                .iter()
                .map(|o| calendar.day(Month(o.min_cash_month_idx)))
                .collect::<Vec<i32>>(),
        )
        .cast(&DataType::Date)?,
        f("end_cash_usd", |o| o.end_cash_usd),
        b("cash_below_zero", |o| o.cash_below_zero),
        b("distressed", |o| o.distressed),
        f("revenue_usd", |o| o.revenue_usd),
        f("gross_margin_usd", |o| o.gross_margin_usd),
        Column::new(
            "units_sold".into(),
            outcomes.iter().map(|o| o.units_sold).collect::<Vec<u64>>(),
        ),
        f("walk_away_rate", |o| o.walk_away_rate),
        f("prepayments_forfeited_usd", |o| o.prepayments_forfeited_usd),
        f("writedowns_usd", |o| o.writedowns_usd),
        f("market_share", |o| o.market_share),
        f("end_price_usd", |o| o.end_price_usd),
        f("end_hashrate_ehs", |o| o.end_hashrate_ehs),
    ]);
    DataFrame::new(n, columns)
}
