//! The path's tallies, kept month by month, and its end-of-horizon summary.
#![warn(missing_docs)]

use crate::market::network::{SATS_PER_BTC, issued_sats_through};
use crate::params::Regime;
use crate::record::{ManufacturerOutcome, NetworkSummary, PathSummary, Violation};
use crate::units::THS_PER_EHS;
use crate::world::World;

impl World<'_> {
    /// Notes the month's running hashrate and regime, and each manufacturer's cash, in the path's tallies.
    pub(crate) fn track_path(&mut self, hashrate_ths: f64) {
        self.tallies.track(hashrate_ths, self.price.regime == Regime::Bull);
        for m in &mut self.manufacturers {
            m.track_cash(self.month);
        }
    }

    /// The path's end-of-horizon figures.
    pub fn summary(&self, violation: Option<Violation>) -> PathSummary {
        let total_units_sold: u64 = self.manufacturers.iter().map(|m| m.totals().units_sold).sum();
        let manufacturers = self
            .manufacturers
            .iter()
            .enumerate()
            .map(|(manufacturer_idx, m)| {
                let t = m.totals();
                ManufacturerOutcome {
                    manufacturer_idx,
                    min_cash_usd: t.min_cash_usd,
                    min_cash_month: t.min_cash_month,
                    end_cash_usd: m.cash_usd(),
                    cash_below_zero: t.cash_below_zero,
                    distressed: t.distressed_ever,
                    revenue_usd: t.revenue_usd,
                    gross_margin_usd: t.revenue_usd - t.cogs_usd - t.writedowns_usd,
                    units_sold: t.units_sold,
                    walk_away_rate: if t.units_due_resolved > 0 {
                        t.units_walked as f64 / t.units_due_resolved as f64
                    } else {
                        0.0
                    },
                    prepayments_forfeited_usd: t.prepayments_forfeited_usd,
                    units_defaulted: t.units_defaulted,
                    balances_defaulted_usd: t.balances_defaulted_usd,
                    prepayments_kept_on_default_usd: t.prepayments_kept_on_default_usd,
                    writedowns_usd: t.writedowns_usd,
                    market_share: if total_units_sold > 0 {
                        t.units_sold as f64 / total_units_sold as f64
                    } else {
                        0.0
                    },
                    cogs_usd: t.cogs_usd,
                    start_cash_usd: t.start_cash_usd,
                    sales_collected_usd: t.sales_collected_usd,
                    prepayments_received_usd: t.prepayments_received_usd,
                    prepayments_applied_usd: t.prepayments_applied_usd,
                    prepayments_refunded_usd: t.prepayments_refunded_usd,
                    wafer_prepayments_paid_usd: t.wafer_prepayments_paid_usd,
                    wafer_balances_paid_usd: t.wafer_balances_paid_usd,
                    assembly_paid_usd: t.assembly_paid_usd,
                    cancellation_penalties_usd: t.cancellation_penalties_usd,
                    opex_usd: t.opex_usd,
                    interest_usd: t.interest_usd,
                    self_mining_revenue_usd: t.self_mining_revenue_usd,
                    self_mining_power_cost_usd: t.self_mining_power_cost_usd,
                    scrap_proceeds_usd: t.scrap_proceeds_usd,
                    other_lines_revenue_usd: t.other_lines_revenue_usd,
                    other_lines_cost_usd: t.other_lines_cost_usd,
                }
            })
            .collect();
        PathSummary {
            path_idx: self.path_idx,
            n_months: self.month.0,
            network: NetworkSummary {
                end_price_usd: self.price.price_usd(),
                end_hashrate_ehs: self.tallies.last_hashrate_ths() / THS_PER_EHS,
                end_difficulty: self.network.difficulty,
                end_block_height: self.network.height,
                total_issued_btc: (issued_sats_through(self.network.height)
                    - issued_sats_through(self.tallies.start_height())) as f64
                    / SATS_PER_BTC as f64,
                max_hashrate_drawdown_share: self.tallies.max_drawdown_share(),
                min_hashrate_ehs: if self.tallies.min_hashrate_ths().is_finite() {
                    self.tallies.min_hashrate_ths() / THS_PER_EHS
                } else {
                    0.0
                },
                n_halvings: self.tallies.n_halvings(),
                n_retargets: self.tallies.n_retargets(),
                months_in_bull: self.tallies.months_in_bull(),
                miners_end_cash_usd: self.segments.iter().map(|s| s.cash_usd()).sum(),
                n_firms: self.key_accounts.firms.len() as u32,
                buyer_defaults: self.key_accounts.totals.defaults,
                units_defaulted: self.key_accounts.totals.units_defaulted,
                balance_defaulted_usd: self.key_accounts.totals.balance_defaulted_usd,
                prepayments_kept_usd: self.key_accounts.totals.prepayments_kept_usd,
                fire_sale_units: self.key_accounts.totals.fire_sale_units,
                debt_written_off_usd: self.key_accounts.totals.debt_written_off_usd,
            },
            manufacturers,
            violation,
        }
    }
}
