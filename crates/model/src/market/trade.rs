//! Market steps: used-machine prices, pricing, futures deliveries, dealers' trade, buyers' purchases,
//! segments' and manufacturers' finance. Every step moves units and money between two balances and
//! records both sides, so the conservation checks in `crate::invariants` can hold exactly.

use rand::RngExt;

use crate::agents::dealer::Installment;
use crate::agents::manufacturer::{ContractTerms, FuturesContract, Manufacturer, WaferLot};
use crate::agents::miner::Fleet;
use crate::engine::{World, newest_released_generation, reference_profit_usd};
use crate::market::hardware::{appetite_share, monthly_profit_usd_per_unit, power_cost_usd_per_th_day};
use crate::market::regions::RelocationBatch;
use crate::math::{apportion, floor_units, to_units, units_f64};
use crate::params::{ManufacturerParams, ManufacturerStrategy, Regime, Segment, SegmentParams};
use crate::record::{EventKind, Subject};
use crate::units::{Month, W_PER_MW};

/// Buffers reused from month to month so the hot loop does not allocate.
#[derive(Default)]
pub struct Scratch {
    offers: Vec<Offer>,
    region_offers: Vec<Offer>,
    shipments: Vec<(Segment, usize, usize, u64)>,
    region_budgets: Vec<f64>,
    pub(crate) used_mw: Vec<f64>,
    region_weights: Vec<f64>,
    region_parts: Vec<u64>,
    /// For each of `region_offers`, the index of the offer in `offers` it was landed from.
    region_offer_base: Vec<usize>,
    /// Where a fill's units go: (region, units).
    destinations: Vec<(usize, u64)>,
    capacity_units: Vec<f64>,
    realisable_usd: Vec<f64>,
    /// Each offer's choice weight, for `allocate`.
    choice_weights: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Manufacturer(usize),
    Dealer,
    OpenMarket,
}

