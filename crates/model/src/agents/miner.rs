//! Miners' fleets: cohorts of machines by (segment, region, generation), and each segment's books.
//!
//! Inside a region, sites pay different power prices: log-normal around the region's price with the
//! region's dispersion. A cohort's machines are spread over those sites, so when hashprice falls the
//! machines on the dearest sites switch off first and the running share moves smoothly. The cohort
//! keeps the machines on the cheapest share `site_q_max` of the region's sites (a quantile bound; 1 for
//! the full distribution): machines above the bound have been retired. A machine retires when it has lost
//! money for the segment's `retire_after_months` months in a row; because the ranking of sites by cost is
//! fixed, those are exactly the machines above the highest profitable quantile of the window.
//!
//! This file holds the fleet's state and how machines move between cohorts (shipments, arrivals, bans,
//! relocation, sell-offs, churn); the monthly operating decision is in `operation`, and the segments' money
//! in `books`.
#![warn(missing_docs)]

pub mod books;
pub mod firms;
pub mod operation;
mod site_price;

use std::sync::Arc;

use site_price::{SitePriceCurve, site_price_curve};

use crate::agents::miner::books::SegmentBooks;
use crate::math::{floor_units, units_f64};
use crate::params::{GenerationParams, RegionParams, Segment, SegmentParams};
use crate::units::{HOURS_PER_DAY, Month, W_PER_KW, W_PER_MW};

/// The share of a region's sites (cheapest first) at which a generation's machines are taken to make money:
/// the median site. A buyer taking over machines checks it.
const MEDIAN_SITE_SHARE: f64 = 0.5;

/// Standardised breakeven above which every site of a region runs (sites beyond 8 sigma are negligible).
const Z_ALL_SITES: f64 = 8.0;

/// Machines shipped this month with one shipping lag: where in the ring of arrivals they wait to land (see
/// [`Fleet::shipment`]).
#[derive(Clone, Copy, Debug)]
pub struct Shipment {
    /// The shipping lag in months; with none the machines arrive at once.
    lag_months: u32,
    /// Start of the row of `Fleet::arriving` for the month they arrive in.
    arriving_start: usize,
}

