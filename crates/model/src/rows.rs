//! Phase 11's rows: the month's network, miner, manufacturer, dealer, region and event rows, built from the
//! world and sent to the sink (only when the sink takes monthly rows).
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::market::network::hashprice_usd_per_ph_day;
use crate::params::Segment;
use crate::record::{DealerRow, ManufacturerRow, MinerRow, NetworkRow, RegionRow, Sink};
use crate::units::{SECONDS_PER_DAY, THS_PER_EHS, THS_PER_PHS};
use crate::world::{World, newest_released_generation};

/// Sends the month's rows to the sink, if it takes them.
pub fn record_month<S: Sink>(w: &mut World, sink: &mut S) {
    if !S::MONTHLY_ROWS {
        return;
    }
    record_network(w, sink);
    record_miners(w, sink);
    record_manufacturers(w, sink);
    record_dealers(w, sink);
    record_regions(w, sink);
    for row in w.pending_events.drain() {
        sink.event(row);
    }
}

fn record_network<S: Sink>(w: &World, sink: &mut S) {
    let f = &w.figures;
    let (blocks, n_days, price_usd, running_ths) = (f.blocks, f.n_days, f.price_usd, f.running_ths);
    let installed_ths = w.installed_ths();
    let fleet_power = w.fleet.power_cost_usd.iter().sum::<f64>();
    let hashprice = hashprice_usd_per_ph_day(
        f.issued_btc / blocks.blocks.max(1) as f64,
        w.fees_btc_per_block,
        price_usd,
        blocks.blocks as f64 / n_days,
        running_ths / THS_PER_PHS,
    );
    let hashprice = if blocks.blocks > 0 {
        hashprice
    } else {
        w.revenue_usd_per_th_day * THS_PER_PHS
    };
    sink.network(&NetworkRow {
        path_idx: w.path_idx,
        month: w.month,
        regime: Some(w.price.regime),
        price_usd,
        block_height: w.network.height,
        blocks: blocks.blocks,
        difficulty: w.network.difficulty,
        retargets: blocks.n_retargets,
        subsidy_btc: w.network.next_subsidy_btc(),
        fees_btc: f.fees_btc,
        fees_btc_per_block: w.fees_btc_per_block,
        issued_btc: f.issued_btc,
        hashrate_ehs: running_ths / THS_PER_EHS,
        installed_hashrate_ehs: installed_ths / THS_PER_EHS,
        hashprice_usd_per_ph_day: hashprice,
        miner_revenue_usd: f.miner_revenue_usd,
        power_cost_usd: fleet_power + f.self_mining_power_usd,
        mean_block_seconds: (blocks.blocks > 0).then(|| n_days * SECONDS_PER_DAY / blocks.blocks as f64),
    });
}

fn record_miners<S: Sink>(w: &World, sink: &mut S) {
    let params = w.params;
    let firms = &w.key_accounts;
    let ff = &firms.flows;
    let key_accounts = MinerRow {
        firms_alive: firms.living().count() as u64,
        debt_usd: firms.debt_usd(),
        credit_drawn_usd: firms.living().map(|f| (-f.cash_usd).max(0.0)).sum(),
        debt_service_usd: w.segments[0].flows().debt_service_usd,
        debt_raised_usd: ff.debt_raised_usd,
        equity_raised_usd: ff.equity_raised_usd,
        overheads_usd: ff.overheads_usd,
        treasury_btc: firms.treasury_btc(),
        buyer_defaults: u64::from(ff.defaults),
        units_defaulted: ff.units_defaulted,
        balance_defaulted_usd: ff.balance_defaulted_usd,
        prepayments_kept_usd: ff.prepayments_kept_usd,
        fire_sale_units: ff.fire_sale_units,
        fire_sale_value_usd: ff.fire_sale_value_usd,
        units_consolidated: ff.units_consolidated,
        debt_written_off_usd: ff.debt_written_off_usd + ff.credit_written_off_usd,
        ..MinerRow::default()
    };
    for segment in Segment::ALL {
        for region_idx in 0..params.regions.len() {
            let firm_figures = if segment == Segment::KeyAccount {
                key_accounts.clone()
            } else {
                MinerRow::default()
            };
            let mut row = MinerRow {
                path_idx: w.path_idx,
                month: w.month,
                segment,
                region_idx,
                units_running: 0,
                units_off: 0,
                units_retired: 0,
                units_retired_sold: 0,
                retired_proceeds_usd: 0.0,
                units_bought: 0,
                units_arrived: 0,
                units_in_transit: 0,
                units_sold_off: 0,
                units_taken_over: 0,
                units_banned: 0,
                units_relocated_in: 0,
                hashrate_ehs: 0.0,
                revenue_usd: 0.0,
                power_cost_usd: 0.0,
                segment_cash_usd: w.segments[segment.idx()].cash_usd(),
                ..firm_figures
            };
            for g in 0..params.generations.len() {
                let c = w.fleet.cohort_idx(segment, region_idx, g);
                let f = &w.fleet;
                row.units_running += f.running[c];
                row.units_off += f.units[c] - f.running[c];
                row.units_retired += f.retired[c];
                row.units_retired_sold += f.retired_sold[c];
                row.retired_proceeds_usd += f.retired_proceeds_usd[c];
                row.units_bought += f.bought[c];
                row.units_arrived += f.arrived[c];
                row.units_in_transit += f.in_transit[c];
                row.units_sold_off += f.sold_off()[c];
                row.units_taken_over += f.taken_over()[c];
                row.units_banned += f.banned()[c];
                row.units_relocated_in += f.relocated_in()[c];
                row.units_fire_sold += f.fire_sold()[c];
                row.units_fire_sold_in_transit += f.fire_sold_in_transit()[c];
                row.hashrate_ehs += f.mined_ths[c] / THS_PER_EHS;
                row.revenue_usd += f.revenue_usd[c];
                row.power_cost_usd += f.power_cost_usd[c];
            }
            if segment == Segment::KeyAccount {
                let h = &w.hosting;
                row.hosting_mw = h.hosting_mw[region_idx];
                row.converting_mw = h.converting_mw[region_idx];
                row.mw_converted = h.month.mw_converted[region_idx];
                row.hosting_revenue_usd = h.month.revenue_usd[region_idx];
                row.hosting_operating_cost_usd = h.month.operating_cost_usd[region_idx];
                row.conversion_capex_usd = h.month.conversion_capex_usd[region_idx];
                row.units_displaced = h.month.units_displaced[region_idx];
            }
            sink.miner(&row);
        }
    }
}

