//! Phase 7, dealers: installments are paid or defaulted; dealers stockpile in bull regimes or take
//! installment contracts for manufacturers' excess stock in bear regimes; stock worth only scrap is
//! scrapped. The dealer decides and books each step (`crate::agents::dealer`); this phase goes through the
//! manufacturers in order and records the events.
#![warn(missing_docs)]

use crate::agents::dealer::InstallmentTerms;
use crate::agents::manufacturer::Manufacturer;
use crate::math::{floor_units, units_f64};
use crate::params::Regime;
use crate::record::{EventKind, Subject};
use crate::world::{World, newest_released_generation};

/// Runs the dealers' month.
pub fn dealers_trade(w: &mut World) {
    let params = w.params;
    let month = w.month;
    let path_idx = w.path_idx;
    let World {
        dealer,
        manufacturers,
        secondary_price_usd,
        rng_agents,
        pending_events,
        ..
    } = &mut *w;
    dealer.settle_installments(
        manufacturers,
        secondary_price_usd,
        params.dealers.default_probability_per_month,
        rng_agents,
        |inst, held_units| {
            let subject = Subject::Manufacturer(inst.manufacturer_idx);
            if let Some(row) = pending_events.push(path_idx, month, EventKind::DealerDefault, subject) {
                row.units = held_units;
                row.amount_usd = inst.balance_usd;
                row.value = inst.installment_id as f64;
                row.value_unit = "installment_id";
            }
        },
    );
    take_stock(w);
    let newest = newest_released_generation(params, month);
    w.dealer.scrap_and_write_down(
        &w.secondary_price_usd,
        &w.replacement_price_usd,
        params.secondary_market.scrap_value_usd_per_unit,
        newest,
    );
}

/// Dealers take stock of each manufacturer's current generation: bought spot in bull regimes, on
/// installments from the manufacturer's excess stock in bear regimes.
fn take_stock(w: &mut World) {
    let params = w.params;
    let dealers = &params.dealers;
    let bull = w.price.regime == Regime::Bull;
    let month_offset = w.month_offset();
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let strategy = &mp.strategy;
        let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, month_offset)].generation_idx;
        let m = &mut w.manufacturers[m_idx];
        let price = m.spot_prices_usd()[g];
        if price <= 0.0 {
            continue;
        }
        let wholesale = price * (1.0 - dealers.wholesale_discount_share);
        let free = m.free_stock_units(g);
        if bull {
            let allocation = floor_units(strategy.dealer_share_of_spot * units_f64(free));
            w.dealer.stockpile(m, g, wholesale, allocation, dealers);
            continue;
        }
        // Stock beyond what its own plan aims to hold (months of forecast sales) is excess.
        let target_stock = strategy.target_inventory_months * m.forecast().units_per_month;
        let excess = (m.inventory_units() as f64 - target_stock).max(0.0).min(free as f64);
        let terms = InstallmentTerms {
            wholesale_usd: wholesale,
            down_payment_share: strategy.dealer_down_payment_share,
            n_months: strategy.installment_months,
        };
        let (n, value) = w.dealer.take_excess_on_installment(m, m_idx, g, excess, terms, dealers);
        if n == 0 {
            continue;
        }
        if let Some(row) = w.event(EventKind::InstallmentSigned, Subject::Manufacturer(m_idx)) {
            row.units = n;
            row.amount_usd = value;
            row.value = strategy.dealer_down_payment_share;
            row.value_unit = "down_payment_share";
        }
    }
}
