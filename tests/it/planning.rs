//! Manufacturers' planning and pricing: each test runs the real engine on a shipped scenario and asserts the
//! direction of a behaviour a sales-and-operations team would recognise.

use hashcycle_model::params::Params;
use hashcycle_model::record::{Collect, ManufacturerRow};

use crate::support::{f, i, params_with, params_with_text, run_path, s, with_calm};

fn rows_of(run: &Collect, manufacturer_idx: usize) -> Vec<&ManufacturerRow> {
    run.manufacturers
        .iter()
        .filter(|r| r.manufacturer_idx == manufacturer_idx)
        .collect()
}

/// Machines sold to customers in a month: spot, to dealers and signed as futures.
/// Changes that give every manufacturer room to grow: assembly and foundry capacity far above what base's
/// buyers ask for, so that a test of how orders, prices or advances follow demand is not a test of a capacity
/// that binds (with the fitted buyers of base.toml, demand reaches the makers' capacity in a boom).
fn room_to_grow() -> Vec<(&'static str, hashcycle::scenario::raw::Value)> {
    let mut changes = vec![];
    for (capacity, allotment, units) in [
        (
            "manufacturers.bitmain.capacity_units_per_month",
            "manufacturers.bitmain.foundry_allotment_units_per_month",
            600_000,
        ),
        (
            "manufacturers.microbt.capacity_units_per_month",
            "manufacturers.microbt.foundry_allotment_units_per_month",
            300_000,
        ),
        (
            "manufacturers.canaan.capacity_units_per_month",
            "manufacturers.canaan.foundry_allotment_units_per_month",
            150_000,
        ),
    ] {
        changes.push((capacity, i(units)));
        changes.push((allotment, i(units)));
    }
    changes
}

fn units_sold(r: &ManufacturerRow) -> u64 {
    r.units_sold_spot + r.units_sold_dealers + r.units_sold_futures
}

#[test]
fn wafer_orders_follow_the_forecast_not_the_futures_signed() {
    let params = params_with("base", &[("simulation.horizon_months", i(60))]);
    let strategy = &params.manufacturers[0].strategy;
    let capacity = params.manufacturers[0].capacity_units_per_month;
    let (mut months, mut identity, mut unbound, mut identity_unbound) = (0, 0, 0, 0);
    for path in 0..12 {
        let (run, _) = run_path(&params, path);
        for r in rows_of(&run, 0) {
            // The old rule: wafers = futures signed + the spot share of the plan.
            let spot_part = ((1.0 - strategy.futures_share) * r.planned_units as f64).floor() as u64;
            let holds = r.units_wafers_ordered == r.units_sold_futures + spot_part;
            months += 1;
            identity += usize::from(holds);
            // A month with nothing ordered and nothing signed satisfies it trivially.
            if r.units_wafers_ordered > 0 && r.units_wafers_ordered < capacity.min(r.capacity_booked_units) {
                unbound += 1;
                identity_unbound += usize::from(holds);
            }
        }
    }
    // At the capacity booked (or assembly capacity) with futures sold out the old identity holds by
    // arithmetic; where the order is the plan's own, only by chance.
    assert!(unbound > months / 10, "{unbound} of {months}");
    assert!(
        (identity_unbound as f64) < 0.02 * unbound as f64,
        "identity in {identity_unbound} of {unbound} months below the capacity booked"
    );
    assert!(
        (identity as f64) < 0.4 * months as f64,
        "identity in {identity} of {months} months"
    );

    // No buyer wants futures: wafers are still ordered, close to the forecast.
    let mut changes = room_to_grow();
    changes.extend([
        ("simulation.horizon_months", i(36)),
        ("segments.key_account.futures_preference_share", f(0.0)),
        ("segments.retail.futures_preference_share", f(0.0)),
    ]);
    let no_futures = params_with("base", &changes);
    let (run, _) = run_path(&no_futures, 0);
    let rows = rows_of(&run, 0);
    assert_eq!(rows.iter().map(|r| r.units_sold_futures).sum::<u64>(), 0);
    let (ordered, forecast): (f64, f64) = rows
        .iter()
        .map(|r| (r.units_wafers_ordered as f64, r.forecast_units_per_month))
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    assert!(ordered > 0.0);
    assert!(
        (ordered / forecast - 1.0).abs() < 0.3,
        "ordered {ordered} vs forecast {forecast}"
    );
}

