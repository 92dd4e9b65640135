//! Manufacturers: wafer lots in flight, production, finished stock, the futures book, self-mining and the books.
//!
//! This file holds the manufacturer's state, its queries and its futures book; the production cycle
//! (wafers, assembly, pricing, planning) is in `production`, the contracts in `futures`, and everything that
//! moves its cash, with the two-sided postings the market phases call, in `books`.
#![warn(missing_docs)]

pub mod books;
pub mod futures;
pub mod origins;
pub mod planning;
pub mod pricing;
pub mod production;

use books::{ManufacturerFlows, ManufacturerTotals};
use futures::{ContractTerms, FuturesContract, RegionPart};
use origins::OriginBook;
use planning::Forecast;
use production::WaferLot;

use crate::math::units_f64;
use crate::params::{GenerationParams, ManufacturerParams};
use crate::units::Month;

/// A manufacturer: cash, wafer lots in flight, finished stock, the futures book, self-mining and the month's
/// prices and plan. Cash changes only through the postings in `books`.
#[derive(Clone, Debug)]
pub struct Manufacturer {
    /// Written only by the postings in `books`, each with the flow that explains it.
    cash_usd: f64,
    credit_line_usd: f64,
    distressed: bool,
    wafer_lots: Vec<WaferLot>,
    /// Wafers arrived and waiting for production capacity, per generation (wafer cost already booked).
    wip_units: Vec<u64>,
    /// Finished machines in stock, per generation, at book value.
    pub stock: Vec<Stock>,
    /// The same machines by where they were made, and the futures on offer by origin.
    origins: OriginBook,
    /// The futures book: open contracts in signing order.
    pub futures: Vec<FuturesContract>,
    /// Emptied `parts` lists of closed contracts, reused by new ones so signing allocates nothing; it starts
    /// with as much room as the book (`futures`), so closing contracts does not allocate either.
    spare_parts: Vec<Vec<RegionPart>>,
    self_mining_units: Vec<u64>,
    self_mining_running_units: Vec<u64>,
    /// List price per generation: the sticky price the spot price follows (0 before first priced).
    list_price_usd: Vec<f64>,
    /// This month's spot and futures price per generation (0 when not offered).
    spot_price_usd: Vec<f64>,
    futures_price_usd: Vec<f64>,
    /// Planned output for the wafer order of this month, and the futures units still on offer for it.
    planned_units: u64,
    futures_offer_units: u64,
    futures_signed_units: u64,
    /// Stock per generation held back for futures batches due now or next month (refreshed after deliveries).
    reserved_units: Vec<u64>,
    /// The month's assembly per line (main line first), reused so production allocates nothing.
    assembly_budgets: Vec<u64>,
    /// The plan's output per origin slot, reused so planning allocates nothing.
    planned_slot_units: Vec<u64>,
    /// The demand forecast the plan follows.
    forecast: Forecast,
    /// Foundry capacity booked per order month, a ring indexed by month modulo its length
    /// (`foundry_booking_months` + 1).
    bookings: Vec<u64>,
    flows: ManufacturerFlows,
    totals: ManufacturerTotals,
    next_contract_id: u64,
    /// TH/s of one machine of each generation, for the hashrate sold.
    unit_hashrate_ths: Vec<f64>,
}

