//! Phase 8, buyers: key accounts, then retail, spend a budget set by their funds and the best payback on
//! offer, part as futures (shrunk by the terms), the rest spot from dealers, manufacturers or the open
//! market; purchases ship to regions by expected margin.
//!
//! Where every region sees the same landed prices, each fill is settled once and its units shared over the
//! regions; otherwise each region buys in its own pass. A fill is settled through the seller's two-sided
//! postings (`Manufacturer::receive_prepayment`, `Manufacturer::sell_spot`, `Dealer::sell_spot`), which
//! book the buying segment's side too.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::futures::ContractTerms;
use crate::agents::manufacturer::origins::{ALL_SLOTS, Pick};
use crate::market::hardware::{appetite_share, payback_months};
use crate::market::key_accounts;
use crate::market::offers::{
    Offer, Source, allocate, allocate_by_weights, appeal, best_payback_months, choice_weight, spot_offer,
};
use crate::math::{apportion_by_sum, apportion_sum, floor_units, units_f64};
use crate::params::{Params, Segment, SegmentParams};
use crate::record::{EventKind, Subject};
use crate::units::{Month, W_PER_MW};
use crate::world::{Scratch, World, newest_released_generation};

/// The buffers the month's purchases work in, taken out of the world's scratch for the phase and handed
/// back at its end, so nothing allocates once they have grown.
#[derive(Default)]
struct Buffers {
    offers: Vec<Offer>,
    choice_weights: Vec<f64>,
    used_mw: Vec<f64>,
    region_budgets: Vec<f64>,
    region_offers: Vec<Offer>,
    region_offer_base: Vec<usize>,
    parts: Vec<u64>,
    destinations: Vec<(usize, u64)>,
}

impl Buffers {
    fn take(scratch: &mut Scratch) -> Buffers {
        Buffers {
            offers: std::mem::take(&mut scratch.offers),
            choice_weights: std::mem::take(&mut scratch.choice_weights),
            used_mw: std::mem::take(&mut scratch.used_mw),
            region_budgets: std::mem::take(&mut scratch.region_budgets),
            region_offers: std::mem::take(&mut scratch.region_offers),
            region_offer_base: std::mem::take(&mut scratch.region_offer_base),
            parts: std::mem::take(&mut scratch.region_parts),
            destinations: std::mem::take(&mut scratch.destinations),
        }
    }

    fn put_back(self, scratch: &mut Scratch) {
        scratch.offers = self.offers;
        scratch.choice_weights = self.choice_weights;
        scratch.used_mw = self.used_mw;
        scratch.region_budgets = self.region_budgets;
        scratch.region_offers = self.region_offers;
        scratch.region_offer_base = self.region_offer_base;
        scratch.region_parts = self.parts;
        scratch.destinations = self.destinations;
    }
}

