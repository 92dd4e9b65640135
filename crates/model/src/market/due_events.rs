//! Phase 2, due events: the scripted events first (price and power shocks, regime changes, scripted bans,
//! tariffs and tightenings), then the month's machines arriving at miners, then each manufacturer's wafer
//! lots due this month; then machines stopped by bans relocate (`crate::market::relocation`).
#![warn(missing_docs)]

use crate::events::Event;
use crate::market::exogenous::apply_shock;
use crate::market::regions::Shock;
use crate::market::relocation::relocate;
use crate::params::{Regime, ScriptedEventKind};
use crate::record::{EventKind, Subject};
use crate::units::Month;
use crate::world::World;

/// Applies the month's due events in their order, then moves machines stopped by bans that can move.
pub fn apply_due(w: &mut World) {
    let mut due = std::mem::take(&mut w.scratch.due);
    // Scripted events first, while the month's arrivals are still on their way: a ban stops those too.
    w.queue.take_due(w.month, &mut due);
    apply_scripted(w, &due);
    w.scratch.due = due;
    w.fleet.land_arrivals();
    for m in &mut w.manufacturers {
        m.receive_wafers(w.month);
    }
    relocate(w);
}

fn apply_scripted(w: &mut World, due: &[Event]) {
    // The queue holds scripted events only.
    for Event::Scripted { event_idx } in due.iter().copied() {
        let scripted = &w.params.events[event_idx];
        let (kind, subject, value, unit) = match scripted.kind {
            ScriptedEventKind::PriceShock { factor } => {
                w.price.shock(factor);
                (EventKind::PriceShock, Subject::Network, factor, "factor")
            }
            ScriptedEventKind::SetRegime { regime } => {
                w.price.regime = regime;
                let v = if regime == Regime::Bull { 1.0 } else { 0.0 };
                (EventKind::SetRegime, Subject::Network, v, "bull")
            }
            ScriptedEventKind::PowerShock {
                region_idx,
                factor,
                decay_per_month,
            } => {
                apply_shock(
                    w,
                    Shock::Power {
                        region_idx,
                        factor,
                        decay_per_month,
                    },
                    false,
                );
                continue;
            }
            ScriptedEventKind::Ban { region_idx, share } => {
                apply_shock(w, Shock::Ban { region_idx, share }, false);
                continue;
            }
            ScriptedEventKind::Tariff {
                region_idx,
                origin_idx,
                rate_share,
            } => {
                apply_shock(
                    w,
                    Shock::Tariff {
                        region_idx,
                        origin_idx,
                        rate_share,
                    },
                    false,
                );
                continue;
            }
            ScriptedEventKind::FoundryShortage {
                factor,
                duration_months,
            } => {
                w.foundry_shortage = (factor, Month(w.month.0 + duration_months));
                (EventKind::FoundryShortage, Subject::Network, factor, "allotment_share")
            }
            ScriptedEventKind::Tightening {
                region_idx,
                opex_increase_share,
            } => {
                apply_shock(
                    w,
                    Shock::Tightening {
                        region_idx,
                        opex_increase_share,
                    },
                    false,
                );
                continue;
            }
        };
        if let Some(row) = w.event(kind, subject) {
            row.value = value;
            row.value_unit = unit;
        }
    }
}
