//! Manufacturers: wafer lots in flight, production, finished stock, the futures book, self-mining and the books.
//!
//! The market-facing steps (signing futures, delivering, selling spot) live in `crate::market::trade`,
//! which moves units and money between manufacturers, dealers and miners; this file holds the state and the
//! steps a manufacturer takes on its own: production, pricing, planning, wafer orders, self-mining,
//! write-downs and financing.

use crate::market::hardware::{monthly_profit_usd_per_unit, payback_months};
use crate::math::{max_not_nan, units_f64};
use crate::params::{GenerationParams, ManufacturerParams, Segment};
use crate::units::Month;

#[derive(Clone, Debug)]
pub struct WaferLot {
    pub ordered: Month,
    pub arrival: Month,
    pub generation_idx: usize,
    pub units: u64,
    pub unit_cost_usd: f64,
    pub prepaid_usd: f64,
    pub balance_due_usd: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractStatus {
    Pending,
    Delivered,
    WalkedAway,
    Refunded,
    /// Closed with a mix of delivered, walked-away and refunded units.
    Mixed,
}

impl ContractStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Pending => "pending",
            ContractStatus::Delivered => "delivered",
            ContractStatus::WalkedAway => "walked_away",
            ContractStatus::Refunded => "refunded",
            ContractStatus::Mixed => "mixed",
        }
    }
}

/// The units of a futures contract bound for one region, and the import duty there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionPart {
    pub region_idx: usize,
    /// Units of this part not yet delivered, walked away from or refunded.
    pub units_left: u64,
    pub duty_per_unit_usd: f64,
}

/// A futures contract: units of one generation at a locked price, delivered in monthly batches.
/// One contract per (buyer segment, month signed) holds the regions the machines go to as parts, so the
/// book stays small however many regions there are.
#[derive(Clone, Debug)]
pub struct FuturesContract {
    pub contract_id: u64,
    pub buyer: Segment,
    pub generation_idx: usize,
    pub signed: Month,
    pub first_delivery: Month,
    pub n_batches: u32,
    pub units_total: u64,
    pub unit_price_usd: f64,
    pub prepaid_per_unit_usd: f64,
    /// Units whose batch has fallen due so far.
    pub units_due_to_date: u64,
    pub units_delivered: u64,
    pub units_walked: u64,
    pub units_refunded: u64,
    /// Month the oldest still-undelivered due batch fell due.
    pub late_since: Option<Month>,
    /// Units in every batch, and how many of the first batches take one more (set by `set_batches`).
    pub batch_base_units: u64,
    pub batch_remainder_units: u32,
    /// Where the units go; the parts' units left always add up to `units_pending`.
    pub parts: Vec<RegionPart>,
    /// Whether the parts' duties differ (set by `add_part`): when they do not, the highest duty still to be
    /// paid needs no pass over the parts.
    duties_differ: bool,
}

/// What a futures contract is signed for: the buyer, the machines and the terms.
#[derive(Clone, Copy, Debug)]
pub struct ContractTerms {
    pub buyer: Segment,
    pub generation_idx: usize,
    pub signed: Month,
    pub first_delivery: Month,
    pub n_batches: u32,
    pub unit_price_usd: f64,
    pub prepaid_per_unit_usd: f64,
}

impl FuturesContract {
    /// A contract with no units yet, on `terms`, keeping its region parts in `parts` (an empty list, often a
    /// closed contract's): fills join it with `add_part`, then `set_batches` splits the total into batches.
    pub fn open(contract_id: u64, terms: ContractTerms, parts: Vec<RegionPart>) -> FuturesContract {
        debug_assert!(parts.is_empty());
        FuturesContract {
            contract_id,
            buyer: terms.buyer,
            generation_idx: terms.generation_idx,
            signed: terms.signed,
            first_delivery: terms.first_delivery,
            n_batches: terms.n_batches,
            units_total: 0,
            unit_price_usd: terms.unit_price_usd,
            prepaid_per_unit_usd: terms.prepaid_per_unit_usd,
            units_due_to_date: 0,
            units_delivered: 0,
            units_walked: 0,
            units_refunded: 0,
            late_since: None,
            batch_base_units: 0,
            batch_remainder_units: 0,
            parts,
            duties_differ: false,
        }
    }

    pub fn units_pending(&self) -> u64 {
        self.units_total - self.units_delivered - self.units_walked - self.units_refunded
    }

