//! The ledger: balances at the start of the month and the running tallies the conservation checks in
//! `crate::invariants` compare the agents against.
#![warn(missing_docs)]

use crate::agents::dealer::Dealer;
use crate::agents::manufacturer::Manufacturer;
use crate::agents::miner::Fleet;
use crate::agents::miner::books::SegmentBooks;
use crate::params::Params;

/// Balances at the start of the month and running tallies the checks need.
#[derive(Clone, Debug)]
pub struct Ledger {
    pub(crate) manufacturer_cash_open_usd: Vec<f64>,
    pub(crate) segment_cash_open_usd: [f64; 2],
    pub(crate) dealer_cash_open_usd: f64,
    pub(crate) initial_inventory_units: Vec<u64>,
    pub(crate) fleet_units_open: Vec<u64>,
    pub(crate) fleet_in_transit_open: Vec<u64>,
    pub(crate) dealer_returned_total: u64,
    pub(crate) dealer_scrapped_total: u64,
    /// Height of the tip at the start (the scenario's `network.block_height`).
    pub(crate) start_height: u64,
    pub(crate) issued_sats_total: u64,
}

impl Ledger {
    /// Opens the ledger at the start of a path: the agents' starting cash and stock, and the starting block height.
    pub fn new(
        manufacturers: &[Manufacturer],
        segments: &[SegmentBooks; 2],
        dealer: &Dealer,
        fleet: &Fleet,
        params: &Params,
    ) -> Ledger {
        Ledger {
            manufacturer_cash_open_usd: manufacturers.iter().map(|m| m.cash_usd()).collect(),
            segment_cash_open_usd: [segments[0].cash_usd(), segments[1].cash_usd()],
            dealer_cash_open_usd: dealer.cash_usd(),
            initial_inventory_units: manufacturers.iter().map(|m| m.inventory_units()).collect(),
            fleet_units_open: fleet.units.clone(),
            fleet_in_transit_open: fleet.in_transit.clone(),
            dealer_returned_total: 0,
            dealer_scrapped_total: 0,
            start_height: params.network.block_height,
            issued_sats_total: 0,
        }
    }

    /// Records every agent's cash at the start of the month, which the month's cash checks start from.
    pub fn open_month(&mut self, manufacturers: &[Manufacturer], segments: &[SegmentBooks; 2], dealer: &Dealer) {
        for (open, m) in self.manufacturer_cash_open_usd.iter_mut().zip(manufacturers) {
            *open = m.cash_usd();
        }
        self.segment_cash_open_usd = [segments[0].cash_usd(), segments[1].cash_usd()];
        self.dealer_cash_open_usd = dealer.cash_usd();
    }

    /// Rolls the month's dealer and fleet tallies forward, so the next month's checks start from here.
    pub fn close_month(&mut self, dealer: &Dealer, fleet: &Fleet) {
        self.dealer_returned_total += dealer.flows().units_returned;
        self.dealer_scrapped_total += dealer.flows().units_scrapped;
        self.fleet_units_open.copy_from_slice(&fleet.units);
        self.fleet_in_transit_open.copy_from_slice(&fleet.in_transit);
    }

    /// Adds `issued_sats`, the subsidy of the blocks mined between two heights, to the path's total; the checks
    /// compare the total with the subsidy schedule from the starting height. The heights themselves are unused.
    pub fn record_issuance(&mut self, _from_height: u64, _to_height: u64, issued_sats: u64) {
        self.issued_sats_total += issued_sats;
    }
}
