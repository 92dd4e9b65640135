//! The Bitcoin network: block subsidy, issuance, difficulty retargets and hashprice.
//!
//! Blocks arrive at the rate the running hashrate implies against the current difficulty
//! (one block per `difficulty * 2^32` hashes). Within a month the clock is advanced from one
//! retarget height to the next, so several retargets in one month are applied at the heights
//! where they fall, each with the ×4 / ÷4 clamp. Block arrival is deterministic (the expected
//! count, with the fractional block carried to the next month), so block counts add no noise.
#![warn(missing_docs)]

/// Blocks between halvings of the subsidy.
pub const BLOCKS_PER_HALVING: u64 = 210_000;
/// Blocks between difficulty retargets.
pub const BLOCKS_PER_RETARGET: u64 = 2016;
/// The protocol's target block interval.
pub const TARGET_BLOCK_SECONDS: f64 = 600.0;
/// A retarget changes difficulty by at most this factor either way.
pub const RETARGET_CLAMP_FACTOR: f64 = 4.0;
/// Satoshis per BTC: issuance is counted in whole satoshis, as the protocol does, so that it never exceeds 21M BTC.
pub const SATS_PER_BTC: u64 = 100_000_000;
/// Subsidy of the blocks before the first halving (50 BTC), in satoshis.
pub const INITIAL_SUBSIDY_SATS: u64 = 50 * SATS_PER_BTC;
/// Hashes per unit of difficulty per block.
pub const HASHES_PER_DIFFICULTY: f64 = 4_294_967_296.0;
/// Upper bound on issuance, in satoshis (the series converges to just below 21M BTC).
pub const MAX_SUPPLY_SATS: u64 = 21_000_000 * SATS_PER_BTC;

/// Subsidy of the block at `height`, in satoshis (halved by a right shift, as the protocol does).
pub fn subsidy_sats(height: u64) -> u64 {
    let n_halvings = height / BLOCKS_PER_HALVING;
    if n_halvings >= 64 {
        0
    } else {
        INITIAL_SUBSIDY_SATS >> n_halvings
    }
}

/// Subsidy of the block at `height`, in BTC.
pub fn subsidy_btc(height: u64) -> f64 {
    subsidy_sats(height) as f64 / SATS_PER_BTC as f64
}

/// Total subsidy of all blocks below `height` (blocks 0 to height - 1), in satoshis.
pub fn issued_sats_before(height: u64) -> u64 {
    let mut total = 0u64;
    let mut era_start = 0u64;
    while era_start < height {
        let era_end = (era_start + BLOCKS_PER_HALVING).min(height);
        let subsidy = subsidy_sats(era_start);
        if subsidy == 0 {
            break;
        }
        total += (era_end - era_start) * subsidy;
        era_start += BLOCKS_PER_HALVING;
    }
    total
}

/// Difficulty after a retarget whose epoch took `epoch_seconds`.
pub fn retarget(difficulty: f64, epoch_seconds: f64) -> f64 {
    let target = BLOCKS_PER_RETARGET as f64 * TARGET_BLOCK_SECONDS;
    let factor = if epoch_seconds > 0.0 {
        target / epoch_seconds
    } else {
        RETARGET_CLAMP_FACTOR
    };
    (difficulty * factor.clamp(1.0 / RETARGET_CLAMP_FACTOR, RETARGET_CLAMP_FACTOR)).max(1.0)
}

/// Expected USD per PH/s per day: (subsidy + fees per block) × blocks per day × price / network PH/s.
pub fn hashprice_usd_per_ph_day(
    subsidy_btc: f64,
    fees_btc_per_block: f64,
    price_usd: f64,
    blocks_per_day: f64,
    network_phs: f64,
) -> f64 {
    if network_phs <= 0.0 {
        return 0.0;
    }
    (subsidy_btc + fees_btc_per_block) * blocks_per_day * price_usd / network_phs
}

/// What one TH/s earns per day at a given difficulty: a hash finds a block with probability
/// 1 / (difficulty × 2^32), whatever the rest of the network does.
pub fn expected_usd_per_th_day(difficulty: f64, btc_per_block: f64, price_usd: f64) -> f64 {
    1.0e12 * 86_400.0 / (difficulty * HASHES_PER_DIFFICULTY) * btc_per_block * price_usd
}

