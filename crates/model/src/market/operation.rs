//! Phase 3, miners operate: at the revenue per TH/s on which their decision and the difficulty it settles to
//! agree (a blend, by the scenario's foresight, with the revenue at the month's starting difficulty), each
//! cohort's profitable share of sites is found and the running share moves towards it; machines unprofitable for the segment's
//! retirement window, even at the settled difficulty, are retired, and sold on the used market or scrapped.
//! Manufacturers' self-mining fleets run when profitable.
#![warn(missing_docs)]

use crate::market::manufacturers_finance::self_mining_site;
use crate::market::network::{HASHES_PER_DIFFICULTY, TARGET_BLOCK_SECONDS, expected_usd_per_th_day};
use crate::math::{to_units, units_f64};
use crate::units::{HOURS_PER_DAY, SECONDS_PER_DAY};
use crate::world::World;

/// Blocks a day at the ten-minute target.
const BLOCKS_PER_DAY: f64 = SECONDS_PER_DAY / TARGET_BLOCK_SECONDS;

/// Decides what runs this month, and notes the price and the self-mining hashrate for the network phase.
pub fn operate(w: &mut World) {
    let params = w.params;
    let price_usd = w.price.price_usd();
    w.fees_btc_per_block = w.fees.fees_btc_per_block(&params.fees, w.price.regime, w.month.idx());
    let btc_per_block = w.network.next_subsidy_btc() + w.fees_btc_per_block;
    let revenue_at_start_th_day = expected_usd_per_th_day(w.network.difficulty, btc_per_block, price_usd);
    // What the network pays a day at the target pace, shared by whatever hashrate runs once difficulty settles,
    // the miners' fleet and the manufacturers' self-mining alike.
    let network_revenue_usd_per_day = btc_per_block * BLOCKS_PER_DAY * price_usd;
    // The self-mining fleets' generations as (cost, TH/s) steps, with where each manufacturer's end, worked
    // out once for the search's many evaluations.
    let (mut steps, mut step_ends) = std::mem::take(&mut w.scratch.self_mining_steps);
    steps.clear();
    step_ends.clear();
    for (m, mp) in w.manufacturers.iter().zip(&params.manufacturers) {
        let site = self_mining_site(mp, &w.power, &w.regions);
        m.self_mining_steps(&params.generations, site, &mut steps);
        step_ends.push(steps.len());
    }
    let revenue_th_day = w.fleet.decision_revenue_usd_per_th_day(
        revenue_at_start_th_day,
        network_revenue_usd_per_day,
        params.network.difficulty_foresight_share,
        |revenue| self_mining_ths_at(&steps, &step_ends, revenue),
        steps.iter().map(|&(cost_usd_per_th_day, _)| cost_usd_per_th_day),
        &w.power.price_usd_per_kwh,
        w.regions.ln_1p_opex_share(),
        &params.regions,
        &params.generations,
        &params.segments,
    );
    w.scratch.self_mining_steps = (steps, step_ends);
    // Difficulty once it has caught up with the hashrate that ran last month.
    let settled_difficulty =
        (w.tallies.last_hashrate_ths() * 1e12 * TARGET_BLOCK_SECONDS / HASHES_PER_DIFFICULTY).max(1.0);
    let outlook_th_day = expected_usd_per_th_day(settled_difficulty, btc_per_block, price_usd);
    let hours = w.figures.n_days * HOURS_PER_DAY;
    w.fleet.operate(
        revenue_th_day,
        outlook_th_day,
        &w.power.price_usd_per_kwh,
        w.regions.opex_share(),
        w.regions.ln_1p_opex_share(),
        &params.regions,
        &params.generations,
        &params.segments,
        hours,
    );
    sell_retired(w);
    // One running sum over every manufacturer's generations, in this order.
    let mut self_mining_ths = 0.0;
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        let site = self_mining_site(mp, &w.power, &w.regions);
        m.switch_self_mining(&params.generations, site, revenue_th_day, &mut self_mining_ths);
    }
    w.figures.price_usd = price_usd;
    w.figures.hours = hours;
    w.figures.self_mining_ths = self_mining_ths;
}

