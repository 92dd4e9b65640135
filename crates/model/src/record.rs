//! What a path emits: monthly rows, events and the per-path summary, streamed to a `Sink`.
//!
//! The model only fills these plain structs; the output layer turns them into Parquet columns.
//! A sink that does not want monthly rows (a strategy sweep) says so with `MONTHLY_ROWS`, and the engine
//! then skips building them, so sweeps reduce each path to its summary as it runs.
//!
//! A monthly row is built after every phase of the month has run (phase 11), so a column that is a stock
//! (cash, machines installed, balances) holds its value at the month's end, and a column that is a flow
//! (units bought, revenue, costs) holds the month's total. Each column's doc says which it is.
#![warn(missing_docs)]

use crate::params::{Regime, Segment};
use crate::record::columns::{Cell, CellKind, Column, NameList, Row, ToCell};
use crate::units::Month;

#[macro_use]
pub mod columns;
pub mod event_log;

row_table! {
/// The network in one month of one path: a row of `network.parquet`.
#[derive(Clone, Debug, Default)]
pub struct NetworkRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month, written as the date of its first day.
    pub month: Month,
    /// The price regime in force at the month's end, after any scripted change; written as `bull` or `bear`
    /// (an empty name when there is none, which only a default row has).
    pub regime: Option<Regime>,
    /// The month's BTC price in USD, after any scripted price shock: the price miners decide on and are paid
    /// at.
    pub price_usd: f64,
    /// Height of the chain's tip at the month's end, the last block mined, so the next block has this height
    /// plus one (stock); the scenario's `network.block_height` is the tip's before the first month.
    pub block_height: u64,
    /// Blocks found this month (flow).
    pub blocks: u64,
    /// Difficulty in force at the month's end: a block takes `difficulty * 2^32` hashes on average.
    pub difficulty: f64,
    /// Difficulty retargets crossed this month (flow).
    pub retargets: u32,
    /// Subsidy of the next block at the month's end, in BTC.
    pub subsidy_btc: f64,
    /// Fees paid to miners this month, in BTC: the blocks found times the fees per block (flow).
    pub fees_btc: f64,
    /// Fees per block this month, in BTC: the historical series when the scenario has one, else the regime's
    /// mean times a random deviation.
    pub fees_btc_per_block: f64,
    /// New coins issued this month by the blocks' subsidies, in BTC, exact to the satoshi (flow; fees not
    /// included).
    pub issued_btc: f64,
    /// Hashrate running this month, in EH/s: the miners' running machines plus the manufacturers'
    /// self-mining fleets. It is constant through the month, and the month's blocks are found at this rate.
    pub hashrate_ehs: f64,
    /// Hashrate installed at the month's end, running or off, in EH/s: the miners' machines and the
    /// manufacturers' self-mining fleets, as in `hashrate_ehs` (machines in transit not included).
    pub installed_hashrate_ehs: f64,
    /// What a PH/s earned per day this month, in USD: (subsidy per block found + fees per block) × blocks
    /// per day × price / running PH/s. In a month with no block found, what a PH/s would earn per day at the
    /// month-end difficulty and the month's price and fees.
    pub hashprice_usd_per_ph_day: f64,
    /// Mining revenue this month in USD: (`issued_btc` + `fees_btc`) × `price_usd`, shared by hashrate among
    /// the miners and the self-mining fleets (flow).
    pub miner_revenue_usd: f64,
    /// Power paid this month in USD: the miners' power bill with each region's non-power opex share added,
    /// plus the manufacturers' self-mining power (flow).
    pub power_cost_usd: f64,
    /// Mean seconds between blocks this month (the month's seconds over the blocks found); null when no block
    /// was found, since a month without blocks has no mean block time.
    pub mean_block_seconds: Option<f64>,
}
}

