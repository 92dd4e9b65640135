//! The engine: one path's world, stepped month by month in a fixed phase order.
//!
//! Phases within month `t` (each reads the state the previous phases left):
//!
//! 1. **Exogenous draws**: BTC price and regime, fees per block, regional power prices.
//! 2. **Due events**: scripted events first, then the month's machines arriving at miners, then wafer lots
//!    arriving at manufacturers; then machines stopped by bans move where there is room.
//! 3. **Miners operate**: each cohort runs the machines whose sites' power price is below breakeven at the
//!    month's starting difficulty and price, and retires machines that stayed off too long; manufacturers'
//!    self-mining fleets run when profitable.
//! 4. **Network**: blocks at the running hashrate, retargets and halvings at their heights; revenue is
//!    shared by hashrate; miners pay power.
//! 5. **Valuation**: used-machine prices, manufacturers produce and price, dealers price.
//! 6. **Futures deliveries**: batches fall due; buyers walk away or pay the balance; late batches are refunded.
//! 7. **Dealers**: installments are paid or defaulted; dealers stockpile (bull) or take installments (bear).
//! 8. **Buyers**: key accounts, then retail, sign futures and buy spot; machines ship to regions, and
//!    each cohort's month of deliveries and purchases arrives together after the segment's shipping lag.
//! 9. **Segments' finance**: retail inflow in bull regimes, churn of segments out of cash, interest.
//! 10. **Manufacturers' finance**: self-mining of unsold stock, write-downs and scrapping, fixed costs,
//!     wafer orders for month `t + L`, distress.
//! 11. **Checks and records**: conservation checks, then the month's rows go to the sink.

use crate::agents::dealer::Dealer;
use crate::agents::manufacturer::Manufacturer;
use crate::agents::miner::{Fleet, SegmentBooks};
use crate::events::{Event, EventQueue};
use crate::invariants::{self, Ledger};
use crate::market::hardware::{monthly_profit_usd_per_unit, power_cost_usd_per_th_day};
use crate::market::network::{
    HASHES_PER_DIFFICULTY, NetworkEvent, NetworkState, SATS_PER_BTC, TARGET_BLOCK_SECONDS, expected_usd_per_th_day,
    hashprice_usd_per_ph_day,
};
use crate::market::power::PowerState;
use crate::market::price::{FeeState, PriceState};
use crate::market::regions::{RegionsState, RelocationBatch, RelocationTotals, Shock, draw_shocks};
use crate::market::trade;
use crate::math::{to_units, units_f64};
use crate::params::{Params, Regime, ScriptedEventKind, Segment};
use crate::record::{
    DealerRow, EventKind, EventLog, EventRow, ManufacturerOutcome, ManufacturerRow, MinerRow, NetworkRow,
    NetworkSummary, PathSummary, RegionRow, Sink, Subject,
};
use crate::rng::{PathRng, Stream, stream_rng};
use crate::units::{HOURS_PER_DAY, Month, SECONDS_PER_DAY, THS_PER_EHS, THS_PER_PHS, W_PER_KW};

/// Everything one path knows. Fields are crate-visible so the market steps in `trade` can move units
/// and money between agents.
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
    pub(crate) fees_btc_per_block: f64,
    pub(crate) queue: EventQueue,
    due: Vec<Event>,
    network_events: Vec<NetworkEvent>,
    pub(crate) rng_price: PathRng,
    rng_fees: PathRng,
    rng_power: PathRng,
    pub(crate) rng_agents: PathRng,
    rng_shocks: PathRng,
    shocks: Vec<Shock>,
    pub(crate) regions: RegionsState,
    /// Machines stopped by bans, waiting for capacity elsewhere.
    pub(crate) relocation: Vec<RelocationBatch>,
    pub(crate) relocation_totals: RelocationTotals,
    /// Delivered machines that found no site this month, per contract region.
    pub(crate) queued_units: Vec<u64>,
    /// Stranded machines sold off recently, still weighing on used prices, per generation.
    pub(crate) stranded_overhang_units: Vec<f64>,
    pub(crate) ledger: Ledger,
    pub(crate) pending_events: EventLog,
    pub(crate) trade_scratch: trade::Scratch,
    // Path tallies for the summary.
    start_height: u64,
    peak_hashrate_ths: f64,
    max_drawdown_share: f64,
    min_hashrate_ths: f64,
    n_halvings: u32,
    n_retargets: u32,
    months_in_bull: u32,
    last_hashrate_ths: f64,
}

