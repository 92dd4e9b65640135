//! Phase 1, exogenous draws: the BTC price and regime, fees per block, regional power prices, and the
//! regional shocks drawn from each region's hazards, applied at once. Each process draws a fixed number of
//! random numbers from its own stream, whatever happens, so runs that differ only in agents' parameters see
//! the same prices and shocks.
#![warn(missing_docs)]

use crate::market::regions::{RelocationBatch, Shock, draw_shocks};
use crate::math::{to_units, units_f64};
use crate::params::Segment;
use crate::record::{EventKind, Subject};
use crate::world::World;

/// Steps the price, fee and power processes, then draws and applies the month's regional shocks.
pub fn draw(w: &mut World) {
    let params = w.params;
    w.price.step(&params.price, &mut w.rng_price);
    w.fees.step(&params.fees, &mut w.rng_fees);
    w.power.step(&params.regions, &mut w.rng_power);
    // AI's load on power: before the shocks, whose price refresh keeps its factor.
    crate::market::hosting::ai_power_demand(w);
    let mut shocks = std::mem::take(&mut w.scratch.shocks);
    draw_shocks(params, &mut w.rng_shocks, &mut shocks);
    for shock in shocks.iter().copied() {
        apply_shock(w, shock, true);
    }
    w.scratch.shocks = shocks;
}

/// Applies a regulation shock, scripted or `drawn` from a region's hazards, and records it.
pub(crate) fn apply_shock(w: &mut World, shock: Shock, drawn: bool) {
    let params = w.params;
    match shock {
        Shock::Power {
            region_idx,
            factor,
            decay_per_month,
        } => {
            w.power.shock(region_idx, factor, decay_per_month, &params.regions);
            if let Some(row) = w.event(EventKind::PowerShock, Subject::Region(region_idx)) {
                row.value = factor;
                row.value_unit = "factor";
                row.drawn = drawn;
            }
        }
        Shock::Tariff {
            region_idx,
            origin_idx,
            rate_share,
        } => {
            w.regions.set_tariff(region_idx, origin_idx, rate_share);
            if let Some(row) = w.event(EventKind::Tariff, Subject::Region(region_idx)) {
                row.value = rate_share;
                row.value_unit = "rate_share";
                row.drawn = drawn;
                row.detail = format!("origin {}", params.origins.get(origin_idx).map_or("?", String::as_str));
            }
        }
        Shock::Tightening {
            region_idx,
            opex_increase_share,
        } => {
            let rise_share = w.regions.raise_opex(region_idx, opex_increase_share);
            if let Some(row) = w.event(EventKind::Tightening, Subject::Region(region_idx)) {
                row.value = rise_share;
                row.value_unit = "opex_share_increase";
                row.drawn = drawn;
            }
        }
        Shock::Ban { region_idx, share } => {
            // The share of every cohort in the region stops at once and joins the relocation pool.
            let mut stopped = 0;
            for segment in Segment::ALL {
                for g in 0..params.generations.len() {
                    let c = w.fleet.cohort_idx(segment, region_idx, g);
                    let n = to_units(units_f64(w.fleet.units[c]) * share).min(w.fleet.units[c]);
                    // Machines on their way there are stopped at the border too, exactly as many as the
                    // shipments give up (`Fleet::stop_at_ban` takes them out of transit unclamped).
                    let d = if w.fleet.in_transit[c] > 0 {
                        w.fleet.divert_arrivals(c, share)
                    } else {
                        0
                    };
                    if n + d == 0 {
                        continue;
                    }
                    w.fleet.stop_at_ban(c, n, d);
                    let n = n + d;
                    stopped += n;
                    w.relocation.push(RelocationBatch {
                        segment_idx: segment.idx(),
                        generation_idx: g,
                        from_region_idx: region_idx,
                        units: n,
                        stopped: w.month,
                    });
                }
            }
            w.relocation_totals.stopped += stopped;
            let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
            w.region_used_mw(&mut used_mw);
            w.regions.close(region_idx, share, used_mw[region_idx]);
            w.scratch.used_mw = used_mw;
            if let Some(row) = w.event(EventKind::Ban, Subject::Region(region_idx)) {
                row.units = stopped;
                row.value = share;
                row.value_unit = "share";
                row.drawn = drawn;
            }
        }
    }
}