row_table! {
/// One segment's machines in one region, in one month of one path, summed over generations: a row of
/// `miners.parquet`.
#[derive(Clone, Debug, Default)]
pub struct MinerRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month, written as the date of its first day.
    pub month: Month,
    /// The miners' segment, written as `key_account` or `retail`.
    pub segment: Segment,
    /// The region, an index into `Params::regions`, written as its name (column `region`).
    pub region_idx: usize => "region" in Regions,
    /// Installed machines running at the month's end (stock): those the month's operating decision runs, less
    /// any that left the cohort since.
    pub units_running: u64,
    /// Installed machines not running at the month's end (stock): switched off, or added after the month's
    /// operating decision (shipments without a shipping lag, machines taken over from the other segment).
    pub units_off: u64,
    /// Machines retired this month (flow): those on sites that lost money through the segment's retirement
    /// window, and those scrapped when the segment, out of cash, shed machines the other segment did not
    /// take over.
    pub units_retired: u64,
    /// Of the machines the operating decision retired this month, those sold on the used market to buyers with
    /// cheaper power outside the simulated fleet (flow); the rest were scrapped.
    pub units_retired_sold: u64,
    /// What the machines the operating decision retired this month fetched, sold and scrapped, in USD (flow,
    /// cash to the segment).
    pub retired_proceeds_usd: f64,
    /// Machines bought this month, futures delivered and spot purchases, counted when shipped (flow).
    pub units_bought: u64,
    /// Machines installed this month at the end of their shipping lag, or at once without one (flow).
    pub units_arrived: u64,
    /// Machines shipped and not yet arrived at the month's end (stock).
    pub units_in_transit: u64,
    /// Machines sold this month to the other segment's cohort of the region and generation, when this
    /// segment churned out of cash (flow).
    pub units_sold_off: u64,
    /// Machines taken over this month from the other segment when it churned out of cash (flow).
    pub units_taken_over: u64,
    /// Installed machines stopped by a ban this month, which leave for the relocation pool (flow). Machines
    /// stopped on their way to the region count only in `RegionRow::units_banned`.
    pub units_banned: u64,
    /// Machines that joined from the relocation pool this month (flow).
    pub units_relocated_in: u64,
    /// Hashrate of the machines that ran while the month's blocks were found, in EH/s: the hashrate
    /// `revenue_usd` was earned by, as in `NetworkRow::hashrate_ehs`, and not `units_running` (a month-end
    /// stock, after the month's later purchases, churn and fire sales of failed firms' fleets).
    pub hashrate_ehs: f64,
    /// Mining revenue of the running machines this month, in USD: the month's revenue per TH/s times their
    /// hashrate (flow).
    pub revenue_usd: f64,
    /// Power bill of the running machines this month, in USD, with the region's non-power opex share added
    /// (flow).
    pub power_cost_usd: f64,
    /// The whole segment's cash at the month's end, in USD, repeated on each of its region rows; negative
    /// while its credit line is drawn.
    pub segment_cash_usd: f64,
    /// Installed machines of failed key-account firms sold outside the fleet this month (flow); see
    /// `fire_sale_units` for all their machines sold.
    pub units_fire_sold: u64,
    /// Machines on their way to failed key-account firms, sold outside the fleet this month (flow).
    pub units_fire_sold_in_transit: u64,
    // The key-account firms' figures, for the whole segment, repeated on each of its region rows (zero on
    // retail rows and where the key accounts are one pooled book).
    /// Key-account firms still trading at the month's end (stock).
    pub firms_alive: u64,
    /// Term loans and convertible notes the firms owe at the month's end, in USD (stock).
    pub debt_usd: f64,
    /// Credit the firms have drawn (their negative cash) at the month's end, in USD (stock).
    pub credit_drawn_usd: f64,
    /// Interest and principal the firms paid this month, in USD (flow).
    pub debt_service_usd: f64,
    /// New term loans against machines bought this month, in USD (flow).
    pub debt_raised_usd: f64,
    /// Equity the firms raised this month (bull months), in USD (flow).
    pub equity_raised_usd: f64,
    /// The firms' overheads this month, in USD (flow).
    pub overheads_usd: f64,
    /// BTC in the firms' treasuries at the month's end (stock).
    pub treasury_btc: f64,
    /// Firms that became insolvent this month (flow).
    pub buyer_defaults: u64,
    /// Futures machines the failed firms defaulted on this month (flow).
    pub units_defaulted: u64,
    /// Balances the failed firms left unpaid on them, in USD (flow).
    pub balance_defaulted_usd: f64,
    /// Prepayments the manufacturers kept on them, in USD (flow).
    pub prepayments_kept_usd: f64,
    /// Machines of failed firms sold at fire-sale prices this month: to surviving firms, to retail or outside
    /// the fleet (flow).
    pub fire_sale_units: u64,
    /// What they fetched, in USD (flow).
    pub fire_sale_value_usd: f64,
    /// Of them, the machines surviving firms bought (flow).
    pub units_consolidated: u64,
    /// Debt and credit drawn the failed firms' lenders wrote off this month, in USD (flow).
    pub debt_written_off_usd: f64,
    // AI/HPC hosting: the key accounts' sites in the region (zero on retail rows).
    /// The segment's sites in the region hosting AI at the month's end, in MW (stock).
    pub hosting_mw: f64,
    /// The segment's sites in the region converting to AI hosting at the month's end, in MW (stock).
    pub converting_mw: f64,
    /// Sites in the region the segment started converting this month, in MW (flow).
    pub mw_converted: f64,
    /// What AI tenants paid for the segment's sites in the region this month, in USD (flow).
    pub hosting_revenue_usd: f64,
    /// What operating those sites cost this month, in USD (flow).
    pub hosting_operating_cost_usd: f64,
    /// Paid for the conversions started this month, in USD (flow).
    pub conversion_capex_usd: f64,
    /// Installed machines that left sites converted this month: redeployed through the relocation pool or
    /// sold (flow).
    pub units_displaced: u64,
}
}

