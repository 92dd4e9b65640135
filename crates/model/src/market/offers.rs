//! What buyers can buy in a month and how they spread a budget over it: offers from manufacturers (futures
//! and spot), dealers and the open market, logit choice weights by payback, and the fill of a budget in up to
//! three passes. Nothing here changes an agent: the buyers' phase (`crate::market::purchases`) settles the
//! fills.
#![warn(missing_docs)]

use crate::math::{floor_units, units_f64};
use crate::params::{ManufacturerStrategy, SegmentParams};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Source {
    Manufacturer(usize),
    Dealer,
    OpenMarket,
}

/// Something a buyer can buy this month. `unit_price_usd` is what the buyer pays landed in its region
/// (seller's price plus any import duty); `duty_per_unit_usd` is the part that goes to the border.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Offer {
    pub(crate) source: Source,
    pub(crate) futures: bool,
    pub(crate) generation_idx: usize,
    pub(crate) unit_price_usd: f64,
    pub(crate) duty_per_unit_usd: f64,
    pub(crate) payback_months: f64,
    pub(crate) units_available: u64,
    /// Share of the price paid now (the prepayment for futures, 1 for spot).
    pub(crate) cash_share_now: f64,
    /// How much the terms shrink demand (futures only).
    pub(crate) demand_factor: f64,
    pub(crate) units_filled: u64,
    /// The manufacturer's origin slots the units come from (bit `s` for slot `s`; every bit for any).
    pub(crate) slot_mask: u32,
}

/// How much a manufacturer's futures terms shrink what a segment signs for: the prepayment and the average
/// wait against the segment's reference terms. The terms are fixed for a path, so the engine works it out once.
pub fn terms_demand_factor(sp: &SegmentParams, strategy: &ManufacturerStrategy) -> f64 {
    let wait = strategy.wafer_lead_months as f64 + (strategy.delivery_months.max(1) as f64 - 1.0) / 2.0;
    (-sp.prepay_elasticity * (strategy.prepay_share - sp.reference_prepay_share)
        - sp.delivery_elasticity_per_month * (wait - sp.reference_wait_months))
        .exp()
        .min(sp.max_terms_demand_factor)
}

pub(crate) fn spot_offer(source: Source, g: usize, price: f64, profit: f64, units: u64) -> Offer {
    Offer {
        source,
        futures: false,
        generation_idx: g,
        unit_price_usd: price,
        duty_per_unit_usd: 0.0,
        payback_months: crate::market::hardware::payback_months(price, profit),
        units_available: units,
        cash_share_now: 1.0,
        demand_factor: 1.0,
        units_filled: 0,
        slot_mask: crate::agents::manufacturer::origins::ALL_SLOTS,
    }
}

/// Logit weight of an offer: buyers favour the shortest payback, more so the more price-sensitive.
pub(crate) fn choice_weight(offer: &Offer, best_payback: f64, price_sensitivity: f64) -> f64 {
    if offer.units_filled >= offer.units_available || !offer.payback_months.is_finite() || !best_payback.is_finite() {
        return 0.0;
    }
    (-price_sensitivity * (offer.payback_months / best_payback - 1.0)).exp()
}

/// Logit weight of an offer whatever is left of it: how strongly buyers would have wanted it.
pub(crate) fn appeal(offer: &Offer, best_payback: f64, price_sensitivity: f64) -> f64 {
    if !offer.payback_months.is_finite() || !best_payback.is_finite() {
        return 0.0;
    }
    (-price_sensitivity * (offer.payback_months / best_payback - 1.0)).exp()
}

/// Spends up to `budget_usd` across offers in proportion to their choice weights, in up to three passes so
/// that what one offer cannot supply goes to the others. Returns the budget left unspent.
pub(crate) fn allocate(
    budget_usd: f64,
    liquidity_usd: &mut f64,
    price_sensitivity: f64,
    offers: &mut [Offer],
    base_weights: &mut Vec<f64>,
) -> f64 {
    let best = best_payback_months(offers);
    // An offer's weight is fixed for the month (one exponential); a pass only drops offers sold out.
    base_weights.clear();
    base_weights.extend(offers.iter().map(|o| choice_weight(o, best, price_sensitivity)));
    allocate_by_weights(budget_usd, liquidity_usd, offers, base_weights)
}

