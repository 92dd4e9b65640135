//! The fleet's monthly operating decision: which share of each cohort's sites pays its power, how far the
//! running share moves towards it, which machines have lost money for the whole retirement window and
//! retire, and the power the running machines draw.
#![warn(missing_docs)]

use crate::agents::miner::{Fleet, standardised_gap};
use crate::math::{max_not_nan, min_not_nan, norm_cdf_fast, norm_cdf_fast_with_slope, to_units, units_f64};
use crate::params::{GenerationParams, RegionParams, SegmentParams};
use crate::units::W_PER_KW;

impl Fleet {
    /// Decides which machines run this month and retires those unprofitable for too long.
    ///
    /// `revenue_usd_per_th_day` is the revenue per TH/s and day miners decide at (see
    /// `decision_revenue_usd_per_th_day`); it sets which sites would run. The running share moves towards that target by the segment's response share
    /// (fixed power contracts and hosting terms make switching sluggish). `outlook_usd_per_th_day` is what a
    /// TH/s would earn once difficulty has adjusted to the hashrate now running: a machine is retired only
    /// when even that has not covered its power for `retire_after_months` months, so machines switched off in
    /// a slump wait for the retargets that make them profitable again. `ln_1p_opex_share` is ln(1 + opex
    /// share) per region, which the regions' state keeps with the share.
    #[allow(clippy::too_many_arguments)]
    pub fn operate(
        &mut self,
        revenue_usd_per_th_day: f64,
        outlook_usd_per_th_day: f64,
        power_price_usd_per_kwh: &[f64],
        opex_share_of_power: &[f64],
        ln_1p_opex_share: &[f64],
        regions: &[RegionParams],
        generations: &[GenerationParams],
        segments: &[SegmentParams; 2],
        hours_in_month: f64,
    ) {
        self.retired_by_decision.clear();
        self.find_site_shares(
            revenue_usd_per_th_day,
            outlook_usd_per_th_day,
            power_price_usd_per_kwh,
            ln_1p_opex_share,
            regions,
        );
        self.take_window_maxima(segments);
        self.run_cohorts(
            power_price_usd_per_kwh,
            opex_share_of_power,
            generations,
            segments,
            hours_in_month,
        );
    }

    /// This month's share of each region's sites where each generation pays its power (`q_now`), and the
    /// share worth keeping at the better of this month's revenue and the outlook, into the month's row of the
    /// retirement ring.
    fn find_site_shares(
        &mut self,
        revenue_usd_per_th_day: f64,
        outlook_usd_per_th_day: f64,
        power_price_usd_per_kwh: &[f64],
        ln_1p_opex_share: &[f64],
        regions: &[RegionParams],
    ) {
        let n_gen = self.n_generations;
        let retire_revenue = revenue_usd_per_th_day.max(outlook_usd_per_th_day);
        // The breakeven power price is revenue / (kWh per TH-day × (1 + opex)); in logs every factor separates,
        // so the loop below needs no logarithm: z = (ln revenue - ln kWh - ln(1 + opex) - ln price) / sigma.
        let ln_revenue = if revenue_usd_per_th_day > 0.0 {
            revenue_usd_per_th_day.ln()
        } else {
            f64::NEG_INFINITY
        };
        let ln_retire_revenue = if retire_revenue > 0.0 {
            retire_revenue.ln()
        } else {
            f64::NEG_INFINITY
        };
        let n_rg = self.n_regions * n_gen;
        // This month's row of the ring: the share of sites that pay their power for retirement.
        let newest = self.history_pos;
        let ln_kwh_per_th_day = &self.ln_kwh_per_th_day[..n_gen];
        let row = &mut self.q_retire_history[newest * n_rg..(newest + 1) * n_rg];
        for (region_idx, region) in regions.iter().enumerate().take(self.n_regions) {
            let ln_cost_factor = power_price_usd_per_kwh[region_idx].ln() + ln_1p_opex_share[region_idx];
            let sigma = region.site_power_price_dispersion_log;
            let run = region_idx * n_gen..(region_idx + 1) * n_gen;
            let units_key_account = &self.units[run.clone()];
            let units_retail = &self.units[n_rg + run.start..n_rg + run.end];
            let q_now = &mut self.q_now[run.clone()];
            let row = &mut row[run];
            for g in 0..n_gen {
                let active = units_key_account[g] > 0 || units_retail[g] > 0;
                let (q, q_retire) = if active {
                    let ln_cost = ln_kwh_per_th_day[g] + ln_cost_factor;
                    let q = norm_cdf_fast(standardised_gap(ln_revenue - ln_cost, sigma));
                    let q_retire = if ln_retire_revenue > ln_revenue {
                        norm_cdf_fast(standardised_gap(ln_retire_revenue - ln_cost, sigma))
                    } else {
                        q
                    };
                    (q, q_retire)
                } else {
                    // Nothing installed: the value is never read, and a full share retires nothing later.
                    (1.0, 1.0)
                };
                q_now[g] = q;
                row[g] = q_retire;
            }
        }
    }

