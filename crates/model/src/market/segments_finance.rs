//! Phase 9, segments' finance: new retail money in bull regimes, churn of segments out of cash, and
//! interest on credit (the dealers' too); the key-account firms' month (`key_accounts`), with the key
//! accounts' AI/HPC hosting (`hosting`) between the firms' share of the month's movements and their own
//! finance; then regions whose hosting capacity filled up build sites.
#![warn(missing_docs)]

use crate::agents::miner::churn;
use crate::market::{hosting, key_accounts};
use crate::params::{Regime, Segment};
use crate::world::World;

/// Runs the segments' month of finance, then grows the regions' capacity.
pub fn segments_finance(w: &mut World) {
    let params = w.params;
    let bull = w.price.regime == Regime::Bull;
    for segment in Segment::ALL {
        let sp = &params.segments[segment.idx()];
        if bull && sp.bull_inflow_usd_per_month > 0.0 {
            w.segments[segment.idx()].receive_inflow(sp.bull_inflow_usd_per_month);
        }
    }
    // Key accounts churn first: what retail pays for their machines changes retail's cash before its turn.
    for segment in Segment::ALL {
        churn(
            segment,
            &mut w.fleet,
            &mut w.segments,
            &params.segments,
            &w.secondary_price_usd,
            params.secondary_market.scrap_value_usd_per_unit,
        );
    }
    for segment in Segment::ALL {
        // Key-account firms pay interest on the credit each draws (`key_accounts`), not on the segment's.
        if segment == Segment::KeyAccount && w.key_accounts.enabled() {
            continue;
        }
        let rate = params.segments[segment.idx()].credit_interest_rate_per_month;
        w.segments[segment.idx()].pay_interest(rate);
    }
    let totals = key_accounts::apportion(w);
    // Hosting may displace the key accounts' machines; otherwise their fleet is as `apportion` found it.
    let fleet_moved = hosting::hosting_month(w);
    key_accounts::key_accounts_finance(w, totals.filter(|_| !fleet_moved));
    w.dealer.pay_interest(params.dealers.credit_interest_rate_per_month);
    grow_capacity(w);
}

/// Regions that are nearly full build more sites.
fn grow_capacity(w: &mut World) {
    if w.regions.capacity_mw.iter().all(|c| c.is_infinite()) {
        return;
    }
    let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
    w.region_used_mw(&mut used_mw);
    w.regions.grow_capacity(w.params, &used_mw);
    w.scratch.used_mw = used_mw;
}
