//! Conservation checks run at the end of every month of every path, one function per law.
//!
//! They compare what agents hold with what the recorded flows say they should hold: machines, futures
//! contracts, money, dealers' stock, cohorts and BTC. A failure is a modelling bug; the engine stops that
//! path and reports the month and the quantities that disagree, while the other paths carry on. The
//! checks run in a fixed order (BTC, then each manufacturer's money, machines and futures, then the miners'
//! and dealers' money, dealers' machines, the relocation pool and the cohorts), so a month breaking several
//! laws always reports the same one.
#![warn(missing_docs)]

use crate::market::network::{MAX_SUPPLY_SATS, issued_sats_through};
use crate::record::Violation;
use crate::world::World;

/// Money may differ from its flows by rounding only. `scale` must bound every amount that was added up:
/// the opening balance and every flow, since rounding error grows with the largest term, not the result
/// (a dealer starting with $9e12 and spending nearly all of it ends within a few cents of exact).
fn money_tolerance(scale: f64) -> f64 {
    1e-6 * scale.abs().max(1.0) + 1e-6
}

fn violation(w: &World, what: String, expected: f64, actual: f64) -> Violation {
    Violation {
        month: w.month,
        what,
        expected,
        actual,
    }
}

/// Checks the month, then rolls the ledger's tallies forward whatever the outcome, so the next month
/// starts from here.
pub fn check_month(w: &mut World) -> Result<(), Violation> {
    let result = check_all(w);
    close_month(w);
    result
}

/// Rolls the ledger's tallies forward without checking the month (see `Sink::CHECK_EVERY_MONTH`).
pub fn close_month(w: &mut World) {
    w.ledger.close_month(&w.dealer, &w.fleet);
}

fn check_all(w: &World) -> Result<(), Violation> {
    check_btc(w)?;
    for m_idx in 0..w.manufacturers.len() {
        check_manufacturer_money(w, m_idx)?;
        check_manufacturer_machines(w, m_idx)?;
        check_manufacturer_origins(w, m_idx)?;
        check_futures(w, m_idx)?;
        check_stock_values(w, m_idx)?;
        check_foundry_bookings(w, m_idx)?;
    }
    check_customer_advances(w)?;
    check_miners_and_dealers_money(w)?;
    check_key_account_firms(w)?;
    check_dealers_machines(w)?;
    check_relocation(w)?;
    check_sites(w)?;
    check_cohorts(w)
}

/// BTC: issuance matches the subsidy schedule and never exceeds 21 million; price and difficulty stay finite
/// and positive.
fn check_btc(w: &World) -> Result<(), Violation> {
    let ledger = &w.ledger;
    let expected_sats = issued_sats_through(w.network.height) - issued_sats_through(ledger.start_height);
    if ledger.issued_sats_total != expected_sats {
        return Err(violation(
            w,
            "btc issued != subsidy schedule".into(),
            expected_sats as f64,
            ledger.issued_sats_total as f64,
        ));
    }
    if issued_sats_through(w.network.height) > MAX_SUPPLY_SATS {
        return Err(violation(
            w,
            "btc supply above 21 million".into(),
            MAX_SUPPLY_SATS as f64,
            issued_sats_through(w.network.height) as f64,
        ));
    }
    if !w.price.price_usd().is_finite() || !w.network.difficulty.is_finite() || w.network.difficulty <= 0.0 {
        return Err(violation(
            w,
            "price or difficulty not finite and positive".into(),
            0.0,
            w.price.price_usd(),
        ));
    }
    Ok(())
}