/// The miners' installed machines, by cohort: one cohort per (segment, region, generation), laid out
/// segment-slowest (see [`Fleet::cohort_idx`]). Every per-cohort vector is indexed by the cohort.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Number of regions in the scenario.
    pub n_regions: usize,
    /// Number of hardware generations in the scenario.
    pub n_generations: usize,
    /// Installed machines (running or off), per cohort.
    pub units: Vec<u64>,
    /// Machines running this month, per cohort.
    pub running: Vec<u64>,
    /// Share of the cohort's machines running, carried between months: switching responds with a lag.
    pub running_share: Vec<f64>,
    /// Machines shipped to the cohort and not yet arrived.
    pub in_transit: Vec<u64>,
    /// `in_transit` by the month the machines arrive: a ring of `n_transit_slots` rows of cohorts, month m's
    /// row at slot m mod `n_transit_slots`. Every shipping lag is shorter than the ring, so a row holds one
    /// month's arrivals only, and everything a cohort was shipped in a month arrives together.
    arriving: Vec<u64>,
    n_transit_slots: usize,
    /// The ring slot of the month being simulated (set by `open_month`).
    month_slot: usize,
    /// Share of the region's sites (cheapest first) the cohort's machines occupy: 1 for the full
    /// distribution, lower once the dearest sites have been retired.
    pub site_q_max: Vec<f64>,
    /// Machines retired this month, per cohort: the first of the month's flows per cohort.
    pub retired: Vec<u64>,
    /// The cohorts the month's operating decision retired machines from, in cohort order, with how many: what
    /// leaves for the used market (`market::operation`).
    pub retired_by_decision: Vec<(usize, u64)>,
    /// Of the machines retired this month by the operating decision, those sold on the used market (the rest
    /// were scrapped), per cohort.
    pub retired_sold: Vec<u64>,
    /// What the machines retired this month by the operating decision fetched, sold and scrapped, in USD,
    /// per cohort.
    pub retired_proceeds_usd: Vec<f64>,
    /// Machines that arrived at their sites this month, per cohort (after the shipping lag, or at once without one).
    pub arrived: Vec<u64>,
    /// Machines bought this month (futures delivered and spot), per cohort, counted when shipped.
    pub bought: Vec<u64>,
    /// The rarer flows, read through their accessors and written only by `stop_at_ban`, `relocate_in` and
    /// `sell_off`, which note that a month has some: `open_month` clears them only then.
    sold_off: Vec<u64>,
    taken_over: Vec<u64>,
    /// Machines stopped by a ban (they leave the cohort for the relocation pool).
    banned: Vec<u64>,
    /// Machines arriving from the relocation pool.
    relocated_in: Vec<u64>,
    /// Machines in transit to a banned region, stopped at the border (they join the relocation pool).
    diverted: Vec<u64>,
    /// Installed machines of failed key-account firms sold outside the simulated fleet.
    fire_sold: Vec<u64>,
    /// Machines on their way to failed key-account firms, sold outside the simulated fleet.
    fire_sold_in_transit: Vec<u64>,
    /// Installed machines displaced from sites converted to AI hosting (redeployed through the relocation
    /// pool or sold).
    displaced: Vec<u64>,
    /// Whether any of the rarer flows was written since they were last cleared.
    rare_flows_written: bool,
    /// The month's power bill of each cohort's running machines, in USD.
    pub power_cost_usd: Vec<f64>,
    /// The month's mining revenue of each cohort's running machines, in USD.
    pub revenue_usd: Vec<f64>,
    /// TH/s each cohort ran while the month's blocks were found: the hashrate `revenue_usd` was shared by,
    /// before the month's later purchases, churn and fire sales moved machines.
    pub mined_ths: Vec<f64>,
    /// Share of sites where a machine would not be retired, as a ring of the last `history_len` months: one
    /// row of (region, generation) entries per month, so a window's maxima are taken a row at a time.
    q_retire_history: Vec<f64>,
    history_len: usize,
    history_pos: usize,
    /// This month's share of sites where each (region, generation) pays its power.
    pub q_now: Vec<f64>,
    /// ln(kWh a TH/s draws in a day) per generation, computed once.
    ln_kwh_per_th_day: Vec<f64>,
    /// Highest share of sites worth keeping over each segment's retirement window, per (segment, region,
    /// generation), refreshed every month.
    window_max: Vec<f64>,
    /// Mean site price of the cheapest share of sites, per region (see `site_price`).
    site_price_curves: Vec<Arc<SitePriceCurve>>,
    /// Reused buffers of the decision search (`operation::DecisionScratch`).
    decision_scratch: operation::DecisionScratch,
}

impl Fleet {
    /// An empty fleet for the regions and generations of a scenario, keeping `history_len` months of the
    /// shares of sites worth keeping.
    pub fn new(
        regions: &[RegionParams],
        generations: &[GenerationParams],
        history_len: usize,
        max_shipping_lag_months: u32,
    ) -> Fleet {
        let (n_regions, n_generations) = (regions.len(), generations.len());
        let n_cohorts = 2 * n_regions * n_generations;
        let history_len = history_len.max(1);
        let n_transit_slots = max_shipping_lag_months as usize + 1;
        Fleet {
            n_regions,
            n_generations,
            units: vec![0; n_cohorts],
            running: vec![0; n_cohorts],
            running_share: vec![1.0; n_cohorts],
            in_transit: vec![0; n_cohorts],
            arriving: vec![0; n_transit_slots * n_cohorts],
            n_transit_slots,
            month_slot: 0,
            site_q_max: vec![1.0; n_cohorts],
            retired: vec![0; n_cohorts],
            retired_by_decision: Vec::new(),
            retired_sold: vec![0; n_cohorts],
            retired_proceeds_usd: vec![0.0; n_cohorts],
            arrived: vec![0; n_cohorts],
            bought: vec![0; n_cohorts],
            sold_off: vec![0; n_cohorts],
            taken_over: vec![0; n_cohorts],
            banned: vec![0; n_cohorts],
            relocated_in: vec![0; n_cohorts],
            diverted: vec![0; n_cohorts],
            fire_sold: vec![0; n_cohorts],
            fire_sold_in_transit: vec![0; n_cohorts],
            displaced: vec![0; n_cohorts],
            rare_flows_written: false,
            power_cost_usd: vec![0.0; n_cohorts],
            revenue_usd: vec![0.0; n_cohorts],
            mined_ths: vec![0.0; n_cohorts],
            q_retire_history: vec![1.0; n_regions * n_generations * history_len],
            history_len,
            history_pos: 0,
            q_now: vec![1.0; n_regions * n_generations],
            ln_kwh_per_th_day: generations
                .iter()
                .map(|g| (g.efficiency_jth() * HOURS_PER_DAY / W_PER_KW).ln())
                .collect(),
            window_max: vec![1.0; n_cohorts],
            site_price_curves: regions
                .iter()
                .map(|region| site_price_curve(region.site_power_price_dispersion_log))
                .collect(),
            decision_scratch: Default::default(),
        }
    }

