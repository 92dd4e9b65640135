//! Phase 5, valuation: used-machine prices from the profit a machine can still earn; manufacturers produce,
//! then price and plan; dealers price off the manufacturers, and replacement prices follow.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::market::hardware::monthly_profit_usd_per_unit;
use crate::market::network::expected_usd_per_th_day;
use crate::math::units_f64;
use crate::params::Regime;
use crate::world::{World, reference_profit_usd};

/// Values machines at the month's difficulty and price, produces, and sets every seller's prices.
pub fn value_and_price(w: &mut World) {
    let params = w.params;
    w.revenue_usd_per_th_day = expected_usd_per_th_day(
        w.network.difficulty,
        w.network.next_subsidy_btc() + w.fees_btc_per_block,
        w.figures.price_usd,
    );
    value_used_machines(w);
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        m.produce(mp);
    }
    price_manufacturers(w);
    price_dealers_and_replacements(w);
}

/// Used-machine prices from the profit a machine can still earn, pushed down by dealers' excess stock.
fn value_used_machines(w: &mut World) {
    let params = w.params;
    let market = &params.secondary_market;
    let demand = w.dealer.demand_units_smoothed().max(1.0);
    for g in 0..params.generations.len() {
        let profit = reference_profit_usd(params, g, w.revenue_usd_per_th_day);
        let base = (profit * market.used_payback_months).max(market.scrap_value_usd_per_unit);
        // Dealers' stock and stranded machines dumped after bans both press on the used price.
        let stock_ratio = (units_f64(w.dealer.stock()[g].units) + w.stranded_overhang_units[g]) / demand;
        let impact = market.dealer_stock_price_impact_share * stock_ratio / (1.0 + stock_ratio);
        w.secondary_price_usd[g] = (base * (1.0 - impact)).max(market.scrap_value_usd_per_unit);
    }
}

/// Manufacturers price and plan, and note what their stock would fetch on the market.
fn price_manufacturers(w: &mut World) {
    let params = w.params;
    let month_offset = w.month_offset();
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
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
                m.spot_prices_usd()[g]
            } else {
                profit * mp.strategy.target_payback_months
            };
        }
    }
}

/// Dealers price off the cheapest manufacturer (dumping below it in bear regimes, which caps the used price
/// while they hold stock); a new machine's replacement price is the cheapest of the two.
fn price_dealers_and_replacements(w: &mut World) {
    let params = w.params;
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let n_gen = params.generations.len();
    let dealers = &params.dealers;
    let bull = w.price.regime == Regime::Bull;
    w.dealer.set_discount(bull, dealers);
    for g in 0..n_gen {
        let manufacturer_price = w
            .manufacturers
            .iter()
            .map(|m| m.spot_prices_usd()[g])
            .filter(|&p| p > 0.0)
            .fold(f64::INFINITY, f64::min);
        let reference = if manufacturer_price.is_finite() {
            manufacturer_price
        } else {
            w.secondary_price_usd[g]
        };
        let dealer_price = w.dealer.set_price(g, reference, scrap);
        if !bull && w.dealer.stock()[g].units > 0 {
            w.secondary_price_usd[g] = w.secondary_price_usd[g].min(dealer_price);
        }
        let mut replacement = if manufacturer_price.is_finite() {
            manufacturer_price
        } else {
            f64::INFINITY
        };
        if w.dealer.stock()[g].units > 0 {
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
