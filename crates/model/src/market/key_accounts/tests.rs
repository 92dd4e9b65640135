//! Key-account firms through the real engine, on the small scenario with a steady price that a scripted
//! crash can cut.

use crate::engine::simulate_path;
use crate::params::{FirmSpec, KeyAccountFirmsParams, Params, ScriptedEvent, ScriptedEventKind};
use crate::record::{Collect, EventKind, PathSummary};
use crate::units::{Month, YearMonth};
use crate::world::World;

/// Firm terms used by the tests: the behaviour constants of the shipped base scenario.
fn firm_terms(firms: Vec<FirmSpec>) -> KeyAccountFirmsParams {
    KeyAccountFirmsParams {
        n_firms: 0,
        size_dispersion_log: 1.0,
        cash_dispersion_log: 0.5,
        min_debt_to_fleet_value_share: 0.0,
        max_debt_to_fleet_value_share: 1.0,
        notes_share_of_debt: 0.4,
        term_loan_months: 36,
        notes_maturity_months: 36,
        debt_interest_rate_per_month: 0.01,
        overhead_usd_per_ths_month: 0.2,
        min_btc_hold_share: 0.0,
        max_btc_hold_share: 0.0,
        equipment_loan_share: 0.4,
        max_loan_to_value_share: 0.7,
        site_capex_usd_per_mw: 3.5e5,
        bull_equity_raise_share_per_month: 0.0,
        fire_sale_discount_share: 0.5,
        cash_reserve_months: 6.0,
        consolidation_spend_share: 0.25,
        firms,
    }
}

fn firm(name: &str, fleet_share: f64, cash_usd: f64, term_debt_usd: f64, notes_usd: f64) -> FirmSpec {
    FirmSpec {
        name: name.into(),
        fleet_share,
        cash_usd,
        credit_line_usd: 0.0,
        term_debt_usd,
        notes_usd,
        notes_maturity_months: 36,
        btc_hold_share: 0.0,
    }
}

/// The small scenario over `horizon_months` with a steady price (no drift, volatility, regime change or
/// jump), steady fees and power, the key accounts as `firms`, and the price multiplied by `crash` at the
/// start of month 4.
fn steady(horizon_months: u32, crash: f64, firms: Vec<FirmSpec>) -> Params {
    let mut params = crate::fixtures::small();
    params.simulation.horizon_months = horizon_months;
    crate::fixtures::hold_steady(&mut params);
    params.key_account_firms = firm_terms(firms);
    if crash != 1.0 {
        params.events.push(ScriptedEvent {
            month: Month(4),
            at: YearMonth { year: 2025, month: 5 },
            kind: ScriptedEventKind::PriceShock { factor: crash },
        });
    }
    params
}

fn run(params: &Params) -> (Collect, PathSummary) {
    let mut sink = Collect::default();
    let summary = simulate_path(params, 0, &mut sink);
    assert!(summary.violation.is_none(), "{:?}", summary.violation);
    (sink, summary)
}

/// The firms that failed on a path, by name, in the order they failed.
fn failed(rows: &Collect) -> Vec<String> {
    rows.events
        .iter()
        .filter(|e| e.kind == EventKind::Bankruptcy)
        .map(|e| e.detail.trim_start_matches("firm ").to_string())
        .collect()
}

/// One leveraged firm (little cash, term loans and notes near its fleet's value) and one with cash and no
/// debt, each with half the key accounts' fleet.
fn leveraged_and_rich() -> Vec<FirmSpec> {
    vec![
        FirmSpec {
            notes_maturity_months: 6,
            ..firm("leveraged", 0.5, 1.0e8, 4.0e8, 3.0e8)
        },
        firm("rich", 0.5, 3.0e9, 0.0, 0.0),
    ]
}

#[test]
fn a_leveraged_buyer_defaults_in_a_price_collapse_and_a_cash_rich_one_does_not() {
    let (calm, _) = run(&steady(18, 1.0, leveraged_and_rich()));
    assert!(failed(&calm).is_empty(), "no crash, no failure: {:?}", failed(&calm));
    let (crashed, summary) = run(&steady(18, 0.3, leveraged_and_rich()));
    assert_eq!(failed(&crashed), ["leveraged"]);
    assert_eq!(summary.network.buyer_defaults, 1);
    // The failure follows the crash, not the start.
    let when = crashed
        .events
        .iter()
        .find(|e| e.kind == EventKind::Bankruptcy)
        .unwrap()
        .month;
    assert!(when >= Month(4), "failed in month {}", when.0);
}

/// The month the named firm failed on a path.
fn failure_month(rows: &Collect) -> Month {
    rows.events
        .iter()
        .find(|e| e.kind == EventKind::Bankruptcy)
        .expect("a firm failed")
        .month
}