/// Key accounts, then retail, spend a budget set by their funds and the best payback on offer:
/// part as futures (shrunk by the terms), the rest spot from dealers, manufacturers or the open market.
pub fn buyers_purchase(w: &mut World) {
    // Key-account firms buy together, each with its share of the buying power.
    let firms_funds = key_accounts::mark_before_purchases(w);
    let params = w.params;
    // Read when a segment's budget first needs it: a segment whose budget does not buys nothing, so the
    // installed hashrate is still the one the month's purchases started from.
    let mut installed_ths = None;
    let mut b = Buffers::take(&mut w.scratch);
    w.used_mw_for_decisions(&mut b.used_mw);
    let mut dealer_demand_units = 0.0;
    let mut key_accounts_shipped = false;
    // Where every region sees the same landed prices and room is unlimited, buying region by region
    // gives the same result as buying once and sharing the machines out by the regions' weights.
    // Neither changes during the month's purchases.
    let uniform = !w.regions.any_limited() && !w.regions.any_tariff() && !any_local_assembly(params);
    for segment in Segment::ALL {
        b.offers.clear();
        collect_offers(w, segment, &mut b.offers);
        let funds = firms_funds.filter(|_| segment == Segment::KeyAccount);
        let Some((budget, best_offer)) = segment_budget(w, segment, &b.offers, &mut installed_ths, funds) else {
            continue;
        };
        // Where the machines will go: regions weighted by the segment's footprint, spare capacity and margin.
        if !set_region_budgets(w, segment, budget, &best_offer, &mut b) {
            continue;
        }
        let mut liquidity = match funds {
            Some((_, liquidity)) => liquidity,
            None => w.segments[segment.idx()].liquidity_usd(),
        };
        let n_passes = if uniform { 1 } else { params.regions.len() };
        let total_budget: f64 = b.region_budgets.iter().sum();
        for r in 0..n_passes {
            let region_budget = if uniform { total_budget } else { b.region_budgets[r] };
            if region_budget <= 0.0 {
                continue;
            }
            let pass = Pass {
                segment,
                region_idx: r,
                uniform,
                region_budget,
            };
            buy_in_region(w, pass, &mut liquidity, &mut b, &mut dealer_demand_units);
        }
        // The segment's offers hold its fills of every pass: spot fills shipped machines.
        key_accounts_shipped |=
            segment == Segment::KeyAccount && b.offers.iter().any(|o| !o.futures && o.units_filled > 0);
    }
    w.dealer
        .note_demand(dealer_demand_units, params.dealers.demand_smoothing_share);
    b.offers.clear();
    b.put_back(&mut w.scratch);
    key_accounts::mark_after_purchases(w, key_accounts_shipped);
}

/// Whether any manufacturer assembles locally somewhere (landed prices then differ by region).
fn any_local_assembly(params: &Params) -> bool {
    params
        .manufacturers
        .iter()
        .any(|m| !m.local_assembly_region_idxs.is_empty())
}

/// Everything on offer to a segment this month: each manufacturer's futures, then spot from manufacturers,
/// dealers and (with no manufacturers) the open market. Futures come first, which the passes rely on.
fn collect_offers(w: &World, segment: Segment, offers: &mut Vec<Offer>) {
    let params = w.params;
    let month_offset = w.month_offset();
    for (m_idx, (m, mp)) in w.manufacturers.iter().zip(&params.manufacturers).enumerate() {
        let strategy = &mp.strategy;
        let available = m.futures_units_left();
        if m.is_distressed() || available == 0 {
            continue;
        }
        let arrival = month_offset + strategy.wafer_lead_months as i64;
        let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, arrival)].generation_idx;
        let price = m.futures_prices_usd()[g];
        if price <= 0.0 {
            continue;
        }
        let profit = w.reference_monthly_profit_usd[g];
        let demand_factor = w.terms_demand_factor[m_idx][segment.idx()];
        offers.push(Offer {
            source: Source::Manufacturer(m_idx),
            futures: true,
            generation_idx: g,
            unit_price_usd: price,
            duty_per_unit_usd: 0.0,
            payback_months: payback_months(price, profit),
            units_available: available,
            cash_share_now: strategy.prepay_share,
            demand_factor,
            units_filled: 0,
            slot_mask: ALL_SLOTS,
        });
    }
    for (m_idx, m) in w.manufacturers.iter().enumerate() {
        // One price and one stock per generation.
        for (g, (&price, stock)) in m.spot_prices_usd().iter().zip(&m.stock).enumerate() {
            if stock.units == 0 || price <= 0.0 {
                continue;
            }
            let free = m.free_stock_units(g);
            if free == 0 {
                continue;
            }
            let profit = w.reference_monthly_profit_usd[g];
            offers.push(spot_offer(Source::Manufacturer(m_idx), g, price, profit, free));
        }
    }
    for g in 0..params.generations.len() {
        let units = w.dealer.units_for_sale(g);
        let price = w.dealer.prices_usd()[g];
        if units > 0 && price > 0.0 {
            let profit = w.reference_monthly_profit_usd[g];
            offers.push(spot_offer(Source::Dealer, g, price, profit, units));
        }
    }
    if params.manufacturers.is_empty() {
        let g = newest_released_generation(params, w.month);
        let price = params.generations[g].price_new_usd;
        let profit = w.reference_monthly_profit_usd[g];
        offers.push(spot_offer(Source::OpenMarket, g, price, profit, u64::MAX / 4));
    }
}

