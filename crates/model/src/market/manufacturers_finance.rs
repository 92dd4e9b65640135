//! Phase 10, manufacturers' finance: self-mining of stock that would sell below cost, write-downs and
//! scrapping, fixed costs and interest, the wafer order for month `t + L` (with take-or-pay capacity left
//! unordered cancelled for its penalty), the month's sales into the forecast, distress, and the month's flows
//! rolled up into the path's tallies. Each step is the manufacturer's own (`crate::agents::manufacturer`);
//! this phase runs them in order and records distress events.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::books::SelfMiningSite;
use crate::agents::manufacturer::planning::PlanInputs;
use crate::market::power::PowerState;
use crate::market::regions::RegionsState;
use crate::params::ManufacturerParams;
use crate::record::{EventKind, Subject};
use crate::world::World;

/// Runs every manufacturer's month of finance.
pub fn manufacturers_finance(w: &mut World) {
    let params = w.params;
    let month = w.month;
    let month_offset = w.month_offset();
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let all_sold_units: u64 = w.manufacturers.iter().map(|m| m.units_sold_this_month()).sum();
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let m = &mut w.manufacturers[m_idx];
        let market_price = &w.market_price_usd[m_idx];
        if mp.strategy.self_mine {
            m.self_mine_unsold(mp, market_price);
        }
        let realisable = &mut w.scratch.realisable_usd;
        realisable.clear();
        realisable.extend(market_price.iter().map(|&p| p.max(scrap)));
        m.write_down(realisable);
        m.scrap_ageing(mp, realisable, scrap, month_offset);
        m.run_other_lines(mp, month_offset);
        m.pay_fixed_costs(mp, month_offset);
        let arrival = month_offset + i64::from(mp.strategy.wafer_lead_months);
        let entry = &mp.roadmap[Manufacturer::current_roadmap_idx(mp, arrival)];
        let inputs = PlanInputs {
            generation_idx: entry.generation_idx,
            unit_cost_usd: entry.unit_cost_usd,
            market_value_usd: market_price[entry.generation_idx],
        };
        m.order_wafers(mp, month, inputs);
        m.close_plan_month(mp, all_sold_units);
        if let Some(in_distress) = m.update_distress() {
            let kind = if in_distress {
                EventKind::DistressStarted
            } else {
                EventKind::DistressEnded
            };
            let cash = m.cash_usd();
            if let Some(row) = w.event(kind, Subject::Manufacturer(m_idx)) {
                row.amount_usd = cash;
                row.value = cash;
                row.value_unit = "usd";
            }
        }
        w.manufacturers[m_idx].roll_up_month();
    }
}

/// Where a manufacturer's self-mining fleet runs this month: its own sites at its flat power price, or, with
/// `self_mining_region`, the region's sites at the region's power price with its opex share (all-in, like
/// the miners there), with the share a ban stopped switched off.
pub(crate) fn self_mining_site(mp: &ManufacturerParams, power: &PowerState, regions: &RegionsState) -> SelfMiningSite {
    match mp.self_mining_region_idx {
        None => SelfMiningSite::own(mp),
        Some(r) => SelfMiningSite {
            power_price_usd_per_kwh: power.price_usd_per_kwh[r] * (1.0 + regions.opex_share()[r]),
            running_share: 1.0 - regions.ban_level[r],
        },
    }
}
