//! What a path emits: monthly rows, events and the per-path summary, streamed to a `Sink`.
//!
//! The model only fills these plain structs; the output layer turns them into Parquet columns.
//! A sink that does not want monthly rows (a strategy sweep) says so with `MONTHLY_ROWS`, and the engine
//! then skips building them, so sweeps reduce each path to its summary as it runs.

use crate::params::{Regime, Segment};
use crate::units::Month;

/// What a column holds, for the output layer to choose its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    U32,
    U64,
    F64,
    Bool,
    OptF64,
    OptU64,
    /// A month index, written as the date of the month's first day.
    Month,
    /// A fixed name (a regime, a segment, an event kind, a unit).
    Label,
    /// Free text.
    Text,
    /// An index into one of the scenario's lists (`NameList`), written as the name.
    Index,
    OptIndex,
    /// What an event is about, written as its name.
    Subject,
}

/// Which of the scenario's lists of names an index column points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameList {
    Regions,
    Manufacturers,
    Origins,
}

/// One value of a row, as the output layer receives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    U32(u32),
    U64(u64),
    F64(f64),
    Bool(bool),
    OptF64(Option<f64>),
    OptU64(Option<u64>),
    Month(Month),
    Label(&'static str),
    Text(&'a str),
    Index(usize),
    OptIndex(Option<usize>),
    Subject(Subject),
}

/// A field type that can be a column: its kind, and its value as a cell.
pub trait ToCell {
    const KIND: CellKind;
    fn to_cell(&self) -> Cell<'_>;
}

macro_rules! to_cell {
    ($($ty:ty => $kind:ident($value:expr)),* $(,)?) => {
        $(impl ToCell for $ty {
            const KIND: CellKind = CellKind::$kind;
            fn to_cell(&self) -> Cell<'_> {
                let to: for<'a> fn(&'a $ty) -> Cell<'a> = $value;
                to(self)
            }
        })*
    };
}

to_cell! {
    u32 => U32(|v| Cell::U32(*v)),
    u64 => U64(|v| Cell::U64(*v)),
    f64 => F64(|v| Cell::F64(*v)),
    bool => Bool(|v| Cell::Bool(*v)),
    Option<f64> => OptF64(|v| Cell::OptF64(*v)),
    Option<u64> => OptU64(|v| Cell::OptU64(*v)),
    Month => Month(|v| Cell::Month(*v)),
    usize => Index(|v| Cell::Index(*v)),
    Option<usize> => OptIndex(|v| Cell::OptIndex(*v)),
    // A month before any regime was drawn has none: an empty name.
    Option<Regime> => Label(|v| Cell::Label(v.map_or("", |g| g.as_str()))),
    Segment => Label(|v| Cell::Label(v.as_str())),
    EventKind => Label(|v| Cell::Label(v.as_str())),
    &'static str => Label(|v| Cell::Label(v)),
    String => Text(|v| Cell::Text(v.as_str())),
    Subject => Subject(|v| Cell::Subject(*v)),
}

/// One column of a table of rows: its name, what it holds, the list an index points into, and how to read it
/// from a row.
pub struct Column<R: 'static> {
    pub name: &'static str,
    pub kind: CellKind,
    pub names: Option<NameList>,
    pub get: for<'a> fn(&'a R) -> Cell<'a>,
}

/// A row type whose columns are declared with it, by `row_table!`.
pub trait Row: Sized + 'static {
    /// Every column, in table order.
    const COLUMNS: &'static [Column<Self>];
}

