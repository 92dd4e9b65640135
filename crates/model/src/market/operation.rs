//! Phase 3, miners operate: from the month's starting difficulty and price, each cohort's profitable share
//! of sites is found and the running share moves towards it; machines unprofitable for the segment's
//! retirement window, even at the settled difficulty, are retired. Manufacturers' self-mining fleets run
//! when profitable.
#![warn(missing_docs)]

use crate::market::network::{HASHES_PER_DIFFICULTY, TARGET_BLOCK_SECONDS, expected_usd_per_th_day};
use crate::units::HOURS_PER_DAY;
use crate::world::World;

/// Decides what runs this month, and notes the price and the self-mining hashrate for the network phase.
pub fn operate(w: &mut World) {
    let params = w.params;
    let price_usd = w.price.price_usd();
    w.fees_btc_per_block = w.fees.fees_btc_per_block(&params.fees, w.price.regime, w.month.idx());
    let btc_per_block = w.network.next_subsidy_btc() + w.fees_btc_per_block;
    let revenue_th_day = expected_usd_per_th_day(w.network.difficulty, btc_per_block, price_usd);
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
    // One running sum over every manufacturer's generations, in this order.
    let mut self_mining_ths = 0.0;
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        m.switch_self_mining(mp, &params.generations, revenue_th_day, &mut self_mining_ths);
    }
    w.figures.price_usd = price_usd;
    w.figures.hours = hours;
    w.figures.self_mining_ths = self_mining_ths;
}