    /// The highest share of sites worth keeping over each segment's retirement window, into `window_max`;
    /// then the ring moves on a month.
    fn take_window_maxima(&mut self, segments: &[SegmentParams; 2]) {
        let n_rg = self.n_regions * self.n_generations;
        let (history_len, newest) = (self.history_len, self.history_pos);
        let windows = [0, 1].map(|s| (segments[s].retire_after_months as usize).clamp(1, self.history_len));
        // The highest share of sites still worth keeping over each segment's window, the last `window` months
        // up to this one: both windows end now, so the longer one carries on from the shorter one's maxima.
        // Entries of (region, generation) pairs with no machines are never read.
        let (short_window, long_window) = (windows[0].min(windows[1]), windows[0].max(windows[1]));
        let (window_max_key_account, window_max_retail) = self.window_max[..2 * n_rg].split_at_mut(n_rg);
        let (short_max, long_max) = if windows[0] <= windows[1] {
            (window_max_key_account, window_max_retail)
        } else {
            (window_max_retail, window_max_key_account)
        };
        let history = &self.q_retire_history;
        let month_row = |back: usize| {
            let slot = (newest + history_len - back) % history_len;
            &history[slot * n_rg..(slot + 1) * n_rg]
        };
        short_max.fill(0.0);
        for back in 0..short_window {
            max_into(short_max, month_row(back));
        }
        long_max.copy_from_slice(short_max);
        for back in short_window..long_window {
            max_into(long_max, month_row(back));
        }
        self.history_pos = (self.history_pos + 1) % self.history_len;
    }

