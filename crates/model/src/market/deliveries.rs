//! Phase 6, futures deliveries: batches fall due; buyers walk away or pay the balance; batches late beyond
//! the limit are cancelled and their prepayments refunded. Money and machines move through the
//! manufacturer's two-sided postings (`Manufacturer::deliver_futures_units`, `forfeit_prepayment`,
//! `refund_prepayment`), which book the buyer's side too.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::futures::FuturesContract;
use crate::agents::miner::Fleet;
use crate::agents::miner::books::SegmentBooks;
use crate::market::key_accounts;
use crate::market::regions::RelocationBatch;
use crate::math::{floor_units, to_units, units_f64};
use crate::params::{Params, Segment};
use crate::record::event_log::EventLog;
use crate::record::{EventKind, Subject};
use crate::units::{Month, W_PER_MW};
use crate::world::World;

/// What the delivery of one manufacturer's book needs of the rest of the world, borrowed apart.
struct Deliveries<'a> {
    params: &'a Params,
    month: Month,
    path_idx: u32,
    segments: &'a mut [SegmentBooks; 2],
    fleet: &'a mut Fleet,
    replacement_price_usd: &'a [f64],
    pending_events: &'a mut EventLog,
    /// Deliveries waiting to be placed when some region's sites are limited (`ship_within_capacity`).
    shipments: &'a mut Vec<(Segment, usize, usize, u64)>,
    /// The regions one delivery's units go to: (region, units).
    delivered_regions: &'a mut Vec<(usize, u64)>,
    any_limited: bool,
}

/// Futures batches fall due. A buyer whose remaining balance is worth more than the machines walks away
/// with a probability that rises with the gap, forfeiting the prepayment; a buyer that cannot pay the
/// balance walks away too. Batches late beyond the limit are cancelled and the prepayment refunded.
pub fn deliver_futures(w: &mut World) {
    key_accounts::mark_before_deliveries(w);
    let params = w.params;
    let month = w.month;
    let World {
        manufacturers,
        segments,
        fleet,
        regions,
        replacement_price_usd,
        pending_events,
        scratch,
        path_idx,
        ..
    } = &mut *w;
    scratch.shipments.clear();
    // With room everywhere each delivery ships straight to its contract region; otherwise the month's
    // deliveries are placed together once the book is done (`ship_within_capacity`).
    let any_limited = regions.any_limited();
    let mut ctx = Deliveries {
        params,
        month,
        path_idx: *path_idx,
        segments,
        fleet,
        replacement_price_usd,
        pending_events,
        shipments: &mut scratch.shipments,
        delivered_regions: &mut scratch.delivered_regions,
        any_limited,
    };
    for (m_idx, m) in manufacturers.iter_mut().enumerate() {
        deliver_book(&mut ctx, m_idx, m);
    }
    if any_limited {
        let shipments = std::mem::take(&mut w.scratch.shipments);
        ship_within_capacity(w, &shipments);
        w.scratch.shipments = shipments;
    }
    key_accounts::mark_after_deliveries(w);
}

/// One manufacturer's contracts with batches due: deliveries, walk-aways and cancellations, then the
/// contracts finished close.
fn deliver_book(ctx: &mut Deliveries, m_idx: usize, m: &mut Manufacturer) {
    let month = ctx.month;
    let max_delay = ctx.params.manufacturers[m_idx].strategy.max_delivery_delay_months;
    // The book is in signing order and the lead time is fixed, so contracts already delivering form a
    // prefix: the rest have nothing due yet.
    let n_delivering = m.futures.partition_point(|c| c.first_delivery <= month);
    // The contracts leave the book while they deliver (moving the list, not its contents), so the
    // manufacturer's postings can borrow the manufacturer whole.
    let mut futures = std::mem::take(&mut m.futures);
    for c in &mut futures[..n_delivering] {
        c.units_due_to_date += c.batch_units(month);
        let outstanding = c.units_outstanding_due();
        if outstanding == 0 {
            c.late_since = None;
            continue;
        }
        let deliverable = outstanding.min(m.stock[c.generation_idx].units);
        if deliverable > 0 {
            deliver_due(ctx, m_idx, m, c, deliverable);
        }
        let still_due = c.units_outstanding_due();
        if still_due == 0 {
            c.late_since = None;
            continue;
        }
        let late_since = *c.late_since.get_or_insert(month);
        if month.0 - late_since.0 >= max_delay {
            cancel_late(ctx, m_idx, m, c);
        }
    }
    m.futures = futures;
    m.refresh_reserved_after_deliveries(n_delivering, Month(month.0 + 1));
    let (path_idx, events) = (ctx.path_idx, &mut *ctx.pending_events);
    m.close_finished_contracts(n_delivering, |c| {
        if let Some(row) = events.push(path_idx, month, EventKind::ContractClosed, Subject::Manufacturer(m_idx)) {
            row.units = c.units_total;
            row.amount_usd = c.units_total as f64 * c.unit_price_usd;
            row.value = c.contract_id as f64;
            row.value_unit = c.status().as_str();
        }
    });
}

