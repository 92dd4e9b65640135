//! Relocation, the end of phase 2: machines stopped by bans move, after the relocation lag, to regions with
//! free sites; those that find none by the deadline are sold outside the simulated regions or scrapped.
#![warn(missing_docs)]

use crate::math::{apportion, floor_units, to_units, units_f64};
use crate::params::Segment;
use crate::record::{EventKind, Subject};
use crate::units::W_PER_MW;
use crate::world::World;

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
    let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
    w.used_mw_for_decisions(&mut used_mw);
    let mut weights = std::mem::take(&mut w.scratch.region_weights);
    let mut parts = std::mem::take(&mut w.scratch.region_parts);
    let mut capacity_units = std::mem::take(&mut w.scratch.capacity_units);
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
        w.region_weights(segment, g, &used_mw, &mut weights);
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
            w.segments[batch.segment_idx].pay_relocation(cost);
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
            w.segments[batch.segment_idx].receive_sale_proceeds(proceeds);
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
    w.scratch.used_mw = used_mw;
    w.scratch.region_weights = weights;
    w.scratch.region_parts = parts;
    w.scratch.capacity_units = capacity_units;
}
