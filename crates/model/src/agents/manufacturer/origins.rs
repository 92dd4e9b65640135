//! Where a manufacturer's machines are made: its finished stock by origin, the futures it offers by origin,
//! and the order in which each destination draws on the origins.
//!
//! The main line (the manufacturer's `origin_idx`) is slot 0; each other origin its production lines sit in
//! is a further slot, in scenario order. Book value stays per generation (`Stock`): the slots count units
//! only, so a tariff can be charged by where a machine was made while costs keep their averages.
#![warn(missing_docs)]

use crate::math::units_f64;
use crate::params::ManufacturerParams;

/// Every slot: a pick that may take units of any origin.
pub const ALL_SLOTS: u32 = u32::MAX;

/// Which units leave stock: those bound for `region_idx` (`None` when they go to no one region: dealers,
/// self-mining, scrap, or a fill shared over regions with the same landed prices), from the slots in
/// `slot_mask`, drawn in the destination's order ([`OriginBook::order_for`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    /// The region the units go to, if one.
    pub region_idx: Option<usize>,
    /// Bit `s` set: slot `s` may give units.
    pub slot_mask: u32,
}

impl Pick {
    /// Units going to no one region, from any origin.
    pub const ANY: Pick = Pick {
        region_idx: None,
        slot_mask: ALL_SLOTS,
    };

    /// Units going to `region_idx`, from any origin, the cheapest landed first.
    pub fn to_region(region_idx: usize) -> Pick {
        Pick {
            region_idx: Some(region_idx),
            slot_mask: ALL_SLOTS,
        }
    }
}

/// A manufacturer's units by origin slot.
#[derive(Clone, Debug)]
pub struct OriginBook {
    /// The origin of each slot, an index into `Params::origins`: slot 0 is the main origin.
    slot_origins: Vec<usize>,
    /// The slot of each production line, in `ManufacturerParams::production_lines` order.
    line_slots: Vec<usize>,
    /// Finished units per (generation, slot), at `g * n_slots + s`.
    units: Vec<u64>,
    /// For each region, then one last row for no region, the slots in the order units leave for it.
    order: Vec<u8>,
    /// Futures units on offer against this month's plan, and signed so far, per slot.
    futures_offer_units: Vec<u64>,
    futures_signed_units: Vec<u64>,
    /// Path tallies per slot: units that entered stock (at the start, produced, recovered from dealers), left
    /// it, and were produced.
    units_in: Vec<u64>,
    units_out: Vec<u64>,
    units_produced: Vec<u64>,
}

impl OriginBook {
    /// A manufacturer's slots, with nothing in stock, for `n_generations` generations.
    pub fn new(params: &ManufacturerParams, n_generations: usize) -> OriginBook {
        let mut slot_origins = vec![params.origin_idx];
        let mut line_slots = Vec::with_capacity(params.production_lines.len());
        for line in &params.production_lines {
            let slot = match slot_origins.iter().position(|&o| o == line.origin_idx) {
                Some(s) => s,
                None => {
                    slot_origins.push(line.origin_idx);
                    slot_origins.len() - 1
                }
            };
            line_slots.push(slot);
        }
        let n_slots = slot_origins.len();
        assert!(n_slots <= 32, "at most 31 origins besides the main one");
        OriginBook {
            slot_origins,
            line_slots,
            units: vec![0; n_generations * n_slots],
            order: (0..n_slots as u8).collect(),
            futures_offer_units: vec![0; n_slots],
            futures_signed_units: vec![0; n_slots],
            units_in: vec![0; n_slots],
            units_out: vec![0; n_slots],
            units_produced: vec![0; n_slots],
        }
    }

    /// Number of origin slots (1 for a manufacturer with no other lines).
    pub fn n_slots(&self) -> usize {
        self.slot_origins.len()
    }

    /// The origin of slot `s`, an index into `Params::origins`.
    pub fn slot_origin(&self, s: usize) -> usize {
        self.slot_origins[s]
    }

    /// The slot of production line `line_idx`.
    pub fn line_slot(&self, line_idx: usize) -> usize {
        self.line_slots[line_idx]
    }

    /// Finished units of generation `g` made in slot `s`.
    pub fn units(&self, g: usize, s: usize) -> u64 {
        self.units[g * self.n_slots() + s]
    }

    /// Finished units of generation `g`, every slot together.
    pub fn generation_units(&self, g: usize) -> u64 {
        let n = self.n_slots();
        self.units[g * n..(g + 1) * n].iter().sum()
    }

