//! Phase 9, segments' finance: machines retired this month go to miners with cheaper power or to scrap; new
//! retail money in bull regimes, churn of segments out of cash, and interest on credit (the dealers' too);
//! then regions whose hosting capacity filled up build sites.
#![warn(missing_docs)]

use crate::agents::miner::{churn, resell_retired};
use crate::params::{Regime, Segment};
use crate::world::World;

/// Runs the segments' month of finance, then grows the regions' capacity.
pub fn segments_finance(w: &mut World) {
    let params = w.params;
    resell(w);
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
        let rate = params.segments[segment.idx()].credit_interest_rate_per_month;
        w.segments[segment.idx()].pay_interest(rate);
    }
    w.dealer.pay_interest(params.dealers.credit_interest_rate_per_month);
    grow_capacity(w);
}

/// The month's retired machines go to the secondary market: resold into the region where their generation
/// pays best, within its free sites, or scrapped.
fn resell(w: &mut World) {
    let params = w.params;
    let mut free_mw = std::mem::take(&mut w.scratch.free_mw);
    free_mw.clear();
    if w.regions.capacity_mw.iter().all(|c| c.is_infinite()) {
        free_mw.resize(params.regions.len(), f64::INFINITY);
    } else {
        w.region_used_mw(&mut free_mw);
        for (free, &capacity) in free_mw.iter_mut().zip(&w.regions.capacity_mw) {
            *free = (capacity - *free).max(0.0);
        }
    }
    resell_retired(
        &mut w.fleet,
        &mut w.segments,
        &params.generations,
        &mut free_mw,
        params.secondary_market.resale_min_profitable_share,
        params.secondary_market.scrap_value_usd_per_unit,
    );
    w.scratch.free_mw = free_mw;
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

#[cfg(test)]
mod tests {
    use crate::engine::simulate_path;
    use crate::params::{Params, PriceProcess};
    use crate::record::Collect;

    /// The small scenario at a steady price with no new machines, power in "other" dear enough that its
    /// oldest machines retire, and a short retirement window.
    fn dear_other_region(resale_min_profitable_share: f64) -> Params {
        let mut params = crate::fixtures::small();
        params.simulation.horizon_months = 24;
        let PriceProcess::RegimeSwitching(rs) = &mut params.price.process else {
            unreachable!("the small scenario's price switches regimes")
        };
        rs.bull_drift_log_per_month = 0.0;
        rs.bull_volatility_log_per_month = 0.0;
        rs.bull_to_bear_probability_per_month = 0.0;
        params.price.jump_probability_per_month = 0.0;
        params.fees.volatility_log_per_month = 0.0;
        for region in &mut params.regions {
            region.power_price_volatility_log_per_month = 0.0;
            region.hosting_capacity_mw = f64::INFINITY;
        }
        params.regions[1].power_price_base_usd_per_kwh = 0.09;
        for segment in &mut params.segments {
            segment.max_growth_share_of_network_per_month = 0.0;
            segment.retire_after_months = 2;
        }
        params.manufacturers.clear();
        params.secondary_market.resale_min_profitable_share = resale_min_profitable_share;
        params
    }

    /// Machines retired in the dear region are bought by miners of their segment in the cheap one, where
    /// their generation still pays its power; with no region good enough they are scrapped and paid for at
    /// scrap value. Either way the engine's conservation checks hold every month.
    #[test]
    fn retired_machines_are_resold_to_cheaper_power_or_scrapped() {
        let totals = |params: &Params| {
            let mut sink = Collect::default();
            let summary = simulate_path(params, 0, &mut sink);
            assert!(summary.violation.is_none(), "{:?}", summary.violation);
            let sum = |region_idx: usize, field: fn(&crate::record::MinerRow) -> u64| -> u64 {
                sink.miners
                    .iter()
                    .filter(|r| r.region_idx == region_idx)
                    .map(field)
                    .sum()
            };
            (
                sum(1, |r| r.units_sold_off),
                sum(0, |r| r.units_taken_over),
                sum(1, |r| r.units_retired),
            )
        };
        let (sold_off, taken_over, scrapped) = totals(&dear_other_region(0.5));
        assert!(sold_off > 0, "the dear region's retired machines find buyers");
        assert_eq!(
            sold_off, taken_over,
            "every machine sold is taken over in the cheap region"
        );

        let (sold_off, taken_over, retired) = totals(&dear_other_region(1.0));
        assert_eq!(
            (sold_off, taken_over),
            (0, 0),
            "no region pays on every site: nothing is resold"
        );
        assert!(retired > 0, "the retired machines are scrapped");
        assert!(retired >= scrapped, "resale leaves fewer machines to scrap");
    }
}
