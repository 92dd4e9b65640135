//! The run tables: column buffers that take the model's monthly rows as a `Sink` and become polars
//! DataFrames. Their columns are declared once, with the row types (`hashcycle_model::record`, `row_table!`);
//! the per-path summary table is built here from the path summaries.

use polars::prelude::*;

use crate::output::tables::{Calendar, Names, RowColumns};
use hashcycle_model::params::Params;
use hashcycle_model::record::{
    DealerRow, EventKind, EventRow, ManufacturerOutcome, ManufacturerRow, MinerRow, NetworkRow, NetworkSummary,
    PathSummary, RegionRow, Sink, Subject,
};

/// One of the monthly run tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunTable {
    Network,
    Miners,
    Manufacturers,
    Dealers,
    Regions,
    Events,
}

impl RunTable {
    /// Every monthly table, in the order files are written.
    pub const ALL: [RunTable; 6] = [
        RunTable::Network,
        RunTable::Miners,
        RunTable::Manufacturers,
        RunTable::Dealers,
        RunTable::Regions,
        RunTable::Events,
    ];

    /// The table's name: its file stem in a run, its directory in a sweep's `months/`.
    pub fn name(self) -> &'static str {
        match self {
            RunTable::Network => "network",
            RunTable::Miners => "miners",
            RunTable::Manufacturers => "manufacturers",
            RunTable::Dealers => "dealers",
            RunTable::Regions => "regions",
            RunTable::Events => "events",
        }
    }
}

/// A path's (or a chunk of paths') rows, column by column.
#[derive(Default, Debug, Clone)]
pub struct RunColumns {
    pub network: RowColumns<NetworkRow>,
    pub miners: RowColumns<MinerRow>,
    pub manufacturers: RowColumns<ManufacturerRow>,
    pub dealers: RowColumns<DealerRow>,
    pub regions: RowColumns<RegionRow>,
    pub events: RowColumns<EventRow>,
}

impl RunColumns {
    pub fn append(&mut self, other: &mut RunColumns) {
        self.network.append(&mut other.network);
        self.miners.append(&mut other.miners);
        self.manufacturers.append(&mut other.manufacturers);
        self.dealers.append(&mut other.dealers);
        self.regions.append(&mut other.regions);
        self.events.append(&mut other.events);
    }

    pub fn clear(&mut self) {
        self.network.clear();
        self.miners.clear();
        self.manufacturers.clear();
        self.dealers.clear();
        self.regions.clear();
        self.events.clear();
    }

    /// One table's rows as a DataFrame.
    pub fn frame(&self, table: RunTable, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
        match table {
            RunTable::Network => self.network.frame(names, cal),
            RunTable::Miners => self.miners.frame(names, cal),
            RunTable::Manufacturers => self.manufacturers.frame(names, cal),
            RunTable::Dealers => self.dealers.frame(names, cal),
            RunTable::Regions => self.regions.frame(names, cal),
            RunTable::Events => self.events.frame(names, cal),
        }
    }

    /// Adds the event recording a path stopped by a failed check.
    pub fn push_violation(&mut self, summary: &PathSummary) {
        if let Some(v) = &summary.violation {
            self.events.push(&EventRow {
                path_idx: summary.path_idx,
                month: v.month,
                kind: EventKind::InvariantViolation,
                subject: Subject::Path,
                block_height: None,
                region_idx: None,
                units: 0,
                amount_usd: v.actual - v.expected,
                value: v.actual,
                value_unit: "actual",
                detail: format!("{} (expected {}, actual {})", v.what, v.expected, v.actual),
                drawn: false,
            });
        }
    }
}

impl Sink for RunColumns {
    const MONTHLY_ROWS: bool = true;

    fn network(&mut self, row: &NetworkRow) {
        self.network.push(row);
    }

    fn miner(&mut self, row: &MinerRow) {
        self.miners.push(row);
    }

    fn manufacturer(&mut self, row: &ManufacturerRow) {
        self.manufacturers.push(row);
    }

    fn dealer(&mut self, row: &DealerRow) {
        self.dealers.push(row);
    }

    fn region(&mut self, row: &RegionRow) {
        self.regions.push(row);
    }

    fn event(&mut self, row: EventRow) {
        self.events.push(&row);
    }
}

