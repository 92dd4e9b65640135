//! Phase 4, the network: blocks are found at the running hashrate, with retargets and halvings at their
//! heights; the month's mining revenue is shared by hashrate and power is paid, by the miners' segments and
//! by the manufacturers' self-mining fleets.
#![warn(missing_docs)]

use crate::market::manufacturers_finance::self_mining_site;
use crate::market::network::{NetworkEvent, SATS_PER_BTC};
use crate::record::{EventKind, Subject};
use crate::units::SECONDS_PER_DAY;
use crate::world::World;

/// Advances the chain through the month and pays everyone who mined.
pub fn mine_blocks(w: &mut World) {
    let params = w.params;
    let fleet_ths = w.fleet.running_ths(&params.generations);
    let running_ths = fleet_ths + w.figures.self_mining_ths;
    let start_height = w.network.height;
    let mut net_events = std::mem::take(&mut w.scratch.network_events);
    net_events.clear();
    let blocks = w
        .network
        .advance(running_ths, w.figures.n_days * SECONDS_PER_DAY, |e| net_events.push(e));
    for e in &net_events {
        match *e {
            NetworkEvent::Retarget {
                height, new_difficulty, ..
            } => {
                w.tallies.note_retarget();
                if let Some(row) = w.event(EventKind::Retarget, Subject::Network) {
                    row.block_height = Some(height);
                    row.value = new_difficulty;
                    row.value_unit = "difficulty";
                }
            }
            NetworkEvent::Halving {
                height,
                new_subsidy_btc,
            } => {
                w.tallies.note_halving();
                if let Some(row) = w.event(EventKind::Halving, Subject::Network) {
                    row.block_height = Some(height);
                    row.value = new_subsidy_btc;
                    row.value_unit = "btc";
                }
            }
        }
    }
    w.scratch.network_events = net_events;
    let issued_btc = blocks.issued_sats as f64 / SATS_PER_BTC as f64;
    let fees_btc = blocks.blocks as f64 * w.fees_btc_per_block;
    let miner_revenue_usd = (issued_btc + fees_btc) * w.figures.price_usd;
    let usd_per_ths_month = if running_ths > 0.0 {
        miner_revenue_usd / running_ths
    } else {
        0.0
    };
    w.fleet
        .distribute_revenue(usd_per_ths_month, &params.generations, &mut w.segments);
    let mut self_mining_power_usd = 0.0;
    for (m, mp) in w.manufacturers.iter_mut().zip(&params.manufacturers) {
        let site = self_mining_site(mp, &w.power, &w.regions);
        self_mining_power_usd += m.book_self_mining(&params.generations, site, usd_per_ths_month, w.figures.hours);
    }
    w.ledger
        .record_issuance(start_height, w.network.height, blocks.issued_sats);
    let figures = &mut w.figures;
    figures.running_ths = running_ths;
    figures.blocks = blocks;
    figures.issued_btc = issued_btc;
    figures.fees_btc = fees_btc;
    figures.miner_revenue_usd = miner_revenue_usd;
    figures.self_mining_power_usd = self_mining_power_usd;
}