/// Money, for a manufacturer: its cash change equals its recorded flows, and its cash equals its starting
/// cash plus the path's cash tallies.
fn check_manufacturer_money(w: &World, m_idx: usize) -> Result<(), Violation> {
    let (m, ledger) = (&w.manufacturers[m_idx], &w.ledger);
    let f = m.flows();
    let expected_cash = ledger.manufacturer_cash_open_usd[m_idx] + f.cash_in_usd() - f.cash_out_usd();
    let open_usd = ledger.manufacturer_cash_open_usd[m_idx].abs();
    if !m.cash_usd().is_finite()
        || (m.cash_usd() - expected_cash).abs()
            > money_tolerance(open_usd + expected_cash.abs() + f.cash_in_usd() + f.cash_out_usd())
    {
        let name = &w.params.manufacturers[m_idx].name;
        return Err(violation(
            w,
            format!("manufacturer {name}: cash change != recorded flows"),
            expected_cash,
            m.cash_usd(),
        ));
    }
    // The path's tallies add up to the same cash: the cash waterfall of a sweep rests on them.
    let t = m.totals();
    let (received, paid) = (t.cash_received_usd(), t.cash_paid_usd());
    let expected_cash = t.start_cash_usd + received - paid;
    if (m.cash_usd() - expected_cash).abs() > money_tolerance(t.start_cash_usd.abs() + received + paid) {
        let name = &w.params.manufacturers[m_idx].name;
        return Err(violation(
            w,
            format!("manufacturer {name}: cash != starting cash + path's cash tallies"),
            expected_cash,
            m.cash_usd(),
        ));
    }
    Ok(())
}

/// Machines: initial stock + produced + recovered = delivered + sold + self-mined + scrapped + stock.
fn check_manufacturer_machines(w: &World, m_idx: usize) -> Result<(), Violation> {
    let m = &w.manufacturers[m_idx];
    let t = m.totals();
    let sources = w.ledger.initial_inventory_units[m_idx] + t.units_produced + t.units_recovered;
    let uses = t.units_delivered
        + t.units_sold_spot
        + t.units_sold_dealers
        + t.units_self_mined
        + t.units_scrapped
        + m.inventory_units();
    if sources != uses {
        let name = &w.params.manufacturers[m_idx].name;
        return Err(violation(
            w,
            format!(
                "manufacturer {name}: machines produced + recovered != delivered + sold + self-mined + scrapped + inventory"
            ),
            sources as f64,
            uses as f64,
        ));
    }
    Ok(())
}

/// Machines by origin: each generation's stock by origin adds up to its stock; for each origin, units in
/// (at the start, produced, recovered) less units out equal its stock; and the units produced by origin add
/// up to those produced.
fn check_manufacturer_origins(w: &World, m_idx: usize) -> Result<(), Violation> {
    let m = &w.manufacturers[m_idx];
    let book = m.origins();
    let name = &w.params.manufacturers[m_idx].name;
    for (g, stock) in m.stock.iter().enumerate() {
        let by_origin = book.generation_units(g);
        if by_origin != stock.units {
            return Err(violation(
                w,
                format!("manufacturer {name}: generation {g} stock by origin != stock"),
                stock.units as f64,
                by_origin as f64,
            ));
        }
    }
    let mut produced = 0;
    for s in 0..book.n_slots() {
        let (units_in, units_out, units_produced) = book.slot_tallies(s);
        produced += units_produced;
        let held = book.slot_units(s);
        if units_in.checked_sub(units_out) != Some(held) {
            let origin = &w.params.origins[book.slot_origin(s)];
            return Err(violation(
                w,
                format!("manufacturer {name}: machines made in {origin}: in - out != stock"),
                units_in as f64 - units_out as f64,
                held as f64,
            ));
        }
    }
    if produced != m.totals().units_produced {
        return Err(violation(
            w,
            format!("manufacturer {name}: machines produced by origin != produced"),
            m.totals().units_produced as f64,
            produced as f64,
        ));
    }
    Ok(())
}