    /// Units due now and not yet resolved.
    pub fn units_outstanding_due(&self) -> u64 {
        self.units_due_to_date - self.units_delivered - self.units_walked - self.units_refunded
    }

    /// Units of the batch falling due in `month` (earlier batches take the remainder); none once the contract
    /// was cancelled, since a refund makes every batch due at once.
    pub fn batch_units(&self, month: Month) -> u64 {
        if month < self.first_delivery {
            return 0;
        }
        let k = month.0 - self.first_delivery.0;
        if k >= self.n_batches {
            return 0;
        }
        // Precomputed at signing: the monthly loop over the book does no integer division.
        (self.batch_base_units + u64::from(k < self.batch_remainder_units))
            .min(self.units_total - self.units_due_to_date)
    }

    /// Adds `n` units bound for a region (a new fill signed in the same month).
    pub fn add_part(&mut self, region_idx: usize, n: u64, duty_per_unit_usd: f64) {
        self.units_total += n;
        match self.parts.iter_mut().find(|p| p.region_idx == region_idx) {
            Some(part) => part.units_left += n,
            None => {
                if let Some(first) = self.parts.first() {
                    self.duties_differ |= first.duty_per_unit_usd != duty_per_unit_usd;
                }
                self.parts.push(RegionPart {
                    region_idx,
                    units_left: n,
                    duty_per_unit_usd,
                })
            }
        }
    }

    /// The highest duty still to be paid on any part (what a buyer must be ready to pay per unit).
    pub fn max_duty_per_unit_usd(&self) -> f64 {
        if !self.duties_differ {
            // Every part pays the same duty: it is the answer while any part has units left.
            return match self.parts.first() {
                Some(first) if self.units_pending() > 0 => max_not_nan(first.duty_per_unit_usd, 0.0),
                _ => 0.0,
            };
        }
        self.parts
            .iter()
            .filter(|p| p.units_left > 0)
            .fold(0.0, |most, p| max_not_nan(p.duty_per_unit_usd, most))
    }

    /// Takes `n` units out of the parts in proportion to what each has left, and reports each region's
    /// share to `each(region_idx, duty_per_unit_usd, units)`.
    pub fn take_from_parts(&mut self, n: u64, mut each: impl FnMut(usize, f64, u64)) {
        let total: u64 = self.parts.iter().map(|p| p.units_left).sum();
        if n == 0 || total == 0 {
            return;
        }
        let n = n.min(total);
        if n == total {
            // Everything left goes: each part gives all it has, with no division.
            for part in &mut self.parts {
                let taken = std::mem::take(&mut part.units_left);
                if taken > 0 {
                    each(part.region_idx, part.duty_per_unit_usd, taken);
                }
            }
            return;
        }
        // Integer arithmetic keeps the split exact: floor(n × left / total) each, and the few units left over
        // by rounding go to the parts with room, in order.
        // The product fits in 64 bits for any realistic book; 128-bit division only when it would not.
        let floor_share = |left: u64| match n.checked_mul(left) {
            Some(product) => product / total,
            None => (n as u128 * left as u128 / total as u128) as u64,
        };
        // One division per part: a book's few parts keep their shares on the stack; more parts work them
        // out again in the second pass.
        const ON_STACK: usize = 16;
        if self.parts.len() <= ON_STACK {
            let mut shares = [0u64; ON_STACK];
            let mut taken_total = 0;
            for (share, part) in shares.iter_mut().zip(&self.parts) {
                *share = floor_share(part.units_left);
                taken_total += *share;
            }
            take_shares(&mut self.parts, |i, _| shares[i], n - taken_total, each);
        } else {
            let taken_total: u64 = self.parts.iter().map(|p| floor_share(p.units_left)).sum();
            take_shares(&mut self.parts, |_, left| floor_share(left), n - taken_total, each);
        }
    }

    /// Recomputes the batch sizes from `units_total` and `n_batches`, after units were added.
    pub fn set_batches(&mut self) {
        let n = self.n_batches.max(1);
        self.n_batches = n;
        self.batch_base_units = self.units_total / n as u64;
        self.batch_remainder_units = (self.units_total % n as u64) as u32;
    }

    pub fn prepay_held_usd(&self) -> f64 {
        units_f64(self.units_pending()) * self.prepaid_per_unit_usd
    }

