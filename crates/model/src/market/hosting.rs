//! AI/HPC hosting and AI's competition for power.
//!
//! Two parts, in two phases:
//!
//! - **AI power demand** (end of phase 1, `ai_power_demand`): each region's AI data centres take
//!   `ai_power_demand_mw_per_year / 12` MW of sites a month, idle sites first (what finds none waits for sites
//!   built or freed); AI's load (its data centres and the key accounts' sites hosting AI) raises the region's
//!   power price by `ai_power_price_elasticity` × its share of the region's sites.
//! - **Hosting** (phase 9, `hosting_month`, after the key-account firms' share of the month's movements and
//!   before their own finance): tenants cancel at their hazard; conversions whose lag has run start hosting;
//!   contracts past their term end (their sites go back to mining); tenants pay for the sites hosting; then
//!   the key accounts convert sites in regions where a contract on offer beats their expected mining margin
//!   by the hurdle, paying the conversion at once. The machines on converted sites leave them: a share is
//!   redeployed through the relocation pool, the rest sold at once.
//!
//! The key accounts convert as a segment. When they are firms, each living firm takes its part of a
//! conversion in proportion to its fleet share, as far as its available funds pay for it; the contract is
//! its own (income, cost, machines displaced), and it ends if the firm is wound up.
//!
//! MW are conserved per region: with limited sites, mining capacity (machines' sites and idle) + converting +
//! hosting + AI data centres = the region's starting sites + built − closed by bans, and converting and
//! hosting MW equal what was started, completed and returned (`crate::invariants::check_hosting`).
#![warn(missing_docs)]

use rand::RngExt;

use crate::market::regions::RelocationBatch;
use crate::math::{to_units, units_f64};
use crate::params::{Params, Segment};
use crate::rng::{PathRng, Stream, stream_rng};
use crate::units::{Month, W_PER_MW};
use crate::world::World;

const KA: usize = 0;

/// A hosting contract the key accounts signed: MW converting, then hosting for the term.
#[derive(Clone, Debug)]
pub struct HostingContract {
    /// Index of the offer it was signed on, into `HostingParams::contracts`.
    pub offer_idx: usize,
    /// Index of the region of its sites.
    pub region_idx: usize,
    /// The key-account firm that signed it (none when the key accounts are one pooled book).
    pub firm_idx: Option<usize>,
    /// Power of its sites, in MW.
    pub mw: f64,
    /// Month from which the site hosts and the contract pays.
    pub ready: Month,
    /// First month after the term.
    pub end: Month,
    /// Whether the site hosts (otherwise it is still converting).
    pub hosting: bool,
}

/// Whole-path tallies of MW, per region, for the conservation checks.
#[derive(Clone, Debug, Default)]
pub struct HostingTotals {
    /// MW that started converting.
    pub started_mw: Vec<f64>,
    /// MW whose conversion completed (they started hosting).
    pub completed_mw: Vec<f64>,
    /// MW that ended while converting (cancelled, or their firm wound up) and went back to mining.
    pub returned_converting_mw: Vec<f64>,
    /// MW that ended while hosting (term over, cancelled, or their firm wound up) and went back to mining.
    pub returned_hosting_mw: Vec<f64>,
    /// MW of sites AI data centres took.
    pub ai_taken_mw: Vec<f64>,
}

/// The month's hosting figures per region (the key accounts'), for the rows.
#[derive(Clone, Debug, Default)]
pub struct HostingMonth {
    /// MW that started converting this month.
    pub mw_converted: Vec<f64>,
    /// What tenants paid this month, in USD.
    pub revenue_usd: Vec<f64>,
    /// What operating the hosted sites cost this month, in USD.
    pub operating_cost_usd: Vec<f64>,
    /// Paid for conversions started this month, in USD.
    pub conversion_capex_usd: Vec<f64>,
    /// Machines displaced from converted sites this month.
    pub units_displaced: Vec<u64>,
}

