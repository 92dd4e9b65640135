//! The network and the miners: halvings, issuance, retargets, and how hashrate answers prices.

use hashcycle_model::market::network::{SATS_PER_BTC, subsidy_sats};
use hashcycle_model::market::price::PriceState;
use hashcycle_model::params::{PriceProcess, Regime};
use hashcycle_model::record::{Collect, EventKind};
use hashcycle_model::rng::{Stream, stream_rng};
use hashcycle_model::units::Month;
use hashcycle_model::world::World;

use crate::support::{
    b, events_of, f, generation_idx, hashcycle, i, mean_sd, params_with, params_with_text, run_path, small_scenario,
    temp_dir, with_calm,
};

/// Drift and volatility estimates from 60,000 months may miss by four standard errors at most.
const STAT_TOLERANCE_SE: f64 = 4.0;

#[test]
fn halvings_fall_in_the_month_the_height_crosses_a_multiple_of_210000() {
    let params = params_with("base", &[("simulation.horizon_months", i(60))]);
    for path_idx in 0..6 {
        let (rows, _) = run_path(&params, path_idx);
        let halvings: Vec<_> = events_of(&rows, EventKind::Halving).collect();
        assert_eq!(
            halvings.len(),
            1,
            "path {path_idx}: one halving (1,050,000) within five years"
        );
        let event = halvings[0];
        assert_eq!(event.block_height, Some(1_050_000));
        let m = event.month.idx();
        assert!(rows.network[m].block_height >= 1_050_000);
        assert!(rows.network[m - 1].block_height < 1_050_000);
        assert_eq!(event.value, 1.5625);
    }
}

#[test]
fn btc_issued_each_month_is_blocks_times_subsidy_even_across_a_halving() {
    let params = params_with("base", &[("simulation.horizon_months", i(60))]);
    let (rows, summary) = run_path(&params, 1);
    let mut previous_height = params.network.block_height;
    let mut saw_split_month = false;
    for row in &rows.network {
        // The month mines the blocks after the previous tip, up to its own.
        let expected_sats: u64 = (previous_height + 1..=row.block_height).map(subsidy_sats).sum();
        assert_eq!(
            (row.issued_btc * SATS_PER_BTC as f64).round() as u64,
            expected_sats,
            "month {:?}",
            row.month
        );
        assert_eq!(row.blocks, row.block_height - previous_height);
        if subsidy_sats(previous_height + 1) != subsidy_sats(row.block_height) {
            saw_split_month = true;
            let naive = row.blocks as f64 * subsidy_sats(row.block_height) as f64 / SATS_PER_BTC as f64;
            assert!(
                row.issued_btc > naive,
                "a halving month issues more than blocks × the new subsidy"
            );
        }
        previous_height = row.block_height;
    }
    assert!(saw_split_month, "the test must cross a halving inside a month");
    assert!(summary.network.total_issued_btc < 21_000_000.0);
}

#[test]
fn regime_switching_returns_match_their_parameters() {
    let params = params_with(
        "base",
        &[
            ("price.jump_probability_per_month", f(0.0)),
            ("price.regime_switching.bull_to_bear_probability_per_month", f(0.0)),
            ("price.regime_switching.bull_drift_log_per_month", f(0.03)),
            ("price.regime_switching.bull_volatility_log_per_month", f(0.12)),
            ("price.regime_switching.trend_reversion_per_month", f(0.0)),
        ],
    );
    let mut state = PriceState::new(&params.price);
    let mut rng = stream_rng(42, 0, Stream::Price);
    let n = 60_000;
    let mut returns = Vec::with_capacity(n);
    for _ in 0..n {
        let before = state.log_price;
        state.step(&params.price, &mut rng);
        returns.push(state.log_price - before);
        // Keep the log price away from its numeric bounds.
        state.log_price = before;
        assert_eq!(state.regime, Regime::Bull);
    }
    let (mean, sd) = mean_sd(&returns);
    let se_mean = 0.12 / (n as f64).sqrt();
    let se_sd = 0.12 / (2.0 * n as f64).sqrt();
    assert!((mean - 0.03).abs() < STAT_TOLERANCE_SE * se_mean, "drift {mean}");
    assert!((sd - 0.12).abs() < STAT_TOLERANCE_SE * se_sd, "volatility {sd}");
}