    pub fn status(&self) -> ContractStatus {
        if self.units_pending() > 0 {
            return ContractStatus::Pending;
        }
        match (self.units_delivered > 0, self.units_walked > 0, self.units_refunded > 0) {
            (true, false, false) => ContractStatus::Delivered,
            (false, true, false) => ContractStatus::WalkedAway,
            (false, false, true) => ContractStatus::Refunded,
            _ => ContractStatus::Mixed,
        }
    }
}

/// Takes each part's floor share (`share_of(part index, units left)`); the `left_over` units rounding left
/// go to the parts with room, in order. Reports each region's units to `each(region_idx, duty_per_unit_usd,
/// units)`.
fn take_shares(
    parts: &mut [RegionPart],
    share_of: impl Fn(usize, u64) -> u64,
    mut left_over: u64,
    mut each: impl FnMut(usize, f64, u64),
) {
    for (i, part) in parts.iter_mut().enumerate() {
        let share = share_of(i, part.units_left);
        let extra = (part.units_left - share).min(left_over);
        left_over -= extra;
        let taken = share + extra;
        if taken > 0 {
            part.units_left -= taken;
            each(part.region_idx, part.duty_per_unit_usd, taken);
        }
    }
}

/// Finished machines of one generation, at book value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stock {
    pub units: u64,
    pub book_value_usd: f64,
}

impl Stock {
    pub fn unit_book_usd(&self) -> f64 {
        if self.units > 0 {
            self.book_value_usd / units_f64(self.units)
        } else {
            0.0
        }
    }

    /// Removes `n` units at average book value; returns their book value.
    pub fn take(&mut self, n: u64) -> f64 {
        let n = n.min(self.units);
        if n == 0 {
            return 0.0;
        }
        let value = self.unit_book_usd() * units_f64(n);
        self.units -= n;
        self.book_value_usd = if self.units == 0 {
            0.0
        } else {
            (self.book_value_usd - value).max(0.0)
        };
        value
    }

    pub fn put(&mut self, n: u64, value_usd: f64) {
        self.units += n;
        self.book_value_usd += value_usd.max(0.0);
    }
}

/// A manufacturer's cash movements and accounting entries for one month.
#[derive(Clone, Debug, Default)]
pub struct ManufacturerFlows {
    // Cash in.
    pub prepayments_received_usd: f64,
    pub balances_collected_usd: f64,
    pub spot_sales_cash_usd: f64,
    pub dealer_down_payments_usd: f64,
    pub installments_collected_usd: f64,
    pub self_mining_revenue_usd: f64,
    pub scrap_proceeds_usd: f64,
    // Cash out.
    pub wafer_prepayments_paid_usd: f64,
    pub wafer_balances_paid_usd: f64,
    pub assembly_paid_usd: f64,
    pub opex_usd: f64,
    pub self_mining_power_cost_usd: f64,
    pub interest_usd: f64,
    pub refunds_paid_usd: f64,
    // Accounting, not cash.
    pub revenue_usd: f64,
    pub cogs_usd: f64,
    pub writedowns_usd: f64,
    pub prepayments_forfeited_usd: f64,
    pub prepayments_applied_usd: f64,
    pub bad_debt_usd: f64,
    // Units.
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
}

impl ManufacturerFlows {
    pub fn cash_in_usd(&self) -> f64 {
        self.prepayments_received_usd
            + self.balances_collected_usd
            + self.spot_sales_cash_usd
            + self.dealer_down_payments_usd
            + self.installments_collected_usd
            + self.self_mining_revenue_usd
            + self.scrap_proceeds_usd
    }

    pub fn cash_out_usd(&self) -> f64 {
        self.wafer_prepayments_paid_usd
            + self.wafer_balances_paid_usd
            + self.assembly_paid_usd
            + self.opex_usd
            + self.self_mining_power_cost_usd
            + self.interest_usd
            + self.refunds_paid_usd
    }
}

/// Whole-path tallies kept as the path runs, for the per-path summary.
#[derive(Clone, Debug, Default)]
pub struct ManufacturerTotals {
    pub min_cash_usd: f64,
    pub min_cash_month: u32,
    pub cash_below_zero: bool,
    pub distressed_ever: bool,
    pub revenue_usd: f64,
    pub cogs_usd: f64,
    pub writedowns_usd: f64,
    pub prepayments_forfeited_usd: f64,
    pub units_sold: u64,
    pub units_due_resolved: u64,
    pub units_walked: u64,
    // Conservation tallies.
    pub units_produced: u64,
    pub units_delivered: u64,
    pub units_sold_spot: u64,
    pub units_sold_dealers: u64,
    pub units_self_mined: u64,
    pub units_scrapped: u64,
    pub units_recovered: u64,
    pub prepayments_received_usd: f64,
    pub prepayments_applied_usd: f64,
    pub prepayments_refunded_usd: f64,
    pub contracts_signed: u64,
    pub contracts_closed: u64,
    pub units_contracted: u64,
    pub units_closed_delivered: u64,
    pub units_closed_walked: u64,
    pub units_closed_refunded: u64,
}