    /// Number of cohorts: 2 segments × regions × generations.
    pub fn n_cohorts(&self) -> usize {
        self.units.len()
    }

    /// Index of the cohort of `segment`'s machines of generation `generation_idx` in region `region_idx`.
    pub fn cohort_idx(&self, segment: Segment, region_idx: usize, generation_idx: usize) -> usize {
        (segment.idx() * self.n_regions + region_idx) * self.n_generations + generation_idx
    }

    /// How far apart one segment's cohorts of a generation are from one region to the next:
    /// `cohort_idx(s, r, g) = cohort_idx(s, 0, g) + r × region_stride()`.
    pub fn region_stride(&self) -> usize {
        self.n_generations
    }

    /// The cohorts of one segment: they are laid out segment-slowest, key accounts' first.
    pub fn segment_cohorts(&self, segment: Segment) -> std::ops::Range<usize> {
        let per_segment = self.n_regions * self.n_generations;
        segment.idx() * per_segment..(segment.idx() + 1) * per_segment
    }

    /// The (segment, region index, generation index) of a cohort: the inverse of [`Fleet::cohort_idx`].
    pub fn cohort_parts(&self, cohort_idx: usize) -> (Segment, usize, usize) {
        let generation_idx = cohort_idx % self.n_generations;
        let rest = cohort_idx / self.n_generations;
        let region_idx = rest % self.n_regions;
        let segment = if rest / self.n_regions == 0 {
            Segment::KeyAccount
        } else {
            Segment::Retail
        };
        (segment, region_idx, generation_idx)
    }

    /// Starts `month`: clears the month's flows and points shipments at the month's slot of the transit ring.
    pub fn open_month(&mut self, month: Month) {
        self.month_slot = month.idx() % self.n_transit_slots;
        self.retired.fill(0);
        self.retired_sold.fill(0);
        self.retired_proceeds_usd.fill(0.0);
        self.arrived.fill(0);
        self.bought.fill(0);
        if self.rare_flows_written {
            self.sold_off.fill(0);
            self.taken_over.fill(0);
            self.banned.fill(0);
            self.relocated_in.fill(0);
            self.diverted.fill(0);
            self.fire_sold.fill(0);
            self.fire_sold_in_transit.fill(0);
            self.displaced.fill(0);
            self.rare_flows_written = false;
        }
        // `revenue_usd` and `mined_ths` need no clearing: `distribute_revenue` sets every cohort's each month.
        self.power_cost_usd.fill(0.0);
    }

    /// Machines sold off by the cohort this month (to the other segment's cohort of the region and generation).
    pub fn sold_off(&self) -> &[u64] {
        &self.sold_off
    }

    /// Machines taken over from the other segment this month.
    pub fn taken_over(&self) -> &[u64] {
        &self.taken_over
    }

    /// Machines stopped by a ban this month.
    pub fn banned(&self) -> &[u64] {
        &self.banned
    }

    /// Machines arriving from the relocation pool this month.
    pub fn relocated_in(&self) -> &[u64] {
        &self.relocated_in
    }

    /// Machines on their way stopped at the border by a ban this month.
    pub fn diverted(&self) -> &[u64] {
        &self.diverted
    }

    /// Installed machines of failed firms sold outside the fleet this month.
    pub fn fire_sold(&self) -> &[u64] {
        &self.fire_sold
    }

    /// Machines on their way to failed firms sold outside the fleet this month.
    pub fn fire_sold_in_transit(&self) -> &[u64] {
        &self.fire_sold_in_transit
    }

    /// Installed machines displaced from sites converted to AI hosting this month.
    pub fn displaced(&self) -> &[u64] {
        &self.displaced
    }