/// Futures: every contracted unit is delivered, walked away, refunded or pending, contract by contract and
/// in the tallies; prepayments received = applied + forfeited + refunded + held.
fn check_futures(w: &World, m_idx: usize) -> Result<(), Violation> {
    let m = &w.manufacturers[m_idx];
    let name = &w.params.manufacturers[m_idx].name;
    let t = m.totals();
    let (mut open_units, mut open_delivered, mut open_walked) = (0u64, 0u64, 0u64);
    for c in &m.futures {
        let accounted = c.units_delivered + c.units_walked + c.units_refunded;
        let in_parts: u64 = c.parts.iter().map(|p| p.units_left).sum();
        if in_parts != c.units_total.saturating_sub(accounted) {
            return Err(violation(
                w,
                format!(
                    "manufacturer {name}: contract {} region parts != units pending",
                    c.contract_id
                ),
                c.units_total.saturating_sub(accounted) as f64,
                in_parts as f64,
            ));
        }
        if accounted > c.units_total || c.units_due_to_date > c.units_total {
            return Err(violation(
                w,
                format!("manufacturer {name}: contract {} over-resolved", c.contract_id),
                c.units_total as f64,
                accounted as f64,
            ));
        }
        open_units += c.units_total;
        open_delivered += c.units_delivered;
        open_walked += c.units_walked;
    }
    let contracted = t.units_closed_delivered + t.units_closed_walked + t.units_closed_refunded + open_units;
    if contracted != t.units_contracted {
        return Err(violation(
            w,
            format!("manufacturer {name}: contracted units != closed + open"),
            t.units_contracted as f64,
            contracted as f64,
        ));
    }
    if t.units_closed_delivered + open_delivered != t.units_delivered {
        return Err(violation(
            w,
            format!("manufacturer {name}: units delivered on contracts != deliveries"),
            t.units_delivered as f64,
            (t.units_closed_delivered + open_delivered) as f64,
        ));
    }
    if t.units_closed_walked + open_walked != t.units_walked {
        return Err(violation(
            w,
            format!("manufacturer {name}: units walked on contracts != walk-aways"),
            t.units_walked as f64,
            (t.units_closed_walked + open_walked) as f64,
        ));
    }
    let accounted =
        t.prepayments_applied_usd + t.prepayments_forfeited_usd + t.prepayments_refunded_usd + m.prepay_held_usd();
    if (accounted - t.prepayments_received_usd).abs() > money_tolerance(t.prepayments_received_usd) {
        return Err(violation(
            w,
            format!("manufacturer {name}: prepayments received != applied + forfeited + refunded + held"),
            t.prepayments_received_usd,
            accounted,
        ));
    }
    Ok(())
}

/// Machines, valued: no stock is carried at a negative or non-finite value.
fn check_stock_values(w: &World, m_idx: usize) -> Result<(), Violation> {
    let m = &w.manufacturers[m_idx];
    if m.stock
        .iter()
        .any(|s| !s.book_value_usd.is_finite() || s.book_value_usd < -1e-6)
    {
        let name = &w.params.manufacturers[m_idx].name;
        return Err(violation(
            w,
            format!("manufacturer {name}: negative or non-finite stock value"),
            0.0,
            m.inventory_value_usd(),
        ));
    }
    Ok(())
}

/// Foundry capacity: the month's wafer order and the take-or-pay capacity cancelled never exceed the
/// capacity booked for the month.
fn check_foundry_bookings(w: &World, m_idx: usize) -> Result<(), Violation> {
    let m = &w.manufacturers[m_idx];
    let f = m.flows();
    let booked = m.booked_units(w.month);
    let used = f.units_wafers_ordered + f.units_booking_cancelled;
    if used > booked {
        let name = &w.params.manufacturers[m_idx].name;
        return Err(violation(
            w,
            format!("manufacturer {name}: wafers ordered + capacity cancelled > capacity booked"),
            booked as f64,
            used as f64,
        ));
    }
    Ok(())
}