#[derive(Clone, Debug)]
pub struct Manufacturer {
    pub cash_usd: f64,
    pub credit_line_usd: f64,
    pub distressed: bool,
    pub wafer_lots: Vec<WaferLot>,
    /// Wafers arrived and waiting for production capacity, per generation (wafer cost already booked).
    pub wip_units: Vec<u64>,
    pub stock: Vec<Stock>,
    pub futures: Vec<FuturesContract>,
    /// Emptied `parts` lists of closed contracts, reused by new ones so signing allocates nothing.
    pub spare_parts: Vec<Vec<RegionPart>>,
    pub self_mining_units: Vec<u64>,
    pub self_mining_running_units: Vec<u64>,
    /// This month's spot and futures price per generation (0 when not offered).
    pub spot_price_usd: Vec<f64>,
    pub futures_price_usd: Vec<f64>,
    /// Planned output for the wafer order of this month, and the futures units still on offer for it.
    pub planned_units: u64,
    pub futures_offer_units: u64,
    pub futures_signed_units: u64,
    /// Stock per generation held back for futures batches due now or next month (refreshed after deliveries).
    pub reserved_units: Vec<u64>,
    pub flows: ManufacturerFlows,
    pub totals: ManufacturerTotals,
    next_contract_id: u64,
}

impl Manufacturer {
    pub fn new(params: &ManufacturerParams, n_generations: usize) -> Manufacturer {
        Manufacturer {
            cash_usd: params.cash_usd,
            credit_line_usd: params.credit_line_usd,
            distressed: false,
            wafer_lots: Vec::with_capacity(16),
            wip_units: vec![0; n_generations],
            stock: vec![Stock::default(); n_generations],
            futures: Vec::with_capacity(64),
            spare_parts: Vec::new(),
            self_mining_units: vec![0; n_generations],
            self_mining_running_units: vec![0; n_generations],
            spot_price_usd: vec![0.0; n_generations],
            futures_price_usd: vec![0.0; n_generations],
            planned_units: 0,
            futures_offer_units: 0,
            futures_signed_units: 0,
            reserved_units: vec![0; n_generations],
            flows: ManufacturerFlows::default(),
            totals: ManufacturerTotals {
                min_cash_usd: params.cash_usd,
                ..ManufacturerTotals::default()
            },
            next_contract_id: 0,
        }
    }

    pub fn next_contract_id(&mut self) -> u64 {
        self.next_contract_id += 1;
        self.next_contract_id
    }

    pub fn inventory_units(&self) -> u64 {
        self.stock.iter().map(|s| s.units).sum()
    }

    pub fn inventory_value_usd(&self) -> f64 {
        self.stock.iter().map(|s| s.book_value_usd).sum()
    }

    pub fn backlog_units(&self) -> u64 {
        self.futures.iter().map(|c| c.units_pending()).sum()
    }

    pub fn prepay_held_usd(&self) -> f64 {
        self.futures.iter().map(|c| c.prepay_held_usd()).sum()
    }

    pub fn wafer_commitments_usd(&self) -> f64 {
        self.wafer_lots.iter().map(|l| l.balance_due_usd).sum()
    }

    pub fn wafer_prepaid_usd(&self) -> f64 {
        self.wafer_lots.iter().map(|l| l.prepaid_usd).sum()
    }

    pub fn wip_total_units(&self) -> u64 {
        self.wip_units.iter().sum::<u64>() + self.wafer_lots.iter().map(|l| l.units).sum::<u64>()
    }

    pub fn credit_used_usd(&self) -> f64 {
        (-self.cash_usd).max(0.0)
    }

    /// The roadmap entry this manufacturer sells in `month` (the latest whose sell-from month has come),
    /// or the first entry before any has started.
    pub fn current_roadmap_idx(params: &ManufacturerParams, month_offset: i64) -> usize {
        let mut current = 0;
        for (i, entry) in params.roadmap.iter().enumerate() {
            if entry.sell_from_month_offset <= month_offset {
                current = i;
            }
        }
        current
    }