    /// `n_units` of a cohort's installed machines leave sites converted to AI hosting (the running ones go with
    /// them in proportion); returns how many left (no more than the cohort has).
    pub fn displace(&mut self, cohort_idx: usize, n_units: u64) -> u64 {
        let n = self.remove_units(cohort_idx, n_units);
        self.displaced[cohort_idx] += n;
        self.rare_flows_written = true;
        n
    }

    /// A failed firm's `n_units` installed machines of a cohort are sold outside the fleet; returns how many
    /// left (no more than the cohort has).
    pub fn fire_sell(&mut self, cohort_idx: usize, n_units: u64) -> u64 {
        let n = self.remove_units(cohort_idx, n_units);
        self.fire_sold[cohort_idx] += n;
        self.rare_flows_written = true;
        n
    }

    /// A failed firm's `share` of every shipment on its way to a cohort is sold outside the fleet; returns
    /// the machines sold.
    pub fn fire_sell_in_transit(&mut self, cohort_idx: usize, share: f64) -> u64 {
        let n = self.divert_arrivals(cohort_idx, share);
        self.in_transit[cohort_idx] = self.in_transit[cohort_idx].wrapping_sub(n);
        self.fire_sold_in_transit[cohort_idx] += n;
        self.rare_flows_written = true;
        n
    }

    /// A segment's TH/s bought this month (futures delivered and spot, counted when shipped).
    pub fn segment_bought_ths(&self, segment: Segment, generations: &[GenerationParams]) -> f64 {
        weighted_ths(&self.bought[self.segment_cohorts(segment)], generations)
    }

    /// A segment's fleet this month in one pass over its cohorts: TH/s installed and in transit, their value at
    /// `unit_price_usd` per machine of each generation, and the power in MW of the machines it bought and of
    /// those it retired this month.
    pub fn segment_totals(
        &self,
        segment: Segment,
        generations: &[GenerationParams],
        unit_price_usd: &[f64],
    ) -> SegmentTotals {
        let mut totals = SegmentTotals::default();
        let n_gen = self.n_generations;
        if n_gen == 0 {
            return totals;
        }
        let cohorts = self.segment_cohorts(segment);
        let (generations, prices) = (&generations[..n_gen], &unit_price_usd[..n_gen]);
        // Cohorts are laid out generation-fastest: each chunk of `n_gen` is one region's generations.
        for (((units, in_transit), bought), retired) in self.units[cohorts.clone()]
            .chunks_exact(n_gen)
            .zip(self.in_transit[cohorts.clone()].chunks_exact(n_gen))
            .zip(self.bought[cohorts.clone()].chunks_exact(n_gen))
            .zip(self.retired[cohorts].chunks_exact(n_gen))
        {
            for g in 0..n_gen {
                let held = units_f64(units[g] + in_transit[g]);
                totals.fleet_ths += held * generations[g].hashrate_ths;
                totals.fleet_value_usd += held * prices[g];
                let power_mw = generations[g].power_w / W_PER_MW;
                totals.bought_mw += units_f64(bought[g]) * power_mw;
                totals.retired_mw += units_f64(retired[g]) * power_mw;
            }
        }
        totals
    }

    /// Whether generation `g` still makes money in region `region_idx` this month: its median site pays its power.
    pub fn runs_at_median_site(&self, region_idx: usize, g: usize) -> bool {
        self.q_now[region_idx * self.n_generations + g] > MEDIAN_SITE_SHARE
    }

    /// Adds machines to a cohort whose sites follow the full distribution (new purchases).
    pub fn add_units(&mut self, cohort_idx: usize, n_units: u64) {
        if n_units == 0 {
            return;
        }
        add_to_cohort(
            &mut self.units[cohort_idx],
            &mut self.site_q_max[cohort_idx],
            &mut self.running_share[cohort_idx],
            n_units,
        );
    }

    /// Sets a starting cohort's running share: the share of its machines that runs before the first month's
    /// decision (the engine's start puts each starting cohort in its steady state).
    pub fn start_running_share(&mut self, cohort_idx: usize, share: f64) {
        self.running_share[cohort_idx] = share.clamp(0.0, 1.0);
    }

    /// Books `units` new machines shipped to a cohort: with no shipping lag they arrive at once, otherwise
    /// they join what the cohort was shipped this month, arriving together `lag_months` from now.
    #[inline]
    pub fn ship(&mut self, cohort_idx: usize, units: u64, lag_months: u32) {
        self.ship_by(self.shipment(lag_months), cohort_idx, units);
    }