/// Debts between buyers and manufacturers: the customer advances the manufacturers hold equal the
/// prepayments the buyer segments have outstanding.
fn check_customer_advances(w: &World) -> Result<(), Violation> {
    let held: f64 = w.manufacturers.iter().map(|m| m.prepay_held_usd()).sum();
    let paid: f64 = w.segments.iter().map(|s| s.prepaid_outstanding_usd()).sum();
    // The buyers' balance is a running sum: its rounding grows with all the prepayments ever made.
    let scale: f64 = w
        .manufacturers
        .iter()
        .map(|m| m.totals().prepayments_received_usd)
        .sum();
    if (held - paid).abs() > money_tolerance(scale + held.abs()) {
        return Err(violation(
            w,
            "customer advances held by manufacturers != prepayments outstanding at buyers".into(),
            paid,
            held,
        ));
    }
    Ok(())
}

/// Money, for the miners' segments and the dealers: each cash change equals the recorded flows.
fn check_miners_and_dealers_money(w: &World) -> Result<(), Violation> {
    let ledger = &w.ledger;
    for (s, books) in w.segments.iter().enumerate() {
        let flows = books.flows();
        let expected = ledger.segment_cash_open_usd[s] + flows.net_cash_usd();
        if !books.cash_usd().is_finite()
            || (books.cash_usd() - expected).abs()
                > money_tolerance(ledger.segment_cash_open_usd[s].abs() + expected.abs() + flows.gross_usd())
        {
            return Err(violation(
                w,
                format!("segment {s}: cash change != recorded flows"),
                expected,
                books.cash_usd(),
            ));
        }
    }
    let d = &w.dealer;
    let expected = ledger.dealer_cash_open_usd + d.flows().net_cash_usd();
    if !d.cash_usd().is_finite()
        || (d.cash_usd() - expected).abs()
            > money_tolerance(ledger.dealer_cash_open_usd.abs() + expected.abs() + d.flows().gross_usd())
    {
        return Err(violation(
            w,
            "dealers: cash change != recorded flows".into(),
            expected,
            d.cash_usd(),
        ));
    }
    Ok(())
}

/// Key-account firms: their cash adds up to the segment's; their debt is what they started with plus what
/// they borrowed less what they repaid and what was written off; the living firms' fleet and book shares
/// each add up to 1; every machine sold at fire-sale prices went to a surviving firm, to retail or outside
/// the fleet, and those sold outside left the cohorts; every futures machine the firms defaulted on is one a
/// manufacturer recorded.
fn check_key_account_firms(w: &World) -> Result<(), Violation> {
    let firms = &w.key_accounts;
    if !firms.enabled() {
        return Ok(());
    }
    let books = &w.segments[0];
    let cash = firms.cash_usd();
    // The firms' cash is a running sum of every amount apportioned to them since the start, so its rounding
    // grows with all of those, not with today's balances.
    let t = &firms.totals;
    let scale = books.cash_usd().abs() + books.flows().gross_usd() + firms.gross_booked_usd;
    if !cash.is_finite() || (cash - books.cash_usd()).abs() > money_tolerance(scale) {
        return Err(violation(
            w,
            "key-account firms: cash summed != segment cash".into(),
            books.cash_usd(),
            cash,
        ));
    }
    let expected_debt = t.debt_start_usd + t.debt_raised_usd - t.debt_repaid_usd - t.debt_written_off_usd;
    let debt = firms.debt_usd();
    let debt_scale = t.debt_start_usd + t.debt_raised_usd + t.debt_repaid_usd + t.debt_written_off_usd;
    if let Some(f) = firms
        .firms
        .iter()
        .find(|f| f.term_debt_usd < 0.0 || f.notes_usd < 0.0 || f.treasury_btc < 0.0)
    {
        return Err(violation(
            w,
            "key-account firms: a firm's term loans, notes or BTC below zero".into(),
            0.0,
            f.term_debt_usd.min(f.notes_usd).min(f.treasury_btc),
        ));
    }
    if !debt.is_finite() || (debt - expected_debt).abs() > money_tolerance(debt_scale) {
        return Err(violation(
            w,
            "key-account firms: debt != start + raised - repaid - written off".into(),
            expected_debt,
            debt,
        ));
    }
    if firms.firms.iter().any(|f| f.alive) {
        let fleet: f64 = firms.living().map(|f| f.fleet_share).sum();
        let book: f64 = firms.living().map(|f| f.book_share).sum();
        let out_of_range = firms.firms.iter().any(|f| {
            !(0.0..=1.0 + 1e-9).contains(&f.fleet_share)
                || !(0.0..=1.0 + 1e-9).contains(&f.book_share)
                || (!f.alive && (f.fleet_share != 0.0 || f.book_share != 0.0))
        });
        if out_of_range || (fleet - 1.0).abs() > 1e-6 || (book - 1.0).abs() > 1e-6 {
            return Err(violation(
                w,
                "key-account firms: living firms' fleet and book shares do not each add up to 1".into(),
                1.0,
                fleet.min(book),
            ));
        }
    }
    let f = &firms.flows;
    let placed = f.units_consolidated + f.units_fire_sold_retail + f.units_fire_sold_outside;
    let fleet_out: u64 = w.fleet.fire_sold().iter().sum::<u64>() + w.fleet.fire_sold_in_transit().iter().sum::<u64>();
    if f.fire_sale_units != placed || fleet_out != f.units_fire_sold_outside {
        return Err(violation(
            w,
            "key-account firms: machines fire-sold != consolidated + to retail + outside (= left the cohorts)".into(),
            f.fire_sale_units as f64,
            placed.min(fleet_out + f.units_consolidated + f.units_fire_sold_retail) as f64,
        ));
    }
    let recorded: u64 = w.manufacturers.iter().map(|m| m.flows().units_defaulted).sum();
    if recorded != f.units_defaulted {
        return Err(violation(
            w,
            "key-account firms: futures units defaulted != defaults the manufacturers recorded".into(),
            f.units_defaulted as f64,
            recorded as f64,
        ));
    }
    Ok(())
}

