//! The agents: miners' fleets and segments, manufacturers, and channel dealers.
#![warn(missing_docs)]

pub mod dealer;
pub mod manufacturer;
pub mod miner;
