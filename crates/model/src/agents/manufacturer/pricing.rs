//! A manufacturer's prices: a list price per generation that is sticky, competitive and cut to clear stock,
//! floored at cost plus a minimum margin; futures priced off the hashprice expected over the delivery
//! window, less a discount for the prepayment; superseded stock cleared at what the market pays.
#![warn(missing_docs)]

use crate::agents::manufacturer::{Manufacturer, Stock};
use crate::market::hardware::monthly_profit_usd_per_unit;
use crate::math::units_f64;
use crate::params::{GenerationParams, ManufacturerParams};

/// What a manufacturer sees of the market when it prices.
#[derive(Clone, Copy, Debug)]
pub struct PriceInputs<'a> {
    /// The scenario's generations.
    pub generations: &'a [GenerationParams],
    /// Revenue per TH/s per day this month, in USD.
    pub revenue_usd_per_th_day: f64,
    /// Power price in USD per kWh at which buyers compare machines.
    pub reference_power_price_usd_per_kwh: f64,
    /// The shortest payback, in months at the reference power price, of any competitor's current machine at
    /// its list price last month (infinite when there is none).
    pub best_competitor_payback_months: f64,
    /// The dealers' stock per generation.
    pub dealer_stock: &'a [Stock],
    /// Used-machine price per generation, in USD.
    pub secondary_price_usd: &'a [f64],
    /// What a scrapped machine fetches, in USD.
    pub scrap_value_usd: f64,
    /// Months from the scenario's start month to this one.
    pub month_offset: i64,
}

/// A sticky price: `previous` stays while it is within `band_share` of `target`, and otherwise moves towards
/// it by at most `max_change_share` of itself in a month. With no previous price it starts at the target.
pub fn sticky_price_usd(previous_usd: f64, target_usd: f64, band_share: f64, max_change_share: f64) -> f64 {
    if !(previous_usd > 0.0 && previous_usd.is_finite()) {
        return target_usd;
    }
    let ratio = target_usd / previous_usd;
    if (ratio - 1.0).abs() <= band_share {
        return previous_usd;
    }
    previous_usd * ratio.clamp(1.0 / (1.0 + max_change_share), 1.0 + max_change_share)
}

impl Manufacturer {
    /// List prices per generation (0 before a generation was first priced).
    pub fn list_prices_usd(&self) -> &[f64] {
        &self.list_price_usd
    }