/// The network's clock: block height, difficulty and the progress of the current retarget epoch.
#[derive(Clone, Debug)]
pub struct NetworkState {
    /// Blocks mined so far (blocks 0 to height - 1): the next block has this height.
    pub height: u64,
    /// Difficulty in force: a block takes `difficulty * 2^32` hashes on average.
    pub difficulty: f64,
    /// Seconds elapsed since the current retarget epoch began.
    pub epoch_seconds: f64,
    /// Fraction of a block found but not yet counted, carried between months.
    pub block_carry: f64,
}

/// A block-height event of the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NetworkEvent {
    /// A difficulty retarget at `height`.
    Retarget {
        /// Height of the first block at the new difficulty, a multiple of [`BLOCKS_PER_RETARGET`].
        height: u64,
        /// Difficulty before the retarget.
        old_difficulty: f64,
        /// Difficulty after the retarget, at most [`RETARGET_CLAMP_FACTOR`] times higher or lower.
        new_difficulty: f64,
        /// Seconds the epoch that just ended took (the target is 2016 × 600 s).
        epoch_seconds: f64,
    },
    /// A halving of the block subsidy at `height`.
    Halving {
        /// Height of the first block with the new subsidy, a multiple of [`BLOCKS_PER_HALVING`].
        height: u64,
        /// Subsidy of the blocks from `height` on, in BTC.
        new_subsidy_btc: f64,
    },
}

/// What one call of [`NetworkState::advance`] mined.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MonthBlocks {
    /// Number of blocks found.
    pub blocks: u64,
    /// Number of difficulty retargets crossed.
    pub n_retargets: u32,
    /// Coins issued by those blocks' subsidies, in satoshis.
    pub issued_sats: u64,
}

impl NetworkState {
    /// Starts at `height` with the epoch assumed to have run on target so far.
    pub fn new(height: u64, difficulty: f64) -> NetworkState {
        NetworkState {
            height,
            difficulty,
            epoch_seconds: (height % BLOCKS_PER_RETARGET) as f64 * TARGET_BLOCK_SECONDS,
            block_carry: 0.0,
        }
    }

    /// Runs the network for `seconds` at a constant `hashrate_ths`, reporting retargets and halvings.
    pub fn advance(&mut self, hashrate_ths: f64, seconds: f64, mut on_event: impl FnMut(NetworkEvent)) -> MonthBlocks {
        let start_height = self.height;
        let mut out = MonthBlocks::default();
        let mut remaining_s = seconds;
        let hashes_per_s = (hashrate_ths * 1.0e12).max(0.0);
        while remaining_s > 0.0 {
            let blocks_per_s = hashes_per_s / (self.difficulty * HASHES_PER_DIFFICULTY);
            if blocks_per_s <= 0.0 || !blocks_per_s.is_finite() {
                self.epoch_seconds += remaining_s;
                break;
            }
            let next_retarget = (self.height / BLOCKS_PER_RETARGET + 1) * BLOCKS_PER_RETARGET;
            let blocks_to_retarget = (next_retarget - self.height) as f64;
            let expected = blocks_per_s * remaining_s + self.block_carry;
            if expected >= blocks_to_retarget {
                let used_s = ((blocks_to_retarget - self.block_carry) / blocks_per_s).clamp(0.0, remaining_s);
                self.height = next_retarget;
                self.block_carry = 0.0;
                self.epoch_seconds += used_s;
                remaining_s -= used_s;
                let old = self.difficulty;
                self.difficulty = retarget(old, self.epoch_seconds);
                on_event(NetworkEvent::Retarget {
                    height: self.height,
                    old_difficulty: old,
                    new_difficulty: self.difficulty,
                    epoch_seconds: self.epoch_seconds,
                });
                out.n_retargets += 1;
                self.epoch_seconds = 0.0;
            } else {
                let whole = expected.floor();
                self.height += whole as u64;
                self.block_carry = expected - whole;
                self.epoch_seconds += remaining_s;
                remaining_s = 0.0;
            }
        }
        // Halvings fall at multiples of the halving interval crossed this month.
        let first_era = start_height / BLOCKS_PER_HALVING + 1;
        let last_era = self.height / BLOCKS_PER_HALVING;
        for era in first_era..=last_era {
            let height = era * BLOCKS_PER_HALVING;
            if height > start_height && height <= self.height {
                on_event(NetworkEvent::Halving {
                    height,
                    new_subsidy_btc: subsidy_btc(height),
                });
            }
        }
        out.blocks = self.height - start_height;
        out.issued_sats = issued_sats_before(self.height) - issued_sats_before(start_height);
        out
    }