/// The segment's budget this month, from its funds, its appetite at the best payback on offer and the cap
/// on growth, with the best offer; `None` when there is nothing to buy or nothing to spend. Key-account
/// firms' funds, when there are firms, are `firms_funds` (available, liquidity) summed over the living ones.
/// `installed_ths` is the installed hashrate the cap on growth is set by, read once a month when first needed.
fn segment_budget(
    w: &World,
    segment: Segment,
    offers: &[Offer],
    installed_ths: &mut Option<f64>,
    firms_funds: Option<(f64, f64)>,
) -> Option<(f64, Offer)> {
    let params = w.params;
    let sp = &params.segments[segment.idx()];
    let best_payback = offers.iter().map(|o| o.payback_months).fold(f64::INFINITY, f64::min);
    let available_usd = match firms_funds {
        Some((available, _)) => available,
        None => w.segments[segment.idx()].available_usd(),
    };
    let appetite_budget = appetite_budget_usd(sp, available_usd, best_payback);
    let factor = crate::market::hosting::machine_budget_factor(w, segment);
    // No cap on growth lifts a budget at or below zero above it, nor does a factor that is not negative.
    if appetite_budget <= 0.0 && factor >= 0.0 {
        return None;
    }
    let best_usd_per_th = offers
        .iter()
        .map(|o| o.unit_price_usd / params.generations[o.generation_idx].hashrate_ths)
        .fold(f64::INFINITY, f64::min);
    let installed_ths = *installed_ths.get_or_insert_with(|| w.installed_ths());
    let budget = growth_capped_budget_usd(sp, appetite_budget, installed_ths, best_usd_per_th) * factor;
    let best_offer = offers
        .iter()
        .min_by(|a, b| a.payback_months.total_cmp(&b.payback_months))
        .copied()?;
    if budget.is_nan() || budget <= 0.0 {
        return None;
    }
    Some((budget, best_offer))
}

/// A segment's budget for new machines this month, in USD: `max_spend_share_per_month` of what it has
/// available, scaled by its appetite at `best_payback_months`, and no more than its cap on growth
/// (`max_growth_share_of_network_per_month` of `installed_ths` at `best_usd_per_th`). Manufacturers
/// forecast with the same rule.
pub(crate) fn budget_usd(
    sp: &SegmentParams,
    available_usd: f64,
    best_payback_months: f64,
    installed_ths: f64,
    best_usd_per_th: f64,
) -> f64 {
    let budget = appetite_budget_usd(sp, available_usd, best_payback_months);
    growth_capped_budget_usd(sp, budget, installed_ths, best_usd_per_th)
}

/// A segment's budget before the cap on growth, in USD: `max_spend_share_per_month` of what it has
/// available, scaled by its appetite at `best_payback_months`.
fn appetite_budget_usd(sp: &SegmentParams, available_usd: f64, best_payback_months: f64) -> f64 {
    let appetite = appetite_share(
        best_payback_months,
        sp.full_appetite_payback_months,
        sp.max_payback_months,
    );
    available_usd * sp.max_spend_share_per_month * appetite
}

/// `budget_usd`, no more than the segment's cap on growth: `max_growth_share_of_network_per_month` of
/// `installed_ths` at `best_usd_per_th` (no cap when nothing is on offer).
fn growth_capped_budget_usd(sp: &SegmentParams, budget_usd: f64, installed_ths: f64, best_usd_per_th: f64) -> f64 {
    if best_usd_per_th.is_finite() {
        budget_usd.min(sp.max_growth_share_of_network_per_month * installed_ths * best_usd_per_th)
    } else {
        budget_usd
    }
}