    /// Prices every generation it may sell. The target of a current or coming generation's list price
    /// blends the buyer payback its own rule aims for with the payback of the best competitor's machine
    /// (`competitive_weight_share`), raised by `shortage_price_rise_share` for each 100% by which what buyers
    /// asked for ran ahead of what it sold, and cut by `stock_price_cut_share_per_month` for every month of
    /// stock, its own and its share of the channel's, beyond its target; the list price follows the target
    /// stickily and
    /// never goes below unit cost × (1 + `min_margin_share`). Superseded generations clear at the used price.
    pub fn set_prices(&mut self, params: &ManufacturerParams, inputs: &PriceInputs) {
        let strategy = &params.strategy;
        self.spot_price_usd.fill(0.0);
        self.futures_price_usd.fill(0.0);
        let current = Self::current_roadmap_idx(params, inputs.month_offset);
        let revenue = inputs.revenue_usd_per_th_day;
        let forecast_units = self.forecast.units_per_month.max(1.0);
        let wait_months =
            f64::from(strategy.wafer_lead_months) + (f64::from(strategy.delivery_months.max(1)) - 1.0) / 2.0;
        let prepay_discount = (strategy.futures_discount_rate_per_month * strategy.prepay_share * wait_months).min(0.9);
        let window_revenue =
            self.forecast
                .expected_revenue_usd_per_th_day(revenue, wait_months, strategy.forecast_trend_weight_share);
        for (i, entry) in params.roadmap.iter().enumerate() {
            let g = entry.generation_idx;
            let generation = &inputs.generations[g];
            let profit =
                monthly_profit_usd_per_unit(generation, revenue, strategy.pricing_power_price_usd_per_kwh, 0.0);
            let payback_price = profit * strategy.target_payback_months;
            if i < current {
                // Superseded: clear stock at what the market pays for it.
                self.spot_price_usd[g] = payback_price
                    .min(inputs.secondary_price_usd[g])
                    .max(inputs.scrap_value_usd);
                continue;
            }
            let value_price = if inputs.best_competitor_payback_months.is_finite() {
                let reference_profit =
                    monthly_profit_usd_per_unit(generation, revenue, inputs.reference_power_price_usd_per_kwh, 0.0);
                let matching = reference_profit * inputs.best_competitor_payback_months;
                (1.0 - strategy.competitive_weight_share) * payback_price + strategy.competitive_weight_share * matching
            } else {
                payback_price
            };
            let stock_units =
                units_f64(self.stock[g].units) + self.forecast.share * units_f64(inputs.dealer_stock[g].units);
            let excess_months = (stock_units / forecast_units - strategy.target_inventory_months).max(0.0);
            // Sold out, it asks more: demand beyond what it could sell raises the target.
            let scarcity = 1.0 + strategy.shortage_price_rise_share * self.forecast.excess_demand_share();
            let target =
                value_price * scarcity * (1.0 - strategy.stock_price_cut_share_per_month * excess_months).max(0.0);
            let floor = entry.unit_cost_usd * (1.0 + strategy.min_margin_share);
            let list = sticky_price_usd(
                self.list_price_usd[g],
                target,
                strategy.price_band_share,
                strategy.max_price_change_share_per_month,
            )
            .max(floor);
            self.list_price_usd[g] = list;
            self.spot_price_usd[g] = list;
            // Futures: the list price moved by the profit expected over the delivery window, less the
            // discount for the prepayment.
            let window_profit = monthly_profit_usd_per_unit(
                generation,
                window_revenue,
                strategy.pricing_power_price_usd_per_kwh,
                0.0,
            );
            let outlook = if profit > 0.0 && window_profit > 0.0 {
                let bound = strategy.futures_max_outlook_ratio;
                (window_profit / profit).clamp(1.0 / bound, bound)
            } else {
                1.0
            };
            self.futures_price_usd[g] = (list * outlook * (1.0 - prepay_discount)).max(floor);
        }
        // Stock of generations not on the roadmap (recovered from dealers) clears at the used price.
        for (g, stock) in self.stock.iter().enumerate() {
            if stock.units > 0 && self.spot_price_usd[g] == 0.0 {
                self.spot_price_usd[g] = inputs.secondary_price_usd[g].max(inputs.scrap_value_usd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sticky_price_usd;

    #[test]
    fn a_sticky_price_holds_inside_its_band_and_moves_at_most_the_step_outside() {
        assert_eq!(sticky_price_usd(0.0, 1_000.0, 0.1, 0.25), 1_000.0);
        assert_eq!(sticky_price_usd(1_000.0, 1_080.0, 0.1, 0.25), 1_000.0);
        assert_eq!(sticky_price_usd(1_000.0, 1_200.0, 0.1, 0.25), 1_200.0);
        assert_eq!(sticky_price_usd(1_000.0, 3_000.0, 0.1, 0.25), 1_250.0);
        assert_eq!(sticky_price_usd(1_000.0, 100.0, 0.1, 0.25), 800.0);
        assert_eq!(sticky_price_usd(1_000.0, -50.0, 0.1, 0.25), 800.0);
        // A doubling of the target takes ln 2 / ln 1.25 = 3.1 months to come within the band.
        let (mut price, mut months) = (1_000.0, 0);
        while (2_000.0 / price - 1.0f64).abs() > 0.1 {
            price = sticky_price_usd(price, 2_000.0, 0.1, 0.25);
            months += 1;
        }
        assert_eq!(months, 3);
    }
}
