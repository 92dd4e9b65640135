//! Manufacturers' other lines (issue 28): production outside the main origin against tariffs, hosting, an
//! AI-chip unit and self-mining abroad, through the real engine and the scenario reader.

use hashcycle_model::params::{Params, ProductionLineParams};
use hashcycle_model::record::{EventKind, Subject};

use crate::support::{hashcycle, i, params_with, run_path, scenario_path, temp_dir};

fn maker_idx(params: &Params, name: &str) -> usize {
    params.manufacturers.iter().position(|m| m.name == name).unwrap()
}

fn region_idx(params: &Params, name: &str) -> usize {
    params.regions.iter().position(|r| r.name == name).unwrap()
}

fn origin_idx(params: &mut Params, name: &str) -> usize {
    match params.origins.iter().position(|o| o == name) {
        Some(o) => o,
        None => {
            params.origins.push(name.to_string());
            params.origins.len() - 1
        }
    }
}

/// The base scenario over three years with a 25% US tariff on Chinese-made machines from the start, and a
/// US line for Canaan of 6,000 machines a month (20% dearer) taking `onshore_share` of its assembly.
fn tariffed_base(onshore_share: f64) -> Params {
    let mut params = params_with("base", &[("simulation.horizon_months", i(36))]);
    let china = origin_idx(&mut params, "china");
    let us_origin = origin_idx(&mut params, "us");
    let us = region_idx(&params, "us");
    params.regions[us].import_tariffs.push((china, 0.25));
    let canaan = maker_idx(&params, "canaan");
    let m = &mut params.manufacturers[canaan];
    m.production_lines.push(ProductionLineParams {
        origin_idx: us_origin,
        capacity_units_per_month: 6_000,
        unit_cost_uplift_share: 0.2,
        from_month_offset: 0,
        fixed_cost_usd_per_month: 5e5,
    });
    m.strategy.onshore_share = onshore_share;
    params
}

/// Units a manufacturer signed futures for, in one region and in all, over a path.
fn futures_units(rows: &hashcycle_model::record::Collect, m_idx: usize, region: usize) -> (u64, u64) {
    let signed = rows
        .events
        .iter()
        .filter(|e| e.kind == EventKind::ContractSigned && e.subject == Subject::Manufacturer(m_idx));
    let (mut here, mut all) = (0, 0);
    for e in signed {
        all += e.units;
        if e.region_idx == Some(region) {
            here += e.units;
        }
    }
    (here, all)
}

/// With a US tariff on the main origin, a manufacturer that assembles part of its output in the US sells a
/// larger share of its machines to US buyers than the same manufacturer making everything in China, on the
/// same paths: its US buyers see the untaxed landed price for the onshore machines and are served from them
/// first. The duties its buyers pay per machine fall too.
#[test]
fn onshore_production_raises_the_tariffed_regions_share_of_the_makers_sales() {
    let (china_only, with_line) = (tariffed_base(0.0), tariffed_base(0.4));
    let canaan = maker_idx(&china_only, "canaan");
    let us = region_idx(&china_only, "us");
    let (mut us_without, mut all_without, mut us_with, mut all_with) = (0, 0, 0, 0);
    let (mut duty_without, mut duty_with, mut sold_without, mut sold_with) = (0.0, 0.0, 0u64, 0u64);
    let mut onshore_made = 0;
    for path_idx in 0..6 {
        let (a, _) = run_path(&china_only, path_idx);
        let (b, _) = run_path(&with_line, path_idx);
        let (here, all) = futures_units(&a, canaan, us);
        (us_without, all_without) = (us_without + here, all_without + all);
        let (here, all) = futures_units(&b, canaan, us);
        (us_with, all_with) = (us_with + here, all_with + all);
        for (rows, duty, sold) in [
            (&a, &mut duty_without, &mut sold_without),
            (&b, &mut duty_with, &mut sold_with),
        ] {
            for r in rows.manufacturers.iter().filter(|r| r.manufacturer_idx == canaan) {
                *duty += r.tariffs_on_sales_usd;
                *sold += r.units_sold_spot + r.units_delivered;
            }
        }
        assert!(a.manufacturers.iter().all(|r| r.units_produced_onshore == 0));
        onshore_made += b
            .manufacturers
            .iter()
            .filter(|r| r.manufacturer_idx == canaan)
            .map(|r| r.units_produced_onshore)
            .sum::<u64>();
    }
    assert!(onshore_made > 0, "the US line made machines");
    let share = |here: u64, all: u64| here as f64 / all.max(1) as f64;
    let (without, with) = (share(us_without, all_without), share(us_with, all_with));
    eprintln!(
        "canaan's futures to the US: {us_without}/{all_without} = {without:.3} made in China only, {us_with}/{all_with} = {with:.3} with the US line"
    );
    assert!(
        with > without * 1.05,
        "the US share of canaan's futures: {with:.3} with a US line, {without:.3} without"
    );
    let per_unit = |duty: f64, sold: u64| duty / sold.max(1) as f64;
    assert!(
        per_unit(duty_with, sold_with) < per_unit(duty_without, sold_without),
        "duties per machine sold: {} with the line, {} without",
        per_unit(duty_with, sold_with),
        per_unit(duty_without, sold_without)
    );
}

