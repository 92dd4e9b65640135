//! The run tables: column buffers that take the model's monthly rows as a `Sink`, and their conversion into
//! polars DataFrames with unit-suffixed column names; the per-path summary table.

use polars::prelude::*;

use crate::output::tables::{Calendar, Names, date_column};
use hashcycle_model::record::{
    DealerRow, EventRow, ManufacturerRow, MinerRow, NetworkRow, PathSummary, RegionRow, Sink, Subject,
};
use hashcycle_model::units::Month;

macro_rules! columns {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Default, Debug, Clone)]
        pub struct $name {
            $(pub $field: Vec<$ty>,)*
        }
        impl $name {
            pub fn len(&self) -> usize {
                self.path.len()
            }
            pub fn is_empty(&self) -> bool {
                self.path.is_empty()
            }
            pub fn append(&mut self, other: &mut $name) {
                $(self.$field.append(&mut other.$field);)*
            }
            pub fn clear(&mut self) {
                $(self.$field.clear();)*
            }
        }
    };
}

columns!(NetworkCols {
    path: u32, month: i32, regime: &'static str, price_usd: f64, block_height: u64, blocks: u64, difficulty: f64,
    retargets: u32, subsidy_btc: f64, fees_btc: f64, fees_btc_per_block: f64, issued_btc: f64, hashrate_ehs: f64,
    installed_hashrate_ehs: f64, hashprice_usd_per_ph_day: f64, miner_revenue_usd: f64, power_cost_usd: f64,
    mean_block_seconds: f64,
});

columns!(MinerCols {
    path: u32, month: i32, segment: &'static str, region_idx: u32, units_running: u64, units_off: u64,
    units_retired: u64, units_bought: u64, units_arrived: u64, units_in_transit: u64, units_sold_off: u64,
    units_taken_over: u64, units_banned: u64, units_relocated_in: u64, hashrate_ehs: f64, revenue_usd: f64, power_cost_usd: f64, segment_cash_usd: f64,
});

columns!(ManufacturerCols {
    path: u32,
    month: i32,
    manufacturer_idx: u32,
    cash_usd: f64,
    credit_used_usd: f64,
    cash_in_usd: f64,
    cash_out_usd: f64,
    revenue_usd: f64,
    cogs_usd: f64,
    opex_usd: f64,
    interest_usd: f64,
    units_produced: u64,
    units_sold_spot: u64,
    units_sold_dealers: u64,
    units_sold_futures: u64,
    units_delivered: u64,
    units_walked_away: u64,
    units_refunded: u64,
    units_self_mined: u64,
    units_scrapped: u64,
    units_recovered: u64,
    units_wafers_ordered: u64,
    prepayments_received_usd: f64,
    prepayments_applied_usd: f64,
    prepayments_forfeited_usd: f64,
    prepayments_refunded_usd: f64,
    prepayments_held_usd: f64,
    backlog_units: u64,
    inventory_units: u64,
    inventory_value_usd: f64,
    wip_units: u64,
    writedowns_usd: f64,
    bad_debt_usd: f64,
    wafer_commitments_usd: f64,
    wafer_prepaid_usd: f64,
    wafer_paid_usd: f64,
    installment_receivables_usd: f64,
    self_mining_ths: f64,
    self_mining_revenue_usd: f64,
    self_mining_power_cost_usd: f64,
    price_usd_per_th: f64,
    futures_price_usd_per_th: f64,
    secondary_price_usd_per_th: f64,
    planned_units: u64,
    distressed: bool,
});

columns!(DealerCols {
    path: u32,
    month: i32,
    cash_usd: f64,
    inventory_units: u64,
    inventory_value_usd: f64,
    units_bought_spot: u64,
    units_bought_installment: u64,
    units_sold: u64,
    units_returned: u64,
    units_scrapped: u64,
    purchases_usd: f64,
    sales_usd: f64,
    writedowns_usd: f64,
    dump_discount_share: f64,
    price_usd_per_th: f64,
    secondary_price_usd_per_th: f64,
    installments_outstanding_usd: f64,
    n_installments: u64,
    n_defaults: u64,
    defaulted_balance_usd: f64,
});

columns!(RegionCols {
    path: u32, month: i32, region_idx: u32, hashrate_ehs: f64, units_running: u64, units_off: u64,
    units_relocating: u64, units_banned: u64, units_relocated_in: u64, units_queued: u64, power_price_usd_per_kwh: f64,
    opex_share_of_power: f64, capacity_mw: Option<f64>, capacity_used_mw: f64, max_tariff_share: f64,
    max_tariff_origin_idx: u32, ban_level_share: f64,
});

