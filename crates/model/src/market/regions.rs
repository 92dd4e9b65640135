//! Regions' changing state (capacity, operating cost, tariffs, bans) and the random regulation shocks.
//!
//! Every month each region draws the same number of random numbers from the shocks stream, whatever
//! happens, so a scenario whose hazards are zero gives exactly the results of one without shock settings,
//! and strategies in a sweep face the same shocks.
#![warn(missing_docs)]

use rand::RngExt;

use crate::params::{MAX_OPEX_SHARE_OF_POWER, Params};
use crate::rng::PathRng;
use crate::units::Month;

/// Each region's state as it changes over a path: hosting capacity, operating cost, tariffs and bans.
#[derive(Clone, Debug)]
pub struct RegionsState {
    /// Power the region's sites can host, in MW (infinite when unlimited).
    pub capacity_mw: Vec<f64>,
    /// Non-power operating cost as a share of power cost; tightening raises it (`raise_opex`), up to
    /// `MAX_OPEX_SHARE_OF_POWER`.
    opex_share: Vec<f64>,
    /// ln(1 + `opex_share`), kept with it: the fleet's monthly decision works in logs.
    ln_1p_opex_share: Vec<f64>,
    /// Share of the region closed by bans so far (new machines avoid it in that proportion).
    pub ban_level: Vec<f64>,
    /// Tariff rate by (region, origin).
    tariff: Vec<f64>,
    n_origins: usize,
    /// Sites built so far, per region, in MW (capacity growth; the sites law of `crate::invariants`).
    pub built_mw: Vec<f64>,
    /// Sites closed by bans so far, per region, in MW (only while the region's capacity is limited).
    pub closed_mw: Vec<f64>,
}

impl RegionsState {
    /// The regions at the start of a path: the scenario's capacity, opex share and starting tariffs, and no bans.
    pub fn new(params: &Params) -> RegionsState {
        let n_origins = params.origins.len().max(1);
        let mut tariff = vec![0.0; params.regions.len() * n_origins];
        for (r, region) in params.regions.iter().enumerate() {
            for &(origin, rate) in &region.import_tariffs {
                tariff[r * n_origins + origin] = rate;
            }
        }
        RegionsState {
            capacity_mw: params.regions.iter().map(|r| r.hosting_capacity_mw).collect(),
            opex_share: params.regions.iter().map(|r| r.opex_share_of_power).collect(),
            ln_1p_opex_share: params.regions.iter().map(|r| r.opex_share_of_power.ln_1p()).collect(),
            ban_level: vec![0.0; params.regions.len()],
            tariff,
            n_origins,
            built_mw: vec![0.0; params.regions.len()],
            closed_mw: vec![0.0; params.regions.len()],
        }
    }

    /// Takes up to `mw` of a region's sites away from mining (to AI), never more than it has; returns the MW
    /// taken. An unlimited region gives all of it.
    pub fn take_sites(&mut self, region_idx: usize, mw: f64) -> f64 {
        let capacity = &mut self.capacity_mw[region_idx];
        if capacity.is_finite() {
            let taken = mw.clamp(0.0, *capacity);
            *capacity -= taken;
            taken
        } else {
            mw.max(0.0)
        }
    }

    /// Gives `mw` of sites back to mining (a hosting contract ended); an unlimited region stays unlimited.
    pub fn return_sites(&mut self, region_idx: usize, mw: f64) {
        let capacity = &mut self.capacity_mw[region_idx];
        if capacity.is_finite() {
            *capacity += mw;
        }
    }

    /// Each region's non-power operating cost as a share of its power cost.
    pub fn opex_share(&self) -> &[f64] {
        &self.opex_share
    }

    /// ln(1 + opex share) per region.
    pub fn ln_1p_opex_share(&self) -> &[f64] {
        &self.ln_1p_opex_share
    }

    /// Raises a region's operating cost by `increase_share` of its power cost, up to
    /// [`MAX_OPEX_SHARE_OF_POWER`] and no further; returns the rise made (`increase_share` unless the maximum
    /// stopped it). A tightening adds compliance and hosting costs to what sites already pay, so tightenings add
    /// up, but a cost beyond ten times the power bill is outside what the opex share describes.
    pub fn raise_opex(&mut self, region_idx: usize, increase_share: f64) -> f64 {
        let share = &mut self.opex_share[region_idx];
        let raised = *share + increase_share;
        let rise_share = if raised > MAX_OPEX_SHARE_OF_POWER {
            let rise_share = (MAX_OPEX_SHARE_OF_POWER - *share).max(0.0);
            *share = share.max(MAX_OPEX_SHARE_OF_POWER);
            rise_share
        } else {
            *share = raised;
            increase_share
        };
        self.ln_1p_opex_share[region_idx] = self.opex_share[region_idx].ln_1p();
        rise_share
    }