#[test]
fn a_default_forfeits_the_prepayment_and_returns_the_machines_to_the_manufacturer() {
    let params = steady(12, 0.3, leveraged_and_rich());
    let (rows, summary) = run(&params);
    let month = failure_month(&rows);
    let defaults: Vec<_> = rows
        .events
        .iter()
        .filter(|e| e.kind == EventKind::BuyerDefault)
        .collect();
    assert!(!defaults.is_empty(), "the failed firm had futures pending");
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let row = |t: Month| {
            rows.manufacturers
                .iter()
                .find(|r| r.manufacturer_idx == m_idx && r.month == t)
                .unwrap()
        };
        let (now, before) = (row(month), row(Month(month.0 - 1)));
        let event = defaults
            .iter()
            .find(|e| e.subject == crate::record::Subject::Manufacturer(m_idx));
        let Some(event) = event else {
            assert_eq!(now.units_defaulted, 0);
            continue;
        };
        assert_eq!(event.month, month);
        assert_eq!(event.units, now.units_defaulted);
        assert!(now.units_defaulted > 0 && now.units_walked_forced >= now.units_defaulted);
        // The prepayment is kept: the manufacturer keeps prepay_share of the contracts' value, and the balance
        // is what the buyer never paid.
        let kept = now.prepayments_kept_on_default_usd;
        assert!((kept - event.value).abs() < 1e-6 * kept.max(1.0));
        let share = kept / (kept + now.balances_defaulted_usd);
        assert!(
            (share - mp.strategy.prepay_share).abs() < 1e-9,
            "kept {share} of the value defaulted, prepay share {}",
            mp.strategy.prepay_share
        );
        assert!(now.prepayments_forfeited_usd >= kept);
        // The machines come off the backlog without leaving the stock: every machine that left the stock this
        // month went to a buyer, into self-mining or to scrap.
        assert_eq!(
            now.backlog_units,
            before.backlog_units + now.units_sold_futures
                - now.units_delivered
                - now.units_walked_away
                - now.units_refunded
        );
        let out = now.units_delivered
            + now.units_sold_spot
            + now.units_sold_dealers
            + now.units_self_mined
            + now.units_scrapped;
        assert_eq!(
            now.inventory_units + out,
            before.inventory_units + now.units_produced + now.units_recovered,
            "the defaulted machines stayed in stock"
        );
    }
    let kept: f64 = rows
        .manufacturers
        .iter()
        .map(|r| r.prepayments_kept_on_default_usd)
        .sum();
    assert_eq!(summary.network.prepayments_kept_usd, kept);
}

/// The used-machine price of each generation in the month after a leveraged firm fails (its notes fall
/// due beyond what it has and the lenders will not refinance them; the price does not move), with its
/// fleet bought by the surviving firm (`consolidation_spend_share` 1, with cash to pay) or dumped on the
/// market (0); and the machines sold outside the fleet in the second case, per generation.
fn used_prices_after_the_fire_sale(consolidation_spend_share: f64) -> (Vec<f64>, Vec<u64>, Month) {
    let firms = vec![
        FirmSpec {
            notes_maturity_months: 6,
            ..firm("leveraged", 0.5, 1.0e8, 8.0e8, 8.0e8)
        },
        firm("rich", 0.5, 5.0e10, 0.0, 0.0),
    ];
    let mut params = steady(12, 1.0, firms);
    params.key_account_firms.consolidation_spend_share = consolidation_spend_share;
    let mut world = World::new(&params, 0);
    let mut sink = Collect::default();
    let mut sold_outside = vec![0; params.generations.len()];
    loop {
        world.step(&mut sink).unwrap();
        if world.key_accounts().totals.defaults > 0 {
            for (c, (&n, &m)) in world
                .fleet
                .fire_sold()
                .iter()
                .zip(world.fleet.fire_sold_in_transit())
                .enumerate()
            {
                sold_outside[c % params.generations.len()] += n + m;
            }
            break;
        }
    }
    let month = Month(world.month().0 - 1);
    world.step(&mut sink).unwrap();
    (world.secondary_price_usd.clone(), sold_outside, month)
}

#[test]
fn a_fire_sale_lowers_the_used_machine_price() {
    let (bought_by_survivor, none_outside, month_a) = used_prices_after_the_fire_sale(1.0);
    let (dumped, sold_outside, month_b) = used_prices_after_the_fire_sale(0.0);
    assert_eq!(month_a, month_b, "both worlds are the same until the firm fails");
    assert!(none_outside.iter().all(|&n| n == 0), "{none_outside:?}");
    let g = (0..sold_outside.len()).max_by_key(|&g| sold_outside[g]).unwrap();
    assert!(sold_outside[g] > 0);
    assert!(
        dumped[g] < 0.98 * bought_by_survivor[g],
        "generation {g}: {} dumped vs {} consolidated",
        dumped[g],
        bought_by_survivor[g]
    );
}

#[test]
fn a_higher_prepayment_lowers_the_loss_given_default_and_the_futures_signed() {
    let outcome = |prepay_share: f64| {
        let mut params = steady(12, 0.3, leveraged_and_rich());
        for m in &mut params.manufacturers {
            m.strategy.prepay_share = prepay_share;
        }
        let (rows, summary) = run(&params);
        let signed: u64 = rows
            .manufacturers
            .iter()
            .filter(|r| r.month < failure_month(&rows))
            .map(|r| r.units_sold_futures)
            .sum();
        let unpaid_per_unit = summary.network.balance_defaulted_usd / summary.network.units_defaulted as f64;
        (unpaid_per_unit, signed, summary.network.units_defaulted)
    };
    let (low_loss, low_signed, low_units) = outcome(0.2);
    let (high_loss, high_signed, high_units) = outcome(0.8);
    assert!(low_units > 0 && high_units > 0);
    assert!(
        high_loss < 0.5 * low_loss,
        "unpaid balance per defaulted machine: {high_loss} at 80% vs {low_loss} at 20%"
    );
    assert!(
        high_signed < low_signed,
        "futures signed: {high_signed} at 80% vs {low_signed} at 20%"
    );
}