    /// Retires what lost money through its window, moves each cohort's running share towards the profitable
    /// share of its sites at the segment's response speed, and books the power the running machines draw.
    fn run_cohorts(
        &mut self,
        power_price_usd_per_kwh: &[f64],
        opex_share_of_power: &[f64],
        generations: &[GenerationParams],
        segments: &[SegmentParams; 2],
        hours_in_month: f64,
    ) {
        let n_gen = self.n_generations;
        let n_rg = self.n_regions * n_gen;
        // Each (segment, region) holds one run of `n_gen` cohorts; cutting every array to that run first lets
        // the loop index them without bounds checks.
        let generations = &generations[..n_gen];
        for (s, segment_params) in segments.iter().enumerate() {
            let response = segment_params.run_response_share_per_month;
            for (region_idx, site_prices) in self.site_price_curves.iter().enumerate() {
                let power_price = power_price_usd_per_kwh[region_idx];
                let opex_factor = 1.0 + opex_share_of_power[region_idx];
                let run = (s * self.n_regions + region_idx) * n_gen..(s * self.n_regions + region_idx + 1) * n_gen;
                let units = &mut self.units[run.clone()];
                let running = &mut self.running[run.clone()];
                let shares = &mut self.running_share[run.clone()];
                let q_maxes = &mut self.site_q_max[run.clone()];
                let cohort_start = run.start;
                let retired = &mut self.retired[run.clone()];
                let retired_by_decision = &mut self.retired_by_decision;
                let power_cost = &mut self.power_cost_usd[run];
                let q_now = &self.q_now[region_idx * n_gen..(region_idx + 1) * n_gen];
                let window_max = &self.window_max[s * n_rg + region_idx * n_gen..s * n_rg + (region_idx + 1) * n_gen];
                for g in 0..n_gen {
                    let mut n = units[g];
                    if n == 0 {
                        running[g] = 0;
                        continue;
                    }
                    // Retire: sites above the highest profitable share of the window lost money throughout.
                    let q_max = q_maxes[g];
                    if window_max[g] < q_max {
                        let kept = to_units(units_f64(n) * window_max[g] / q_max).min(n);
                        if kept < n {
                            // The retired sites were the dearest; whatever ran keeps running if it can.
                            let running_before = shares[g] * units_f64(n);
                            shares[g] = if kept > 0 {
                                (running_before / units_f64(kept)).min(1.0)
                            } else {
                                0.0
                            };
                            retired[g] += n - kept;
                            retired_by_decision.push((cohort_start + g, n - kept));
                            units[g] = kept;
                            n = kept;
                        }
                        q_maxes[g] = window_max[g];
                    }
                    if n == 0 {
                        running[g] = 0;
                        continue;
                    }
                    let q_max = q_maxes[g];
                    let target_share = if q_max > 0.0 {
                        (min_not_nan(q_now[g], q_max) / q_max).min(1.0)
                    } else {
                        0.0
                    };
                    let share = (shares[g] + response * (target_share - shares[g])).clamp(0.0, 1.0);
                    shares[g] = share;
                    let n_running = to_units(units_f64(n) * share).min(n);
                    running[g] = n_running;
                    if n_running > 0 {
                        // The cheapest sites run: the running sites fill the quantiles up to share × q_max.
                        let mean_site_price = power_price * site_prices.factor(share * q_max);
                        let kwh = units_f64(n_running) * generations[g].power_w / W_PER_KW * hours_in_month;
                        power_cost[g] = kwh * mean_site_price * opex_factor;
                    }
                }
            }
        }
    }
}

/// What the decision search needs of one cohort with machines, gathered once a month. A cohort's running
/// share moves from `s` towards `t(R)` = min(q(R), q_max) / q_max at response `r`, so the hashrate it runs is
/// ths × (s + r (t(R) - s)) = ths s (1 - r) + ths r t(R): a part that does not depend on the revenue tried,
/// summed once, and a weight on t(R).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecisionCohort {
    /// Index of the cohort's (region, generation) pair among the pairs with machines.
    pair_idx: usize,
    /// ths × r: the hashrate, in TH/s, that follows the target share this month.
    weight_ths: f64,
    /// The cohort's share of its region's sites (see `Fleet::site_q_max`).
    q_max: f64,
    /// 1 / q_max (0 when the cohort holds no sites).
    inv_q_max: f64,
}

/// A (region, generation) pair with machines, as the decision search sees it.
#[derive(Clone, Copy, Debug)]
struct DecisionPair {
    /// ln of the power and operating cost of a TH/s-day at the region's median site.
    ln_cost_usd_per_th_day: f64,
    /// The region's spread of site power prices (log-normal sigma).
    dispersion_log: f64,
    /// 1 / `dispersion_log`, or 0 without dispersion (every site switches at once: no slope).
    inv_dispersion_log: f64,
    /// The share of sites that pay their power at the revenue being tried.
    q: f64,
    /// The slope of `q` in ln revenue there.
    q_slope: f64,
}

/// The month's decision, kept to start the next month's search from.
#[derive(Clone, Copy, Debug)]
struct LastDecision {
    /// ln of the revenue per TH/s and day miners decided at.
    ln_revenue_usd_per_th_day: f64,
    /// What the network paid a day at the target pace when it was found, in USD.
    network_revenue_usd_per_day: f64,
}

