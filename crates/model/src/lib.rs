//! The pure model: agents, markets and the monthly engine. No IO, no polars, no plotters, no clap.
//!
//! Everything here is a function of the validated `params::Params` and the seed; the scenario layer
//! builds the parameters and the output layer consumes the records.
//!
//! Modules depend downwards only: `engine` runs the phases in `market` and the checks in `invariants`,
//! which work on `world`; `world` holds the agents of `agents` and the processes of `market`, and nothing
//! depends back on `engine`.
#![warn(missing_docs)]

pub mod agents;
pub mod engine;
pub mod events;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod invariants;
pub mod ledger;
pub mod market;
pub mod math;
pub mod params;
pub mod record;
pub mod rng;
pub mod rows;
pub mod summary;
pub mod tallies;
pub mod uncertainty;
pub mod units;
pub mod world;
