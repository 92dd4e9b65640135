//! The run tables: column buffers that take the model's monthly rows as a `Sink` and become polars
//! DataFrames. Their columns are declared once, with the row types (`hashcycle_model::record`, `row_table!`);
//! the per-path summary table is built here from the path summaries.

use polars::prelude::*;

use crate::output::tables::{Calendar, Names, RowColumns};
use hashcycle_model::record::{
    DealerRow, EventKind, EventRow, ManufacturerRow, MinerRow, NetworkRow, PathSummary, RegionRow, Sink, Subject,
};
use hashcycle_model::units::Month;

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

pub fn network_frame(c: &RowColumns<NetworkRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

pub fn miners_frame(c: &RowColumns<MinerRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

pub fn manufacturers_frame(c: &RowColumns<ManufacturerRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

pub fn dealers_frame(c: &RowColumns<DealerRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

pub fn regions_frame(c: &RowColumns<RegionRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

pub fn events_frame(c: &RowColumns<EventRow>, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    c.frame(names, cal)
}

/// One row per (path, manufacturer); a scenario without manufacturers gets one row per path with empty
/// manufacturer columns.
pub fn summary_frame(summaries: &[PathSummary], names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let mut path = vec![];
    let mut months_simulated = vec![];
    let mut failed = vec![];
    let mut net: Vec<&hashcycle_model::record::NetworkSummary> = vec![];
    let mut manufacturer: Vec<Option<&str>> = vec![];
    let mut outcome: Vec<Option<&hashcycle_model::record::ManufacturerOutcome>> = vec![];
    for s in summaries {
        let rows: Vec<Option<&hashcycle_model::record::ManufacturerOutcome>> = if s.manufacturers.is_empty() {
            vec![None]
        } else {
            s.manufacturers.iter().map(Some).collect()
        };
        for o in rows {
            path.push(s.path_idx);
            months_simulated.push(s.n_months);
            failed.push(s.violation.is_some());
            net.push(&s.network);
            manufacturer.push(o.map(|o| names.manufacturers[o.manufacturer_idx]));
            outcome.push(o);
        }
    }
    let n = path.len();
    let f = |name: &str, get: fn(&hashcycle_model::record::NetworkSummary) -> f64| -> Column {
        Column::new(name.into(), net.iter().map(|s| get(s)).collect::<Vec<f64>>())
    };
    let o_f64 = |name: &str, get: fn(&hashcycle_model::record::ManufacturerOutcome) -> f64| -> Column {
        Column::new(
            name.into(),
            outcome.iter().map(|o| o.map(get)).collect::<Vec<Option<f64>>>(),
        )
    };
    let o_bool = |name: &str, get: fn(&hashcycle_model::record::ManufacturerOutcome) -> bool| -> Column {
        Column::new(
            name.into(),
            outcome.iter().map(|o| o.map(get)).collect::<Vec<Option<bool>>>(),
        )
    };
    DataFrame::new(
        n,
        vec![
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
            Column::new("manufacturer".into(), manufacturer),
            o_f64("min_cash_usd", |o| o.min_cash_usd),
            Column::new(
                "min_cash_month".into(),
                outcome
                    .iter()
                    .map(|o| o.map(|o| cal.day(Month(o.min_cash_month))))
                    .collect::<Vec<Option<i32>>>(),
            )
            .cast(&DataType::Date)?,
            o_f64("end_cash_usd", |o| o.end_cash_usd),
            o_bool("cash_below_zero", |o| o.cash_below_zero),
            o_bool("distressed", |o| o.distressed),
            o_f64("revenue_usd", |o| o.revenue_usd),
            o_f64("gross_margin_usd", |o| o.gross_margin_usd),
            Column::new(
                "units_sold".into(),
                outcome
                    .iter()
                    .map(|o| o.map(|o| o.units_sold))
                    .collect::<Vec<Option<u64>>>(),
            ),
            o_f64("walk_away_rate", |o| o.walk_away_rate),
            o_f64("prepayments_forfeited_usd", |o| o.prepayments_forfeited_usd),
            o_f64("writedowns_usd", |o| o.writedowns_usd),
            o_f64("market_share", |o| o.market_share),
        ],
    )
}