    /// Subsidy of the next block to be mined.
    pub fn next_subsidy_btc(&self) -> f64 {
        subsidy_btc(self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_follows_the_halving_schedule() {
        assert_eq!(subsidy_sats(0), 50 * SATS_PER_BTC);
        assert_eq!(subsidy_sats(209_999), 50 * SATS_PER_BTC);
        assert_eq!(subsidy_sats(210_000), 25 * SATS_PER_BTC);
        assert_eq!(subsidy_sats(839_999), 625_000_000);
        assert_eq!(subsidy_sats(840_000), 312_500_000);
        assert_eq!(subsidy_sats(1_050_000), 156_250_000);
        assert_eq!(subsidy_sats(6_930_000), 0);
        assert_eq!(subsidy_sats(u64::MAX), 0);
        assert_eq!(subsidy_btc(840_000), 3.125);
    }

    #[test]
    fn issuance_stays_below_21_million() {
        let total = issued_sats_before(u64::MAX / 2);
        assert!(total < MAX_SUPPLY_SATS);
        assert_eq!(total, 2_099_999_997_690_000);
        assert_eq!(issued_sats_before(210_000), 210_000 * 50 * SATS_PER_BTC);
    }

    #[test]
    fn retarget_is_clamped_both_ways() {
        let target = BLOCKS_PER_RETARGET as f64 * TARGET_BLOCK_SECONDS;
        assert_eq!(retarget(1000.0, target / 10.0), 4000.0);
        assert_eq!(retarget(1000.0, target * 10.0), 250.0);
        assert!((retarget(1000.0, target / 2.0) - 2000.0).abs() < 1e-9);
        assert!((retarget(1000.0, target * 2.0) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn hashprice_matches_a_hand_computed_value() {
        // 3.125 BTC + 0.1 BTC fees, 144 blocks a day, $100,000, 800 EH/s = 800,000 PH/s:
        // 3.225 * 144 * 100000 / 800000 = 58.05 USD per PH/s per day.
        let hp = hashprice_usd_per_ph_day(3.125, 0.1, 100_000.0, 144.0, 800_000.0);
        assert!((hp - 58.05).abs() < 1e-9);
        // The difficulty-implied value agrees when the network runs exactly on target.
        let difficulty = 800.0e18 * TARGET_BLOCK_SECONDS / HASHES_PER_DIFFICULTY;
        let per_th = expected_usd_per_th_day(difficulty, 3.225, 100_000.0);
        assert!((per_th * 1000.0 - 58.05).abs() < 1e-6);
    }

    #[test]
    fn on_target_hashrate_finds_144_blocks_a_day() {
        let difficulty = 1.0e14;
        let hashrate_ths = difficulty * HASHES_PER_DIFFICULTY / TARGET_BLOCK_SECONDS / 1e12;
        let mut net = NetworkState::new(2016 * 400, difficulty);
        let out = net.advance(hashrate_ths, 86_400.0 * 30.0, |_| {});
        assert_eq!(out.blocks, 4320);
        assert_eq!(out.n_retargets, 2);
        assert!((net.difficulty - difficulty).abs() / difficulty < 1e-9);
    }

    #[test]
    fn halving_inside_a_month_issues_exact_subsidies() {
        let difficulty = 1.0e14;
        let hashrate_ths = difficulty * HASHES_PER_DIFFICULTY / TARGET_BLOCK_SECONDS / 1e12;
        let mut net = NetworkState::new(839_000, difficulty);
        let mut halvings = vec![];
        let out = net.advance(hashrate_ths, 86_400.0 * 30.0, |e| {
            if let NetworkEvent::Halving { height, .. } = e {
                halvings.push(height)
            }
        });
        assert_eq!(halvings, vec![840_000]);
        let expected: u64 = (839_000..839_000 + out.blocks).map(subsidy_sats).sum();
        assert_eq!(out.issued_sats, expected);
    }
}