    /// Whether any region's sites are limited (otherwise capacity bookkeeping can be skipped).
    pub fn any_limited(&self) -> bool {
        self.capacity_mw.iter().any(|c| c.is_finite())
    }

    /// Whether any tariff is in force anywhere.
    pub fn any_tariff(&self) -> bool {
        self.tariff.iter().any(|&t| t > 0.0)
    }

    /// Tariff rate in force on machines from origin `origin_idx` landed in region `region_idx`, as a share of their
    /// price (0 when none, or when the origin is unknown).
    pub fn tariff_share(&self, region_idx: usize, origin_idx: usize) -> f64 {
        self.tariff
            .get(region_idx * self.n_origins + origin_idx)
            .copied()
            .unwrap_or(0.0)
    }

    /// Puts a tariff of `rate_share` on machines from origin `origin_idx` in region `region_idx`, replacing any
    /// earlier rate there (tariffs do not add up).
    pub fn set_tariff(&mut self, region_idx: usize, origin_idx: usize, rate_share: f64) {
        if let Some(t) = self.tariff.get_mut(region_idx * self.n_origins + origin_idx) {
            *t = rate_share;
        }
    }

    /// The highest tariff in force in a region, and on which origin.
    pub fn max_tariff(&self, region_idx: usize) -> (f64, usize) {
        let row = &self.tariff[region_idx * self.n_origins..(region_idx + 1) * self.n_origins];
        row.iter()
            .copied()
            .enumerate()
            .fold((0.0, 0), |best, (o, t)| if t > best.0 { (t, o) } else { best })
    }

    /// Closes a share of the region: sites go with the machines. A region without a capacity limit is
    /// capped at what still runs there (`remaining_mw`): a banned region builds no new sites.
    pub fn close(&mut self, region_idx: usize, share: f64, remaining_mw: f64) {
        self.ban_level[region_idx] = 1.0 - (1.0 - self.ban_level[region_idx]) * (1.0 - share);
        let capacity = &mut self.capacity_mw[region_idx];
        *capacity = if capacity.is_finite() {
            self.closed_mw[region_idx] += *capacity * share;
            *capacity * (1.0 - share)
        } else {
            remaining_mw
        };
    }

    /// Regions that are nearly full build more sites.
    pub fn grow_capacity(&mut self, params: &Params, used_mw: &[f64]) {
        for (r, region) in params.regions.iter().enumerate() {
            let capacity = self.capacity_mw[r];
            if capacity.is_finite() && capacity > 0.0 && used_mw[r] >= region.capacity_build_trigger_share * capacity {
                self.built_mw[r] += capacity * region.capacity_growth_share_per_month;
                self.capacity_mw[r] = capacity * (1.0 + region.capacity_growth_share_per_month);
            }
        }
    }
}

/// A random shock drawn this month.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shock {
    /// A ban stops `share` of the region's machines.
    Ban {
        /// Index of the region, into `Params::regions`.
        region_idx: usize,
        /// Share of the region's machines stopped, from the region's `ban_share`.
        share: f64,
    },
    /// A tariff on machines from one origin landed in the region.
    Tariff {
        /// Index of the region, into `Params::regions`.
        region_idx: usize,
        /// Index of the origin taxed, into `Params::origins`.
        origin_idx: usize,
        /// Tariff rate, as a share of the machines' price.
        rate_share: f64,
    },
    /// The region's power price is multiplied by `factor`, decaying back.
    Power {
        /// Index of the region, into `Params::regions`.
        region_idx: usize,
        /// Multiplier of the region's power price.
        factor: f64,
        /// Share of the shock's excess over 1 that decays each month.
        decay_per_month: f64,
    },
    /// The region's operating cost rises.
    Tightening {
        /// Index of the region, into `Params::regions`.
        region_idx: usize,
        /// Increase of the region's opex share of power.
        opex_increase_share: f64,
    },
}

