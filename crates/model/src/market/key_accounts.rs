//! Phase 9, the key-account firms' month (within the segments' finance): the segment's cash movements
//! are apportioned to the firms, each firm pays its overheads and debt service and manages its treasury
//! (`crate::agents::miner::firms`), and firms whose cash and credit no longer cover what they owe are wound
//! up: their futures default (the manufacturers keep the prepayments and the machines stay in their stock),
//! their fleets are sold at fire-sale prices (to surviving firms that can pay, to retail, or outside the
//! fleet, pressing on used prices), and their estates pay the lenders what they can.
#![warn(missing_docs)]

use crate::agents::miner::SegmentTotals;
use crate::agents::miner::firms::{FinanceInputs, KeyAccountFirms, MonthInputs};
use crate::math::{floor_units, to_units, units_f64};
use crate::params::{Regime, Segment};
use crate::record::{EventKind, EventRow, Subject};
use crate::units::Month;
use crate::world::World;

const KA: usize = 0;

/// Marks the segment's cash and purchases as futures deliveries start.
pub fn mark_before_deliveries(w: &mut World) {
    if w.key_accounts.enabled() {
        w.key_accounts.marks.cash_before_deliveries_usd = w.segments[KA].cash_usd();
    }
}

/// Marks them as deliveries end: what was shipped so far this month was delivered on futures.
pub fn mark_after_deliveries(w: &mut World) {
    if w.key_accounts.enabled() {
        w.key_accounts.marks.cash_after_deliveries_usd = w.segments[KA].cash_usd();
        w.key_accounts.marks.ths_delivered = w.fleet.segment_bought_ths(Segment::KeyAccount, &w.params.generations);
    }
}

/// Marks them as buyers start buying, and sets each firm's share of the segment's buying power. Returns the
/// segment's available funds and liquidity summed over living firms, or `None` for a pooled segment.
pub fn mark_before_purchases(w: &mut World) -> Option<(f64, f64)> {
    if !w.key_accounts.enabled() {
        return None;
    }
    w.key_accounts.marks.cash_before_purchases_usd = w.segments[KA].cash_usd();
    let committed = w.segments[KA].committed_balance_usd();
    let reserve_months = w.params.key_account_firms.cash_reserve_months;
    Some(w.key_accounts.set_purchase_shares(committed, reserve_months))
}

/// Marks them as buyers end: what was shipped since deliveries ended was bought spot. `shipped` is whether
/// the buyers shipped the key accounts any machines; when they did not, the month's purchases are the
/// deliveries marked already.
pub fn mark_after_purchases(w: &mut World, shipped: bool) {
    if w.key_accounts.enabled() {
        w.key_accounts.marks.cash_after_purchases_usd = w.segments[KA].cash_usd();
        let bought = if shipped {
            w.fleet.segment_bought_ths(Segment::KeyAccount, &w.params.generations)
        } else {
            w.key_accounts.marks.ths_delivered
        };
        w.key_accounts.marks.ths_bought_spot = (bought - w.key_accounts.marks.ths_delivered).max(0.0);
    }
}

/// The first half of the firms' month: the segment's movements so far are apportioned to the firms. Hosting
/// (`crate::market::hosting`) comes between it and [`key_accounts_finance`], so that each firm's hosting
/// income and conversions are its own. Returns the segment's fleet totals it read (`None` for a pooled segment).
pub fn apportion(w: &mut World) -> Option<SegmentTotals> {
    if !w.key_accounts.enabled() {
        return None;
    }
    let totals = key_account_totals(w);
    let books = &w.segments[KA];
    w.key_accounts.apportion_month(MonthInputs {
        cash_usd: books.cash_usd(),
        fleet_ths: totals.fleet_ths,
        book_usd: books.committed_balance_usd() + books.prepaid_outstanding_usd(),
        signed_usd: books.flows().futures_signed_usd,
    });
    Some(totals)
}

/// The key accounts' fleet at this month's used prices.
fn key_account_totals(w: &World) -> SegmentTotals {
    w.fleet
        .segment_totals(Segment::KeyAccount, &w.params.generations, &w.secondary_price_usd)
}

