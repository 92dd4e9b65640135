//! The path's running tallies for its summary: hashrate peak, drawdown and low, halvings, retargets and
//! months in a bull regime, updated as the months go by.
#![warn(missing_docs)]

/// Path-wide tallies, written only through the methods below.
#[derive(Clone, Debug)]
pub struct PathTallies {
    start_height: u64,
    peak_hashrate_ths: f64,
    max_drawdown_share: f64,
    min_hashrate_ths: f64,
    n_halvings: u32,
    n_retargets: u32,
    months_in_bull: u32,
    /// The hashrate that ran last month (the scenario's starting hashrate before the first month).
    last_hashrate_ths: f64,
}

impl PathTallies {
    /// Tallies at the start of a path, from the starting tip's block height and the scenario's starting hashrate in TH/s.
    pub fn new(start_height: u64, start_hashrate_ths: f64) -> PathTallies {
        PathTallies {
            start_height,
            peak_hashrate_ths: 0.0,
            max_drawdown_share: 0.0,
            min_hashrate_ths: f64::INFINITY,
            n_halvings: 0,
            n_retargets: 0,
            months_in_bull: 0,
            last_hashrate_ths: start_hashrate_ths,
        }
    }

    /// Counts a difficulty retarget.
    pub fn note_retarget(&mut self) {
        self.n_retargets += 1;
    }

    /// Counts a halving of the block subsidy.
    pub fn note_halving(&mut self) {
        self.n_halvings += 1;
    }

    /// Notes the month's running hashrate and whether the month was bull.
    pub fn track(&mut self, hashrate_ths: f64, bull: bool) {
        self.peak_hashrate_ths = self.peak_hashrate_ths.max(hashrate_ths);
        if self.peak_hashrate_ths > 0.0 {
            let drawdown = 1.0 - hashrate_ths / self.peak_hashrate_ths;
            self.max_drawdown_share = self.max_drawdown_share.max(drawdown);
        }
        self.min_hashrate_ths = self.min_hashrate_ths.min(hashrate_ths);
        self.last_hashrate_ths = hashrate_ths;
        if bull {
            self.months_in_bull += 1;
        }
    }

    /// The block height the path started at.
    pub fn start_height(&self) -> u64 {
        self.start_height
    }

    /// The largest fall of the running hashrate from its peak so far, as a share of that peak ([0, 1]).
    pub fn max_drawdown_share(&self) -> f64 {
        self.max_drawdown_share
    }

    /// The lowest running hashrate so far (infinite before the first month).
    pub fn min_hashrate_ths(&self) -> f64 {
        self.min_hashrate_ths
    }

    /// Number of halvings so far.
    pub fn n_halvings(&self) -> u32 {
        self.n_halvings
    }

    /// Number of difficulty retargets so far.
    pub fn n_retargets(&self) -> u32 {
        self.n_retargets
    }

    /// Number of months so far that were in a bull regime.
    pub fn months_in_bull(&self) -> u32 {
        self.months_in_bull
    }

    /// The hashrate that ran last month.
    pub fn last_hashrate_ths(&self) -> f64 {
        self.last_hashrate_ths
    }
}
