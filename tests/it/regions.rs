//! Regions and regulation shocks: bans with relocation, tariffs, hazards, and the China 2021 case.

use hashcycle_model::engine::simulate_path;
use hashcycle_model::params::Params;
use hashcycle_model::record::{Collect, EventKind, Subject};

use crate::support::{events_of, f, i, params_with, params_with_text, run_path, s, with_calm};

/// A base world with the US holding half of the starting fleet, and a full US ban in July 2025.
fn half_in_us_banned(extra: &str, changes: &[(&'static str, hashcycle::scenario::raw::Value)]) -> Params {
    let mut all = with_calm(&[
        ("simulation.horizon_months", i(24)),
        ("regions.us.fleet_share", f(0.50)),
        ("regions.china.fleet_share", f(0.05)),
    ]);
    all.extend(changes.iter().cloned());
    let ban = "[[events]]\nmonth = \"2025-07\"\nkind = \"ban\"\nregion = \"us\"\nshare = 1.0\n";
    params_with_text("base", &format!("{ban}\n{extra}"), &all)
}

fn region_idx(params: &Params, name: &str) -> usize {
    params.regions.iter().position(|r| r.name == name).unwrap()
}

#[test]
fn a_ban_on_half_the_hashrate_halves_it_then_difficulty_falls_and_relocation_restores_it() {
    let params = half_in_us_banned("", &[]);
    let us = region_idx(&params, "us");
    let (rows, _) = run_path(&params, 0);
    let us_running_share = {
        let before: Vec<_> = rows.regions.iter().filter(|r| r.month.0 == 5).collect();
        let total: f64 = before.iter().map(|r| r.hashrate_ehs).sum();
        before.iter().find(|r| r.region_idx == us).unwrap().hashrate_ehs / total
    };
    assert!(
        (0.45..0.55).contains(&us_running_share),
        "the US runs about half: {us_running_share}"
    );
    let (h5, h6) = (rows.network[5].hashrate_ehs, rows.network[6].hashrate_ehs);
    let drop = 1.0 - h6 / h5;
    assert!(
        (drop - us_running_share).abs() < 0.06,
        "hashrate fell {drop:.3}, the US ran {us_running_share:.3}"
    );
    let us_rows: Vec<_> = rows.regions.iter().filter(|r| r.region_idx == us).collect();
    assert_eq!(
        us_rows[6].hashrate_ehs, 0.0,
        "nothing runs in the banned region: {:?}",
        us_rows[6]
    );
    assert!(us_rows[6].units_relocating > 0);
    // Difficulty falls at the next retargets.
    let difficulty_before = rows.network[5].difficulty;
    let retarget = rows
        .events
        .iter()
        .find(|e| e.kind == EventKind::Retarget && e.month.0 >= 6)
        .unwrap();
    assert!(retarget.value < difficulty_before);
    // After the relocation lag, machines run elsewhere and hashrate recovers.
    let lag = params.relocation.lag_months as usize;
    let relocated: u64 = rows.regions.iter().map(|r| r.units_relocated_in).sum();
    assert!(relocated > 0, "machines relocate");
    assert!(
        rows.regions
            .iter()
            .filter(|r| r.units_relocated_in > 0)
            .all(|r| r.month.idx() >= 6 + lag)
    );
    assert!(
        rows.network[6 + lag + 1].hashrate_ehs > 1.5 * h6,
        "recovery after the lag"
    );
}

#[test]
fn machines_are_conserved_through_relocation() {
    // Limited capacity elsewhere: some machines relocate, some are stranded and sold or scrapped.
    let params = half_in_us_banned(
        "",
        &[
            ("regions.china.hosting_capacity_mw", f(1200.0)),
            ("regions.russia.hosting_capacity_mw", f(2500.0)),
            ("regions.canada_nordics.hosting_capacity_mw", f(1500.0)),
            ("regions.other.hosting_capacity_mw", f(3500.0)),
            ("relocation.max_wait_months", i(6)),
        ],
    );
    for path_idx in 0..6 {
        let (rows, _) = run_path(&params, path_idx);
        let stopped: u64 = rows.regions.iter().map(|r| r.units_banned).sum();
        let relocated: u64 = rows.regions.iter().map(|r| r.units_relocated_in).sum();
        let stranded: u64 = events_of(&rows, EventKind::MachinesStranded).map(|e| e.units).sum();
        let completed: u64 = events_of(&rows, EventKind::RelocationCompleted).map(|e| e.units).sum();
        let queued_delivered: u64 = rows.regions.iter().map(|r| r.units_queued).sum();
        let waiting: u64 = rows
            .regions
            .iter()
            .filter(|r| r.month.0 == 23)
            .map(|r| r.units_relocating)
            .sum();
        assert!(
            stopped > 0 && stranded > 0 && relocated > 0,
            "the test needs every outcome: {stopped} {relocated} {stranded}"
        );
        assert_eq!(relocated, completed);
        assert_eq!(
            stopped + queued_delivered,
            relocated + stranded + waiting,
            "path {path_idx}"
        );
    }
}

fn contracted_units(rows: &Collect, params: &Params, maker: &str, region: &str) -> u64 {
    let m = params.manufacturers.iter().position(|x| x.name == maker).unwrap();
    let r = region_idx(params, region);
    rows.events
        .iter()
        .filter(|e| {
            e.kind == EventKind::ContractSigned && e.subject == Subject::Manufacturer(m) && e.region_idx == Some(r)
        })
        .map(|e| e.units)
        .sum()
}

#[test]
fn a_tariff_lowers_a_regions_purchases_from_the_affected_maker() {
    // Canaan assembles in the US; a US tariff on Chinese-made machines shifts US buyers towards it.
    let changes = [
        ("simulation.horizon_months", i(36)),
        ("manufacturers.canaan.origin", s("us")),
    ];
    let tariff =
        "[[events]]\nmonth = \"2025-03\"\nkind = \"tariff\"\nregion = \"us\"\norigin = \"china\"\nrate_share = 0.6\n";
    let with_tariff = params_with_text("base", tariff, &changes);
    let without = params_with_text("base", "", &changes);
    let (mut bitmain_with, mut bitmain_without, mut canaan_with, mut canaan_without) = (0, 0, 0, 0);
    for path_idx in 0..8 {
        let (a, _) = run_path(&with_tariff, path_idx);
        let (b, _) = run_path(&without, path_idx);
        bitmain_with += contracted_units(&a, &with_tariff, "bitmain", "us");
        bitmain_without += contracted_units(&b, &without, "bitmain", "us");
        canaan_with += contracted_units(&a, &with_tariff, "canaan", "us");
        canaan_without += contracted_units(&b, &without, "canaan", "us");
        assert!(a.events.iter().any(|e| e.kind == EventKind::Tariff));
    }
    assert!(
        bitmain_with < bitmain_without * 8 / 10,
        "bitmain in the US: {bitmain_with} with the tariff, {bitmain_without} without"
    );
    let share = |c: u64, b: u64| c as f64 / (b + c).max(1) as f64;
    assert!(
        share(canaan_with, bitmain_with) > share(canaan_without, bitmain_without),
        "US buyers turn to the local assembler"
    );
    let regions = &run_path(&with_tariff, 0).0.regions;
    let us = region_idx(&with_tariff, "us");
    assert!(
        regions
            .iter()
            .filter(|r| r.region_idx == us && r.month.0 >= 2)
            .all(|r| r.max_tariff_share == 0.6)
    );
}

#[test]
fn zero_hazards_give_the_same_results_as_no_shock_settings() {
    let horizon = [("simulation.horizon_months", i(36))];
    let plain = params_with("base", &horizon);
    let mut zero = horizon.to_vec();
    for region in ["us", "china", "russia", "canada_nordics", "other"] {
        let key = |k: &str| -> &'static str { Box::leak(format!("regions.{region}.{k}").into_boxed_str()) };
        zero.push((key("ban_hazard_per_month"), f(0.0)));
        zero.push((key("tariff_hazard_per_month"), f(0.0)));
    }
    // Overrides must name existing keys: add them to the text first.
    let text_with_keys = std::fs::read_to_string(crate::support::scenario_path("base"))
        .unwrap()
        .replace("opex_share_of_power = 0.20                  #", "ban_hazard_per_month = 0.0\ntariff_hazard_per_month = 0.0\npower_shock_hazard_per_month = 0.0\ntightening_hazard_per_month = 0.0\nopex_share_of_power = 0.20                  #");
    let dir = crate::support::temp_dir("zero-hazard");
    let file = dir.join("zero.toml");
    std::fs::write(
        &file,
        text_with_keys.replace(
            "\"../data/",
            &format!("\"{}/data/", crate::support::project_dir().display()),
        ),
    )
    .unwrap();
    let zero_params = {
        let text = std::fs::read_to_string(&file).unwrap();
        let (mut tree, _) = hashcycle::scenario::raw::parse(&text);
        crate::support::apply(&mut tree, &horizon);
        let mut params = hashcycle::scenario::Scenario::from_tree(tree, &text, "zero.toml", &dir, Default::default())
            .unwrap()
            .params;
        // As `params_with` does for `plain`: every path at the stated values.
        params.uncertainty.clear();
        params
    };
    assert!(zero_params.regions[0].hazards.ban_per_month == 0.0);
    let mut hazardous = zero_params.clone();
    hazardous.regions[1].hazards.ban_per_month = 0.2;
    for path_idx in 0..4 {
        let mut a = Collect::default();
        let mut b = Collect::default();
        let mut c = Collect::default();
        simulate_path(&plain, path_idx, &mut a);
        simulate_path(&zero_params, path_idx, &mut b);
        simulate_path(&hazardous, path_idx, &mut c);
        let fingerprint = |rows: &Collect| -> Vec<(u64, u64, u64)> {
            rows.network
                .iter()
                .map(|r| (r.price_usd.to_bits(), r.hashrate_ehs.to_bits(), r.block_height))
                .collect()
        };
        assert_eq!(fingerprint(&a), fingerprint(&b), "path {path_idx}");
        let cash = |rows: &Collect| {
            rows.manufacturers
                .iter()
                .map(|r| r.cash_usd.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(cash(&a), cash(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c), "a real hazard changes things");
        // Prices come from their own stream: shocks never move them.
        assert_eq!(
            a.network.iter().map(|r| r.price_usd.to_bits()).collect::<Vec<_>>(),
            c.network.iter().map(|r| r.price_usd.to_bits()).collect::<Vec<_>>()
        );
    }
    let _ = zero;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_china_2021_case_shows_the_collapse_and_the_recovery() {
    let params = params_with("china_2021", &[]);
    let mut may = vec![];
    let mut july = vec![];
    let mut december = vec![];
    for path_idx in 0..8 {
        let (rows, _) = run_path(&params, path_idx);
        may.push(rows.network[4].hashrate_ehs);
        july.push(rows.network[6].hashrate_ehs);
        december.push(rows.network[11].hashrate_ehs);
        let china = region_idx(&params, "china");
        let china_share_after = rows
            .regions
            .iter()
            .filter(|r| r.month.0 == 11)
            .map(|r| (r.region_idx == china, r.hashrate_ehs));
        let (c, t) = china_share_after.fold((0.0, 0.0), |(c, t), (is_china, h)| {
            (c + if is_china { h } else { 0.0 }, t + h)
        });
        assert!(c / t < 0.4, "China's share after the ban: {}", c / t);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (may, july, december) = (median(&mut may), median(&mut july), median(&mut december));
    // Real: 161 EH/s in May 2021, 100 in July, 173 in December.
    assert!(july < 0.75 * may, "collapse: {may} -> {july}");
    assert!(december > 1.3 * july, "recovery: {july} -> {december}");
}