/// Dealers: units in = sold + returned + scrapped + stock.
fn check_dealers_machines(w: &World) -> Result<(), Violation> {
    let (d, ledger) = (&w.dealer, &w.ledger);
    let dealer_out = d.totals().units_sold
        + ledger.dealer_returned_total
        + d.flows().units_returned
        + ledger.dealer_scrapped_total
        + d.flows().units_scrapped
        + d.stock_units();
    if d.totals().units_in != dealer_out {
        return Err(violation(
            w,
            "dealers: units in != sold + returned + scrapped + stock".into(),
            d.totals().units_in as f64,
            dealer_out as f64,
        ));
    }
    Ok(())
}

/// Machines stopped by bans or displaced by conversions: stopped + queued + displaced = relocated + sold +
/// scrapped + still waiting.
fn check_relocation(w: &World) -> Result<(), Violation> {
    let t = &w.relocation_totals;
    let waiting: u64 = w.relocation.iter().map(|b| b.units).sum();
    if t.stopped + t.queued + t.displaced != t.relocated + t.sold + t.scrapped + waiting {
        return Err(violation(
            w,
            "relocation: machines stopped + queued + displaced != relocated + sold + scrapped + waiting".into(),
            (t.stopped + t.queued + t.displaced) as f64,
            (t.relocated + t.sold + t.scrapped + waiting) as f64,
        ));
    }
    Ok(())
}

/// MW may differ from their tallies by rounding only, relative to the sites involved.
fn mw_tolerance(scale_mw: f64) -> f64 {
    1e-9 * scale_mw.abs().max(1.0)
}