columns!(EventCols {
    path: u32, month: i32, kind: &'static str, subject_kind: &'static str, subject_idx: u32,
    block_height: Option<u64>, region_idx: Option<u32>, units: u64, amount_usd: f64, value: f64, value_unit: &'static str, detail: String,
});

/// A path's (or a chunk of paths') rows, column by column.
#[derive(Default, Debug, Clone)]
pub struct RunColumns {
    pub network: NetworkCols,
    pub miners: MinerCols,
    pub manufacturers: ManufacturerCols,
    pub dealers: DealerCols,
    pub regions: RegionCols,
    pub events: EventCols,
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
            let e = &mut self.events;
            e.path.push(summary.path_idx);
            e.month.push(v.month.0 as i32);
            e.kind.push("invariant_violation");
            e.subject_kind.push("path");
            e.subject_idx.push(summary.path_idx);
            e.block_height.push(None);
            e.region_idx.push(None);
            e.units.push(0);
            e.amount_usd.push(v.actual - v.expected);
            e.value.push(v.actual);
            e.value_unit.push("actual");
            e.detail
                .push(format!("{} (expected {}, actual {})", v.what, v.expected, v.actual));
        }
    }
}

impl Sink for RunColumns {
    const MONTHLY_ROWS: bool = true;

    fn network(&mut self, r: &NetworkRow) {
        let c = &mut self.network;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.regime.push(r.regime.map_or("", |g| g.as_str()));
        c.price_usd.push(r.price_usd);
        c.block_height.push(r.block_height);
        c.blocks.push(r.blocks);
        c.difficulty.push(r.difficulty);
        c.retargets.push(r.retargets);
        c.subsidy_btc.push(r.subsidy_btc);
        c.fees_btc.push(r.fees_btc);
        c.fees_btc_per_block.push(r.fees_btc_per_block);
        c.issued_btc.push(r.issued_btc);
        c.hashrate_ehs.push(r.hashrate_ehs);
        c.installed_hashrate_ehs.push(r.installed_hashrate_ehs);
        c.hashprice_usd_per_ph_day.push(r.hashprice_usd_per_ph_day);
        c.miner_revenue_usd.push(r.miner_revenue_usd);
        c.power_cost_usd.push(r.power_cost_usd);
        c.mean_block_seconds.push(r.mean_block_seconds);
    }

    fn miner(&mut self, r: &MinerRow) {
        let c = &mut self.miners;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.segment.push(r.segment.as_str());
        c.region_idx.push(r.region_idx as u32);
        c.units_running.push(r.units_running);
        c.units_off.push(r.units_off);
        c.units_retired.push(r.units_retired);
        c.units_bought.push(r.units_bought);
        c.units_arrived.push(r.units_arrived);
        c.units_in_transit.push(r.units_in_transit);
        c.units_sold_off.push(r.units_sold_off);
        c.units_taken_over.push(r.units_taken_over);
        c.units_banned.push(r.units_banned);
        c.units_relocated_in.push(r.units_relocated_in);
        c.hashrate_ehs.push(r.hashrate_ehs);
        c.revenue_usd.push(r.revenue_usd);
        c.power_cost_usd.push(r.power_cost_usd);
        c.segment_cash_usd.push(r.segment_cash_usd);
    }