row_table! {
/// One manufacturer in one month of one path: a row of `manufacturers.parquet`. Each month `cash_usd`
/// changes by exactly `cash_in_usd - cash_out_usd`.
#[derive(Clone, Debug, Default)]
pub struct ManufacturerRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month, written as the date of its first day.
    pub month: Month,
    /// The manufacturer, an index into `Params::manufacturers`, written as its name (column `manufacturer`).
    pub manufacturer_idx: usize => "manufacturer" in Manufacturers,
    /// Cash at the month's end, in USD; negative while the credit line is drawn.
    pub cash_usd: f64,
    /// Credit drawn at the month's end, in USD: minus `cash_usd` when it is below zero, else 0.
    pub credit_used_usd: f64,
    /// Cash received this month, in USD (flow): futures prepayments and balances, spot sales to miners and
    /// dealers, dealers' down payments and installments, self-mining revenue, scrap proceeds, and hosting and
    /// AI-chip revenue.
    pub cash_in_usd: f64,
    /// Cash paid out this month, in USD (flow): foundry prepayments and balances, assembly, opex and R&D,
    /// self-mining power, interest, prepayment refunds, and hosting and AI-chip costs.
    pub cash_out_usd: f64,
    /// Sales revenue this month, in USD, booked when machines change hands (flow): spot and dealer sales at
    /// their price (installment sales in full at signing), futures at the contract price on delivery.
    pub revenue_usd: f64,
    /// Book value of the machines sold this month, in USD (flow).
    pub cogs_usd: f64,
    /// Operating cost and R&D paid this month, after any distress cut, in USD (flow).
    pub opex_usd: f64,
    /// Interest paid this month on credit drawn, in USD (flow).
    pub interest_usd: f64,
    /// Machines assembled this month from arrived wafers (flow).
    pub units_produced: u64,
    /// Machines sold spot to miners this month (flow).
    pub units_sold_spot: u64,
    /// Machines sold to dealers this month, spot or on installment (flow).
    pub units_sold_dealers: u64,
    /// Machines signed for on futures this month, to be delivered later (flow).
    pub units_sold_futures: u64,
    /// Futures machines delivered this month (flow).
    pub units_delivered: u64,
    /// TH/s of the machines whose sale is recognised this month: sold spot, to dealers, or delivered on
    /// futures (flow). Filings' "hashrate sold" counts the same machines.
    pub hashrate_sold_ths: f64,
    /// Futures machines fallen due whose buyers walked away this month, forfeiting the prepayment, and
    /// machines on the futures of key-account firms that failed (flow): strategic and forced together.
    pub units_walked_away: u64,
    /// Of `units_walked_away`, those whose buyers could not pay: a balance beyond their cash and credit, or
    /// a key-account firm's default (flow); the rest walked away because the machines were worth less than
    /// the balance.
    pub units_walked_forced: u64,
    /// Of `units_walked_forced`, the machines on the futures of key-account firms that failed this month, due
    /// or not yet due (flow); they stay in the manufacturer's free stock.
    pub units_defaulted: u64,
    /// Balances failed key-account firms left unpaid on the machines they defaulted on this month, in USD
    /// (flow; no cash moves): the manufacturer's exposure, before it resells the machines.
    pub balances_defaulted_usd: f64,
    /// Prepayments kept on those machines, in USD (flow; part of `prepayments_forfeited_usd`).
    pub prepayments_kept_on_default_usd: f64,
    /// Futures machines cancelled this month because their batch was late beyond the limit, their
    /// prepayments refunded (flow).
    pub units_refunded: u64,
    /// Unsold machines moved from stock into self-mining this month (flow).
    pub units_self_mined: u64,
    /// Machines scrapped from stock this month (flow).
    pub units_scrapped: u64,
    /// Machines taken back into stock this month from dealers who defaulted on installments (flow).
    pub units_recovered: u64,
    /// Machines the wafer lots ordered this month will make (flow).
    pub units_wafers_ordered: u64,
    /// Futures prepayments received at signing this month, in USD (flow, cash).
    pub prepayments_received_usd: f64,
    /// Prepayments of the futures machines delivered this month, applied to their price, in USD (flow; the
    /// cash came at signing).
    pub prepayments_applied_usd: f64,
    /// Prepayments kept from buyers who walked away this month, in USD (flow; income with no cash this
    /// month).
    pub prepayments_forfeited_usd: f64,
    /// Prepayments refunded this month on futures cancelled for lateness, in USD (flow, cash).
    pub prepayments_refunded_usd: f64,
    /// Customer advances at the month's end, in USD (stock): prepayments received on futures machines not yet
    /// delivered, walked away from or refunded, the liability Canaan's and Bitmain's filings report.
    pub customer_advances_usd: f64,
    /// Other income this month, in USD (flow): prepayments kept from buyers who walked away. Never part of
    /// gross margin.
    pub other_income_usd: f64,
    /// Gross margin this month, in USD (flow): revenue less the book value of the machines sold and
    /// write-downs.
    pub gross_margin_usd: f64,
    /// Futures machines signed for and not yet delivered, walked away from or refunded, at the month's end
    /// (stock).
    pub backlog_units: u64,
    /// Finished machines in stock at the month's end, all generations together (stock).
    pub inventory_units: u64,
    /// Book value of that stock at the month's end, in USD (stock).
    pub inventory_value_usd: f64,
    /// Machines in the pipeline at the month's end (stock): arrived wafers waiting for assembly, plus wafer
    /// lots in flight.
    pub wip_units: u64,
    /// Book value written off stock this month that would fetch less than it is carried at, in USD (flow).
    pub writedowns_usd: f64,
    /// Dealer balances written off this month, in USD (flow): what a defaulted installment contract's
    /// recovered machines do not cover, and the rounding residue of last payments.
    pub bad_debt_usd: f64,
    /// Foundry balances still due on wafer lots in flight at the month's end, in USD (stock).
    pub wafer_commitments_usd: f64,
    /// Foundry prepayments already paid on wafer lots in flight at the month's end, in USD (stock).
    pub wafer_prepaid_usd: f64,
    /// Paid to the foundry this month, in USD: prepayments on the lots ordered plus balances on the lots
    /// arrived (flow).
    pub wafer_paid_usd: f64,
    /// Balances dealers owe this manufacturer on installment contracts at the month's end, in USD (stock).
    pub installment_receivables_usd: f64,
    /// Hashrate of the self-mining machines running this month, in TH/s (not EH/s).
    pub self_mining_ths: f64,
    /// Mining revenue of the self-mining fleet this month, in USD (flow).
    pub self_mining_revenue_usd: f64,
    /// Power bill of the self-mining fleet this month, at the manufacturer's self-mining power price, in USD
    /// (flow).
    pub self_mining_power_cost_usd: f64,
    /// This month's spot price of the generation the manufacturer sells now (its current roadmap entry), in
    /// USD per TH/s of that generation's hashrate; 0 when not offered.
    pub price_usd_per_th: f64,
    /// This month's futures price of that generation, in USD per TH/s; 0 when not offered.
    pub futures_price_usd_per_th: f64,
    /// This month's used-machine price of that generation, in USD per TH/s.
    pub secondary_price_usd_per_th: f64,
    /// Machines ordered from the foundry this month: the plan within the capacity booked (flow; the same as
    /// `units_wafers_ordered`).
    pub planned_units: u64,
    /// The demand forecast the plan follows: the manufacturer's expected sales in the month the wafers
    /// ordered now arrive, in machines per month.
    pub forecast_units_per_month: f64,
    /// The manufacturer's smoothed share of the machines all manufacturers sell, the forecast's market share.
    pub forecast_market_share: f64,
    /// Foundry capacity booked for this month's wafer order, in machines (booked `foundry_booking_months`
    /// ago).
    pub capacity_booked_units: u64,
    /// Machines buyers wanted of the manufacturer this month but found sold out (flow): the budget they left
    /// unspent for want of machines, shared over the sold-out sellers by how strongly each was wanted. With
    /// its sales, the demand its forecast follows.
    pub units_unmet_demand: u64,
    /// Take-or-pay capacity left unordered this month, in machines (flow).
    pub units_booking_cancelled: u64,
    /// Cancellation penalties paid to the foundry this month on that capacity, in USD (flow, cash).
    pub cancellation_penalties_usd: f64,
    /// List price of the generation the manufacturer sells now, in USD per TH/s: the sticky price its spot
    /// price follows.
    pub list_price_usd_per_th: f64,
    /// Whether the manufacturer is distressed at the month's end: cash below minus its credit line, so costs
    /// are cut, no wafers are ordered and no futures are sold.
    pub distressed: bool,
    // Its other lines (issue 28): production outside the main origin, hosting, the AI-chip unit. Origins are
    // two-way here, the main origin against every other line together (`onshore`): the lines' origins are
    // the scenario's `production_lines`.
    /// Of `units_produced`, machines assembled on the production lines outside the main origin (flow).
    pub units_produced_onshore: u64,
    /// Machines made outside the main origin that left stock to buyers this month: sold spot, delivered on
    /// futures or sold to dealers (flow).
    pub units_sold_onshore: u64,
    /// Of `inventory_units`, machines made outside the main origin, at the month's end (stock).
    pub inventory_onshore_units: u64,
    /// Of `opex_usd`, the fixed cost of the production lines outside the main origin, in USD (flow, cash).
    pub production_lines_fixed_cost_usd: f64,
    /// The extra cost of the machines assembled outside the main origin this month, in USD (flow, cash; part
    /// of the assembly paid, and of their book value).
    pub assembly_uplift_usd: f64,
    /// Import duties buyers paid at the border on this manufacturer's machines this month, in USD (flow): on
    /// spot sales when sold, on futures when delivered. Part of the landed price buyers compare, paid by them,
    /// not the manufacturer's cash.
    pub tariffs_on_sales_usd: f64,
    /// Paid by hosting clients this month, in USD (flow, cash).
    pub hosting_revenue_usd: f64,
    /// Cost of the hosting business this month, in USD (flow, cash).
    pub hosting_cost_usd: f64,
    /// Revenue of the AI-chip unit this month, in USD (flow, cash); 0 from its exit month.
    pub ai_chip_revenue_usd: f64,
    /// Operating cost of the AI-chip unit this month, with its exit cost in the exit month, in USD (flow, cash).
    pub ai_chip_opex_usd: f64,
}
}