impl Manufacturer {
    /// A manufacturer with its starting cash and credit line and nothing else, for the scenario's `generations`;
    /// [`Manufacturer::start`] adds the starting stock and wafer lots.
    pub fn new(params: &ManufacturerParams, generations: &[GenerationParams]) -> Manufacturer {
        let n_generations = generations.len();
        Manufacturer {
            unit_hashrate_ths: generations.iter().map(|g| g.hashrate_ths).collect(),
            cash_usd: params.cash_usd,
            credit_line_usd: params.credit_line_usd,
            distressed: false,
            wafer_lots: Vec::with_capacity(16),
            wip_units: vec![0; n_generations],
            stock: vec![Stock::default(); n_generations],
            origins: OriginBook::new(params, n_generations),
            futures: Vec::with_capacity(64),
            spare_parts: Vec::with_capacity(64),
            self_mining_units: vec![0; n_generations],
            self_mining_running_units: vec![0; n_generations],
            list_price_usd: vec![0.0; n_generations],
            spot_price_usd: vec![0.0; n_generations],
            futures_price_usd: vec![0.0; n_generations],
            planned_units: 0,
            futures_offer_units: 0,
            futures_signed_units: 0,
            reserved_units: vec![0; n_generations],
            assembly_budgets: Vec::with_capacity(params.production_lines.len() + 1),
            planned_slot_units: Vec::new(),
            forecast: Forecast::new(
                1.0,
                params.initial_wafer_units_per_month as f64,
                1.0 - params.strategy.futures_share,
            ),
            bookings: vec![0; params.strategy.foundry_booking_months as usize + 1],
            flows: ManufacturerFlows::default(),
            totals: ManufacturerTotals {
                // No month has ended yet: the opening balance is in no monthly row, so it is no candidate.
                min_cash_usd: f64::INFINITY,
                start_cash_usd: params.cash_usd,
                ..ManufacturerTotals::default()
            },
            next_contract_id: 0,
        }
    }

    /// Cash at hand in USD; negative while the credit line is drawn.
    pub fn cash_usd(&self) -> f64 {
        self.cash_usd
    }

    /// The month's flows so far.
    pub fn flows(&self) -> &ManufacturerFlows {
        &self.flows
    }

    /// The path's tallies so far.
    pub fn totals(&self) -> &ManufacturerTotals {
        &self.totals
    }

    /// Clears the month's flows.
    pub fn open_month(&mut self) {
        self.flows = ManufacturerFlows::default();
    }

    /// Whether cash has fallen below minus the credit line (the line is used up): costs are cut, no wafers
    /// ordered, no futures sold.
    pub fn is_distressed(&self) -> bool {
        self.distressed
    }

    /// Finished stock by origin, and the futures on offer by origin.
    pub fn origins(&self) -> &OriginBook {
        &self.origins
    }

    /// Sets the order in which stock leaves for each of `n_regions` regions from the tariffs in force
    /// (`tariff_share(region, origin)`); see [`OriginBook::set_order`]. Tariffs change only before the
    /// month's production, so once a month then is enough.
    pub fn set_origin_order(&mut self, n_regions: usize, tariff_share: impl Fn(usize, usize) -> f64) {
        self.origins.set_order(n_regions, tariff_share);
    }

    /// Of this month's futures on offer, `n` units were signed from the origins `pick` allows.
    pub fn sign_futures_by_origin(&mut self, n: u64, pick: origins::Pick) {
        if self.origins.n_slots() > 1 {
            self.origins.sign_futures(n, pick);
        }
    }

    /// Relabels one finished machine of generation `g` as made in slot `slot` without its tallies, breaking
    /// the conservation of machines by origin: the failure tests use it.
    #[cfg(any(test, feature = "fixtures"))]
    pub(crate) fn relabel_origin_unit(&mut self, g: usize, slot: usize) {
        self.origins.relabel_unit(g, slot);
    }

    /// Finished machines made outside the main origin, all generations together.
    pub fn onshore_inventory_units(&self) -> u64 {
        self.origins.onshore_units()
    }

    /// Machines put to self-mining, per generation.
    pub fn self_mining_units(&self) -> &[u64] {
        &self.self_mining_units
    }

    /// Self-mining machines running this month, per generation.
    pub fn self_mining_running_units(&self) -> &[u64] {
        &self.self_mining_running_units
    }

    /// This month's spot price per generation (0 when not offered).
    pub fn spot_prices_usd(&self) -> &[f64] {
        &self.spot_price_usd
    }

