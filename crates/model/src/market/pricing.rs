//! Phase 5, valuation: used-machine prices from the profit a machine can still earn; manufacturers produce,
//! then price, revise their forecasts when due, plan and book foundry capacity; dealers price off the
//! manufacturers, and replacement prices follow.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::pricing::PriceInputs;
use crate::market::hardware::{monthly_profit_usd_per_unit, payback_months};
use crate::market::network::expected_usd_per_th_day;
use crate::market::purchases::budget_usd;
use crate::math::units_f64;
use crate::params::{Params, Regime, Segment};
use crate::units::Month;
use crate::world::{World, reference_profit_usd};

/// Values machines at the month's difficulty and price, produces, and sets every seller's prices.
pub fn value_and_price(w: &mut World) {
    let params = w.params;
    let revenue_usd_per_th_day = expected_usd_per_th_day(
        w.network.difficulty,
        w.network.next_subsidy_btc() + w.fees_btc_per_block,
        w.figures.price_usd,
    );
    w.set_revenue_usd_per_th_day(revenue_usd_per_th_day);
    value_used_machines(w);
    let month_offset = w.month_offset();
    let n_regions = params.regions.len();
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        // Tariffs changed, if at all, in the phases before: the order stock leaves in holds for the month.
        let regions = &w.regions;
        m.set_origin_order(n_regions, |r, o| regions.tariff_share(r, o));
        m.produce(mp, month_offset);
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
        let profit = w.reference_monthly_profit_usd[g];
        let base = (profit * market.used_payback_months).max(market.scrap_value_usd_per_unit);
        // Dealers' stock and stranded machines dumped after bans both press on the used price.
        let stock_ratio = (units_f64(w.dealer.stock()[g].units) + w.stranded_overhang_units[g]) / demand;
        let impact = market.dealer_stock_price_impact_share * stock_ratio / (1.0 + stock_ratio);
        w.secondary_price_usd[g] = (base * (1.0 - impact)).max(market.scrap_value_usd_per_unit);
    }
}