/// Something a buyer can buy this month. `unit_price_usd` is what the buyer pays landed in its region
/// (seller's price plus any import duty); `duty_per_unit_usd` is the part that goes to the border.
#[derive(Clone, Copy, Debug)]
struct Offer {
    source: Source,
    futures: bool,
    generation_idx: usize,
    unit_price_usd: f64,
    duty_per_unit_usd: f64,
    payback_months: f64,
    units_available: u64,
    /// Share of the price paid now (the prepayment for futures, 1 for spot).
    cash_share_now: f64,
    /// How much the terms shrink demand (futures only).
    demand_factor: f64,
    units_filled: u64,
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

/// Used-machine prices from the profit a machine can still earn, pushed down by dealers' excess stock.
pub fn value_used_machines(w: &mut World) {
    let params = w.params;
    let market = &params.secondary_market;
    let demand = w.dealer.demand_units_smoothed.max(1.0);
    for g in 0..params.generations.len() {
        let profit = reference_profit_usd(params, g, w.revenue_usd_per_th_day);
        let base = (profit * market.used_payback_months).max(market.scrap_value_usd_per_unit);
        // Dealers' stock and stranded machines dumped after bans both press on the used price.
        let stock_ratio = (units_f64(w.dealer.stock[g].units) + w.stranded_overhang_units[g]) / demand;
        let impact = market.dealer_stock_price_impact_share * stock_ratio / (1.0 + stock_ratio);
        w.secondary_price_usd[g] = (base * (1.0 - impact)).max(market.scrap_value_usd_per_unit);
    }
}

/// Machines stopped by bans move, after the lag, to regions with spare capacity (paying the move), weighted
/// like new machines; what finds no capacity within the limit is sold on the used market (pushing its price
/// down) or scrapped.
pub fn relocate(w: &mut World) {
    let params = w.params;
    let relocation = &params.relocation;
    let month = w.month;
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    for overhang in &mut w.stranded_overhang_units {
        *overhang *= relocation.overhang_persistence_per_month;
    }
    if w.relocation.is_empty() {
        return;
    }
    let mut used_mw = std::mem::take(&mut w.trade_scratch.used_mw);
    used_mw_for_decisions(w, &mut used_mw);
    let mut weights = std::mem::take(&mut w.trade_scratch.region_weights);
    let mut parts = std::mem::take(&mut w.trade_scratch.region_parts);
    let mut capacity_units = std::mem::take(&mut w.trade_scratch.capacity_units);
    let mut batches = std::mem::take(&mut w.relocation);
    let path_idx = w.path_idx;
    for batch in &mut batches {
        let age = month.0.saturating_sub(batch.stopped.0);
        if age < relocation.lag_months || batch.units == 0 {
            continue;
        }
        let segment = if batch.segment_idx == 0 {
            Segment::KeyAccount
        } else {
            Segment::Retail
        };
        let g = batch.generation_idx;
        let power_w = params.generations[g].power_w;
        region_weights(w, segment, g, &used_mw, &mut weights);
        weights[batch.from_region_idx] = 0.0;
        capacity_units.clear();
        for r in 0..params.regions.len() {
            let headroom_mw = (w.regions.capacity_mw[r] - used_mw[r]).max(0.0);
            capacity_units.push(if headroom_mw.is_finite() {
                (headroom_mw * W_PER_MW / power_w).floor()
            } else {
                f64::INFINITY
            });
            if capacity_units[r] < 1.0 {
                weights[r] = 0.0;
            }
        }
        parts.clear();
        parts.resize(params.regions.len(), 0);
        if weights.iter().sum::<f64>() > 0.0 {
            apportion(batch.units, &weights, &mut parts);
        }
        let mut moved = 0;
        for r in 0..params.regions.len() {
            let n = parts[r].min(floor_units(capacity_units[r].min(u64::MAX as f64 / 4.0)));
            if n == 0 {
                continue;
            }
            let c = w.fleet.cohort_idx(segment, r, g);
            w.fleet.relocate_in(c, n);
            used_mw[r] += units_f64(n) * power_w / W_PER_MW;
            moved += n;
        }
        if moved > 0 {
            batch.units -= moved;
            w.relocation_totals.relocated += moved;
            let cost = units_f64(moved) * relocation.cost_usd_per_unit;
            let books = &mut w.segments[batch.segment_idx];
            books.cash_usd -= cost;
            books.flows.relocation_paid_usd += cost;
            if let Some(row) = w.pending_events.push(
                path_idx,
                month,
                EventKind::RelocationCompleted,
                Subject::Region(batch.from_region_idx),
            ) {
                row.units = moved;
                row.amount_usd = cost;
                row.value = age as f64;
                row.value_unit = "months_waited";
            }
        }
        if batch.units > 0 && age >= relocation.max_wait_months {
            // Stranded: part is sold to buyers outside the simulated regions, the rest scrapped.
            let sold = to_units(units_f64(batch.units) * relocation.stranded_sale_share).min(batch.units);
            let scrapped = batch.units - sold;
            let price = w.secondary_price_usd[g] * (1.0 - relocation.stranded_price_discount_share);
            let proceeds = units_f64(sold) * price + units_f64(scrapped) * scrap;
            let books = &mut w.segments[batch.segment_idx];
            books.cash_usd += proceeds;
            books.flows.sale_proceeds_usd += proceeds;
            w.stranded_overhang_units[g] += units_f64(sold);
            w.relocation_totals.sold += sold;
            w.relocation_totals.scrapped += scrapped;
            if let Some(row) = w.pending_events.push(
                path_idx,
                month,
                EventKind::MachinesStranded,
                Subject::Region(batch.from_region_idx),
            ) {
                row.units = batch.units;
                row.amount_usd = proceeds;
                row.value = sold as f64;
                row.value_unit = "units_sold";
            }
            batch.units = 0;
        }
    }
    batches.retain(|b| b.units > 0);
    w.relocation = batches;
    w.trade_scratch.used_mw = used_mw;
    w.trade_scratch.region_weights = weights;
    w.trade_scratch.region_parts = parts;
    w.trade_scratch.capacity_units = capacity_units;
}

/// Regions that are nearly full build more sites.
pub fn grow_capacity(w: &mut World) {
    if w.regions.capacity_mw.iter().all(|c| c.is_infinite()) {
        return;
    }
    let mut used_mw = std::mem::take(&mut w.trade_scratch.used_mw);
    region_used_mw(w, &mut used_mw);
    w.regions.grow_capacity(w.params, &used_mw);
    w.trade_scratch.used_mw = used_mw;
}

/// Manufacturers price and plan; dealers price off the manufacturers; replacement prices follow.
pub fn set_prices(w: &mut World) {
    let params = w.params;
    let month_offset = w.month_offset();
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let n_gen = params.generations.len();
    for (m_idx, (m, mp)) in w.manufacturers.iter_mut().zip(&params.manufacturers).enumerate() {
        m.set_prices(
            mp,
            &params.generations,
            w.revenue_usd_per_th_day,
            &w.secondary_price_usd,
            scrap,
            month_offset,
        );
        m.plan(mp, &params.generations, w.revenue_usd_per_th_day, month_offset);
        let current = Manufacturer::current_roadmap_idx(mp, month_offset);
        let market_price = &mut w.market_price_usd[m_idx];
        market_price.copy_from_slice(&w.secondary_price_usd);
        for (i, entry) in mp.roadmap.iter().enumerate() {
            let g = entry.generation_idx;
            let profit = monthly_profit_usd_per_unit(
                &params.generations[g],
                w.revenue_usd_per_th_day,
                mp.strategy.pricing_power_price_usd_per_kwh,
                0.0,
            );
            market_price[g] = if i < current {
                m.spot_price_usd[g]
            } else {
                profit * mp.strategy.target_payback_months
            };
        }
    }
    let dealers = &params.dealers;
    let bull = w.price.regime == Regime::Bull;
    w.dealer.dump_discount_share = if bull {
        -dealers.bull_markup_share
    } else {
        dealers.bear_dump_discount_share
    };
    for g in 0..n_gen {
        let manufacturer_price = w
            .manufacturers
            .iter()
            .map(|m| m.spot_price_usd[g])
            .filter(|&p| p > 0.0)
            .fold(f64::INFINITY, f64::min);
        let reference = if manufacturer_price.is_finite() {
            manufacturer_price
        } else {
            w.secondary_price_usd[g]
        };
        let dealer_price = (reference * (1.0 - w.dealer.dump_discount_share)).max(scrap);
        w.dealer.price_usd[g] = dealer_price;
        if !bull && w.dealer.stock[g].units > 0 {
            w.secondary_price_usd[g] = w.secondary_price_usd[g].min(dealer_price);
        }
        let mut replacement = if manufacturer_price.is_finite() {
            manufacturer_price
        } else {
            f64::INFINITY
        };
        if w.dealer.stock[g].units > 0 {
            replacement = replacement.min(dealer_price);
        }
        if params.manufacturers.is_empty() {
            replacement = replacement.min(params.generations[g].price_new_usd);
        }
        w.replacement_price_usd[g] = if replacement.is_finite() {
            replacement
        } else {
            w.secondary_price_usd[g]
        };
    }
}

/// Futures batches fall due. A buyer whose remaining balance is worth more than the machines walks away
/// with a probability that rises with the gap, forfeiting the prepayment; a buyer that cannot pay the
/// balance walks away too. Batches late beyond the limit are cancelled and the prepayment refunded.
pub fn deliver_futures(w: &mut World) {
    let params = w.params;
    let month = w.month;
    let path_idx = w.path_idx;
    let World {
        manufacturers,
        segments,
        fleet,
        regions,
        replacement_price_usd,
        pending_events,
        trade_scratch,
        ..
    } = &mut *w;
    trade_scratch.shipments.clear();
    // With room everywhere each delivery ships straight to its contract region; otherwise the month's
    // deliveries are placed together once the book is done (`ship_within_capacity`).
    let any_limited = regions.any_limited();
    for (m_idx, m) in manufacturers.iter_mut().enumerate() {
        let max_delay = params.manufacturers[m_idx].strategy.max_delivery_delay_months;
        // The book is in signing order and the lead time is fixed, so contracts already delivering form a
        // prefix: the rest have nothing due yet.
        let n_delivering = m.futures.partition_point(|c| c.first_delivery <= month);
        // The contract and the manufacturer's other fields are borrowed apart, so the loop indexes nothing.
        let Manufacturer {
            futures,
            stock,
            flows,
            cash_usd,
            ..
        } = &mut *m;
        for c in &mut futures[..n_delivering] {
            c.units_due_to_date += c.batch_units(month);
            let outstanding = c.units_outstanding_due();
            if outstanding == 0 {
                c.late_since = None;
                continue;
            }
            let g = c.generation_idx;
            let buyer = c.buyer;
            let deliverable = outstanding.min(stock[g].units);
            if deliverable > 0 {
                let balance_per_unit = c.unit_price_usd - c.prepaid_per_unit_usd;
                let due_per_unit = balance_per_unit + c.max_duty_per_unit_usd();
                let value_per_unit = replacement_price_usd[g];
                let rationality = params.segments[buyer.idx()].walk_away_rationality;
                let walk_probability = if balance_per_unit > value_per_unit && value_per_unit > 0.0 {
                    1.0 - (-rationality * (balance_per_unit / value_per_unit - 1.0)).exp()
                } else if balance_per_unit > 0.0 && value_per_unit <= 0.0 {
                    1.0
                } else {
                    0.0
                };
                let mut walked = to_units(units_f64(deliverable) * walk_probability.clamp(0.0, 1.0)).min(deliverable);
                let mut paying = deliverable - walked;
                let books = &mut segments[buyer.idx()];
                if due_per_unit > 0.0 && units_f64(paying) * due_per_unit > books.liquidity_usd() {
                    let affordable = floor_units(books.liquidity_usd() / due_per_unit).min(paying);
                    walked += paying - affordable;
                    paying = affordable;
                }
                let prepaid = c.prepaid_per_unit_usd;
                let unit_price = c.unit_price_usd;
                if walked > 0 {
                    let forfeited = units_f64(walked) * prepaid;
                    flows.units_walked_away += walked;
                    flows.prepayments_forfeited_usd += forfeited;
                    books.prepaid_outstanding_usd -= forfeited;
                    books.committed_balance_usd -= units_f64(walked) * balance_per_unit;
                    books.flows.prepayments_forfeited_usd += forfeited;
                    c.units_walked += walked;
                    c.take_from_parts(walked, |_, _, _| {});
                    if let Some(row) =
                        pending_events.push(path_idx, month, EventKind::WalkAway, Subject::Manufacturer(m_idx))
                    {
                        row.units = walked;
                        row.amount_usd = forfeited;
                        row.value = walk_probability;
                        row.value_unit = "probability";
                    }
                }
                if paying > 0 {
                    let balance = units_f64(paying) * balance_per_unit;
                    // Each region's machines ship there; its import duty is paid at the border, by the buyer.
                    let mut duty = 0.0;
                    // The cohort of each part's region, without working out the whole index per part.
                    let first_cohort = fleet.cohort_idx(buyer, 0, g);
                    let region_stride = fleet.region_stride();
                    let lag_months = params.segments[buyer.idx()].shipping_lag_months;
                    c.take_from_parts(paying, |region_idx, duty_per_unit, n| {
                        duty += units_f64(n) * duty_per_unit;
                        if any_limited {
                            trade_scratch.shipments.push((buyer, region_idx, g, n));
                        } else {
                            fleet.ship(first_cohort + region_idx * region_stride, n, lag_months);
                        }
                    });
                    let cogs = stock[g].take(paying);
                    *cash_usd += balance;
                    flows.balances_collected_usd += balance;
                    flows.revenue_usd += units_f64(paying) * unit_price;
                    flows.cogs_usd += cogs;
                    flows.prepayments_applied_usd += units_f64(paying) * prepaid;
                    flows.units_delivered += paying;
                    books.cash_usd -= balance + duty;
                    books.flows.balances_paid_usd += balance;
                    books.flows.duties_paid_usd += duty;
                    books.committed_balance_usd -= balance;
                    books.prepaid_outstanding_usd -= units_f64(paying) * prepaid;
                    c.units_delivered += paying;
                }
            }
            let still_due = c.units_outstanding_due();
            if still_due == 0 {
                c.late_since = None;
                continue;
            }
            let late_since = *c.late_since.get_or_insert(month);
            if month.0 - late_since.0 >= max_delay {
                // Cancel everything still owed on this contract, due or not: the buyer has lost faith.
                let refunded_units = c.units_pending();
                let refund = units_f64(refunded_units) * c.prepaid_per_unit_usd;
                let balance_released = units_f64(refunded_units) * (c.unit_price_usd - c.prepaid_per_unit_usd);
                c.units_refunded += refunded_units;
                c.units_due_to_date = c.units_total;
                c.parts.iter_mut().for_each(|p| p.units_left = 0);
                c.late_since = None;
                let buyer = c.buyer;
                *cash_usd -= refund;
                flows.refunds_paid_usd += refund;
                flows.units_refunded += refunded_units;
                let books = &mut segments[buyer.idx()];
                books.cash_usd += refund;
                books.flows.refunds_received_usd += refund;
                books.prepaid_outstanding_usd -= refund;
                books.committed_balance_usd -= balance_released;
                if let Some(row) = pending_events.push(
                    path_idx,
                    month,
                    EventKind::ContractRefunded,
                    Subject::Manufacturer(m_idx),
                ) {
                    row.units = refunded_units;
                    row.amount_usd = refund;
                }
            }
        }
        m.refresh_reserved(Month(month.0 + 1));
        // Close finished contracts into the running tallies. Only contracts delivering can have finished.
        // They finish in signing order unless deliveries fell behind, so usually the finished ones are the
        // front of the book: then one drain moves the rest once, where `retain` would move every contract
        // after the first finished one by one.
        let delivering = &m.futures[..n_delivering];
        let n_finished_front = delivering.iter().take_while(|c| c.units_pending() == 0).count();
        let only_front_finished = delivering[n_finished_front..].iter().all(|c| c.units_pending() > 0);
        let mut close = |c: &mut FuturesContract| {
            let mut parts = std::mem::take(&mut c.parts);
            parts.clear();
            m.spare_parts.push(parts);
            let totals = &mut m.totals;
            totals.contracts_closed += 1;
            totals.units_closed_delivered += c.units_delivered;
            totals.units_closed_walked += c.units_walked;
            totals.units_closed_refunded += c.units_refunded;
            if let Some(row) =
                pending_events.push(path_idx, month, EventKind::ContractClosed, Subject::Manufacturer(m_idx))
            {
                row.units = c.units_total;
                row.amount_usd = c.units_total as f64 * c.unit_price_usd;
                row.value = c.contract_id as f64;
                row.value_unit = c.status().as_str();
            }
        };
        if only_front_finished {
            for mut c in m.futures.drain(..n_finished_front) {
                close(&mut c);
            }
        } else {
            m.futures.retain_mut(|c| {
                if c.units_pending() > 0 {
                    return true;
                }
                close(c);
                false
            });
        }
    }
    if any_limited {
        let shipments = std::mem::take(&mut w.trade_scratch.shipments);
        ship_within_capacity(w, &shipments);
        w.trade_scratch.shipments = shipments;
    }
}

/// Ships delivered futures when some region's capacity is limited: each shipment goes to its contract
/// region if it fits, otherwise (a ban closed its sites) to the region with room the segment would pick, or
/// waits for sites with the relocation pool.
fn ship_within_capacity(w: &mut World, shipments: &[(Segment, usize, usize, u64)]) {
    if shipments.is_empty() {
        return;
    }
    let params = w.params;
    let mut used_mw = std::mem::take(&mut w.trade_scratch.used_mw);
    used_mw_for_decisions(w, &mut used_mw);
    let mut weights = std::mem::take(&mut w.trade_scratch.region_weights);
    for &(segment, contract_region, g, units) in shipments {
        let need_mw = units as f64 * params.generations[g].power_w / W_PER_MW;
        let fits = |r: usize, used: &[f64]| {
            used[r] + need_mw <= w.regions.capacity_mw[r] || w.regions.capacity_mw[r].is_infinite()
        };
        let mut region_idx = contract_region;
        if !fits(region_idx, &used_mw) {
            region_weights(w, segment, g, &used_mw, &mut weights);
            let best = (0..params.regions.len())
                .filter(|&r| fits(r, &used_mw) && weights[r] > 0.0)
                .max_by(|&a, &b| weights[a].total_cmp(&weights[b]));
            match best {
                Some(r) => region_idx = r,
                None => {
                    // Nowhere has room: the machines wait for sites like machines stopped by a ban.
                    w.relocation.push(RelocationBatch {
                        segment_idx: segment.idx(),
                        generation_idx: g,
                        from_region_idx: contract_region,
                        units,
                        stopped: Month(w.month.0.saturating_sub(params.relocation.lag_months)),
                    });
                    w.relocation_totals.queued += units;
                    w.queued_units[contract_region] += units;
                    continue;
                }
            }
        }
        used_mw[region_idx] += need_mw;
        ship_to(&mut w.fleet, &params.segments, segment, region_idx, g, units);
    }
    w.trade_scratch.used_mw = used_mw;
    w.trade_scratch.region_weights = weights;
}

/// Sends `units` new machines of generation `g` to a segment's sites in a region; they run after the
/// segment's shipping lag.
#[inline]
fn ship_to(
    fleet: &mut Fleet,
    segments: &[SegmentParams; 2],
    segment: Segment,
    region_idx: usize,
    g: usize,
    units: u64,
) {
    let c = fleet.cohort_idx(segment, region_idx, g);
    fleet.ship(c, units, segments[segment.idx()].shipping_lag_months);
}

/// Dealers pay or default on installments, then stockpile in bull regimes or take installment contracts
/// for manufacturers' excess stock in bear regimes; stock that is worth only scrap is scrapped.
pub fn dealers_trade(w: &mut World) {
    let params = w.params;
    let dealers = &params.dealers;
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let month = w.month;
    let path_idx = w.path_idx;
    {
        let World {
            dealer,
            manufacturers,
            secondary_price_usd,
            rng_agents,
            pending_events,
            ..
        } = &mut *w;
        let mut i = 0;
        while i < dealer.installments.len() {
            let inst = &dealer.installments[i];
            let g = inst.generation_idx;
            let m_idx = inst.manufacturer_idx;
            let held_units = inst.units.min(dealer.stock[g].units);
            let value_held = units_f64(held_units) * secondary_price_usd[g];
            let underwater = inst.balance_usd > value_held;
            let u: f64 = rng_agents.random();
            let payment = inst.payment_usd.min(inst.balance_usd);
            let defaults =
                (underwater && u < dealers.default_probability_per_month) || dealer.liquidity_usd() < payment;
            if defaults {
                let inst = dealer.installments.swap_remove(i);
                let recovered_value = units_f64(held_units) * secondary_price_usd[g];
                dealer.stock[g].take(held_units);
                let m = &mut manufacturers[m_idx];
                m.stock[g].put(held_units, recovered_value);
                m.flows.units_recovered += held_units;
                m.flows.bad_debt_usd += (inst.balance_usd - recovered_value).max(0.0);
                dealer.flows.units_returned += held_units;
                dealer.flows.n_defaults += 1;
                dealer.flows.defaulted_balance_usd += inst.balance_usd;
                if let Some(row) =
                    pending_events.push(path_idx, month, EventKind::DealerDefault, Subject::Manufacturer(m_idx))
                {
                    row.units = held_units;
                    row.amount_usd = inst.balance_usd;
                    row.value = inst.installment_id as f64;
                    row.value_unit = "installment_id";
                }
                continue;
            }
            dealer.cash_usd -= payment;
            dealer.flows.installments_paid_usd += payment;
            let m = &mut manufacturers[m_idx];
            m.cash_usd += payment;
            m.flows.installments_collected_usd += payment;
            let inst = &mut dealer.installments[i];
            inst.balance_usd -= payment;
            inst.months_left = inst.months_left.saturating_sub(1);
            if inst.balance_usd <= 1e-6 || inst.months_left == 0 {
                // Rounding residue of the last payment is forgiven.
                let residue = inst.balance_usd.max(0.0);
                m.flows.bad_debt_usd += residue;
                dealer.installments.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    let bull = w.price.regime == Regime::Bull;
    let month_offset = w.month_offset();
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let strategy = &mp.strategy;
        let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, month_offset)].generation_idx;
        let m = &mut w.manufacturers[m_idx];
        let price = m.spot_price_usd[g];
        if price <= 0.0 {
            continue;
        }
        let wholesale = price * (1.0 - dealers.wholesale_discount_share);
        let free = m.free_stock_units(g);
        let dealer = &mut w.dealer;
        if bull {
            let target = dealers.bull_stock_months * dealer.demand_units_smoothed;
            let need = floor_units(target - dealer.stock_units() as f64);
            let allocation = floor_units(strategy.dealer_share_of_spot * units_f64(free));
            let affordable = floor_units(dealer.liquidity_usd() / wholesale);
            let n = need.min(allocation).min(affordable);
            if n == 0 {
                continue;
            }
            let value = units_f64(n) * wholesale;
            let cogs = m.stock[g].take(n);
            m.cash_usd += value;
            m.flows.spot_sales_cash_usd += value;
            m.flows.revenue_usd += value;
            m.flows.cogs_usd += cogs;
            m.flows.units_sold_dealers += n;
            dealer.cash_usd -= value;
            dealer.flows.purchases_usd += value;
            dealer.flows.units_bought_spot += n;
            dealer.stock[g].put(n, value);
            dealer.totals.units_in += n;
        } else {
            let target_stock = strategy.target_inventory_months * mp.capacity_units_per_month as f64;
            let excess = (m.inventory_units() as f64 - target_stock).max(0.0).min(free as f64);
            let mut n = floor_units(dealers.bear_installment_take_share * excess);
            let down_per_unit = wholesale * strategy.dealer_down_payment_share;
            if down_per_unit > 0.0 {
                n = n.min(floor_units(dealer.liquidity_usd() / down_per_unit));
            }
            if n == 0 {
                continue;
            }
            let value = units_f64(n) * wholesale;
            let down = units_f64(n) * down_per_unit;
            let cogs = m.stock[g].take(n);
            m.cash_usd += down;
            m.flows.dealer_down_payments_usd += down;
            m.flows.revenue_usd += value;
            m.flows.cogs_usd += cogs;
            m.flows.units_sold_dealers += n;
            dealer.cash_usd -= down;
            dealer.flows.down_payments_usd += down;
            dealer.flows.units_bought_installment += n;
            dealer.stock[g].put(n, value);
            dealer.totals.units_in += n;
            let installment_id = dealer.next_installment_id();
            let months = strategy.installment_months.max(1);
            dealer.installments.push(Installment {
                installment_id,
                manufacturer_idx: m_idx,
                generation_idx: g,
                units: n,
                balance_usd: value - down,
                payment_usd: (value - down) / months as f64,
                months_left: months,
            });
            if let Some(row) = w.pending_events.push(
                path_idx,
                month,
                EventKind::InstallmentSigned,
                Subject::Manufacturer(m_idx),
            ) {
                row.units = n;
                row.amount_usd = value;
                row.value = strategy.dealer_down_payment_share;
                row.value_unit = "down_payment_share";
            }
        }
    }

    // Stock worth only scrap is scrapped; the rest is carried at no more than it would fetch.
    let dealer = &mut w.dealer;
    for g in 0..params.generations.len() {
        let stock = &mut dealer.stock[g];
        if stock.units == 0 {
            continue;
        }
        if w.secondary_price_usd[g] <= scrap * (1.0 + 1e-9) && g != newest_released_generation(params, month) {
            let n = stock.units;
            let proceeds = units_f64(n) * scrap;
            let book = stock.take(n);
            dealer.flows.writedowns_usd += (book - proceeds).max(0.0);
            dealer.cash_usd += proceeds;
            dealer.flows.scrap_proceeds_usd += proceeds;
            dealer.flows.units_scrapped += n;
            continue;
        }
        let value = units_f64(stock.units) * w.replacement_price_usd[g].max(scrap);
        if stock.book_value_usd > value {
            dealer.flows.writedowns_usd += stock.book_value_usd - value;
            stock.book_value_usd = value;
        }
    }
}

/// Key accounts, then retail, spend a budget set by their funds and the best payback on offer:
/// part as futures (shrunk by the terms), the rest spot from dealers, manufacturers or the open market.
pub fn buyers_purchase(w: &mut World) {
    let params = w.params;
    let month = w.month;
    let month_offset = w.month_offset();
    let hp = w.revenue_usd_per_th_day;
    let installed_ths = w.fleet.installed_ths(&params.generations)
        + w.manufacturers
            .iter()
            .map(|m| {
                m.self_mining_units
                    .iter()
                    .zip(&params.generations)
                    .map(|(&n, g)| units_f64(n) * g.hashrate_ths)
                    .sum::<f64>()
            })
            .sum::<f64>();
    let mut offers = std::mem::take(&mut w.trade_scratch.offers);
    let mut choice_weights = std::mem::take(&mut w.trade_scratch.choice_weights);
    let mut used_mw = std::mem::take(&mut w.trade_scratch.used_mw);
    used_mw_for_decisions(w, &mut used_mw);
    let mut dealer_demand_units = 0.0;
    // Where every region sees the same landed prices and room is unlimited, buying region by region
    // gives the same result as buying once and sharing the machines out by the regions' weights.
    // Neither changes during the month's purchases.
    let uniform = !w.regions.any_limited() && !w.regions.any_tariff() && !any_local_assembly(params);
    for segment in Segment::ALL {
        let sp = &params.segments[segment.idx()];
        offers.clear();
        // Futures offers.
        for (m_idx, (m, mp)) in w.manufacturers.iter().zip(&params.manufacturers).enumerate() {
            let strategy = &mp.strategy;
            let available = m.futures_offer_units.saturating_sub(m.futures_signed_units);
            if m.distressed || available == 0 {
                continue;
            }
            let arrival = month_offset + strategy.wafer_lead_months as i64;
            let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, arrival)].generation_idx;
            let price = m.futures_price_usd[g];
            if price <= 0.0 {
                continue;
            }
            let profit = reference_profit_usd(params, g, hp);
            let demand_factor = w.terms_demand_factor[m_idx][segment.idx()];
            offers.push(Offer {
                source: Source::Manufacturer(m_idx),
                futures: true,
                generation_idx: g,
                unit_price_usd: price,
                duty_per_unit_usd: 0.0,
                payback_months: crate::market::hardware::payback_months(price, profit),
                units_available: available,
                cash_share_now: strategy.prepay_share,
                demand_factor,
                units_filled: 0,
            });
        }
        // Spot offers.
        for (m_idx, m) in w.manufacturers.iter().enumerate() {
            for g in 0..params.generations.len() {
                let price = m.spot_price_usd[g];
                if price <= 0.0 || m.stock[g].units == 0 {
                    continue;
                }
                let free = m.free_stock_units(g);
                if free == 0 {
                    continue;
                }
                let profit = reference_profit_usd(params, g, hp);
                offers.push(spot_offer(Source::Manufacturer(m_idx), g, price, profit, free));
            }
        }
        for g in 0..params.generations.len() {
            let units = w.dealer.stock[g].units;
            let price = w.dealer.price_usd[g];
            if units > 0 && price > 0.0 {
                let profit = reference_profit_usd(params, g, hp);
                offers.push(spot_offer(Source::Dealer, g, price, profit, units));
            }
        }
        if params.manufacturers.is_empty() {
            let g = newest_released_generation(params, month);
            let price = params.generations[g].price_new_usd;
            let profit = reference_profit_usd(params, g, hp);
            offers.push(spot_offer(Source::OpenMarket, g, price, profit, u64::MAX / 4));
        }
        let best_payback = offers.iter().map(|o| o.payback_months).fold(f64::INFINITY, f64::min);
        let appetite = appetite_share(best_payback, sp.full_appetite_payback_months, sp.max_payback_months);
        let books = &w.segments[segment.idx()];
        let mut budget = books.available_usd() * sp.max_spend_share_per_month * appetite;
        let best_usd_per_th = offers
            .iter()
            .map(|o| o.unit_price_usd / params.generations[o.generation_idx].hashrate_ths)
            .fold(f64::INFINITY, f64::min);
        if best_usd_per_th.is_finite() {
            let cap_usd = sp.max_growth_share_of_network_per_month * installed_ths * best_usd_per_th;
            budget = budget.min(cap_usd);
        }
        let Some(best_offer) = offers
            .iter()
            .min_by(|a, b| a.payback_months.total_cmp(&b.payback_months))
            .copied()
        else {
            continue;
        };
        if budget.is_nan() || budget <= 0.0 {
            continue;
        }
        // Where the machines will go: regions weighted by the segment's footprint, spare capacity and margin.
        let mut region_budgets = std::mem::take(&mut w.trade_scratch.region_budgets);
        region_weights(w, segment, best_offer.generation_idx, &used_mw, &mut region_budgets);
        let weight_sum: f64 = region_budgets.iter().sum();
        if weight_sum <= 0.0 {
            w.trade_scratch.region_budgets = region_budgets;
            continue;
        }
        let best_generation = &params.generations[best_offer.generation_idx];
        for (r, b) in region_budgets.iter_mut().enumerate() {
            *b *= budget / weight_sum;
            // No more than the region's spare capacity can host.
            let headroom_mw = (w.regions.capacity_mw[r] - used_mw[r]).max(0.0);
            if headroom_mw.is_finite() {
                let units = headroom_mw * W_PER_MW / best_generation.power_w;
                *b = b.min(units * best_offer.unit_price_usd);
            }
        }
        let mut liquidity = books.liquidity_usd();
        let mut region_offers = std::mem::take(&mut w.trade_scratch.region_offers);
        let mut region_offer_base = std::mem::take(&mut w.trade_scratch.region_offer_base);
        let mut parts = std::mem::take(&mut w.trade_scratch.region_parts);
        let mut destinations = std::mem::take(&mut w.trade_scratch.destinations);
        let n_passes = if uniform { 1 } else { params.regions.len() };
        let total_budget: f64 = region_budgets.iter().sum();
        for r in 0..n_passes {
            let region_budget = if uniform { total_budget } else { region_budgets[r] };
            if region_budget <= 0.0 {
                continue;
            }
            // The same offers, landed in this region: tariffs (or local assembly) raise the price. Where
            // prices are uniform there is one pass, before any fill: the landed offers are the offers.
            region_offers.clear();
            region_offer_base.clear();
            if uniform {
                // The one pass works on the offers themselves (handed back below), with nothing to copy.
                debug_assert!(offers.iter().all(|o| o.units_filled == 0 && o.units_available > 0));
                std::mem::swap(&mut offers, &mut region_offers);
            } else {
                for (base_idx, o) in offers.iter().enumerate() {
                    let left = o.units_available - o.units_filled;
                    if left == 0 {
                        continue;
                    }
                    let duty_share = duty_share(w, o.source, r);
                    let landed = o.unit_price_usd * (1.0 + duty_share);
                    let profit = reference_profit_usd(params, o.generation_idx, hp);
                    region_offers.push(Offer {
                        unit_price_usd: landed,
                        duty_per_unit_usd: o.unit_price_usd * duty_share,
                        payback_months: crate::market::hardware::payback_months(landed, profit),
                        units_available: left,
                        units_filled: 0,
                        ..*o
                    });
                    region_offer_base.push(base_idx);
                }
            }
            let n_futures = region_offers.iter().filter(|o| o.futures).count();
            let best_payback = region_offers
                .iter()
                .map(|o| o.payback_months)
                .fold(f64::INFINITY, f64::min);
            let futures_budget = if n_futures > 0 {
                region_budget * sp.futures_preference_share
            } else {
                0.0
            };
            let mut spot_budget = region_budget - futures_budget;
            // Offers are built futures first, so the split below keeps them apart.
            let (futures_offers, spot_offers) = region_offers.split_at_mut(n_futures);
            if n_futures > 0 {
                // The terms shrink how much buyers sign for; availability limits spill over to spot.
                let (mut weights_sum, mut shrunk_sum) = (0.0, 0.0);
                for o in futures_offers.iter() {
                    let weight = choice_weight(o, best_payback, sp.price_sensitivity);
                    weights_sum += weight;
                    shrunk_sum += weight * o.demand_factor;
                }
                let shrink = if weights_sum > 0.0 {
                    shrunk_sum / weights_sum
                } else {
                    0.0
                };
                let unspent = allocate(
                    futures_budget * shrink,
                    &mut liquidity,
                    sp.price_sensitivity,
                    futures_offers,
                    &mut choice_weights,
                );
                spot_budget += unspent.min(futures_budget);
            }
            if segment == Segment::Retail {
                let best_spot_price = spot_offers
                    .iter()
                    .map(|o| o.unit_price_usd)
                    .fold(f64::INFINITY, f64::min);
                if best_spot_price.is_finite() && best_spot_price > 0.0 {
                    dealer_demand_units += spot_budget / best_spot_price;
                }
            }
            allocate(
                spot_budget,
                &mut liquidity,
                sp.price_sensitivity,
                spot_offers,
                &mut choice_weights,
            );
            for (i, o) in region_offers.iter().enumerate() {
                if o.units_filled == 0 {
                    continue;
                }
                destinations.clear();
                if uniform {
                    // `apportion` sets every part: the buffer only needs the right length.
                    parts.resize(params.regions.len(), 0);
                    apportion(o.units_filled, &region_budgets, &mut parts);
                    destinations.extend(parts.iter().enumerate().filter(|&(_, &n)| n > 0).map(|(r, &n)| (r, n)));
                } else {
                    // The fill comes out of the offer's shared availability.
                    offers[region_offer_base[i]].units_filled += o.units_filled;
                    used_mw[r] += units_f64(o.units_filled) * params.generations[o.generation_idx].power_w / W_PER_MW;
                    destinations.push((r, o.units_filled));
                }
                settle(w, segment, o, &destinations);
            }
            if uniform {
                // The offers, filled, are the offers again.
                std::mem::swap(&mut offers, &mut region_offers);
            }
        }
        w.trade_scratch.region_parts = parts;
        w.trade_scratch.destinations = destinations;
        w.trade_scratch.region_offer_base = region_offer_base;
        w.trade_scratch.region_offers = region_offers;
        w.trade_scratch.region_budgets = region_budgets;
    }
    let smoothing = params.dealers.demand_smoothing_share;
    w.dealer.flows.units_demanded = to_units(dealer_demand_units);
    w.dealer.demand_units_smoothed =
        (1.0 - smoothing) * w.dealer.demand_units_smoothed + smoothing * dealer_demand_units;
    offers.clear();
    w.trade_scratch.offers = offers;
    w.trade_scratch.choice_weights = choice_weights;
    w.trade_scratch.used_mw = used_mw;
}