/// `deliverable` units of a contract's due batches are ready: the buyer walks away from some (forfeiting
/// their prepayment) and pays the balance on the rest, which ship to the contract's regions.
fn deliver_due(ctx: &mut Deliveries, m_idx: usize, m: &mut Manufacturer, c: &mut FuturesContract, deliverable: u64) {
    let params = ctx.params;
    let g = c.generation_idx;
    let buyer = c.buyer;
    let balance_per_unit = c.unit_price_usd - c.prepaid_per_unit_usd;
    let due_per_unit = balance_per_unit + c.max_duty_per_unit_usd();
    let value_per_unit = ctx.replacement_price_usd[g];
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
    let books = &mut ctx.segments[buyer.idx()];
    let mut forced = 0;
    if due_per_unit > 0.0 && units_f64(paying) * due_per_unit > books.liquidity_usd() {
        let affordable = floor_units(books.liquidity_usd() / due_per_unit).min(paying);
        forced = paying - affordable;
        walked += forced;
        paying = affordable;
    }
    if walked > 0 {
        let forfeited = units_f64(walked) * c.prepaid_per_unit_usd;
        m.forfeit_prepayment(books, walked, forfeited, units_f64(walked) * balance_per_unit);
        m.note_forced_walk_away(forced);
        c.units_walked += walked;
        c.take_from_parts(walked, |_, _, _| {});
        if let Some(row) = ctx.pending_events.push(
            ctx.path_idx,
            ctx.month,
            EventKind::WalkAway,
            Subject::Manufacturer(m_idx),
        ) {
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
        let fleet = &mut *ctx.fleet;
        let first_cohort = fleet.cohort_idx(buyer, 0, g);
        let region_stride = fleet.region_stride();
        let lag_months = params.segments[buyer.idx()].shipping_lag_months;
        let (any_limited, shipments) = (ctx.any_limited, &mut *ctx.shipments);
        // Which origins the units leave from depends on where they go only when there are several.
        let by_origin = m.origins().n_slots() > 1;
        let delivered_regions = &mut *ctx.delivered_regions;
        delivered_regions.clear();
        if by_origin || any_limited {
            c.take_from_parts(paying, |region_idx, duty_per_unit, n| {
                duty += units_f64(n) * duty_per_unit;
                if by_origin {
                    delivered_regions.push((region_idx, n));
                }
                if any_limited {
                    shipments.push((buyer, region_idx, g, n));
                } else {
                    fleet.ship(first_cohort + region_idx * region_stride, n, lag_months);
                }
            });
        } else {
            // The usual case, one origin and room everywhere: each region's units ship straight there, with
            // nothing to note for later.
            let shipment = fleet.shipment(lag_months);
            c.take_from_parts(paying, |region_idx, duty_per_unit, n| {
                duty += units_f64(n) * duty_per_unit;
                fleet.ship_by(shipment, first_cohort + region_idx * region_stride, n);
            });
        }
        let books = &mut ctx.segments[buyer.idx()];
        m.deliver_futures_units(books, c, paying, balance, duty, ctx.delivered_regions);
        c.units_delivered += paying;
    }
}

/// A contract late beyond the limit: everything still owed on it, due or not, is cancelled and its
/// prepayment refunded, since the buyer has lost faith.
fn cancel_late(ctx: &mut Deliveries, m_idx: usize, m: &mut Manufacturer, c: &mut FuturesContract) {
    let refunded_units = c.units_pending();
    let refund = units_f64(refunded_units) * c.prepaid_per_unit_usd;
    let balance_released = units_f64(refunded_units) * (c.unit_price_usd - c.prepaid_per_unit_usd);
    c.units_refunded += refunded_units;
    c.units_due_to_date = c.units_total;
    c.parts.iter_mut().for_each(|p| p.units_left = 0);
    c.late_since = None;
    let books = &mut ctx.segments[c.buyer.idx()];
    m.refund_prepayment(books, refunded_units, refund, balance_released);
    if let Some(row) = ctx.pending_events.push(
        ctx.path_idx,
        ctx.month,
        EventKind::ContractRefunded,
        Subject::Manufacturer(m_idx),
    ) {
        row.units = refunded_units;
        row.amount_usd = refund;
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
    let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
    w.used_mw_for_decisions(&mut used_mw);
    let mut weights = std::mem::take(&mut w.scratch.region_weights);
    for &(segment, contract_region, g, units) in shipments {
        let need_mw = units as f64 * params.generations[g].power_w / W_PER_MW;
        let fits = |r: usize, used: &[f64]| {
            used[r] + need_mw <= w.regions.capacity_mw[r] || w.regions.capacity_mw[r].is_infinite()
        };
        let mut region_idx = contract_region;
        if !fits(region_idx, &used_mw) {
            w.region_weights(segment, g, &used_mw, &mut weights);
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
        w.fleet.ship_to_region(&params.segments, segment, region_idx, g, units);
    }
    w.scratch.used_mw = used_mw;
    w.scratch.region_weights = weights;
}
