//! hashcycle: a Monte Carlo simulator of the Bitcoin mining industry cycle.
//!
//! A scenario file (`scenario`) becomes validated parameters (`model::params`); the engine
//! (`model::engine`) steps each path month by month; `batch` runs paths in parallel; `output`
//! writes Parquet tables and charts; `backtest` replays history to test and calibrate the model; `cli` is
//! the command line.

pub mod backtest;
pub mod batch;
pub mod cli;
pub mod memory;
pub mod output;
pub mod plot;
pub mod replay;
pub mod scenario;
pub mod sensitivity;
pub mod stats;
pub mod sweep;