/// The rest of the firms' month: their own finance, then winding up the insolvent. `totals` are the key
/// accounts' fleet totals when nothing has moved the fleet since they were read; otherwise they are read again.
pub fn key_accounts_finance(w: &mut World, totals: Option<SegmentTotals>) {
    if !w.key_accounts.enabled() {
        return;
    }
    let params = w.params;
    let totals = totals.unwrap_or_else(|| key_account_totals(w));
    let (fleet_ths, fleet_value_usd) = (totals.fleet_ths, totals.fleet_value_usd);
    let flows = w.segments[KA].flows();
    let marks = w.key_accounts.marks;
    let inputs = FinanceInputs {
        month: w.month,
        price_usd: w.figures.price_usd,
        bull: w.price.regime == Regime::Bull,
        segment_revenue_usd: flows.revenue_usd,
        fleet_ths,
        fleet_value_usd,
        paid_usd: (
            -(marks.cash_after_purchases_usd - marks.cash_before_purchases_usd),
            -(marks.cash_after_deliveries_usd - marks.cash_before_deliveries_usd),
        ),
        credit_interest_rate_per_month: params.segments[KA].credit_interest_rate_per_month,
        site_capex_usd: params.key_account_firms.site_capex_usd_per_mw
            * (totals.bought_mw - totals.retired_mw).max(0.0),
    };
    let any_insolvent = w
        .key_accounts
        .finance(&params.key_account_firms, inputs, &mut w.segments[KA]);
    if any_insolvent {
        for i in 0..w.key_accounts.firms.len() {
            if KeyAccountFirms::insolvent(&w.key_accounts.firms[i]) {
                wind_up(w, i);
            }
        }
    }
    // The segment may draw what its firms' lenders still extend.
    let credit = w.key_accounts.credit_available_usd();
    w.segments[KA].set_credit_line(credit);
    let gross = w.segments[KA].flows().gross_usd();
    w.key_accounts.note_gross(gross);
    w.key_accounts.roll_up_month();
}

/// Winds up firm `i`: its futures default, its fleet is sold at fire-sale prices, its estate pays its
/// lenders, and the surviving firms' shares are renormalised.
fn wind_up(w: &mut World, i: usize) {
    default_futures(w, i);
    sell_fleet(w, i);
    settle_estate(w, i);
    w.key_accounts.close(i);
}

/// The firm's share of every pending key-account futures contract defaults: the manufacturer keeps the
/// prepayments, the balances are never paid, and the machines stay in the manufacturer's free stock.
fn default_futures(w: &mut World, i: usize) {
    let share = w.key_accounts.firms[i].book_share;
    if share <= 0.0 {
        return;
    }
    let next_month = Month(w.month.0 + 1);
    let (mut units_total, mut balance_total, mut kept_total) = (0u64, 0.0, 0.0);
    for m_idx in 0..w.manufacturers.len() {
        let m = &mut w.manufacturers[m_idx];
        let mut futures = std::mem::take(&mut m.futures);
        let (mut units, mut balance, mut kept) = (0u64, 0.0, 0.0);
        for c in futures.iter_mut().filter(|c| c.buyer == Segment::KeyAccount) {
            let pending = c.units_pending();
            let n = to_units(units_f64(pending) * share).min(pending);
            if n == 0 {
                continue;
            }
            c.default_units(n);
            let forfeited = units_f64(n) * c.prepaid_per_unit_usd;
            let released = units_f64(n) * (c.unit_price_usd - c.prepaid_per_unit_usd);
            m.take_default(&mut w.segments[KA], n, forfeited, released);
            units += n;
            balance += released;
            kept += forfeited;
        }
        m.futures = futures;
        m.refresh_reserved(next_month);
        if units > 0
            && let Some(row) = firm_event(w, i, EventKind::BuyerDefault, Subject::Manufacturer(m_idx))
        {
            row.units = units;
            row.amount_usd = balance;
            row.value = kept;
            row.value_unit = "prepayments_kept_usd";
        }
        units_total += units;
        balance_total += balance;
        kept_total += kept;
    }
    w.key_accounts.note_default(units_total, balance_total, kept_total);
}

