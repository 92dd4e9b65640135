//! The Bitcoin network: block subsidy, issuance, difficulty retargets and hashprice.
//!
//! Blocks arrive at the rate the running hashrate implies against the current difficulty
//! (one block per `difficulty * 2^32` hashes). Within a month the clock is advanced from one
//! retarget height to the next, so several retargets in one month are applied at the heights
//! where they fall, each with the ×4 / ÷4 clamp. Block arrival is deterministic (the expected
//! count, with the fractional block carried to the next month), so block counts add no noise.
//!
//! Heights follow the chain's convention: a height names a block, the genesis block is 0, and the state's
//! height is the tip's, the last block mined. A month that takes the tip from `h0` to `h1` mines the blocks
//! `h0 + 1` to `h1`, and its issuance is theirs. A halving at height `h` is the month's when block `h`, the
//! first with the new subsidy, is among them; a retarget at height `h`, the first block at the new
//! difficulty, is the month's when block `h - 1` is, since the protocol sets the new difficulty then.
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

/// Total subsidy of the blocks up to and including the tip at `tip_height` (blocks 0 to `tip_height`), in
/// satoshis: what the chain has issued once that block is mined.
pub fn issued_sats_through(tip_height: u64) -> u64 {
    issued_sats_before(tip_height.saturating_add(1))
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
    /// Height of the chain's tip, the last block mined (blocks 0 to `height` are mined): the next block has
    /// height `height + 1`. The scenario's `network.block_height` and the rows' `block_height` are this height.
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
    /// Starts with the tip at `tip_height` (the last block mined) and `difficulty` in force, with the blocks of
    /// the current retarget epoch mined so far (`tip_height + 1` modulo 2016 of them) assumed to have come on
    /// target.
    pub fn new(tip_height: u64, difficulty: f64) -> NetworkState {
        NetworkState {
            height: tip_height,
            difficulty,
            epoch_seconds: ((tip_height + 1) % BLOCKS_PER_RETARGET) as f64 * TARGET_BLOCK_SECONDS,
            block_carry: 0.0,
        }
    }

    /// Runs the network for `seconds` at a constant `hashrate_ths`, reporting retargets and halvings.
    pub fn advance(&mut self, hashrate_ths: f64, seconds: f64, mut on_event: impl FnMut(NetworkEvent)) -> MonthBlocks {
        let start_height = self.height;
        // Blocks are counted by the height of the next block to be mined, which is also the number mined so far.
        let mut next_height = self.height + 1;
        let mut out = MonthBlocks::default();
        let mut remaining_s = seconds;
        let hashes_per_s = (hashrate_ths * 1.0e12).max(0.0);
        while remaining_s > 0.0 {
            let blocks_per_s = hashes_per_s / (self.difficulty * HASHES_PER_DIFFICULTY);
            if blocks_per_s <= 0.0 || !blocks_per_s.is_finite() {
                self.epoch_seconds += remaining_s;
                break;
            }
            let next_retarget = (next_height / BLOCKS_PER_RETARGET + 1) * BLOCKS_PER_RETARGET;
            let blocks_to_retarget = (next_retarget - next_height) as f64;
            let expected = blocks_per_s * remaining_s + self.block_carry;
            if expected >= blocks_to_retarget {
                let used_s = ((blocks_to_retarget - self.block_carry) / blocks_per_s).clamp(0.0, remaining_s);
                next_height = next_retarget;
                self.block_carry = 0.0;
                self.epoch_seconds += used_s;
                remaining_s -= used_s;
                let old = self.difficulty;
                self.difficulty = retarget(old, self.epoch_seconds);
                on_event(NetworkEvent::Retarget {
                    height: next_retarget,
                    old_difficulty: old,
                    new_difficulty: self.difficulty,
                    epoch_seconds: self.epoch_seconds,
                });
                out.n_retargets += 1;
                self.epoch_seconds = 0.0;
            } else {
                let whole = expected.floor();
                next_height += whole as u64;
                self.block_carry = expected - whole;
                self.epoch_seconds += remaining_s;
                remaining_s = 0.0;
            }
        }
        self.height = next_height - 1;
        // Halvings fall at multiples of the halving interval mined this month.
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
        out.issued_sats = issued_sats_through(self.height) - issued_sats_through(start_height);
        out
    }

    /// Subsidy of the next block to be mined, the one after the tip.
    pub fn next_subsidy_btc(&self) -> f64 {
        subsidy_btc(self.height + 1)
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
        // The tip is the last block of an epoch: the month starts a new one.
        let mut net = NetworkState::new(2016 * 400 - 1, difficulty);
        assert_eq!(net.epoch_seconds, 0.0);
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
        let expected: u64 = (839_001..=839_000 + out.blocks).map(subsidy_sats).sum();
        assert_eq!(out.issued_sats, expected);
    }

    /// The hashrate at which `difficulty` finds a block every 600 seconds on average, in TH/s.
    fn on_target_ths(difficulty: f64) -> f64 {
        difficulty * HASHES_PER_DIFFICULTY / TARGET_BLOCK_SECONDS / 1e12
    }

    #[test]
    fn with_the_tip_before_a_halving_the_first_block_mined_pays_the_new_subsidy() {
        let difficulty = 1.0e14;
        let mut net = NetworkState::new(839_999, difficulty);
        assert_eq!(net.next_subsidy_btc(), 3.125);
        let mut halvings = vec![];
        // Half a block's time more than 4,443 blocks take: blocks 840,000 to 844,442 are mined.
        let out = net.advance(on_target_ths(difficulty), 4443.5 * TARGET_BLOCK_SECONDS, |e| {
            if let NetworkEvent::Halving { height, .. } = e {
                halvings.push(height)
            }
        });
        assert_eq!(out.blocks, 4443);
        assert_eq!(net.height, 844_442);
        assert_eq!(out.issued_sats, 4443 * 312_500_000, "13,884.375 BTC");
        assert_eq!(halvings, vec![840_000], "the halving block is mined this month");
        // One block short of the halving block: the last block at the old subsidy is mined, then the halving.
        let mut net = NetworkState::new(839_998, difficulty);
        assert_eq!(net.next_subsidy_btc(), 6.25);
        let mut events = vec![];
        let out = net.advance(on_target_ths(difficulty), 1.5 * TARGET_BLOCK_SECONDS, |e| {
            events.push(e)
        });
        assert_eq!((out.blocks, out.issued_sats), (1, 625_000_000));
        assert!(events.is_empty(), "block 840,000 is not mined yet: {events:?}");
        assert_eq!(net.next_subsidy_btc(), 3.125);
        let out = net.advance(on_target_ths(difficulty), TARGET_BLOCK_SECONDS, |e| events.push(e));
        assert_eq!((out.blocks, out.issued_sats), (1, 312_500_000));
        assert!(matches!(events[..], [NetworkEvent::Halving { height: 840_000, .. }]));
    }

    #[test]
    fn after_the_last_satoshi_block_nothing_is_issued() {
        let difficulty = 1.0e14;
        // Block 6,929,999 is the last to pay a subsidy (one satoshi).
        let mut net = NetworkState::new(6_929_999, difficulty);
        assert_eq!(net.next_subsidy_btc(), 0.0);
        let out = net.advance(on_target_ths(difficulty), 86_400.0 * 30.0, |_| {});
        assert!(out.blocks > 4000);
        assert_eq!(out.issued_sats, 0);
        let mut net = NetworkState::new(6_929_998, difficulty);
        let out = net.advance(on_target_ths(difficulty), 86_400.0 * 30.0, |_| {});
        assert_eq!(out.issued_sats, 1);
        assert_eq!(issued_sats_through(u64::MAX), issued_sats_before(u64::MAX));
    }

    #[test]
    fn the_epoch_counts_the_tip_and_the_retarget_falls_before_its_first_block() {
        let difficulty = 1.0e14;
        // Blocks 876,960 (an epoch's first) to 877,259 are mined: 300 blocks of the epoch.
        let mut net = NetworkState::new(877_259, difficulty);
        assert_eq!(net.epoch_seconds, 300.0 * TARGET_BLOCK_SECONDS);
        // 1,716 blocks (877,260 to 878,975) remain before the first block at the new difficulty, 878,976.
        let mut retargets = vec![];
        let out = net.advance(on_target_ths(difficulty), 1716.5 * TARGET_BLOCK_SECONDS, |e| {
            if let NetworkEvent::Retarget {
                height, epoch_seconds, ..
            } = e
            {
                retargets.push((height, epoch_seconds))
            }
        });
        assert_eq!(out.blocks, 1716);
        assert_eq!(net.height, 878_975);
        assert_eq!(retargets.len(), 1);
        assert_eq!(retargets[0].0, 878_976);
        let target_s = BLOCKS_PER_RETARGET as f64 * TARGET_BLOCK_SECONDS;
        assert!((retargets[0].1 - target_s).abs() < 1e-6, "{}", retargets[0].1);
    }
}
