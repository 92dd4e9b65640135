//! Markets and exogenous processes: price and fees, power, the network, machine economics, and trade.

pub mod hardware;
pub mod network;
pub mod power;
pub mod price;
pub mod regions;
pub mod trade;