/// Declares a row struct and its `Row::COLUMNS` in one place, so that adding a column is one field here plus
/// its value where the model builds the row. Each field is a column, in order, named as the field and typed by
/// its `ToCell` kind, unless it says otherwise after `=>`:
/// - `=> "path"`: another column name;
/// - `=> "region" in Regions`: an index written as the name it points to in one of the scenario's lists;
/// - `=> "origin" in Origins as OptIndex = |r| Cell::OptIndex(..)`: a value worked out from the row (without
///   `in`, one that names nothing).
macro_rules! row_table {
    ($(#[$struct_meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        row_table!(@munch ($(#[$struct_meta])*) $name [] [] $($body)*);
    };
    (@munch ($($struct_meta:tt)*) $name:ident [$($fields:tt)*] [$($columns:tt)*]) => {
        $($struct_meta)*
        pub struct $name { $($fields)* }
        impl Row for $name {
            const COLUMNS: &'static [Column<$name>] = &[$($columns)*];
        }
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal in $names:ident as $kind:ident = $get:expr,
        $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column { name: $column, kind: CellKind::$kind, names: Some(NameList::$names), get: $get },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal as $kind:ident = $get:expr,
        $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column { name: $column, kind: CellKind::$kind, names: None, get: $get },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal in $names:ident, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: $column,
                kind: <$ty as ToCell>::KIND,
                names: Some(NameList::$names),
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: $column,
                kind: <$ty as ToCell>::KIND,
                names: None,
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: stringify!($field),
                kind: <$ty as ToCell>::KIND,
                names: None,
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
}

row_table! {
#[derive(Clone, Debug, Default)]
pub struct NetworkRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub regime: Option<Regime>,
    pub price_usd: f64,
    pub block_height: u64,
    pub blocks: u64,
    pub difficulty: f64,
    pub retargets: u32,
    pub subsidy_btc: f64,
    pub fees_btc: f64,
    pub fees_btc_per_block: f64,
    pub issued_btc: f64,
    pub hashrate_ehs: f64,
    pub installed_hashrate_ehs: f64,
    pub hashprice_usd_per_ph_day: f64,
    pub miner_revenue_usd: f64,
    pub power_cost_usd: f64,
    pub mean_block_seconds: f64,
}
}

row_table! {
#[derive(Clone, Debug)]
pub struct MinerRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub segment: Segment,
    pub region_idx: usize => "region" in Regions,
    pub units_running: u64,
    pub units_off: u64,
    pub units_retired: u64,
    pub units_bought: u64,
    pub units_arrived: u64,
    pub units_in_transit: u64,
    pub units_sold_off: u64,
    pub units_taken_over: u64,
    pub units_banned: u64,
    pub units_relocated_in: u64,
    pub hashrate_ehs: f64,
    pub revenue_usd: f64,
    pub power_cost_usd: f64,
    pub segment_cash_usd: f64,
}
}

row_table! {
#[derive(Clone, Debug, Default)]
pub struct ManufacturerRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub manufacturer_idx: usize => "manufacturer" in Manufacturers,
    pub cash_usd: f64,
    pub credit_used_usd: f64,
    pub cash_in_usd: f64,
    pub cash_out_usd: f64,
    pub revenue_usd: f64,
    pub cogs_usd: f64,
    pub opex_usd: f64,
    pub interest_usd: f64,
    pub units_produced: u64,
    pub units_sold_spot: u64,
    pub units_sold_dealers: u64,
    pub units_sold_futures: u64,
    pub units_delivered: u64,
    pub units_walked_away: u64,
    pub units_refunded: u64,
    pub units_self_mined: u64,
    pub units_scrapped: u64,
    pub units_recovered: u64,
    pub units_wafers_ordered: u64,
    pub prepayments_received_usd: f64,
    pub prepayments_applied_usd: f64,
    pub prepayments_forfeited_usd: f64,
    pub prepayments_refunded_usd: f64,
    pub prepayments_held_usd: f64,
    pub backlog_units: u64,
    pub inventory_units: u64,
    pub inventory_value_usd: f64,
    pub wip_units: u64,
    pub writedowns_usd: f64,
    pub bad_debt_usd: f64,
    pub wafer_commitments_usd: f64,
    pub wafer_prepaid_usd: f64,
    pub wafer_paid_usd: f64,
    pub installment_receivables_usd: f64,
    pub self_mining_ths: f64,
    pub self_mining_revenue_usd: f64,
    pub self_mining_power_cost_usd: f64,
    pub price_usd_per_th: f64,
    pub futures_price_usd_per_th: f64,
    pub secondary_price_usd_per_th: f64,
    pub planned_units: u64,
    pub distressed: bool,
}
}

row_table! {
#[derive(Clone, Debug, Default)]
pub struct DealerRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub cash_usd: f64,
    pub inventory_units: u64,
    pub inventory_value_usd: f64,
    pub units_bought_spot: u64,
    pub units_bought_installment: u64,
    pub units_sold: u64,
    pub units_returned: u64,
    pub units_scrapped: u64,
    pub purchases_usd: f64,
    pub sales_usd: f64,
    pub writedowns_usd: f64,
    pub dump_discount_share: f64,
    pub price_usd_per_th: f64,
    pub secondary_price_usd_per_th: f64,
    pub installments_outstanding_usd: f64,
    pub n_installments: u64,
    pub n_defaults: u64,
    pub defaulted_balance_usd: f64,
}
}