/// The firm's fleet (its share of every key-account cohort, installed and on its way) is sold at the used
/// price less the fire-sale discount: surviving firms buy what a share of their available funds pays for
/// (the machines stay on their sites); of the rest, retail takes over the machines that still make money as
/// far as its budget goes, and everything else is sold outside the fleet, pressing on used prices.
fn sell_fleet(w: &mut World, i: usize) {
    let params = w.params;
    let firms_params = &params.key_account_firms;
    let share = w.key_accounts.firms[i].fleet_share;
    if share <= 0.0 {
        return;
    }
    let discount = 1.0 - firms_params.fire_sale_discount_share;
    let scrap = params.secondary_market.scrap_value_usd_per_unit;
    let fire_price = |w: &World, g: usize| (w.secondary_price_usd[g] * discount).max(scrap);
    let n_gen = w.fleet.n_generations;
    // What the firm's machines fetch at fire-sale prices, and how many there are.
    let (mut lot_value, mut lot_units) = (0.0, 0.0);
    for c in w.fleet.segment_cohorts(Segment::KeyAccount) {
        let n = units_f64(w.fleet.units[c] + w.fleet.in_transit[c]) * share;
        lot_value += n * fire_price(w, c % n_gen);
        lot_units += n;
    }
    // Surviving firms buy what their bids pay for; the machines stay where they are.
    let committed = w.segments[KA].committed_balance_usd();
    let (taken_share, paid_by_survivors) = w.key_accounts.consolidate(
        i,
        lot_value,
        committed,
        firms_params.consolidation_spend_share,
        firms_params.cash_reserve_months,
        &mut w.segments[KA],
    );
    let units_consolidated = to_units(taken_share * lot_units);
    // The rest leaves the key accounts' cohorts.
    let rest_share = share * (1.0 - taken_share);
    let (mut retail_units, mut outside_units, mut rest_value) = (0u64, 0u64, 0.0);
    if rest_share > 0.0 {
        let retail_sp = &params.segments[Segment::Retail.idx()];
        let mut retail_budget = w.segments[Segment::Retail.idx()].available_usd() * retail_sp.max_spend_share_per_month;
        for r in 0..w.fleet.n_regions {
            for g in 0..n_gen {
                let from = w.fleet.cohort_idx(Segment::KeyAccount, r, g);
                let price = fire_price(w, g);
                let installed = floor_units(units_f64(w.fleet.units[from]) * rest_share);
                let profitable = w.fleet.runs_at_median_site(r, g);
                let affordable = if price > 0.0 {
                    floor_units(retail_budget / price)
                } else {
                    installed
                };
                let to_retail = if profitable { installed.min(affordable) } else { 0 };
                if to_retail > 0 {
                    let to = w.fleet.cohort_idx(Segment::Retail, r, g);
                    w.fleet.sell_off(from, to, to_retail);
                    let paid = units_f64(to_retail) * price;
                    retail_budget -= paid;
                    let [key_account, retail] = &mut w.segments;
                    retail.take_over_from(key_account, paid);
                    retail_units += to_retail;
                    rest_value += paid;
                }
                let outside = w.fleet.fire_sell(from, installed - to_retail);
                let on_the_way = if w.fleet.in_transit[from] > 0 {
                    w.fleet.fire_sell_in_transit(from, rest_share)
                } else {
                    0
                };
                let sold = outside + on_the_way;
                if sold > 0 {
                    let proceeds = units_f64(sold) * price;
                    w.segments[KA].receive_sale_proceeds(proceeds);
                    w.stranded_overhang_units[g] += units_f64(sold);
                    outside_units += sold;
                    rest_value += proceeds;
                }
            }
        }
    }
    let firms = &mut w.key_accounts;
    firms.receive_fire_sale_proceeds(i, rest_value);
    firms.note_fire_sale(
        units_consolidated,
        retail_units,
        outside_units,
        paid_by_survivors + rest_value,
    );
    let fire_units = units_consolidated + retail_units + outside_units;
    if let Some(row) = firm_event(w, i, EventKind::FireSale, Subject::Segment(Segment::KeyAccount)) {
        row.units = fire_units;
        row.amount_usd = paid_by_survivors + rest_value;
        row.value = units_consolidated as f64;
        row.value_unit = "units_consolidated";
    }
}

/// The failed firm's estate: its BTC is sold, its lenders are paid what the cash covers and write off the
/// rest (credit drawn included), and anything left goes to its shareholders.
fn settle_estate(w: &mut World, i: usize) {
    let price = w.figures.price_usd;
    let firms = &mut w.key_accounts;
    let (repaid, written_off) = firms.settle_estate(i, price, &mut w.segments[KA]);
    if let Some(row) = firm_event(w, i, EventKind::Bankruptcy, Subject::Segment(Segment::KeyAccount)) {
        row.amount_usd = written_off;
        row.value = repaid;
        row.value_unit = "debt_repaid_usd";
    }
}

/// A new event row about firm `i`, its detail naming the firm, or `None` when the sink takes no events (the
/// name is then never copied).
fn firm_event<'w>(w: &'w mut World<'_>, i: usize, kind: EventKind, subject: Subject) -> Option<&'w mut EventRow> {
    let World {
        pending_events,
        key_accounts,
        path_idx,
        month,
        ..
    } = w;
    let row = pending_events.push(*path_idx, *month, kind, subject)?;
    row.detail = format!("firm {}", key_accounts.names[i]);
    Some(row)
}

#[cfg(test)]
mod tests;