#[test]
fn regime_switching_spends_the_stationary_share_of_time_in_bull() {
    let params = params_with("base", &[("price.jump_probability_per_month", f(0.0))]);
    let PriceProcess::RegimeSwitching(rs) = &params.price.process else {
        panic!()
    };
    let expected = rs.bear_to_bull_probability_per_month
        / (rs.bear_to_bull_probability_per_month + rs.bull_to_bear_probability_per_month);
    let mut state = PriceState::new(&params.price);
    let mut rng = stream_rng(9, 3, Stream::Price);
    let n = 200_000;
    let mut bull = 0;
    for _ in 0..n {
        state.step(&params.price, &mut rng);
        state.log_price = 11.0;
        bull += usize::from(state.regime == Regime::Bull);
    }
    let share = bull as f64 / n as f64;
    // Regime spells are long, so the effective sample is smaller than n; 0.02 is about four standard errors.
    assert!((share - expected).abs() < 0.02, "bull share {share} vs {expected}");
}

fn months_of(params: &hashcycle_model::params::Params, n: u32) -> (World<'_>, Collect) {
    let mut world = World::new(params, 0);
    let mut rows = Collect::default();
    for _ in 0..n {
        world.step(&mut rows).unwrap();
    }
    (world, rows)
}

const PRICE_HALVES_IN_JULY_2025: &str = "[[events]]\nmonth = \"2025-07\"\nkind = \"price_shock\"\nfactor = 0.5\n";

fn no_new_machines() -> Vec<(&'static str, hashcycle::scenario::raw::Value)> {
    with_calm(&[
        ("segments.key_account.max_growth_share_of_network_per_month", f(0.0)),
        ("segments.retail.max_growth_share_of_network_per_month", f(0.0)),
        ("manufacturers.bitmain.strategy.self_mine", b(false)),
        ("manufacturers.canaan.strategy.self_mine", b(false)),
        ("simulation.horizon_months", i(24)),
    ])
}

#[test]
fn when_price_halves_the_least_efficient_switch_off_and_difficulty_follows() {
    let params = params_with_text("base", PRICE_HALVES_IN_JULY_2025, &no_new_machines());
    let (mut world, mut rows) = months_of(&params, 6);
    let m30s = generation_idx(&params, "M30S");
    let s21xp = generation_idx(&params, "S21 XP");
    let (old_before, new_before) = (
        world.generation_running_share(m30s),
        world.generation_running_share(s21xp),
    );
    let difficulty_before = world.network().difficulty;
    for _ in 6..24 {
        world.step(&mut rows).unwrap();
        if world.month() == Month(7) {
            let (old_after, new_after) = (
                world.generation_running_share(m30s),
                world.generation_running_share(s21xp),
            );
            assert!(
                old_after < old_before - 0.2,
                "M30S running share {old_before} -> {old_after}"
            );
            assert!(
                new_before - new_after < (old_before - old_after) / 3.0,
                "S21 XP {new_before} -> {new_after}"
            );
        }
    }
    let net = &rows.network;
    assert!(
        net[6].hashrate_ehs < 0.85 * net[5].hashrate_ehs,
        "hashrate {} -> {}",
        net[5].hashrate_ehs,
        net[6].hashrate_ehs
    );
    assert!(
        net[6].mean_block_seconds.is_some_and(|s| s > 650.0),
        "blocks slow down: {:?}",
        net[6].mean_block_seconds
    );
    let first_retarget_after = rows
        .events
        .iter()
        .find(|e| e.kind == EventKind::Retarget && e.month >= Month(6))
        .expect("a retarget after the shock");
    assert!(
        first_retarget_after.value < difficulty_before,
        "difficulty falls at the next retarget"
    );
    // Miners decide at the difficulty that settles, so difficulty falls to where the remaining fleet pays its
    // power (about a fifth lower) and settles there within six months of the shock, without oscillating (with
    // base's fitted switching speed it dips about 4% below and climbs back).
    assert!(net[15].difficulty < 0.85 * difficulty_before);
    for pair in net[12..].windows(2) {
        assert!(
            (pair[1].difficulty / pair[0].difficulty).ln().abs() < 0.01,
            "difficulty settles: {:?}",
            pair[1].month
        );
    }
    for row in &net[14..20] {
        assert!(
            row.mean_block_seconds.is_some_and(|s| (s - 600.0).abs() < 45.0),
            "block time recovers: {:?} {:?}",
            row.month,
            row.mean_block_seconds
        );
    }
}

