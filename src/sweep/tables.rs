//! The sweep tables: one row per (scenario, cell) with the swept values and metrics, and one row per
//! (scenario, cell, path) with the path outcomes.

use polars::prelude::*;

use crate::output::tables::{Calendar, Names, RowColumns};
use crate::scenario::raw::Value;
use crate::stats::Quantiles;
use crate::sweep::metrics::{CellMetrics, Paired, PathOutcome};
use crate::sweep::plan::value_f64;
use hashcycle_model::record::ManufacturerOutcome;

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
    /// The cell against its scenario's reference cell on the same paths (`None` without a reference cell, or
    /// when no path completed in both).
    pub paired: Option<Paired>,
}

/// The flat name of a swept parameter's column, which the tables hold beside the column named by its path:
/// every `.` and every `[i]` becomes `__` (`__i`), and any character other than an ASCII letter, digit or
/// `_` becomes `_`, so `manufacturers.bitmain.strategy.futures_share` is
/// `manufacturers__bitmain__strategy__futures_share` and `events[0].factor` is `events__0__factor`. No
/// other column holds `__`, so a flat name never meets one.
pub fn flat_column_name(parameter: &str) -> String {
    let mut flat = String::with_capacity(parameter.len() + 8);
    for c in parameter.chars() {
        match c {
            '.' | '[' => flat.push_str("__"),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' => flat.push(c),
            _ => flat.push('_'),
        }
    }
    flat
}

