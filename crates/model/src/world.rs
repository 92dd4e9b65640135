//! One path's world: every agent, market process and random stream, and the read-only queries the phases
//! share.
//!
//! The phases of a month (`crate::engine`) and the conservation checks (`crate::invariants`) depend on this
//! file; it depends on none of them, so the modules form no cycle.
#![warn(missing_docs)]

use crate::agents::dealer::Dealer;
use crate::agents::manufacturer::Manufacturer;
use crate::agents::miner::Fleet;
use crate::agents::miner::books::SegmentBooks;
use crate::agents::miner::firms::KeyAccountFirms;
use crate::events::{Event, EventQueue};
use crate::ledger::Ledger;
use crate::market::hardware::{monthly_profit_usd_per_unit, power_cost_usd_per_th_day};
use crate::market::hosting::HostingState;
use crate::market::network::{MonthBlocks, NetworkEvent, NetworkState, expected_usd_per_th_day};
use crate::market::offers::{Offer, terms_demand_factor};
use crate::market::power::PowerState;
use crate::market::price::{FeeState, PriceState};
use crate::market::regions::{RegionsState, RelocationBatch, RelocationTotals, Shock};
use crate::math::{to_units, units_f64};
use crate::params::{InitialCohort, Params, Regime, RoadmapEntry, Segment};
use crate::record::event_log::EventLog;
use crate::record::{EventKind, EventRow, Subject};
use crate::rng::{PathRng, Stream, stream_rng};
use crate::tallies::PathTallies;
use crate::units::{Month, THS_PER_EHS, W_PER_MW};

/// Buffers reused from month to month so the hot loop does not allocate.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) offers: Vec<Offer>,
    pub(crate) region_offers: Vec<Offer>,
    pub(crate) shipments: Vec<(Segment, usize, usize, u64)>,
    pub(crate) region_budgets: Vec<f64>,
    pub(crate) used_mw: Vec<f64>,
    pub(crate) region_weights: Vec<f64>,
    pub(crate) region_parts: Vec<u64>,
    /// For each of `region_offers`, the index of the offer in `offers` it was landed from.
    pub(crate) region_offer_base: Vec<usize>,
    /// Where a fill's units go: (region, units).
    pub(crate) destinations: Vec<(usize, u64)>,
    /// Where a futures delivery's units go: (region, units).
    pub(crate) delivered_regions: Vec<(usize, u64)>,
    pub(crate) capacity_units: Vec<f64>,
    pub(crate) realisable_usd: Vec<f64>,
    /// Each manufacturer's current machine's payback last month, for its competitors' pricing.
    pub(crate) competitor_payback_months: Vec<f64>,
    /// The manufacturers' self-mining generations as (power cost in USD per TH/s-day, TH/s) for the month's
    /// decision search, and where each manufacturer's end.
    pub(crate) self_mining_steps: (Vec<(f64, f64)>, Vec<usize>),
    /// Per manufacturer, (appeal, price) of its most wanted sold-out offer in a buying pass.
    pub(crate) unmet_appeal: Vec<(f64, f64)>,
    /// Per manufacturer, what a buying pass's offers show of it: its most wanted sold-out offer (appeal,
    /// price), if any, and whether it offered anything spot.
    pub(crate) unmet_offers: Vec<(Option<(f64, f64)>, bool)>,
    /// Each offer's choice weight, for `allocate`.
    pub(crate) choice_weights: Vec<f64>,
    pub(crate) due: Vec<Event>,
    pub(crate) network_events: Vec<NetworkEvent>,
    pub(crate) shocks: Vec<Shock>,
}

/// Figures of the month being simulated that one phase works out and later phases (and the month's rows)
/// read. `World::open_month` resets them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MonthFigures {
    /// Days in the calendar month.
    pub(crate) n_days: f64,
    pub(crate) hours: f64,
    /// The BTC price the miners decide on (phase 3) and are paid at (phase 4).
    pub(crate) price_usd: f64,
    /// Manufacturers' self-mining hashrate running this month.
    pub(crate) self_mining_ths: f64,
    /// The whole running hashrate: the fleet's and the self-mining fleets'.
    pub(crate) running_ths: f64,
    pub(crate) blocks: MonthBlocks,
    pub(crate) issued_btc: f64,
    pub(crate) fees_btc: f64,
    pub(crate) miner_revenue_usd: f64,
    pub(crate) self_mining_power_usd: f64,
}