/// AI/HPC hosting over a path: contracts signed, MW per region, AI data centres, and the cancellation stream.
#[derive(Clone, Debug)]
pub struct HostingState {
    /// Contracts converting or hosting.
    pub contracts: Vec<HostingContract>,
    /// MW still on offer, per offer.
    pub offered_left_mw: Vec<f64>,
    /// The key accounts' MW converting, per region.
    pub converting_mw: Vec<f64>,
    /// The key accounts' MW hosting AI, per region.
    pub hosting_mw: Vec<f64>,
    /// MW of sites AI data centres hold, per region.
    pub ai_sites_mw: Vec<f64>,
    /// AI demand that found no idle site yet, per region, in MW.
    pub ai_unmet_mw: Vec<f64>,
    /// The path's tallies.
    pub totals: HostingTotals,
    /// The month's figures.
    pub month: HostingMonth,
    rng: PathRng,
}

impl HostingState {
    /// Nothing signed, every offer whole, no AI data centres.
    pub fn new(params: &Params, path_idx: u32) -> HostingState {
        let n_reg = params.regions.len();
        HostingState {
            contracts: Vec::new(),
            offered_left_mw: params.hosting.contracts.iter().map(|o| o.offered_mw).collect(),
            converting_mw: vec![0.0; n_reg],
            hosting_mw: vec![0.0; n_reg],
            ai_sites_mw: vec![0.0; n_reg],
            ai_unmet_mw: vec![0.0; n_reg],
            totals: HostingTotals {
                started_mw: vec![0.0; n_reg],
                completed_mw: vec![0.0; n_reg],
                returned_converting_mw: vec![0.0; n_reg],
                returned_hosting_mw: vec![0.0; n_reg],
                ai_taken_mw: vec![0.0; n_reg],
            },
            month: HostingMonth {
                mw_converted: vec![0.0; n_reg],
                revenue_usd: vec![0.0; n_reg],
                operating_cost_usd: vec![0.0; n_reg],
                conversion_capex_usd: vec![0.0; n_reg],
                units_displaced: vec![0; n_reg],
            },
            rng: stream_rng(params.simulation.seed, path_idx as u64, Stream::Hosting),
        }
    }

    /// Clears the month's figures.
    pub fn open_month(&mut self) {
        let m = &mut self.month;
        m.mw_converted.fill(0.0);
        m.revenue_usd.fill(0.0);
        m.operating_cost_usd.fill(0.0);
        m.conversion_capex_usd.fill(0.0);
        m.units_displaced.fill(0);
    }
}

/// Whether a scenario has anything to do with AI: contracts on offer or AI power demand somewhere. Without,
/// both phases return at once, so results are exactly those of a scenario that never heard of AI.
pub fn any_ai(params: &Params) -> bool {
    !params.hosting.contracts.is_empty() || params.regions.iter().any(|r| r.ai_power_demand_mw_per_year > 0.0)
}

/// What the key accounts' budget for new machines is multiplied by: 1 − `machine_budget_cut_share` × the
/// share of their sites converting or hosting AI (exactly 1 for retail and without contracts on offer).
pub fn machine_budget_factor(w: &World, segment: Segment) -> f64 {
    let params = w.params;
    if segment != Segment::KeyAccount || params.hosting.contracts.is_empty() {
        return 1.0;
    }
    let h = &w.hosting;
    let ai_mw: f64 = h.converting_mw.iter().sum::<f64>() + h.hosting_mw.iter().sum::<f64>();
    if ai_mw <= 0.0 {
        return 1.0;
    }
    let mut mining_mw = 0.0;
    for c in w.fleet.segment_cohorts(Segment::KeyAccount) {
        let g = c % w.fleet.n_generations;
        mining_mw += units_f64(w.fleet.units[c]) * params.generations[g].power_w / W_PER_MW;
    }
    1.0 - params.hosting.machine_budget_cut_share * ai_mw / (ai_mw + mining_mw)
}