    fn manufacturer(&mut self, r: &ManufacturerRow) {
        let c = &mut self.manufacturers;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.manufacturer_idx.push(r.manufacturer_idx as u32);
        c.cash_usd.push(r.cash_usd);
        c.credit_used_usd.push(r.credit_used_usd);
        c.cash_in_usd.push(r.cash_in_usd);
        c.cash_out_usd.push(r.cash_out_usd);
        c.revenue_usd.push(r.revenue_usd);
        c.cogs_usd.push(r.cogs_usd);
        c.opex_usd.push(r.opex_usd);
        c.interest_usd.push(r.interest_usd);
        c.units_produced.push(r.units_produced);
        c.units_sold_spot.push(r.units_sold_spot);
        c.units_sold_dealers.push(r.units_sold_dealers);
        c.units_sold_futures.push(r.units_sold_futures);
        c.units_delivered.push(r.units_delivered);
        c.units_walked_away.push(r.units_walked_away);
        c.units_refunded.push(r.units_refunded);
        c.units_self_mined.push(r.units_self_mined);
        c.units_scrapped.push(r.units_scrapped);
        c.units_recovered.push(r.units_recovered);
        c.units_wafers_ordered.push(r.units_wafers_ordered);
        c.prepayments_received_usd.push(r.prepayments_received_usd);
        c.prepayments_applied_usd.push(r.prepayments_applied_usd);
        c.prepayments_forfeited_usd.push(r.prepayments_forfeited_usd);
        c.prepayments_refunded_usd.push(r.prepayments_refunded_usd);
        c.prepayments_held_usd.push(r.prepayments_held_usd);
        c.backlog_units.push(r.backlog_units);
        c.inventory_units.push(r.inventory_units);
        c.inventory_value_usd.push(r.inventory_value_usd);
        c.wip_units.push(r.wip_units);
        c.writedowns_usd.push(r.writedowns_usd);
        c.bad_debt_usd.push(r.bad_debt_usd);
        c.wafer_commitments_usd.push(r.wafer_commitments_usd);
        c.wafer_prepaid_usd.push(r.wafer_prepaid_usd);
        c.wafer_paid_usd.push(r.wafer_paid_usd);
        c.installment_receivables_usd.push(r.installment_receivables_usd);
        c.self_mining_ths.push(r.self_mining_ths);
        c.self_mining_revenue_usd.push(r.self_mining_revenue_usd);
        c.self_mining_power_cost_usd.push(r.self_mining_power_cost_usd);
        c.price_usd_per_th.push(r.price_usd_per_th);
        c.futures_price_usd_per_th.push(r.futures_price_usd_per_th);
        c.secondary_price_usd_per_th.push(r.secondary_price_usd_per_th);
        c.planned_units.push(r.planned_units);
        c.distressed.push(r.distressed);
    }

    fn dealer(&mut self, r: &DealerRow) {
        let c = &mut self.dealers;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.cash_usd.push(r.cash_usd);
        c.inventory_units.push(r.inventory_units);
        c.inventory_value_usd.push(r.inventory_value_usd);
        c.units_bought_spot.push(r.units_bought_spot);
        c.units_bought_installment.push(r.units_bought_installment);
        c.units_sold.push(r.units_sold);
        c.units_returned.push(r.units_returned);
        c.units_scrapped.push(r.units_scrapped);
        c.purchases_usd.push(r.purchases_usd);
        c.sales_usd.push(r.sales_usd);
        c.writedowns_usd.push(r.writedowns_usd);
        c.dump_discount_share.push(r.dump_discount_share);
        c.price_usd_per_th.push(r.price_usd_per_th);
        c.secondary_price_usd_per_th.push(r.secondary_price_usd_per_th);
        c.installments_outstanding_usd.push(r.installments_outstanding_usd);
        c.n_installments.push(r.n_installments);
        c.n_defaults.push(r.n_defaults);
        c.defaulted_balance_usd.push(r.defaulted_balance_usd);
    }

    fn region(&mut self, r: &RegionRow) {
        let c = &mut self.regions;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.region_idx.push(r.region_idx as u32);
        c.hashrate_ehs.push(r.hashrate_ehs);
        c.units_running.push(r.units_running);
        c.units_off.push(r.units_off);
        c.units_relocating.push(r.units_relocating);
        c.units_banned.push(r.units_banned);
        c.units_relocated_in.push(r.units_relocated_in);
        c.units_queued.push(r.units_queued);
        c.power_price_usd_per_kwh.push(r.power_price_usd_per_kwh);
        c.opex_share_of_power.push(r.opex_share_of_power);
        c.capacity_mw.push(r.capacity_mw);
        c.capacity_used_mw.push(r.capacity_used_mw);
        c.max_tariff_share.push(r.max_tariff_share);
        c.max_tariff_origin_idx.push(r.max_tariff_origin_idx as u32);
        c.ban_level_share.push(r.ban_level_share);
    }

    fn event(&mut self, r: EventRow) {
        let c = &mut self.events;
        c.path.push(r.path_idx);
        c.month.push(r.month.0 as i32);
        c.kind.push(r.kind.as_str());
        let (kind, idx) = match r.subject {
            Subject::Network => ("network", 0),
            Subject::Manufacturer(i) => ("manufacturer", i as u32),
            Subject::Region(i) => ("region", i as u32),
            Subject::Segment(s) => ("segment", s.idx() as u32),
            Subject::Dealers => ("dealers", 0),
        };
        c.subject_kind.push(kind);
        c.subject_idx.push(idx);
        c.block_height.push(r.block_height);
        c.region_idx.push(r.region_idx.map(|r| r as u32));
        c.units.push(r.units);
        c.amount_usd.push(r.amount_usd);
        c.value.push(r.value);
        c.value_unit.push(r.value_unit);
        c.detail.push(r.detail);
    }
}