row_table! {
/// One region in one month.
#[derive(Clone, Debug, Default)]
pub struct RegionRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub region_idx: usize => "region" in Regions,
    pub hashrate_ehs: f64,
    pub units_running: u64,
    pub units_off: u64,
    /// Machines stopped by bans in this region, still waiting to move.
    pub units_relocating: u64,
    /// Machines stopped by a ban this month (installed or on their way there).
    pub units_banned: u64,
    pub units_relocated_in: u64,
    /// Delivered machines bought for this region that found no site anywhere and wait in the pool.
    pub units_queued: u64,
    pub power_price_usd_per_kwh: f64,
    pub opex_share_of_power: f64,
    /// None when unlimited.
    pub capacity_mw: Option<f64>,
    pub capacity_used_mw: f64,
    pub max_tariff_share: f64,
    /// Written as the origin's name, and only where some tariff applies.
    pub max_tariff_origin_idx: usize => "max_tariff_origin" in Origins as OptIndex =
        |r| Cell::OptIndex((r.max_tariff_share > 0.0).then_some(r.max_tariff_origin_idx)),
    pub ban_level_share: f64,
}
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Network,
    Manufacturer(usize),
    Region(usize),
    Segment(Segment),
    Dealers,
    /// A path as a whole (a failed check, recorded by the output layer).
    Path,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Retarget,
    Halving,
    PriceShock,
    SetRegime,
    PowerShock,
    Ban,
    Tariff,
    Tightening,
    RelocationCompleted,
    MachinesStranded,
    ContractSigned,
    WalkAway,
    ContractRefunded,
    ContractClosed,
    InstallmentSigned,
    DealerDefault,
    DistressStarted,
    DistressEnded,
    InvariantViolation,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Retarget => "retarget",
            EventKind::Halving => "halving",
            EventKind::PriceShock => "price_shock",
            EventKind::SetRegime => "set_regime",
            EventKind::PowerShock => "power_shock",
            EventKind::Ban => "ban",
            EventKind::Tariff => "tariff",
            EventKind::Tightening => "tightening",
            EventKind::RelocationCompleted => "relocation_completed",
            EventKind::MachinesStranded => "machines_stranded",
            EventKind::ContractSigned => "contract_signed",
            EventKind::WalkAway => "walk_away",
            EventKind::ContractRefunded => "contract_refunded",
            EventKind::ContractClosed => "contract_closed",
            EventKind::InstallmentSigned => "installment_signed",
            EventKind::DealerDefault => "dealer_default",
            EventKind::DistressStarted => "distress_started",
            EventKind::DistressEnded => "distress_ended",
            EventKind::InvariantViolation => "invariant_violation",
        }
    }
}

row_table! {
/// One thing that happened. `value` carries the event's main figure in `value_unit`.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub path_idx: u32 => "path",
    pub month: Month,
    pub kind: EventKind,
    pub subject: Subject,
    pub block_height: Option<u64>,
    /// The region a contract or shipment is for, when the event has one.
    pub region_idx: Option<usize> => "region" in Regions,
    pub units: u64,
    pub amount_usd: f64,
    pub value: f64,
    pub value_unit: &'static str,
    /// Free text, used only by rare events (invariant violations).
    pub detail: String,
}
}

/// The month's events, waiting for the sink. A sink that takes no monthly rows takes no events either, so
/// then nothing is kept: `push` hands out no row and the caller skips filling it.
#[derive(Clone, Debug)]
pub struct EventLog {
    rows: Vec<EventRow>,
    recording: bool,
}

impl EventLog {
    pub fn new(recording: bool) -> EventLog {
        EventLog {
            rows: Vec::with_capacity(if recording { 32 } else { 0 }),
            recording,
        }
    }

    pub fn set_recording(&mut self, recording: bool) {
        self.recording = recording;
    }

    /// A new row for an event of `kind` about `subject`, with every figure zero, for the caller to fill in;
    /// `None` when events are not being recorded.
    pub fn push(&mut self, path_idx: u32, month: Month, kind: EventKind, subject: Subject) -> Option<&mut EventRow> {
        if !self.recording {
            return None;
        }
        self.rows.push(EventRow {
            path_idx,
            month,
            kind,
            subject,
            block_height: None,
            region_idx: None,
            units: 0,
            amount_usd: 0.0,
            value: 0.0,
            value_unit: "",
            detail: String::new(),
        });
        self.rows.last_mut()
    }

    /// Takes the rows kept so far, in the order they happened.
    pub fn drain(&mut self) -> std::vec::Drain<'_, EventRow> {
        self.rows.drain(..)
    }
}

/// End-of-path figures of the network and the miners.
#[derive(Clone, Debug, Default)]
pub struct NetworkSummary {
    pub end_price_usd: f64,
    pub end_hashrate_ehs: f64,
    pub end_difficulty: f64,
    pub end_block_height: u64,
    pub total_issued_btc: f64,
    pub max_hashrate_drawdown_share: f64,
    pub min_hashrate_ehs: f64,
    pub n_halvings: u32,
    pub n_retargets: u32,
    pub months_in_bull: u32,
    pub miners_end_cash_usd: f64,
}

