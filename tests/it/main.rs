//! Integration tests: one binary, one file per behaviour area.

mod backtest;
mod buyers;
mod charts;
mod cli_errors;
mod conservation;
mod crash_safety;
mod decision;
mod determinism;
mod extends;
mod fuzz;
mod industry;
mod makers_lines;
mod network;
mod numeric_guards;
mod planning;
mod proptests;
mod readers;
mod regions;
mod replay;
mod shard;
mod support;
mod sweep;
mod uncertainty;
mod workbook;