fn scenario_col(names: &Names, n: usize) -> Column {
    Column::new("scenario".into(), vec![names.scenario; n])
}

fn col<T>(name: &str, values: &[T]) -> Column
where
    T: Clone,
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), values.to_vec())
}

fn months(cal: &Calendar, values: &[i32]) -> PolarsResult<Column> {
    date_column("month", values.iter().map(|&m| cal.day(Month(m as u32))).collect())
}

pub fn network_frame(c: &NetworkCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            col("regime", &c.regime),
            col("price_usd", &c.price_usd),
            col("block_height", &c.block_height),
            col("blocks", &c.blocks),
            col("difficulty", &c.difficulty),
            col("retargets", &c.retargets),
            col("subsidy_btc", &c.subsidy_btc),
            col("fees_btc", &c.fees_btc),
            col("fees_btc_per_block", &c.fees_btc_per_block),
            col("issued_btc", &c.issued_btc),
            col("hashrate_ehs", &c.hashrate_ehs),
            col("installed_hashrate_ehs", &c.installed_hashrate_ehs),
            col("hashprice_usd_per_ph_day", &c.hashprice_usd_per_ph_day),
            col("miner_revenue_usd", &c.miner_revenue_usd),
            col("power_cost_usd", &c.power_cost_usd),
            col("mean_block_seconds", &c.mean_block_seconds),
        ],
    )
}

pub fn miners_frame(c: &MinerCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    let regions: Vec<&str> = c.region_idx.iter().map(|&r| names.regions[r as usize]).collect();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            col("segment", &c.segment),
            Column::new("region".into(), regions),
            col("units_running", &c.units_running),
            col("units_off", &c.units_off),
            col("units_retired", &c.units_retired),
            col("units_bought", &c.units_bought),
            col("units_arrived", &c.units_arrived),
            col("units_in_transit", &c.units_in_transit),
            col("units_sold_off", &c.units_sold_off),
            col("units_taken_over", &c.units_taken_over),
            col("units_banned", &c.units_banned),
            col("units_relocated_in", &c.units_relocated_in),
            col("hashrate_ehs", &c.hashrate_ehs),
            col("revenue_usd", &c.revenue_usd),
            col("power_cost_usd", &c.power_cost_usd),
            col("segment_cash_usd", &c.segment_cash_usd),
        ],
    )
}

pub fn manufacturers_frame(c: &ManufacturerCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    let manufacturer: Vec<&str> = c
        .manufacturer_idx
        .iter()
        .map(|&m| names.manufacturers[m as usize])
        .collect();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            Column::new("manufacturer".into(), manufacturer),
            col("cash_usd", &c.cash_usd),
            col("credit_used_usd", &c.credit_used_usd),
            col("cash_in_usd", &c.cash_in_usd),
            col("cash_out_usd", &c.cash_out_usd),
            col("revenue_usd", &c.revenue_usd),
            col("cogs_usd", &c.cogs_usd),
            col("opex_usd", &c.opex_usd),
            col("interest_usd", &c.interest_usd),
            col("units_produced", &c.units_produced),
            col("units_sold_spot", &c.units_sold_spot),
            col("units_sold_dealers", &c.units_sold_dealers),
            col("units_sold_futures", &c.units_sold_futures),
            col("units_delivered", &c.units_delivered),
            col("units_walked_away", &c.units_walked_away),
            col("units_refunded", &c.units_refunded),
            col("units_self_mined", &c.units_self_mined),
            col("units_scrapped", &c.units_scrapped),
            col("units_recovered", &c.units_recovered),
            col("units_wafers_ordered", &c.units_wafers_ordered),
            col("prepayments_received_usd", &c.prepayments_received_usd),
            col("prepayments_applied_usd", &c.prepayments_applied_usd),
            col("prepayments_forfeited_usd", &c.prepayments_forfeited_usd),
            col("prepayments_refunded_usd", &c.prepayments_refunded_usd),
            col("prepayments_held_usd", &c.prepayments_held_usd),
            col("backlog_units", &c.backlog_units),
            col("inventory_units", &c.inventory_units),
            col("inventory_value_usd", &c.inventory_value_usd),
            col("wip_units", &c.wip_units),
            col("writedowns_usd", &c.writedowns_usd),
            col("bad_debt_usd", &c.bad_debt_usd),
            col("wafer_commitments_usd", &c.wafer_commitments_usd),
            col("wafer_prepaid_usd", &c.wafer_prepaid_usd),
            col("wafer_paid_usd", &c.wafer_paid_usd),
            col("installment_receivables_usd", &c.installment_receivables_usd),
            col("self_mining_ths", &c.self_mining_ths),
            col("self_mining_revenue_usd", &c.self_mining_revenue_usd),
            col("self_mining_power_cost_usd", &c.self_mining_power_cost_usd),
            col("price_usd_per_th", &c.price_usd_per_th),
            col("futures_price_usd_per_th", &c.futures_price_usd_per_th),
            col("secondary_price_usd_per_th", &c.secondary_price_usd_per_th),
            col("planned_units", &c.planned_units),
            col("distressed", &c.distressed),
        ],
    )
}