const CRASH_IN_JULY_2025: &str = "[[events]]\nmonth = \"2025-07\"\nkind = \"price_shock\"\nfactor = 0.3\n";

#[test]
fn over_ordering_wafers_before_a_price_collapse_raises_write_downs() {
    let setup = |booking_share: f64, take_or_pay: f64| {
        params_with_text(
            "base",
            CRASH_IN_JULY_2025,
            &with_calm(
                &[
                    &room_to_grow()[..],
                    &[
                        ("simulation.horizon_months", i(24)),
                        ("manufacturers.bitmain.strategy.foundry_booking_share", f(booking_share)),
                        ("manufacturers.bitmain.strategy.take_or_pay_share", f(take_or_pay)),
                        ("manufacturers.bitmain.strategy.cancellation_penalty_share", f(1.0)),
                    ],
                ]
                .concat(),
            ),
        )
    };
    let writedowns = |params: &Params| {
        let (run, summary) = run_path(params, 0);
        let rows = rows_of(&run, 0);
        let ordered: u64 = rows.iter().map(|r| r.units_wafers_ordered).sum();
        (summary.manufacturers[0].writedowns_usd, ordered)
    };
    let (lean, lean_ordered) = writedowns(&setup(1.0, 0.0));
    let (heavy, heavy_ordered) = writedowns(&setup(3.0, 1.0));
    assert!(heavy_ordered > lean_ordered, "{heavy_ordered} vs {lean_ordered}");
    // Stock built before the crash is written down either way; what the heavy booking (three times the forecast,
    // all of it take-or-pay) adds is the order it could not cancel. With base's fitted buyers, twice the forecast
    // added only 10%.
    assert!(heavy > 1.2 * lean, "write-downs {heavy} vs {lean}");
}

const BOOM_FROM_FEBRUARY_2025: &str = "[[events]]\nmonth = \"2025-02\"\nkind = \"price_shock\"\nfactor = 2.5\n";

#[test]
fn a_foundry_shortage_lowers_units_sold_in_a_boom() {
    let shortage = "[[events]]\nmonth = \"2025-02\"\nkind = \"foundry_shortage\"\nfactor = 0.3\nduration_months = 18\n";
    let changes = with_calm(&[("simulation.horizon_months", i(24))]);
    let boom = params_with_text("base", BOOM_FROM_FEBRUARY_2025, &changes);
    let short = params_with_text("base", &format!("{BOOM_FROM_FEBRUARY_2025}\n{shortage}"), &changes);
    let sold = |params: &Params| -> u64 {
        let (run, _) = run_path(params, 0);
        (0..params.manufacturers.len())
            .flat_map(|m| {
                rows_of(&run, m)
                    .into_iter()
                    .skip(9)
                    .take(12)
                    .map(units_sold)
                    .collect::<Vec<_>>()
            })
            .sum()
    };
    let (with_boom, with_shortage) = (sold(&boom), sold(&short));
    assert!(
        (with_shortage as f64) < 0.8 * with_boom as f64,
        "sold {with_shortage} in the shortage vs {with_boom}"
    );
}

const HASHPRICE_DOUBLES_IN_JULY_2025: &str = "[[events]]\nmonth = \"2025-07\"\nkind = \"price_shock\"\nfactor = 2.0\n";