row_table! {
/// The aggregated dealer population in one month of one path: a row of `dealers.parquet`.
#[derive(Clone, Debug, Default)]
pub struct DealerRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month, written as the date of its first day.
    pub month: Month,
    /// Dealers' cash at the month's end, in USD; negative while their credit line is drawn.
    pub cash_usd: f64,
    /// Machines in dealers' stock at the month's end, all generations together (stock).
    pub inventory_units: u64,
    /// Book value of that stock at the month's end, in USD (stock).
    pub inventory_value_usd: f64,
    /// Machines bought spot from manufacturers this month (flow).
    pub units_bought_spot: u64,
    /// Machines taken from manufacturers on installment contracts this month (flow).
    pub units_bought_installment: u64,
    /// Machines sold to miners this month (flow).
    pub units_sold: u64,
    /// Machines given back to manufacturers this month on defaulted installment contracts (flow).
    pub units_returned: u64,
    /// Machines scrapped this month because they would fetch no more than scrap (flow).
    pub units_scrapped: u64,
    /// Paid to manufacturers this month for spot purchases and down payments on installment contracts, in
    /// USD (flow; installments paid are not included).
    pub purchases_usd: f64,
    /// Received from miners for the machines sold this month, in USD (flow).
    pub sales_usd: f64,
    /// Book value written off stock this month that would fetch less than it is carried at, in USD (flow).
    pub writedowns_usd: f64,
    /// Discount of the dealers' price below the manufacturers' price this month, as a share: the bear dump
    /// discount, or minus the bull mark-up (negative for a mark-up).
    pub dump_discount_share: f64,
    /// Dealers' selling price this month of the newest generation released, in USD per TH/s of its
    /// hashrate; 0 when not offered.
    pub price_usd_per_th: f64,
    /// This month's used-machine price of that generation, in USD per TH/s.
    pub secondary_price_usd_per_th: f64,
    /// Balances still owed to manufacturers on installment contracts at the month's end, in USD (stock).
    pub installments_outstanding_usd: f64,
    /// Installment contracts still being paid at the month's end (stock).
    pub n_installments: u64,
    /// Installment contracts defaulted this month (flow).
    pub n_defaults: u64,
    /// Balances left on the contracts defaulted this month, in USD (flow): the manufacturer takes back the
    /// machines still held and writes off what they do not cover.
    pub defaulted_balance_usd: f64,
}
}