pub fn dealers_frame(c: &DealerCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            col("cash_usd", &c.cash_usd),
            col("inventory_units", &c.inventory_units),
            col("inventory_value_usd", &c.inventory_value_usd),
            col("units_bought_spot", &c.units_bought_spot),
            col("units_bought_installment", &c.units_bought_installment),
            col("units_sold", &c.units_sold),
            col("units_returned", &c.units_returned),
            col("units_scrapped", &c.units_scrapped),
            col("purchases_usd", &c.purchases_usd),
            col("sales_usd", &c.sales_usd),
            col("writedowns_usd", &c.writedowns_usd),
            col("dump_discount_share", &c.dump_discount_share),
            col("price_usd_per_th", &c.price_usd_per_th),
            col("secondary_price_usd_per_th", &c.secondary_price_usd_per_th),
            col("installments_outstanding_usd", &c.installments_outstanding_usd),
            col("n_installments", &c.n_installments),
            col("n_defaults", &c.n_defaults),
            col("defaulted_balance_usd", &c.defaulted_balance_usd),
        ],
    )
}

pub fn regions_frame(c: &RegionCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    let regions: Vec<&str> = c.region_idx.iter().map(|&r| names.regions[r as usize]).collect();
    let origins: Vec<Option<&str>> = c
        .max_tariff_origin_idx
        .iter()
        .zip(&c.max_tariff_share)
        .map(|(&o, &t)| {
            if t > 0.0 {
                names.origins.get(o as usize).copied()
            } else {
                None
            }
        })
        .collect();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            Column::new("region".into(), regions),
            col("hashrate_ehs", &c.hashrate_ehs),
            col("units_running", &c.units_running),
            col("units_off", &c.units_off),
            col("units_relocating", &c.units_relocating),
            col("units_banned", &c.units_banned),
            col("units_relocated_in", &c.units_relocated_in),
            col("units_queued", &c.units_queued),
            col("power_price_usd_per_kwh", &c.power_price_usd_per_kwh),
            col("opex_share_of_power", &c.opex_share_of_power),
            Column::new("capacity_mw".into(), c.capacity_mw.clone()),
            col("capacity_used_mw", &c.capacity_used_mw),
            col("max_tariff_share", &c.max_tariff_share),
            Column::new("max_tariff_origin".into(), origins),
            col("ban_level_share", &c.ban_level_share),
        ],
    )
}

pub fn events_frame(c: &EventCols, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
    let n = c.len();
    let subject: Vec<&str> = c
        .subject_kind
        .iter()
        .zip(&c.subject_idx)
        .map(|(&kind, &idx)| match kind {
            "manufacturer" => names.manufacturers[idx as usize],
            "region" => names.regions[idx as usize],
            "segment" => names.segments[idx as usize],
            other => other,
        })
        .collect();
    DataFrame::new(
        n,
        vec![
            scenario_col(names, n),
            col("path", &c.path),
            months(cal, &c.month)?,
            col("kind", &c.kind),
            Column::new("subject".into(), subject),
            Column::new("block_height".into(), c.block_height.clone()),
            Column::new(
                "region".into(),
                c.region_idx
                    .iter()
                    .map(|r| r.map(|r| names.regions[r as usize]))
                    .collect::<Vec<Option<&str>>>(),
            ),
            col("units", &c.units),
            col("amount_usd", &c.amount_usd),
            col("value", &c.value),
            col("value_unit", &c.value_unit),
            Column::new("detail".into(), c.detail.clone()),
        ],
    )
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
