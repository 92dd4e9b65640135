//! A manufacturer's books: the month's flows and the path's tallies, and every step that moves its cash.
//!
//! Cash changes only here, each change with the flow that explains it, so the money check (cash change =
//! cash in - cash out) holds by construction. The two-sided postings (`sell_spot`, `receive_prepayment`,
//! `deliver_futures_units`, `forfeit_prepayment`, `refund_prepayment`) book the buying segment's side too;
//! the dealer's postings in `crate::agents::dealer` call the manufacturer's halves below
//! (`sell_to_dealer_spot`, `sell_to_dealer_on_installment`, `receive_installment`, `take_back_from_dealer`).
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::futures::FuturesContract;
use crate::agents::manufacturer::origins::Pick;
use crate::agents::miner::books::SegmentBooks;
use crate::market::hardware::power_cost_usd_per_th_day;
use crate::math::{floor_units, units_f64};
use crate::params::{GenerationParams, ManufacturerParams};
use crate::units::W_PER_KW;

/// Where a manufacturer's self-mining fleet runs this month: its power price and the share of it a ban
/// leaves running.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelfMiningSite {
    /// All-in power price of its mines, in USD per kWh.
    pub power_price_usd_per_kwh: f64,
    /// Share of the fleet allowed to run ([0, 1]; 1 unless its region bans mining).
    pub running_share: f64,
}

impl SelfMiningSite {
    /// Its own sites at `params.self_mining_power_price_usd_per_kwh`, nothing banned.
    pub fn own(params: &ManufacturerParams) -> SelfMiningSite {
        SelfMiningSite {
            power_price_usd_per_kwh: params.self_mining_power_price_usd_per_kwh,
            running_share: 1.0,
        }
    }

    /// Of `units` machines, those allowed to run.
    fn running_units(self, units: u64) -> u64 {
        if self.running_share >= 1.0 {
            units
        } else {
            floor_units(units_f64(units) * self.running_share.max(0.0))
        }
    }
}

/// A manufacturer's cash movements and accounting entries for one month.
#[derive(Clone, Debug, Default)]
pub struct ManufacturerFlows {
    // Cash in.
    /// Futures prepayments received at signing, in USD.
    pub prepayments_received_usd: f64,
    /// Futures balances collected at delivery, in USD.
    pub balances_collected_usd: f64,
    /// Received for spot sales, to miners and to dealers, in USD.
    pub spot_sales_cash_usd: f64,
    /// Dealers' down payments on installment contracts signed this month, in USD.
    pub dealer_down_payments_usd: f64,
    /// Dealers' installments collected, in USD.
    pub installments_collected_usd: f64,
    /// Mining revenue of the self-mining fleet, in USD.
    pub self_mining_revenue_usd: f64,
    /// Received for stock scrapped, in USD.
    pub scrap_proceeds_usd: f64,
    /// Paid by hosting clients for the MW it hosts, in USD.
    pub hosting_revenue_usd: f64,
    /// Revenue of the AI-chip unit, in USD.
    pub ai_chip_revenue_usd: f64,
    // Cash out.
    /// Foundry prepayments paid on wafer lots ordered this month, in USD.
    pub wafer_prepayments_paid_usd: f64,
    /// Foundry balances paid on wafer lots that arrived this month, in USD.
    pub wafer_balances_paid_usd: f64,
    /// Assembly paid on machines produced this month, in USD: the share of unit cost not paid to the foundry.
    pub assembly_paid_usd: f64,
    /// Operating cost and R&D paid, after any distress cut and the variable share's scaling, in USD.
    pub opex_usd: f64,
    /// Power bill of the self-mining fleet, in USD.
    pub self_mining_power_cost_usd: f64,
    /// Interest paid on credit drawn (cash below zero), in USD.
    pub interest_usd: f64,
    /// Prepayments refunded on futures batches cancelled for being late, in USD.
    pub refunds_paid_usd: f64,
    /// Penalties paid to the foundry on take-or-pay capacity left unordered, in USD.
    pub cancellation_penalties_usd: f64,
    /// Cost of the hosting business (power, sites, staff), in USD.
    pub hosting_cost_usd: f64,
    /// Operating cost of the AI-chip unit, with its exit cost in the exit month, in USD.
    pub ai_chip_opex_usd: f64,
    // Accounting, not cash.
    /// Of `assembly_paid_usd`, the extra cost of the machines assembled on lines outside the main origin, in USD.
    pub assembly_uplift_usd: f64,
    /// Of `opex_usd`, the fixed cost of the production lines outside the main origin, in USD.
    pub production_lines_fixed_cost_usd: f64,
    /// Import duties buyers paid at the border on its machines (spot sales at sale, futures at delivery), in
    /// USD: part of the landed price they compared, not the manufacturer's cash.
    pub tariffs_on_sales_usd: f64,
    /// Sales revenue in USD, booked when machines change hands: spot and dealer sales at their price (installment
    /// sales in full at signing), futures at the contract price on delivery.
    pub revenue_usd: f64,
    /// Book value of the machines sold, in USD.
    pub cogs_usd: f64,
    /// Book value written off stock that would fetch less than it is carried at, in USD.
    pub writedowns_usd: f64,
    /// Prepayments kept from buyers who walked away, in USD: other income, with no cash this month.
    pub prepayments_forfeited_usd: f64,
    /// Prepayments of the units delivered this month, applied to their price (cash received at signing), in USD.
    pub prepayments_applied_usd: f64,
    /// Dealer balances written off, in USD: what a defaulted contract's recovered machines do not cover, and the
    /// rounding residue of last payments.
    pub bad_debt_usd: f64,
    // Units.
    /// Machines assembled from arrived wafers.
    pub units_produced: u64,
    /// Of those, machines assembled on the lines outside the main origin.
    pub units_produced_onshore: u64,
    /// Machines made outside the main origin that left stock to buyers (spot, delivered, to dealers).
    pub units_sold_onshore: u64,
    /// Machines sold spot to miners.
    pub units_sold_spot: u64,
    /// Machines sold to dealers, spot or on installment.
    pub units_sold_dealers: u64,
    /// Of those, machines pushed onto dealers on installment (bear markets).
    pub units_sold_dealers_on_installment: u64,
    /// Machines signed for on futures this month (delivered later).
    pub units_sold_futures: u64,
    /// Futures machines delivered.
    pub units_delivered: u64,
    /// Hashrate of the machines whose sale is recognised this month (spot, to dealers, futures delivered), in TH/s.
    pub hashrate_sold_ths: f64,
    /// Futures machines walked away from (strategic and forced).
    pub units_walked_away: u64,
    /// Of those, the machines whose buyers could not pay: a balance beyond their cash and credit, or a
    /// key-account firm's default.
    pub units_walked_forced: u64,
    /// Of those, the machines on the futures of key-account firms that failed (due or not yet due).
    pub units_defaulted: u64,
    /// Balances the failed firms left unpaid on the machines they defaulted on, in USD (no cash moves).
    pub balances_defaulted_usd: f64,
    /// Prepayments kept on the machines failed firms defaulted on, in USD (part of `prepayments_forfeited_usd`).
    pub prepayments_kept_on_default_usd: f64,
    /// Futures machines refunded because their batch was too late.
    pub units_refunded: u64,
    /// Unsold machines moved from stock into self-mining.
    pub units_self_mined: u64,
    /// Machines scrapped from stock.
    pub units_scrapped: u64,
    /// Machines taken back into stock from dealers who defaulted.
    pub units_recovered: u64,
    /// Machines the wafer lots ordered this month will make.
    pub units_wafers_ordered: u64,
    /// Foundry capacity booked this month, for the order `foundry_booking_months` ahead, in machines.
    pub units_capacity_booked: u64,
    /// Take-or-pay capacity left unordered this month and paid the cancellation penalty on, in machines.
    pub units_booking_cancelled: u64,
    /// Machines buyers wanted of it this month but found sold out: the budget they left unspent for want of
    /// machines, shared over the sold-out sellers by how strongly they were wanted.
    pub units_unmet_demand: u64,
}