/// One row per (path, manufacturer); a scenario without manufacturers gets one row per path with empty
/// manufacturer columns.
pub fn summary_frame(summaries: &[PathSummary], names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let mut path = vec![];
    let mut months_simulated = vec![];
    let mut failed = vec![];
    let mut net: Vec<&NetworkSummary> = vec![];
    let mut outcomes = RowColumns::<ManufacturerOutcome>::default();
    for s in summaries {
        let n_rows = s.manufacturers.len().max(1);
        for _ in 0..n_rows {
            path.push(s.path_idx);
            months_simulated.push(s.n_months);
            failed.push(s.violation.is_some());
            net.push(&s.network);
        }
        if s.manufacturers.is_empty() {
            outcomes.push_missing();
        }
        s.manufacturers.iter().for_each(|o| outcomes.push(o));
    }
    let n = path.len();
    let f = |name: &str, get: fn(&NetworkSummary) -> f64| -> Column {
        Column::new(name.into(), net.iter().map(|s| get(s)).collect::<Vec<f64>>())
    };
    let mut columns = vec![
        Column::new("scenario".into(), vec![names.scenario; n]),
        Column::new("path".into(), path),
        Column::new("months_simulated".into(), months_simulated),
        Column::new("failed_check".into(), failed),
        f("end_price_usd", |s| s.end_price_usd),
        f("end_hashrate_ehs", |s| s.end_hashrate_ehs),
        f("min_hashrate_ehs", |s| s.min_hashrate_ehs),
        f("max_hashrate_drawdown_share", |s| s.max_hashrate_drawdown_share),
        f("end_difficulty", |s| s.end_difficulty),
        Column::new(
            "end_block_height".into(),
            net.iter().map(|s| s.end_block_height).collect::<Vec<u64>>(),
        ),
        f("total_issued_btc", |s| s.total_issued_btc),
        Column::new(
            "n_halvings".into(),
            net.iter().map(|s| s.n_halvings).collect::<Vec<u32>>(),
        ),
        Column::new(
            "n_retargets".into(),
            net.iter().map(|s| s.n_retargets).collect::<Vec<u32>>(),
        ),
        Column::new(
            "months_in_bull".into(),
            net.iter().map(|s| s.months_in_bull).collect::<Vec<u32>>(),
        ),
        f("miners_end_cash_usd", |s| s.miners_end_cash_usd),
        Column::new("n_firms".into(), net.iter().map(|s| s.n_firms).collect::<Vec<u32>>()),
        Column::new(
            "buyer_defaults".into(),
            net.iter().map(|s| s.buyer_defaults).collect::<Vec<u32>>(),
        ),
        Column::new(
            "buyer_units_defaulted".into(),
            net.iter().map(|s| s.units_defaulted).collect::<Vec<u64>>(),
        ),
        f("buyer_balance_defaulted_usd", |s| s.balance_defaulted_usd),
        f("buyer_prepayments_kept_usd", |s| s.prepayments_kept_usd),
        Column::new(
            "fire_sale_units".into(),
            net.iter().map(|s| s.fire_sale_units).collect::<Vec<u64>>(),
        ),
        f("buyer_debt_written_off_usd", |s| s.debt_written_off_usd),
    ];
    // The manufacturer's columns, as `ManufacturerOutcome` declares them; null on a path without one.
    columns.extend(outcomes.columns(names, cal, &[])?);
    DataFrame::new(n, columns)
}

/// The column of `parameters.parquet` an uncertain parameter is written to: its name with `.` as `_` and `*`
/// as `all` (`segments.*.max_spend_share_per_month` is `segments_all_max_spend_share_per_month`); the name
/// ends with the parameter's unit.
pub fn parameter_column(name: &str) -> String {
    name.replace('*', "all").replace('.', "_")
}

/// Rows of `parameters.parquet` for `paths`: one a path, with the value each uncertain parameter was drawn at.
pub fn parameters_frame(params: &Params, paths: std::ops::Range<u32>, names: &Names) -> PolarsResult<DataFrame> {
    let draws: Vec<Vec<f64>> = paths
        .clone()
        .map(|path_idx| hashcycle_model::uncertainty::draws(params, path_idx))
        .collect();
    let mut columns = vec![
        Column::new("scenario".into(), vec![names.scenario; paths.len()]),
        Column::new("path".into(), paths.collect::<Vec<u32>>()),
    ];
    for (k, p) in params.uncertainty.iter().enumerate() {
        columns.push(Column::new(
            parameter_column(&p.name).into(),
            draws.iter().map(|d| d[k]).collect::<Vec<f64>>(),
        ));
    }
    DataFrame::new_infer_height(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashcycle_model::units::Month;

    #[test]
    fn a_path_without_manufacturers_has_null_manufacturer_columns() {
        let params = crate::scenario::shipped_base().params;
        let names = Names::new(&params);
        let calendar = Calendar::new(&params, 0);
        let with_one = PathSummary {
            path_idx: 0,
            manufacturers: vec![ManufacturerOutcome {
                manufacturer_idx: 1,
                min_cash_usd: -5.0,
                min_cash_month: 2,
                units_sold: 7,
                ..ManufacturerOutcome::default()
            }],
            ..PathSummary::default()
        };
        let without = PathSummary {
            path_idx: 1,
            ..PathSummary::default()
        };
        let frame = summary_frame(&[with_one, without], &names, &calendar).unwrap();
        assert_eq!(frame.height(), 2);
        let manufacturer = frame.column("manufacturer").unwrap().str().unwrap().clone();
        assert_eq!(manufacturer.get(0), Some(names.manufacturers[1]));
        assert_eq!(manufacturer.get(1), None);
        let min_cash = frame.column("min_cash_usd").unwrap().f64().unwrap().clone();
        assert_eq!((min_cash.get(0), min_cash.get(1)), (Some(-5.0), None));
        let units_sold = frame.column("units_sold").unwrap().u64().unwrap().clone();
        assert_eq!((units_sold.get(0), units_sold.get(1)), (Some(7), None));
        let month = frame.column("min_cash_month").unwrap().cast(&DataType::Int32).unwrap();
        let month = month.i32().unwrap();
        assert_eq!(month.get(0), Some(calendar.day(Month(2))));
        assert_eq!(month.get(1), None);
        assert_eq!(frame.column("path").unwrap().u32().unwrap().get(1), Some(1));
    }
}