    /// Where machines shipped this month with a lag of `lag_months` wait to land, for [`Fleet::ship_by`]:
    /// worked out once for the many cohorts of one delivery.
    #[inline]
    pub fn shipment(&self, lag_months: u32) -> Shipment {
        debug_assert!(
            (lag_months as usize) < self.n_transit_slots,
            "shipping lag beyond the transit ring"
        );
        let mut slot = self.month_slot + lag_months as usize;
        if slot >= self.n_transit_slots {
            slot -= self.n_transit_slots;
        }
        Shipment {
            lag_months,
            arriving_start: slot * self.units.len(),
        }
    }

    /// [`Fleet::ship`] with the lag's [`Shipment`] worked out beforehand.
    #[inline]
    pub fn ship_by(&mut self, shipment: Shipment, cohort_idx: usize, units: u64) {
        if units == 0 {
            return;
        }
        self.bought[cohort_idx] += units;
        if shipment.lag_months == 0 {
            self.add_units(cohort_idx, units);
            self.arrived[cohort_idx] += units;
        } else {
            // Wrapping, like the arrivals that take machines out of transit: a count the books cannot explain
            // is left for the month's check to report.
            self.in_transit[cohort_idx] = self.in_transit[cohort_idx].wrapping_add(units);
            self.arriving[shipment.arriving_start + cohort_idx] += units;
        }
    }

    /// Sends `units` new machines of generation `g` to a segment's sites in a region; they run after the
    /// segment's shipping lag.
    #[inline]
    pub fn ship_to_region(
        &mut self,
        segments: &[SegmentParams; 2],
        segment: Segment,
        region_idx: usize,
        g: usize,
        units: u64,
    ) {
        let c = self.cohort_idx(segment, region_idx, g);
        self.ship(c, units, segments[segment.idx()].shipping_lag_months);
    }

    /// Installs the machines arriving this month, cohort by cohort.
    pub fn land_arrivals(&mut self) {
        let n = self.units.len();
        let start = self.month_slot * n;
        // Every array cut to the cohorts first, so the loop indexes them without bounds checks.
        let row = &mut self.arriving[start..start + n];
        let in_transit = &mut self.in_transit[..n];
        let units = &mut self.units[..n];
        let q_maxes = &mut self.site_q_max[..n];
        let shares = &mut self.running_share[..n];
        let arrived = &mut self.arrived[..n];
        for c in 0..n {
            let landing = row[c];
            if landing > 0 {
                row[c] = 0;
                // Never more than is in transit while the books are right; if not, the wrapped count fails
                // the month's check instead of hiding the machines that came from nowhere.
                in_transit[c] = in_transit[c].wrapping_sub(landing);
                add_to_cohort(&mut units[c], &mut q_maxes[c], &mut shares[c], landing);
                arrived[c] += landing;
            }
        }
    }

    /// Stops a share of every shipment on its way to a cohort (a ban at the destination), rounded per
    /// arrival month; returns the machines stopped. `in_transit` is left to the caller.
    pub fn divert_arrivals(&mut self, cohort_idx: usize, share: f64) -> u64 {
        let n = self.units.len();
        let mut diverted = 0;
        for units in self.arriving.iter_mut().skip(cohort_idx).step_by(n) {
            let d = ((units_f64(*units) * share).round() as u64).min(*units);
            *units -= d;
            diverted += d;
        }
        diverted
    }

    /// A ban stops `n_units` of the cohort's machines (the running ones first go with them in proportion) and
    /// `diverted_units` on their way there, already taken out of the shipments by `divert_arrivals`; both
    /// join the relocation pool. Like arrivals, the count out of transit is not clamped.
    pub fn stop_at_ban(&mut self, cohort_idx: usize, n_units: u64, diverted_units: u64) {
        let n = self.remove_units(cohort_idx, n_units);
        self.banned[cohort_idx] += n;
        self.in_transit[cohort_idx] = self.in_transit[cohort_idx].wrapping_sub(diverted_units);
        self.diverted[cohort_idx] += diverted_units;
        self.rare_flows_written = true;
    }

    /// Machines from the relocation pool join a cohort (following the full site distribution).
    pub fn relocate_in(&mut self, cohort_idx: usize, n_units: u64) {
        self.add_units(cohort_idx, n_units);
        self.relocated_in[cohort_idx] += n_units;
        self.rare_flows_written = true;
    }