    /// This month's futures price per generation (0 when not offered).
    pub fn futures_prices_usd(&self) -> &[f64] {
        &self.futures_price_usd
    }

    /// Planned output for this month's wafer order.
    pub fn planned_units(&self) -> u64 {
        self.planned_units
    }

    /// Futures units still on offer against this month's wafer order.
    pub fn futures_units_left(&self) -> u64 {
        self.futures_offer_units.saturating_sub(self.futures_signed_units)
    }

    fn next_contract_id(&mut self) -> u64 {
        self.next_contract_id += 1;
        self.next_contract_id
    }

    /// Machines in stock, all generations together.
    pub fn inventory_units(&self) -> u64 {
        self.stock.iter().map(|s| s.units).sum()
    }

    /// Book value of the stock in USD, all generations together.
    pub fn inventory_value_usd(&self) -> f64 {
        self.stock.iter().map(|s| s.book_value_usd).sum()
    }

    /// Futures machines signed for and not yet delivered, walked away from or refunded.
    pub fn backlog_units(&self) -> u64 {
        self.futures.iter().map(|c| c.units_pending()).sum()
    }

    /// Prepayments held on those machines, in USD: what walk-aways would forfeit or cancellations refund.
    pub fn prepay_held_usd(&self) -> f64 {
        self.futures.iter().map(|c| c.prepay_held_usd()).sum()
    }

    /// Foundry balances still due on wafer lots in flight, in USD.
    pub fn wafer_commitments_usd(&self) -> f64 {
        self.wafer_lots.iter().map(|l| l.balance_due_usd).sum()
    }

    /// Foundry prepayments already paid on wafer lots in flight, in USD.
    pub fn wafer_prepaid_usd(&self) -> f64 {
        self.wafer_lots.iter().map(|l| l.prepaid_usd).sum()
    }

    /// Machines in the pipeline: wafers arrived and waiting for assembly, plus wafer lots in flight.
    pub fn wip_total_units(&self) -> u64 {
        self.wip_units.iter().sum::<u64>() + self.wafer_lots.iter().map(|l| l.units).sum::<u64>()
    }

    /// Credit drawn in USD: minus cash when cash is below zero, else 0.
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

    /// Recomputes the stock held back for futures: batches still due and those falling due in `next_month`.
    /// Contracts only change this when batches fall due, so once per month after deliveries is enough.
    pub fn refresh_reserved(&mut self, next_month: Month) {
        // Contracts are in signing order with a fixed lead, so those delivering by next month form a prefix.
        let n = self.futures.partition_point(|c| c.first_delivery <= next_month);
        self.reserve_for_first(n, next_month);
    }

    /// [`Manufacturer::refresh_reserved`] right after deliveries, which found the first `n_delivering`
    /// contracts delivering this month: of the rest, only the few starting next month deliver by then, so
    /// stepping over them finds the prefix.
    pub(crate) fn refresh_reserved_after_deliveries(&mut self, n_delivering: usize, next_month: Month) {
        let starting = self.futures[n_delivering..]
            .iter()
            .take_while(|c| c.first_delivery <= next_month)
            .count();
        self.reserve_for_first(n_delivering + starting, next_month);
    }

