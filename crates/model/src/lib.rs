//! The pure model: agents, markets and the monthly engine. No IO, no polars, no plotters, no clap.
//!
//! Everything here is a function of the validated `params::Params` and the seed; the scenario layer
//! builds the parameters and the output layer consumes the records.

pub mod agents;
pub mod engine;
pub mod events;
pub mod invariants;
pub mod market;
pub mod math;
pub mod params;
pub mod record;
pub mod rng;
pub mod units;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