/// The shortest payback among offers with units, in months (infinite when there is none): the offer
/// [`allocate`] weighs the others against.
pub(crate) fn best_payback_months(offers: &[Offer]) -> f64 {
    offers
        .iter()
        .filter(|o| o.units_available > 0)
        .map(|o| o.payback_months)
        .fold(f64::INFINITY, f64::min)
}

/// [`allocate`] with the offers' choice weights given (`choice_weight` against [`best_payback_months`]).
pub(crate) fn allocate_by_weights(
    budget_usd: f64,
    liquidity_usd: &mut f64,
    offers: &mut [Offer],
    base_weights: &[f64],
) -> f64 {
    let mut remaining = budget_usd;
    for _ in 0..3 {
        if remaining <= 0.0 {
            break;
        }
        let mut total_weight = 0.0;
        for (&w, o) in base_weights.iter().zip(offers.iter()) {
            if o.units_filled < o.units_available {
                total_weight += w;
            }
        }
        if total_weight <= 0.0 {
            break;
        }
        let mut spent = 0.0;
        for (o, &weight) in offers.iter_mut().zip(base_weights.iter()) {
            if weight <= 0.0 || o.units_filled >= o.units_available {
                continue;
            }
            let share_usd = remaining * weight / total_weight;
            let mut units = floor_units(share_usd / o.unit_price_usd).min(o.units_available - o.units_filled);
            let cash_per_unit = o.unit_price_usd * o.cash_share_now;
            if cash_per_unit > 0.0 {
                units = units.min(floor_units(*liquidity_usd / cash_per_unit));
            }
            o.units_filled += units;
            spent += units_f64(units) * o.unit_price_usd;
            *liquidity_usd -= units_f64(units) * cash_per_unit;
        }
        remaining -= spent;
        if spent <= 0.0 {
            break;
        }
    }
    remaining.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::terms_demand_factor;

    /// The terms' demand factor is 1 at the segment's reference terms, falls with a larger prepayment and a
    /// longer wait, and never exceeds the segment's cap however favourable the terms.
    #[test]
    fn futures_terms_shrink_demand_from_the_reference_terms_up_to_the_cap() {
        let params = crate::fixtures::small();
        for sp in &params.segments {
            let mut strategy = params.manufacturers[0].strategy.clone();
            // Lead + (delivery - 1) / 2 = the reference wait, with the reference prepayment.
            strategy.prepay_share = sp.reference_prepay_share;
            strategy.delivery_months = 1;
            strategy.wafer_lead_months = sp.reference_wait_months as u32;
            assert_eq!(
                sp.reference_wait_months.fract(),
                0.0,
                "the test needs a whole reference wait"
            );
            assert_eq!(terms_demand_factor(sp, &strategy), 1.0);

            let mut dearer = strategy.clone();
            dearer.prepay_share += 0.2;
            let expected = (-sp.prepay_elasticity * 0.2).exp();
            assert!((terms_demand_factor(sp, &dearer) / expected - 1.0).abs() < 1e-12);

            let mut later = strategy.clone();
            later.delivery_months = 5; // two months more of mean wait
            let expected = (-sp.delivery_elasticity_per_month * 2.0).exp();
            assert!((terms_demand_factor(sp, &later) / expected - 1.0).abs() < 1e-12);

            let mut generous = strategy.clone();
            generous.prepay_share = 0.0;
            generous.wafer_lead_months = 1;
            let uncapped = (sp.prepay_elasticity * sp.reference_prepay_share
                + sp.delivery_elasticity_per_month * (sp.reference_wait_months - 1.0))
                .exp();
            assert_eq!(
                terms_demand_factor(sp, &generous),
                uncapped.min(sp.max_terms_demand_factor)
            );
            generous.prepay_share = -100.0; // beyond any valid scenario: only the cap holds it
            assert_eq!(terms_demand_factor(sp, &generous), sp.max_terms_demand_factor);
        }
    }
}