    /// Finished units made outside the main origin, every generation together.
    pub fn onshore_units(&self) -> u64 {
        let n = self.n_slots();
        self.units.chunks(n).map(|row| row[1..].iter().sum::<u64>()).sum()
    }

    /// Finished units of slot `s`, every generation together.
    pub fn slot_units(&self, s: usize) -> u64 {
        self.units.chunks(self.n_slots()).map(|row| row[s]).sum()
    }

    /// Path tallies of slot `s`: (units in, units out, units produced).
    pub fn slot_tallies(&self, s: usize) -> (u64, u64, u64) {
        (self.units_in[s], self.units_out[s], self.units_produced[s])
    }

    /// The slots in the order units leave for `region_idx` (or for no region).
    pub fn order_for(&self, region_idx: Option<usize>) -> &[u8] {
        let n = self.n_slots();
        let n_rows = self.order.len() / n;
        let row = region_idx.map_or(n_rows - 1, |r| r.min(n_rows - 1));
        &self.order[row * n..(row + 1) * n]
    }

    /// Sets the order in which units leave for each of `n_regions` regions, from `tariff_share(region,
    /// origin)`: the least taxed there first and, among equally taxed ones, the origin most taxed anywhere
    /// first, so units that pay no tariff where others do are kept for those regions. Units going to no one
    /// region leave in that second order alone.
    pub fn set_order(&mut self, n_regions: usize, tariff_share: impl Fn(usize, usize) -> f64) {
        let n = self.n_slots();
        if n == 1 {
            return;
        }
        let most_taxed: Vec<f64> = (0..n)
            .map(|s| {
                (0..n_regions)
                    .map(|r| tariff_share(r, self.slot_origins[s]))
                    .fold(0.0, f64::max)
            })
            .collect();
        self.order.clear();
        for r in 0..=n_regions {
            let start = self.order.len();
            self.order.extend(0..n as u8);
            let row = &mut self.order[start..];
            let here = |s: u8| {
                if r < n_regions {
                    tariff_share(r, self.slot_origins[s as usize])
                } else {
                    0.0
                }
            };
            row.sort_by(|&a, &b| {
                here(a)
                    .total_cmp(&here(b))
                    .then(most_taxed[b as usize].total_cmp(&most_taxed[a as usize]))
                    .then(a.cmp(&b))
            });
        }
    }

    /// Puts `n` units of generation `g` into slot `s` (at the start, produced, or recovered from dealers).
    pub(crate) fn put(&mut self, g: usize, s: usize, n: u64, produced: bool) {
        let n_slots = self.n_slots();
        self.units[g * n_slots + s] += n;
        self.units_in[s] += n;
        if produced {
            self.units_produced[s] += n;
        }
    }

    /// Takes `n` units of generation `g` out, as `pick` says: the slots in its mask in its destination's
    /// order, then (should they not hold enough) any slot in that order. Returns the units taken from slots
    /// other than the main one.
    #[inline]
    pub(crate) fn take(&mut self, g: usize, n: u64, pick: Pick) -> u64 {
        if self.n_slots() == 1 {
            self.units[g] -= n.min(self.units[g]);
            self.units_out[0] += n;
            return 0;
        }
        self.take_in_order(g, n, pick)
    }

    /// [`OriginBook::take`] with several slots to choose from. Kept apart, so that the single-slot case,
    /// inlined at every caller, stays a couple of instructions.
    #[inline(never)]
    fn take_in_order(&mut self, g: usize, n: u64, pick: Pick) -> u64 {
        let n_slots = self.n_slots();
        let mut left = n;
        let mut onshore = 0;
        for pass in 0..2 {
            for k in 0..n_slots {
                let s = self.order_for(pick.region_idx)[k] as usize;
                if left == 0 {
                    return onshore;
                }
                if pass == 0 && pick.slot_mask & (1 << s) == 0 {
                    continue;
                }
                let cell = &mut self.units[g * n_slots + s];
                let taken = left.min(*cell);
                *cell -= taken;
                self.units_out[s] += taken;
                left -= taken;
                if s != 0 {
                    onshore += taken;
                }
            }
        }
        // Stock by generation capped what could be taken; the slots add up to it (a checked law).
        debug_assert_eq!(left, 0);
        onshore
    }

