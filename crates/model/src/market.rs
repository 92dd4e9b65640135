//! Markets and exogenous processes (price and fees, power, the network, machine economics, regions), and
//! the month's phases, one file each, that move goods and money between agents.
#![warn(missing_docs)]

// Processes and economics: none of these depends on the world.
pub mod hardware;
pub mod network;
pub mod offers;
pub mod power;
pub mod price;
pub mod regions;

// The phases of a month, in their order (`crate::engine`).
pub mod blocks;
pub mod dealers_trade;
pub mod deliveries;
pub mod due_events;
pub mod exogenous;
pub mod hosting;
pub mod key_accounts;
pub mod manufacturers_finance;
pub mod operation;
pub mod pricing;
pub mod purchases;
pub mod relocation;
pub mod segments_finance;