/// End of phase 1: AI data centres take the month's sites, and AI's load sets each region's power price
/// factor.
pub fn ai_power_demand(w: &mut World) {
    let params = w.params;
    if !any_ai(params) {
        return;
    }
    let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
    w.region_used_mw(&mut used_mw);
    let h = &mut w.hosting;
    for (r, region) in params.regions.iter().enumerate() {
        let want = h.ai_unmet_mw[r] + region.ai_power_demand_mw_per_year / 12.0;
        if want > 0.0 {
            let idle = if w.regions.capacity_mw[r].is_finite() {
                (w.regions.capacity_mw[r] - used_mw[r]).max(0.0)
            } else {
                f64::INFINITY
            };
            let taken = w.regions.take_sites(r, want.min(idle));
            h.ai_sites_mw[r] += taken;
            h.totals.ai_taken_mw[r] += taken;
            h.ai_unmet_mw[r] = (want - taken).max(0.0);
        }
        if region.ai_power_price_elasticity > 0.0 {
            let ai_mw = h.ai_sites_mw[r] + h.hosting_mw[r];
            let sites_mw = if w.regions.capacity_mw[r].is_finite() {
                w.regions.capacity_mw[r] + h.converting_mw[r] + ai_mw
            } else {
                used_mw[r] + h.converting_mw[r] + ai_mw
            };
            let share = if sites_mw > 0.0 {
                (ai_mw / sites_mw).min(1.0)
            } else {
                0.0
            };
            w.power
                .set_ai_factor(r, 1.0 + region.ai_power_price_elasticity * share, &params.regions);
        }
    }
    w.scratch.used_mw = used_mw;
}

/// Phase 9's hosting month: cancellations, completions and expiries, the tenants' payments, then new
/// conversions.
/// Returns whether it could have moved the key accounts' fleet (only when contracts are on offer).
pub fn hosting_month(w: &mut World) -> bool {
    if w.params.hosting.contracts.is_empty() {
        return false;
    }
    w.hosting.open_month();
    end_and_start_contracts(w);
    pay_hosting(w);
    convert(w);
    true
}

/// Ends the contracts cancelled this month (one draw each), those whose firm was wound up and those past
/// their term, giving their sites back to mining; conversions whose lag has run start hosting.
fn end_and_start_contracts(w: &mut World) {
    let month = w.month;
    let params = w.params;
    let mut contracts = std::mem::take(&mut w.hosting.contracts);
    contracts.retain_mut(|c| {
        let offer = &params.hosting.contracts[c.offer_idx];
        let cancelled = w.hosting.rng.random::<f64>() < offer.cancellation_per_month;
        let owner_gone = c.firm_idx.is_some_and(|i| !w.key_accounts.firms[i].alive);
        let ends = cancelled || owner_gone || month >= c.end;
        let h = &mut w.hosting;
        let r = c.region_idx;
        if !c.hosting && month >= c.ready && !ends {
            h.converting_mw[r] -= c.mw;
            h.hosting_mw[r] += c.mw;
            h.totals.completed_mw[r] += c.mw;
            c.hosting = true;
        }
        if ends {
            if c.hosting {
                h.hosting_mw[r] -= c.mw;
                h.totals.returned_hosting_mw[r] += c.mw;
            } else {
                h.converting_mw[r] -= c.mw;
                h.totals.returned_converting_mw[r] += c.mw;
            }
            w.regions.return_sites(r, c.mw);
        }
        !ends
    });
    w.hosting.contracts = contracts;
}

/// Tenants pay a month of each hosting contract; the sites' operating cost is paid out of it.
fn pay_hosting(w: &mut World) {
    let params = w.params;
    let opex_share = params.hosting.operating_cost_share;
    for k in 0..w.hosting.contracts.len() {
        let c = &w.hosting.contracts[k];
        if !c.hosting {
            continue;
        }
        let offer = &params.hosting.contracts[c.offer_idx];
        let revenue = c.mw * offer.price_usd_per_mw_year / 12.0;
        let cost = revenue * opex_share;
        let fenced = (revenue - cost) * params.hosting.ring_fenced_share;
        let (r, firm_idx) = (c.region_idx, c.firm_idx);
        match firm_idx {
            Some(i) => w
                .key_accounts
                .receive_hosting_income(i, revenue, cost, fenced, &mut w.segments[KA]),
            None => w.segments[KA].receive_hosting_income(revenue, cost, fenced),
        }
        w.hosting.month.revenue_usd[r] += revenue;
        w.hosting.month.operating_cost_usd[r] += cost;
    }
}