impl<'p> World<'p> {
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
        }
        let segments = [0, 1].map(|s| SegmentBooks {
            cash_usd: params.segments[s].cash_usd,
            credit_line_usd: params.segments[s].credit_line_usd,
            ..SegmentBooks::default()
        });
        // Scripted events past the horizon are never applied: the queue drops them.
        let mut queue = EventQueue::with_horizon(params.simulation.horizon_months as usize);
        for (event_idx, event) in params.events.iter().enumerate() {
            queue.schedule(event.month, Event::Scripted { event_idx });
        }
        let mut manufacturers: Vec<Manufacturer> = params
            .manufacturers
            .iter()
            .map(|m| Manufacturer::new(m, n_gen))
            .collect();
        for (m, mp) in manufacturers.iter_mut().zip(&params.manufacturers) {
            let first = &mp.roadmap[Manufacturer::current_roadmap_idx(mp, 0)];
            m.stock[first.generation_idx].put(
                mp.initial_inventory_units,
                mp.initial_inventory_units as f64 * first.unit_cost_usd,
            );
            m.wafer_lots.extend(trade::initial_wafer_lots(mp));
        }
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
            manufacturers,
            dealer,
            secondary_price_usd: vec![0.0; n_gen],
            replacement_price_usd: vec![0.0; n_gen],
            market_price_usd: vec![vec![0.0; n_gen]; params.manufacturers.len()],
            terms_demand_factor: params
                .manufacturers
                .iter()
                .map(|mp| [0, 1].map(|s| trade::terms_demand_factor(&params.segments[s], &mp.strategy)))
                .collect(),
            revenue_usd_per_th_day: 0.0,
            fees_btc_per_block: 0.0,
            queue,
            due: Vec::with_capacity(64),
            network_events: Vec::with_capacity(8),
            rng_price: stream_rng(seed, path_idx as u64, Stream::Price),
            rng_fees: stream_rng(seed, path_idx as u64, Stream::Fees),
            rng_power: stream_rng(seed, path_idx as u64, Stream::Power),
            rng_agents: stream_rng(seed, path_idx as u64, Stream::Agents),
            rng_shocks: stream_rng(seed, path_idx as u64, Stream::Shocks),
            shocks: Vec::with_capacity(8),
            regions: RegionsState::new(params),
            relocation: Vec::with_capacity(16),
            relocation_totals: RelocationTotals::default(),
            queued_units: vec![0; n_reg],
            stranded_overhang_units: vec![0.0; n_gen],
            ledger,
            pending_events: EventLog::new(true),
            trade_scratch: trade::Scratch::default(),
            start_height: params.network.block_height,
            peak_hashrate_ths: 0.0,
            max_drawdown_share: 0.0,
            min_hashrate_ths: f64::INFINITY,
            n_halvings: 0,
            n_retargets: 0,
            months_in_bull: 0,
            last_hashrate_ths: params.network.hashrate_ehs * THS_PER_EHS,
        }
    }

    /// The miners' fleet, for inspection between months.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub fn manufacturers(&self) -> &[Manufacturer] {
        &self.manufacturers
    }

    pub fn dealer(&self) -> &Dealer {
        &self.dealer
    }

    pub fn network(&self) -> &NetworkState {
        &self.network
    }

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

    /// Runs one month through every phase and sends its records to `sink`.
    pub fn step<S: Sink>(&mut self, sink: &mut S) -> Result<(), crate::record::Violation> {
        let params = self.params;
        self.pending_events.set_recording(S::MONTHLY_ROWS);
        let calendar = params.simulation.start.plus_months(self.month.0 as i64);
        let n_days = calendar.n_days() as f64;
        self.fleet.open_month(self.month);
        self.queued_units.fill(0);
        for m in &mut self.manufacturers {
            m.flows = Default::default();
        }
        self.dealer.flows = Default::default();
        for s in &mut self.segments {
            s.flows = Default::default();
        }
        self.ledger
            .open_month(&self.manufacturers, &self.segments, &self.dealer);

        // 1. Exogenous draws.
        self.price.step(&params.price, &mut self.rng_price);
        self.fees.step(&params.fees, &mut self.rng_fees);
        self.power.step(&params.regions, &mut self.rng_power);
        let mut shocks = std::mem::take(&mut self.shocks);
        draw_shocks(params, &mut self.rng_shocks, &mut shocks);
        for shock in shocks.iter().copied() {
            self.apply_shock(shock);
        }
        self.shocks = shocks;

        // 2. Due events (scripted first, then arrivals and wafer lots), then machines stopped by bans that can move.
        self.apply_due_events();
        trade::relocate(self);

        // 3. Miners operate.
        let price_usd = self.price.price_usd();
        self.fees_btc_per_block = self
            .fees
            .fees_btc_per_block(&params.fees, self.price.regime, self.month.idx());
        let btc_per_block = self.network.next_subsidy_btc() + self.fees_btc_per_block;
        let revenue_th_day = expected_usd_per_th_day(self.network.difficulty, btc_per_block, price_usd);
        // Difficulty once it has caught up with the hashrate that ran last month.
        let settled_difficulty =
            (self.last_hashrate_ths * 1e12 * TARGET_BLOCK_SECONDS / HASHES_PER_DIFFICULTY).max(1.0);
        let outlook_th_day = expected_usd_per_th_day(settled_difficulty, btc_per_block, price_usd);
        let hours = n_days * HOURS_PER_DAY;
        self.fleet.operate(
            revenue_th_day,
            outlook_th_day,
            &self.power.price_usd_per_kwh,
            self.regions.opex_share(),
            self.regions.ln_1p_opex_share(),
            &params.regions,
            &params.generations,
            &params.segments,
            hours,
        );
        let mut self_mining_ths = 0.0;
        for (m, mp) in self.manufacturers.iter_mut().zip(&params.manufacturers) {
            for (g, generation) in params.generations.iter().enumerate() {
                let units = m.self_mining_units[g];
                // Most generations have no self-mining machines: nothing to decide.
                if units == 0 {
                    m.self_mining_running_units[g] = 0;
                    continue;
                }
                let cost =
                    power_cost_usd_per_th_day(generation.efficiency_jth(), mp.self_mining_power_price_usd_per_kwh);
                m.self_mining_running_units[g] = if revenue_th_day > cost { units } else { 0 };
                self_mining_ths += units_f64(m.self_mining_running_units[g]) * generation.hashrate_ths;
            }
        }

        // 4. Network.
        let fleet_ths = self.fleet.running_ths(&params.generations);
        let running_ths = fleet_ths + self_mining_ths;
        let start_height = self.network.height;
        let mut net_events = std::mem::take(&mut self.network_events);
        net_events.clear();
        let blocks = self
            .network
            .advance(running_ths, n_days * SECONDS_PER_DAY, |e| net_events.push(e));
        for e in &net_events {
            match *e {
                NetworkEvent::Retarget {
                    height, new_difficulty, ..
                } => {
                    self.n_retargets += 1;
                    if let Some(row) = self.event(EventKind::Retarget, Subject::Network) {
                        row.block_height = Some(height);
                        row.value = new_difficulty;
                        row.value_unit = "difficulty";
                    }
                }
                NetworkEvent::Halving {
                    height,
                    new_subsidy_btc,
                } => {
                    self.n_halvings += 1;
                    if let Some(row) = self.event(EventKind::Halving, Subject::Network) {
                        row.block_height = Some(height);
                        row.value = new_subsidy_btc;
                        row.value_unit = "btc";
                    }
                }
            }
        }
        self.network_events = net_events;
        let issued_btc = blocks.issued_sats as f64 / SATS_PER_BTC as f64;
        let fees_btc = blocks.blocks as f64 * self.fees_btc_per_block;
        let miner_revenue_usd = (issued_btc + fees_btc) * price_usd;
        let usd_per_ths_month = if running_ths > 0.0 {
            miner_revenue_usd / running_ths
        } else {
            0.0
        };
        self.fleet
            .distribute_revenue(usd_per_ths_month, &params.generations, &mut self.segments);
        let mut self_mining_power_usd = 0.0;
        for (m, mp) in self.manufacturers.iter_mut().zip(&params.manufacturers) {
            let mut revenue = 0.0;
            let mut cost = 0.0;
            for (g, generation) in params.generations.iter().enumerate() {
                if m.self_mining_running_units[g] == 0 {
                    continue;
                }
                let n = units_f64(m.self_mining_running_units[g]);
                revenue += n * generation.hashrate_ths * usd_per_ths_month;
                cost += n * generation.power_w / W_PER_KW * hours * mp.self_mining_power_price_usd_per_kwh;
            }
            m.cash_usd += revenue - cost;
            m.flows.self_mining_revenue_usd += revenue;
            m.flows.self_mining_power_cost_usd += cost;
            self_mining_power_usd += cost;
        }
        self.ledger
            .record_issuance(start_height, self.network.height, blocks.issued_sats);

        // 5. Valuation: used prices, production, manufacturers' and dealers' prices.
        self.revenue_usd_per_th_day = expected_usd_per_th_day(
            self.network.difficulty,
            self.network.next_subsidy_btc() + self.fees_btc_per_block,
            price_usd,
        );
        trade::value_used_machines(self);
        for (m, mp) in self.manufacturers.iter_mut().zip(&params.manufacturers) {
            m.produce(mp);
        }
        trade::set_prices(self);

        // 6. Futures deliveries.
        trade::deliver_futures(self);

        // 7. Dealers.
        trade::dealers_trade(self);

        // 8. Buyers.
        trade::buyers_purchase(self);

        // 9. Segments' finance; regions that filled up build sites.
        trade::segments_finance(self);
        trade::grow_capacity(self);

        // 10. Manufacturers' finance.
        trade::manufacturers_finance(self);

        // 11. Checks and records.
        let check = invariants::check_month(self);
        let hashrate_ths = running_ths;
        self.track_path(hashrate_ths);
        if S::MONTHLY_ROWS {
            let installed_ths = self.fleet.installed_ths(&params.generations);
            let fleet_power = self.fleet.power_cost_usd.iter().sum::<f64>();
            let hashprice = hashprice_usd_per_ph_day(
                issued_btc / blocks.blocks.max(1) as f64,
                self.fees_btc_per_block,
                price_usd,
                blocks.blocks as f64 / n_days,
                running_ths / THS_PER_PHS,
            );
            let hashprice = if blocks.blocks > 0 {
                hashprice
            } else {
                self.revenue_usd_per_th_day * THS_PER_PHS
            };
            sink.network(&NetworkRow {
                path_idx: self.path_idx,
                month: self.month,
                regime: Some(self.price.regime),
                price_usd,
                block_height: self.network.height,
                blocks: blocks.blocks,
                difficulty: self.network.difficulty,
                retargets: blocks.n_retargets,
                subsidy_btc: self.network.next_subsidy_btc(),
                fees_btc,
                fees_btc_per_block: self.fees_btc_per_block,
                issued_btc,
                hashrate_ehs: running_ths / THS_PER_EHS,
                installed_hashrate_ehs: installed_ths / THS_PER_EHS,
                hashprice_usd_per_ph_day: hashprice,
                miner_revenue_usd,
                power_cost_usd: fleet_power + self_mining_power_usd,
                mean_block_seconds: if blocks.blocks > 0 {
                    n_days * SECONDS_PER_DAY / blocks.blocks as f64
                } else {
                    0.0
                },
            });
            self.record_miners(sink);
            self.record_manufacturers(sink);
            self.record_dealers(sink);
            self.record_regions(sink);
            for row in self.pending_events.drain() {
                sink.event(row);
            }
        }
        self.month = Month(self.month.0 + 1);
        check
    }

    fn apply_due_events(&mut self) {
        let mut due = std::mem::take(&mut self.due);
        // Scripted events first, while the month's arrivals are still on their way: a ban stops those too.
        self.queue.take_due(self.month, &mut due);
        self.apply_events(&due);
        self.due = due;
        self.fleet.land_arrivals();
        for m in &mut self.manufacturers {
            m.receive_wafers(self.month);
        }
    }

    fn apply_events(&mut self, due: &[Event]) {
        // The queue holds scripted events only.
        for Event::Scripted { event_idx } in due.iter().copied() {
            let scripted = &self.params.events[event_idx];
            let (kind, subject, value, unit) = match scripted.kind {
                ScriptedEventKind::PriceShock { factor } => {
                    self.price.shock(factor);
                    (EventKind::PriceShock, Subject::Network, factor, "factor")
                }
                ScriptedEventKind::SetRegime { regime } => {
                    self.price.regime = regime;
                    let v = if regime == Regime::Bull { 1.0 } else { 0.0 };
                    (EventKind::SetRegime, Subject::Network, v, "bull")
                }
                ScriptedEventKind::PowerShock {
                    region_idx,
                    factor,
                    decay_per_month,
                } => {
                    self.apply_shock(Shock::Power {
                        region_idx,
                        factor,
                        decay_per_month,
                    });
                    continue;
                }
                ScriptedEventKind::Ban { region_idx, share } => {
                    self.apply_shock(Shock::Ban { region_idx, share });
                    continue;
                }
                ScriptedEventKind::Tariff {
                    region_idx,
                    origin_idx,
                    rate_share,
                } => {
                    self.apply_shock(Shock::Tariff {
                        region_idx,
                        origin_idx,
                        rate_share,
                    });
                    continue;
                }
                ScriptedEventKind::Tightening {
                    region_idx,
                    opex_increase_share,
                } => {
                    self.apply_shock(Shock::Tightening {
                        region_idx,
                        opex_increase_share,
                    });
                    continue;
                }
            };
            if let Some(row) = self.event(kind, subject) {
                row.value = value;
                row.value_unit = unit;
            }
        }
    }

    /// Applies a regulation shock, scripted or random, and records it.
    fn apply_shock(&mut self, shock: Shock) {
        let params = self.params;
        match shock {
            Shock::Power {
                region_idx,
                factor,
                decay_per_month,
            } => {
                self.power.shock(region_idx, factor, decay_per_month, &params.regions);
                if let Some(row) = self.event(EventKind::PowerShock, Subject::Region(region_idx)) {
                    row.value = factor;
                    row.value_unit = "factor";
                }
            }
            Shock::Tariff {
                region_idx,
                origin_idx,
                rate_share,
            } => {
                self.regions.set_tariff(region_idx, origin_idx, rate_share);
                if let Some(row) = self.event(EventKind::Tariff, Subject::Region(region_idx)) {
                    row.value = rate_share;
                    row.value_unit = "rate_share";
                    row.detail = format!("origin {}", params.origins.get(origin_idx).map_or("?", String::as_str));
                }
            }
            Shock::Tightening {
                region_idx,
                opex_increase_share,
            } => {
                self.regions.raise_opex(region_idx, opex_increase_share);
                if let Some(row) = self.event(EventKind::Tightening, Subject::Region(region_idx)) {
                    row.value = opex_increase_share;
                    row.value_unit = "opex_share_increase";
                }
            }
            Shock::Ban { region_idx, share } => {
                // The share of every cohort in the region stops at once and joins the relocation pool.
                let mut stopped = 0;
                for segment in Segment::ALL {
                    for g in 0..params.generations.len() {
                        let c = self.fleet.cohort_idx(segment, region_idx, g);
                        let n = to_units(units_f64(self.fleet.units[c]) * share).min(self.fleet.units[c]);
                        // Machines on their way there are stopped at the border too, exactly as many as the
                        // shipments give up (`Fleet::stop_at_ban` takes them out of transit unclamped).
                        let d = if self.fleet.in_transit[c] > 0 {
                            self.fleet.divert_arrivals(c, share)
                        } else {
                            0
                        };
                        if n + d == 0 {
                            continue;
                        }
                        self.fleet.stop_at_ban(c, n, d);
                        let n = n + d;
                        stopped += n;
                        self.relocation.push(RelocationBatch {
                            segment_idx: segment.idx(),
                            generation_idx: g,
                            from_region_idx: region_idx,
                            units: n,
                            stopped: self.month,
                        });
                    }
                }
                self.relocation_totals.stopped += stopped;
                let mut used_mw = std::mem::take(&mut self.trade_scratch.used_mw);
                trade::region_used_mw(self, &mut used_mw);
                self.regions.close(region_idx, share, used_mw[region_idx]);
                self.trade_scratch.used_mw = used_mw;
                if let Some(row) = self.event(EventKind::Ban, Subject::Region(region_idx)) {
                    row.units = stopped;
                    row.value = share;
                    row.value_unit = "share";
                }
            }
        }
    }

    fn track_path(&mut self, hashrate_ths: f64) {
        self.peak_hashrate_ths = self.peak_hashrate_ths.max(hashrate_ths);
        if self.peak_hashrate_ths > 0.0 {
            let drawdown = 1.0 - hashrate_ths / self.peak_hashrate_ths;
            self.max_drawdown_share = self.max_drawdown_share.max(drawdown);
        }
        self.min_hashrate_ths = self.min_hashrate_ths.min(hashrate_ths);
        self.last_hashrate_ths = hashrate_ths;
        if self.price.regime == Regime::Bull {
            self.months_in_bull += 1;
        }
        for m in &mut self.manufacturers {
            let t = &mut m.totals;
            if m.cash_usd < t.min_cash_usd {
                t.min_cash_usd = m.cash_usd;
                t.min_cash_month = self.month.0;
            }
            t.cash_below_zero |= m.cash_usd < 0.0;
            t.distressed_ever |= m.distressed;
        }
    }

    fn record_miners<S: Sink>(&self, sink: &mut S) {
        let params = self.params;
        for segment in Segment::ALL {
            for region_idx in 0..params.regions.len() {
                let mut row = MinerRow {
                    path_idx: self.path_idx,
                    month: self.month,
                    segment,
                    region_idx,
                    units_running: 0,
                    units_off: 0,
                    units_retired: 0,
                    units_bought: 0,
                    units_arrived: 0,
                    units_in_transit: 0,
                    units_sold_off: 0,
                    units_taken_over: 0,
                    units_banned: 0,
                    units_relocated_in: 0,
                    hashrate_ehs: 0.0,
                    revenue_usd: 0.0,
                    power_cost_usd: 0.0,
                    segment_cash_usd: self.segments[segment.idx()].cash_usd,
                };
                for (g, generation) in params.generations.iter().enumerate() {
                    let c = self.fleet.cohort_idx(segment, region_idx, g);
                    let f = &self.fleet;
                    row.units_running += f.running[c];
                    row.units_off += f.units[c] - f.running[c];
                    row.units_retired += f.retired[c];
                    row.units_bought += f.bought[c];
                    row.units_arrived += f.arrived[c];
                    row.units_in_transit += f.in_transit[c];
                    row.units_sold_off += f.sold_off()[c];
                    row.units_taken_over += f.taken_over()[c];
                    row.units_banned += f.banned()[c];
                    row.units_relocated_in += f.relocated_in()[c];
                    row.hashrate_ehs += f.running[c] as f64 * generation.hashrate_ths / THS_PER_EHS;
                    row.revenue_usd += f.revenue_usd[c];
                    row.power_cost_usd += f.power_cost_usd[c];
                }
                sink.miner(&row);
            }
        }
    }

    fn record_manufacturers<S: Sink>(&self, sink: &mut S) {
        let params = self.params;
        for (manufacturer_idx, (m, mp)) in self.manufacturers.iter().zip(&params.manufacturers).enumerate() {
            let f = &m.flows;
            let current = &mp.roadmap[Manufacturer::current_roadmap_idx(mp, self.month_offset())];
            let g = current.generation_idx;
            let ths = params.generations[g].hashrate_ths;
            let self_mining_ths: f64 = m
                .self_mining_running_units
                .iter()
                .zip(&params.generations)
                .map(|(&n, generation)| n as f64 * generation.hashrate_ths)
                .sum();
            let receivables: f64 = self
                .dealer
                .installments
                .iter()
                .filter(|i| i.manufacturer_idx == manufacturer_idx)
                .map(|i| i.balance_usd)
                .sum();
            sink.manufacturer(&ManufacturerRow {
                path_idx: self.path_idx,
                month: self.month,
                manufacturer_idx,
                cash_usd: m.cash_usd,
                credit_used_usd: m.credit_used_usd(),
                cash_in_usd: f.cash_in_usd(),
                cash_out_usd: f.cash_out_usd(),
                revenue_usd: f.revenue_usd,
                cogs_usd: f.cogs_usd,
                opex_usd: f.opex_usd,
                interest_usd: f.interest_usd,
                units_produced: f.units_produced,
                units_sold_spot: f.units_sold_spot,
                units_sold_dealers: f.units_sold_dealers,
                units_sold_futures: f.units_sold_futures,
                units_delivered: f.units_delivered,
                units_walked_away: f.units_walked_away,
                units_refunded: f.units_refunded,
                units_self_mined: f.units_self_mined,
                units_scrapped: f.units_scrapped,
                units_recovered: f.units_recovered,
                units_wafers_ordered: f.units_wafers_ordered,
                prepayments_received_usd: f.prepayments_received_usd,
                prepayments_applied_usd: f.prepayments_applied_usd,
                prepayments_forfeited_usd: f.prepayments_forfeited_usd,
                prepayments_refunded_usd: f.refunds_paid_usd,
                prepayments_held_usd: m.prepay_held_usd(),
                backlog_units: m.backlog_units(),
                inventory_units: m.inventory_units(),
                inventory_value_usd: m.inventory_value_usd(),
                wip_units: m.wip_total_units(),
                writedowns_usd: f.writedowns_usd,
                bad_debt_usd: f.bad_debt_usd,
                wafer_commitments_usd: m.wafer_commitments_usd(),
                wafer_prepaid_usd: m.wafer_prepaid_usd(),
                wafer_paid_usd: f.wafer_prepayments_paid_usd + f.wafer_balances_paid_usd,
                installment_receivables_usd: receivables,
                self_mining_ths,
                self_mining_revenue_usd: f.self_mining_revenue_usd,
                self_mining_power_cost_usd: f.self_mining_power_cost_usd,
                price_usd_per_th: m.spot_price_usd[g] / ths,
                futures_price_usd_per_th: m.futures_price_usd[g] / ths,
                secondary_price_usd_per_th: self.secondary_price_usd[g] / ths,
                planned_units: m.planned_units,
                distressed: m.distressed,
            });
        }
    }

    fn record_regions<S: Sink>(&mut self, sink: &mut S) {
        let params = self.params;
        let mut used_mw = std::mem::take(&mut self.trade_scratch.used_mw);
        trade::region_used_mw(self, &mut used_mw);
        for (region_idx, &capacity_used_mw) in used_mw.iter().enumerate() {
            let mut row = RegionRow {
                path_idx: self.path_idx,
                month: self.month,
                region_idx,
                units_relocating: self
                    .relocation
                    .iter()
                    .filter(|b| b.from_region_idx == region_idx)
                    .map(|b| b.units)
                    .sum(),
                power_price_usd_per_kwh: self.power.price_usd_per_kwh[region_idx],
                opex_share_of_power: self.regions.opex_share()[region_idx],
                capacity_mw: Some(self.regions.capacity_mw[region_idx]).filter(|c| c.is_finite()),
                capacity_used_mw,
                ban_level_share: self.regions.ban_level[region_idx],
                ..RegionRow::default()
            };
            (row.max_tariff_share, row.max_tariff_origin_idx) = self.regions.max_tariff(region_idx);
            row.units_queued = self.queued_units[region_idx];
            for segment in Segment::ALL {
                for (g, generation) in params.generations.iter().enumerate() {
                    let c = self.fleet.cohort_idx(segment, region_idx, g);
                    let f = &self.fleet;
                    row.units_running += f.running[c];
                    row.units_off += f.units[c] - f.running[c];
                    row.units_banned += f.banned()[c] + f.diverted()[c];
                    row.units_relocated_in += f.relocated_in()[c];
                    row.hashrate_ehs += f.running[c] as f64 * generation.hashrate_ths / THS_PER_EHS;
                }
            }
            sink.region(&row);
        }
        self.trade_scratch.used_mw = used_mw;
    }

    fn record_dealers<S: Sink>(&self, sink: &mut S) {
        let params = self.params;
        let d = &self.dealer;
        let f = &d.flows;
        // Report prices for the newest released generation.
        let newest = newest_released_generation(params, self.month);
        let ths = params.generations[newest].hashrate_ths;
        sink.dealer(&DealerRow {
            path_idx: self.path_idx,
            month: self.month,
            cash_usd: d.cash_usd,
            inventory_units: d.stock_units(),
            inventory_value_usd: d.stock_value_usd(),
            units_bought_spot: f.units_bought_spot,
            units_bought_installment: f.units_bought_installment,
            units_sold: f.units_sold,
            units_returned: f.units_returned,
            units_scrapped: f.units_scrapped,
            purchases_usd: f.purchases_usd + f.down_payments_usd,
            sales_usd: f.sales_usd,
            writedowns_usd: f.writedowns_usd,
            dump_discount_share: d.dump_discount_share,
            price_usd_per_th: d.price_usd[newest] / ths,
            secondary_price_usd_per_th: self.secondary_price_usd[newest] / ths,
            installments_outstanding_usd: d.installments_outstanding_usd(),
            n_installments: d.installments.len() as u64,
            n_defaults: f.n_defaults,
            defaulted_balance_usd: f.defaulted_balance_usd,
        });
    }

    /// The path's end-of-horizon figures.
    pub fn summary(&self, violation: Option<crate::record::Violation>) -> PathSummary {
        let total_units_sold: u64 = self.manufacturers.iter().map(|m| m.totals.units_sold).sum();
        let manufacturers = self
            .manufacturers
            .iter()
            .enumerate()
            .map(|(manufacturer_idx, m)| {
                let t = &m.totals;
                ManufacturerOutcome {
                    manufacturer_idx,
                    min_cash_usd: t.min_cash_usd,
                    min_cash_month: t.min_cash_month,
                    end_cash_usd: m.cash_usd,
                    cash_below_zero: t.cash_below_zero,
                    distressed: t.distressed_ever,
                    revenue_usd: t.revenue_usd,
                    gross_margin_usd: t.revenue_usd + t.prepayments_forfeited_usd - t.cogs_usd - t.writedowns_usd,
                    units_sold: t.units_sold,
                    walk_away_rate: if t.units_due_resolved > 0 {
                        t.units_walked as f64 / t.units_due_resolved as f64
                    } else {
                        0.0
                    },
                    prepayments_forfeited_usd: t.prepayments_forfeited_usd,
                    writedowns_usd: t.writedowns_usd,
                    market_share: if total_units_sold > 0 {
                        t.units_sold as f64 / total_units_sold as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        PathSummary {
            path_idx: self.path_idx,
            n_months: self.month.0,
            network: NetworkSummary {
                end_price_usd: self.price.price_usd(),
                end_hashrate_ehs: self.last_hashrate_ths / THS_PER_EHS,
                end_difficulty: self.network.difficulty,
                end_block_height: self.network.height,
                total_issued_btc: (crate::market::network::issued_sats_before(self.network.height)
                    - crate::market::network::issued_sats_before(self.start_height))
                    as f64
                    / SATS_PER_BTC as f64,
                max_hashrate_drawdown_share: self.max_drawdown_share,
                min_hashrate_ehs: if self.min_hashrate_ths.is_finite() {
                    self.min_hashrate_ths / THS_PER_EHS
                } else {
                    0.0
                },
                n_halvings: self.n_halvings,
                n_retargets: self.n_retargets,
                months_in_bull: self.months_in_bull,
                miners_end_cash_usd: self.segments.iter().map(|s| s.cash_usd).sum(),
            },
            manufacturers,
            violation,
        }
    }
}

/// Factor applied to the starting fleet so that what runs in the first month, at the start price, the
/// bull-or-bear mean fee and base power prices, matches the scenario's starting hashrate.
pub fn initial_fleet_scale(params: &Params) -> f64 {
    let fees = match params.price.start_regime {
        Regime::Bull => params.fees.bull_mean_btc_per_block,
        Regime::Bear => params.fees.bear_mean_btc_per_block,
    };
    let btc_per_block = crate::market::network::subsidy_btc(params.network.block_height) + fees;
    let revenue_th_day =
        expected_usd_per_th_day(params.network.difficulty, btc_per_block, params.price.start_price_usd);
    let mut installed_ths = 0.0;
    let mut running_ths = 0.0;
    for cohort in &params.initial_fleet {
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
        let ths = cohort.units as f64 * generation.hashrate_ths;
        installed_ths += ths;
        running_ths += ths * crate::math::norm_cdf(z);
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

/// Used-machine profit of a generation at the market's reference power price, per month.
pub fn reference_profit_usd(params: &Params, generation_idx: usize, revenue_usd_per_th_day: f64) -> f64 {
    monthly_profit_usd_per_unit(
        &params.generations[generation_idx],
        revenue_usd_per_th_day,
        params.secondary_market.reference_power_price_usd_per_kwh,
        0.0,
    )
}

/// Simulates one whole path, streaming its records to `sink`. A broken invariant stops the path at that
/// month; the summary then carries the violation and the months simulated so far.
pub fn simulate_path<S: Sink>(params: &Params, path_idx: u32, sink: &mut S) -> PathSummary {
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