impl ManufacturerFlows {
    /// Cash received this month, in USD: the cash-in fields summed.
    pub fn cash_in_usd(&self) -> f64 {
        self.prepayments_received_usd
            + self.balances_collected_usd
            + self.spot_sales_cash_usd
            + self.dealer_down_payments_usd
            + self.installments_collected_usd
            + self.self_mining_revenue_usd
            + self.scrap_proceeds_usd
            + self.hosting_revenue_usd
            + self.ai_chip_revenue_usd
    }

    /// Cash paid out this month, in USD: the cash-out fields summed.
    pub fn cash_out_usd(&self) -> f64 {
        self.wafer_prepayments_paid_usd
            + self.wafer_balances_paid_usd
            + self.assembly_paid_usd
            + self.opex_usd
            + self.self_mining_power_cost_usd
            + self.interest_usd
            + self.refunds_paid_usd
            + self.cancellation_penalties_usd
            + self.hosting_cost_usd
            + self.ai_chip_opex_usd
    }

    /// Revenue of the other lines this month, in USD: hosting and the AI-chip unit.
    pub fn other_lines_revenue_usd(&self) -> f64 {
        self.hosting_revenue_usd + self.ai_chip_revenue_usd
    }

    /// Cost of the other lines this month, in USD: hosting and the AI-chip unit.
    pub fn other_lines_cost_usd(&self) -> f64 {
        self.hosting_cost_usd + self.ai_chip_opex_usd
    }

    /// Gross margin this month, in USD: revenue less the book value of the machines sold and write-downs.
    /// Forfeited prepayments are other income, not margin.
    pub fn gross_margin_usd(&self) -> f64 {
        self.revenue_usd - self.cogs_usd - self.writedowns_usd
    }

    /// Other income this month, in USD: prepayments kept from buyers who walked away.
    pub fn other_income_usd(&self) -> f64 {
        self.prepayments_forfeited_usd
    }
}

