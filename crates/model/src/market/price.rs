//! The BTC price and fee processes: regime-switching log-normal with jumps, or a block bootstrap of history.
//!
//! Each month draws a fixed number of random numbers from the price stream whatever happens, so two runs
//! that differ only in agents' strategies see identical price paths (common random numbers).
#![warn(missing_docs)]

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::params::{FeeParams, PriceParams, PriceProcess, Regime};
use crate::rng::PathRng;

/// Log-prices are kept within these bounds so that extreme but valid inputs never overflow.
const MIN_LOG_PRICE: f64 = -30.0; // about 1e-13 USD
const MAX_LOG_PRICE: f64 = 60.0; // about 1e26 USD

/// The BTC price and regime of one path; it draws the same random numbers every month whatever the process.
#[derive(Clone, Debug)]
pub struct PriceState {
    /// Natural log of the BTC price in USD, kept within bounds so that extreme but valid inputs never overflow.
    pub log_price: f64,
    /// The regime of the current month.
    pub regime: Regime,
    /// Next historical index to replay in bootstrap mode, and months left in the current block.
    bootstrap_cursor: usize,
    bootstrap_left: u32,
    /// Months stepped so far (the index into a historical series).
    months_stepped: usize,
    /// Scripted shocks on top of a historical series, in log terms.
    shock_log_offset: f64,
    /// Log of the long-run trend the regime-switching price reverts to (unused by the other processes).
    trend_log_price: f64,
}

impl PriceState {
    /// The price at the start of a path: the scenario's start price and start regime.
    pub fn new(params: &PriceParams) -> PriceState {
        PriceState {
            log_price: params.start_price_usd.ln().clamp(MIN_LOG_PRICE, MAX_LOG_PRICE),
            regime: params.start_regime,
            bootstrap_cursor: 0,
            bootstrap_left: 0,
            months_stepped: 0,
            shock_log_offset: 0.0,
            trend_log_price: match &params.process {
                PriceProcess::RegimeSwitching(rs) => rs.trend_start_price_usd.ln(),
                _ => 0.0,
            },
        }
    }

    /// BTC price in USD.
    pub fn price_usd(&self) -> f64 {
        self.log_price.exp()
    }

    /// Advances one month: first the regime, then the log-return (plus an optional jump).
    pub fn step(&mut self, params: &PriceParams, rng: &mut PathRng) {
        let u_switch: f64 = rng.random();
        let z: f64 = rng.sample(StandardNormal);
        let u_jump: f64 = rng.random();
        let z_jump: f64 = rng.sample(StandardNormal);
        let u_block: f64 = rng.random();
        let mut log_return = match &params.process {
            PriceProcess::RegimeSwitching(rs) => {
                let switch_probability = match self.regime {
                    Regime::Bull => rs.bull_to_bear_probability_per_month,
                    Regime::Bear => rs.bear_to_bull_probability_per_month,
                };
                if u_switch < switch_probability {
                    self.regime = match self.regime {
                        Regime::Bull => Regime::Bear,
                        Regime::Bear => Regime::Bull,
                    };
                }
                let (drift, vol) = match self.regime {
                    Regime::Bull => (rs.bull_drift_log_per_month, rs.bull_volatility_log_per_month),
                    Regime::Bear => (rs.bear_drift_log_per_month, rs.bear_volatility_log_per_month),
                };
                // Reversion towards the trend: the gap at the start of the month closes by the reversion share.
                let pull = if rs.trend_reversion_per_month > 0.0 {
                    rs.trend_reversion_per_month * (self.trend_log_price - self.log_price)
                } else {
                    0.0
                };
                self.trend_log_price += rs.trend_growth_log_per_month;
                drift + vol * z + pull
            }
            PriceProcess::Bootstrap(bs) => {
                let n = bs.log_returns.len();
                let block = (bs.block_months as usize).min(n).max(1);
                if self.bootstrap_left == 0 {
                    let n_starts = n - block + 1;
                    self.bootstrap_cursor = ((u_block * n_starts as f64) as usize).min(n_starts - 1);
                    self.bootstrap_left = block as u32;
                }
                let idx = self.bootstrap_cursor;
                self.bootstrap_cursor += 1;
                self.bootstrap_left -= 1;
                self.regime = bs.regimes[idx];
                bs.log_returns[idx]
            }
            PriceProcess::Historical(h) => {
                let idx = self.months_stepped.min(h.log_prices.len().saturating_sub(1));
                self.regime = h.regimes[idx];
                h.log_prices[idx] + self.shock_log_offset - self.log_price
            }
        };
        self.months_stepped += 1;
        let replaying = matches!(params.process, PriceProcess::Historical(_));
        if u_jump < params.jump_probability_per_month && !replaying {
            log_return += params.jump_mean_log + params.jump_sd_log * z_jump;
        }
        self.log_price = (self.log_price + log_return).clamp(MIN_LOG_PRICE, MAX_LOG_PRICE);
    }

