//! Manufacturers, dealers and buyers: each test asserts the direction of a behaviour the playbook describes.

use hashcycle_model::params::{Params, Regime};
use hashcycle_model::record::{Collect, ManufacturerRow};

use crate::support::{b, f, i, params_with, params_with_text, run_path, with_calm};

const PATHS: u32 = 24;

fn runs(params: &Params) -> Vec<Collect> {
    (0..PATHS).map(|p| run_path(params, p).0).collect()
}

fn rows_of(run: &Collect, manufacturer_idx: usize) -> Vec<&ManufacturerRow> {
    run.manufacturers
        .iter()
        .filter(|r| r.manufacturer_idx == manufacturer_idx)
        .collect()
}

fn walk_away_rate(params: &Params) -> f64 {
    let (mut walked, mut resolved) = (0u64, 0u64);
    for run in runs(params) {
        for r in rows_of(&run, 0) {
            walked += r.units_walked_away;
            resolved += r.units_walked_away + r.units_delivered;
        }
    }
    walked as f64 / resolved as f64
}

#[test]
fn in_a_bear_market_a_higher_prepayment_means_fewer_walk_aways() {
    let low = params_with(
        "bear",
        &[
            ("simulation.horizon_months", i(60)),
            ("manufacturers.bitmain.strategy.prepay_share", f(0.1)),
        ],
    );
    let high = params_with(
        "bear",
        &[
            ("simulation.horizon_months", i(60)),
            ("manufacturers.bitmain.strategy.prepay_share", f(0.5)),
        ],
    );
    let (rate_low, rate_high) = (walk_away_rate(&low), walk_away_rate(&high));
    assert!(rate_low > 0.05, "walk-aways happen at a 10% prepayment: {rate_low}");
    assert!(
        rate_high < 0.5 * rate_low,
        "prepay 0.5: {rate_high} vs prepay 0.1: {rate_low}"
    );
}

fn shipment_variance(params: &Params) -> f64 {
    let mut total = 0.0;
    for run in runs(params) {
        let shipped: Vec<f64> = rows_of(&run, 0)
            .iter()
            .skip(12)
            .map(|r| (r.units_delivered + r.units_sold_spot + r.units_sold_dealers) as f64)
            .collect();
        let mean = shipped.iter().sum::<f64>() / shipped.len() as f64;
        let diffs: Vec<f64> = shipped.windows(2).map(|w| w[1] - w[0]).collect();
        total += diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64 / (mean * mean).max(1.0);
    }
    total / PATHS as f64
}

#[test]
fn a_higher_futures_share_smooths_monthly_deliveries() {
    let low = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(60)),
            ("manufacturers.bitmain.strategy.futures_share", f(0.1)),
        ],
    );
    let high = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(60)),
            ("manufacturers.bitmain.strategy.futures_share", f(0.9)),
        ],
    );
    let (v_low, v_high) = (shipment_variance(&low), shipment_variance(&high));
    // Key-account firms sign futures as their cash allows, so a book of futures smooths deliveries less than
    // when buyers drew on one bottomless pool: by about a fifth on these paths, where it was a third.
    assert!(
        v_high < 0.85 * v_low,
        "relative month-to-month variance: futures 0.9 {v_high} vs 0.1 {v_low}"
    );
}

const CRASH_IN_MARCH_2025: &str = "[[events]]\nmonth = \"2025-03\"\nkind = \"price_shock\"\nfactor = 0.35\n";