/// Whole-path tallies kept as the path runs, for the per-path summary.
#[derive(Clone, Debug, Default)]
pub struct ManufacturerTotals {
    /// The lowest month-end cash so far, in USD (infinite before the first month ends: the opening balance
    /// is no month's end).
    pub min_cash_usd: f64,
    /// Month index (from the start month) of the first month that ended with that lowest cash.
    pub min_cash_month: u32,
    /// Whether month-end cash was ever below zero.
    pub cash_below_zero: bool,
    /// Whether the manufacturer was ever distressed.
    pub distressed_ever: bool,
    /// Sales revenue so far, in USD (see [`ManufacturerFlows::revenue_usd`]).
    pub revenue_usd: f64,
    /// Book value of the machines sold so far, in USD.
    pub cogs_usd: f64,
    /// Write-downs so far, in USD.
    pub writedowns_usd: f64,
    /// Prepayments forfeited by buyers so far, in USD.
    pub prepayments_forfeited_usd: f64,
    /// Cancellation penalties paid to the foundry so far, in USD.
    pub cancellation_penalties_usd: f64,
    // Cash tallies: with the starting cash, they sum to the cash at any month's end (the cash waterfall).
    /// The scenario's starting cash, in USD (the advances on futures signed before the start come on top, in
    /// `prepayments_received_usd`).
    pub start_cash_usd: f64,
    /// Cash collected for machines so far, in USD: spot sales, futures balances, dealers' down payments and
    /// installments (prepayments are counted when received, in `prepayments_received_usd`).
    pub sales_collected_usd: f64,
    /// Foundry prepayments paid so far, in USD.
    pub wafer_prepayments_paid_usd: f64,
    /// Foundry balances paid so far, in USD.
    pub wafer_balances_paid_usd: f64,
    /// Assembly paid so far, in USD.
    pub assembly_paid_usd: f64,
    /// Operating cost and R&D paid so far, in USD.
    pub opex_usd: f64,
    /// Interest paid on credit drawn so far, in USD.
    pub interest_usd: f64,
    /// Self-mining revenue so far, in USD.
    pub self_mining_revenue_usd: f64,
    /// Self-mining power bills so far, in USD.
    pub self_mining_power_cost_usd: f64,
    /// Received for stock scrapped so far, in USD.
    pub scrap_proceeds_usd: f64,
    /// Hosting and AI-chip revenue so far, in USD.
    pub other_lines_revenue_usd: f64,
    /// Hosting and AI-chip costs so far, in USD.
    pub other_lines_cost_usd: f64,
    /// Import duties buyers paid on its machines so far, in USD (not its cash).
    pub tariffs_on_sales_usd: f64,
    /// Machines sold so far: futures delivered, spot sales to miners and sales to dealers.
    pub units_sold: u64,
    /// Futures machines whose batch fell due and that were delivered or walked away from (the walk-away rate's
    /// denominator; refunds are left out).
    pub units_due_resolved: u64,
    /// Futures machines walked away from so far.
    pub units_walked: u64,
    /// Futures machines failed key-account firms defaulted on so far.
    pub units_defaulted: u64,
    /// Balances failed firms left unpaid so far, in USD.
    pub balances_defaulted_usd: f64,
    /// Prepayments kept on defaulted futures so far, in USD.
    pub prepayments_kept_on_default_usd: f64,
    // Conservation tallies.
    /// Machines produced so far.
    pub units_produced: u64,
    /// Futures machines delivered so far.
    pub units_delivered: u64,
    /// Machines sold spot to miners so far.
    pub units_sold_spot: u64,
    /// Machines sold to dealers so far.
    pub units_sold_dealers: u64,
    /// Machines moved into self-mining so far.
    pub units_self_mined: u64,
    /// Machines scrapped so far.
    pub units_scrapped: u64,
    /// Machines taken back from defaulting dealers so far.
    pub units_recovered: u64,
    /// Futures prepayments received so far, in USD.
    pub prepayments_received_usd: f64,
    /// Prepayments applied to deliveries so far, in USD.
    pub prepayments_applied_usd: f64,
    /// Prepayments refunded so far, in USD.
    pub prepayments_refunded_usd: f64,
    /// Futures contracts opened so far.
    pub contracts_signed: u64,
    /// Futures contracts closed so far (every unit delivered, walked away from or refunded).
    pub contracts_closed: u64,
    /// Machines signed for on futures so far.
    pub units_contracted: u64,
    /// Machines delivered on the contracts closed so far.
    pub units_closed_delivered: u64,
    /// Machines walked away from on the contracts closed so far.
    pub units_closed_walked: u64,
    /// Machines refunded on the contracts closed so far.
    pub units_closed_refunded: u64,
}

impl ManufacturerTotals {
    /// Cash received since the start, in USD: the cash-in tallies summed, with the advances on futures signed
    /// before the start.
    pub fn cash_received_usd(&self) -> f64 {
        self.sales_collected_usd
            + self.prepayments_received_usd
            + self.self_mining_revenue_usd
            + self.scrap_proceeds_usd
            + self.other_lines_revenue_usd
    }

    /// Cash paid since the start, in USD: the cash-out tallies summed.
    pub fn cash_paid_usd(&self) -> f64 {
        self.prepayments_refunded_usd
            + self.wafer_prepayments_paid_usd
            + self.wafer_balances_paid_usd
            + self.assembly_paid_usd
            + self.cancellation_penalties_usd
            + self.opex_usd
            + self.interest_usd
            + self.self_mining_power_cost_usd
            + self.other_lines_cost_usd
    }
}

impl Manufacturer {
    // Two-sided postings with a buying segment.

