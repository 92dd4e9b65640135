//! Random streams: every path draws from independent streams derived from (master seed, path index, component).
//!
//! A component has its own stream so that, for the same path index, the price path and the exogenous shocks
//! do not depend on anything an agent does. This is what makes strategy comparisons use common random numbers.
#![warn(missing_docs)]

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The random generator used everywhere in the model.
pub type PathRng = Xoshiro256PlusPlus;

/// The independent random components of one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// BTC price: regime switches, returns, jumps, bootstrap block starts.
    Price = 1,
    /// Transaction fees per block.
    Fees = 2,
    /// Regional power prices.
    Power = 3,
    /// Random regulation shocks (bans, tariffs, power shocks, tightening).
    Shocks = 4,
    /// Agents' own randomness (walk-aways, dealer defaults).
    Agents = 5,
    /// The key-account firms drawn at the start (sizes, cash, leverage, treasury policy).
    Firms = 6,
    /// The uncertain behaviour parameters drawn at the start (`crate::uncertainty`).
    Uncertainty = 7,
    /// Tenants cancelling AI/HPC hosting contracts (`crate::market::hosting`).
    Hosting = 8,
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one stream of one path.
pub fn stream_seed(master_seed: u64, path_idx: u64, stream: Stream) -> u64 {
    let path_key = mix64(master_seed ^ mix64(path_idx.wrapping_add(1)));
    mix64(path_key ^ (stream as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A generator for one stream of one path, seeded by [`stream_seed`]; the same key always gives the same draws.
pub fn stream_rng(master_seed: u64, path_idx: u64, stream: Stream) -> PathRng {
    PathRng::seed_from_u64(stream_seed(master_seed, path_idx, stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_path_and_component_and_repeat_for_the_same_key() {
        let a = stream_rng(7, 0, Stream::Price).next_u64();
        let b = stream_rng(7, 1, Stream::Price).next_u64();
        let c = stream_rng(7, 0, Stream::Fees).next_u64();
        let d = stream_rng(8, 0, Stream::Price).next_u64();
        assert_eq!(a, stream_rng(7, 0, Stream::Price).next_u64());
        assert!(a != b && a != c && a != d && b != c);
    }
}
