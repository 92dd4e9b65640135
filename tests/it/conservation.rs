//! Conservation laws checked from the recorded rows, independently of the engine's own checks,
//! on every path of multi-path runs of the shipped scenarios.

use hashcycle_model::params::{Params, Segment};
use hashcycle_model::record::{Collect, PathSummary};
use hashcycle_model::world::World;

use crate::support::{i, run_path, scenario_with_draws};

const PATHS: u32 = 24;
/// Money identities hold to rounding: a millionth of the amounts involved.
const MONEY_RELATIVE_TOLERANCE: f64 = 1e-6;

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= MONEY_RELATIVE_TOLERANCE * scale.abs().max(1.0)
}

fn check_path(scenario_params: &Params, rows: &Collect, summary: &PathSummary) {
    // The path ran with its own draw of the uncertain parameters.
    let drawn = hashcycle_model::uncertainty::for_path(scenario_params, summary.path_idx);
    let params = drawn.as_ref().unwrap_or(scenario_params);
    let path = summary.path_idx;
    let n_months = params.simulation.horizon_months as usize;
    assert_eq!(rows.network.len(), n_months, "path {path}: every month recorded");
    for (m_idx, mp) in params.manufacturers.iter().enumerate() {
        let mine: Vec<_> = rows
            .manufacturers
            .iter()
            .filter(|r| r.manufacturer_idx == m_idx)
            .collect();
        assert_eq!(mine.len(), n_months);
        // Machines.
        let sources: u64 =
            mp.initial_inventory_units + mine.iter().map(|r| r.units_produced + r.units_recovered).sum::<u64>();
        let uses: u64 = mine
            .iter()
            .map(|r| {
                r.units_delivered + r.units_sold_spot + r.units_sold_dealers + r.units_self_mined + r.units_scrapped
            })
            .sum::<u64>()
            + mine.last().unwrap().inventory_units;
        assert_eq!(
            sources, uses,
            "path {path} {}: machines produced != delivered + sold + self-mined + scrapped + stock",
            mp.name
        );
        // Futures contracts: month by month, the backlog grows by the units signed and shrinks by those
        // delivered, walked away from or refunded; customer advances grow by the prepayments received and
        // shrink by those applied, forfeited or refunded. (The book at the start was signed before it.)
        for pair in mine.windows(2) {
            let (before, r) = (pair[0], pair[1]);
            assert_eq!(
                before.backlog_units + r.units_sold_futures,
                r.backlog_units + r.units_delivered + r.units_walked_away + r.units_refunded,
                "path {path} {} {:?}: contract units",
                mp.name,
                r.month
            );
            let expected = before.customer_advances_usd + r.prepayments_received_usd
                - r.prepayments_applied_usd
                - r.prepayments_forfeited_usd
                - r.prepayments_refunded_usd;
            assert!(
                close(
                    r.customer_advances_usd,
                    expected,
                    before.customer_advances_usd + r.prepayments_received_usd
                ),
                "path {path} {} {:?}: customer advances {} vs {expected}",
                mp.name,
                r.month,
                r.customer_advances_usd
            );
        }
        // Cash: it starts at `cash_usd` plus the advances on the futures book the manufacturer opens with
        // (prepaid before the start), and each month's change equals the recorded flows.
        let world = World::new(params, summary.path_idx);
        let start = &world.manufacturers()[m_idx];
        assert!(
            close(
                start.cash_usd(),
                mp.cash_usd + start.prepay_held_usd(),
                mp.cash_usd.abs()
            ),
            "path {path} {}: starting cash {} vs {} + advances {}",
            mp.name,
            start.cash_usd(),
            mp.cash_usd,
            start.prepay_held_usd()
        );
        let mut previous = start.cash_usd();
        for r in &mine {
            let expected = previous + r.cash_in_usd - r.cash_out_usd;
            assert!(
                close(r.cash_usd, expected, previous.abs() + r.cash_in_usd + r.cash_out_usd),
                "path {path} {} {:?}: cash",
                mp.name,
                r.month
            );
            previous = r.cash_usd;
        }
        // The path's cash waterfall: starting cash plus the summed tallies is the ending cash, and the
        // monthly rows' cash flows sum to the same tallies.
        let o = summary
            .manufacturers
            .iter()
            .find(|o| o.manufacturer_idx == m_idx)
            .expect("every manufacturer has an outcome");
        let scale = o.start_cash_usd.abs() + o.cash_received_usd() + o.cash_paid_usd();
        assert!(
            close(
                o.end_cash_usd,
                o.start_cash_usd + o.cash_received_usd() - o.cash_paid_usd(),
                scale
            ),
            "path {path} {}: ending cash {} vs starting cash {} + received {} - paid {}",
            mp.name,
            o.end_cash_usd,
            o.start_cash_usd,
            o.cash_received_usd(),
            o.cash_paid_usd()
        );
        assert_eq!(o.start_cash_usd, mp.cash_usd);
        // The advances on futures signed before the start are received before the first month's row.
        let rows_in: f64 = mine.iter().map(|r| r.cash_in_usd).sum::<f64>() + start.prepay_held_usd();
        let rows_out: f64 = mine.iter().map(|r| r.cash_out_usd).sum();
        assert!(
            close(o.cash_received_usd(), rows_in, scale),
            "path {path} {}: cash received",
            mp.name
        );
        assert!(
            close(o.cash_paid_usd(), rows_out, scale),
            "path {path} {}: cash paid",
            mp.name
        );
    }
    // Dealers: units in = units out + stock.
    let bought: u64 = rows
        .dealers
        .iter()
        .map(|r| r.units_bought_spot + r.units_bought_installment)
        .sum();
    let out: u64 = rows
        .dealers
        .iter()
        .map(|r| r.units_sold + r.units_returned + r.units_scrapped)
        .sum();
    assert_eq!(
        bought,
        out + rows.dealers.last().unwrap().inventory_units,
        "path {path}: dealer units"
    );
    // Miners: installed units move only by arrivals, retirements and transfers.
    for segment in Segment::ALL {
        for region_idx in 0..params.regions.len() {
            let cohort: Vec<_> = rows
                .miners
                .iter()
                .filter(|r| r.segment == segment && r.region_idx == region_idx)
                .collect();
            for pair in cohort.windows(2) {
                let (before, after) = (pair[0], pair[1]);
                let lhs = before.units_running + before.units_off + after.units_arrived + after.units_taken_over;
                let rhs = after.units_running
                    + after.units_off
                    + after.units_retired
                    + after.units_sold_off
                    + after.units_fire_sold;
                assert_eq!(
                    lhs, rhs,
                    "path {path} {segment:?} region {region_idx} {:?}: installed units",
                    after.month
                );
            }
        }
    }
    // BTC: issuance never exceeds the 21 million cap.
    let issued: f64 = rows.network.iter().map(|r| r.issued_btc).sum();
    assert!(issued <= summary.network.total_issued_btc + 1e-6 && summary.network.total_issued_btc < 21e6);
}

fn check_scenario(name: &str) {
    // With the scenario's per-path parameter draws: conservation must hold for every draw.
    let params = scenario_with_draws(name, &[("simulation.horizon_months", i(72))]).params;
    for path_idx in 0..PATHS {
        let (rows, summary) = run_path(&params, path_idx);
        check_path(&params, &rows, &summary);
    }
}

#[test]
fn base_conserves_machines_money_btc_and_contracts_on_every_path() {
    check_scenario("base");
}

#[test]
fn bear_conserves_machines_money_btc_and_contracts_on_every_path() {
    check_scenario("bear");
}

#[test]
fn bull_conserves_machines_money_btc_and_contracts_on_every_path() {
    check_scenario("bull");
}