/// What a MW of the key accounts' mining sites in a region earns in a month, in USD, net of power and the
/// region's other operating costs, at this month's revenue per TH/s and the region's power price (never
/// below zero: sites that lose money switch off); with the efficiency of their installed machines there.
/// Returns (margin per MW-month, MW of their installed machines).
fn mining_margin_usd_per_mw_month(w: &World, r: usize) -> (f64, f64) {
    let params = w.params;
    let (mut ths, mut mw) = (0.0, 0.0);
    for g in 0..params.generations.len() {
        let n = units_f64(w.fleet.units[w.fleet.cohort_idx(Segment::KeyAccount, r, g)]);
        ths += n * params.generations[g].hashrate_ths;
        mw += n * params.generations[g].power_w / W_PER_MW;
    }
    if mw <= 0.0 {
        return (0.0, 0.0);
    }
    let n_days = w.figures.n_days;
    let revenue = w.revenue_usd_per_th_day * ths / mw * n_days;
    let power = 1_000.0 * 24.0 * n_days * w.power.price_usd_per_kwh[r] * (1.0 + w.regions.opex_share()[r]);
    ((revenue - power).max(0.0), mw)
}

/// The key accounts convert sites where a contract on offer beats mining by the hurdle.
fn convert(w: &mut World) {
    let params = w.params;
    let hp = &params.hosting;
    for o in 0..hp.contracts.len() {
        let offer = &hp.contracts[o];
        if w.month < offer.from || w.month > offer.until || w.hosting.offered_left_mw[o] <= 0.0 {
            continue;
        }
        let r = offer.region_idx;
        let (margin, mining_mw) = mining_margin_usd_per_mw_month(w, r);
        if mining_mw <= 0.0 {
            continue;
        }
        // The contract's income per MW-month, less the conversion and the mining forgone while converting,
        // both spread over the term.
        let term = offer.term_months as f64;
        let hosting_net = offer.price_usd_per_mw_year / 12.0 * (1.0 - hp.operating_cost_share)
            - (offer.conversion_cost_usd_per_mw + margin * offer.conversion_lag_months as f64) / term;
        if hosting_net <= 0.0 || hosting_net <= margin * (1.0 + hp.hurdle_share) {
            continue;
        }
        let h = &w.hosting;
        let sites_mw = mining_mw + h.converting_mw[r] + h.hosting_mw[r];
        let room_mw = hp.max_converted_share * sites_mw - h.converting_mw[r] - h.hosting_mw[r];
        let month_room_mw = hp.max_conversion_share_per_month * sites_mw - h.month.mw_converted[r];
        let target_mw = h.offered_left_mw[o]
            .min(room_mw)
            .min(month_room_mw)
            .min(mining_mw)
            .min(w.regions.capacity_mw[r]);
        if target_mw <= 0.0 {
            continue;
        }
        sign(w, o, target_mw, mining_mw);
    }
}

