//! AI/HPC hosting through the real engine, on the small scenario: the same seeded paths with and without
//! contracts on offer, and the MW laws broken on purpose.

use crate::engine::simulate_path;
use crate::params::{FirmSpec, HostingContractOffer, Params, ScriptedEvent, ScriptedEventKind};
use crate::record::{Collect, PathSummary, SummaryOnly};
use crate::units::{Month, YearMonth};
use crate::world::World;

/// Paths each comparison sums over: enough that one path's luck does not decide it.
const N_PATHS: u32 = 6;

/// An offer in the small scenario's first region (its sites are limited) over the whole run, at the Core
/// Scientific-CoreWeave terms.
fn offer(horizon_months: u32) -> HostingContractOffer {
    HostingContractOffer {
        region_idx: 0,
        from: Month(0),
        until: Month(horizon_months - 1),
        offered_mw: 5_000.0,
        price_usd_per_mw_year: 1.45e6,
        term_months: 144,
        conversion_cost_usd_per_mw: 1.0e6,
        conversion_lag_months: 6,
        cancellation_per_month: 0.0,
    }
}

fn with_offer(mut params: Params) -> Params {
    let horizon = params.simulation.horizon_months;
    params.hosting.contracts.push(offer(horizon));
    params
}

fn run(params: &Params, path_idx: u32) -> (Collect, PathSummary) {
    let mut sink = Collect::default();
    let summary = simulate_path(params, path_idx, &mut sink);
    assert!(summary.violation.is_none(), "{:?}", summary.violation);
    (sink, summary)
}

/// Summed over the paths: hashrate at the horizon, machines the manufacturers sold, MW converted.
fn totals(params: &Params) -> (f64, u64, f64) {
    let (mut hashrate, mut units, mut converted) = (0.0, 0, 0.0);
    for path_idx in 0..N_PATHS {
        let (rows, summary) = run(params, path_idx);
        hashrate += summary.network.end_hashrate_ehs;
        units += summary.manufacturers.iter().map(|m| m.units_sold).sum::<u64>();
        converted += rows.miners.iter().map(|r| r.mw_converted).sum::<f64>();
    }
    (hashrate, units, converted)
}

/// The small scenario where sites are scarce, as they are for miners competing with AI for power: every
/// region starts a tenth above what its machines draw and builds 2% more a month while nine tenths full.
fn scarce_sites() -> Params {
    let mut params = crate::fixtures::small();
    let world = World::new(&params, 0);
    let mut used_mw = Vec::new();
    world.region_used_mw(&mut used_mw);
    for (region, used) in params.regions.iter_mut().zip(used_mw) {
        region.hosting_capacity_mw = 1.1 * used;
        region.capacity_growth_share_per_month = 0.02;
    }
    params
}

#[test]
fn hosting_offers_lower_hashrate_and_manufacturers_unit_sales() {
    let mut base = scarce_sites();
    base.simulation.horizon_months = 36;
    let (hashrate_without, units_without, converted_without) = totals(&base);
    let (hashrate_with, units_with, converted_with) = totals(&with_offer(base));
    assert_eq!(converted_without, 0.0);
    assert!(converted_with > 0.0, "the key accounts convert some sites");
    assert!(
        hashrate_with < hashrate_without,
        "hashrate at the horizon {hashrate_with} with offers, {hashrate_without} without"
    );
    assert!(
        units_with < units_without,
        "machines sold {units_with} with offers, {units_without} without"
    );
}

#[test]
fn without_offers_or_ai_demand_a_path_is_exactly_what_it_was() {
    // The hosting keys set to other values change nothing while nothing is on offer.
    let base = crate::fixtures::small();
    let mut tuned = base.clone();
    tuned.hosting.hurdle_share = 3.0;
    tuned.hosting.redeploy_share = 0.0;
    tuned.regions[0].ai_power_price_elasticity = 2.0;
    let (a, _) = run(&base, 1);
    let (b, _) = run(&tuned, 1);
    assert_eq!(format!("{:?}", a.network), format!("{:?}", b.network));
    assert_eq!(format!("{:?}", a.manufacturers), format!("{:?}", b.manufacturers));
}

/// Firms with half the key accounts' fleet each, both leveraged, both with some cash.
fn firms() -> Vec<FirmSpec> {
    let firm = |name: &str, cash_usd: f64| FirmSpec {
        name: name.into(),
        fleet_share: 0.5,
        cash_usd,
        credit_line_usd: 0.0,
        term_debt_usd: 6.0e8,
        notes_usd: 4.0e8,
        notes_maturity_months: 18,
        btc_hold_share: 0.0,
    };
    vec![firm("first", 1.5e9), firm("second", 1.5e9)]
}

/// The small scenario as firms over `horizon_months`, steady until a bear regime and a price cut by `crash`
/// at month 12.
fn bear_path(horizon_months: u32, crash: f64) -> Params {
    let mut params = crate::fixtures::small();
    params.simulation.horizon_months = horizon_months;
    crate::fixtures::hold_steady(&mut params);
    params.key_account_firms.firms = firms();
    params.events.push(ScriptedEvent {
        month: Month(12),
        at: YearMonth { year: 2026, month: 1 },
        kind: ScriptedEventKind::PriceShock { factor: crash },
    });
    params.events.push(ScriptedEvent {
        month: Month(12),
        at: YearMonth { year: 2026, month: 1 },
        kind: ScriptedEventKind::SetRegime {
            regime: crate::params::Regime::Bear,
        },
    });
    params
}