fn record_manufacturers<S: Sink>(w: &World, sink: &mut S) {
    let params = w.params;
    for (manufacturer_idx, (m, mp)) in w.manufacturers.iter().zip(&params.manufacturers).enumerate() {
        let f = m.flows();
        let current = &mp.roadmap[Manufacturer::current_roadmap_idx(mp, w.month_offset())];
        let g = current.generation_idx;
        let ths = params.generations[g].hashrate_ths;
        let self_mining_ths: f64 = m
            .self_mining_running_units()
            .iter()
            .zip(&params.generations)
            .map(|(&n, generation)| n as f64 * generation.hashrate_ths)
            .sum();
        let receivables: f64 = w
            .dealer
            .installments()
            .iter()
            .filter(|i| i.manufacturer_idx == manufacturer_idx)
            .map(|i| i.balance_usd)
            .sum();
        sink.manufacturer(&ManufacturerRow {
            path_idx: w.path_idx,
            month: w.month,
            manufacturer_idx,
            cash_usd: m.cash_usd(),
            credit_used_usd: m.credit_used_usd(),
            cash_in_usd: f.cash_in_usd(),
            cash_out_usd: f.cash_out_usd(),
            revenue_usd: f.revenue_usd,
            cogs_usd: f.cogs_usd,
            opex_usd: f.opex_usd,
            interest_usd: f.interest_usd,
            units_produced: f.units_produced,
            units_sold_spot: f.units_sold_spot,
            units_sold_dealers: f.units_sold_dealers,
            units_sold_futures: f.units_sold_futures,
            units_delivered: f.units_delivered,
            hashrate_sold_ths: f.hashrate_sold_ths,
            units_walked_away: f.units_walked_away,
            units_walked_forced: f.units_walked_forced,
            units_defaulted: f.units_defaulted,
            balances_defaulted_usd: f.balances_defaulted_usd,
            prepayments_kept_on_default_usd: f.prepayments_kept_on_default_usd,
            units_refunded: f.units_refunded,
            units_self_mined: f.units_self_mined,
            units_scrapped: f.units_scrapped,
            units_recovered: f.units_recovered,
            units_wafers_ordered: f.units_wafers_ordered,
            prepayments_received_usd: f.prepayments_received_usd,
            prepayments_applied_usd: f.prepayments_applied_usd,
            prepayments_forfeited_usd: f.prepayments_forfeited_usd,
            prepayments_refunded_usd: f.refunds_paid_usd,
            customer_advances_usd: m.prepay_held_usd(),
            other_income_usd: f.other_income_usd(),
            gross_margin_usd: f.gross_margin_usd(),
            backlog_units: m.backlog_units(),
            inventory_units: m.inventory_units(),
            inventory_value_usd: m.inventory_value_usd(),
            wip_units: m.wip_total_units(),
            writedowns_usd: f.writedowns_usd,
            bad_debt_usd: f.bad_debt_usd,
            wafer_commitments_usd: m.wafer_commitments_usd(),
            wafer_prepaid_usd: m.wafer_prepaid_usd(),
            wafer_paid_usd: f.wafer_prepayments_paid_usd + f.wafer_balances_paid_usd,
            installment_receivables_usd: receivables,
            self_mining_ths,
            self_mining_revenue_usd: f.self_mining_revenue_usd,
            self_mining_power_cost_usd: f.self_mining_power_cost_usd,
            price_usd_per_th: m.spot_prices_usd()[g] / ths,
            futures_price_usd_per_th: m.futures_prices_usd()[g] / ths,
            secondary_price_usd_per_th: w.secondary_price_usd[g] / ths,
            planned_units: m.planned_units(),
            forecast_units_per_month: m.forecast().units_per_month,
            forecast_market_share: m.forecast().share,
            capacity_booked_units: m.booked_units(w.month),
            units_unmet_demand: f.units_unmet_demand,
            units_booking_cancelled: f.units_booking_cancelled,
            cancellation_penalties_usd: f.cancellation_penalties_usd,
            list_price_usd_per_th: m.list_prices_usd()[g] / ths,
            distressed: m.is_distressed(),
            units_produced_onshore: f.units_produced_onshore,
            units_sold_onshore: f.units_sold_onshore,
            inventory_onshore_units: m.onshore_inventory_units(),
            production_lines_fixed_cost_usd: f.production_lines_fixed_cost_usd,
            assembly_uplift_usd: f.assembly_uplift_usd,
            tariffs_on_sales_usd: f.tariffs_on_sales_usd,
            hosting_revenue_usd: f.hosting_revenue_usd,
            hosting_cost_usd: f.hosting_cost_usd,
            ai_chip_revenue_usd: f.ai_chip_revenue_usd,
            ai_chip_opex_usd: f.ai_chip_opex_usd,
        });
    }
}