/// Sites, per region, in MW: the key accounts' MW converting = started − completed − returned while
/// converting, and hosting = completed − returned while hosting, each at least zero and equal to what their
/// contracts add up to; where the scenario limits the region's sites, mining (machines' sites and idle) +
/// converting + hosting + AI data centres = starting sites + built − closed by bans.
fn check_sites(w: &World) -> Result<(), Violation> {
    let (h, t) = (&w.hosting, &w.hosting.totals);
    for (r, region) in w.params.regions.iter().enumerate() {
        let name = &region.name;
        let converting = t.started_mw[r] - t.completed_mw[r] - t.returned_converting_mw[r];
        let hosting = t.completed_mw[r] - t.returned_hosting_mw[r];
        let scale = t.started_mw[r];
        let (mut contracts_converting, mut contracts_hosting) = (0.0, 0.0);
        for c in h.contracts.iter().filter(|c| c.region_idx == r) {
            if c.hosting {
                contracts_hosting += c.mw;
            } else {
                contracts_converting += c.mw;
            }
        }
        if (h.converting_mw[r] - converting).abs() > mw_tolerance(scale)
            || (h.converting_mw[r] - contracts_converting).abs() > mw_tolerance(scale)
            || h.converting_mw[r] < -mw_tolerance(scale)
        {
            return Err(violation(
                w,
                format!("region {name}: MW converting != started - completed - returned (= contracts converting)"),
                converting,
                h.converting_mw[r],
            ));
        }
        if (h.hosting_mw[r] - hosting).abs() > mw_tolerance(scale)
            || (h.hosting_mw[r] - contracts_hosting).abs() > mw_tolerance(scale)
            || h.hosting_mw[r] < -mw_tolerance(scale)
        {
            return Err(violation(
                w,
                format!("region {name}: MW hosting AI != completed - returned (= contracts hosting)"),
                hosting,
                h.hosting_mw[r],
            ));
        }
        if (h.ai_sites_mw[r] - t.ai_taken_mw[r]).abs() > mw_tolerance(t.ai_taken_mw[r]) || h.ai_unmet_mw[r] < 0.0 {
            return Err(violation(
                w,
                format!("region {name}: MW of AI data centres != MW they took"),
                t.ai_taken_mw[r],
                h.ai_sites_mw[r],
            ));
        }
        if region.hosting_capacity_mw.is_finite() {
            let sites = region.hosting_capacity_mw + w.regions.built_mw[r] - w.regions.closed_mw[r];
            let held = w.regions.capacity_mw[r] + h.converting_mw[r] + h.hosting_mw[r] + h.ai_sites_mw[r];
            if !held.is_finite()
                || w.regions.capacity_mw[r] < -mw_tolerance(sites)
                || (held - sites).abs() > mw_tolerance(sites + w.regions.closed_mw[r])
            {
                return Err(violation(
                    w,
                    format!(
                        "region {name}: MW mining + converting + hosting + AI data centres != sites at the start + built - closed"
                    ),
                    sites,
                    held,
                ));
            }
        }
    }
    Ok(())
}