/// Everything one path knows. Fields are crate-visible so the phases in `crate::market` can move units and
/// money between agents (through the agents' posting methods).
pub struct World<'p> {
    pub(crate) params: &'p Params,
    pub(crate) path_idx: u32,
    pub(crate) month: Month,
    pub(crate) price: PriceState,
    pub(crate) fees: FeeState,
    pub(crate) power: PowerState,
    pub(crate) network: NetworkState,
    pub(crate) fleet: Fleet,
    pub(crate) segments: [SegmentBooks; 2],
    /// The key accounts as firms (none when they are one pooled book); their cash adds up to the key-account
    /// segment's.
    pub(crate) key_accounts: KeyAccountFirms,
    pub(crate) manufacturers: Vec<Manufacturer>,
    pub(crate) dealer: Dealer,
    /// Used-machine price per generation this month.
    pub(crate) secondary_price_usd: Vec<f64>,
    /// Cheapest price a buyer can pay today for a new machine of each generation.
    pub(crate) replacement_price_usd: Vec<f64>,
    /// What manufacturers' stock of each generation would fetch (payback price without the cost floor).
    pub(crate) market_price_usd: Vec<Vec<f64>>,
    /// How much each manufacturer's futures terms shrink what each segment signs for (fixed for the path).
    pub(crate) terms_demand_factor: Vec<[f64; 2]>,
    /// Expected USD per TH/s per day at the current difficulty and price.
    pub(crate) revenue_usd_per_th_day: f64,
    /// Used-machine profit per month of each generation at `revenue_usd_per_th_day` (`reference_profit_usd`),
    /// set with the revenue: buyers and sellers compare paybacks at it many times a month.
    pub(crate) reference_monthly_profit_usd: Vec<f64>,
    pub(crate) fees_btc_per_block: f64,
    pub(crate) queue: EventQueue,
    pub(crate) rng_price: PathRng,
    pub(crate) rng_fees: PathRng,
    pub(crate) rng_power: PathRng,
    pub(crate) rng_agents: PathRng,
    pub(crate) rng_shocks: PathRng,
    pub(crate) regions: RegionsState,
    /// Machines stopped by bans, waiting for capacity elsewhere.
    pub(crate) relocation: Vec<RelocationBatch>,
    pub(crate) relocation_totals: RelocationTotals,
    /// AI/HPC hosting contracts, the key accounts' MW converting and hosting, and AI data centres' sites.
    pub(crate) hosting: HostingState,
    /// Delivered machines that found no site this month, per contract region.
    pub(crate) queued_units: Vec<u64>,
    /// Stranded machines sold off recently, still weighing on used prices, per generation.
    pub(crate) stranded_overhang_units: Vec<f64>,
    /// Share of their allotments the foundries can book while a shortage lasts, and the first month after it.
    pub(crate) foundry_shortage: (f64, Month),
    pub(crate) ledger: Ledger,
    pub(crate) pending_events: EventLog,
    pub(crate) scratch: Scratch,
    pub(crate) figures: MonthFigures,
    pub(crate) tallies: PathTallies,
}

/// The key-account firms of a path (none unless the scenario has firms). Drawn firms split the segment's
/// starting cash and credit line and take debt against their share of the starting fleet at used prices;
/// listed firms bring their own, and the segment's books start from their sums.
fn start_key_account_firms(
    params: &Params,
    fleet: &Fleet,
    segments: &mut [SegmentBooks; 2],
    path_idx: u32,
) -> KeyAccountFirms {
    let firms_params = &params.key_account_firms;
    if !firms_params.enabled() {
        return KeyAccountFirms::default();
    }
    let sp = &params.segments[Segment::KeyAccount.idx()];
    let revenue = start_revenue_usd_per_th_day(params);
    let market = &params.secondary_market;
    let mut fleet_value_usd = 0.0;
    for c in fleet.segment_cohorts(Segment::KeyAccount) {
        let g = c % fleet.n_generations;
        let price = (reference_profit_usd(params, g, revenue) * market.used_payback_months)
            .max(market.scrap_value_usd_per_unit);
        fleet_value_usd += units_f64(fleet.units[c]) * price;
    }
    let mut rng = stream_rng(params.simulation.seed, path_idx as u64, Stream::Firms);
    let firms = KeyAccountFirms::start(firms_params, sp.cash_usd, sp.credit_line_usd, fleet_value_usd, &mut rng);
    let books = &mut segments[Segment::KeyAccount.idx()];
    books.set_starting_cash(firms.cash_usd());
    books.set_credit_line(firms.credit_available_usd());
    firms
}