/// Hosting and an AI-chip unit move cash every month and reach the path's tallies; the AI-chip unit earns
/// until its exit month, pays its exit cost then and nothing after. The engine's money checks run every month;
/// the rows and the outcome add up on their own too.
#[test]
fn hosting_and_an_ai_chip_unit_flow_through_cash_and_the_unit_stops_at_its_exit_month() {
    let mut params = params_with("base", &[("simulation.horizon_months", i(18))]);
    let canaan = maker_idx(&params, "canaan");
    let m = &mut params.manufacturers[canaan];
    m.hosting_mw = 150.0;
    m.hosting_price_usd_per_mw_month = 51_000.0;
    m.hosting_cost_usd_per_mw_month = 40_000.0;
    m.ai_chip_revenue_usd_per_month = 75_000.0;
    m.ai_chip_opex_usd_per_month = 2.3e6;
    m.ai_chip_exit_month_offset = Some(8);
    m.ai_chip_exit_cost_usd = 4e6;
    let (rows, summary) = run_path(&params, 3);
    let mine: Vec<_> = rows
        .manufacturers
        .iter()
        .filter(|r| r.manufacturer_idx == canaan)
        .collect();
    assert_eq!(mine.len(), 18);
    let mut cash = params.manufacturers[canaan].cash_usd;
    for r in &mine {
        let month = r.month.0;
        assert_eq!(r.hosting_revenue_usd, 150.0 * 51_000.0, "month {month}");
        assert_eq!(r.hosting_cost_usd, 150.0 * 40_000.0, "month {month}");
        let (revenue, opex) = match month {
            ..8 => (75_000.0, 2.3e6),
            8 => (0.0, 4e6),
            _ => (0.0, 0.0),
        };
        assert_eq!(
            (r.ai_chip_revenue_usd, r.ai_chip_opex_usd),
            (revenue, opex),
            "month {month}"
        );
        if month > 0 {
            let change = r.cash_usd - cash;
            assert!(
                (change - (r.cash_in_usd - r.cash_out_usd)).abs() < 1e-6 * r.cash_in_usd.max(1.0),
                "month {month}"
            );
        }
        cash = r.cash_usd;
    }
    let outcome = &summary.manufacturers[canaan];
    let other_revenue: f64 = mine.iter().map(|r| r.hosting_revenue_usd + r.ai_chip_revenue_usd).sum();
    let other_cost: f64 = mine.iter().map(|r| r.hosting_cost_usd + r.ai_chip_opex_usd).sum();
    assert!((outcome.other_lines_revenue_usd - other_revenue).abs() < 1e-3);
    assert!((outcome.other_lines_cost_usd - other_cost).abs() < 1e-3);
    let end = outcome.start_cash_usd + outcome.cash_received_usd() - outcome.cash_paid_usd();
    assert!(
        (end - outcome.end_cash_usd).abs() < 1e-6 * outcome.cash_received_usd(),
        "the waterfall's tallies give the ending cash"
    );
    // The other lines are the only difference from the plain scenario's first month for Canaan's cash.
    let plain = params_with("base", &[("simulation.horizon_months", i(1))]);
    let (plain_rows, _) = run_path(&plain, 3);
    let plain_first = plain_rows
        .manufacturers
        .iter()
        .find(|r| r.manufacturer_idx == canaan)
        .unwrap();
    let net = 150.0 * (51_000.0 - 40_000.0) + 75_000.0 - 2.3e6;
    assert!((mine[0].cash_usd - plain_first.cash_usd - net).abs() < 1.0);
}

/// Self-mining abroad pays the region's power price with its opex share, and a ban there stops the banned
/// share of the fleet; without a region it runs at the flat price as before.
#[test]
fn self_mining_abroad_pays_the_regions_power_and_stops_under_its_ban() {
    let base = params_with("base", &[("simulation.horizon_months", i(24))]);
    let canaan = maker_idx(&base, "canaan");
    let russia = region_idx(&base, "russia");
    let mut abroad = base.clone();
    abroad.manufacturers[canaan].self_mining_region_idx = Some(russia);
    for m in &mut abroad.manufacturers {
        m.strategy.self_mine_share_per_month = 1.0;
    }
    // Every path's self-mining, at home and abroad; the power cost per running TH/s follows the region.
    let (mut ths_abroad, mut cost_abroad) = (0.0, 0.0);
    for path_idx in 0..4 {
        let (rows, _) = run_path(&abroad, path_idx);
        for r in rows.manufacturers.iter().filter(|r| r.manufacturer_idx == canaan) {
            ths_abroad += r.self_mining_ths;
            cost_abroad += r.self_mining_power_cost_usd;
        }
    }
    if ths_abroad > 0.0 {
        assert!(cost_abroad > 0.0);
    }
    // A full ban in the region from the second month stops the fleet there.
    let mut banned = abroad.clone();
    banned.events.push(hashcycle_model::params::ScriptedEvent {
        month: hashcycle_model::units::Month(1),
        at: banned.simulation.start,
        kind: hashcycle_model::params::ScriptedEventKind::Ban {
            region_idx: russia,
            share: 1.0,
        },
    });
    for path_idx in 0..4 {
        let (rows, _) = run_path(&banned, path_idx);
        for r in rows
            .manufacturers
            .iter()
            .filter(|r| r.manufacturer_idx == canaan && r.month.0 >= 1)
        {
            assert_eq!(r.self_mining_ths, 0.0, "month {}", r.month.0);
        }
    }
}

