//! The agents: miners' fleets and segments, manufacturers, and channel dealers.

pub mod dealer;
pub mod manufacturer;
pub mod miner;
