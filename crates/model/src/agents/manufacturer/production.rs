//! A manufacturer's own production cycle: wafer lots ordered a lead ahead and paid for in two parts,
//! assembly up to capacity, pricing and the output plan.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::market::hardware::{monthly_profit_usd_per_unit, payback_months};
use crate::math::units_f64;
use crate::params::{GenerationParams, ManufacturerParams};
use crate::units::Month;

/// A wafer order at the foundry: prepaid at order, the balance paid when the wafers arrive.
#[derive(Clone, Debug)]
pub struct WaferLot {
    /// Month the order was placed (month 0 for lots already in flight at the start, ordered before it).
    pub ordered: Month,
    /// Month the wafers arrive and the balance is paid: `wafer_lead_months` after the order.
    pub arrival: Month,
    /// Generation the wafers are for: the roadmap's current generation in the arrival month.
    pub generation_idx: usize,
    /// Machines the wafers make.
    pub units: u64,
    /// Full cost of one machine of the lot's generation, in USD; the foundry's part is `wafer_cost_share` of it.
    pub unit_cost_usd: f64,
    /// Foundry prepayment paid at order, in USD.
    pub prepaid_usd: f64,
    /// Foundry balance due on arrival, in USD.
    pub balance_due_usd: f64,
}

/// Wafer lots already in flight when the simulation starts (prepaid before month 0).
pub fn initial_wafer_lots(params: &ManufacturerParams) -> Vec<WaferLot> {
    let strategy = &params.strategy;
    (0..strategy.wafer_lead_months)
        .filter(|_| params.initial_wafer_units_per_month > 0)
        .map(|k| {
            let entry = &params.roadmap[Manufacturer::current_roadmap_idx(params, k as i64)];
            let cost = params.initial_wafer_units_per_month as f64 * entry.unit_cost_usd * params.wafer_cost_share;
            WaferLot {
                ordered: Month(0),
                arrival: Month(k),
                generation_idx: entry.generation_idx,
                units: params.initial_wafer_units_per_month,
                unit_cost_usd: entry.unit_cost_usd,
                prepaid_usd: cost * strategy.wafer_prepay_share,
                balance_due_usd: cost * (1.0 - strategy.wafer_prepay_share),
            }
        })
        .collect()
}

impl Manufacturer {
    /// A manufacturer at the start of a path: its initial inventory, of the first generation it sells, in
    /// stock, and the wafer lots already in flight.
    pub fn start(params: &ManufacturerParams, n_generations: usize) -> Manufacturer {
        let mut m = Manufacturer::new(params, n_generations);
        let first = &params.roadmap[Manufacturer::current_roadmap_idx(params, 0)];
        m.stock[first.generation_idx].put(
            params.initial_inventory_units,
            params.initial_inventory_units as f64 * first.unit_cost_usd,
        );
        m.wafer_lots.extend(initial_wafer_lots(params));
        m
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
            self.pay_assembly(g, n, assembly, units_f64(n) * unit_cost);
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
        self.pay_wafer_prepayment(units, prepaid);
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
        for lot_idx in 0..n_due {
            let (balance_due_usd, g, units) = {
                let lot = &self.wafer_lots[lot_idx];
                (lot.balance_due_usd, lot.generation_idx, lot.units)
            };
            self.pay_wafer_balance(balance_due_usd);
            self.wip_units[g] += units;
        }
        self.wafer_lots.drain(..n_due);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lots in flight at the start and lots ordered each month arrive in the month they are due, one at a
    /// time from the front of the book, each paying its balance; months with nothing due change nothing.
    #[test]
    fn wafer_lots_arrive_in_their_month_and_pay_their_balance() {
        let base = crate::fixtures::small();
        let mp = &base.manufacturers[0];
        let lead = mp.strategy.wafer_lead_months;
        let mut m = Manufacturer::new(mp, base.generations.len());
        m.wafer_lots.extend(initial_wafer_lots(mp));
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
}