row_table! {
/// One region in one month of one path, both segments together: a row of `regions.parquet`.
#[derive(Clone, Debug, Default)]
pub struct RegionRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month, written as the date of its first day.
    pub month: Month,
    /// The region, an index into `Params::regions`, written as its name (column `region`).
    pub region_idx: usize => "region" in Regions,
    /// Hashrate of the region's machines that ran while the month's blocks were found, in EH/s (see
    /// `MinerRow::hashrate_ehs`).
    pub hashrate_ehs: f64,
    /// Installed machines running at the month's end (stock).
    pub units_running: u64,
    /// Installed machines not running at the month's end (stock); see `MinerRow::units_off`.
    pub units_off: u64,
    /// Machines in the relocation pool from this region at the month's end, still waiting to move (stock):
    /// stopped by bans here, or delivered for this region and queued for want of sites.
    pub units_relocating: u64,
    /// Machines stopped by a ban this month, installed or on their way there (flow).
    pub units_banned: u64,
    /// Machines that joined the region from the relocation pool this month (flow).
    pub units_relocated_in: u64,
    /// Futures machines delivered this month for this region that found no site here or elsewhere and
    /// joined the relocation pool (flow; only while some region's capacity is limited).
    pub units_queued: u64,
    /// The region's power price this month, in USD per kWh: the base price times its random deviation and
    /// any shock. Sites pay prices spread log-normally around it.
    pub power_price_usd_per_kwh: f64,
    /// Non-power operating cost as a share of power cost at the month's end, raised by tightenings.
    pub opex_share_of_power: f64,
    /// Power the region's sites can host for mining at the month's end, in MW (sites converting or hosting AI
    /// and AI data centres' sites are not counted); null when unlimited. A ban caps an unlimited region at what
    /// still runs there.
    pub capacity_mw: Option<f64>,
    /// Power drawn at rated power by the region's installed machines (running or off) and those on their way
    /// there, at the month's end, in MW (stock).
    pub capacity_used_mw: f64,
    /// The highest import tariff in force in the region at the month's end, as a share of the machines'
    /// price; 0 when none.
    pub max_tariff_share: f64,
    /// The origin that tariff applies to, an index into `Params::origins` (column `max_tariff_origin`).
    /// Written as the origin's name, and only where some tariff applies (null otherwise).
    pub max_tariff_origin_idx: usize => "max_tariff_origin" in Origins as OptIndex =
        |r| Cell::OptIndex((r.max_tariff_share > 0.0).then_some(r.max_tariff_origin_idx)),
    /// Share of the region's sites closed by bans so far, in [0, 1]: each ban closes its share of what was
    /// still open.
    pub ban_level_share: f64,
    /// The key accounts' sites hosting AI at the month's end, in MW (stock); not in `capacity_mw`.
    pub ai_hosting_mw: f64,
    /// The key accounts' sites converting to AI hosting at the month's end, in MW (stock); not in
    /// `capacity_mw`.
    pub ai_converting_mw: f64,
    /// Sites AI data centres hold at the month's end (the region's AI power demand met so far), in MW (stock);
    /// not in `capacity_mw`.
    pub ai_power_demand_mw: f64,
    /// AI power demand still waiting for idle sites at the month's end, in MW (stock).
    pub ai_power_demand_unmet_mw: f64,
    /// Factor by which AI's load raises the region's power price this month (1 without AI), included in
    /// `power_price_usd_per_kwh`.
    pub ai_power_price_factor: f64,
}
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The network, or the BTC market as a whole (price shocks and regime changes); written as `network`.
    Network,
    /// A manufacturer, an index into `Params::manufacturers`, written as its name.
    Manufacturer(usize),
    /// A region, an index into `Params::regions`, written as its name.
    Region(usize),
    /// A miners' segment, written as its name.
    Segment(Segment),
    /// The dealer population as a whole, written as `dealers`.
    Dealers,
    /// A path as a whole (a failed check, recorded by the output layer).
    Path,
}

/// What kind of thing an event is, and so what its figures hold. A figure not named here is left at zero
/// (`value_unit` empty, `block_height` and `region_idx` null, `detail` empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A difficulty retarget (subject: the network): `block_height` is the first block at the new
    /// difficulty, `value` the new difficulty (`value_unit` `difficulty`). It is the event of the month the
    /// block before it is mined, when the new difficulty is set.
    Retarget,
    /// A halving of the block subsidy (subject: the network): `block_height` is the first block with the
    /// new subsidy, `value` the new subsidy in BTC (`value_unit` `btc`). It is the event of the month that
    /// block is mined.
    Halving,
    /// A scripted price shock (subject: the network): `value` is the factor the price was multiplied by
    /// (`value_unit` `factor`).
    PriceShock,
    /// A scripted change of price regime (subject: the network): `value` is 1 for bull and 0 for bear
    /// (`value_unit` `bull`).
    SetRegime,
    /// A power-price shock in a region, scripted or drawn (subject: the region): `value` is the shock's
    /// factor on the region's power price, which decays back to 1; a shock that meets one in force moving the
    /// price at least as far the same way leaves that one in force (`value_unit` `factor`).
    PowerShock,
    /// A ban in a region, scripted or drawn (subject: the region): `units` are the machines stopped,
    /// installed or on their way there, `value` the share of the region closed (`value_unit` `share`).
    Ban,
    /// An import tariff in a region, scripted or drawn, replacing any earlier rate on the same origin
    /// (subject: the region): `value` is the rate as a share of the price (`value_unit` `rate_share`),
    /// `detail` names the origin taxed (`origin NAME`).
    Tariff,
    /// A tightening in a region, scripted or drawn (subject: the region): `value` is the rise of its opex
    /// share of power, less than the tightening's own where the share reached its maximum of 10
    /// (`value_unit` `opex_share_increase`).
    Tightening,
    /// A scripted foundry shortage (subject: the network): `value` is the share of their allotments the
    /// foundries can book while it lasts (`value_unit` `allotment_share`).
    FoundryShortage,
    /// Machines from the relocation pool moved to regions with room (subject: the region they were stopped
    /// in or bound for): `units` are the machines moved, `amount_usd` the cost of the move, `value` the
    /// months they waited (`value_unit` `months_waited`).
    RelocationCompleted,
    /// Machines of the relocation pool that found no site by the deadline were sold outside the simulated
    /// regions or scrapped (subject: the region they were stopped in or bound for): `units` are all of them,
    /// `amount_usd` the proceeds, `value` the machines sold (`value_unit` `units_sold`).
    MachinesStranded,
    /// A futures purchase signed (subject: the manufacturer), one event per region its machines go to:
    /// `region_idx` is the region, `units` its machines, `amount_usd` their value at the contract price,
    /// `value` the prepayment share (`value_unit` `prepay_share`).
    ContractSigned,
    /// Buyers of futures machines fallen due walked away (subject: the manufacturer): `units` are the
    /// machines, `amount_usd` the prepayment forfeited, `value` the walk-away probability of the batch
    /// (`value_unit` `probability`).
    WalkAway,
    /// A futures contract late beyond the limit was cancelled (subject: the manufacturer): `units` are the
    /// machines still owed on it, `amount_usd` the prepayment refunded.
    ContractRefunded,
    /// A futures contract with nothing left pending left the book (subject: the manufacturer): `units` are
    /// its machines, `amount_usd` their value at the contract price, `value` the contract's id, and
    /// `value_unit` its final status (`delivered`, `walked_away`, `refunded` or `mixed`).
    ContractClosed,
    /// Dealers took a manufacturer's excess stock on an installment contract, in a bear regime (subject: the
    /// manufacturer): `units` are the machines, `amount_usd` their value at the wholesale price, `value` the
    /// down payment share (`value_unit` `down_payment_share`).
    InstallmentSigned,
    /// Dealers defaulted on an installment contract (subject: the manufacturer): `units` are the machines
    /// still held, which go back to the manufacturer, `amount_usd` the balance left, `value` the contract's
    /// id (`value_unit` `installment_id`).
    DealerDefault,
    /// A key-account firm that failed defaulted on its futures with a manufacturer (subject: the
    /// manufacturer): `units` are the machines pending that it will never take, `amount_usd` the balances left
    /// unpaid, `value` the prepayments the manufacturer kept (`value_unit` `prepayments_kept_usd`), `detail`
    /// the firm (`firm NAME`).
    BuyerDefault,
    /// A failed key-account firm's fleet was sold at fire-sale prices (subject: the key-account segment):
    /// `units` are the machines, `amount_usd` what they fetched, `value` those surviving firms bought
    /// (`value_unit` `units_consolidated`), `detail` the firm (`firm NAME`).
    FireSale,
    /// A failed key-account firm was wound up (subject: the key-account segment): `amount_usd` is the debt
    /// its lenders wrote off, `value` what its estate repaid them (`value_unit` `debt_repaid_usd`), `detail`
    /// the firm (`firm NAME`).
    Bankruptcy,
    /// A manufacturer's cash fell below minus its credit line (subject: the manufacturer): `amount_usd` and
    /// `value` are its cash at the month's end (`value_unit` `usd`).
    DistressStarted,
    /// A distressed manufacturer's cash is no longer below minus its credit line (subject: the manufacturer):
    /// `amount_usd` and `value` are its cash at the month's end (`value_unit` `usd`).
    DistressEnded,
    /// A failed check that stopped the path, recorded by the output layer from the path's [`Violation`]
    /// (subject: the path); `detail` says what broke and the two quantities that disagree.
    InvariantViolation,
}