/// The (region, generation) pairs with machines and their cohorts, gathered once a month so that each
/// evaluation of the fleet's hashrate at a revenue is one cheap pass.
#[derive(Clone, Debug, Default)]
pub(crate) struct DecisionScratch {
    pairs: Vec<DecisionPair>,
    cohorts: Vec<DecisionCohort>,
    /// Last month's decision, where the next month's search starts (none before the first month).
    last: Option<LastDecision>,
    /// The ln revenues at which the hashrate jumps, ascending: pairs whose sites all switch at once (no
    /// dispersion of power prices) and others' all-or-nothing switches.
    jumps_ln_revenue: Vec<f64>,
    /// Hashrate in TH/s that runs whatever the revenue tried: Σ ths s (1 - r).
    fixed_ths: f64,
    /// Hashrate of every gathered machine, in TH/s.
    installed_ths: f64,
}

impl Fleet {
    /// Gathers the pairs and cohorts with machines into the decision scratch (see `running_ths_gathered`).
    fn gather_for_decision(
        &mut self,
        power_price_usd_per_kwh: &[f64],
        ln_1p_opex_share: &[f64],
        regions: &[RegionParams],
        generations: &[GenerationParams],
        segments: &[SegmentParams; 2],
    ) {
        let n_gen = self.n_generations;
        let n_rg = self.n_regions * n_gen;
        let scratch = &mut self.decision_scratch;
        scratch.pairs.clear();
        scratch.cohorts.clear();
        scratch.jumps_ln_revenue.clear();
        scratch.fixed_ths = 0.0;
        scratch.installed_ths = 0.0;
        let responses = [0, 1].map(|s| segments[s].run_response_share_per_month);
        let generations = &generations[..n_gen];
        let ln_kwh_per_th_day = &self.ln_kwh_per_th_day[..n_gen];
        // The key accounts' cohorts, then the retail ones, each cut to one run of (region, generation) pairs.
        let units = [&self.units[..n_rg], &self.units[n_rg..2 * n_rg]];
        let shares = [&self.running_share[..n_rg], &self.running_share[n_rg..2 * n_rg]];
        let q_maxes = [&self.site_q_max[..n_rg], &self.site_q_max[n_rg..2 * n_rg]];
        for (region_idx, region) in regions.iter().enumerate().take(self.n_regions) {
            let ln_cost_factor = power_price_usd_per_kwh[region_idx].ln() + ln_1p_opex_share[region_idx];
            let run = region_idx * n_gen..(region_idx + 1) * n_gen;
            let units = [&units[0][run.clone()], &units[1][run.clone()]];
            let shares = [&shares[0][run.clone()], &shares[1][run.clone()]];
            let q_maxes = [&q_maxes[0][run.clone()], &q_maxes[1][run]];
            for (g, generation) in generations.iter().enumerate() {
                if units[0][g] == 0 && units[1][g] == 0 {
                    continue;
                }
                let pair_idx = scratch.pairs.len();
                let dispersion_log = region.site_power_price_dispersion_log;
                let ln_cost_usd_per_th_day = ln_kwh_per_th_day[g] + ln_cost_factor;
                if dispersion_log <= 0.0 {
                    scratch.jumps_ln_revenue.push(ln_cost_usd_per_th_day);
                }
                scratch.pairs.push(DecisionPair {
                    ln_cost_usd_per_th_day,
                    dispersion_log,
                    inv_dispersion_log: if dispersion_log > 0.0 {
                        1.0 / dispersion_log
                    } else {
                        0.0
                    },
                    q: 0.0,
                    q_slope: 0.0,
                });
                for s in 0..2 {
                    let n = units[s][g];
                    if n == 0 {
                        continue;
                    }
                    let ths = units_f64(n) * generation.hashrate_ths;
                    let (share, response) = (shares[s][g], responses[s]);
                    let q_max = q_maxes[s][g];
                    scratch.installed_ths += ths;
                    scratch.fixed_ths += ths * share * (1.0 - response);
                    scratch.cohorts.push(DecisionCohort {
                        pair_idx,
                        weight_ths: ths * response,
                        q_max,
                        inv_q_max: if q_max > 0.0 { 1.0 / q_max } else { 0.0 },
                    });
                }
            }
        }
    }