#[test]
fn below_cost_a_self_mining_manufacturer_clears_stock_faster() {
    let setup = |self_mine: bool| {
        params_with_text(
            "base",
            CRASH_IN_MARCH_2025,
            &with_calm(&[
                ("simulation.horizon_months", i(18)),
                ("manufacturers.bitmain.strategy.self_mine", b(self_mine)),
            ]),
        )
    };
    let (mining, _) = run_path(&setup(true), 0);
    let (holding, _) = run_path(&setup(false), 0);
    let (mining, holding) = (rows_of(&mining, 0), rows_of(&holding, 0));
    assert!(
        mining.iter().map(|r| r.units_self_mined).sum::<u64>() > 0,
        "machines go into self-mining"
    );
    assert_eq!(holding.iter().map(|r| r.units_self_mined).sum::<u64>(), 0);
    assert!(mining[3].price_usd_per_th > 0.0 && mining[3].secondary_price_usd_per_th < mining[3].price_usd_per_th);
    // Through the clearing of the crash's stock (the manufacturer that holds its machines clears it by month 9;
    // after that both hold only new production).
    for m in 4..10 {
        assert!(mining[m].inventory_units <= holding[m].inventory_units, "month {m}");
    }
    assert!(
        mining[8].inventory_units < holding[8].inventory_units,
        "{} vs {}",
        mining[8].inventory_units,
        holding[8].inventory_units
    );
    assert!(mining[8].self_mining_ths > 0.0);
}

#[test]
fn dealers_stock_up_in_bull_regimes_and_dump_in_bear_regimes() {
    let params = params_with("base", &[("simulation.horizon_months", i(72))]);
    let (mut bull, mut bear) = (vec![], vec![]);
    for run in runs(&params) {
        for (m, pair) in run.dealers.windows(2).enumerate() {
            let change = pair[1].inventory_units as f64 - pair[0].inventory_units as f64;
            match run.network[m + 1].regime {
                Some(Regime::Bull) => bull.push(change),
                Some(Regime::Bear) => bear.push(change),
                None => {}
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(!bull.is_empty() && !bear.is_empty());
    assert!(mean(&bull) > 0.0, "dealer stock grows in bull months: {}", mean(&bull));
    assert!(mean(&bear) < 0.0, "dealer stock falls in bear months: {}", mean(&bear));
}

#[test]
fn in_bear_regimes_the_used_price_sits_below_the_manufacturers_price() {
    let params = params_with("bear", &[("simulation.horizon_months", i(36))]);
    let (mut below, mut n) = (0, 0);
    for run in runs(&params) {
        for r in rows_of(&run, 0) {
            if run.network[r.month.idx()].regime == Some(Regime::Bear) {
                n += 1;
                below += usize::from(r.secondary_price_usd_per_th < r.price_usd_per_th);
            }
        }
    }
    assert!(n > 100);
    assert!(below as f64 / n as f64 > 0.99, "{below} of {n} bear months");
}

#[test]
fn a_wafer_order_commits_cash_months_before_the_machines_exist() {
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(12)),
            ("manufacturers.bitmain.initial_inventory_units", i(0)),
            ("manufacturers.bitmain.initial_wafer_units_per_month", i(0)),
            // With nothing in the pipeline nothing was booked before the start: capacity is booked at the order.
            ("manufacturers.bitmain.strategy.foundry_booking_months", i(0)),
        ],
    );
    let lead = params.manufacturers[0].strategy.wafer_lead_months as usize;
    let (run, _) = run_path(&params, 0);
    let rows = rows_of(&run, 0);
    assert!(
        rows[0].units_wafers_ordered > 0,
        "wafers are ordered in the first month"
    );
    assert!(
        rows[0].wafer_paid_usd > 0.0,
        "and the foundry prepayment leaves cash at once"
    );
    assert!(rows[0].wafer_prepaid_usd > 0.0 && rows[0].wafer_commitments_usd > 0.0);
    for row in &rows[..lead] {
        assert_eq!(
            row.units_produced, 0,
            "nothing is produced before the lead time: {:?}",
            row.month
        );
    }
    assert!(
        rows[lead].units_produced > 0,
        "the first lot becomes machines {lead} months later"
    );
    assert!(rows[lead].wafer_paid_usd > 0.0, "the balance is paid on arrival");
}
