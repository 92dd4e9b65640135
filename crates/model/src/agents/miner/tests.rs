//! Unit tests of the fleet: retirement windows, the transit ring, bans and sell-offs, cohort indices.

use super::*;

/// The windows' maxima read from the ring equal the maximum of the last `window` months'
/// shares worked out directly, for either segment having the shorter window, through many laps of the
/// ring and before the ring has filled (months before the first count as keeping every site).
#[test]
fn retirement_windows_are_the_maxima_of_the_last_months() {
    let base = crate::fixtures::small();
    let (regions, generations) = (&base.regions[..1], &base.generations[..2]);
    for windows in [[6u32, 3], [2, 5], [4, 4], [1, 7]] {
        let mut segments = base.segments.clone();
        for (segment, &window) in segments.iter_mut().zip(&windows) {
            segment.retire_after_months = window;
        }
        let history_len = windows.iter().max().copied().unwrap() as usize;
        let mut fleet = Fleet::new(regions, generations, history_len, 1);
        // Machines of the first generation only, bought every month so the cohort never retires them all
        // (the windows are kept only while there are machines); the second generation stays empty.
        let cohort = fleet.cohort_idx(Segment::KeyAccount, 0, 0);
        let mut shares_seen = Vec::new();
        let n_rg = fleet.n_regions * fleet.n_generations;
        let hours_in_month = 720.0;
        for month in 0..40 {
            fleet.add_units(cohort, 1_000);
            // Revenue swinging across the sites' breakevens, so the share of sites worth keeping moves.
            let revenue = 0.08 * (1.0 + 0.9 * (month as f64 * 1.3).sin());
            let power_price = [regions[0].power_price_base_usd_per_kwh];
            let opex = [regions[0].opex_share_of_power];
            fleet.operate(
                revenue,
                revenue,
                &power_price,
                &opex,
                &opex.map(f64::ln_1p),
                regions,
                generations,
                &segments,
                hours_in_month,
            );
            shares_seen.push(fleet.q_now[0]);
            for (s, &window) in windows.iter().enumerate() {
                let window = window as usize;
                let direct = (0..window)
                    .map(|back| if back <= month { shares_seen[month - back] } else { 1.0 })
                    .fold(0.0f64, f64::max);
                assert_eq!(
                    fleet.window_max[s * n_rg],
                    direct,
                    "windows {windows:?}, segment {s}, month {month}"
                );
            }
        }
        assert!(
            shares_seen.iter().any(|&q| q < 0.2) && shares_seen.iter().any(|&q| q > 0.8),
            "the shares should move: {shares_seen:?}"
        );
    }
}

/// Machines shipped with a lag arrive exactly that many months later, everything a cohort was shipped in
/// a month together, through several laps of the transit ring; a ban stops its share of each month's
/// shipments, rounded per month.
#[test]
fn shipments_arrive_after_their_lag_and_a_ban_stops_its_share_of_each_month() {
    let base = crate::fixtures::small();
    let (regions, generations) = (&base.regions[..2], &base.generations[..2]);
    let max_lag = 3;
    let mut fleet = Fleet::new(regions, generations, 1, max_lag);
    let (a, b) = (
        fleet.cohort_idx(Segment::KeyAccount, 0, 1),
        fleet.cohort_idx(Segment::Retail, 1, 0),
    );
    // (month shipped, cohort, units, lag): two shipments to `a` in month 2 arrive together.
    let shipments = [
        (0, a, 5, 1),
        (2, a, 7, 3),
        (2, a, 11, 3),
        (3, b, 13, 2),
        (6, b, 17, 3),
        (9, a, 19, 1),
    ];
    let mut arrived_at = Vec::new();
    for month in 0..14u32 {
        fleet.open_month(Month(month));
        fleet.land_arrivals();
        for c in [a, b] {
            if fleet.arrived[c] > 0 {
                arrived_at.push((month, c, fleet.arrived[c]));
            }
        }
        for &(m, c, units, lag) in &shipments {
            if m == month {
                fleet.ship(c, units, lag);
            }
        }
    }
    assert_eq!(
        arrived_at,
        vec![(1, a, 5), (5, a, 18), (5, b, 13), (9, b, 17), (10, a, 19)]
    );
    assert_eq!(fleet.units[a], 5 + 18 + 19);
    assert_eq!(fleet.units[b], 13 + 17);
    assert_eq!(fleet.in_transit[a] + fleet.in_transit[b], 0);

    // A ban in month 14 before the month's arrivals: shipments of 10 (due now) and 25 (due in two months).
    fleet.open_month(Month(13));
    fleet.ship(a, 10, 1);
    fleet.ship(a, 25, 3);
    fleet.open_month(Month(14));
    // Rounded per month's shipments: 4 of 10 and 10 of 25.
    assert_eq!(fleet.divert_arrivals(a, 0.4), 14);
    fleet.in_transit[a] -= 14;
    fleet.land_arrivals();
    assert_eq!(fleet.arrived[a], 6);
    for month in 15..17 {
        fleet.open_month(Month(month));
        fleet.land_arrivals();
    }
    assert_eq!(fleet.arrived[a], 15);
    assert_eq!(fleet.in_transit[a], 0);
}