/// Splits the segment's budget over the regions by their weights for the best offer's generation, each
/// capped by what the region's spare capacity can host. Returns false when no region takes machines.
fn set_region_budgets(w: &World, segment: Segment, budget: f64, best_offer: &Offer, b: &mut Buffers) -> bool {
    let params = w.params;
    w.region_weights(segment, best_offer.generation_idx, &b.used_mw, &mut b.region_budgets);
    let weight_sum: f64 = b.region_budgets.iter().sum();
    if weight_sum <= 0.0 {
        return false;
    }
    let best_generation = &params.generations[best_offer.generation_idx];
    for (r, region_budget) in b.region_budgets.iter_mut().enumerate() {
        *region_budget *= budget / weight_sum;
        // No more than the region's spare capacity can host.
        let headroom_mw = (w.regions.capacity_mw[r] - b.used_mw[r]).max(0.0);
        if headroom_mw.is_finite() {
            let units = headroom_mw * W_PER_MW / best_generation.power_w;
            *region_budget = region_budget.min(units * best_offer.unit_price_usd);
        }
    }
    true
}

/// One buying pass of a segment: in one region, or in all at once where prices are uniform.
#[derive(Clone, Copy)]
struct Pass {
    segment: Segment,
    region_idx: usize,
    uniform: bool,
    region_budget: f64,
}

/// A segment buys in one region (or everywhere, where prices are uniform): futures first, what they
/// cannot take spilling over to spot, then every fill is settled and shipped.
fn buy_in_region(w: &mut World, pass: Pass, liquidity: &mut f64, b: &mut Buffers, dealer_demand_units: &mut f64) {
    let params = w.params;
    let sp = &params.segments[pass.segment.idx()];
    land_offers(w, pass, b);
    let region_offers = &mut b.region_offers;
    let n_futures = region_offers.iter().filter(|o| o.futures).count();
    let best_payback = region_offers
        .iter()
        .map(|o| o.payback_months)
        .fold(f64::INFINITY, f64::min);
    let futures_budget = if n_futures > 0 {
        pass.region_budget * sp.futures_preference_share
    } else {
        0.0
    };
    let mut spot_budget = pass.region_budget - futures_budget;
    // Offers are built futures first, so the split below keeps them apart.
    let (futures_offers, spot_offers) = region_offers.split_at_mut(n_futures);
    if n_futures > 0 {
        // The terms shrink how much buyers sign for; availability limits spill over to spot.
        let (mut weights_sum, mut shrunk_sum) = (0.0, 0.0);
        b.choice_weights.clear();
        for o in futures_offers.iter() {
            let weight = choice_weight(o, best_payback, sp.price_sensitivity);
            b.choice_weights.push(weight);
            weights_sum += weight;
            shrunk_sum += weight * o.demand_factor;
        }
        let shrink = if weights_sum > 0.0 {
            shrunk_sum / weights_sum
        } else {
            0.0
        };
        // When the best offer of all is a futures offer, the futures are weighed against it among
        // themselves too: the weights are those above.
        let unspent = if best_payback_months(futures_offers).to_bits() == best_payback.to_bits() {
            allocate_by_weights(futures_budget * shrink, liquidity, futures_offers, &b.choice_weights)
        } else {
            allocate(
                futures_budget * shrink,
                liquidity,
                sp.price_sensitivity,
                futures_offers,
                &mut b.choice_weights,
            )
        };
        spot_budget += unspent.min(futures_budget);
    }
    if pass.segment == Segment::Retail {
        let best_spot_price = spot_offers
            .iter()
            .map(|o| o.unit_price_usd)
            .fold(f64::INFINITY, f64::min);
        if best_spot_price.is_finite() && best_spot_price > 0.0 {
            *dealer_demand_units += spot_budget / best_spot_price;
        }
    }
    let unspent = allocate(
        spot_budget,
        liquidity,
        sp.price_sensitivity,
        spot_offers,
        &mut b.choice_weights,
    );
    note_unmet_demand(
        w,
        unspent.min(liquidity.max(0.0)),
        best_payback,
        sp.price_sensitivity,
        &b.region_offers,
    );
    settle_fills(w, pass, b);
    if pass.uniform {
        // The offers, filled, are the offers again.
        std::mem::swap(&mut b.offers, &mut b.region_offers);
    }
}