    /// A cohort sells `n_units` of its machines (never more than it has) to another, which keeps its own
    /// site distribution.
    pub fn sell_off(&mut self, from_idx: usize, to_idx: usize, n_units: u64) {
        let n = self.remove_units(from_idx, n_units);
        self.add_units(to_idx, n);
        self.sold_off[from_idx] += n;
        self.taken_over[to_idx] += n;
        self.rare_flows_written = true;
    }

    /// Retires `n_units` of a cohort's machines outside the monthly decision (scrapped when no one buys them).
    pub fn retire_units(&mut self, cohort_idx: usize, n_units: u64) {
        let n = self.remove_units(cohort_idx, n_units);
        self.retired[cohort_idx] += n;
    }

    /// Takes up to `n_units` machines out of a cohort, the running ones going with them in proportion; returns
    /// how many left (no more than the cohort has).
    fn remove_units(&mut self, cohort_idx: usize, n_units: u64) -> u64 {
        let n = n_units.min(self.units[cohort_idx]);
        self.units[cohort_idx] -= n;
        self.running[cohort_idx] = self.running[cohort_idx].min(self.units[cohort_idx]);
        n
    }

    /// Running hashrate of every cohort, in TH/s.
    pub fn running_ths(&self, generations: &[GenerationParams]) -> f64 {
        weighted_ths(&self.running, generations)
    }

    /// Installed hashrate (running or off), in TH/s.
    pub fn installed_ths(&self, generations: &[GenerationParams]) -> f64 {
        weighted_ths(&self.units, generations)
    }

    /// Shares the month's mining revenue among cohorts in proportion to running hashrate, and books each
    /// segment's revenue and power cost (cohorts with no machines and no power bill are left out).
    pub fn distribute_revenue(
        &mut self,
        usd_per_ths_month: f64,
        generations: &[GenerationParams],
        books: &mut [SegmentBooks; 2],
    ) {
        // Cohorts are laid out segment-slowest and generation-fastest, so each chunk of `n_generations`
        // lines up with `generations`.
        let n_gen = self.n_generations;
        if n_gen == 0 {
            return;
        }
        let per_segment = self.n_regions * n_gen;
        let generations = &generations[..n_gen];
        for (s, books) in books.iter_mut().enumerate() {
            let cohorts = s * per_segment..(s + 1) * per_segment;
            let revenues = &mut self.revenue_usd[cohorts.clone()];
            let mined = &mut self.mined_ths[cohorts.clone()];
            let running = &self.running[cohorts.clone()];
            let units = &self.units[cohorts.clone()];
            let power_costs = &self.power_cost_usd[cohorts];
            for ((((revenue, mined), running), units), power_costs) in revenues
                .chunks_exact_mut(n_gen)
                .zip(mined.chunks_exact_mut(n_gen))
                .zip(running.chunks_exact(n_gen))
                .zip(units.chunks_exact(n_gen))
                .zip(power_costs.chunks_exact(n_gen))
            {
                for g in 0..n_gen {
                    let ths = units_f64(running[g]) * generations[g].hashrate_ths;
                    mined[g] = ths;
                    let r = ths * usd_per_ths_month;
                    revenue[g] = r;
                    let power_cost = power_costs[g];
                    if units[g] == 0 && power_cost == 0.0 {
                        continue;
                    }
                    books.book_mining(r, power_cost);
                }
            }
        }
    }
}

/// A segment's fleet in one month (see [`Fleet::segment_totals`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SegmentTotals {
    /// TH/s installed and in transit.
    pub fleet_ths: f64,
    /// Their value at the prices given, in USD.
    pub fleet_value_usd: f64,
    /// Power of the machines bought this month, in MW.
    pub bought_mw: f64,
    /// Power of the machines retired this month, in MW.
    pub retired_mw: f64,
}

/// Adds `n_units` new machines to a cohort of `units` machines: they follow the full site distribution, so
/// the cohort's share of sites `q_max` grows, and they were bought to run, so its running share grows too
/// (the month's decision may still switch them off).
#[inline]
fn add_to_cohort(units: &mut u64, q_max: &mut f64, running_share: &mut f64, n_units: u64) {
    let old = units_f64(*units);
    let added = units_f64(n_units);
    *q_max = ((old * *q_max + added) / (old + added)).min(1.0);
    *running_share = (*running_share * old + added) / (old + added);
    *units += n_units;
}