impl EventKind {
    /// The kind's name, as written in the events table's `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Retarget => "retarget",
            EventKind::Halving => "halving",
            EventKind::PriceShock => "price_shock",
            EventKind::SetRegime => "set_regime",
            EventKind::PowerShock => "power_shock",
            EventKind::Ban => "ban",
            EventKind::Tariff => "tariff",
            EventKind::Tightening => "tightening",
            EventKind::FoundryShortage => "foundry_shortage",
            EventKind::RelocationCompleted => "relocation_completed",
            EventKind::MachinesStranded => "machines_stranded",
            EventKind::ContractSigned => "contract_signed",
            EventKind::WalkAway => "walk_away",
            EventKind::ContractRefunded => "contract_refunded",
            EventKind::ContractClosed => "contract_closed",
            EventKind::InstallmentSigned => "installment_signed",
            EventKind::DealerDefault => "dealer_default",
            EventKind::BuyerDefault => "buyer_default",
            EventKind::FireSale => "fire_sale",
            EventKind::Bankruptcy => "bankruptcy",
            EventKind::DistressStarted => "distress_started",
            EventKind::DistressEnded => "distress_ended",
            EventKind::InvariantViolation => "invariant_violation",
        }
    }
}

row_table! {
/// One thing that happened: a row of `events.parquet`. `value` carries the event's main figure in
/// `value_unit`; [`EventKind`] says what each kind puts in which figure.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// The path's index (column `path`).
    pub path_idx: u32 => "path",
    /// The month it happened in, written as the date of its first day.
    pub month: Month,
    /// What happened, written as its name ([`EventKind::as_str`]).
    pub kind: EventKind,
    /// What it is about, written as its name.
    pub subject: Subject,
    /// For a retarget or a halving, the height of the first block it applies to; null otherwise.
    pub block_height: Option<u64>,
    /// The region a signed futures contract's machines go to (`contract_signed` only), written as its name
    /// (column `region`); null otherwise.
    pub region_idx: Option<usize> => "region" in Regions,
    /// Machines the event concerns; 0 when none.
    pub units: u64,
    /// Money the event concerns, in USD; 0 when none.
    pub amount_usd: f64,
    /// The event's main figure, in `value_unit`; 0 when none.
    pub value: f64,
    /// What `value` measures (`difficulty`, `share`, `probability`...), or for `contract_closed` the
    /// contract's final status; empty when the event has no value.
    pub value_unit: &'static str,
    /// Free text, used only by rare events: the origin a tariff taxes, what an invariant violation broke;
    /// empty otherwise.
    pub detail: String,
    /// Whether a region's hazard drew the event at random (a ban, tariff, tightening or power shock); false
    /// for scripted events and everything else.
    pub drawn: bool,
}
}