/// Manufacturers price, revise their forecasts when due, plan and book foundry capacity, and note what their
/// stock would fetch on the market.
fn price_manufacturers(w: &mut World) {
    let params = w.params;
    let month_offset = w.month_offset();
    let revenue = w.revenue_usd_per_th_day;
    // What each manufacturer's current machine offered buyers last month, for its competitors.
    let mut paybacks = std::mem::take(&mut w.scratch.competitor_payback_months);
    paybacks.clear();
    paybacks.extend(w.manufacturers.iter().zip(&params.manufacturers).map(|(m, mp)| {
        let g = mp.roadmap[Manufacturer::current_roadmap_idx(mp, month_offset)].generation_idx;
        let price = m.list_prices_usd()[g];
        if price > 0.0 {
            payback_months(price, w.reference_monthly_profit_usd[g])
        } else {
            f64::INFINITY
        }
    }));
    let mut log_revenue_change = None;
    for (m_idx, (m, mp)) in w.manufacturers.iter_mut().zip(&params.manufacturers).enumerate() {
        let best_competitor_payback_months = paybacks
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != m_idx)
            .map(|(_, &p)| p)
            .fold(f64::INFINITY, f64::min);
        m.observe_revenue(mp, revenue, &mut log_revenue_change);
        let inputs = PriceInputs {
            generations: &params.generations,
            revenue_usd_per_th_day: revenue,
            reference_power_price_usd_per_kwh: params.secondary_market.reference_power_price_usd_per_kwh,
            best_competitor_payback_months,
            dealer_stock: w.dealer.stock(),
            secondary_price_usd: &w.secondary_price_usd,
            scrap_value_usd: params.secondary_market.scrap_value_usd_per_unit,
            month_offset,
        };
        m.set_prices(mp, &inputs);
    }
    w.scratch.competitor_payback_months = paybacks;
    revise_forecasts(w);
    let allotment_share = w.foundry_allotment_share();
    for (m_idx, (m, mp)) in w.manufacturers.iter_mut().zip(&params.manufacturers).enumerate() {
        // Booked first: with no booking lead, this month's order is booked now and the plan sees it.
        let wanted = m.wanted_units(mp, w.month);
        let booking_month = Month(w.month.0 + mp.strategy.foundry_booking_months);
        let allotment = (mp.foundry_allotment_units_per_month as f64 * allotment_share).floor() as u64;
        m.book_capacity(mp, booking_month, allotment, wanted);
        m.plan(mp, w.month, wanted);
        let current = Manufacturer::current_roadmap_idx(mp, month_offset);
        let market_price = &mut w.market_price_usd[m_idx];
        market_price.copy_from_slice(&w.secondary_price_usd);
        for (i, entry) in mp.roadmap.iter().enumerate() {
            let g = entry.generation_idx;
            let profit = monthly_profit_usd_per_unit(
                &params.generations[g],
                revenue,
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

/// Manufacturers whose forecast revision is due revise it from what buyers can be expected to spend on
/// the machine they will sell when the wafers arrive, at its list price and the hashprice they expect then.
fn revise_forecasts(w: &mut World) {
    let params = w.params;
    let month_offset = w.month_offset();
    if !w
        .manufacturers
        .iter()
        .zip(&params.manufacturers)
        .any(|(m, mp)| m.forecast().revision_due(mp.strategy.forecast_revision_months))
    {
        return;
    }
    let installed_ths = w.installed_ths();
    let channel_units: u64 = w.dealer.stock().iter().map(|s| s.units).sum();
    let available_usd = [w.segments[0].available_usd(), w.segments[1].available_usd()];
    let revenue = w.revenue_usd_per_th_day;
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        let strategy = &mp.strategy;
        let arrival = month_offset + i64::from(strategy.wafer_lead_months);
        let entry = &mp.roadmap[Manufacturer::current_roadmap_idx(mp, arrival)];
        let g = entry.generation_idx;
        let listed = m.list_prices_usd()[g];
        let price = if listed > 0.0 {
            listed
        } else {
            entry.unit_cost_usd * (1.0 + strategy.min_margin_share)
        };
        let trend_weight = strategy.forecast_trend_weight_share;
        let forecast = m.forecast().clone();
        let demand = DemandOutlook {
            params,
            generation_idx: g,
            price_usd: price,
            installed_ths,
            available_usd,
        };
        let channel_units_per_month = units_f64(channel_units) / strategy.plan_adjustment_months.max(1.0);
        m.revise_forecast(mp, channel_units_per_month, |months_ahead| {
            demand.units_per_month(forecast.expected_revenue_usd_per_th_day(revenue, months_ahead, trend_weight))
        });
    }
}

/// What buyers can be expected to spend on a machine, as a manufacturer sees it: every segment's budget at
/// the machine's payback (`budget_usd`, the buyers' own rule).
struct DemandOutlook<'a> {
    params: &'a Params,
    generation_idx: usize,
    price_usd: f64,
    installed_ths: f64,
    available_usd: [f64; 2],
}

impl DemandOutlook<'_> {
    /// Machines per month the market would buy at `revenue_usd_per_th_day`.
    fn units_per_month(&self, revenue_usd_per_th_day: f64) -> f64 {
        let params = self.params;
        let g = self.generation_idx;
        let profit = reference_profit_usd(params, g, revenue_usd_per_th_day);
        let payback = payback_months(self.price_usd, profit);
        let usd_per_th = self.price_usd / params.generations[g].hashrate_ths;
        let budget: f64 = Segment::ALL
            .iter()
            .map(|s| {
                let sp = &params.segments[s.idx()];
                budget_usd(sp, self.available_usd[s.idx()], payback, self.installed_ths, usd_per_th)
            })
            .sum();
        (budget / self.price_usd).max(0.0)
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
        if w.dealer.units_for_sale(g) > 0 {
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
