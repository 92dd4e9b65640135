//! A manufacturer's own production cycle: wafer lots ordered a lead ahead and paid for in two parts, and
//! assembly up to capacity. What is ordered is planned in `planning`; prices are set in `pricing`.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
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
    /// stock, the wafer lots already in flight, and a plan consistent with them, with a market share of
    /// `share` (the futures book at the start is opened by `open_initial_book`).
    pub fn start(params: &ManufacturerParams, generations: &[GenerationParams], share: f64) -> Manufacturer {
        let mut m = Manufacturer::new(params, generations);
        m.start_plan(params, share);
        let first = &params.roadmap[Manufacturer::current_roadmap_idx(params, 0)];
        m.stock[first.generation_idx].put(
            params.initial_inventory_units,
            params.initial_inventory_units as f64 * first.unit_cost_usd,
        );
        m.origins
            .put(first.generation_idx, 0, params.initial_inventory_units, false);
        m.wafer_lots.extend(initial_wafer_lots(params));
        m
    }

    /// Turns waiting wafers into finished machines, oldest generation first, up to capacity: the main line
    /// first, then the production lines outside the main origin that have started by `month_offset`
    /// ([`Manufacturer::assembly_split`]). A line's machines cost `unit_cost_uplift_share` more, paid with
    /// the assembly.
    pub fn produce(&mut self, params: &ManufacturerParams, month_offset: i64) {
        if params.production_lines.is_empty() {
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
                self.pay_assembly(g, n, assembly, units_f64(n) * unit_cost, 0, 0.0);
            }
            return;
        }
        let waiting: u64 = self.wip_units.iter().sum();
        let mut budgets = std::mem::take(&mut self.assembly_budgets);
        Self::assembly_split(params, month_offset, waiting, &mut budgets);
        // Budget 0 is the main line; budget `1 + i` is production line `i`.
        for (line, budget) in budgets.iter_mut().enumerate() {
            let (slot, uplift) = match line.checked_sub(1) {
                None => (0, 0.0),
                Some(i) => (
                    self.origins.line_slot(i),
                    params.production_lines[i].unit_cost_uplift_share,
                ),
            };
            for g in 0..self.wip_units.len() {
                if *budget == 0 {
                    break;
                }
                let n = self.wip_units[g].min(*budget);
                if n == 0 {
                    continue;
                }
                *budget -= n;
                self.wip_units[g] -= n;
                let unit_cost = Self::unit_cost_usd(params, g);
                let assembly = units_f64(n) * unit_cost * (1.0 - params.wafer_cost_share);
                let premium = units_f64(n) * unit_cost * uplift;
                self.pay_assembly(
                    g,
                    n,
                    assembly + premium,
                    units_f64(n) * unit_cost * (1.0 + uplift),
                    slot,
                    premium,
                );
            }
        }
        self.assembly_budgets = budgets;
    }

    /// How `waiting_units` of arrived wafers are assembled this month, into `budgets`: the main line's
    /// machines first, then each production line's. The lines started by `month_offset` take `onshore_share`
    /// of what can be assembled, within their capacity, in line order; the main line takes the rest within
    /// its capacity; what it cannot take goes to the lines' spare capacity.
    pub fn assembly_split(params: &ManufacturerParams, month_offset: i64, waiting_units: u64, budgets: &mut Vec<u64>) {
        budgets.clear();
        budgets.push(0);
        let mut line_capacity = 0;
        for line in &params.production_lines {
            let capacity = if line.from_month_offset <= month_offset {
                line.capacity_units_per_month
            } else {
                0
            };
            budgets.push(capacity);
            line_capacity += capacity;
        }
        let main_capacity = params.capacity_units_per_month;
        let can_make = waiting_units.min(main_capacity.saturating_add(line_capacity));
        let onshore_wanted = ((params.strategy.onshore_share * units_f64(can_make)).floor() as u64).min(line_capacity);
        let main = (can_make - onshore_wanted).min(main_capacity);
        let onshore = can_make - main;
        // Fill the lines in order up to their capacity.
        let mut left = onshore;
        for budget in budgets.iter_mut().skip(1) {
            let n = left.min(*budget);
            *budget = n;
            left -= n;
        }
        budgets[0] = main;
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
        let mut m = Manufacturer::new(mp, &base.generations);
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
