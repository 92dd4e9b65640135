//! The assumptions table of a report, generated from the validated parameters (never from a file's comments): the
//! horizon, the price outlook and its regimes, fees, the network at the start, regions and power, buyers,
//! manufacturers and their strategies, what is drawn per path, and the scripted events.

use serde::{Deserialize, Serialize};

use crate::output::charts::format;
use hashcycle_model::params::{Params, PriceProcess, Regime, ScriptedEventKind};

/// One row of the assumptions table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    pub topic: String,
    pub value: String,
}

fn pct_per_month(x: f64) -> String {
    format!("{:+.1}%/month", 100.0 * x)
}

/// The label of each scripted event, as charts and reports show it.
pub fn event_label(params: &Params, kind: &ScriptedEventKind) -> String {
    let region = |idx: usize| params.regions.get(idx).map_or("?", |r| r.name.as_str());
    match kind {
        ScriptedEventKind::Ban { region_idx, share } => {
            format!("Ban in {}: {:.0}% of machines stop", region(*region_idx), 100.0 * share)
        }
        ScriptedEventKind::Tariff {
            region_idx,
            origin_idx,
            rate_share,
        } => format!(
            "Tariff in {} on machines from {}: {:.0}%",
            region(*region_idx),
            params.origins.get(*origin_idx).map_or("?", String::as_str),
            100.0 * rate_share
        ),
        ScriptedEventKind::PriceShock { factor } => format!("BTC price × {factor}"),
        ScriptedEventKind::PowerShock { region_idx, factor, .. } => {
            format!("Power price × {factor} in {}", region(*region_idx))
        }
        ScriptedEventKind::Tightening {
            region_idx,
            opex_increase_share,
        } => format!(
            "Tightening in {}: opex +{:.0}% of power",
            region(*region_idx),
            100.0 * opex_increase_share
        ),
        ScriptedEventKind::SetRegime { regime } => match regime {
            Regime::Bull => "Regime turns bull".to_string(),
            Regime::Bear => "Regime turns bear".to_string(),
        },
        ScriptedEventKind::FoundryShortage {
            factor,
            duration_months,
        } => format!(
            "Foundry shortage: {:.0}% of allotments for {duration_months} months",
            100.0 * factor
        ),
    }
}