    /// The hashrate in TH/s the gathered cohorts would run if each TH/s earned `revenue_usd_per_th_day`, and
    /// its slope in ln revenue (TH/s per unit of ln revenue): each cohort's running share moves towards the
    /// share of its sites that pay their power at that revenue, at its segment's response speed, as `operate`
    /// will move it. Retirement is left out: it takes only machines that lost money through a whole window, a
    /// small flow beside the switching.
    fn running_ths_gathered(scratch: &mut DecisionScratch, revenue_usd_per_th_day: f64) -> (f64, f64) {
        let ln_revenue = if revenue_usd_per_th_day > 0.0 {
            revenue_usd_per_th_day.ln()
        } else {
            f64::NEG_INFINITY
        };
        for pair in &mut scratch.pairs {
            let (ln_cost, sigma) = (pair.ln_cost_usd_per_th_day, pair.dispersion_log);
            // Where the gap is clamped the table's value is 0 or 1 and its slope 0.
            let (value, slope_per_z) = norm_cdf_fast_with_slope(standardised_gap(ln_revenue - ln_cost, sigma));
            pair.q = value;
            pair.q_slope = slope_per_z * pair.inv_dispersion_log;
        }
        let mut total_ths = scratch.fixed_ths;
        let mut slope_ths = 0.0;
        let pairs = &scratch.pairs;
        for cohort in &scratch.cohorts {
            // The target share min(q, q_max) / q_max lies in [0, 1], so the moved share stays in [0, 1].
            let pair = &pairs[cohort.pair_idx];
            let target = min_not_nan(pair.q, cohort.q_max) * cohort.inv_q_max;
            total_ths += cohort.weight_ths * target;
            if pair.q < cohort.q_max {
                slope_ths += cohort.weight_ths * pair.q_slope * cohort.inv_q_max;
            }
        }
        (total_ths, slope_ths)
    }

    /// The hashrate in TH/s the fleet would run this month if each TH/s earned `revenue_usd_per_th_day`
    /// (see `running_ths_gathered`).
    pub fn running_ths_at(
        &mut self,
        revenue_usd_per_th_day: f64,
        power_price_usd_per_kwh: &[f64],
        ln_1p_opex_share: &[f64],
        regions: &[RegionParams],
        generations: &[GenerationParams],
        segments: &[SegmentParams; 2],
    ) -> f64 {
        self.gather_for_decision(
            power_price_usd_per_kwh,
            ln_1p_opex_share,
            regions,
            generations,
            segments,
        );
        Self::running_ths_gathered(&mut self.decision_scratch, revenue_usd_per_th_day).0
    }