/// End-of-path figures of the network and the miners: the network columns of a run's `summary.parquet`
/// (repeated on each manufacturer's row) and of a sweep's path outcomes. "Monthly running hashrate" is each
/// month's `NetworkRow::hashrate_ehs`, self-mining included.
#[derive(Clone, Debug, Default)]
pub struct NetworkSummary {
    /// BTC price at the end of the path, in USD: the last month's price.
    pub end_price_usd: f64,
    /// The last month's running hashrate, in EH/s (the scenario's starting hashrate if no month ran).
    pub end_hashrate_ehs: f64,
    /// Difficulty in force at the end of the path.
    pub end_difficulty: f64,
    /// Height of the chain's tip at the end of the path, the last block mined.
    pub end_block_height: u64,
    /// Coins issued by block subsidies over the path, in BTC, exact to the satoshi (fees not included).
    pub total_issued_btc: f64,
    /// The largest fall of the monthly running hashrate from its peak so far, as a share of that peak, in
    /// [0, 1].
    pub max_hashrate_drawdown_share: f64,
    /// The lowest monthly running hashrate, in EH/s; 0 when no month ran.
    pub min_hashrate_ehs: f64,
    /// Halvings of the block subsidy over the path.
    pub n_halvings: u32,
    /// Difficulty retargets over the path.
    pub n_retargets: u32,
    /// Months of the path in a bull regime.
    pub months_in_bull: u32,
    /// Both miners' segments' cash at the end of the path, in USD (negative where credit is drawn).
    pub miners_end_cash_usd: f64,
    /// Key-account firms at the start of the path (0 where the key accounts are one pooled book).
    pub n_firms: u32,
    /// Key-account firms that failed over the path.
    pub buyer_defaults: u32,
    /// Futures machines they defaulted on.
    pub units_defaulted: u64,
    /// Balances they left unpaid, in USD.
    pub balance_defaulted_usd: f64,
    /// Prepayments the manufacturers kept on them, in USD.
    pub prepayments_kept_usd: f64,
    /// Machines of failed firms sold at fire-sale prices.
    pub fire_sale_units: u64,
    /// Term loans and notes the failed firms' lenders wrote off, in USD.
    pub debt_written_off_usd: f64,
}

row_table! {
    /// A manufacturer's outcome over one path: the figures a strategy is judged by. Its columns are those of
    /// a run's `summary.parquet` and a sweep's `paths.parquet`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ManufacturerOutcome {
        /// The manufacturer, an index into `Params::manufacturers`, written as its name (column
        /// `manufacturer`).
        pub manufacturer_idx: usize => "manufacturer" in Manufacturers,
        /// The lowest month-end cash over the path, in USD: the least `ManufacturerRow::cash_usd` of the
        /// path's months (the opening balance, in no month's row, is left out).
        pub min_cash_usd: f64,
        /// The first month that ended with that lowest cash, as an index from the start month; written as the
        /// date of the month's first day.
        pub min_cash_month: u32 => "min_cash_month" as Month = |o| Cell::Month(Month(o.min_cash_month)),
        /// Cash at the end of the path, in USD; negative while the credit line is drawn.
        pub end_cash_usd: f64,
        /// Whether month-end cash was ever below zero.
        pub cash_below_zero: bool,
        /// Whether the manufacturer was ever distressed at a month's end.
        pub distressed: bool,
        /// Sales revenue over the path, in USD (see `ManufacturerRow::revenue_usd`).
        pub revenue_usd: f64,
        /// Gross margin over the path, in USD: revenue less the book value of the machines sold and
        /// write-downs. Forfeited prepayments are other income (`prepayments_forfeited_usd`), not margin.
        pub gross_margin_usd: f64,
        /// Machines sold over the path: futures delivered, spot sales to miners and sales to dealers.
        pub units_sold: u64,
        /// Futures machines walked away from over the path, as a share of those walked away from or
        /// delivered (refunds left out); 0 when none fell due.
        pub walk_away_rate: f64,
        /// Prepayments forfeited by buyers who walked away over the path, in USD.
        pub prepayments_forfeited_usd: f64,
        /// Futures machines failed key-account firms defaulted on over the path.
        pub units_defaulted: u64,
        /// Balances those firms left unpaid over the path, in USD: the exposure the prepayments did not cover.
        pub balances_defaulted_usd: f64,
        /// Prepayments kept on those machines over the path, in USD.
        pub prepayments_kept_on_default_usd: f64,
        /// Write-downs of stock over the path, in USD.
        pub writedowns_usd: f64,
        /// The manufacturer's share of the machines sold by all manufacturers on the path, in [0, 1]; 0 when
        /// none sold any.
        pub market_share: f64,
        /// Book value of the machines sold over the path, in USD (revenue less this and write-downs is the
        /// gross margin).
        pub cogs_usd: f64,
        // The cash waterfall: `start_cash_usd` plus the cash received less the cash paid below is
        // `end_cash_usd`, on every path.
        /// The scenario's starting cash, in USD.
        pub start_cash_usd: f64,
        /// Cash collected for machines over the path, in USD: spot sales, futures balances at delivery,
        /// dealers' down payments and installments (prepayments are counted when received).
        pub sales_collected_usd: f64,
        /// Futures prepayments received over the path, in USD, with the advances on futures signed before
        /// the start (paid in before it, held in cash from the first month).
        pub prepayments_received_usd: f64,
        /// Prepayments applied to the price of machines delivered over the path, in USD: no cash moves when
        /// they are applied.
        pub prepayments_applied_usd: f64,
        /// Prepayments refunded on futures cancelled for being late, over the path, in USD.
        pub prepayments_refunded_usd: f64,
        /// Foundry prepayments paid on wafer lots ordered over the path, in USD.
        pub wafer_prepayments_paid_usd: f64,
        /// Foundry balances paid on wafer lots that arrived over the path, in USD.
        pub wafer_balances_paid_usd: f64,
        /// Assembly paid over the path, in USD.
        pub assembly_paid_usd: f64,
        /// Penalties paid to the foundry on take-or-pay capacity left unordered over the path, in USD.
        pub cancellation_penalties_usd: f64,
        /// Operating cost and R&D paid over the path, in USD.
        pub opex_usd: f64,
        /// Interest paid on credit drawn over the path, in USD.
        pub interest_usd: f64,
        /// Self-mining revenue over the path, in USD.
        pub self_mining_revenue_usd: f64,
        /// Self-mining power bills over the path, in USD.
        pub self_mining_power_cost_usd: f64,
        /// Received for stock scrapped over the path, in USD.
        pub scrap_proceeds_usd: f64,
        /// Revenue of the other lines over the path, hosting and the AI-chip unit, in USD.
        pub other_lines_revenue_usd: f64,
        /// Costs of the other lines over the path, hosting and the AI-chip unit (with its exit cost), in USD.
        pub other_lines_cost_usd: f64,
    }
}