    /// Unit cost of a generation on this manufacturer's roadmap (the current entry's if not listed).
    pub fn unit_cost_usd(params: &ManufacturerParams, generation_idx: usize) -> f64 {
        params
            .roadmap
            .iter()
            .find(|e| e.generation_idx == generation_idx)
            .map(|e| e.unit_cost_usd)
            .unwrap_or_else(|| params.roadmap[0].unit_cost_usd)
    }

    /// Whether `generation_idx` has been superseded on this manufacturer's roadmap by `month_offset`.
    pub fn is_ageing(params: &ManufacturerParams, generation_idx: usize, month_offset: i64) -> bool {
        let current = Self::current_roadmap_idx(params, month_offset);
        let current_generation = params.roadmap[current].generation_idx;
        generation_idx != current_generation
            && params
                .roadmap
                .iter()
                .position(|e| e.generation_idx == generation_idx)
                .is_none_or(|i| i < current)
    }

    /// Prices every generation it may sell: payback pricing floored at cost plus margin, except stock
    /// being cleared (superseded generations), which follows the used-machine price.
    pub fn set_prices(
        &mut self,
        params: &ManufacturerParams,
        generations: &[GenerationParams],
        revenue_usd_per_th_day: f64,
        secondary_price_usd: &[f64],
        scrap_value_usd: f64,
        month_offset: i64,
    ) {
        let strategy = &params.strategy;
        for generation_idx in 0..generations.len() {
            self.spot_price_usd[generation_idx] = 0.0;
            self.futures_price_usd[generation_idx] = 0.0;
        }
        let current = Self::current_roadmap_idx(params, month_offset);
        for (i, entry) in params.roadmap.iter().enumerate() {
            let g = entry.generation_idx;
            let profit = monthly_profit_usd_per_unit(
                &generations[g],
                revenue_usd_per_th_day,
                strategy.pricing_power_price_usd_per_kwh,
                0.0,
            );
            let payback_price = profit * strategy.target_payback_months;
            let floor = entry.unit_cost_usd * (1.0 + strategy.min_margin_share);
            let list = payback_price.max(floor);
            if i < current {
                // Superseded: clear stock at what the market pays for it.
                let clearing = payback_price.min(secondary_price_usd[g]).max(scrap_value_usd);
                self.spot_price_usd[g] = clearing;
            } else {
                self.spot_price_usd[g] = list;
                self.futures_price_usd[g] = list * (1.0 + strategy.futures_premium_share);
            }
        }
        // Stock of generations not on the roadmap (recovered from dealers) clears at the used price.
        for (g, stock) in self.stock.iter().enumerate() {
            if stock.units > 0 && self.spot_price_usd[g] == 0.0 {
                self.spot_price_usd[g] = secondary_price_usd[g].max(scrap_value_usd);
            }
        }
    }

    /// Plans the output of the wafer order placed this month and the futures offered against it.
    pub fn plan(
        &mut self,
        params: &ManufacturerParams,
        generations: &[GenerationParams],
        revenue_usd_per_th_day: f64,
        month_offset: i64,
    ) {
        let strategy = &params.strategy;
        self.futures_signed_units = 0;
        if self.distressed {
            self.planned_units = 0;
            self.futures_offer_units = 0;
            return;
        }
        let arrival_offset = month_offset + strategy.wafer_lead_months as i64;
        let entry = &params.roadmap[Self::current_roadmap_idx(params, arrival_offset)];
        let generation = &generations[entry.generation_idx];
        let profit = monthly_profit_usd_per_unit(
            generation,
            revenue_usd_per_th_day,
            strategy.pricing_power_price_usd_per_kwh,
            0.0,
        );
        let price =
            (profit * strategy.target_payback_months).max(entry.unit_cost_usd * (1.0 + strategy.min_margin_share));
        let payback = payback_months(price, profit);
        let utilisation = if payback <= strategy.plan_full_payback_months {
            1.0
        } else if payback >= strategy.plan_min_payback_months {
            strategy.plan_min_utilisation_share
        } else {
            let span = strategy.plan_min_payback_months - strategy.plan_full_payback_months;
            1.0 - (1.0 - strategy.plan_min_utilisation_share) * (payback - strategy.plan_full_payback_months) / span
        };
        let capacity = params.capacity_units_per_month as f64;
        let target_stock = strategy.target_inventory_months * capacity;
        let pipeline = (self.inventory_units() + self.wip_total_units()) as f64;
        let committed = self.backlog_units() as f64;
        // Stock beyond target (net of what is already sold forward) is worked off over the lead time.
        let excess = (pipeline - committed - target_stock).max(0.0);
        let lead = strategy.wafer_lead_months.max(1) as f64;
        let planned = (utilisation * capacity - excess / lead).clamp(0.0, capacity);
        self.planned_units = planned.floor() as u64;
        self.futures_offer_units = (strategy.futures_share * planned).floor() as u64;
    }