#[test]
fn a_sticky_price_lags_a_hashprice_jump_by_about_the_stickiness_set() {
    // Months from the jump to the list price's peak, and the peak's rise (log) over the price before it.
    let lag = |step: f64| {
        let params = params_with_text(
            "base",
            HASHPRICE_DOUBLES_IN_JULY_2025,
            &with_calm(&[
                ("simulation.horizon_months", i(24)),
                (
                    "manufacturers.bitmain.strategy.max_price_change_share_per_month",
                    f(step),
                ),
                ("manufacturers.bitmain.strategy.price_band_share", f(0.05)),
                ("manufacturers.bitmain.strategy.competitive_weight_share", f(0.0)),
                ("manufacturers.bitmain.strategy.stock_price_cut_share_per_month", f(0.0)),
            ]),
        );
        let (run, _) = run_path(&params, 0);
        let prices: Vec<f64> = rows_of(&run, 0).iter().map(|r| r.list_price_usd_per_th).collect();
        let before = prices[5];
        assert!(
            prices[6] <= before * (1.0 + step) * (1.0 + 1e-9),
            "moves at most {step} a month: {before} -> {}",
            prices[6]
        );
        let after = &prices[6..18];
        let peak = after.iter().cloned().fold(f64::MIN, f64::max);
        let months = after.iter().position(|&p| p == peak).unwrap() + 1;
        (months, (peak / before).ln())
    };
    let (slow, rise_slow) = lag(0.05);
    let (fast, rise_fast) = lag(0.5);
    assert!(rise_fast > 0.3, "the jump raises the target: {rise_fast}");
    // At 5% a month the price climbs step by step until it meets the target coming down to meet it.
    let expected = rise_slow / 1.05f64.ln();
    assert!(slow >= 4, "{slow} months at 5%");
    assert!(
        (slow as f64 - expected).abs() <= 1.0,
        "{slow} months at 5% for a rise of {rise_slow:.3} ({expected:.1} at 5% a month)"
    );
    assert!(fast <= 2, "{fast} months at 50%");
}

#[test]
fn a_competitors_price_cut_takes_share() {
    let share = |target_payback_months: f64, min_margin_share: f64| {
        let params = params_with(
            "base",
            &with_calm(
                &[
                    &room_to_grow()[..],
                    &[
                        ("simulation.horizon_months", i(24)),
                        // Room to grow: the cut can only take share a manufacturer can supply.
                        (
                            "manufacturers.microbt.strategy.target_payback_months",
                            f(target_payback_months),
                        ),
                        ("manufacturers.microbt.strategy.min_margin_share", f(min_margin_share)),
                        ("manufacturers.microbt.strategy.competitive_weight_share", f(0.0)),
                    ],
                ]
                .concat(),
            ),
        );
        let (run, _) = run_path(&params, 0);
        let sold = |m: usize| -> u64 { rows_of(&run, m).iter().skip(6).map(|r| units_sold(r)).sum() };
        let all: u64 = (0..params.manufacturers.len()).map(sold).sum();
        sold(1) as f64 / all as f64
    };
    // The cut: a shorter payback for buyers, down to unit cost less a fifth (selling below cost to clear).
    let (list, cut) = (share(15.0, 0.12), share(9.0, -0.2));
    assert!(cut > list + 0.03, "microbt's share {list} at list, {cut} after the cut");
}

#[test]
fn gross_margin_excludes_forfeited_prepayments() {
    let params = params_with(
        "bear",
        &[
            ("simulation.horizon_months", i(48)),
            ("manufacturers.bitmain.strategy.prepay_share", f(0.1)),
        ],
    );
    let mut forfeited_months = 0;
    for path in 0..6 {
        let (run, summary) = run_path(&params, path);
        let rows = rows_of(&run, 0);
        for r in &rows {
            let expected = r.revenue_usd - r.cogs_usd - r.writedowns_usd;
            assert!((r.gross_margin_usd - expected).abs() <= 1e-6 * r.revenue_usd.abs().max(1.0));
            assert_eq!(r.other_income_usd, r.prepayments_forfeited_usd);
            forfeited_months += usize::from(r.prepayments_forfeited_usd > 0.0);
        }
        let margin: f64 = rows.iter().map(|r| r.gross_margin_usd).sum();
        let outcome = &summary.manufacturers[0];
        assert!((outcome.gross_margin_usd - margin).abs() <= 1e-6 * outcome.revenue_usd.max(1.0));
        assert!(outcome.gross_margin_usd <= outcome.revenue_usd);
    }
    assert!(forfeited_months > 0, "some buyers walk away in a bear market");
}