    /// The revenue per TH/s and day miners decide at this month: a blend, by `foresight_share`, of
    /// `revenue_at_start_usd_per_th_day` (at the difficulty in force) and what the network pays each TH/s once
    /// difficulty has settled at the hashrate that runs, `network_revenue_usd_per_day` / hashrate. The second
    /// depends on the decision itself (fewer machines running lower difficulty and raise everyone's revenue), so
    /// the decision is the fixed point R = blend(R_start, V / H(R)), found on ln R by a bracket grown from last month's
    /// decision and the Illinois variant of regula falsi: H(R) rises with R, so the blend falls with R and the
    /// root is unique where H is continuous (the manufacturers' self-mining switches a whole generation at its
    /// cost, a step at which the search stops). A search that meets a non-finite value falls back to the
    /// revenue at the starting difficulty. `other_switch_usd_per_th_day` are the revenues above which others
    /// switch a whole generation on, where `other_ths_at` jumps. `other_ths_at` is the hashrate others (the
    /// manufacturers' self-mining) would run at a revenue.
    #[allow(clippy::too_many_arguments)]
    pub fn decision_revenue_usd_per_th_day(
        &mut self,
        revenue_at_start_usd_per_th_day: f64,
        network_revenue_usd_per_day: f64,
        foresight_share: f64,
        other_ths_at: impl Fn(f64) -> f64,
        other_switch_usd_per_th_day: impl Iterator<Item = f64>,
        power_price_usd_per_kwh: &[f64],
        ln_1p_opex_share: &[f64],
        regions: &[RegionParams],
        generations: &[GenerationParams],
        segments: &[SegmentParams; 2],
    ) -> f64 {
        if foresight_share <= 0.0 || network_revenue_usd_per_day <= 0.0 {
            return revenue_at_start_usd_per_th_day;
        }
        let blend = |ths: f64| {
            // A hashrate that is not a number must not pass for the floor (`f64::max` would drop the NaN).
            let settled = if ths.is_nan() {
                f64::NAN
            } else {
                network_revenue_usd_per_day / ths.max(MIN_SETTLED_THS)
            };
            (1.0 - foresight_share) * revenue_at_start_usd_per_th_day + foresight_share * settled
        };
        self.gather_for_decision(
            power_price_usd_per_kwh,
            ln_1p_opex_share,
            regions,
            generations,
            segments,
        );
        let installed_ths = self.decision_scratch.installed_ths + other_ths_at(f64::INFINITY);
        let mut scratch = std::mem::take(&mut self.decision_scratch);
        let mut jumps = std::mem::take(&mut scratch.jumps_ln_revenue);
        jumps.extend(other_switch_usd_per_th_day.filter(|&r| r > 0.0).map(f64::ln));
        jumps.sort_unstable_by(f64::total_cmp);
        let last = scratch.last.take();
        // The hashrate at a revenue and its slope in ln revenue; others' (self-mining) switch whole generations
        // at once, so they add no slope.
        let mut ths_at = |revenue: f64| {
            let (ths, slope_ths) = Self::running_ths_gathered(&mut scratch, revenue);
            (other_ths_at(revenue) + ths, slope_ths)
        };
        // Bounds: every machine running gives the lowest decision revenue, nothing running the highest. On
        // ln R the gap g(x) = ln blend(H(e^x)) - x falls from >= 0 at `floor` to <= 0 at `ceiling`.
        let (floor, ceiling) = (blend(installed_ths).ln(), blend(0.0).ln());
        if !(floor.is_finite() && ceiling.is_finite()) || ceiling <= floor {
            scratch.last = last;
            scratch.jumps_ln_revenue = jumps;
            self.decision_scratch = scratch;
            let revenue = blend(installed_ths);
            return if revenue.is_finite() {
                revenue
            } else {
                revenue_at_start_usd_per_th_day
            };
        }
        // The gap and its slope: d/dx ln blend(H) = blend'(H) H'(x) / blend(H), where blend'(H) = -f V / H^2
        // above the floor on the hashrate.
        let gap = |x: f64| {
            let (ths, slope_ths) = ths_at(x.exp());
            let blended = blend(ths);
            let blend_slope = if ths > MIN_SETTLED_THS {
                -foresight_share * network_revenue_usd_per_day / (ths * ths)
            } else {
                0.0
            };
            (blended.ln() - x, blend_slope * slope_ths / blended - 1.0)
        };
        // Start from last month's decision scaled by what the network pays now: the fleet changes little in a
        // month, so Newton's steps from there close in two or three evaluations, each a pass over the cohorts.
        let guess = match last {
            Some(last) => {
                last.ln_revenue_usd_per_th_day + (network_revenue_usd_per_day / last.network_revenue_usd_per_day).ln()
            }
            None => floor,
        };
        let x = find_root_falling(gap, &jumps, guess.clamp(floor, ceiling), floor, ceiling);
        scratch.jumps_ln_revenue = jumps;
        // Only a finite decision is kept to start from (network revenue is positive here, checked above).
        scratch.last = x.is_finite().then_some(LastDecision {
            ln_revenue_usd_per_th_day: x,
            network_revenue_usd_per_day,
        });
        self.decision_scratch = scratch;
        if x.is_finite() {
            x.exp()
        } else {
            revenue_at_start_usd_per_th_day
        }
    }
}