impl<'p> World<'p> {
    /// A path's world before its first month: the starting fleet scaled so that what runs in the first month matches
    /// the scenario's starting hashrate, every agent at its starting balances, the random streams seeded from
    /// (seed, `path_idx`), and the scripted events queued.
    pub fn new(params: &'p Params, path_idx: u32) -> World<'p> {
        let seed = params.simulation.seed;
        let n_gen = params.generations.len();
        let n_reg = params.regions.len();
        let history_len = params
            .segments
            .iter()
            .map(|s| s.retire_after_months as usize)
            .max()
            .unwrap_or(1);
        let max_shipping_lag_months = params.segments.iter().map(|s| s.shipping_lag_months).max().unwrap_or(0);
        let mut fleet = Fleet::new(
            &params.regions,
            &params.generations,
            history_len,
            max_shipping_lag_months,
        );
        let scale = initial_fleet_scale(params);
        for cohort in &params.initial_fleet {
            let c = fleet.cohort_idx(cohort.segment, cohort.region_idx, cohort.generation_idx);
            fleet.add_units(c, to_units(cohort.units as f64 * scale));
            // The starting fleet is in its steady state: the sites that pay their power at the start run, the
            // rest are off, so the first month's hashrate is the scenario's starting hashrate, not the whole
            // installed fleet switching off at the segment's response speed.
            fleet.start_running_share(c, initial_profitable_share(params, cohort));
        }
        let mut segments =
            [0, 1].map(|s| SegmentBooks::new(params.segments[s].cash_usd, params.segments[s].credit_line_usd));
        let key_accounts = start_key_account_firms(params, &fleet, &mut segments, path_idx);
        // Scripted events past the horizon are never applied: the queue drops them.
        let mut queue = EventQueue::with_horizon(params.simulation.horizon_months as usize);
        for (event_idx, event) in params.events.iter().enumerate() {
            queue.schedule(event.month, Event::Scripted { event_idx });
        }
        let total_allotment_units: u64 = params
            .manufacturers
            .iter()
            .map(|m| m.foundry_allotment_units_per_month)
            .sum();
        let start_revenue = start_revenue_usd_per_th_day(params);
        let (book_segment_weights, book_region_weights) = initial_book_buyers(params);
        let manufacturers: Vec<Manufacturer> = params
            .manufacturers
            .iter()
            .map(|mp| {
                let share = if total_allotment_units > 0 {
                    mp.foundry_allotment_units_per_month as f64 / total_allotment_units as f64
                } else {
                    0.0
                };
                let mut m = Manufacturer::start(mp, &params.generations, share);
                // Signed at the list price the manufacturer's rule gives at the start.
                let price = |entry: &RoadmapEntry| {
                    let profit = monthly_profit_usd_per_unit(
                        &params.generations[entry.generation_idx],
                        start_revenue,
                        mp.strategy.pricing_power_price_usd_per_kwh,
                        0.0,
                    );
                    (profit * mp.strategy.target_payback_months)
                        .max(entry.unit_cost_usd * (1.0 + mp.strategy.min_margin_share))
                };
                m.open_initial_book(mp, price, &book_segment_weights, &mut segments, &book_region_weights);
                m
            })
            .collect();
        let dealer = Dealer::new(params.dealers.cash_usd, params.dealers.credit_line_usd, n_gen);
        let ledger = Ledger::new(&manufacturers, &segments, &dealer, &fleet, params);
        World {
            params,
            path_idx,
            month: Month(0),
            price: PriceState::new(&params.price),
            fees: FeeState::default(),
            power: PowerState::new(&params.regions),
            network: NetworkState::new(params.network.block_height, params.network.difficulty),
            fleet,
            segments,
            key_accounts,
            manufacturers,
            dealer,
            secondary_price_usd: vec![0.0; n_gen],
            replacement_price_usd: vec![0.0; n_gen],
            market_price_usd: vec![vec![0.0; n_gen]; params.manufacturers.len()],
            terms_demand_factor: params
                .manufacturers
                .iter()
                .map(|mp| [0, 1].map(|s| terms_demand_factor(&params.segments[s], &mp.strategy)))
                .collect(),
            revenue_usd_per_th_day: 0.0,
            reference_monthly_profit_usd: (0..n_gen).map(|g| reference_profit_usd(params, g, 0.0)).collect(),
            fees_btc_per_block: 0.0,
            queue,
            rng_price: stream_rng(seed, path_idx as u64, Stream::Price),
            rng_fees: stream_rng(seed, path_idx as u64, Stream::Fees),
            rng_power: stream_rng(seed, path_idx as u64, Stream::Power),
            rng_agents: stream_rng(seed, path_idx as u64, Stream::Agents),
            rng_shocks: stream_rng(seed, path_idx as u64, Stream::Shocks),
            regions: RegionsState::new(params),
            relocation: Vec::with_capacity(16),
            relocation_totals: RelocationTotals::default(),
            hosting: HostingState::new(params, path_idx),
            queued_units: vec![0; n_reg],
            stranded_overhang_units: vec![0.0; n_gen],
            foundry_shortage: (1.0, Month(0)),
            ledger,
            pending_events: EventLog::new(true),
            scratch: Scratch {
                due: Vec::with_capacity(64),
                network_events: Vec::with_capacity(8),
                shocks: Vec::with_capacity(8),
                ..Scratch::default()
            },
            figures: MonthFigures::default(),
            tallies: PathTallies::new(params.network.block_height, params.network.hashrate_ehs * THS_PER_EHS),
        }
    }

    /// The key-account firms, for inspection between months (empty when the key accounts are one book).
    pub fn key_accounts(&self) -> &KeyAccountFirms {
        &self.key_accounts
    }

    /// AI/HPC hosting over the path so far, for inspection between months.
    pub fn hosting(&self) -> &HostingState {
        &self.hosting
    }

    /// The regions' state (sites, opex, tariffs, bans), for inspection between months.
    pub fn regions(&self) -> &RegionsState {
        &self.regions
    }

    /// The miners' fleet, for inspection between months.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The manufacturers, in scenario order, for inspection between months.
    pub fn manufacturers(&self) -> &[Manufacturer] {
        &self.manufacturers
    }

    /// The channel dealers, for inspection between months.
    pub fn dealer(&self) -> &Dealer {
        &self.dealer
    }

    /// The network's block height, difficulty and block clock, for inspection between months.
    pub fn network(&self) -> &NetworkState {
        &self.network
    }

    /// The month the next `step` simulates, counted from the start month (0); after the last step, the horizon.
    pub fn month(&self) -> Month {
        self.month
    }

    /// Running share of one generation's installed machines, over all segments and regions.
    pub fn generation_running_share(&self, generation_idx: usize) -> f64 {
        let (mut units, mut running) = (0u64, 0u64);
        for c in 0..self.fleet.n_cohorts() {
            if c % self.fleet.n_generations == generation_idx {
                units += self.fleet.units[c];
                running += self.fleet.running[c];
            }
        }
        if units > 0 { running as f64 / units as f64 } else { 0.0 }
    }

    /// A new row for an event this month, or `None` when the sink takes no events.
    pub(crate) fn event(&mut self, kind: EventKind, subject: Subject) -> Option<&mut EventRow> {
        self.pending_events.push(self.path_idx, self.month, kind, subject)
    }

    pub(crate) fn month_offset(&self) -> i64 {
        self.month.0 as i64
    }

    /// Starts the month: events are kept only when the sink takes monthly rows, the month's flows are
    /// cleared and the ledger notes the opening balances the money checks start from.
    pub(crate) fn open_month(&mut self, monthly_rows: bool) {
        let params = self.params;
        self.pending_events.set_recording(monthly_rows);
        let calendar = params.simulation.start.plus_months(self.month.0 as i64);
        self.figures = MonthFigures {
            n_days: calendar.n_days() as f64,
            ..MonthFigures::default()
        };
        self.fleet.open_month(self.month);
        self.queued_units.fill(0);
        for m in &mut self.manufacturers {
            m.open_month();
        }
        self.dealer.open_month();
        for s in &mut self.segments {
            s.open_month();
        }
        self.key_accounts
            .open_month(self.segments[Segment::KeyAccount.idx()].cash_usd());
        self.ledger
            .open_month(&self.manufacturers, &self.segments, &self.dealer);
    }

    /// Power each region's installed and incoming machines draw, in MW.
    pub(crate) fn region_used_mw(&self, used_mw: &mut Vec<f64>) {
        let params = self.params;
        used_mw.clear();
        used_mw.resize(params.regions.len(), 0.0);
        for c in 0..self.fleet.n_cohorts() {
            let n = self.fleet.units[c] + self.fleet.in_transit[c];
            if n > 0 {
                let (_, r, g) = self.fleet.cohort_parts(c);
                used_mw[r] += units_f64(n) * params.generations[g].power_w / W_PER_MW;
            }
        }
    }

    /// Power drawn per region, for the decisions that need it: zeros when no region has a capacity limit
    /// (nothing then depends on it), saving a pass over every cohort.
    pub(crate) fn used_mw_for_decisions(&self, used_mw: &mut Vec<f64>) {
        if self.regions.any_limited() {
            self.region_used_mw(used_mw);
        } else {
            used_mw.clear();
            used_mw.resize(self.params.regions.len(), 0.0);
        }
    }

    /// Weights of the regions where a segment's new machines of generation `g` go: the segment's footprint,
    /// scaled by the share of capacity still free (when capacity is limited) and by what is not banned, and
    /// tilted towards the best margins.
    pub(crate) fn region_weights(&self, segment: Segment, g: usize, used_mw: &[f64], weights: &mut Vec<f64>) {
        let params = self.params;
        let generation = &params.generations[g];
        let hp = self.revenue_usd_per_th_day.max(1e-12);
        let sensitivity = params.segments[segment.idx()].region_choice_sensitivity;
        weights.clear();
        let mut max_score = f64::NEG_INFINITY;
        // Every per-region array has one entry per region.
        let prices = &self.power.price_usd_per_kwh[..params.regions.len()];
        for (&price, &opex_share) in prices.iter().zip(self.regions.opex_share()) {
            let cost = power_cost_usd_per_th_day(generation.efficiency_jth(), price) * (1.0 + opex_share);
            let score = sensitivity * (hp - cost) / hp;
            max_score = max_score.max(score);
            weights.push(score);
        }
        let regions = params.regions.iter().zip(&self.regions.capacity_mw).zip(used_mw);
        for ((weight, ((region, &capacity), &used)), &ban_level) in
            weights.iter_mut().zip(regions).zip(&self.regions.ban_level)
        {
            let free = if capacity.is_finite() {
                if capacity > 0.0 {
                    ((capacity - used) / capacity).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            } else {
                1.0
            };
            *weight =
                region.segment_fleet_shares[segment.idx()] * free * (1.0 - ban_level) * (*weight - max_score).exp();
        }
    }
}

/// The share of a starting cohort's sites that pay their power in the first month, at the start price, the
/// bull-or-bear mean fee and the region's base power price.
pub fn initial_profitable_share(params: &Params, cohort: &InitialCohort) -> f64 {
    let fees = match params.price.start_regime {
        Regime::Bull => params.fees.bull_mean_btc_per_block,
        Regime::Bear => params.fees.bear_mean_btc_per_block,
    };
    // The next block's subsidy: `block_height` is the tip's, the last block mined.
    let btc_per_block = crate::market::network::subsidy_btc(params.network.block_height + 1) + fees;
    let revenue_th_day =
        expected_usd_per_th_day(params.network.difficulty, btc_per_block, params.price.start_price_usd);
    let region = &params.regions[cohort.region_idx];
    let generation = &params.generations[cohort.generation_idx];
    let breakeven = crate::market::hardware::breakeven_power_price_usd_per_kwh(
        revenue_th_day,
        generation.efficiency_jth(),
        region.opex_share_of_power,
    );
    let z = crate::agents::miner::standardised_breakeven(
        breakeven,
        region.power_price_base_usd_per_kwh.ln(),
        region.site_power_price_dispersion_log,
    );
    crate::math::norm_cdf(z)
}

/// Factor applied to the starting fleet so that what runs in the first month, at the start price, the
/// bull-or-bear mean fee and base power prices, matches the scenario's starting hashrate.
pub fn initial_fleet_scale(params: &Params) -> f64 {
    let mut installed_ths = 0.0;
    let mut running_ths = 0.0;
    for cohort in &params.initial_fleet {
        let generation = &params.generations[cohort.generation_idx];
        let ths = cohort.units as f64 * generation.hashrate_ths;
        installed_ths += ths;
        running_ths += ths * initial_profitable_share(params, cohort);
    }
    if running_ths > 0.0 && installed_ths > 0.0 {
        // Never more than ten times the stated fleet: a start where almost nothing runs is the scenario's to fix.
        (installed_ths / running_ths).min(10.0)
    } else {
        1.0
    }
}

/// The newest generation released by `month` (the first generation if none is).
pub fn newest_released_generation(params: &Params, month: Month) -> usize {
    let mut best = 0;
    let mut best_release = i64::MIN;
    for (g, generation) in params.generations.iter().enumerate() {
        if generation.is_released(month) && generation.release_month_offset >= best_release {
            best = g;
            best_release = generation.release_month_offset;
        }
    }
    best
}

/// Revenue per TH/s per day at the start: the starting difficulty, subsidy and price, and the mean fee of
/// the starting regime.
fn start_revenue_usd_per_th_day(params: &Params) -> f64 {
    let network = NetworkState::new(params.network.block_height, params.network.difficulty);
    let fees = match params.price.start_regime {
        Regime::Bull => params.fees.bull_mean_btc_per_block,
        Regime::Bear => params.fees.bear_mean_btc_per_block,
    };
    let price = PriceState::new(&params.price).price_usd();
    expected_usd_per_th_day(params.network.difficulty, network.next_subsidy_btc() + fees, price)
}

/// Who holds the futures book at the start: the buyer segments weighted by their cash, each taking its
/// machines to the regions in proportion to its starting fleet there.
fn initial_book_buyers(params: &Params) -> ([f64; 2], [Vec<f64>; 2]) {
    let weights = [0, 1].map(|s| params.segments[s].cash_usd.max(0.0));
    let regions = Segment::ALL.map(|segment| {
        let mut units = vec![0.0; params.regions.len()];
        for cohort in params.initial_fleet.iter().filter(|c| c.segment == segment) {
            units[cohort.region_idx] += cohort.units as f64;
        }
        units
    });
    (weights, regions)
}

impl World<'_> {
    /// Sets the month's expected revenue per TH/s per day and, with it, every generation's reference profit.
    pub(crate) fn set_revenue_usd_per_th_day(&mut self, revenue_usd_per_th_day: f64) {
        self.revenue_usd_per_th_day = revenue_usd_per_th_day;
        for (g, profit) in self.reference_monthly_profit_usd.iter_mut().enumerate() {
            *profit = reference_profit_usd(self.params, g, revenue_usd_per_th_day);
        }
    }

    /// Installed hashrate in TH/s, running or not: the miners' fleet and the manufacturers' self-mining
    /// machines.
    pub(crate) fn installed_ths(&self) -> f64 {
        let params = self.params;
        let self_mining: f64 = self
            .manufacturers
            .iter()
            .map(|m| {
                m.self_mining_units()
                    .iter()
                    .zip(&params.generations)
                    .map(|(&n, g)| units_f64(n) * g.hashrate_ths)
                    .sum::<f64>()
            })
            .sum();
        self.fleet.installed_ths(&params.generations) + self_mining
    }

    /// Share of their allotments the foundries can book this month (below 1 during a foundry shortage).
    pub(crate) fn foundry_allotment_share(&self) -> f64 {
        let (share, until) = self.foundry_shortage;
        if self.month < until { share } else { 1.0 }
    }
}

/// Used-machine profit of a generation at the market's reference power price, per month.
pub fn reference_profit_usd(params: &Params, generation_idx: usize, revenue_usd_per_th_day: f64) -> f64 {
    monthly_profit_usd_per_unit(
        &params.generations[generation_idx],
        revenue_usd_per_th_day,
        params.secondary_market.reference_power_price_usd_per_kwh,
        0.0,
    )
}