    /// Takes `n` machines of generation `g` out of stock, from the origins `pick` says; returns their book
    /// value. `sold`: they go to a buyer, and the onshore ones count as sold.
    fn take_stock(&mut self, g: usize, n: u64, pick: Pick, sold: bool) -> f64 {
        let value = self.stock[g].take(n);
        let onshore = self.origins.take(g, n, pick);
        if sold {
            self.flows.units_sold_onshore += onshore;
        }
        value
    }

    /// Sells `n` machines of generation `g` from stock to a segment for `value_usd`, from the origins `pick`
    /// says; the buyer also pays `duty_usd` at the border.
    pub fn sell_spot(&mut self, buyer: &mut SegmentBooks, g: usize, n: u64, value_usd: f64, duty_usd: f64, pick: Pick) {
        let cogs = self.take_stock(g, n, pick, true);
        self.flows.tariffs_on_sales_usd += duty_usd;
        self.cash_usd += value_usd;
        self.flows.spot_sales_cash_usd += value_usd;
        self.flows.revenue_usd += value_usd;
        self.flows.cogs_usd += cogs;
        self.flows.units_sold_spot += n;
        self.flows.hashrate_sold_ths += units_f64(n) * self.unit_hashrate_ths[g];
        buyer.pay_spot(value_usd, duty_usd);
    }

    /// A segment signs futures for `n` machines: it pays `prepayment_usd` now and owes `balance_owed_usd` at
    /// delivery (the contract itself is booked by `add_to_month_contract`).
    pub fn receive_prepayment(&mut self, buyer: &mut SegmentBooks, n: u64, prepayment_usd: f64, balance_owed_usd: f64) {
        self.cash_usd += prepayment_usd;
        self.flows.prepayments_received_usd += prepayment_usd;
        self.flows.units_sold_futures += n;
        self.futures_signed_units += n;
        self.totals.units_contracted += n;
        buyer.pay_prepayment(prepayment_usd, balance_owed_usd);
    }

    /// Delivers `n` machines from stock on a futures contract (whose units the caller moves), `regions`
    /// saying how many go to each region ((region, units) pairs adding up to `n`; each region gets the
    /// origins cheapest landed there first): the buyer pays `balance_usd` (and `duty_usd` at the border), and
    /// the contract's prepayment on them is applied. A manufacturer with a single origin has no choice of
    /// origin to make, so it does not read `regions` (which may then be left empty).
    #[inline]
    pub fn deliver_futures_units(
        &mut self,
        buyer: &mut SegmentBooks,
        contract: &FuturesContract,
        n: u64,
        balance_usd: f64,
        duty_usd: f64,
        regions: &[(usize, u64)],
    ) {
        let g = contract.generation_idx;
        let cogs = self.stock[g].take(n);
        if self.origins.n_slots() == 1 {
            // Every unit comes from the main origin, whichever region it goes to: none is onshore.
            self.origins.take(g, n, Pick::ANY);
        } else {
            debug_assert_eq!(regions.iter().map(|&(_, k)| k).sum::<u64>(), n);
            for &(region_idx, k) in regions {
                self.flows.units_sold_onshore += self.origins.take(g, k, Pick::to_region(region_idx));
            }
        }
        self.flows.tariffs_on_sales_usd += duty_usd;
        self.cash_usd += balance_usd;
        self.flows.balances_collected_usd += balance_usd;
        self.flows.revenue_usd += units_f64(n) * contract.unit_price_usd;
        self.flows.cogs_usd += cogs;
        let prepaid_applied = units_f64(n) * contract.prepaid_per_unit_usd;
        self.flows.prepayments_applied_usd += prepaid_applied;
        self.flows.units_delivered += n;
        self.flows.hashrate_sold_ths += units_f64(n) * self.unit_hashrate_ths[contract.generation_idx];
        buyer.pay_balance(balance_usd, duty_usd, prepaid_applied);
    }

    /// A futures buyer walks away from `n` machines: the manufacturer keeps `forfeited_usd` of prepayments
    /// and the buyer no longer owes `balance_released_usd`. No cash moves.
    pub fn forfeit_prepayment(
        &mut self,
        buyer: &mut SegmentBooks,
        n: u64,
        forfeited_usd: f64,
        balance_released_usd: f64,
    ) {
        self.flows.units_walked_away += n;
        self.flows.prepayments_forfeited_usd += forfeited_usd;
        buyer.forfeit_prepayment(forfeited_usd, balance_released_usd);
    }

    /// Of the machines just walked away from, `n` were walked away from because the buyer could not pay.
    pub fn note_forced_walk_away(&mut self, n: u64) {
        self.flows.units_walked_forced += n;
    }

    /// A key-account firm failed with `n` machines of a contract pending: the manufacturer keeps their
    /// `forfeited_usd` of prepayments, `balance_released_usd` is never paid, and the machines stay in (or
    /// come back to) its free stock. No cash moves.
    pub fn take_default(&mut self, buyer: &mut SegmentBooks, n: u64, forfeited_usd: f64, balance_released_usd: f64) {
        self.forfeit_prepayment(buyer, n, forfeited_usd, balance_released_usd);
        self.flows.units_walked_forced += n;
        self.flows.units_defaulted += n;
        self.flows.balances_defaulted_usd += balance_released_usd;
        self.flows.prepayments_kept_on_default_usd += forfeited_usd;
    }

