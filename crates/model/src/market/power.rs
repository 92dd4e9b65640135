//! Regional power prices: a mean-reverting log process around each region's base, times any shock factor.
#![warn(missing_docs)]

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::params::RegionParams;
use crate::rng::PathRng;

/// The power price of every region this month, in USD per kWh, and the state of its process.
#[derive(Clone, Debug)]
pub struct PowerState {
    /// Log deviation from the base price, per region.
    pub log_deviation: Vec<f64>,
    /// Multiplicative shock factor per region (1 when no shock), decaying back to 1; shocks do not compound
    /// (`PowerState::shock`).
    pub shock_factor: Vec<f64>,
    /// Share of a shock's excess over 1 that decays each month, per region (that of the shock in force).
    pub shock_decay_per_month: Vec<f64>,
    /// Factor by which AI's load raises each region's price (1 without AI; `crate::market::hosting`).
    pub ai_factor: Vec<f64>,
    /// Current price per region (base × exp(deviation) × shock × AI factor).
    pub price_usd_per_kwh: Vec<f64>,
}

impl PowerState {
    /// The process at the start of a path: every region at its base price, with no deviation and no shock.
    pub fn new(regions: &[RegionParams]) -> PowerState {
        let n = regions.len();
        PowerState {
            log_deviation: vec![0.0; n],
            shock_factor: vec![1.0; n],
            shock_decay_per_month: vec![0.0; n],
            ai_factor: vec![1.0; n],
            price_usd_per_kwh: regions.iter().map(|r| r.power_price_base_usd_per_kwh).collect(),
        }
    }

    /// One month of the mean-reverting process; draws exactly one normal per region, unless no region's price
    /// can move (no volatility anywhere, every region at its base and no shock decaying), when it draws
    /// nothing: the stream is the power prices' own.
    pub fn step(&mut self, regions: &[RegionParams], rng: &mut PathRng) {
        if self.log_deviation.iter().all(|&x| x == 0.0)
            && self.shock_factor.iter().all(|&f| f == 1.0)
            && regions.iter().all(|r| r.power_price_volatility_log_per_month == 0.0)
        {
            return;
        }
        for (region_idx, region) in regions.iter().enumerate() {
            let z: f64 = rng.sample(StandardNormal);
            let x = &mut self.log_deviation[region_idx];
            *x = (1.0 - region.power_price_reversion_per_month) * *x + region.power_price_volatility_log_per_month * z;
            *x = x.clamp(-10.0, 10.0);
            let factor = &mut self.shock_factor[region_idx];
            // The shock decays geometrically towards 1.
            *factor = 1.0 + (*factor - 1.0) * (1.0 - self.shock_decay_per_month[region_idx]);
        }
        self.refresh(regions);
    }

    /// A scripted or random power shock in region `region_idx`: the region's shock multiplier becomes `factor`,
    /// decaying back to 1 at `decay_per_month`; the price is updated at once.
    ///
    /// Shocks set a price level, they do not compound: a rise (`factor` > 1) that meets a multiplier already at
    /// least as high, or a fall (`factor` < 1) that meets one already at least as low, leaves the shock in force
    /// and its decay as they are, and a factor of 1 changes nothing. The multiplier therefore always lies between
    /// the smallest and the largest factor any shock had, however often shocks come.
    pub fn shock(&mut self, region_idx: usize, factor: f64, decay_per_month: f64, regions: &[RegionParams]) {
        let in_force = self.shock_factor[region_idx];
        let sets_level = (factor > 1.0 && factor >= in_force) || (factor < 1.0 && factor <= in_force);
        if sets_level {
            self.shock_factor[region_idx] = factor;
            self.shock_decay_per_month[region_idx] = decay_per_month;
        }
        self.refresh(regions);
    }

    /// Sets the factor by which AI's load raises region `region_idx`'s power price; the price is updated at
    /// once.
    pub fn set_ai_factor(&mut self, region_idx: usize, factor: f64, regions: &[RegionParams]) {
        self.ai_factor[region_idx] = factor;
        self.refresh(regions);
    }

    fn refresh(&mut self, regions: &[RegionParams]) {
        for (region_idx, region) in regions.iter().enumerate() {
            // Multiplying by an AI factor of exactly 1 leaves the price's bits unchanged.
            self.price_usd_per_kwh[region_idx] = region.power_price_base_usd_per_kwh
                * self.log_deviation[region_idx].exp()
                * self.shock_factor[region_idx]
                * self.ai_factor[region_idx];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PowerState;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn overlapping_rises_take_the_larger_factor_and_never_compound() {
        let mut params = crate::fixtures::small();
        for region in &mut params.regions {
            region.power_price_volatility_log_per_month = 0.0;
        }
        let regions = &params.regions;
        let base_usd_per_kwh = regions[0].power_price_base_usd_per_kwh;
        let mut power = PowerState::new(regions);
        let mut rng = stream_rng(1, 0, Stream::Power);
        // A shock of ×100 every month without decay, for a hundred years: the price stays at ×100.
        for _ in 0..1200 {
            power.step(regions, &mut rng);
            power.shock(0, 100.0, 0.0, regions);
        }
        assert_eq!(power.shock_factor[0], 100.0);
        assert_eq!(power.price_usd_per_kwh[0], base_usd_per_kwh * 100.0);
        assert_eq!(power.shock_factor[1], 1.0, "the other region has no shock");
        // A smaller rise while the larger one is in force leaves it and its decay.
        let mut power = PowerState::new(regions);
        power.shock(0, 2.0, 0.5, regions);
        power.shock(0, 1.5, 0.0, regions);
        assert_eq!(power.shock_factor[0], 2.0);
        power.step(regions, &mut rng);
        assert_eq!(power.shock_factor[0], 1.5, "the ×2 shock decays at its own rate");
        // Once it has decayed below a new rise, the new rise sets the level.
        power.shock(0, 1.8, 0.0, regions);
        assert_eq!(power.shock_factor[0], 1.8);
        assert_eq!(power.shock_decay_per_month[0], 0.0);
    }

    #[test]
    fn a_fall_replaces_a_rise_and_overlapping_falls_take_the_lower_factor() {
        let mut params = crate::fixtures::small();
        for region in &mut params.regions {
            region.power_price_volatility_log_per_month = 0.0;
        }
        let regions = &params.regions;
        let mut power = PowerState::new(regions);
        power.shock(1, 3.0, 0.2, regions);
        power.shock(1, 0.5, 0.1, regions);
        assert_eq!(power.shock_factor[1], 0.5);
        power.shock(1, 0.8, 0.1, regions);
        assert_eq!(power.shock_factor[1], 0.5, "a milder fall leaves the deeper one");
        power.shock(1, 0.25, 0.1, regions);
        assert_eq!(power.shock_factor[1], 0.25);
        power.shock(1, 1.0, 0.0, regions);
        assert_eq!(power.shock_factor[1], 0.25, "a factor of 1 changes nothing");
        assert_eq!(power.shock_decay_per_month[1], 0.1);
        assert_eq!(
            power.price_usd_per_kwh[1],
            regions[1].power_price_base_usd_per_kwh * 0.25
        );
    }
}