/// Budget left unspent because what buyers wanted was sold out (`unmet_usd`) is demand the manufacturers
/// that were sold out see, shared by how strongly buyers wanted each: their forecasts follow it. A
/// manufacturer is sold out when one of its offers of the pass sold out, or when it had no machines free to
/// offer spot at all (its stock held back for futures); each counts once, at its most wanted offer.
fn note_unmet_demand(w: &mut World, unmet_usd: f64, best_payback: f64, price_sensitivity: f64, offers: &[Offer]) {
    if unmet_usd <= 0.0 || w.manufacturers.is_empty() {
        return;
    }
    let params = w.params;
    let month_offset = w.month_offset();
    // One pass over the offers: each manufacturer's most wanted sold-out offer (the last of equals, as
    // `Iterator::max_by` picks) and whether it offered anything spot.
    let mut seen = std::mem::take(&mut w.scratch.unmet_offers);
    seen.clear();
    seen.resize(w.manufacturers.len(), (None, false));
    for o in offers {
        if let Source::Manufacturer(m_idx) = o.source {
            let (sold_out, offered_spot) = &mut seen[m_idx];
            *offered_spot |= !o.futures;
            if o.units_filled >= o.units_available {
                let candidate = (appeal(o, best_payback, price_sensitivity), o.unit_price_usd);
                match sold_out {
                    Some(best) if candidate.0.total_cmp(&best.0).is_lt() => {}
                    _ => *sold_out = Some(candidate),
                }
            }
        }
    }
    let mut wanted = std::mem::take(&mut w.scratch.unmet_appeal);
    wanted.clear();
    for (m_idx, ((m, mp), &(sold_out, offered_spot))) in
        w.manufacturers.iter().zip(&params.manufacturers).zip(&seen).enumerate()
    {
        let entry = match sold_out {
            Some(best) => Some(best),
            None if !offered_spot && !m.is_distressed() => {
                // Nothing free to offer spot: buyers would have taken its current machine at its price.
                let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, month_offset)].generation_idx;
                let price = m.spot_prices_usd()[g];
                (price > 0.0).then(|| {
                    let offer = spot_offer(
                        Source::Manufacturer(m_idx),
                        g,
                        price,
                        w.reference_monthly_profit_usd[g],
                        0,
                    );
                    (appeal(&offer, best_payback, price_sensitivity), price)
                })
            }
            None => None,
        };
        wanted.push(entry.unwrap_or((0.0, 0.0)));
    }
    let total: f64 = wanted.iter().map(|&(a, _)| a).sum();
    if total > 0.0 {
        for (m_idx, &(a, price)) in wanted.iter().enumerate() {
            if a > 0.0 && price > 0.0 {
                w.manufacturers[m_idx].note_unmet_demand(floor_units(unmet_usd * a / total / price));
            }
        }
    }
    w.scratch.unmet_appeal = wanted;
    w.scratch.unmet_offers = seen;
}

/// The month's offers landed in the pass's region: tariffs (or local assembly) raise the price. Where
/// prices are uniform there is one pass, before any fill: the landed offers are the offers themselves.
/// A manufacturer making machines in several origins offers them in the region by landed price: one offer
/// per tariff level, the cheapest landed first (`land_by_origin`).
fn land_offers(w: &World, pass: Pass, b: &mut Buffers) {
    let params = w.params;
    b.region_offers.clear();
    b.region_offer_base.clear();
    if pass.uniform {
        // The one pass works on the offers themselves (handed back after it), with nothing to copy.
        debug_assert!(b.offers.iter().all(|o| o.units_filled == 0 && o.units_available > 0));
        std::mem::swap(&mut b.offers, &mut b.region_offers);
        return;
    }
    for (base_idx, o) in b.offers.iter().enumerate() {
        let left = o.units_available - o.units_filled;
        if left == 0 {
            continue;
        }
        if let Source::Manufacturer(m_idx) = o.source
            && w.manufacturers[m_idx].origins().n_slots() > 1
            && !params.manufacturers[m_idx]
                .local_assembly_region_idxs
                .contains(&pass.region_idx)
        {
            land_by_origin(
                w,
                o,
                (base_idx, left, pass.region_idx),
                &mut b.region_offers,
                &mut b.region_offer_base,
            );
            continue;
        }
        let duty_share = duty_share(w, o.source, pass.region_idx);
        let landed = o.unit_price_usd * (1.0 + duty_share);
        let profit = w.reference_monthly_profit_usd[o.generation_idx];
        b.region_offers.push(Offer {
            unit_price_usd: landed,
            duty_per_unit_usd: o.unit_price_usd * duty_share,
            payback_months: payback_months(landed, profit),
            units_available: left,
            units_filled: 0,
            ..*o
        });
        b.region_offer_base.push(base_idx);
    }
}