/// The summary's lowest cash is the lowest month-end cash of the monthly rows, dated at the first month that
/// ended with it: the opening balance, in no row, never counts.
#[test]
fn min_cash_is_the_lowest_cash_of_the_monthly_rows() {
    let params = params_with("base", &[("simulation.horizon_months", i(36))]);
    let mut above_start_cash = 0;
    for path in 0..6 {
        let (run, summary) = run_path(&params, path);
        for outcome in &summary.manufacturers {
            let rows = rows_of(&run, outcome.manufacturer_idx);
            let lowest = rows.iter().map(|r| r.cash_usd).fold(f64::INFINITY, f64::min);
            let first_lowest = rows.iter().find(|r| r.cash_usd == lowest).unwrap();
            assert_eq!(
                outcome.min_cash_usd, lowest,
                "path {path}, maker {}",
                outcome.manufacturer_idx
            );
            assert_eq!(outcome.min_cash_month, first_lowest.month.0, "path {path}");
            above_start_cash += usize::from(outcome.min_cash_usd > outcome.start_cash_usd);
        }
    }
    assert!(
        above_start_cash > 0,
        "some maker's cash never falls to its opening balance"
    );
}

const BULL_UNTIL_JULY_2026: &str = "[[events]]\nmonth = \"2026-07\"\nkind = \"set_regime\"\nregime = \"bear\"\n\n[[events]]\nmonth = \"2026-07\"\nkind = \"price_shock\"\nfactor = 0.4\n";

#[test]
fn customer_advances_rise_in_a_bull_market_and_fall_when_it_turns() {
    let params = params_with_text(
        "base",
        BULL_UNTIL_JULY_2026,
        &with_calm(
            &[
                &room_to_grow()[..],
                &[
                    ("simulation.horizon_months", i(30)),
                    ("price.start_regime", s("bull")),
                    ("price.regime_switching.bull_drift_log_per_month", f(0.06)),
                    // Buyers whose funds do not bind (one pooled book with its credit line): the manufacturer's side of
                    // the mechanism. Key-account firms keep reserves and BTC and borrow only against collateral, so in
                    // this boom they sign fewer futures (tests/it/buyers.rs).
                    ("key_account_firms.n_firms", i(0)),
                ],
            ]
            .concat(),
        ),
    );
    let (run, _) = run_path(&params, 0);
    let advances: Vec<f64> = rows_of(&run, 0).iter().map(|r| r.customer_advances_usd).collect();
    // 2025-01 before the boom; 2026-06 at its height; 2027-06 a year into the bust.
    let (start, peak, bust) = (advances[0], advances[17], advances[29]);
    assert!(peak > 1.1 * start, "advances {start} -> {peak} in the boom");
    assert!(bust < 0.5 * peak, "advances {peak} -> {bust} after the crash");
}

const CRASH_IN_APRIL_2025: &str = "[[events]]\nmonth = \"2025-04\"\nkind = \"price_shock\"\nfactor = 0.3\n";

#[test]
fn retired_machines_are_sold_on_the_used_market_or_scrapped_and_paid_for() {
    let setup = |sale_share: f64| {
        params_with_text(
            "base",
            CRASH_IN_APRIL_2025,
            &with_calm(&[
                ("simulation.horizon_months", i(30)),
                ("secondary_market.retired_sale_share", f(sale_share)),
            ]),
        )
    };
    let params = setup(0.5);
    let (run, _) = run_path(&params, 0);
    let retired: u64 = run.miners.iter().map(|r| r.units_retired).sum();
    let sold: u64 = run.miners.iter().map(|r| r.units_retired_sold).sum();
    let proceeds: f64 = run.miners.iter().map(|r| r.retired_proceeds_usd).sum();
    assert!(retired > 0, "the crash retires machines");
    assert!(sold > 0 && sold <= retired);
    // Half of what the decision retires is sold (bans and forced sales retire none in this world).
    assert!((sold as f64 / retired as f64 - 0.5).abs() < 0.01, "{sold} of {retired}");
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    assert!(proceeds >= (retired - sold) as f64 * scrap + sold as f64 * scrap);
    assert!(
        proceeds > (retired - sold) as f64 * scrap,
        "sold machines fetch more than scrap"
    );

    // Sold machines press on used prices; scrapped ones do not.
    let (scrapped_run, _) = run_path(&setup(0.0), 0);
    assert_eq!(scrapped_run.miners.iter().map(|r| r.units_retired_sold).sum::<u64>(), 0);
    let used_price = |run: &Collect| -> f64 {
        rows_of(run, 0)
            .iter()
            .skip(3)
            .map(|r| r.secondary_price_usd_per_th)
            .sum()
    };
    assert!(
        used_price(&run) < used_price(&scrapped_run),
        "{} vs {}",
        used_price(&run),
        used_price(&scrapped_run)
    );
}