/// The assumptions of a scenario's parameters, in reading order.
pub fn assumptions(params: &Params) -> Vec<Assumption> {
    let mut rows = vec![];
    let mut row = |topic: &str, value: String| {
        rows.push(Assumption {
            topic: topic.to_string(),
            value,
        })
    };
    let sim = &params.simulation;
    row(
        "Horizon",
        format!(
            "{} to {} ({} months), {} paths, seed {}",
            sim.start,
            sim.start.plus_months(sim.horizon_months as i64 - 1),
            sim.horizon_months,
            format::grouped(sim.n_paths as f64, 0),
            sim.seed
        ),
    );
    let price = &params.price;
    let start_regime = match price.start_regime {
        Regime::Bull => "bull",
        Regime::Bear => "bear",
    };
    row(
        "BTC price",
        match &price.process {
            PriceProcess::RegimeSwitching(rs) => format!(
                "Regime switching from {} ({start_regime}): bull {} (volatility {:.0}%), bear {} (volatility {:.0}%); \
                 mean bull spell {:.0} months, bear {:.0}; trend {:+.0}% a year from {}, reverting {:.0}% of the gap a month; \
                 jumps {:.1}% a month of mean {:+.0}%",
                format::usd(price.start_price_usd),
                pct_per_month(rs.bull_drift_log_per_month),
                100.0 * rs.bull_volatility_log_per_month,
                pct_per_month(rs.bear_drift_log_per_month),
                100.0 * rs.bear_volatility_log_per_month,
                1.0 / rs.bull_to_bear_probability_per_month.max(1e-9),
                1.0 / rs.bear_to_bull_probability_per_month.max(1e-9),
                100.0 * ((12.0 * rs.trend_growth_log_per_month).exp() - 1.0),
                format::usd(rs.trend_start_price_usd),
                100.0 * rs.trend_reversion_per_month,
                100.0 * price.jump_probability_per_month,
                100.0 * (price.jump_mean_log.exp() - 1.0),
            ),
            PriceProcess::Bootstrap(b) => format!(
                "Blocks of {} months resampled from {} months of history, from {} ({start_regime})",
                b.block_months,
                b.log_returns.len(),
                format::usd(price.start_price_usd)
            ),
            PriceProcess::Historical(_) => format!(
                "The real month-end close of every month, replayed from {}",
                format::usd(price.start_price_usd)
            ),
        },
    );
    let fees = &params.fees;
    row(
        "Fees",
        if fees.history_btc_per_block.is_some() {
            "The real fees per block of every month, replayed".to_string()
        } else {
            format!(
                "{} BTC per block in bull regimes, {} in bear, log noise {:.2} with persistence {:.2}",
                fees.bull_mean_btc_per_block,
                fees.bear_mean_btc_per_block,
                fees.volatility_log_per_month,
                fees.persistence_per_month
            )
        },
    );
    row(
        "Network at the start",
        format!(
            "{} running, difficulty {:.3e}, block height {}",
            format::ehs(params.network.hashrate_ehs),
            params.network.difficulty,
            format::grouped(params.network.block_height as f64, 0)
        ),
    );
    row(
        "Regions and power",
        params
            .regions
            .iter()
            .map(|r| {
                format!(
                    "{} {:.0}% at ${:.3}/kWh{}",
                    r.name,
                    100.0 * r.fleet_share,
                    r.power_price_base_usd_per_kwh,
                    if r.hosting_capacity_mw.is_finite() {
                        format!(" ({} MW of sites)", format::grouped(r.hosting_capacity_mw, 0))
                    } else {
                        String::new()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    );
    let [ka, retail] = &params.segments;
    row(
        "Buyers",
        format!(
            "Key accounts {:.0}% of the fleet, {} cash, {} credit, spend fully at a payback of {:.1} months and nothing at {:.1}; \
             retail {:.0}%, {} cash, {} a bull month of new money{}",
            100.0 * ka.fleet_share,
            format::usd(ka.cash_usd),
            format::usd(ka.credit_line_usd),
            ka.full_appetite_payback_months,
            ka.max_payback_months,
            100.0 * retail.fleet_share,
            format::usd(retail.cash_usd),
            format::usd(retail.bull_inflow_usd_per_month),
            if params.key_account_firms.n_firms > 0 {
                format!(
                    "; key accounts are {} firms that can fail",
                    params.key_account_firms.n_firms
                )
            } else {
                String::new()
            }
        ),
    );
    for m in &params.manufacturers {
        let s = &m.strategy;
        row(
            &format!("Manufacturer {}", m.name),
            format!(
                "{:.0}% of output as futures, {:.0}% prepaid, delivered over {} months; priced for a {:.1}-month payback; \
                 capacity {} machines a month; {} cash",
                100.0 * s.futures_share,
                100.0 * s.prepay_share,
                s.delivery_months,
                s.target_payback_months,
                format::grouped(m.capacity_units_per_month as f64, 0),
                format::usd(m.cash_usd)
            ),
        );
    }
    if !params.uncertainty.is_empty() {
        row(
            "Drawn per path",
            params
                .uncertainty
                .iter()
                .map(|u| format!("{} in [{}, {}]", u.name, u.min, u.max))
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    row(
        "Scripted events",
        if params.events.is_empty() {
            "None".to_string()
        } else {
            params
                .events
                .iter()
                .map(|e| format!("{}: {}", e.at, event_label(params, &e.kind)))
                .collect::<Vec<_>>()
                .join("; ")
        },
    );
    rows
}