    /// A contract late beyond the limit is cancelled: `n` machines are refunded, `refund_usd` of
    /// prepayments goes back and the buyer no longer owes `balance_released_usd`.
    pub fn refund_prepayment(&mut self, buyer: &mut SegmentBooks, n: u64, refund_usd: f64, balance_released_usd: f64) {
        self.cash_usd -= refund_usd;
        self.flows.refunds_paid_usd += refund_usd;
        self.flows.units_refunded += n;
        buyer.receive_refund(refund_usd, balance_released_usd);
    }

    // The manufacturer's halves of the dealer's two-sided postings (`crate::agents::dealer`).

    /// Sells `n` machines of generation `g` to dealers for `value_usd`, paid now.
    pub(crate) fn sell_to_dealer_spot(&mut self, g: usize, n: u64, value_usd: f64) {
        let cogs = self.take_stock(g, n, Pick::ANY, true);
        self.cash_usd += value_usd;
        self.flows.spot_sales_cash_usd += value_usd;
        self.flows.revenue_usd += value_usd;
        self.flows.cogs_usd += cogs;
        self.flows.units_sold_dealers += n;
        self.flows.hashrate_sold_ths += units_f64(n) * self.unit_hashrate_ths[g];
    }

    /// Sells `n` machines of generation `g` to dealers for `value_usd` on installments, `down_usd` paid now.
    pub(crate) fn sell_to_dealer_on_installment(&mut self, g: usize, n: u64, value_usd: f64, down_usd: f64) {
        let cogs = self.take_stock(g, n, Pick::ANY, true);
        self.cash_usd += down_usd;
        self.flows.dealer_down_payments_usd += down_usd;
        self.flows.revenue_usd += value_usd;
        self.flows.cogs_usd += cogs;
        self.flows.units_sold_dealers += n;
        self.flows.units_sold_dealers_on_installment += n;
        self.flows.hashrate_sold_ths += units_f64(n) * self.unit_hashrate_ths[g];
    }

    /// A dealer's installment comes in.
    pub(crate) fn receive_installment(&mut self, payment_usd: f64) {
        self.cash_usd += payment_usd;
        self.flows.installments_collected_usd += payment_usd;
    }

    /// A dealer defaulted: `n` machines of generation `g` come back into stock at `recovered_value_usd`, and
    /// what that leaves of the contract's `balance_usd` is bad debt. Dealers keep no record of origin: the
    /// machines count as made in the main origin.
    pub(crate) fn take_back_from_dealer(&mut self, g: usize, n: u64, recovered_value_usd: f64, balance_usd: f64) {
        self.stock[g].put(n, recovered_value_usd);
        self.origins.put(g, 0, n, false);
        self.flows.units_recovered += n;
        self.flows.bad_debt_usd += (balance_usd - recovered_value_usd).max(0.0);
    }

    /// Forgives what is left of a dealer's contract (the rounding residue of its last payment).
    pub(crate) fn write_off_bad_debt(&mut self, residue_usd: f64) {
        self.flows.bad_debt_usd += residue_usd;
    }

    // The manufacturer's own steps.

    /// Assembles `n` machines of generation `g` in origin slot `slot`: the assembly is paid now (`uplift_usd`
    /// of it the extra cost of a line outside the main origin) and the machines join the stock at
    /// `book_value_usd` (wafer and assembly cost).
    pub(crate) fn pay_assembly(
        &mut self,
        g: usize,
        n: u64,
        assembly_usd: f64,
        book_value_usd: f64,
        slot: usize,
        uplift_usd: f64,
    ) {
        self.cash_usd -= assembly_usd;
        self.flows.assembly_paid_usd += assembly_usd;
        self.flows.assembly_uplift_usd += uplift_usd;
        self.stock[g].put(n, book_value_usd);
        self.origins.put(g, slot, n, true);
        self.flows.units_produced += n;
        if slot != 0 {
            self.flows.units_produced_onshore += n;
        }
    }

    /// Orders a wafer lot of `units`, paying the foundry's prepayment now.
    pub(crate) fn pay_wafer_prepayment(&mut self, units: u64, prepaid_usd: f64) {
        self.cash_usd -= prepaid_usd;
        self.flows.wafer_prepayments_paid_usd += prepaid_usd;
        self.flows.units_wafers_ordered += units;
    }

    /// Leaves `units` of take-or-pay capacity unordered, paying the foundry `penalty_usd`.
    pub(crate) fn pay_cancellation_penalty(&mut self, units: u64, penalty_usd: f64) {
        self.cash_usd -= penalty_usd;
        self.flows.cancellation_penalties_usd += penalty_usd;
        self.flows.units_booking_cancelled += units;
    }

    /// A wafer lot arrives: its balance is paid.
    pub(crate) fn pay_wafer_balance(&mut self, balance_usd: f64) {
        self.cash_usd -= balance_usd;
        self.flows.wafer_balances_paid_usd += balance_usd;
    }