/// A manufacturer's offer landed in region `r` from the origins it makes machines in: the origins taxed
/// alike there form one offer at their landed price, and the `left` units of the offer go to the cheapest
/// landed first (each origin's stock for spot, its futures on offer for futures), so the dearer offers
/// hold what stock is left once the cheaper origins' units are spoken for.
fn land_by_origin(
    w: &World,
    o: &Offer,
    (base_idx, mut left, r): (usize, u64, usize),
    region_offers: &mut Vec<Offer>,
    region_offer_base: &mut Vec<usize>,
) {
    let Source::Manufacturer(m_idx) = o.source else {
        return;
    };
    let book = w.manufacturers[m_idx].origins();
    let order = book.order_for(Some(r));
    let tariff = |k: usize| w.regions.tariff_share(r, book.slot_origin(order[k] as usize));
    let profit = w.reference_monthly_profit_usd[o.generation_idx];
    let mut k = 0;
    while k < order.len() && left > 0 {
        let duty_share = tariff(k);
        let (mut slot_mask, mut units) = (0u32, 0u64);
        while k < order.len() && tariff(k) == duty_share {
            let s = order[k] as usize;
            slot_mask |= 1 << s;
            units += if o.futures {
                book.futures_left(s)
            } else {
                book.units(o.generation_idx, s)
            };
            k += 1;
        }
        let available = units.min(left);
        if available == 0 {
            continue;
        }
        left -= available;
        let landed = o.unit_price_usd * (1.0 + duty_share);
        region_offers.push(Offer {
            unit_price_usd: landed,
            duty_per_unit_usd: o.unit_price_usd * duty_share,
            payback_months: payback_months(landed, profit),
            units_available: available,
            units_filled: 0,
            slot_mask,
            ..*o
        });
        region_offer_base.push(base_idx);
    }
}

/// The share added to a seller's price landed in region `r`: the import tariff on its origin, or the
/// local-assembly uplift where it assembles locally. Dealers' stock is already landed.
fn duty_share(w: &World, source: Source, r: usize) -> f64 {
    match source {
        Source::Manufacturer(m_idx) => {
            let mp = &w.params.manufacturers[m_idx];
            if mp.local_assembly_region_idxs.contains(&r) {
                mp.local_assembly_uplift_share
            } else {
                w.regions.tariff_share(r, mp.origin_idx)
            }
        }
        Source::Dealer | Source::OpenMarket => 0.0,
    }
}

/// Settles every fill of the pass: where prices are uniform its units are shared over the regions by their
/// budgets; otherwise they all go to the pass's region and come out of the offer's shared availability.
fn settle_fills(w: &mut World, pass: Pass, b: &mut Buffers) {
    let params = w.params;
    let r = pass.region_idx;
    // Every fill of a uniform pass is shared over the regions by the same budgets.
    let budgets_sum = if pass.uniform {
        b.parts.resize(params.regions.len(), 0);
        apportion_sum(&b.region_budgets)
    } else {
        0.0
    };
    for (i, o) in b.region_offers.iter().enumerate() {
        if o.units_filled == 0 {
            continue;
        }
        b.destinations.clear();
        if pass.uniform {
            // `apportion_by_sum` sets every part: the buffer only needs the right length.
            apportion_by_sum(o.units_filled, &b.region_budgets, budgets_sum, &mut b.parts);
            b.destinations.extend(
                b.parts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0)
                    .map(|(r, &n)| (r, n)),
            );
        } else {
            // The fill comes out of the offer's shared availability.
            b.offers[b.region_offer_base[i]].units_filled += o.units_filled;
            b.used_mw[r] += units_f64(o.units_filled) * params.generations[o.generation_idx].power_w / W_PER_MW;
            b.destinations.push((r, o.units_filled));
        }
        let region_idx = (!pass.uniform).then_some(r);
        settle(w, pass.segment, o, region_idx, &b.destinations);
    }
}