/// Sum over cohorts of machines × TH/s of their generation, in cohort order (cohorts are laid out
/// generation-fastest, so each chunk of `generations.len()` cohorts lines up with `generations`).
fn weighted_ths(units_per_cohort: &[u64], generations: &[GenerationParams]) -> f64 {
    let mut total = 0.0;
    if generations.is_empty() {
        return total;
    }
    for chunk in units_per_cohort.chunks_exact(generations.len()) {
        for (&n, g) in chunk.iter().zip(generations) {
            // Adding the zeros of empty cohorts changes nothing and saves a branch the data cannot predict.
            total += units_f64(n) * g.hashrate_ths;
        }
    }
    total
}

/// Standardised log distance of the breakeven power price from the region's median site price.
pub fn standardised_breakeven(breakeven_usd_per_kwh: f64, log_median_price: f64, dispersion_log: f64) -> f64 {
    if breakeven_usd_per_kwh <= 0.0 || !breakeven_usd_per_kwh.is_finite() {
        return if breakeven_usd_per_kwh.is_infinite() {
            Z_ALL_SITES
        } else {
            -Z_ALL_SITES
        };
    }
    let gap = breakeven_usd_per_kwh.ln() - log_median_price;
    if dispersion_log <= 0.0 {
        return if gap >= 0.0 { Z_ALL_SITES } else { -Z_ALL_SITES };
    }
    (gap / dispersion_log).clamp(-Z_ALL_SITES, Z_ALL_SITES)
}

/// Standardised log gap between the breakeven and the median site price, kept within the sites modelled.
pub fn standardised_gap(ln_gap: f64, dispersion_log: f64) -> f64 {
    if ln_gap.is_nan() {
        return -Z_ALL_SITES;
    }
    if dispersion_log <= 0.0 {
        return if ln_gap >= 0.0 { Z_ALL_SITES } else { -Z_ALL_SITES };
    }
    (ln_gap / dispersion_log).clamp(-Z_ALL_SITES, Z_ALL_SITES)
}

/// Churn of a segment out of cash: its `churn_share_per_month` of every cohort leaves. The other segment
/// takes over what it can pay for at the used price, where the machines still make money; the rest is
/// scrapped. Nothing happens while the segment's cash is not negative.
pub fn churn(
    segment: Segment,
    fleet: &mut Fleet,
    books: &mut [SegmentBooks; 2],
    segments: &[SegmentParams; 2],
    secondary_price_usd: &[f64],
    scrap_usd_per_unit: f64,
) {
    let sp = &segments[segment.idx()];
    if books[segment.idx()].cash_usd() >= 0.0 || sp.churn_share_per_month <= 0.0 {
        return;
    }
    let other = if segment == Segment::Retail {
        Segment::KeyAccount
    } else {
        Segment::Retail
    };
    let mut other_budget = books[other.idx()].available_usd() * segments[other.idx()].max_spend_share_per_month;
    // The buyer's and the seller's books, borrowed apart.
    let [key_account, retail] = books;
    let (seller, buyer) = if segment == Segment::Retail {
        (retail, key_account)
    } else {
        (key_account, retail)
    };
    let n_gen = fleet.n_generations;
    for r in 0..fleet.n_regions {
        for (g, &price) in secondary_price_usd[..n_gen].iter().enumerate() {
            let from = fleet.cohort_idx(segment, r, g);
            let n = floor_units(units_f64(fleet.units[from]) * sp.churn_share_per_month);
            if n == 0 {
                continue;
            }
            let affordable = if price > 0.0 {
                floor_units(other_budget / price)
            } else {
                0
            };
            let profitable = fleet.runs_at_median_site(r, g);
            let taken = if profitable { n.min(affordable) } else { 0 };
            let scrapped = n - taken;
            let to = fleet.cohort_idx(other, r, g);
            if taken > 0 {
                fleet.sell_off(from, to, taken);
                let paid = units_f64(taken) * price;
                other_budget -= paid;
                buyer.take_over_from(seller, paid);
            }
            if scrapped > 0 {
                fleet.retire_units(from, scrapped);
                seller.receive_sale_proceeds(units_f64(scrapped) * scrap_usd_per_unit);
            }
        }
    }
}

#[cfg(test)]
mod tests;