    /// Switches each generation's self-mining fleet on when it earns more than its power costs at
    /// `revenue_usd_per_th_day`, at `site`, adding the hashrate that runs to `running_ths` (one running sum
    /// over every manufacturer and generation, in order).
    pub fn switch_self_mining(
        &mut self,
        generations: &[GenerationParams],
        site: SelfMiningSite,
        revenue_usd_per_th_day: f64,
        running_ths: &mut f64,
    ) {
        for (g, generation) in generations.iter().enumerate() {
            let units = self.self_mining_units[g];
            // Most generations have no self-mining machines: nothing to decide.
            if units == 0 {
                self.self_mining_running_units[g] = 0;
                continue;
            }
            let cost = power_cost_usd_per_th_day(generation.efficiency_jth(), site.power_price_usd_per_kwh);
            self.self_mining_running_units[g] = if revenue_usd_per_th_day > cost {
                site.running_units(units)
            } else {
                0
            };
            *running_ths += units_f64(self.self_mining_running_units[g]) * generation.hashrate_ths;
        }
    }

    /// The month's self-mining as the decision search sees it: for each generation with machines, in order,
    /// (power cost in USD per TH/s-day at `site`, TH/s allowed to run), pushed onto `steps`. The hashrate
    /// hashrate it runs at a revenue is the sum, in this order, of the TH/s whose cost the revenue exceeds
    /// (`market::operation::self_mining_ths_at`).
    pub fn self_mining_steps(
        &self,
        generations: &[GenerationParams],
        site: SelfMiningSite,
        steps: &mut Vec<(f64, f64)>,
    ) {
        for (g, generation) in generations.iter().enumerate() {
            let units = self.self_mining_units[g];
            if units == 0 {
                continue;
            }
            let cost = power_cost_usd_per_th_day(generation.efficiency_jth(), site.power_price_usd_per_kwh);
            steps.push((cost, units_f64(site.running_units(units)) * generation.hashrate_ths));
        }
    }

    /// Books the month's self-mining: revenue at `usd_per_ths_month` for the machines running, and their
    /// power over `hours` at `site`. Returns the power cost.
    pub fn book_self_mining(
        &mut self,
        generations: &[GenerationParams],
        site: SelfMiningSite,
        usd_per_ths_month: f64,
        hours: f64,
    ) -> f64 {
        let mut revenue = 0.0;
        let mut cost = 0.0;
        for (g, generation) in generations.iter().enumerate() {
            if self.self_mining_running_units[g] == 0 {
                continue;
            }
            let n = units_f64(self.self_mining_running_units[g]);
            revenue += n * generation.hashrate_ths * usd_per_ths_month;
            cost += n * generation.power_w / W_PER_KW * hours * site.power_price_usd_per_kwh;
        }
        self.cash_usd += revenue - cost;
        self.flows.self_mining_revenue_usd += revenue;
        self.flows.self_mining_power_cost_usd += cost;
        cost
    }

    /// Puts part of the free stock that would sell below cost (at `market_price_usd`) to self-mining.
    pub fn self_mine_unsold(&mut self, params: &ManufacturerParams, market_price_usd: &[f64]) {
        for (g, &price) in market_price_usd.iter().enumerate() {
            if self.stock[g].units == 0 || price >= Manufacturer::unit_cost_usd(params, g) {
                continue;
            }
            let free = self.free_stock_units(g);
            let n = floor_units(units_f64(free) * params.strategy.self_mine_share_per_month);
            if n == 0 {
                continue;
            }
            self.take_stock(g, n, Pick::ANY, false);
            self.self_mining_units[g] += n;
            self.flows.units_self_mined += n;
        }
    }

    /// Scraps the stock of superseded generations worth no more than scrap (`realisable_usd` per unit).
    pub fn scrap_ageing(
        &mut self,
        params: &ManufacturerParams,
        realisable_usd: &[f64],
        scrap_usd_per_unit: f64,
        month_offset: i64,
    ) {
        let scrap = scrap_usd_per_unit;
        for (g, &value) in realisable_usd.iter().enumerate() {
            if self.stock[g].units == 0
                || !Manufacturer::is_ageing(params, g, month_offset)
                || value > scrap * (1.0 + 1e-9)
            {
                continue;
            }
            let n = self.stock[g].units;
            self.take_stock(g, n, Pick::ANY, false);
            let proceeds = units_f64(n) * scrap;
            self.cash_usd += proceeds;
            self.flows.scrap_proceeds_usd += proceeds;
            self.flows.units_scrapped += n;
        }
    }

    /// Books the month of the businesses besides machines: hosting (its MW at the price and cost per
    /// MW-month) and the AI-chip unit (its revenue and opex until the exit month, its exit cost in that month).
    pub fn run_other_lines(&mut self, params: &ManufacturerParams, month_offset: i64) {
        if params.hosting_mw > 0.0 {
            let revenue = params.hosting_mw * params.hosting_price_usd_per_mw_month;
            let cost = params.hosting_mw * params.hosting_cost_usd_per_mw_month;
            self.cash_usd += revenue - cost;
            self.flows.hosting_revenue_usd += revenue;
            self.flows.hosting_cost_usd += cost;
        }
        let (revenue, opex) = match params.ai_chip_exit_month_offset {
            Some(exit) if month_offset > exit => (0.0, 0.0),
            Some(exit) if month_offset == exit => (0.0, params.ai_chip_exit_cost_usd),
            _ => (params.ai_chip_revenue_usd_per_month, params.ai_chip_opex_usd_per_month),
        };
        if revenue != 0.0 || opex != 0.0 {
            self.cash_usd += revenue - opex;
            self.flows.ai_chip_revenue_usd += revenue;
            self.flows.ai_chip_opex_usd += opex;
        }
    }