#[test]
fn after_a_halving_hashprice_roughly_halves_and_old_machines_switch_off() {
    let params = params_with("base", &with_calm(&[("simulation.horizon_months", i(48))]));
    let mut world = World::new(&params, 0);
    let mut rows = Collect::default();
    let mut halving_month = None;
    let mut shares_before = vec![];
    while world.month().0 < 48 {
        shares_before = (0..params.generations.len())
            .map(|g| world.generation_running_share(g))
            .collect();
        world.step(&mut rows).unwrap();
        if rows.events.iter().any(|e| e.kind == EventKind::Halving) {
            halving_month = Some(world.month().0 - 1);
            break;
        }
    }
    let h = halving_month.expect("the 2028 halving falls inside four years") as usize;
    world.step(&mut rows).unwrap();
    let net = &rows.network;
    let ratio = net[h + 1].hashprice_usd_per_ph_day / net[h - 1].hashprice_usd_per_ph_day;
    assert!(
        (0.45..0.75).contains(&ratio),
        "hashprice ratio across the halving {ratio}"
    );
    // The least efficient generation still installed runs much less after the halving.
    let oldest = (0..params.generations.len())
        .filter(|&g| {
            world
                .fleet()
                .units
                .iter()
                .enumerate()
                .any(|(c, &u)| c % params.generations.len() == g && u > 0)
        })
        .max_by(|&a, &b| {
            params.generations[a]
                .efficiency_jth()
                .total_cmp(&params.generations[b].efficiency_jth())
        })
        .unwrap();
    let after = world.generation_running_share(oldest);
    assert!(
        after < shares_before[oldest] - 0.15,
        "{} running share {} -> {after}",
        params.generations[oldest].name,
        shares_before[oldest]
    );
}

#[test]
fn with_rising_price_fleets_grow_with_a_lag() {
    let rising = params_with(
        "base",
        &with_calm(&[
            ("simulation.horizon_months", i(30)),
            ("price.regime_switching.bull_drift_log_per_month", f(0.04)),
        ]),
    );
    let flat = params_with("base", &with_calm(&[("simulation.horizon_months", i(30))]));
    let (rising_rows, _) = run_path(&rising, 0);
    let (flat_rows, _) = run_path(&flat, 0);
    let installed = |rows: &Collect, m: usize| rows.network[m].installed_hashrate_ehs;
    assert!(
        (installed(&rising_rows, 0) - installed(&flat_rows, 0)).abs() < 1e-9,
        "same start"
    );
    let gap = |m: usize| installed(&rising_rows, m) / installed(&flat_rows, m) - 1.0;
    assert!(
        gap(1).abs() < 0.02,
        "no new machines can arrive in the first month: gap {}",
        gap(1)
    );
    assert!(gap(12) > 0.05, "a year later the fleet is larger: gap {}", gap(12));
    assert!(
        gap(29) > gap(12),
        "and the gap keeps widening: {} -> {}",
        gap(12),
        gap(29)
    );
    assert!(installed(&rising_rows, 29) > 1.5 * installed(&rising_rows, 0));
}