/// A swept parameter's columns, under its path and its flat name (once if they are the same).
fn parameter_columns(parameter: &str, values: Vec<&Value>) -> Vec<Column> {
    let column = parameter_column(parameter, values);
    let flat = flat_column_name(parameter);
    if flat == parameter {
        return vec![column];
    }
    let flat = column.clone().with_name(flat.into());
    vec![column, flat]
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
        columns.extend(parameter_columns(
            parameter,
            rows.iter().map(|r| &r.values[k]).collect(),
        ));
    }
    // Metrics are null, never 0, for a cell none of whose paths completed.
    let m = |f: fn(&CellMetrics) -> Option<f64>| rows.iter().map(|r| f(&r.metrics)).collect::<Vec<Option<f64>>>();
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
    columns.push(Column::new(
        "p_cash_below_zero_lo95".into(),
        m(|x| x.p_cash_below_zero_lo95),
    ));
    columns.push(Column::new(
        "p_cash_below_zero_hi95".into(),
        m(|x| x.p_cash_below_zero_hi95),
    ));
    // Paired with the reference cell on the same paths: the cell's figure less the reference's, and the
    // standard error of that paired difference.
    type PairedPart = fn(&Paired) -> (f64, f64);
    let paired_parts: [(&str, PairedPart); 4] = [
        ("p_cash_below_zero", |p| p.p_cash_below_zero),
        ("min_cash_usd_p50", |p| p.min_cash_usd_p50),
        ("min_cash_usd_cvar5", |p| p.min_cash_usd_cvar5),
        ("end_cash_usd_p50", |p| p.end_cash_usd_p50),
    ];
    for (name, part) in paired_parts {
        columns.push(Column::new(
            format!("{name}_vs_reference").into(),
            rows.iter()
                .map(|r| r.paired.as_ref().map(|p| part(p).0))
                .collect::<Vec<Option<f64>>>(),
        ));
        columns.push(Column::new(
            format!("{name}_vs_reference_se").into(),
            rows.iter()
                .map(|r| r.paired.as_ref().map(|p| part(p).1))
                .collect::<Vec<Option<f64>>>(),
        ));
    }
    columns.push(Column::new(
        "tied_with_reference".into(),
        rows.iter()
            .map(|r| r.paired.as_ref().map(Paired::tied_on_risk))
            .collect::<Vec<Option<bool>>>(),
    ));
    columns.push(Column::new("p_distress".into(), m(|x| x.p_distress)));
    columns.push(Column::new("p_distress_se".into(), m(|x| x.p_distress_se)));
    type Distribution = fn(&CellMetrics) -> Option<Quantiles>;
    let distributions: [(&str, Distribution); 4] = [
        ("min_cash_usd", |x| x.min_cash_usd),
        ("end_cash_usd", |x| x.end_cash_usd),
        ("revenue_usd", |x| x.revenue_usd),
        ("gross_margin_usd", |x| x.gross_margin_usd),
    ];
    for (name, get) in distributions {
        for (suffix, pick) in Quantiles::NAMED {
            columns.push(Column::new(
                format!("{name}_{suffix}").into(),
                rows.iter()
                    .map(|r| get(&r.metrics).as_ref().map(pick))
                    .collect::<Vec<Option<f64>>>(),
            ));
        }
        if name == "min_cash_usd" {
            columns.push(Column::new("min_cash_usd_cvar5".into(), m(|x| x.min_cash_usd_cvar5)));
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
        columns.extend(parameter_columns(parameter, vec![value; n]));
    }
    columns.push(Column::new(
        "failed_check".into(),
        outcomes.iter().map(|o| o.failed_check).collect::<Vec<bool>>(),
    ));
    // The focus manufacturer's columns, as `ManufacturerOutcome` declares them; its name is the sweep's.
    let mut manufacturer = RowColumns::<ManufacturerOutcome>::default();
    outcomes.iter().for_each(|o| manufacturer.push(&o.manufacturer));
    columns.extend(manufacturer.columns(&Names::unnamed(), calendar, &["manufacturer"])?);
    columns.push(Column::new(
        "end_price_usd".into(),
        outcomes.iter().map(|o| o.end_price_usd).collect::<Vec<f64>>(),
    ));
    columns.push(Column::new(
        "end_hashrate_ehs".into(),
        outcomes.iter().map(|o| o.end_hashrate_ehs).collect::<Vec<f64>>(),
    ));
    DataFrame::new(n, columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::parquet::{read_frame, write_frame};
    use crate::sweep::metrics::cell_metrics;
    use hashcycle_model::record::ManufacturerOutcome;

    fn outcome(path_idx: u32, failed_check: bool, end_cash_usd: f64) -> PathOutcome {
        PathOutcome {
            path_idx,
            failed_check,
            manufacturer: ManufacturerOutcome {
                end_cash_usd,
                ..ManufacturerOutcome::default()
            },
            end_price_usd: 1.0,
            end_hashrate_ehs: 1.0,
        }
    }

    fn row(cell_idx: u32, outcomes: &[PathOutcome]) -> SweepRow {
        SweepRow {
            scenario: "base".to_string(),
            cell_idx,
            strategy: format!("cell {cell_idx}"),
            values: vec![Value::Float(0.5)],
            is_reference: cell_idx == 0,
            focus_manufacturer: "bitmain".to_string(),
            metrics: cell_metrics(outcomes),
            paired: None,
        }
    }

    #[test]
    fn flat_column_names_join_the_path_with_double_underscores() {
        assert_eq!(
            flat_column_name("manufacturers.bitmain.strategy.futures_share"),
            "manufacturers__bitmain__strategy__futures_share"
        );
        assert_eq!(flat_column_name("events[0].factor"), "events__0__factor");
        assert_eq!(
            flat_column_name("generations.S19 Pro.price_new_usd"),
            "generations__S19_Pro__price_new_usd"
        );
    }

    #[test]
    fn a_cell_whose_paths_all_failed_writes_nulls_not_zeros() {
        let rows = [
            row(0, &[outcome(0, false, 5.0), outcome(1, false, 7.0)]),
            row(1, &[outcome(0, true, 0.0), outcome(1, true, 0.0)]),
        ];
        let parameters = ["manufacturers.bitmain.strategy.futures_share".to_string()];
        let frame = sweep_frame("s", &parameters, &rows).unwrap();
        let dir = std::env::temp_dir().join(format!("hashcycle-unit-all-failed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sweep.parquet");
        write_frame(&path, &frame).unwrap();
        let read = read_frame(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read.column("n_failed").unwrap().i64().unwrap().get(1), Some(2));
        for name in [
            "p_cash_below_zero",
            "p_cash_below_zero_se",
            "p_distress",
            "p_distress_se",
            "min_cash_usd_p5",
            "end_cash_usd_p50",
            "gross_margin_usd_p95",
            "walk_away_rate_mean",
            "market_share_mean",
        ] {
            let values = read.column(name).unwrap().f64().unwrap().clone();
            assert!(values.get(0).is_some(), "{name} of the cell whose paths completed");
            assert_eq!(values.get(1), None, "{name} of the cell whose paths all failed");
        }
        let median = read.column("end_cash_usd_p50").unwrap().f64().unwrap().get(0);
        assert_eq!(median, Some(6.0));
    }
}
