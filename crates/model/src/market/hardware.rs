//! Machine economics: power cost, profit per machine, payback, and the value of a machine.
#![warn(missing_docs)]

use crate::params::GenerationParams;
use crate::units::{HOURS_PER_DAY, MEAN_DAYS_PER_MONTH, W_PER_KW};

/// Power cost of one TH/s for a day: J/TH × 24 h / 1000 gives kWh per TH/s per day.
pub fn power_cost_usd_per_th_day(efficiency_jth: f64, power_price_usd_per_kwh: f64) -> f64 {
    efficiency_jth * HOURS_PER_DAY / W_PER_KW * power_price_usd_per_kwh
}

/// The power price at which a machine's revenue just covers its power cost plus opex.
pub fn breakeven_power_price_usd_per_kwh(
    revenue_usd_per_th_day: f64,
    efficiency_jth: f64,
    opex_share_of_power: f64,
) -> f64 {
    revenue_usd_per_th_day / (efficiency_jth * HOURS_PER_DAY / W_PER_KW * (1.0 + opex_share_of_power))
}

/// Net operating profit of one machine over a mean month (never below zero: it would be switched off).
pub fn monthly_profit_usd_per_unit(
    generation: &GenerationParams,
    revenue_usd_per_th_day: f64,
    power_price_usd_per_kwh: f64,
    opex_share_of_power: f64,
) -> f64 {
    let cost =
        power_cost_usd_per_th_day(generation.efficiency_jth(), power_price_usd_per_kwh) * (1.0 + opex_share_of_power);
    (generation.hashrate_ths * (revenue_usd_per_th_day - cost) * MEAN_DAYS_PER_MONTH).max(0.0)
}

/// Months of operating profit needed to earn back `price_usd` (infinite when it earns nothing).
pub fn payback_months(price_usd: f64, monthly_profit_usd: f64) -> f64 {
    if monthly_profit_usd > 0.0 {
        price_usd / monthly_profit_usd
    } else {
        f64::INFINITY
    }
}

/// Appetite for buying at a given payback: 1 at or below `full_months`, 0 at or above `max_months`.
pub fn appetite_share(payback: f64, full_months: f64, max_months: f64) -> f64 {
    if payback <= full_months {
        1.0
    } else if payback >= max_months {
        0.0
    } else {
        (max_months - payback) / (max_months - full_months)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::YearMonth;

    fn s21() -> GenerationParams {
        GenerationParams {
            name: "S21".into(),
            release: YearMonth { year: 2024, month: 1 },
            release_month_offset: -12,
            hashrate_ths: 200.0,
            power_w: 3500.0,
            price_new_usd: 4000.0,
        }
    }

    #[test]
    fn power_cost_and_breakeven_are_consistent() {
        // 17.5 J/TH at $0.05/kWh: 17.5 * 24 / 1000 * 0.05 = 0.021 USD per TH/s per day.
        let cost = power_cost_usd_per_th_day(17.5, 0.05);
        assert!((cost - 0.021).abs() < 1e-12);
        let p = breakeven_power_price_usd_per_kwh(0.021, 17.5, 0.0);
        assert!((p - 0.05).abs() < 1e-12);
    }

    #[test]
    fn payback_is_price_over_monthly_profit() {
        let profit = monthly_profit_usd_per_unit(&s21(), 0.05, 0.05, 0.0);
        let expected = 200.0 * (0.05 - 0.021) * MEAN_DAYS_PER_MONTH;
        assert!((profit - expected).abs() < 1e-9);
        assert!((payback_months(4000.0, profit) - 4000.0 / expected).abs() < 1e-9);
        assert!(payback_months(4000.0, 0.0).is_infinite());
        assert_eq!(appetite_share(10.0, 12.0, 24.0), 1.0);
        assert_eq!(appetite_share(18.0, 12.0, 24.0), 0.5);
        assert_eq!(appetite_share(f64::INFINITY, 12.0, 24.0), 0.0);
    }
}