    /// Holds back stock for the batches still due and those falling due in `next_month` on the first `n`
    /// contracts, the ones delivering by then.
    #[inline]
    fn reserve_for_first(&mut self, n: usize, next_month: Month) {
        self.reserved_units.fill(0);
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

    /// Adds a futures fill to this month's contract with the buyer of `terms` (opening it with the month's
    /// first fill): one region part per destination, (region, units), at `duty_per_unit_usd`. The batch sizes
    /// follow the units signed so far; the month's last fill sets them for good.
    pub fn add_to_month_contract(
        &mut self,
        terms: ContractTerms,
        destinations: &[(usize, u64)],
        duty_per_unit_usd: f64,
        n_regions: usize,
    ) {
        // Fills signed this month by the same segment join that month's contract.
        let existing = self
            .futures
            .iter()
            .rev()
            .take_while(|c| c.signed == terms.signed)
            .position(|c| c.buyer == terms.buyer && c.first_delivery == terms.first_delivery);
        let contract_idx = match existing {
            Some(back) => self.futures.len() - 1 - back,
            None => {
                let contract_id = self.next_contract_id();
                // A closed contract's parts, or room for one part per region (the most a contract takes).
                let parts = self.spare_parts.pop().unwrap_or_else(|| Vec::with_capacity(n_regions));
                self.futures.push(FuturesContract::open(contract_id, terms, parts));
                self.totals.contracts_signed += 1;
                self.futures.len() - 1
            }
        };
        let contract = &mut self.futures[contract_idx];
        for &(region_idx, k) in destinations {
            contract.add_part(region_idx, k, duty_per_unit_usd);
        }
        contract.set_batches();
    }

    /// Closes the finished contracts among the first `n_delivering` (only contracts delivering can have
    /// finished) into the running tallies, telling `on_close` of each; their parts lists are kept for reuse.
    pub fn close_finished_contracts(&mut self, n_delivering: usize, mut on_close: impl FnMut(&FuturesContract)) {
        // They finish in signing order unless deliveries fell behind, so usually the finished ones are the
        // front of the book: then one drain moves the rest once, where `retain` would move every contract
        // after the first finished one by one.
        let delivering = &self.futures[..n_delivering];
        let n_finished_front = delivering.iter().take_while(|c| c.units_pending() == 0).count();
        let only_front_finished = delivering[n_finished_front..].iter().all(|c| c.units_pending() > 0);
        let (spare_parts, totals) = (&mut self.spare_parts, &mut self.totals);
        let mut close = |c: &mut FuturesContract| {
            let mut parts = std::mem::take(&mut c.parts);
            parts.clear();
            spare_parts.push(parts);
            totals.contracts_closed += 1;
            totals.units_closed_delivered += c.units_delivered;
            totals.units_closed_walked += c.units_walked;
            totals.units_closed_refunded += c.units_refunded;
            on_close(c);
        };
        if only_front_finished {
            for mut c in self.futures.drain(..n_finished_front) {
                close(&mut c);
            }
        } else {
            self.futures.retain_mut(|c| {
                if c.units_pending() > 0 {
                    return true;
                }
                close(c);
                false
            });
        }
    }

    /// Notes the month's cash in the path's tallies: the lowest cash and its month, and whether cash was ever
    /// negative or the manufacturer ever distressed.
    pub fn track_cash(&mut self, month: Month) {
        let t = &mut self.totals;
        if self.cash_usd < t.min_cash_usd {
            t.min_cash_usd = self.cash_usd;
            t.min_cash_month = month.0;
        }
        t.cash_below_zero |= self.cash_usd < 0.0;
        t.distressed_ever |= self.distressed;
    }
}

/// Finished machines of one generation, at book value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stock {
    /// Number of machines.
    pub units: u64,
    /// Their book value in USD: what they cost (a manufacturer's production cost, the dealers' purchase price)
    /// less write-downs; machines taken back from dealers enter at their recovered value.
    pub book_value_usd: f64,
}

impl Stock {
    /// Average book value of one machine in USD (0 when there are none).
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

    /// Adds `n` machines worth `value_usd` (a negative value counts as 0) to the stock.
    pub fn put(&mut self, n: u64, value_usd: f64) {
        self.units += n;
        self.book_value_usd += value_usd.max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::futures::tests::contract;
    use super::*;

    /// A cancelled contract holds no stock back for the batches it will no longer take; a running one holds
    /// its next batch.
    #[test]
    fn only_batches_still_owed_are_reserved() {
        let base = crate::fixtures::small();
        let mut m = Manufacturer::new(&base.manufacturers[0], &base.generations);
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
