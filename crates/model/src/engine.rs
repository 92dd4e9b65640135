//! The engine: one path's world (`crate::world`), stepped month by month in a fixed phase order.
//!
//! Phases within month `t` (each reads the state the previous phases left), one call each below:
//!
//! 1. **Exogenous draws** (`market::exogenous`): BTC price and regime, fees per block, regional power
//!    prices, AI data centres taking sites and raising power prices (`market::hosting`), and regional shocks
//!    drawn from each region's hazards, applied at once.
//! 2. **Due events** (`market::due_events`): scripted events first, then the month's machines arriving at
//!    miners, then wafer lots arriving at manufacturers; then machines stopped by bans move where there is
//!    room (`market::relocation`).
//! 3. **Miners operate** (`market::operation`): each cohort runs the machines whose sites' power price is
//!    below breakeven at the revenue on which the miners' decision and the difficulty it settles to agree,
//!    and retires machines that stayed off too
//!    long; manufacturers' self-mining fleets run when profitable.
//! 4. **Network** (`market::blocks`): blocks at the running hashrate, retargets and halvings at their
//!    heights; revenue is shared by hashrate; miners pay power.
//! 5. **Valuation** (`market::pricing`): used-machine prices; manufacturers produce, price, revise their
//!    forecasts when due, plan and book foundry capacity; dealers price.
//! 6. **Futures deliveries** (`market::deliveries`): batches fall due; buyers walk away or pay the balance;
//!    late batches are refunded.
//! 7. **Dealers** (`market::dealers_trade`): installments are paid or defaulted; dealers stockpile (bull)
//!    or take installments (bear); stock worth only scrap is scrapped.
//! 8. **Buyers** (`market::purchases`): key accounts, then retail, sign futures and buy spot; machines ship
//!    to regions, and each cohort's month of deliveries and purchases arrives together after the segment's
//!    shipping lag.
//! 9. **Segments' finance** (`market::segments_finance`): retail inflow in bull regimes, churn of segments
//!    out of cash, interest; the key-account firms' month (`market::key_accounts`): their share of the
//!    segment's movements, then the key accounts' AI/HPC hosting (`market::hosting`: cancellations,
//!    completions, tenants' payments, new conversions), then the firms' overheads, debt service, treasury,
//!    and the winding-up of the insolvent (futures defaulted, fleets fire-sold); then regions that filled up
//!    build sites.
//! 10. **Manufacturers' finance** (`market::manufacturers_finance`): self-mining of unsold stock,
//!     write-downs and scrapping, fixed costs, wafer orders for month `t + L` within the capacity booked,
//!     the month's demand into the forecasts, distress.
//! 11. **Checks and records** (`invariants`, `rows`): conservation checks (every month, or every 12th month
//!     and the last for sinks that keep outcomes only, see `Sink::CHECK_EVERY_MONTH`), then the month's rows
//!     go to the sink.
#![warn(missing_docs)]

use crate::invariants;
use crate::market::{
    blocks, dealers_trade, deliveries, due_events, exogenous, manufacturers_finance, operation, pricing, purchases,
    segments_finance,
};
use crate::params::Params;
use crate::record::{PathSummary, Sink, Violation};
use crate::rows;
use crate::units::Month;
use crate::world::World;

/// How often a sink that does not check every month (`Sink::CHECK_EVERY_MONTH`) has the month checked; the
/// last month is checked too.
const SPARSE_CHECK_INTERVAL_MONTHS: u32 = 12;

impl World<'_> {
    /// Runs one month through every phase and sends its records to `sink`.
    pub fn step<S: Sink>(&mut self, sink: &mut S) -> Result<(), Violation> {
        self.open_month(S::MONTHLY_ROWS);
        exogenous::draw(self); // 1
        due_events::apply_due(self); // 2
        operation::operate(self); // 3
        blocks::mine_blocks(self); // 4
        pricing::value_and_price(self); // 5
        deliveries::deliver_futures(self); // 6
        dealers_trade::dealers_trade(self); // 7
        purchases::buyers_purchase(self); // 8
        segments_finance::segments_finance(self); // 9
        manufacturers_finance::manufacturers_finance(self); // 10
        let month_number = self.month.0 + 1;
        let check = if S::CHECK_EVERY_MONTH
            || month_number.is_multiple_of(SPARSE_CHECK_INTERVAL_MONTHS)
            || month_number >= self.params.simulation.horizon_months
        {
            invariants::check_month(self) // 11
        } else {
            invariants::close_month(self);
            Ok(())
        };
        self.track_path(self.figures.running_ths);
        rows::record_month(self, sink);
        self.month = Month(self.month.0 + 1);
        check
    }
}

/// Simulates one whole path, streaming its records to `sink`. A broken invariant stops the path at that
/// month; the summary then carries the violation and the months simulated so far.
///
/// With uncertain parameters (`params.uncertainty`), the path runs with its own draw of them.
pub fn simulate_path<S: Sink>(params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
    match crate::uncertainty::for_path(params, path_idx) {
        Some(drawn) => simulate_path_with(&drawn, path_idx, sink),
        None => simulate_path_with(params, path_idx, sink),
    }
}

/// [`simulate_path`] with `params` exactly as given: no draw of uncertain parameters.
fn simulate_path_with<S: Sink>(params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
    let mut world = World::new(params, path_idx);
    let mut violation = None;
    for _ in 0..params.simulation.horizon_months {
        if let Err(v) = world.step(sink) {
            violation = Some(v);
            break;
        }
    }
    world.summary(violation)
}