/// The root of `gap`, a falling function of ln revenue with gap(floor) >= 0 >= gap(ceiling) that returns
/// its value and slope, searched from `guess` by Newton's steps kept inside a bracket.
///
/// The gap is L(x) - x with L non-increasing (more revenue runs more hashrate, which settles to a lower
/// revenue), so where the gap is g > 0 at x the root is at most x + g, and where it is g < 0 the root is at
/// least x + g: each evaluation narrows the bracket from both sides. `jumps` (ascending) are where L may
/// jump. A Newton step that would leave the bracket is replaced by the middle jump inside it while there are
/// some, then by regula falsi between evaluated ends, or by a bracket end not evaluated yet. A root at a jump
/// (the gap above zero just below it, below zero at it) ends the search just below the jump.
fn find_root_falling(
    mut gap: impl FnMut(f64) -> (f64, f64),
    jumps: &[f64],
    guess: f64,
    floor: f64,
    ceiling: f64,
) -> f64 {
    let (mut lo, mut hi) = (floor, ceiling);
    // The gap at the bracket's ends, where it was evaluated there.
    let (mut g_lo, mut g_hi) = (None::<f64>, None::<f64>);
    // Where Newton's step from the last evaluation with a positive gap pointed.
    let mut newton_from_lo = f64::NEG_INFINITY;
    // The end that the last regula falsi step's evaluation moved (1 low, -1 high, 0 none yet).
    let mut last_fallback = 0i8;
    let is_jump = |x: f64| jumps.binary_search_by(|j| j.total_cmp(&x)).is_ok();
    let mut x = guess;
    for _ in 0..DECISION_MAX_STEPS {
        let (g, slope) = gap(x);
        if g == 0.0 {
            return x;
        }
        let newton = x - g / slope;
        if g > 0.0 {
            (lo, g_lo, newton_from_lo) = (x, Some(g), newton);
            if x + g < hi {
                (hi, g_hi) = (x + g, None);
            }
        } else if g < 0.0 {
            (hi, g_hi) = (x, Some(g));
            if x + g > lo {
                (lo, g_lo) = (x + g, None);
            }
        } else {
            return f64::NAN;
        }
        if hi - lo < DECISION_TOLERANCE_LOG {
            return x;
        }
        // Newton's step, if it lands inside the bracket or on an end not evaluated yet.
        let newton_inside =
            (newton > lo && newton < hi) || (newton == lo && g_lo.is_none()) || (newton == hi && g_hi.is_none());
        let next = if newton_inside {
            newton
        } else {
            let (first, end) = (jumps.partition_point(|&j| j <= lo), jumps.partition_point(|&j| j < hi));
            if first < end {
                jumps[(first + end) / 2]
            } else if g_hi.is_some() && newton_from_lo >= hi && is_jump(hi) {
                // Rising from below, the gap would stay above zero up to the jump at `hi`: look just below it.
                hi - 0.5 * DECISION_TOLERANCE_LOG
            } else if g_lo.is_some() && g < 0.0 && newton <= lo && is_jump(lo) {
                // Falling from above, the gap would stay below zero down to the jump at `lo`, which switches on
                // just above it (others' switches): look just above it.
                lo + 0.5 * DECISION_TOLERANCE_LOG
            } else if let (Some(g_lo), Some(g_hi)) = (g_lo, g_hi) {
                // Regula falsi, halving instead when it moved the same end last time (it would crawl).
                let same_end_again = g > 0.0 && last_fallback == 1 || g < 0.0 && last_fallback == -1;
                last_fallback = if g > 0.0 { 1 } else { -1 };
                if same_end_again {
                    0.5 * (lo + hi)
                } else {
                    (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
                }
            } else if g_lo.is_none() {
                // An end known only as a bound (the floor, where every machine runs, or the bound an evaluation
                // set): the root may be there.
                lo
            } else {
                hi
            }
        };
        if (next - x).abs() < DECISION_TOLERANCE_LOG {
            return next;
        }
        x = next;
    }
    0.5 * (lo + hi)
}

/// Most evaluations of the fleet's hashrate in the search for the decision revenue.
const DECISION_MAX_STEPS: u32 = 40;

/// The search stops when the decision revenue is known to a relative 1e-7.
const DECISION_TOLERANCE_LOG: f64 = 1e-7;

/// A floor on the hashrate behind the settled revenue, so that an empty network's revenue stays finite.
const MIN_SETTLED_THS: f64 = 1.0;

/// Raises each share of `best` to the matching share of `values` where that is larger.
fn max_into(best: &mut [f64], values: &[f64]) {
    for (best, &v) in best.iter_mut().zip(values) {
        *best = max_not_nan(v, *best);
    }
}

#[cfg(test)]
mod tests {
    use super::{DECISION_TOLERANCE_LOG, find_root_falling};

    /// A gap and its slope at a point.
    type GapWithSlope = Box<dyn Fn(f64) -> (f64, f64)>;

    /// Falling gaps of the decision's form, L(x) - x with L non-increasing, with a known root are solved to
    /// the tolerance from guesses below, above and at the root and at either end of the bracket, within a few
    /// evaluations; evaluations stay within the bracket.
    #[test]
    fn the_root_finder_solves_falling_gaps_from_any_guess_in_the_bracket() {
        let (floor, ceiling) = (-3.0, 5.0);
        for root in [-2.9, -1.0, 0.0, 0.37, 4.99] {
            // Each gap with its slope.
            let gaps: [GapWithSlope; 3] = [
                Box::new(move |x| (root - x, -1.0)),
                Box::new(move |x: f64| {
                    let d = root - x;
                    (d + d.tanh(), -2.0 + d.tanh().powi(2))
                }),
                Box::new(move |x: f64| {
                    let d = root - x;
                    (d * (1.0 + d * d), -(1.0 + 3.0 * d * d))
                }),
            ];
            for gap in &gaps {
                for guess in [floor, root - 0.5, root, root + 0.02, ceiling] {
                    let guess = guess.clamp(floor, ceiling);
                    let mut seen = Vec::new();
                    let x = find_root_falling(
                        |x| {
                            seen.push(x);
                            gap(x)
                        },
                        &[],
                        guess,
                        floor,
                        ceiling,
                    );
                    assert!(
                        (x - root).abs() < 1e3 * DECISION_TOLERANCE_LOG,
                        "root {root}, guess {guess}: {x}"
                    );
                    assert!(seen.iter().all(|&x| (floor..=ceiling).contains(&x)), "{seen:?}");
                    assert!(seen.len() <= 12, "{} evaluations: {seen:?}", seen.len());
                }
            }
        }
    }

    /// A gap that jumps over zero where a region's sites all switch at once, or a manufacturer's
    /// self-mining switches on, ends at the jump, whichever side of it the jump's own value falls on,
    /// from any guess; with the jump among `jumps`, in a few evaluations.
    #[test]
    fn the_root_finder_stops_at_a_jump() {
        // The sites switch on at the jump itself (the gap is below zero there)...
        let at = |x: f64| (if x < 1.5 { 1.6 - x } else { 1.4 - x }, -1.0);
        // ...or just above it (the gap is still above zero there).
        let above = |x: f64| (if x <= 1.5 { 1.6 - x } else { 1.4 - x }, -1.0);
        for gap in [at, above] {
            for jumps in [&[][..], &[-1.0, 1.5, 4.0][..]] {
                for guess in [-3.0, 0.0, 1.5, 5.0] {
                    let mut evaluations = 0;
                    let x = find_root_falling(
                        |x| {
                            evaluations += 1;
                            gap(x)
                        },
                        jumps,
                        guess,
                        -3.0,
                        5.0,
                    );
                    assert!((x - 1.5).abs() < 1e-6, "{x}");
                    let most = if jumps.is_empty() { 40 } else { 6 };
                    assert!(evaluations <= most, "{evaluations} evaluations from {guess}");
                }
            }
        }
    }
}