/// Books a filled offer on both sides, once for the whole fill, and ships what was bought spot. The fill's
/// units go to regions as `destinations` says ((region, units) pairs adding up to `units_filled`); a futures
/// fill becomes one region part per destination of the month's contract with that segment. `region_idx` is
/// the pass's region, when the pass is for one: the seller's units come from the origins cheapest landed
/// there, within the offer's.
fn settle(w: &mut World, segment: Segment, o: &Offer, region_idx: Option<usize>, destinations: &[(usize, u64)]) {
    let params = w.params;
    let n = o.units_filled;
    debug_assert_eq!(destinations.iter().map(|&(_, k)| k).sum::<u64>(), n);
    // The seller gets its price; the duty (landed price minus price) goes to the border.
    let seller_price = o.unit_price_usd - o.duty_per_unit_usd;
    let value = units_f64(n) * seller_price;
    let duty = units_f64(n) * o.duty_per_unit_usd;
    let g = o.generation_idx;
    let pick = Pick {
        region_idx,
        slot_mask: o.slot_mask,
    };
    if o.futures {
        if let Source::Manufacturer(m_idx) = o.source {
            sign_futures(w, segment, m_idx, o, pick, destinations);
        }
        return;
    }
    let books = &mut w.segments[segment.idx()];
    match o.source {
        Source::Manufacturer(m_idx) => w.manufacturers[m_idx].sell_spot(books, g, n, value, duty, pick),
        Source::Dealer => w.dealer.sell_spot(books, g, n, value, duty),
        // The open market is outside the model: only the buyer's side is booked.
        Source::OpenMarket => books.pay_spot(value, duty),
    }
    for &(region_idx, k) in destinations {
        w.fleet.ship_to_region(&params.segments, segment, region_idx, g, k);
    }
}

/// A futures fill joins the month's contract of the manufacturer with the segment (opened by the month's
/// first fill), and the buyer pays the prepayment; the units come out of the futures on offer from the
/// origins `pick` says.
fn sign_futures(w: &mut World, segment: Segment, m_idx: usize, o: &Offer, pick: Pick, destinations: &[(usize, u64)]) {
    let params = w.params;
    let month = w.month;
    let n = o.units_filled;
    let seller_price = o.unit_price_usd - o.duty_per_unit_usd;
    let value = units_f64(n) * seller_price;
    let strategy = &params.manufacturers[m_idx].strategy;
    let prepaid_per_unit = seller_price * strategy.prepay_share;
    let prepayment = units_f64(n) * prepaid_per_unit;
    let terms = ContractTerms {
        buyer: segment,
        generation_idx: o.generation_idx,
        signed: month,
        first_delivery: Month(month.0 + strategy.wafer_lead_months),
        n_batches: strategy.delivery_months.max(1),
        unit_price_usd: seller_price,
        prepaid_per_unit_usd: prepaid_per_unit,
    };
    let m = &mut w.manufacturers[m_idx];
    m.add_to_month_contract(terms, destinations, o.duty_per_unit_usd, params.regions.len());
    m.receive_prepayment(&mut w.segments[segment.idx()], n, prepayment, value - prepayment);
    m.sign_futures_by_origin(n, pick);
    for &(region_idx, k) in destinations {
        if let Some(row) = w.event(EventKind::ContractSigned, Subject::Manufacturer(m_idx)) {
            row.units = k;
            row.amount_usd = k as f64 * seller_price;
            row.value = strategy.prepay_share;
            row.value_unit = "prepay_share";
            row.region_idx = Some(region_idx);
        }
    }
}