#[test]
fn converting_firms_default_less_in_a_bear_path() {
    let bear = bear_path(36, 0.35);
    let (defaults_without, defaults_with) = (0..N_PATHS).fold((0, 0), |(without, with), path_idx| {
        let (_, a) = run(&bear, path_idx);
        let (rows, b) = run(&with_offer(bear.clone()), path_idx);
        assert!(rows.miners.iter().any(|r| r.hosting_revenue_usd > 0.0), "hosting pays");
        (without + a.network.buyer_defaults, with + b.network.buyer_defaults)
    });
    assert!(defaults_without > 0, "the bear path bankrupts firms without hosting");
    assert!(
        defaults_with < defaults_without,
        "defaults {defaults_with} with hosting, {defaults_without} without"
    );
}

#[test]
fn hosting_income_reaches_the_firms_that_converted() {
    let (rows, _) = run(&with_offer(bear_path(24, 1.0)), 0);
    let revenue: f64 = rows.miners.iter().map(|r| r.hosting_revenue_usd).sum();
    let capex: f64 = rows.miners.iter().map(|r| r.conversion_capex_usd).sum();
    assert!(revenue > 0.0 && capex > 0.0, "revenue {revenue}, capex {capex}");
    // The MW hosting and converting add up to what was converted (no cancellations, no term ended).
    let last = rows.miners.iter().filter(|r| r.month == Month(23));
    let held: f64 = last.map(|r| r.hosting_mw + r.converting_mw).sum();
    let converted: f64 = rows.miners.iter().map(|r| r.mw_converted).sum();
    assert!(
        (held - converted).abs() < 1e-6 * converted.max(1.0),
        "{held} != {converted}"
    );
}

#[test]
fn cancelled_contracts_give_their_sites_back_to_mining() {
    let mut params = with_offer(crate::fixtures::small());
    params.simulation.horizon_months = 36;
    params.hosting.contracts[0].cancellation_per_month = 0.2;
    params.hosting.contracts[0].conversion_lag_months = 0;
    let (rows, _) = run(&params, 0);
    let converted: f64 = rows.miners.iter().map(|r| r.mw_converted).sum();
    let last = rows.regions.iter().filter(|r| r.month == Month(35));
    let held: f64 = last.map(|r| r.ai_hosting_mw + r.ai_converting_mw).sum();
    assert!(
        converted > 0.0 && held < converted,
        "held {held} of {converted} converted"
    );
}

#[test]
fn ai_power_demand_takes_sites_and_raises_the_power_price() {
    let mut params = crate::fixtures::small();
    crate::fixtures::hold_steady(&mut params);
    params.simulation.horizon_months = 24;
    params.regions[0].ai_power_demand_mw_per_year = 2_400.0;
    params.regions[0].ai_power_price_elasticity = 0.5;
    let (rows, _) = run(&params, 0);
    let (base, _) = run(
        &{
            let mut p = crate::fixtures::small();
            crate::fixtures::hold_steady(&mut p);
            p.simulation.horizon_months = 24;
            p
        },
        0,
    );
    let last = |rows: &Collect| {
        rows.regions
            .iter()
            .find(|r| r.month == Month(23) && r.region_idx == 0)
            .unwrap()
            .clone()
    };
    let (ai, no_ai) = (last(&rows), last(&base));
    assert!(ai.ai_power_demand_mw + ai.ai_power_demand_unmet_mw > 4_700.0, "{ai:?}");
    assert!(ai.ai_power_price_factor > 1.0);
    assert!(ai.power_price_usd_per_kwh > no_ai.power_price_usd_per_kwh);
    assert!(ai.capacity_mw.unwrap() < no_ai.capacity_mw.unwrap());
}

/// Runs path 0 of the small scenario with an offer, corrupting the world with `corrupt` at the start of
/// `month`; returns the check's verdict.
fn run_corrupted(month: u32, corrupt: impl Fn(&mut World)) -> Result<(), crate::record::Violation> {
    let mut params = with_offer(crate::fixtures::small());
    params.simulation.horizon_months = 24;
    let mut world = World::new(&params, 0);
    for m in 0..=month {
        if m == month {
            corrupt(&mut world);
        }
        world.step(&mut SummaryOnly)?;
    }
    Ok(())
}

#[test]
fn mw_appearing_or_vanishing_fails_the_sites_law_the_month_it_does() {
    assert!(run_corrupted(12, |_| ()).is_ok());
    let hosting = run_corrupted(12, |w| {
        assert!(w.hosting.hosting_mw[0] > 0.0, "sites host by month 12");
        w.hosting.hosting_mw[0] += 10.0;
    })
    .unwrap_err();
    assert_eq!(hosting.month, Month(12));
    assert!(hosting.what.contains("MW hosting AI"), "{hosting:?}");
    let sites = run_corrupted(12, |w| w.regions.capacity_mw[0] += 10.0).unwrap_err();
    assert_eq!(sites.month, Month(12));
    assert!(sites.what.contains("sites at the start + built - closed"), "{sites:?}");
    assert!((sites.actual - sites.expected - 10.0).abs() < 1e-6, "{sites:?}");
}
