//! Futures contracts: units of one generation at a locked price, delivered in monthly batches to the regions
//! the buyer signed for, and their state as batches fall due.
#![warn(missing_docs)]

use crate::math::{max_not_nan, units_f64};
use crate::params::Segment;
use crate::units::Month;

/// Where a futures contract stands; the event log names it with [`ContractStatus::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractStatus {
    /// Some units are still to be delivered, walked away from or refunded.
    Pending,
    /// Closed with every unit delivered.
    Delivered,
    /// Closed with every unit walked away from: the buyer forfeited the prepayment rather than pay the balance.
    WalkedAway,
    /// Closed with every unit refunded: the batches were cancelled for being late.
    Refunded,
    /// Closed with a mix of delivered, walked-away and refunded units.
    Mixed,
}

impl ContractStatus {
    /// The status's name in the event log: "pending", "delivered", "walked_away", "refunded" or "mixed".
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
    /// Index of the region the units go to.
    pub region_idx: usize,
    /// Units of this part not yet delivered, walked away from or refunded.
    pub units_left: u64,
    /// Import duty per unit in the region, in USD, fixed at signing; the buyer pays it at delivery.
    pub duty_per_unit_usd: f64,
}

/// A futures contract: units of one generation at a locked price, delivered in monthly batches.
/// One contract per (buyer segment, month signed) holds the regions the machines go to as parts, so the
/// book stays small however many regions there are.
#[derive(Clone, Debug)]
pub struct FuturesContract {
    /// Number of the contract, unique per manufacturer within a path and counted from 1.
    pub contract_id: u64,
    /// The buyer segment.
    pub buyer: Segment,
    /// Index of the generation sold.
    pub generation_idx: usize,
    /// Month the contract was signed and the prepayment paid.
    pub signed: Month,
    /// Month the first batch falls due.
    pub first_delivery: Month,
    /// Number of monthly batches the units are delivered in (at least 1 once `set_batches` has run).
    pub n_batches: u32,
    /// Units signed for, over all region parts.
    pub units_total: u64,
    /// Locked price per unit in USD, duty apart.
    pub unit_price_usd: f64,
    /// Prepayment paid per unit at signing, in USD; the balance per unit is `unit_price_usd` less this.
    pub prepaid_per_unit_usd: f64,
    /// Units whose batch has fallen due so far.
    pub units_due_to_date: u64,
    /// Units delivered and paid for.
    pub units_delivered: u64,
    /// Units the buyer walked away from, forfeiting their prepayment.
    pub units_walked: u64,
    /// Units refunded because their batch was too late.
    pub units_refunded: u64,
    /// Month the oldest still-undelivered due batch fell due.
    pub late_since: Option<Month>,
    /// Units in every batch, and how many of the first batches take one more (set by `set_batches`).
    pub batch_base_units: u64,
    /// Number of the first batches that take one unit more than `batch_base_units`.
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
    /// The buyer segment.
    pub buyer: Segment,
    /// Index of the generation sold.
    pub generation_idx: usize,
    /// Month of signing.
    pub signed: Month,
    /// Month the first batch falls due.
    pub first_delivery: Month,
    /// Number of monthly batches.
    pub n_batches: u32,
    /// Locked price per unit in USD, duty apart.
    pub unit_price_usd: f64,
    /// Prepayment per unit at signing, in USD.
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

    /// Units not yet delivered, walked away from or refunded.
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

    /// Units whose batches fall due by `month` (all of them once the contract was cancelled), delivered or
    /// not.
    pub fn units_due_through(&self, month: Month) -> u64 {
        if month < self.first_delivery {
            return self.units_due_to_date;
        }
        let n_batches = u64::from((month.0 - self.first_delivery.0 + 1).min(self.n_batches));
        let scheduled = self.batch_base_units * n_batches + n_batches.min(u64::from(self.batch_remainder_units));
        scheduled.min(self.units_total).max(self.units_due_to_date)
    }

    /// The buyer defaults on `n` of the units pending (due or not): they count as walked away from, leave
    /// the region parts, and those not yet due are taken out of the last batches.
    pub fn default_units(&mut self, n: u64) {
        let n = n.min(self.units_pending());
        let due = self.units_outstanding_due();
        self.units_due_to_date += n.saturating_sub(due);
        self.units_walked += n;
        self.take_from_parts(n, |_, _, _| {});
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

    /// Prepayments the manufacturer holds on the pending units, in USD.
    pub fn prepay_held_usd(&self) -> f64 {
        units_f64(self.units_pending()) * self.prepaid_per_unit_usd
    }

    /// The contract's status, worked out from its unit counts.
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn terms(n_batches: u32) -> ContractTerms {
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

    pub(crate) fn contract(units_total: u64, n_batches: u32) -> FuturesContract {
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
}