    /// Books a month's fixed costs (with those of the production lines started by `month_offset`) and interest
    /// on credit drawn.
    pub fn pay_fixed_costs(&mut self, params: &ManufacturerParams, month_offset: i64) {
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
        for line in &params.production_lines {
            if line.from_month_offset <= month_offset && line.fixed_cost_usd_per_month > 0.0 {
                let cost = line.fixed_cost_usd_per_month;
                self.cash_usd -= cost;
                self.flows.opex_usd += cost;
                self.flows.production_lines_fixed_cost_usd += cost;
            }
        }
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

    /// Whether cash is below minus the credit line (the line is used up): distress cuts costs and stops wafer
    /// orders and futures.
    /// Returns the new state when it changed this month.
    pub fn update_distress(&mut self) -> Option<bool> {
        let in_distress = self.cash_usd < -self.credit_line_usd;
        if in_distress == self.distressed {
            return None;
        }
        self.distressed = in_distress;
        Some(in_distress)
    }

    /// Adds the month's flows to the path's tallies.
    pub fn roll_up_month(&mut self) {
        let f = &self.flows;
        let t = &mut self.totals;
        t.revenue_usd += f.revenue_usd;
        t.cogs_usd += f.cogs_usd;
        t.writedowns_usd += f.writedowns_usd;
        t.prepayments_forfeited_usd += f.prepayments_forfeited_usd;
        t.cancellation_penalties_usd += f.cancellation_penalties_usd;
        t.units_sold += f.units_delivered + f.units_sold_spot + f.units_sold_dealers;
        t.units_walked += f.units_walked_away;
        t.units_defaulted += f.units_defaulted;
        t.balances_defaulted_usd += f.balances_defaulted_usd;
        t.prepayments_kept_on_default_usd += f.prepayments_kept_on_default_usd;
        t.units_due_resolved += f.units_walked_away + f.units_delivered;
        t.units_produced += f.units_produced;
        t.units_delivered += f.units_delivered;
        t.units_sold_spot += f.units_sold_spot;
        t.units_sold_dealers += f.units_sold_dealers;
        t.units_self_mined += f.units_self_mined;
        t.units_scrapped += f.units_scrapped;
        t.units_recovered += f.units_recovered;
        t.prepayments_received_usd += f.prepayments_received_usd;
        t.prepayments_applied_usd += f.prepayments_applied_usd;
        t.prepayments_refunded_usd += f.refunds_paid_usd;
        t.sales_collected_usd += f.spot_sales_cash_usd
            + f.balances_collected_usd
            + f.dealer_down_payments_usd
            + f.installments_collected_usd;
        t.wafer_prepayments_paid_usd += f.wafer_prepayments_paid_usd;
        t.wafer_balances_paid_usd += f.wafer_balances_paid_usd;
        t.assembly_paid_usd += f.assembly_paid_usd;
        t.opex_usd += f.opex_usd;
        t.interest_usd += f.interest_usd;
        t.self_mining_revenue_usd += f.self_mining_revenue_usd;
        t.self_mining_power_cost_usd += f.self_mining_power_cost_usd;
        t.scrap_proceeds_usd += f.scrap_proceeds_usd;
        t.other_lines_revenue_usd += f.other_lines_revenue_usd();
        t.other_lines_cost_usd += f.other_lines_cost_usd();
        t.tariffs_on_sales_usd += f.tariffs_on_sales_usd;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::agents::manufacturer::Manufacturer;
    use crate::agents::manufacturer::futures::tests::contract;
    use crate::agents::manufacturer::origins::Pick;
    use crate::agents::miner::books::SegmentBooks;
    use crate::agents::miner::books::tests::assert_cash_matches_flows;

    /// A manufacturer of the small scenario with 100 machines of generation 0 in stock at $2,000 each.
    pub(crate) fn manufacturer_with_stock() -> Manufacturer {
        let params = crate::fixtures::small();
        let mut m = Manufacturer::new(&params.manufacturers[0], &params.generations);
        m.stock[0].put(100, 200_000.0);
        m.origins.put(0, 0, 100, false);
        m
    }

    /// The money check of `crate::invariants`: the cash change equals cash in less cash out.
    pub(crate) fn assert_manufacturer_cash_matches_flows(m: &Manufacturer, cash_open_usd: f64) {
        let (change, f) = (m.cash_usd() - cash_open_usd, m.flows());
        let net = f.cash_in_usd() - f.cash_out_usd();
        assert!(
            (change - net).abs() < 1e-9,
            "manufacturer cash change {change} != flows {net}"
        );
    }

    #[test]
    fn a_spot_sale_moves_the_price_to_the_seller_and_the_duty_to_the_border() {
        let (mut m, mut buyer) = (manufacturer_with_stock(), SegmentBooks::new(1e6, 0.0));
        let m_open = m.cash_usd();
        m.sell_spot(&mut buyer, 0, 10, 30_000.0, 3_000.0, Pick::to_region(0));
        assert_eq!(m.cash_usd() - m_open, 30_000.0);
        assert_eq!(buyer.cash_usd(), 1e6 - 33_000.0);
        let f = m.flows();
        assert_eq!(
            (f.spot_sales_cash_usd, f.revenue_usd, f.cogs_usd),
            (30_000.0, 30_000.0, 20_000.0)
        );
        assert_eq!((f.units_sold_spot, m.stock[0].units), (10, 90));
        assert_eq!(
            (buyer.flows().spot_purchases_usd, buyer.flows().duties_paid_usd),
            (30_000.0, 3_000.0)
        );
        assert_manufacturer_cash_matches_flows(&m, m_open);
        assert_cash_matches_flows(&buyer, 1e6);
    }

    #[test]
    fn signing_futures_moves_the_prepayment_and_commits_the_balance() {
        let (mut m, mut buyer) = (manufacturer_with_stock(), SegmentBooks::new(1e6, 0.0));
        let m_open = m.cash_usd();
        m.receive_prepayment(&mut buyer, 10, 5_000.0, 25_000.0);
        assert_eq!(m.cash_usd() - m_open, 5_000.0);
        assert_eq!(buyer.cash_usd(), 1e6 - 5_000.0);
        assert_eq!(buyer.available_usd(), 1e6 - 5_000.0 - 25_000.0);
        let f = m.flows();
        assert_eq!((f.prepayments_received_usd, f.units_sold_futures), (5_000.0, 10));
        assert_eq!((m.futures_signed_units, m.totals().units_contracted), (10, 10));
        assert_eq!(buyer.flows().prepayments_paid_usd, 5_000.0);
        assert_manufacturer_cash_matches_flows(&m, m_open);
        assert_cash_matches_flows(&buyer, 1e6);
    }

    #[test]
    fn a_futures_delivery_collects_the_balance_and_applies_the_prepayment() {
        let (mut m, mut buyer) = (manufacturer_with_stock(), SegmentBooks::new(1e6, 0.0));
        // Ten machines at $1,000, $500 of each prepaid.
        let contract = contract(10, 1);
        m.receive_prepayment(&mut buyer, 10, 5_000.0, 5_000.0);
        let (m_open, buyer_open) = (m.cash_usd(), buyer.cash_usd());
        m.open_month();
        buyer.open_month();
        m.deliver_futures_units(&mut buyer, &contract, 10, 5_000.0, 1_000.0, &[(0, 10)]);
        assert_eq!(m.cash_usd() - m_open, 5_000.0);
        assert_eq!(buyer_open - buyer.cash_usd(), 6_000.0);
        // The balance is no longer owed once paid.
        assert_eq!(buyer.available_usd(), buyer.cash_usd());
        let f = m.flows();
        assert_eq!((f.balances_collected_usd, f.revenue_usd), (5_000.0, 10_000.0));
        assert_eq!((f.cogs_usd, m.stock[0].units), (20_000.0, 90));
        assert_eq!((f.prepayments_applied_usd, f.units_delivered), (5_000.0, 10));
        let buyer_flows = buyer.flows();
        assert_eq!(
            (buyer_flows.balances_paid_usd, buyer_flows.duties_paid_usd),
            (5_000.0, 1_000.0)
        );
        assert_manufacturer_cash_matches_flows(&m, m_open);
        assert_cash_matches_flows(&buyer, buyer_open);
    }

    #[test]
    fn walking_away_forfeits_the_prepayment_and_moves_no_cash() {
        let (mut m, mut buyer) = (manufacturer_with_stock(), SegmentBooks::new(1e6, 0.0));
        m.receive_prepayment(&mut buyer, 10, 5_000.0, 25_000.0);
        let (m_open, buyer_open) = (m.cash_usd(), buyer.cash_usd());
        m.open_month();
        buyer.open_month();
        m.forfeit_prepayment(&mut buyer, 10, 5_000.0, 25_000.0);
        assert_eq!((m.cash_usd(), buyer.cash_usd()), (m_open, buyer_open));
        assert_eq!(buyer.available_usd(), buyer.cash_usd());
        assert_eq!(
            (m.flows().prepayments_forfeited_usd, m.flows().units_walked_away),
            (5_000.0, 10)
        );
        assert_eq!(buyer.flows().prepayments_forfeited_usd, 5_000.0);
        assert_manufacturer_cash_matches_flows(&m, m_open);
        assert_cash_matches_flows(&buyer, buyer_open);
    }

    #[test]
    fn a_cancelled_contract_refunds_the_prepayment_to_the_buyer() {
        let (mut m, mut buyer) = (manufacturer_with_stock(), SegmentBooks::new(1e6, 0.0));
        m.receive_prepayment(&mut buyer, 10, 5_000.0, 25_000.0);
        let (m_open, buyer_open) = (m.cash_usd(), buyer.cash_usd());
        m.open_month();
        buyer.open_month();
        m.refund_prepayment(&mut buyer, 10, 5_000.0, 25_000.0);
        assert_eq!(m_open - m.cash_usd(), 5_000.0);
        assert_eq!(buyer.cash_usd() - buyer_open, 5_000.0);
        assert_eq!(buyer.available_usd(), 1e6);
        assert_eq!((m.flows().refunds_paid_usd, m.flows().units_refunded), (5_000.0, 10));
        assert_eq!(buyer.flows().refunds_received_usd, 5_000.0);
        assert_manufacturer_cash_matches_flows(&m, m_open);
        assert_cash_matches_flows(&buyer, buyer_open);
    }
}