/// Draws this month's random shocks: four uniforms per region, always.
pub fn draw_shocks(params: &Params, rng: &mut PathRng, out: &mut Vec<Shock>) {
    out.clear();
    for (region_idx, region) in params.regions.iter().enumerate() {
        let h = &region.hazards;
        let draws: [f64; 4] = [rng.random(), rng.random(), rng.random(), rng.random()];
        if draws[0] < h.ban_per_month {
            out.push(Shock::Ban {
                region_idx,
                share: h.ban_share,
            });
        }
        if draws[1] < h.tariff_per_month {
            out.push(Shock::Tariff {
                region_idx,
                origin_idx: h.tariff_origin_idx,
                rate_share: h.tariff_rate_share,
            });
        }
        if draws[2] < h.power_shock_per_month {
            out.push(Shock::Power {
                region_idx,
                factor: h.power_shock_factor,
                decay_per_month: h.power_shock_decay_per_month,
            });
        }
        if draws[3] < h.tightening_per_month {
            out.push(Shock::Tightening {
                region_idx,
                opex_increase_share: h.tightening_opex_increase_share,
            });
        }
    }
}

/// Machines stopped by a ban, waiting to run somewhere else.
#[derive(Clone, Debug)]
pub struct RelocationBatch {
    /// Index of the owning segment (see `Segment::idx`).
    pub segment_idx: usize,
    /// Index of the machines' generation, into `Params::generations`.
    pub generation_idx: usize,
    /// Region the machines were stopped in (for a delivery that found no site, the region it was bought for).
    pub from_region_idx: usize,
    /// Machines still waiting.
    pub units: u64,
    /// Month the machines stopped; they may run elsewhere from `lag_months` later and are stranded
    /// `max_wait_months` after it (see `RelocationParams`).
    pub stopped: Month,
}

/// Whole-path tallies of the relocation pool, for conservation checks.
#[derive(Clone, Debug, Default)]
pub struct RelocationTotals {
    /// Machines stopped by bans.
    pub stopped: u64,
    /// Delivered machines that found no site and joined the pool.
    pub queued: u64,
    /// Machines that ran again in another region.
    pub relocated: u64,
    /// Stranded machines sold on the used market.
    pub sold: u64,
    /// Stranded machines scrapped.
    pub scrapped: u64,
    /// Machines displaced from sites converted to AI hosting: redeployed through the pool, or sold at once
    /// (counted in `sold` too).
    pub displaced: u64,
}

#[cfg(test)]
mod tests {
    use super::RegionsState;
    use crate::params::MAX_OPEX_SHARE_OF_POWER;

    #[test]
    fn raising_opex_keeps_its_logarithm_in_step() {
        let params = crate::fixtures::small();
        let mut regions = RegionsState::new(&params);
        let check = |regions: &RegionsState| {
            for (share, ln) in regions.opex_share.iter().zip(&regions.ln_1p_opex_share) {
                assert_eq!(ln.to_bits(), share.ln_1p().to_bits(), "{share}");
            }
        };
        check(&regions);
        let before = regions.opex_share.clone();
        regions.raise_opex(1, 0.1);
        regions.raise_opex(1, 0.35);
        check(&regions);
        assert_eq!(regions.opex_share[1], before[1] + 0.1 + 0.35);
        assert_eq!(regions.opex_share[0], before[0]);
    }

    #[test]
    fn tightenings_raise_opex_up_to_its_maximum_and_no_further() {
        let params = crate::fixtures::small();
        let mut regions = RegionsState::new(&params);
        let start = regions.opex_share[0];
        assert_eq!(
            regions.raise_opex(0, 0.1),
            0.1,
            "a rise below the maximum is made whole"
        );
        assert_eq!(regions.opex_share[0], start + 0.1);
        let mut risen = 0.1;
        for _ in 0..300 {
            risen += regions.raise_opex(0, 0.1);
        }
        assert_eq!(regions.opex_share[0], MAX_OPEX_SHARE_OF_POWER);
        assert!(
            (start + risen - MAX_OPEX_SHARE_OF_POWER).abs() < 1e-9,
            "the rises reported add up: {risen}"
        );
        assert_eq!(
            regions.raise_opex(0, 10.0),
            0.0,
            "at the maximum a tightening raises nothing"
        );
        assert_eq!(regions.opex_share[0], MAX_OPEX_SHARE_OF_POWER);
        assert_eq!(regions.ln_1p_opex_share[0], MAX_OPEX_SHARE_OF_POWER.ln_1p());
    }
}