fn record_regions<S: Sink>(w: &mut World, sink: &mut S) {
    let params = w.params;
    let mut used_mw = std::mem::take(&mut w.scratch.used_mw);
    w.region_used_mw(&mut used_mw);
    for (region_idx, &capacity_used_mw) in used_mw.iter().enumerate() {
        let mut row = RegionRow {
            path_idx: w.path_idx,
            month: w.month,
            region_idx,
            units_relocating: w
                .relocation
                .iter()
                .filter(|b| b.from_region_idx == region_idx)
                .map(|b| b.units)
                .sum(),
            power_price_usd_per_kwh: w.power.price_usd_per_kwh[region_idx],
            opex_share_of_power: w.regions.opex_share()[region_idx],
            capacity_mw: Some(w.regions.capacity_mw[region_idx]).filter(|c| c.is_finite()),
            capacity_used_mw,
            ban_level_share: w.regions.ban_level[region_idx],
            ai_hosting_mw: w.hosting.hosting_mw[region_idx],
            ai_converting_mw: w.hosting.converting_mw[region_idx],
            ai_power_demand_mw: w.hosting.ai_sites_mw[region_idx],
            ai_power_demand_unmet_mw: w.hosting.ai_unmet_mw[region_idx],
            ai_power_price_factor: w.power.ai_factor[region_idx],
            ..RegionRow::default()
        };
        (row.max_tariff_share, row.max_tariff_origin_idx) = w.regions.max_tariff(region_idx);
        row.units_queued = w.queued_units[region_idx];
        for segment in Segment::ALL {
            for g in 0..params.generations.len() {
                let c = w.fleet.cohort_idx(segment, region_idx, g);
                let f = &w.fleet;
                row.units_running += f.running[c];
                row.units_off += f.units[c] - f.running[c];
                row.units_banned += f.banned()[c] + f.diverted()[c];
                row.units_relocated_in += f.relocated_in()[c];
                row.hashrate_ehs += f.mined_ths[c] / THS_PER_EHS;
            }
        }
        sink.region(&row);
    }
    w.scratch.used_mw = used_mw;
}

fn record_dealers<S: Sink>(w: &World, sink: &mut S) {
    let params = w.params;
    let d = &w.dealer;
    let f = d.flows();
    // Report prices for the newest released generation.
    let newest = newest_released_generation(params, w.month);
    let ths = params.generations[newest].hashrate_ths;
    sink.dealer(&DealerRow {
        path_idx: w.path_idx,
        month: w.month,
        cash_usd: d.cash_usd(),
        inventory_units: d.stock_units(),
        inventory_value_usd: d.stock_value_usd(),
        units_bought_spot: f.units_bought_spot,
        units_bought_installment: f.units_bought_installment,
        units_sold: f.units_sold,
        units_returned: f.units_returned,
        units_scrapped: f.units_scrapped,
        purchases_usd: f.purchases_usd + f.down_payments_usd,
        sales_usd: f.sales_usd,
        writedowns_usd: f.writedowns_usd,
        dump_discount_share: d.dump_discount_share(),
        price_usd_per_th: d.prices_usd()[newest] / ths,
        secondary_price_usd_per_th: w.secondary_price_usd[newest] / ths,
        installments_outstanding_usd: d.installments_outstanding_usd(),
        n_installments: d.installments().len() as u64,
        n_defaults: f.n_defaults,
        defaulted_balance_usd: f.defaulted_balance_usd,
    });
}