    /// Turns waiting wafers into finished machines, oldest generation first, up to capacity.
    pub fn produce(&mut self, params: &ManufacturerParams) {
        let mut capacity = params.capacity_units_per_month;
        for g in 0..self.wip_units.len() {
            if capacity == 0 {
                break;
            }
            let n = self.wip_units[g].min(capacity);
            if n == 0 {
                continue;
            }
            capacity -= n;
            self.wip_units[g] -= n;
            let unit_cost = Self::unit_cost_usd(params, g);
            let assembly = units_f64(n) * unit_cost * (1.0 - params.wafer_cost_share);
            self.cash_usd -= assembly;
            self.flows.assembly_paid_usd += assembly;
            self.stock[g].put(n, units_f64(n) * unit_cost);
            self.flows.units_produced += n;
        }
    }

    /// Orders wafers for the month `wafer_lead_months` ahead: the futures sold against them plus the
    /// spot share of the plan. Pays the foundry prepayment now; the lot joins the end of the book.
    pub fn order_wafers(&mut self, params: &ManufacturerParams, month: Month, month_offset: i64) {
        let strategy = &params.strategy;
        if self.distressed {
            return;
        }
        let spot_units = ((1.0 - strategy.futures_share) * self.planned_units as f64).floor() as u64;
        let units = (self.futures_signed_units + spot_units).min(params.capacity_units_per_month);
        if units == 0 {
            return;
        }
        let arrival_offset = month_offset + strategy.wafer_lead_months as i64;
        let entry = &params.roadmap[Self::current_roadmap_idx(params, arrival_offset)];
        let wafer_cost = units as f64 * entry.unit_cost_usd * params.wafer_cost_share;
        let prepaid = wafer_cost * strategy.wafer_prepay_share;
        self.cash_usd -= prepaid;
        self.flows.wafer_prepayments_paid_usd += prepaid;
        self.flows.units_wafers_ordered += units;
        let lot = WaferLot {
            ordered: month,
            arrival: Month(month.0 + strategy.wafer_lead_months),
            generation_idx: entry.generation_idx,
            units,
            unit_cost_usd: entry.unit_cost_usd,
            prepaid_usd: prepaid,
            balance_due_usd: wafer_cost - prepaid,
        };
        self.wafer_lots.push(lot);
    }

    /// Wafer lots due by `month` arrive: their balances are paid and the wafers wait for production. Called
    /// every month.
    pub fn receive_wafers(&mut self, month: Month) {
        // The book is in arrival order (lots are ordered a fixed lead ahead, at most one a month), so the lots
        // due are at the front: one or none.
        debug_assert!(self.wafer_lots.is_sorted_by_key(|l| (l.arrival, l.ordered)));
        let n_due = self.wafer_lots.iter().take_while(|l| l.arrival <= month).count();
        for lot in self.wafer_lots.drain(..n_due) {
            self.cash_usd -= lot.balance_due_usd;
            self.flows.wafer_balances_paid_usd += lot.balance_due_usd;
            self.wip_units[lot.generation_idx] += lot.units;
        }
    }

    /// Recomputes the stock held back for futures: batches still due and those falling due in `next_month`.
    /// Contracts only change this when batches fall due, so once per month after deliveries is enough.
    pub fn refresh_reserved(&mut self, next_month: Month) {
        self.reserved_units.fill(0);
        // Contracts are in signing order with a fixed lead, so those delivering by next month form a prefix.
        let n = self.futures.partition_point(|c| c.first_delivery <= next_month);
        for c in &self.futures[..n] {
            self.reserved_units[c.generation_idx] += c.units_outstanding_due() + c.batch_units(next_month);
        }
    }

    /// Units of stock not needed for futures batches due now or next month.
    pub fn free_stock_units(&self, generation_idx: usize) -> u64 {
        self.stock[generation_idx]
            .units
            .saturating_sub(self.reserved_units[generation_idx])
    }