/// The manufacturers' self-mining hashrate in TH/s at `revenue_usd_per_th_day`: each manufacturer's
/// generations whose power cost the revenue exceeds (`Manufacturer::self_mining_steps`, manufacturer `m`'s
/// ending at `step_ends[m]`), summed by manufacturer and then over manufacturers.
fn self_mining_ths_at(steps: &[(f64, f64)], step_ends: &[usize], revenue_usd_per_th_day: f64) -> f64 {
    let mut ths = 0.0;
    let mut start = 0;
    for &end in step_ends {
        let mut maker_ths = 0.0;
        for &(cost_usd_per_th_day, step_ths) in &steps[start..end] {
            if revenue_usd_per_th_day > cost_usd_per_th_day {
                maker_ths += step_ths;
            }
        }
        ths += maker_ths;
        start = end;
    }
    ths
}

/// Machines the operating decision retired this month (`Fleet::retired_by_decision`) leave for the used
/// market: `retired_sale_share` of them are sold to buyers with cheaper power outside the simulated fleet at
/// the used price less `retired_price_discount_share`, pressing on used prices as stranded machines do; the
/// rest are scrapped. The segment that retired them is paid.
fn sell_retired(w: &mut World) {
    let market = &w.params.secondary_market;
    let scrap = market.scrap_value_usd_per_unit;
    for i in 0..w.fleet.retired_by_decision.len() {
        let (c, retired) = w.fleet.retired_by_decision[i];
        let (segment, _, g) = w.fleet.cohort_parts(c);
        let sold = to_units(units_f64(retired) * market.retired_sale_share).min(retired);
        let price = (w.secondary_price_usd[g] * (1.0 - market.retired_price_discount_share)).max(scrap);
        let proceeds = units_f64(sold) * price + units_f64(retired - sold) * scrap;
        w.segments[segment.idx()].receive_sale_proceeds(proceeds);
        w.stranded_overhang_units[g] += units_f64(sold);
        w.fleet.retired_sold[c] += sold;
        w.fleet.retired_proceeds_usd[c] += proceeds;
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::simulate_path;
    use crate::params::{Params, ScriptedEvent, ScriptedEventKind};
    use crate::record::Collect;
    use crate::units::{Month, YearMonth};

    /// The small scenario with a price that stays where it is put (no drift, no volatility, no regime
    /// changes, no jumps), steady fees and power prices, for `horizon_months`, with the price multiplied by `factor` at the
    /// start of `shock_month`.
    fn steady_world(horizon_months: u32, shock_month: u32, factor: f64, foresight_share: f64) -> Params {
        let mut params = crate::fixtures::small();
        params.simulation.horizon_months = horizon_months;
        params.network.difficulty_foresight_share = foresight_share;
        crate::fixtures::hold_steady(&mut params);
        // No new machines: the test is about the installed fleet's switching and the difficulty.
        for segment in &mut params.segments {
            segment.max_growth_share_of_network_per_month = 0.0;
        }
        params.manufacturers.clear();
        params.events.push(ScriptedEvent {
            month: Month(shock_month),
            at: YearMonth {
                year: 2025,
                month: shock_month + 1,
            },
            kind: ScriptedEventKind::PriceShock { factor },
        });
        params
    }

    fn run(params: &Params) -> Collect {
        let mut sink = Collect::default();
        let summary = simulate_path(params, 0, &mut sink);
        assert!(summary.violation.is_none(), "{:?}", summary.violation);
        sink
    }

    /// The first month's running hashrate is the scenario's starting hashrate: the starting fleet runs the
    /// share of its sites that pays its power from the start, instead of switching off at the segments'
    /// response speed through the first months. With the price drawn, the first month's price moves the
    /// hashrate; the median over paths still starts within 3%.
    #[test]
    fn the_first_month_runs_the_starting_hashrate() {
        let steady = steady_world(1, 0, 1.0, 1.0);
        let ratio = run(&steady).network[0].hashrate_ehs / steady.network.hashrate_ehs;
        assert!(
            (ratio - 1.0).abs() < 0.01,
            "month 1 runs {ratio} of the start at a steady price"
        );

        let mut drawn = crate::fixtures::small();
        drawn.simulation.horizon_months = 1;
        let mut ratios: Vec<f64> = (0..41)
            .map(|path_idx| {
                let mut sink = Collect::default();
                simulate_path(&drawn, path_idx, &mut sink);
                sink.network[0].hashrate_ehs / drawn.network.hashrate_ehs
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        assert!(
            (ratios[20] - 1.0).abs() < 0.03,
            "median month 1 runs {} of the start",
            ratios[20]
        );
    }

    /// Halving the price at a fixed difficulty switches off the dearest sites first (the region with the
    /// dearer power loses a larger share of its running machines), difficulty then falls month by month until
    /// the fleet that remains pays its power, and hashrate settles without oscillating; no month is short of
    /// blocks.
    #[test]
    fn a_price_halving_switches_off_the_dearest_sites_and_difficulty_settles_without_oscillation() {
        let shock_month = 3;
        let params = steady_world(36, shock_month, 0.5, 1.0);
        let sink = run(&params);
        let months: Vec<_> = sink.network.iter().collect();
        let hashrate: Vec<f64> = months.iter().map(|r| r.hashrate_ehs).collect();
        let difficulty: Vec<f64> = months.iter().map(|r| r.difficulty).collect();
        let before = shock_month as usize - 1;
        assert!(hashrate[shock_month as usize] < 0.95 * hashrate[before], "{hashrate:?}");

        // Dearest sites first: every region's sites above one breakeven power price stop, so the region with
        // the dearer power ("other", 0.050 USD/kWh against 0.045 in "us") runs the smaller share of its machines.
        let running_share = |month: usize, region_idx: usize| {
            let row = sink
                .regions
                .iter()
                .find(|r| r.month.idx() == month && r.region_idx == region_idx)
                .expect("a row per region and month");
            row.units_running as f64 / (row.units_running + row.units_off) as f64
        };
        let after_shock = shock_month as usize;
        for region_idx in 0..2 {
            assert!(running_share(after_shock, region_idx) < running_share(before, region_idx));
        }
        assert!(
            running_share(after_shock, 1) < running_share(after_shock, 0),
            "us runs {}, other runs {}",
            running_share(after_shock, 0),
            running_share(after_shock, 1)
        );

        // Difficulty falls after the shock and never rises again while the price stays put.
        let after = &difficulty[shock_month as usize..];
        assert!(after.last().unwrap() < &(0.9 * difficulty[before]), "{difficulty:?}");
        for pair in after.windows(2) {
            assert!(pair[1] <= pair[0] * 1.001, "difficulty rose again: {difficulty:?}");
        }
        // No oscillation: once the month's switching is done, the hashrate moves one way, by small steps.
        for pair in hashrate[shock_month as usize + 1..].windows(2) {
            assert!((pair[1] / pair[0]).ln().abs() < 0.05, "hashrate swings: {hashrate:?}");
        }
        assert!(months.iter().all(|r| r.blocks >= 2_190), "a month short of blocks");
    }

    /// At a foresight of 0 miners decide at the month's starting difficulty, as they did before the
    /// foresight existed; at 1 the decision is the fixed point, the revenue each TH/s earns once difficulty has
    /// settled at the hashrate that runs at that revenue.
    #[test]
    fn the_decision_revenue_is_the_start_at_no_foresight_and_the_fixed_point_at_full_foresight() {
        let params = crate::fixtures::small();
        let world = crate::world::World::new(&params, 0);
        let fleet = &world.fleet;
        let power = params
            .regions
            .iter()
            .map(|r| r.power_price_base_usd_per_kwh)
            .collect::<Vec<_>>();
        let ln_opex = params
            .regions
            .iter()
            .map(|r| r.opex_share_of_power.ln_1p())
            .collect::<Vec<_>>();
        // A fresh fleet each time: the search starts from the fleet's last decision.
        let decide = |foresight| {
            fleet.clone().decision_revenue_usd_per_th_day(
                0.05,
                2.0e7,
                foresight,
                |_| 0.0,
                std::iter::empty(),
                &power,
                &ln_opex,
                &params.regions,
                &params.generations,
                &params.segments,
            )
        };
        assert_eq!(decide(0.0), 0.05);
        let revenue = decide(1.0);
        let ths = fleet.clone().running_ths_at(
            revenue,
            &power,
            &ln_opex,
            &params.regions,
            &params.generations,
            &params.segments,
        );
        assert!(
            (revenue * ths / 2.0e7 - 1.0).abs() < 1e-6,
            "revenue {revenue}, hashrate {ths}"
        );
        // A hashrate that is not a number (here the self-mining's) leaves the decision at the starting revenue.
        let unknown = fleet.clone().decision_revenue_usd_per_th_day(
            0.05,
            2.0e7,
            1.0,
            |_| f64::NAN,
            std::iter::empty(),
            &power,
            &ln_opex,
            &params.regions,
            &params.generations,
            &params.segments,
        );
        assert_eq!(unknown, 0.05);
        let half = decide(0.5);
        assert!(
            half > revenue.min(0.05) && half < revenue.max(0.05),
            "{half} between 0.05 and {revenue}"
        );
    }
}