    /// Applies a scripted shock: the price is multiplied by `factor`.
    pub fn shock(&mut self, factor: f64) {
        self.shock_log_offset += factor.ln();
        self.log_price = (self.log_price + factor.ln()).clamp(MIN_LOG_PRICE, MAX_LOG_PRICE);
    }
}

/// Mean fees per block follow the regime; deviations are a log AR(1) process.
#[derive(Clone, Debug, Default)]
pub struct FeeState {
    /// Log deviation of the fees per block from the regime mean (0 = at the mean).
    pub log_deviation: f64,
}

impl FeeState {
    /// Advances the log AR(1) deviation by one month; draws one normal whatever the fee model, unless the
    /// fees cannot move (no volatility, no deviation left), when it draws nothing: the stream is the fees' own.
    pub fn step(&mut self, params: &FeeParams, rng: &mut PathRng) {
        if params.volatility_log_per_month == 0.0 && self.log_deviation == 0.0 {
            return;
        }
        let z: f64 = rng.sample(StandardNormal);
        self.log_deviation = params.persistence_per_month * self.log_deviation + params.volatility_log_per_month * z;
        self.log_deviation = self.log_deviation.clamp(-20.0, 20.0);
    }

    /// Fees per block in BTC in month `month_idx`: the historical series when there is one (its last value past its
    /// end), else the regime's mean times exp(deviation).
    pub fn fees_btc_per_block(&self, params: &FeeParams, regime: Regime, month_idx: usize) -> f64 {
        if let Some(history) = &params.history_btc_per_block {
            return history[month_idx.min(history.len().saturating_sub(1))];
        }
        let mean = match regime {
            Regime::Bull => params.bull_mean_btc_per_block,
            Regime::Bear => params.bear_mean_btc_per_block,
        };
        mean * self.log_deviation.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::PriceState;
    use crate::params::PriceProcess;
    use crate::rng::{Stream, stream_rng};

    /// With no volatility and no drift, a price that starts above its trend closes the reversion share of its
    /// log gap each month, while the trend grows at its rate; with no reversion it stays put.
    #[test]
    fn the_price_closes_its_gap_to_a_growing_trend_at_the_reversion_share() {
        let mut params = crate::fixtures::small().price;
        params.jump_probability_per_month = 0.0;
        let PriceProcess::RegimeSwitching(rs) = &mut params.process else {
            unreachable!("the small scenario's price switches regimes")
        };
        rs.bull_drift_log_per_month = 0.0;
        rs.bull_volatility_log_per_month = 0.0;
        rs.bull_to_bear_probability_per_month = 0.0;
        rs.trend_start_price_usd = params.start_price_usd / 2.0;
        rs.trend_growth_log_per_month = 0.01;
        for reversion in [0.0, 0.05, 0.3] {
            let PriceProcess::RegimeSwitching(rs) = &mut params.process else {
                unreachable!()
            };
            rs.trend_reversion_per_month = reversion;
            let mut state = PriceState::new(&params);
            let mut rng = stream_rng(1, 0, Stream::Price);
            let mut trend = (params.start_price_usd / 2.0).ln();
            for month in 0..48 {
                let gap_before = state.log_price - trend;
                state.step(&params, &mut rng);
                trend += 0.01;
                let expected = trend - 0.01 + gap_before * (1.0 - reversion);
                assert!(
                    (state.log_price - expected).abs() < 1e-9,
                    "reversion {reversion}, month {month}"
                );
            }
        }
    }
}