    /// Books a month's fixed costs and interest on credit drawn.
    pub fn pay_fixed_costs(&mut self, params: &ManufacturerParams) {
        let cut = if self.distressed {
            params.distress_cost_cut_share
        } else {
            0.0
        };
        // Part of the cost base follows the output plan: staff and programmes shrink with a slump.
        let utilisation = if params.capacity_units_per_month > 0 {
            (self.planned_units as f64 / params.capacity_units_per_month as f64).min(1.0)
        } else {
            0.0
        };
        let scale = 1.0 - params.variable_cost_share * (1.0 - utilisation);
        let opex = (params.fixed_opex_usd_per_month + params.rnd_usd_per_month) * scale * (1.0 - cut);
        self.cash_usd -= opex;
        self.flows.opex_usd += opex;
        let interest = self.credit_used_usd() * params.credit_interest_rate_per_month;
        self.cash_usd -= interest;
        self.flows.interest_usd += interest;
    }

    /// Writes stock down to what it would fetch; returns nothing, books the write-down.
    pub fn write_down(&mut self, market_value_usd: &[f64]) {
        for (g, stock) in self.stock.iter_mut().enumerate() {
            if stock.units == 0 {
                continue;
            }
            let value = units_f64(stock.units) * market_value_usd[g].max(0.0);
            if stock.book_value_usd > value {
                self.flows.writedowns_usd += stock.book_value_usd - value;
                stock.book_value_usd = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(n_batches: u32) -> ContractTerms {
        ContractTerms {
            buyer: Segment::KeyAccount,
            generation_idx: 0,
            signed: Month(0),
            first_delivery: Month(5),
            n_batches,
            unit_price_usd: 1000.0,
            prepaid_per_unit_usd: 500.0,
        }
    }

    fn contract(units_total: u64, n_batches: u32) -> FuturesContract {
        let mut contract = FuturesContract::open(1, terms(n_batches), vec![]);
        contract.add_part(0, units_total, 0.0);
        contract.set_batches();
        contract
    }

    #[test]
    fn parts_split_in_proportion_and_stay_whole() {
        let mut c = contract(1000, 6);
        c.parts[0].units_left = 700;
        c.add_part(2, 300, 50.0);
        assert_eq!(c.units_total, 1300);
        c.parts[0].units_left = 700;
        let mut seen = vec![];
        c.take_from_parts(101, |r, d, n| seen.push((r, d, n)));
        assert_eq!(seen.iter().map(|s| s.2).sum::<u64>(), 101);
        assert_eq!(seen, vec![(0, 0.0, 71), (2, 50.0, 30)]);
        assert_eq!(c.parts.iter().map(|p| p.units_left).sum::<u64>(), 899);
        assert_eq!(c.max_duty_per_unit_usd(), 50.0);
    }

    /// With one duty on every part, the highest duty still owed is that duty while units are pending, and
    /// none once every part is empty; a part with another duty switches to the pass over the parts.
    #[test]
    fn the_highest_duty_owed_follows_the_parts_left() {
        let mut c = contract(600, 3);
        c.add_part(1, 400, 0.0);
        assert_eq!(c.max_duty_per_unit_usd(), 0.0);
        let mut c = FuturesContract::open(2, terms(1), vec![]);
        c.add_part(0, 10, 40.0);
        c.add_part(3, 30, 40.0);
        assert_eq!(c.max_duty_per_unit_usd(), 40.0);
        c.take_from_parts(40, |_, _, _| {});
        c.units_delivered = 40;
        assert_eq!(c.max_duty_per_unit_usd(), 0.0);
        c.add_part(4, 5, 90.0);
        c.add_part(2, 5, 10.0);
        assert_eq!(c.max_duty_per_unit_usd(), 90.0);
        c.take_from_parts(5, |_, _, _| {});
        assert_eq!(c.parts.iter().map(|p| p.units_left).collect::<Vec<_>>(), [0, 0, 2, 3]);
        assert_eq!(c.max_duty_per_unit_usd(), 90.0);
    }

    /// More parts than fit on the stack split the same way: floor shares, then the rounding's units to the
    /// first parts with room.
    #[test]
    fn many_parts_split_in_proportion() {
        let mut c = FuturesContract::open(3, terms(1), vec![]);
        for r in 0..20 {
            c.add_part(r, 10 + r as u64, 0.0);
        }
        let total: u64 = c.parts.iter().map(|p| p.units_left).sum();
        let mut seen = vec![];
        c.take_from_parts(101, |r, _, n| seen.push((r, n)));
        // 101 × (10 + r) / 390 rounded down gives 90 units; the 11 left go one part at a time, as far as each
        // part's room allows: all 8 the first part has left above its share, then 3 of the second's.
        let floors: Vec<u64> = (0..20).map(|r| 101 * (10 + r) / total).collect();
        assert_eq!(floors.iter().sum::<u64>(), 90);
        let mut expected: Vec<(usize, u64)> = floors.iter().enumerate().map(|(r, &f)| (r, f)).collect();
        expected[0].1 += 8;
        expected[1].1 += 3;
        assert_eq!(seen, expected);
        assert_eq!(c.parts.iter().map(|p| p.units_left).sum::<u64>(), total - 101);
    }

    /// A cancelled contract holds no stock back for the batches it will no longer take; a running one holds
    /// its next batch.
    #[test]
    fn only_batches_still_owed_are_reserved() {
        let base = crate::fixtures::small();
        let mut m = Manufacturer::new(&base.manufacturers[0], base.generations.len());
        m.futures.push(contract(600, 6));
        m.refresh_reserved(Month(5));
        assert_eq!(m.reserved_units[0], 100);
        // Cancelled: every unit refunded, every batch due.
        let c = &mut m.futures[0];
        c.units_refunded = c.units_total;
        c.units_due_to_date = c.units_total;
        assert_eq!(c.batch_units(Month(6)), 0);
        m.refresh_reserved(Month(6));
        assert_eq!(m.reserved_units[0], 0);
    }

    /// Lots in flight at the start and lots ordered each month arrive in the month they are due, one at a
    /// time from the front of the book, each paying its balance; months with nothing due change nothing.
    #[test]
    fn wafer_lots_arrive_in_their_month_and_pay_their_balance() {
        let base = crate::fixtures::small();
        let mp = &base.manufacturers[0];
        let lead = mp.strategy.wafer_lead_months;
        let mut m = Manufacturer::new(mp, base.generations.len());
        m.wafer_lots.extend(crate::market::trade::initial_wafer_lots(mp));
        assert_eq!(m.wafer_lots.len(), lead as usize);
        // A lot ordered in month 0 (due at `lead`), then none for a month (as when distressed), then one more.
        let lot = |ordered: u32, units: u64| WaferLot {
            ordered: Month(ordered),
            arrival: Month(ordered + lead),
            generation_idx: 0,
            units,
            unit_cost_usd: 100.0,
            prepaid_usd: 0.0,
            balance_due_usd: units as f64 * 70.0,
        };
        m.wafer_lots.push(lot(0, 1_000));
        m.wafer_lots.push(lot(2, 3_000));
        let (mut received, mut paid) = (Vec::new(), Vec::new());
        for month in 0..lead + 4 {
            let (wip_before, cash_before) = (m.wip_units.iter().sum::<u64>(), m.cash_usd);
            m.flows = Default::default();
            m.receive_wafers(Month(month));
            let units = m.wip_units.iter().sum::<u64>() - wip_before;
            assert_eq!(
                m.cash_usd,
                cash_before - m.flows.wafer_balances_paid_usd,
                "month {month}"
            );
            received.push(units);
            paid.push(m.flows.wafer_balances_paid_usd);
        }
        let mut expected = vec![mp.initial_wafer_units_per_month; lead as usize];
        expected.extend([1_000, 0, 3_000, 0]);
        assert_eq!(received, expected);
        assert_eq!(paid[lead as usize..], [70_000.0, 0.0, 210_000.0, 0.0]);
        assert!(m.wafer_lots.is_empty());
    }

    #[test]
    fn batches_sum_to_the_contract() {
        let c = contract(1003, 6);
        let total: u64 = (0..20).map(|m| c.batch_units(Month(m))).sum();
        assert_eq!(total, 1003);
        assert_eq!(c.batch_units(Month(4)), 0);
        assert_eq!(c.batch_units(Month(5)), 168);
        assert_eq!(c.batch_units(Month(10)), 167);
        assert_eq!(c.batch_units(Month(11)), 0);
    }

    #[test]
    fn stock_takes_at_average_book_value() {
        let mut s = Stock::default();
        s.put(10, 1000.0);
        s.put(10, 3000.0);
        assert!((s.take(5) - 1000.0).abs() < 1e-9);
        assert_eq!(s.units, 15);
        assert!((s.book_value_usd - 3000.0).abs() < 1e-9);
    }
}