/// Installed hashrate counts what running hashrate counts, the manufacturers' self-mining included, so it is
/// never below it, except at the end of a month whose fire sales of failed firms' fleets or conversions of
/// sites to AI hosting took running machines away after the month's blocks were found.
#[test]
fn installed_hashrate_is_never_below_running_hashrate() {
    let params = params_with("base", &[]);
    let (mut n_checked, mut n_removals) = (0, 0);
    for path_idx in 0..4 {
        let (rows, _) = run_path(&params, path_idx);
        for row in &rows.network {
            let removed_after_mining = rows
                .miners
                .iter()
                .any(|r| r.month == row.month && r.units_fire_sold + r.units_displaced > 0);
            if removed_after_mining {
                n_removals += 1;
                continue;
            }
            n_checked += 1;
            assert!(
                row.installed_hashrate_ehs >= row.hashrate_ehs * (1.0 - 1e-12),
                "path {path_idx}, month {:?}: installed {} < running {}",
                row.month,
                row.installed_hashrate_ehs,
                row.hashrate_ehs
            );
        }
    }
    assert!(
        n_checked > 10 * n_removals,
        "{n_checked} months checked, {n_removals} left out"
    );
}

/// Miners' and regions' hashrate is what earned the month's revenue: every row earns the network's revenue per
/// TH/s, and with self-mining they add up to the network's hashrate, even in a month whose fire sales of failed
/// firms' fleets left fewer machines at its end.
#[test]
fn miner_hashrate_is_the_hashrate_that_earned_the_revenue() {
    let params = params_with("base", &[]);
    let mut fire_sale_months = 0;
    for path_idx in 0..4 {
        let (rows, _) = run_path(&params, path_idx);
        for (m, network) in rows.network.iter().enumerate() {
            let usd_per_ehs = network.miner_revenue_usd / network.hashrate_ehs;
            let miners: Vec<_> = rows.miners.iter().filter(|r| r.month == network.month).collect();
            for row in miners.iter().filter(|r| r.hashrate_ehs > 0.0) {
                let ratio = row.revenue_usd / row.hashrate_ehs / usd_per_ehs;
                assert!(
                    (ratio - 1.0).abs() < 1e-9,
                    "path {path_idx}, month {m}: revenue per EH/s × {ratio}"
                );
            }
            let self_mining_ehs: f64 = rows
                .manufacturers
                .iter()
                .filter(|r| r.month == network.month)
                .map(|r| r.self_mining_revenue_usd / usd_per_ehs)
                .sum();
            let miners_ehs: f64 = miners.iter().map(|r| r.hashrate_ehs).sum();
            let regions_ehs: f64 = rows
                .regions
                .iter()
                .filter(|r| r.month == network.month)
                .map(|r| r.hashrate_ehs)
                .sum();
            for (what, ehs) in [("miners", miners_ehs), ("regions", regions_ehs)] {
                let total = ehs + self_mining_ehs;
                assert!(
                    (total / network.hashrate_ehs - 1.0).abs() < 1e-9,
                    "path {path_idx}, month {m}: {what} {ehs} + self-mining {self_mining_ehs} vs network {}",
                    network.hashrate_ehs
                );
            }
            fire_sale_months += usize::from(miners.iter().any(|r| r.units_fire_sold > 0));
        }
    }
    assert!(fire_sale_months > 0, "some firm fails and its fleet is fire-sold");
}