    /// Splits this month's `futures_units` on offer over the slots as `expected_units` (the plan's output per
    /// slot, summing to `planned_units`) splits the plan: each other slot its share rounded down, the main
    /// slot the rest. Clears the month's signings.
    pub(crate) fn set_futures_offer(&mut self, futures_units: u64, planned_units: u64, expected_units: &[u64]) {
        self.futures_signed_units.fill(0);
        self.futures_offer_units.fill(0);
        let mut rest = futures_units;
        if planned_units > 0 {
            for (s, &expected) in expected_units.iter().enumerate().skip(1) {
                let share = (units_f64(futures_units) * units_f64(expected) / units_f64(planned_units)).floor() as u64;
                let share = share.min(rest);
                self.futures_offer_units[s] = share;
                rest -= share;
            }
        }
        self.futures_offer_units[0] = rest;
    }

    /// Moves one unit of generation `g` from the first slot holding one to slot `to`, with no tallies: a
    /// corruption for the failure tests.
    #[cfg(any(test, feature = "fixtures"))]
    pub(crate) fn relabel_unit(&mut self, g: usize, to: usize) {
        let n = self.n_slots();
        if let Some(from) = (0..n).find(|&s| s != to && self.units[g * n + s] > 0) {
            self.units[g * n + from] -= 1;
            self.units[g * n + to] += 1;
        }
    }

    /// Futures units still on offer from slot `s` this month.
    pub fn futures_left(&self, s: usize) -> u64 {
        self.futures_offer_units[s].saturating_sub(self.futures_signed_units[s])
    }

    /// `n` futures units were signed from the slots `pick` allows, in its destination's order.
    pub(crate) fn sign_futures(&mut self, n: u64, pick: Pick) {
        let n_slots = self.n_slots();
        let mut left = n;
        for pass in 0..2 {
            for k in 0..n_slots {
                let s = self.order_for(pick.region_idx)[k] as usize;
                if left == 0 {
                    return;
                }
                if pass == 0 && pick.slot_mask & (1 << s) == 0 {
                    continue;
                }
                let taken = left.min(self.futures_left(s));
                self.futures_signed_units[s] += taken;
                left -= taken;
            }
        }
        // Beyond every slot's offer (cannot happen while offers are built from it): the main slot.
        self.futures_signed_units[0] += left;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ProductionLineParams;

    fn book_with_us_line() -> OriginBook {
        let mut params = crate::fixtures::small().manufacturers[0].clone();
        params.origin_idx = 0;
        params.production_lines.push(ProductionLineParams {
            origin_idx: 1,
            capacity_units_per_month: 100,
            unit_cost_uplift_share: 0.2,
            from_month_offset: 0,
            fixed_cost_usd_per_month: 0.0,
        });
        OriginBook::new(&params, 2)
    }

    /// A region taxing the main origin draws onshore units first; a region taxing nothing keeps them for it
    /// and draws the main origin's first; a mask restricts the slots.
    #[test]
    fn a_region_taxing_the_main_origin_is_served_from_onshore_stock_first() {
        let mut book = book_with_us_line();
        // Region 1 taxes origin 0 at 25%; region 0 taxes nothing.
        book.set_order(2, |r, o| if r == 1 && o == 0 { 0.25 } else { 0.0 });
        book.put(0, 0, 50, true);
        book.put(0, 1, 30, true);
        assert_eq!(book.order_for(Some(1)), &[1, 0]);
        assert_eq!(book.order_for(Some(0)), &[0, 1]);
        assert_eq!(book.order_for(None), &[0, 1]);
        assert_eq!(book.take(0, 20, Pick::to_region(1)), 20);
        assert_eq!((book.units(0, 0), book.units(0, 1)), (50, 10));
        assert_eq!(book.take(0, 55, Pick::to_region(0)), 5);
        assert_eq!((book.units(0, 0), book.units(0, 1)), (0, 5));
        book.put(0, 0, 10, false);
        let main_only = Pick {
            region_idx: Some(1),
            slot_mask: 1,
        };
        assert_eq!(book.take(0, 4, main_only), 0);
        assert_eq!((book.units(0, 0), book.units(0, 1)), (6, 5));
        assert_eq!(book.slot_tallies(0), (60, 54, 50));
        assert_eq!(book.slot_tallies(1), (30, 25, 30));
    }

    /// The futures on offer split like the plan's output, the main slot taking the rounding; signings draw
    /// on the slots a pick allows.
    #[test]
    fn futures_on_offer_split_like_the_plan_and_signings_draw_by_origin() {
        let mut book = book_with_us_line();
        book.set_order(2, |r, o| if r == 1 && o == 0 { 0.25 } else { 0.0 });
        book.set_futures_offer(81, 100, &[70, 30]);
        assert_eq!((book.futures_left(0), book.futures_left(1)), (57, 24));
        book.sign_futures(30, Pick::to_region(1));
        assert_eq!((book.futures_left(0), book.futures_left(1)), (51, 0));
    }
}