/// Whether any manufacturer assembles locally somewhere (landed prices then differ by region).
fn any_local_assembly(params: &crate::params::Params) -> bool {
    params
        .manufacturers
        .iter()
        .any(|m| !m.local_assembly_region_idxs.is_empty())
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

/// Power drawn per region, for the decisions that need it: zeros when no region has a capacity limit
/// (nothing then depends on it), saving a pass over every cohort.
fn used_mw_for_decisions(w: &World, used_mw: &mut Vec<f64>) {
    if w.regions.any_limited() {
        region_used_mw(w, used_mw);
    } else {
        used_mw.clear();
        used_mw.resize(w.params.regions.len(), 0.0);
    }
}

/// Power each region's installed and incoming machines draw, in MW.
pub fn region_used_mw(w: &World, used_mw: &mut Vec<f64>) {
    let params = w.params;
    used_mw.clear();
    used_mw.resize(params.regions.len(), 0.0);
    for c in 0..w.fleet.n_cohorts() {
        let n = w.fleet.units[c] + w.fleet.in_transit[c];
        if n > 0 {
            let (_, r, g) = w.fleet.cohort_parts(c);
            used_mw[r] += units_f64(n) * params.generations[g].power_w / W_PER_MW;
        }
    }
}

/// Weights of the regions where a segment's new machines of generation `g` go: the segment's footprint,
/// scaled by the share of capacity still free (when capacity is limited) and by what is not banned, and
/// tilted towards the best margins.
fn region_weights(w: &World, segment: Segment, g: usize, used_mw: &[f64], weights: &mut Vec<f64>) {
    let params = w.params;
    let generation = &params.generations[g];
    let hp = w.revenue_usd_per_th_day.max(1e-12);
    let sensitivity = params.segments[segment.idx()].region_choice_sensitivity;
    weights.clear();
    let mut max_score = f64::NEG_INFINITY;
    for r in 0..params.regions.len() {
        let cost = power_cost_usd_per_th_day(generation.efficiency_jth(), w.power.price_usd_per_kwh[r])
            * (1.0 + w.regions.opex_share()[r]);
        let score = sensitivity * (hp - cost) / hp;
        max_score = max_score.max(score);
        weights.push(score);
    }
    for (r, region) in params.regions.iter().enumerate() {
        let capacity = w.regions.capacity_mw[r];
        let free = if capacity.is_finite() {
            if capacity > 0.0 {
                ((capacity - used_mw[r]) / capacity).clamp(0.0, 1.0)
            } else {
                0.0
            }
        } else {
            1.0
        };
        weights[r] = region.segment_fleet_shares[segment.idx()]
            * free
            * (1.0 - w.regions.ban_level[r])
            * (weights[r] - max_score).exp();
    }
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

fn spot_offer(source: Source, g: usize, price: f64, profit: f64, units: u64) -> Offer {
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
    }
}

/// Logit weight of an offer: buyers favour the shortest payback, more so the more price-sensitive.
fn choice_weight(offer: &Offer, best_payback: f64, price_sensitivity: f64) -> f64 {
    if offer.units_filled >= offer.units_available || !offer.payback_months.is_finite() || !best_payback.is_finite() {
        return 0.0;
    }
    (-price_sensitivity * (offer.payback_months / best_payback - 1.0)).exp()
}

/// Spends up to `budget_usd` across offers in proportion to their choice weights, in up to three passes so
/// that what one offer cannot supply goes to the others. Returns the budget left unspent.
fn allocate(
    budget_usd: f64,
    liquidity_usd: &mut f64,
    price_sensitivity: f64,
    offers: &mut [Offer],
    base_weights: &mut Vec<f64>,
) -> f64 {
    let mut remaining = budget_usd;
    let best = offers
        .iter()
        .filter(|o| o.units_available > 0)
        .map(|o| o.payback_months)
        .fold(f64::INFINITY, f64::min);
    // An offer's weight is fixed for the month (one exponential); a pass only drops offers sold out.
    base_weights.clear();
    base_weights.extend(offers.iter().map(|o| choice_weight(o, best, price_sensitivity)));
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

/// Books a filled offer on both sides, once for the whole fill, and ships what was bought spot. The fill's
/// units go to regions as `destinations` says ((region, units) pairs adding up to `units_filled`); a futures
/// fill becomes one region part per destination of the month's contract with that segment.
fn settle(w: &mut World, segment: Segment, o: &Offer, destinations: &[(usize, u64)]) {
    let params = w.params;
    let n = o.units_filled;
    debug_assert_eq!(destinations.iter().map(|&(_, k)| k).sum::<u64>(), n);
    // The seller gets its price; the duty (landed price minus price) goes to the border.
    let seller_price = o.unit_price_usd - o.duty_per_unit_usd;
    let value = units_f64(n) * seller_price;
    let duty = units_f64(n) * o.duty_per_unit_usd;
    let g = o.generation_idx;
    let month = w.month;
    if o.futures {
        let Source::Manufacturer(m_idx) = o.source else {
            return;
        };
        let mp = &params.manufacturers[m_idx];
        let strategy = &mp.strategy;
        let prepaid_per_unit = seller_price * strategy.prepay_share;
        let prepayment = units_f64(n) * prepaid_per_unit;
        let m = &mut w.manufacturers[m_idx];
        // Fills signed this month by the same segment join that month's contract.
        let existing = m
            .futures
            .iter()
            .rev()
            .take_while(|c| c.signed == month)
            .position(|c| c.buyer == segment);
        let contract_idx = match existing {
            Some(back) => m.futures.len() - 1 - back,
            None => {
                let contract_id = m.next_contract_id();
                // A closed contract's parts, or room for one part per region (the most a contract takes).
                let parts = m
                    .spare_parts
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(params.regions.len()));
                let terms = ContractTerms {
                    buyer: segment,
                    generation_idx: g,
                    signed: month,
                    first_delivery: Month(month.0 + strategy.wafer_lead_months),
                    n_batches: strategy.delivery_months.max(1),
                    unit_price_usd: seller_price,
                    prepaid_per_unit_usd: prepaid_per_unit,
                };
                m.futures.push(FuturesContract::open(contract_id, terms, parts));
                m.totals.contracts_signed += 1;
                m.futures.len() - 1
            }
        };
        let contract = &mut m.futures[contract_idx];
        for &(region_idx, k) in destinations {
            contract.add_part(region_idx, k, o.duty_per_unit_usd);
        }
        // Batch sizes follow the units signed so far; the month's last fill sets them for good.
        contract.set_batches();
        m.cash_usd += prepayment;
        m.flows.prepayments_received_usd += prepayment;
        m.flows.units_sold_futures += n;
        m.futures_signed_units += n;
        m.totals.units_contracted += n;
        let books = &mut w.segments[segment.idx()];
        books.cash_usd -= prepayment;
        books.flows.prepayments_paid_usd += prepayment;
        books.committed_balance_usd += value - prepayment;
        books.prepaid_outstanding_usd += prepayment;
        let path_idx = w.path_idx;
        for &(region_idx, k) in destinations {
            if let Some(row) =
                w.pending_events
                    .push(path_idx, month, EventKind::ContractSigned, Subject::Manufacturer(m_idx))
            {
                row.units = k;
                row.amount_usd = k as f64 * seller_price;
                row.value = strategy.prepay_share;
                row.value_unit = "prepay_share";
                row.region_idx = Some(region_idx);
            }
        }
        return;
    }
    match o.source {
        Source::Manufacturer(m_idx) => {
            let m = &mut w.manufacturers[m_idx];
            let cogs = m.stock[g].take(n);
            m.cash_usd += value;
            m.flows.spot_sales_cash_usd += value;
            m.flows.revenue_usd += value;
            m.flows.cogs_usd += cogs;
            m.flows.units_sold_spot += n;
        }
        Source::Dealer => {
            let d = &mut w.dealer;
            let cogs = d.stock[g].take(n);
            d.cash_usd += value;
            d.flows.sales_usd += value;
            d.flows.cogs_usd += cogs;
            d.flows.units_sold += n;
            d.totals.units_sold += n;
        }
        Source::OpenMarket => {}
    }
    let books = &mut w.segments[segment.idx()];
    books.cash_usd -= value + duty;
    books.flows.spot_purchases_usd += value;
    books.flows.duties_paid_usd += duty;
    for &(region_idx, k) in destinations {
        ship_to(&mut w.fleet, &params.segments, segment, region_idx, g, k);
    }
}

/// New retail money in bull regimes, churn of segments whose cash has run out, and interest on credit.
pub fn segments_finance(w: &mut World) {
    let params = w.params;
    let bull = w.price.regime == Regime::Bull;
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    for segment in Segment::ALL {
        let sp = &params.segments[segment.idx()];
        if bull && sp.bull_inflow_usd_per_month > 0.0 {
            let books = &mut w.segments[segment.idx()];
            books.cash_usd += sp.bull_inflow_usd_per_month;
            books.flows.inflow_usd += sp.bull_inflow_usd_per_month;
        }
    }
    for segment in Segment::ALL {
        let sp = &params.segments[segment.idx()];
        if w.segments[segment.idx()].cash_usd >= 0.0 || sp.churn_share_per_month <= 0.0 {
            continue;
        }
        // Machines leave the churning segment: the other segment takes what it can pay for at the used
        // price, the rest is scrapped.
        let other = if segment == Segment::Retail {
            Segment::KeyAccount
        } else {
            Segment::Retail
        };
        let other_params = &params.segments[other.idx()];
        let mut other_budget = w.segments[other.idx()].available_usd() * other_params.max_spend_share_per_month;
        for r in 0..params.regions.len() {
            for g in 0..params.generations.len() {
                let from = w.fleet.cohort_idx(segment, r, g);
                let n = floor_units(units_f64(w.fleet.units[from]) * sp.churn_share_per_month);
                if n == 0 {
                    continue;
                }
                let price = w.secondary_price_usd[g];
                let affordable = if price > 0.0 {
                    floor_units(other_budget / price)
                } else {
                    0
                };
                let profitable = w.fleet.q_now[r * params.generations.len() + g] > 0.5;
                let taken = if profitable { n.min(affordable) } else { 0 };
                let scrapped = n - taken;
                let to = w.fleet.cohort_idx(other, r, g);
                if taken > 0 {
                    w.fleet.sell_off(from, to, taken);
                    let paid = units_f64(taken) * price;
                    other_budget -= paid;
                    let buyer = &mut w.segments[other.idx()];
                    buyer.cash_usd -= paid;
                    buyer.flows.takeover_paid_usd += paid;
                    let seller = &mut w.segments[segment.idx()];
                    seller.cash_usd += paid;
                    seller.flows.sale_proceeds_usd += paid;
                }
                if scrapped > 0 {
                    w.fleet.retire_units(from, scrapped);
                    let proceeds = units_f64(scrapped) * scrap;
                    let seller = &mut w.segments[segment.idx()];
                    seller.cash_usd += proceeds;
                    seller.flows.sale_proceeds_usd += proceeds;
                }
            }
        }
    }
    for segment in Segment::ALL {
        let rate = params.segments[segment.idx()].credit_interest_rate_per_month;
        let books = &mut w.segments[segment.idx()];
        let interest = (-books.cash_usd).max(0.0) * rate;
        books.cash_usd -= interest;
        books.flows.interest_usd += interest;
    }
    let dealer = &mut w.dealer;
    let interest = (-dealer.cash_usd).max(0.0) * params.dealers.credit_interest_rate_per_month;
    dealer.cash_usd -= interest;
    dealer.flows.interest_usd += interest;
}

/// Self-mining of stock that would sell below cost, write-downs and scrapping, fixed costs, the wafer
/// order for month t + L, and distress.
pub fn manufacturers_finance(w: &mut World) {
    let params = w.params;
    let month = w.month;
    let month_offset = w.month_offset();
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let path_idx = w.path_idx;
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let strategy = &mp.strategy;
        let m = &mut w.manufacturers[m_idx];
        let market_price = &w.market_price_usd[m_idx];
        if strategy.self_mine {
            for (g, &price) in market_price.iter().enumerate() {
                if m.stock[g].units == 0 || price >= Manufacturer::unit_cost_usd(mp, g) {
                    continue;
                }
                let free = m.free_stock_units(g);
                let n = floor_units(units_f64(free) * strategy.self_mine_share_per_month);
                if n == 0 {
                    continue;
                }
                m.stock[g].take(n);
                m.self_mining_units[g] += n;
                m.flows.units_self_mined += n;
            }
        }
        let realisable = &mut w.trade_scratch.realisable_usd;
        realisable.clear();
        realisable.extend(market_price.iter().map(|&p| p.max(scrap)));
        m.write_down(realisable);
        for (g, &value) in realisable.iter().enumerate() {
            if m.stock[g].units == 0 || !Manufacturer::is_ageing(mp, g, month_offset) || value > scrap * (1.0 + 1e-9) {
                continue;
            }
            let n = m.stock[g].units;
            m.stock[g].take(n);
            let proceeds = units_f64(n) * scrap;
            m.cash_usd += proceeds;
            m.flows.scrap_proceeds_usd += proceeds;
            m.flows.units_scrapped += n;
        }
        m.pay_fixed_costs(mp);
        m.order_wafers(mp, month, month_offset);
        let m = &mut w.manufacturers[m_idx];
        let in_distress = m.cash_usd < -m.credit_line_usd;
        if in_distress != m.distressed {
            m.distressed = in_distress;
            let kind = if in_distress {
                EventKind::DistressStarted
            } else {
                EventKind::DistressEnded
            };
            let cash = m.cash_usd;
            if let Some(row) = w
                .pending_events
                .push(path_idx, month, kind, Subject::Manufacturer(m_idx))
            {
                row.amount_usd = cash;
                row.value = cash;
                row.value_unit = "usd";
            }
        }
        let m = &mut w.manufacturers[m_idx];
        let f = &m.flows;
        let t = &mut m.totals;
        t.revenue_usd += f.revenue_usd;
        t.cogs_usd += f.cogs_usd;
        t.writedowns_usd += f.writedowns_usd;
        t.prepayments_forfeited_usd += f.prepayments_forfeited_usd;
        t.units_sold += f.units_delivered + f.units_sold_spot + f.units_sold_dealers;
        t.units_walked += f.units_walked_away;
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
    }
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