impl ManufacturerOutcome {
    /// Cash received over the path, in USD: machines' sales collected, prepayments received, self-mining
    /// revenue, scrap proceeds and the other lines' revenue.
    pub fn cash_received_usd(&self) -> f64 {
        self.sales_collected_usd
            + self.prepayments_received_usd
            + self.self_mining_revenue_usd
            + self.scrap_proceeds_usd
            + self.other_lines_revenue_usd
    }

    /// Cash paid over the path, in USD: refunds, the foundry's prepayments, balances and penalties, assembly,
    /// operating cost, interest, self-mining power and the other lines' costs.
    pub fn cash_paid_usd(&self) -> f64 {
        self.prepayments_refunded_usd
            + self.wafer_prepayments_paid_usd
            + self.wafer_balances_paid_usd
            + self.assembly_paid_usd
            + self.cancellation_penalties_usd
            + self.opex_usd
            + self.interest_usd
            + self.self_mining_power_cost_usd
            + self.other_lines_cost_usd
    }
}

/// A broken conservation law or bound, found by the checks run every month.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The month whose checks failed.
    pub month: Month,
    /// What broke, in words.
    pub what: String,
    /// The quantity the law or bound requires.
    pub expected: f64,
    /// The quantity found.
    pub actual: f64,
}

/// What remains of a path once it has run: its end-of-horizon figures, and the failed check that stopped it
/// early, if one did.
#[derive(Clone, Debug, Default)]
pub struct PathSummary {
    /// The path's index.
    pub path_idx: u32,
    /// Months actually simulated (fewer than the horizon when a check failed).
    pub n_months: u32,
    /// The network's and the miners' end-of-path figures.
    pub network: NetworkSummary,
    /// Each manufacturer's outcome, in the scenario's order.
    pub manufacturers: Vec<ManufacturerOutcome>,
    /// The failed check that stopped the path, if one did.
    pub violation: Option<Violation>,
}

/// Where a path's records go.
pub trait Sink {
    /// Whether the engine should build monthly rows and events at all.
    const MONTHLY_ROWS: bool;
    /// Whether the conservation checks run every month. Otherwise they run every 12th month and in the last
    /// month: the laws that compare stocks with the path's running tallies (money, BTC, machines held,
    /// contracts, debts, sites) still catch a leak in any month, while the cohorts' law on the month's own
    /// flows is checked only in the months checked. Sweeps and sensitivity runs, which keep outcomes only,
    /// check sparsely; runs and the tests check every month.
    const CHECK_EVERY_MONTH: bool = true;
    /// Takes the month's network row.
    fn network(&mut self, row: &NetworkRow);
    /// Takes one of the month's miner rows, one per (segment, region).
    fn miner(&mut self, row: &MinerRow);
    /// Takes one of the month's manufacturer rows, one per manufacturer.
    fn manufacturer(&mut self, row: &ManufacturerRow);
    /// Takes the month's dealer row.
    fn dealer(&mut self, row: &DealerRow);
    /// Takes one of the month's region rows, one per region.
    fn region(&mut self, row: &RegionRow);
    /// Takes one of the month's events, in the order they happened, after the month's other rows.
    fn event(&mut self, row: EventRow);
}

/// A path that stopped early: a failed conservation check or a panic inside the model.
#[derive(Clone, Debug)]
pub struct PathFailure {
    /// The path's index.
    pub path_idx: u32,
    /// What stopped it.
    pub violation: Violation,
}

/// A sink that keeps nothing; the path's summary is all that remains. Every month is checked.
pub struct SummaryOnly;

/// A sink that keeps nothing, with the conservation checks run every 12th month and in the last month (see
/// `Sink::CHECK_EVERY_MONTH`): what sweeps and sensitivity runs simulate each path with.
pub struct OutcomeOnly;

impl Sink for OutcomeOnly {
    const MONTHLY_ROWS: bool = false;
    const CHECK_EVERY_MONTH: bool = false;
    fn network(&mut self, _row: &NetworkRow) {}
    fn miner(&mut self, _row: &MinerRow) {}
    fn manufacturer(&mut self, _row: &ManufacturerRow) {}
    fn dealer(&mut self, _row: &DealerRow) {}
    fn region(&mut self, _row: &RegionRow) {}
    fn event(&mut self, _row: EventRow) {}
}

impl Sink for SummaryOnly {
    const MONTHLY_ROWS: bool = false;
    fn network(&mut self, _row: &NetworkRow) {}
    fn miner(&mut self, _row: &MinerRow) {}
    fn manufacturer(&mut self, _row: &ManufacturerRow) {}
    fn dealer(&mut self, _row: &DealerRow) {}
    fn region(&mut self, _row: &RegionRow) {}
    fn event(&mut self, _row: EventRow) {}
}

/// A sink that keeps every row in memory (tests and small runs).
#[derive(Default, Debug)]
pub struct Collect {
    /// Network rows, in the order received.
    pub network: Vec<NetworkRow>,
    /// Miner rows, in the order received.
    pub miners: Vec<MinerRow>,
    /// Manufacturer rows, in the order received.
    pub manufacturers: Vec<ManufacturerRow>,
    /// Dealer rows, in the order received.
    pub dealers: Vec<DealerRow>,
    /// Region rows, in the order received.
    pub regions: Vec<RegionRow>,
    /// Events, in the order received.
    pub events: Vec<EventRow>,
}

impl Sink for Collect {
    const MONTHLY_ROWS: bool = true;
    fn network(&mut self, row: &NetworkRow) {
        self.network.push(row.clone());
    }
    fn miner(&mut self, row: &MinerRow) {
        self.miners.push(row.clone());
    }
    fn manufacturer(&mut self, row: &ManufacturerRow) {
        self.manufacturers.push(row.clone());
    }
    fn dealer(&mut self, row: &DealerRow) {
        self.dealers.push(row.clone());
    }
    fn region(&mut self, row: &RegionRow) {
        self.regions.push(row.clone());
    }
    fn event(&mut self, row: EventRow) {
        self.events.push(row);
    }
}
