//! Integration tests: one binary, one file per behaviour area.

mod charts;
mod cli_errors;
mod conservation;
mod determinism;
mod industry;
mod network;
mod regions;
mod shard;
mod support;
mod sweep;