/// Cohorts: units move only by arrivals, retirements and transfers; each cohort's machines in transit a
/// month before + shipped = in transit now + arrived + diverted; no cohort runs more than it has.
/// Every array is cut to the cohort count first, so the loop runs without bounds checks.
fn check_cohorts(w: &World) -> Result<(), Violation> {
    let ledger = &w.ledger;
    let fleet = &w.fleet;
    let n = fleet.n_cohorts();
    let (units, running, arrived, in_transit) = (
        &fleet.units[..n],
        &fleet.running[..n],
        &fleet.arrived[..n],
        &fleet.in_transit[..n],
    );
    let (taken_over, relocated_in, retired) = (
        &fleet.taken_over()[..n],
        &fleet.relocated_in()[..n],
        &fleet.retired[..n],
    );
    let (sold_off, banned, bought, diverted) = (
        &fleet.sold_off()[..n],
        &fleet.banned()[..n],
        &fleet.bought[..n],
        &fleet.diverted()[..n],
    );
    let (fire_sold, fire_sold_in_transit) = (&fleet.fire_sold()[..n], &fleet.fire_sold_in_transit()[..n]);
    let displaced = &fleet.displaced()[..n];
    let (units_open, in_transit_open) = (&ledger.fleet_units_open[..n], &ledger.fleet_in_transit_open[..n]);
    // Every cohort is checked without a branch; the loop that names the broken one runs only on a failure.
    // (The tallies are spelled out in both loops: a shared closure defeated the bounds-check elimination.)
    let mut mismatch = 0u64;
    for c in 0..n {
        let expected = units_open[c] + arrived[c] + taken_over[c] + relocated_in[c];
        let actual = units[c] + retired[c] + sold_off[c] + banned[c] + fire_sold[c] + displaced[c];
        // Wrapping sums: a count the books cannot explain may have wrapped (see `Fleet::ship`).
        let shipped = in_transit_open[c].wrapping_add(bought[c]);
        let landed = in_transit[c]
            .wrapping_add(arrived[c])
            .wrapping_add(diverted[c])
            .wrapping_add(fire_sold_in_transit[c]);
        mismatch |= (expected ^ actual) | (shipped ^ landed) | u64::from(running[c] > units[c]);
        mismatch |= u64::from(fleet.retired_sold[c] > retired[c]);
    }
    if mismatch == 0 {
        return Ok(());
    }
    for c in 0..n {
        let expected = units_open[c] + arrived[c] + taken_over[c] + relocated_in[c];
        let actual = units[c] + retired[c] + sold_off[c] + banned[c] + fire_sold[c] + displaced[c];
        // Wrapping sums: a count the books cannot explain may have wrapped (see `Fleet::ship`).
        let shipped = in_transit_open[c].wrapping_add(bought[c]);
        let landed = in_transit[c]
            .wrapping_add(arrived[c])
            .wrapping_add(diverted[c])
            .wrapping_add(fire_sold_in_transit[c]);
        if expected == actual && running[c] <= units[c] && shipped == landed && fleet.retired_sold[c] <= retired[c] {
            continue;
        }
        if fleet.retired_sold[c] > retired[c] {
            return Err(violation(
                w,
                format!("cohort {c}: retired machines sold > retired"),
                retired[c] as f64,
                fleet.retired_sold[c] as f64,
            ));
        }
        if expected != actual {
            return Err(violation(
                w,
                format!(
                    "cohort {c}: units open + arrived + taken over + relocated in != units + retired + sold off + banned + fire sold + displaced"
                ),
                expected as f64,
                actual as f64,
            ));
        }
        if running[c] > units[c] {
            return Err(violation(
                w,
                format!("cohort {c}: running above installed"),
                units[c] as f64,
                running[c] as f64,
            ));
        }
        return Err(violation(
            w,
            format!("cohort {c}: in transit before + shipped != in transit + arrived + diverted + fire sold"),
            shipped as f64,
            landed as f64,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::record::SummaryOnly;
    use crate::world::World;

    /// Runs the small scenario's path 0, changing the machines in transit to the busiest cohort by `delta`
    /// at the start of `month`; returns the check's verdict on that month and the months before it.
    fn run_with_transit_changed(delta: i64, month: u32) -> Result<(), crate::record::Violation> {
        let mut params = crate::fixtures::small();
        // Unlimited sites, so no phase sums the machines in transit before the month's check sees them.
        for region in &mut params.regions {
            region.hosting_capacity_mw = f64::INFINITY;
        }
        let mut world = World::new(&params, 0);
        for m in 0..=month {
            if m == month {
                let fleet = &mut world.fleet;
                let c = (0..fleet.n_cohorts()).max_by_key(|&c| fleet.in_transit[c]).unwrap();
                assert!(
                    fleet.in_transit[c] > 0,
                    "a cohort has machines on their way by month {month}"
                );
                fleet.in_transit[c] = fleet.in_transit[c].checked_add_signed(delta).unwrap();
            }
            world.step(&mut SummaryOnly)?;
        }
        Ok(())
    }

    #[test]
    fn machines_appearing_or_vanishing_in_transit_fail_the_month_they_do() {
        assert!(run_with_transit_changed(0, 12).is_ok());
        for delta in [1, -1] {
            let violation = run_with_transit_changed(delta, 12).unwrap_err();
            assert_eq!(violation.month.0, 12, "{violation:?}");
            assert!(violation.what.contains("in transit"), "{violation:?}");
            assert_eq!(violation.actual - violation.expected, delta as f64, "{violation:?}");
        }
    }

    /// Steps the small scenario's path 0 for `horizon_months` with `sink`, smuggling a machine into a
    /// manufacturer's stock at the start of `month`; returns the month whose check failed, if one did.
    fn month_a_smuggled_machine_fails<S: crate::record::Sink>(
        horizon_months: u32,
        month: u32,
        sink: &mut S,
    ) -> Option<u32> {
        let mut params = crate::fixtures::small();
        params.simulation.horizon_months = horizon_months;
        let mut world = World::new(&params, 0);
        for m in 0..horizon_months {
            if m == month {
                crate::fixtures::smuggle_stock(&mut world, 0, 0, 1);
            }
            if let Err(violation) = world.step(sink) {
                return Some(violation.month.0);
            }
        }
        None
    }

    /// Sinks that keep outcomes only check every 12th month and the last: a leak in a month between is
    /// caught by the stock laws at the next month checked, and one in the last year at the horizon. Sinks
    /// that keep every row check every month.
    #[test]
    fn outcome_sinks_check_every_12th_month_and_the_last() {
        use crate::record::OutcomeOnly;
        assert_eq!(month_a_smuggled_machine_fails(30, 3, &mut SummaryOnly), Some(3));
        assert_eq!(month_a_smuggled_machine_fails(30, 3, &mut OutcomeOnly), Some(11));
        assert_eq!(month_a_smuggled_machine_fails(30, 11, &mut OutcomeOnly), Some(11));
        assert_eq!(month_a_smuggled_machine_fails(30, 12, &mut OutcomeOnly), Some(23));
        assert_eq!(month_a_smuggled_machine_fails(30, 25, &mut OutcomeOnly), Some(29));
        assert_eq!(month_a_smuggled_machine_fails(30, 25, &mut SummaryOnly), Some(25));
        assert_eq!(month_a_smuggled_machine_fails(30, 30, &mut OutcomeOnly), None);
    }

    /// The small scenario with a second origin ("us"), a US line of 2,000 machines a month taking a third of
    /// the assembly, and a 25% tariff on the main origin in region 0.
    pub(crate) fn small_with_onshore_line() -> crate::params::Params {
        let mut params = crate::fixtures::small();
        params.origins.push("us".into());
        let us = params.origins.len() - 1;
        let main = params.manufacturers[0].origin_idx;
        params.regions[0].import_tariffs.push((main, 0.25));
        let m = &mut params.manufacturers[0];
        m.production_lines.push(crate::params::ProductionLineParams {
            origin_idx: us,
            capacity_units_per_month: 2_000,
            unit_cost_uplift_share: 0.2,
            from_month_offset: 0,
            fixed_cost_usd_per_month: 1e5,
        });
        m.strategy.onshore_share = 0.35;
        params
    }

    /// Machines by origin hold every month of a path with an onshore line, and a machine relabelled from one
    /// origin to another (the stock by generation unchanged) fails the month it happens.
    #[test]
    fn a_machine_changing_origin_fails_the_origin_check_the_month_it_does() {
        let params = small_with_onshore_line();
        let mut world = World::new(&params, 0);
        for _ in 0..12 {
            world.step(&mut SummaryOnly).unwrap();
        }
        let m = &world.manufacturers[0];
        assert!(m.totals().units_produced > 0);
        let onshore: u64 = m.origins().slot_tallies(1).2;
        assert!(onshore > 0, "the line made machines");
        let g = (0..m.stock.len()).find(|&g| m.stock[g].units > 0).expect("some stock");
        crate::fixtures::relabel_origin_unit(&mut world, 0, g, 1);
        let violation = world.step(&mut SummaryOnly).unwrap_err();
        assert_eq!(violation.month.0, 12, "{violation:?}");
        assert!(violation.what.contains("machines made in"), "{violation:?}");
    }
}