/// The rarer flows (bans, relocations, sell-offs) count the month they happen in and are cleared for the
/// next, while months without them leave them at zero.
#[test]
fn bans_relocations_and_sell_offs_count_in_their_month_only() {
    let base = crate::fixtures::small();
    let (regions, generations) = (&base.regions[..2], &base.generations[..2]);
    let mut fleet = Fleet::new(regions, generations, 1, 1);
    let (a, b) = (
        fleet.cohort_idx(Segment::KeyAccount, 0, 1),
        fleet.cohort_idx(Segment::Retail, 0, 1),
    );
    fleet.open_month(Month(0));
    fleet.add_units(a, 100);
    fleet.ship(a, 30, 1);
    fleet.open_month(Month(1));
    let diverted = fleet.divert_arrivals(a, 0.5);
    fleet.stop_at_ban(a, 40, diverted);
    fleet.sell_off(a, b, 25);
    fleet.relocate_in(b, 7);
    assert_eq!(
        (fleet.banned()[a], fleet.diverted()[a], fleet.in_transit[a]),
        (40, 15, 15)
    );
    assert_eq!(
        (fleet.sold_off()[a], fleet.taken_over()[b], fleet.relocated_in()[b]),
        (25, 25, 7)
    );
    assert_eq!((fleet.units[a], fleet.units[b]), (100 - 40 - 25, 25 + 7));
    for month in 2..4 {
        fleet.open_month(Month(month));
        let flows = [
            fleet.banned(),
            fleet.diverted(),
            fleet.sold_off(),
            fleet.taken_over(),
            fleet.relocated_in(),
        ];
        assert!(flows.iter().all(|f| f.iter().all(|&n| n == 0)), "month {month}");
    }
}

#[test]
fn cohort_indices_round_trip() {
    let region = |name: &str| RegionParams {
        name: name.into(),
        fleet_share: 1.0 / 3.0,
        power_price_base_usd_per_kwh: 0.05,
        power_price_volatility_log_per_month: 0.05,
        power_price_reversion_per_month: 0.2,
        site_power_price_dispersion_log: 0.3,
        opex_share_of_power: 0.2,
        segment_fleet_shares: [1.0 / 3.0; 2],
        hosting_capacity_mw: f64::INFINITY,
        capacity_growth_share_per_month: 0.0,
        capacity_build_trigger_share: 1.0,
        import_tariffs: Vec::new(),
        hazards: Default::default(),
        ai_power_demand_mw_per_year: 0.0,
        ai_power_price_elasticity: 0.0,
    };
    let generation = |k: i64| GenerationParams {
        name: format!("G{k}"),
        release: crate::units::YearMonth { year: 2020, month: 1 },
        release_month_offset: 12 * k,
        hashrate_ths: 100.0 * (k + 1) as f64,
        power_w: 3000.0,
        price_new_usd: 2000.0,
    };
    let regions = [region("A"), region("B"), region("C")];
    let generations: Vec<_> = (0..4).map(generation).collect();
    let fleet = Fleet::new(&regions, &generations, 6, 1);
    assert_eq!(fleet.n_cohorts(), 2 * 3 * 4);
    for c in 0..fleet.n_cohorts() {
        let (s, r, g) = fleet.cohort_parts(c);
        assert_eq!(fleet.cohort_idx(s, r, g), c);
        assert_eq!(fleet.cohort_idx(s, 0, g) + r * fleet.region_stride(), c);
    }
}