/// Signs up to `target_mw` of offer `o`: the converting firms (or the pooled segment) take what their funds
/// pay for, pay for it, and the machines on those sites leave them.
fn sign(w: &mut World, o: usize, target_mw: f64, mining_mw: f64) {
    let params = w.params;
    let offer = &params.hosting.contracts[o];
    let r = offer.region_idx;
    let cost = offer.conversion_cost_usd_per_mw;
    let affordable = |funds_usd: f64| if cost > 0.0 { funds_usd / cost } else { f64::INFINITY };
    // (firm, MW) of each signer.
    let mut signers: Vec<(Option<usize>, f64)> = Vec::new();
    if w.key_accounts.enabled() {
        let committed = w.segments[KA].committed_balance_usd();
        let reserve_months = params.key_account_firms.cash_reserve_months;
        for (i, f) in w.key_accounts.firms.iter().enumerate() {
            if !f.alive {
                continue;
            }
            let funds = crate::agents::miner::firms::KeyAccountFirms::available_usd(f, committed, reserve_months);
            let mw = (target_mw * f.fleet_share).min(affordable(funds));
            if mw > 1e-9 {
                signers.push((Some(i), mw));
            }
        }
    } else {
        let mw = target_mw.min(affordable(w.segments[KA].available_usd()));
        if mw > 1e-9 {
            signers.push((None, mw));
        }
    }
    let total_mw: f64 = signers.iter().map(|s| s.1).sum();
    if total_mw <= 0.0 {
        return;
    }
    let month = w.month;
    let ready = Month(month.0 + offer.conversion_lag_months);
    for &(firm_idx, mw) in &signers {
        match firm_idx {
            Some(i) => w.key_accounts.pay_conversion_capex(i, mw * cost, &mut w.segments[KA]),
            None => w.segments[KA].pay_conversion_capex(mw * cost),
        }
        w.hosting.contracts.push(HostingContract {
            offer_idx: o,
            region_idx: r,
            firm_idx,
            mw,
            ready,
            end: Month(ready.0 + offer.term_months),
            hosting: false,
        });
    }
    let h = &mut w.hosting;
    h.offered_left_mw[o] = (h.offered_left_mw[o] - total_mw).max(0.0);
    h.converting_mw[r] += total_mw;
    h.totals.started_mw[r] += total_mw;
    h.month.mw_converted[r] += total_mw;
    h.month.conversion_capex_usd[r] += total_mw * cost;
    // `convert` keeps the target within the sites left to mining, so all of it is taken.
    w.regions.take_sites(r, total_mw);
    displace(w, r, total_mw / mining_mw, &signers, total_mw);
}

/// The key accounts' machines on the converted sites (`share` of each of their cohorts in region `r`) leave:
/// `redeploy_share` of them join the relocation pool, the rest are sold at once at the used price less the
/// stranded discount, each converting firm paid for its part; firms' fleet shares shrink by what left theirs.
fn displace(w: &mut World, r: usize, share: f64, signers: &[(Option<usize>, f64)], total_mw: f64) {
    let params = w.params;
    let share = share.clamp(0.0, 1.0);
    let fleet_ths_before = if w.key_accounts.enabled() {
        w.fleet
            .segment_totals(Segment::KeyAccount, &params.generations, &w.secondary_price_usd)
            .fleet_ths
    } else {
        0.0
    };
    let redeploy_share = params.hosting.redeploy_share;
    let discount = 1.0 - params.relocation.stranded_price_discount_share;
    let (mut displaced_ths, mut proceeds) = (0.0, 0.0);
    let mut displaced_units = 0;
    for g in 0..params.generations.len() {
        let c = w.fleet.cohort_idx(Segment::KeyAccount, r, g);
        let want = to_units(units_f64(w.fleet.units[c]) * share).min(w.fleet.units[c]);
        let n = w.fleet.displace(c, want);
        if n == 0 {
            continue;
        }
        displaced_units += n;
        displaced_ths += units_f64(n) * params.generations[g].hashrate_ths;
        let redeployed = to_units(units_f64(n) * redeploy_share).min(n);
        let sold = n - redeployed;
        if redeployed > 0 {
            w.relocation.push(RelocationBatch {
                segment_idx: KA,
                generation_idx: g,
                from_region_idx: r,
                units: redeployed,
                stopped: w.month,
            });
        }
        if sold > 0 {
            proceeds += units_f64(sold) * w.secondary_price_usd[g] * discount;
            w.stranded_overhang_units[g] += units_f64(sold);
            w.relocation_totals.sold += sold;
        }
        w.relocation_totals.displaced += n;
    }
    w.hosting.month.units_displaced[r] += displaced_units;
    if proceeds > 0.0 {
        w.segments[KA].receive_sale_proceeds(proceeds);
    }
    if w.key_accounts.enabled() {
        let mut parts = vec![0.0; w.key_accounts.firms.len()];
        for &(firm_idx, mw) in signers {
            if let Some(i) = firm_idx {
                parts[i] = mw / total_mw;
                w.key_accounts.receive_displaced_sale_proceeds(i, proceeds * parts[i]);
            }
        }
        w.key_accounts
            .shrink_fleet_shares(&parts, fleet_ths_before, displaced_ths);
    }
}

#[cfg(test)]
mod tests;