/// Writes base.toml with textual replacements into a fresh directory and checks it; returns stderr.
fn rejected(tag: &str, replacements: &[(&str, &str)]) -> (String, String) {
    let mut text = std::fs::read_to_string(scenario_path("base")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "fixture text `{from}` not found");
        text = text.replacen(from, to, 1);
    }
    let dir = temp_dir(tag);
    let file = dir.join("broken.toml");
    std::fs::write(&file, &text).unwrap();
    let check = hashcycle(&["check", file.to_str().unwrap()], &dir);
    assert_eq!(check.status.code(), Some(1), "{tag}");
    let stderr = String::from_utf8_lossy(&check.stderr).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    (text, stderr)
}

fn location_of(text: &str, needle: &str) -> String {
    let offset = text.find(needle).unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    format!("broken.toml:{line}:")
}

/// Every new key is validated where it is written, with its valid range or the names it may take.
#[test]
fn other_lines_inputs_are_rejected_where_they_are_written_with_their_range() {
    let line = "[[manufacturers.production_lines]]\norigin = \"china\"\ncapacity_units_per_month = -5\nunit_cost_uplift_share = 12\n\n[[manufacturers.roadmap]]\ngeneration = \"S21 XP\"";
    let (text, stderr) = rejected(
        "makers-lines",
        &[
            ("[[manufacturers.roadmap]]\ngeneration = \"S21 XP\"", line),
            ("hosting_mw = 0  ", "hosting_mw = -3  "),
            ("onshore_share = 0.0 ", "onshore_share = 1.5 "),
            (
                "self_mining_power_price_usd_per_kwh = 0.045",
                "self_mining_region = \"mars\"\nself_mining_power_price_usd_per_kwh = 0.045",
            ),
            (
                "ai_chip_exit_cost_usd = 0 ",
                "ai_chip_exit_month = \"2025-13\"\nai_chip_exit_cost_usd = 0 ",
            ),
        ],
    );
    for (needle, message) in [
        ("origin = \"china\"\ncapacity", "is the manufacturer's own origin"),
        (
            "capacity_units_per_month = -5",
            "must be a whole number in [0, 1000000000]",
        ),
        ("unit_cost_uplift_share = 12", "must be in [0, 10]"),
        ("hosting_mw = -3", "must be in [0, 1000000]"),
        ("onshore_share = 1.5", "must be in [0, 1]"),
        ("self_mining_region = \"mars\"", "region \"mars\", which is not defined"),
        ("ai_chip_exit_month = \"2025-13\"", "is not a month"),
    ] {
        let at = location_of(&text, needle);
        let line = stderr
            .lines()
            .find(|l| l.contains(&at))
            .unwrap_or_else(|| panic!("{at} missing from\n{stderr}"));
        assert!(line.contains(message), "`{message}` missing from `{line}` in\n{stderr}");
    }
}

/// A manufacturer with no assembly capacity and no wafers in flight (one selling off its stock) is valid: it
/// orders no wafers, so nothing waits in work in progress, and it only sells what it held at the start.
#[test]
fn a_manufacturer_without_capacity_or_wafers_in_flight_only_sells_its_stock() {
    let params = params_with(
        "base",
        &[
            ("simulation.horizon_months", i(24)),
            ("manufacturers.microbt.capacity_units_per_month", i(0)),
            ("manufacturers.microbt.initial_wafer_units_per_month", i(0)),
        ],
    );
    let microbt = maker_idx(&params, "microbt");
    let (rows, _) = run_path(&params, 1);
    let mine: Vec<_> = rows
        .manufacturers
        .iter()
        .filter(|r| r.manufacturer_idx == microbt)
        .collect();
    assert_eq!(mine.len(), 24);
    let initial_units = params.manufacturers[microbt].initial_inventory_units;
    for r in &mine {
        assert_eq!(r.wip_units, 0, "month {}", r.month.0);
        assert!(r.inventory_units <= initial_units, "month {}", r.month.0);
    }
}