row_table! {
    /// A manufacturer's outcome over one path: the figures a strategy is judged by. Its columns are those of
    /// a run's `summary.parquet` and a sweep's `paths.parquet`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ManufacturerOutcome {
        pub manufacturer_idx: usize => "manufacturer" in Manufacturers,
        pub min_cash_usd: f64,
        /// The month index, written as the date of the month's first day.
        pub min_cash_month: u32 => "min_cash_month" as Month = |o| Cell::Month(Month(o.min_cash_month)),
        pub end_cash_usd: f64,
        pub cash_below_zero: bool,
        pub distressed: bool,
        pub revenue_usd: f64,
        pub gross_margin_usd: f64,
        pub units_sold: u64,
        pub walk_away_rate: f64,
        pub prepayments_forfeited_usd: f64,
        pub writedowns_usd: f64,
        pub market_share: f64,
    }
}

/// A broken conservation law or bound, found by the checks run every month.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub month: Month,
    pub what: String,
    pub expected: f64,
    pub actual: f64,
}

#[derive(Clone, Debug, Default)]
pub struct PathSummary {
    pub path_idx: u32,
    /// Months actually simulated (fewer than the horizon when a check failed).
    pub n_months: u32,
    pub network: NetworkSummary,
    pub manufacturers: Vec<ManufacturerOutcome>,
    pub violation: Option<Violation>,
}

/// Where a path's records go.
pub trait Sink {
    /// Whether the engine should build monthly rows and events at all.
    const MONTHLY_ROWS: bool;
    fn network(&mut self, row: &NetworkRow);
    fn miner(&mut self, row: &MinerRow);
    fn manufacturer(&mut self, row: &ManufacturerRow);
    fn dealer(&mut self, row: &DealerRow);
    fn region(&mut self, row: &RegionRow);
    fn event(&mut self, row: EventRow);
}

/// A path that stopped early: a failed conservation check or a panic inside the model.
#[derive(Clone, Debug)]
pub struct PathFailure {
    pub path_idx: u32,
    pub violation: Violation,
}

/// A sink that keeps nothing; the path's summary is all that remains.
pub struct SummaryOnly;

impl Sink for SummaryOnly {
    const MONTHLY_ROWS: bool = false;
    fn network(&mut self, _row: &NetworkRow) {}
    fn miner(&mut self, _row: &MinerRow) {}
    fn manufacturer(&mut self, _row: &ManufacturerRow) {}
    fn dealer(&mut self, _row: &DealerRow) {}
    fn region(&mut self, _row: &RegionRow) {}
    fn event(&mut self, _row: EventRow) {}
}

/// A sink that keeps every row in memory (tests and small runs).
#[derive(Default, Debug)]
pub struct Collect {
    pub network: Vec<NetworkRow>,
    pub miners: Vec<MinerRow>,
    pub manufacturers: Vec<ManufacturerRow>,
    pub dealers: Vec<DealerRow>,
    pub regions: Vec<RegionRow>,
    pub events: Vec<EventRow>,
}

impl Sink for Collect {
    const MONTHLY_ROWS: bool = true;
    fn network(&mut self, row: &NetworkRow) {
        self.network.push(row.clone());
    }
    fn miner(&mut self, row: &MinerRow) {
        self.miners.push(row.clone());
    }
    fn manufacturer(&mut self, row: &ManufacturerRow) {
        self.manufacturers.push(row.clone());
    }
    fn dealer(&mut self, row: &DealerRow) {
        self.dealers.push(row.clone());
    }
    fn region(&mut self, row: &RegionRow) {
        self.regions.push(row.clone());
    }
    fn event(&mut self, row: EventRow) {
        self.events.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_log_keeps_rows_only_while_recording() {
        let mut log = EventLog::new(false);
        assert!(
            log.push(3, Month(7), EventKind::WalkAway, Subject::Manufacturer(1))
                .is_none()
        );
        assert_eq!(log.drain().count(), 0);
        log.set_recording(true);
        let row = log
            .push(3, Month(7), EventKind::WalkAway, Subject::Manufacturer(1))
            .expect("recording");
        row.units = 5;
        log.push(3, Month(7), EventKind::ContractClosed, Subject::Manufacturer(2));
        let rows: Vec<EventRow> = log.drain().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].kind, rows[0].units, rows[0].path_idx),
            (EventKind::WalkAway, 5, 3)
        );
        assert_eq!(
            (rows[1].kind, rows[1].units, rows[1].amount_usd),
            (EventKind::ContractClosed, 0, 0.0)
        );
        assert_eq!(log.drain().count(), 0, "drained rows are gone");
    }
}