/// Each shipped scenario's first month runs its stated starting hashrate: the median over paths is within 3%
/// (the starting fleet starts in its steady state instead of switching off through its first months).
#[test]
fn shipped_scenarios_start_at_their_stated_hashrate() {
    for name in ["base", "bull", "bear"] {
        // Twelve months, not one: bear's scripted events in July 2025 must fall inside the horizon.
        let params = params_with(name, &[("simulation.horizon_months", i(12))]);
        let mut month_one: Vec<f64> = (0..41)
            .map(|p| run_path(&params, p).0.network[0].hashrate_ehs)
            .collect();
        month_one.sort_by(f64::total_cmp);
        let ratio = month_one[20] / params.network.hashrate_ehs;
        assert!(
            (ratio - 1.0).abs() < 0.03,
            "{name}: month 1 runs {ratio} of the stated hashrate"
        );
    }
}

/// `network.block_height` is the chain's tip: with the tip at 839,999 the first block mined is the halving
/// block 840,000, so the first month's blocks all pay 3.125 BTC and the halving is that month's.
#[test]
fn issuance_at_a_halving_counts_the_blocks_after_the_tip() {
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(3)),
            ("network.block_height", i(839_999)),
        ],
    );
    for path_idx in 0..3 {
        let (rows, summary) = run_path(&params, path_idx);
        let first = &rows.network[0];
        assert_eq!(first.block_height, 839_999 + first.blocks);
        assert_eq!(
            (first.issued_btc * SATS_PER_BTC as f64).round() as u64,
            first.blocks * 312_500_000,
            "every block of the month pays 3.125 BTC"
        );
        let halvings: Vec<_> = events_of(&rows, EventKind::Halving).collect();
        assert_eq!(halvings.len(), 1);
        assert_eq!((halvings[0].month, halvings[0].block_height), (Month(0), Some(840_000)));
        let blocks: u64 = rows.network.iter().map(|r| r.blocks).sum();
        assert_eq!(summary.network.end_block_height, 839_999 + blocks);
        assert_eq!(summary.network.total_issued_btc, blocks as f64 * 3.125);
    }
    // Block 6,929,999 pays the last satoshi: with it mined, nothing more is issued.
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(3)),
            ("network.block_height", i(6_929_999)),
        ],
    );
    let (rows, summary) = run_path(&params, 0);
    assert!(rows.network.iter().all(|r| r.subsidy_btc == 0.0 && r.issued_btc == 0.0));
    assert_eq!(summary.network.total_issued_btc, 0.0);
}

/// A month without blocks has no mean block time: `mean_block_seconds` is null there (not 0, which reads as
/// infinitely fast blocks), in the rows and in `network.parquet`, and a number in every month with blocks.
#[test]
fn a_month_without_blocks_has_a_null_mean_block_time() {
    let params = params_with(
        "base",
        &[("simulation.horizon_months", i(12)), ("network.difficulty", f(1e30))],
    );
    let (rows, _) = run_path(&params, 0);
    assert!(
        rows.network.iter().all(|r| r.blocks == 0),
        "no block at difficulty 1e30"
    );
    assert!(rows.network.iter().all(|r| r.mean_block_seconds.is_none()));
    let (rows, _) = run_path(&params_with("base", &[("simulation.horizon_months", i(12))]), 0);
    for row in &rows.network {
        let seconds = row
            .mean_block_seconds
            .expect("blocks every month at the base difficulty");
        assert!((400.0..900.0).contains(&seconds), "{:?}: {seconds}", row.month);
    }

    let dir = temp_dir("no-blocks");
    let file = small_scenario(
        &dir,
        "no_blocks.toml",
        &[("difficulty = 109782075598905", "difficulty = 1e30")],
    );
    let out = hashcycle(&["run", file.to_str().unwrap(), "--paths", "2", "--out", "out"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let network = hashcycle::output::parquet::read_frame(&dir.join("out/small/network.parquet")).unwrap();
    let seconds = network.column("mean_block_seconds").unwrap();
    assert_eq!(seconds.dtype(), &polars::prelude::DataType::Float64);
    assert_eq!(network.height(), 2 * 12);
    assert_eq!(seconds.null_count(), network.height(), "every month is without blocks");
    let _ = std::fs::remove_dir_all(&dir);
}
