//! Parameter sets built in code, for tests of the model and of the crates that use it.
//!
//! The model crate cannot read a scenario file (it has no IO), so its tests take their parameters from here.
//! `small()` is `tests/data/small.toml` of the `hashcycle` crate as the scenario layer validates it: two
//! regions, three generations, two manufacturers, a year. A test there checks the two stay equal, so a change
//! to either file or to a default shows up at once.
#![warn(missing_docs)]

use crate::params::{
    DealerParams, FeeParams, GenerationParams, InitialCohort, KeyAccountFirmsParams, ManufacturerParams,
    ManufacturerStrategy, NetworkParams, Params, PriceParams, PriceProcess, Regime, RegimeSwitchingParams,
    RegionHazards, RegionParams, RelocationParams, RoadmapEntry, SecondaryMarketParams, Segment, SegmentParams,
    SimulationParams,
};
use crate::units::YearMonth;

/// The `small` test scenario: two regions, three generations released before the start, two
/// manufacturers, twelve months, four paths.
pub fn small() -> Params {
    Params {
        simulation: small_simulation(),
        price: small_price(),
        fees: small_fees(),
        network: small_network(),
        regions: small_regions(),
        generations: small_generations(),
        segments: small_segments(),
        initial_fleet: small_initial_fleet(),
        manufacturers: small_manufacturers(),
        dealers: small_dealers(),
        secondary_market: small_secondary_market(),
        relocation: small_relocation(),
        key_account_firms: small_key_account_firms(),
        hosting: crate::params::HostingParams::default(),
        origins: vec!["china".into()],
        events: Vec::new(),
        uncertainty: Vec::new(),
    }
}

/// Holds a world steady: the price stays where it is put (no drift, no volatility, no regime change, no
/// jumps), and fees and power prices do not move.
pub fn hold_steady(params: &mut Params) {
    if let PriceProcess::RegimeSwitching(rs) = &mut params.price.process {
        rs.bull_drift_log_per_month = 0.0;
        rs.bull_volatility_log_per_month = 0.0;
        rs.bull_to_bear_probability_per_month = 0.0;
    }
    params.price.jump_probability_per_month = 0.0;
    params.fees.volatility_log_per_month = 0.0;
    for region in &mut params.regions {
        region.power_price_volatility_log_per_month = 0.0;
    }
}

/// No firms (the key accounts are one pooled book), with every other key at its default, as a scenario
/// without a `[key_account_firms]` table reads.
fn small_key_account_firms() -> KeyAccountFirmsParams {
    KeyAccountFirmsParams {
        n_firms: 0,
        size_dispersion_log: 1.0,
        cash_dispersion_log: 0.5,
        min_debt_to_fleet_value_share: 0.0,
        max_debt_to_fleet_value_share: 0.8,
        notes_share_of_debt: 0.4,
        term_loan_months: 36,
        notes_maturity_months: 36,
        debt_interest_rate_per_month: 0.01,
        overhead_usd_per_ths_month: 0.5,
        min_btc_hold_share: 0.0,
        max_btc_hold_share: 0.5,
        equipment_loan_share: 0.3,
        max_loan_to_value_share: 0.6,
        site_capex_usd_per_mw: 3.5e5,
        bull_equity_raise_share_per_month: 0.02,
        fire_sale_discount_share: 0.5,
        cash_reserve_months: 6.0,
        consolidation_spend_share: 0.3,
        firms: Vec::new(),
    }
}

fn small_simulation() -> SimulationParams {
    SimulationParams {
        name: "small".into(),
        description: "small".into(),
        start: YearMonth { year: 2025, month: 1 },
        horizon_months: 12,
        n_paths: 4,
        seed: 7,
    }
}

fn small_price() -> PriceParams {
    PriceParams {
        start_price_usd: 93429.2,
        start_regime: Regime::Bull,
        process: PriceProcess::RegimeSwitching(RegimeSwitchingParams {
            bull_drift_log_per_month: 0.04,
            bull_volatility_log_per_month: 0.11,
            bear_drift_log_per_month: -0.04,
            bear_volatility_log_per_month: 0.12,
            bull_to_bear_probability_per_month: 0.05,
            bear_to_bull_probability_per_month: 0.09,
            trend_growth_log_per_month: 0.0,
            trend_reversion_per_month: 0.0,
            trend_start_price_usd: 93429.2,
        }),
        jump_probability_per_month: 0.02,
        jump_mean_log: -0.15,
        jump_sd_log: 0.1,
    }
}

fn small_fees() -> FeeParams {
    FeeParams {
        history_btc_per_block: None,
        bull_mean_btc_per_block: 0.09,
        bear_mean_btc_per_block: 0.035,
        volatility_log_per_month: 0.3,
        persistence_per_month: 0.7,
    }
}

fn small_network() -> NetworkParams {
    NetworkParams {
        block_height: 877259,
        difficulty: 109782075598905.0,
        hashrate_ehs: 778.452,
        difficulty_foresight_share: 1.0,
    }
}

fn small_regions() -> Vec<RegionParams> {
    vec![
        RegionParams {
            name: "us".into(),
            fleet_share: 0.6,
            power_price_base_usd_per_kwh: 0.045,
            power_price_volatility_log_per_month: 0.05,
            power_price_reversion_per_month: 0.2,
            site_power_price_dispersion_log: 0.3,
            opex_share_of_power: 0.2,
            segment_fleet_shares: [0.6, 0.6],
            hosting_capacity_mw: 20000.0,
            capacity_growth_share_per_month: 0.0,
            capacity_build_trigger_share: 0.9,
            import_tariffs: Vec::new(),
            hazards: RegionHazards {
                ban_per_month: 0.0,
                ban_share: 0.5,
                tariff_per_month: 0.0,
                tariff_rate_share: 0.25,
                tariff_origin_idx: 0,
                power_shock_per_month: 0.0,
                power_shock_factor: 1.5,
                power_shock_decay_per_month: 0.2,
                tightening_per_month: 0.0,
                tightening_opex_increase_share: 0.1,
            },
            ai_power_demand_mw_per_year: 0.0,
            ai_power_price_elasticity: 0.0,
        },
        RegionParams {
            name: "other".into(),
            fleet_share: 0.4,
            power_price_base_usd_per_kwh: 0.05,
            power_price_volatility_log_per_month: 0.05,
            power_price_reversion_per_month: 0.2,
            site_power_price_dispersion_log: 0.3,
            opex_share_of_power: 0.2,
            segment_fleet_shares: [0.4, 0.4],
            hosting_capacity_mw: f64::INFINITY,
            capacity_growth_share_per_month: 0.0,
            capacity_build_trigger_share: 0.9,
            import_tariffs: Vec::new(),
            hazards: RegionHazards {
                ban_per_month: 0.0,
                ban_share: 0.5,
                tariff_per_month: 0.0,
                tariff_rate_share: 0.25,
                tariff_origin_idx: 0,
                power_shock_per_month: 0.0,
                power_shock_factor: 1.5,
                power_shock_decay_per_month: 0.2,
                tightening_per_month: 0.0,
                tightening_opex_increase_share: 0.1,
            },
            ai_power_demand_mw_per_year: 0.0,
            ai_power_price_elasticity: 0.0,
        },
    ]
}

fn small_generations() -> Vec<GenerationParams> {
    vec![
        GenerationParams {
            name: "S19 Pro".into(),
            release: YearMonth { year: 2020, month: 5 },
            release_month_offset: -56,
            hashrate_ths: 110.0,
            power_w: 3250.0,
            price_new_usd: 2800.0,
        },
        GenerationParams {
            name: "S21".into(),
            release: YearMonth { year: 2023, month: 8 },
            release_month_offset: -17,
            hashrate_ths: 200.0,
            power_w: 3500.0,
            price_new_usd: 4200.0,
        },
        GenerationParams {
            name: "S21 XP".into(),
            release: YearMonth { year: 2024, month: 10 },
            release_month_offset: -3,
            hashrate_ths: 270.0,
            power_w: 3645.0,
            price_new_usd: 6500.0,
        },
    ]
}

fn small_segments() -> [SegmentParams; 2] {
    [
        SegmentParams {
            fleet_share: 0.65,
            cash_usd: 4000000000.0,
            credit_line_usd: 4000000000.0,
            credit_interest_rate_per_month: 0.01,
            full_appetite_payback_months: 15.0,
            max_payback_months: 30.0,
            max_spend_share_per_month: 0.2,
            max_growth_share_of_network_per_month: 0.05,
            retire_after_months: 6,
            run_response_share_per_month: 0.5,
            shipping_lag_months: 1,
            futures_preference_share: 0.85,
            prepay_elasticity: 1.0,
            delivery_elasticity_per_month: 0.05,
            reference_prepay_share: 0.3,
            reference_wait_months: 6.0,
            max_terms_demand_factor: 4.0,
            price_sensitivity: 4.0,
            bull_inflow_usd_per_month: 0.0,
            churn_share_per_month: 0.0,
            walk_away_rationality: 3.0,
            region_choice_sensitivity: 2.0,
        },
        SegmentParams {
            fleet_share: 0.35,
            cash_usd: 1000000000.0,
            credit_line_usd: 0.0,
            credit_interest_rate_per_month: 0.01,
            full_appetite_payback_months: 12.0,
            max_payback_months: 24.0,
            max_spend_share_per_month: 0.3,
            max_growth_share_of_network_per_month: 0.03,
            retire_after_months: 3,
            run_response_share_per_month: 0.5,
            shipping_lag_months: 1,
            futures_preference_share: 0.15,
            prepay_elasticity: 1.0,
            delivery_elasticity_per_month: 0.05,
            reference_prepay_share: 0.3,
            reference_wait_months: 6.0,
            max_terms_demand_factor: 4.0,
            price_sensitivity: 4.0,
            bull_inflow_usd_per_month: 200000000.0,
            churn_share_per_month: 0.15,
            walk_away_rationality: 3.0,
            region_choice_sensitivity: 2.0,
        },
    ]
}

fn small_initial_fleet() -> Vec<InitialCohort> {
    vec![
        InitialCohort {
            segment: Segment::KeyAccount,
            region_idx: 0,
            generation_idx: 0,
            units: 1379983,
        },
        InitialCohort {
            segment: Segment::KeyAccount,
            region_idx: 1,
            generation_idx: 0,
            units: 919989,
        },
        InitialCohort {
            segment: Segment::Retail,
            region_idx: 0,
            generation_idx: 0,
            units: 743068,
        },
        InitialCohort {
            segment: Segment::Retail,
            region_idx: 1,
            generation_idx: 0,
            units: 495379,
        },
        InitialCohort {
            segment: Segment::KeyAccount,
            region_idx: 0,
            generation_idx: 1,
            units: 758991,
        },
        InitialCohort {
            segment: Segment::KeyAccount,
            region_idx: 1,
            generation_idx: 1,
            units: 505994,
        },
        InitialCohort {
            segment: Segment::Retail,
            region_idx: 0,
            generation_idx: 1,
            units: 408687,
        },
        InitialCohort {
            segment: Segment::Retail,
            region_idx: 1,
            generation_idx: 1,
            units: 272458,
        },
    ]
}

fn small_manufacturers() -> Vec<ManufacturerParams> {
    vec![
        ManufacturerParams {
            name: "bitmain".into(),
            cash_usd: 2500000000.0,
            credit_line_usd: 1000000000.0,
            credit_interest_rate_per_month: 0.008,
            capacity_units_per_month: 110000,
            foundry_allotment_units_per_month: 110000,
            wafer_cost_share: 0.6,
            fixed_opex_usd_per_month: 40000000.0,
            rnd_usd_per_month: 0.0,
            distress_cost_cut_share: 0.3,
            variable_cost_share: 0.0,
            initial_inventory_units: 150000,
            initial_wafer_units_per_month: 90000,
            self_mining_power_price_usd_per_kwh: 0.045,
            origin_idx: 0,
            local_assembly_region_idxs: Vec::new(),
            local_assembly_uplift_share: 0.1,
            production_lines: Vec::new(),
            self_mining_region_idx: None,
            hosting_mw: 0.0,
            hosting_price_usd_per_mw_month: 0.0,
            hosting_cost_usd_per_mw_month: 0.0,
            ai_chip_revenue_usd_per_month: 0.0,
            ai_chip_opex_usd_per_month: 0.0,
            ai_chip_exit_month_offset: None,
            ai_chip_exit_cost_usd: 0.0,
            roadmap: vec![RoadmapEntry {
                generation_idx: 1,
                sell_from: YearMonth { year: 2023, month: 8 },
                sell_from_month_offset: -17,
                unit_cost_usd: 2000.0,
            }],
            strategy: ManufacturerStrategy {
                futures_share: 0.8,
                delivery_months: 6,
                prepay_share: 0.5,
                wafer_lead_months: 5,
                wafer_prepay_share: 0.7,
                target_payback_months: 15.0,
                min_margin_share: 0.15,
                futures_discount_rate_per_month: 0.01,
                futures_max_outlook_ratio: 2.0,
                dealer_share_of_spot: 0.3,
                dealer_down_payment_share: 0.2,
                installment_months: 6,
                self_mine: true,
                self_mine_share_per_month: 0.2,
                pricing_power_price_usd_per_kwh: 0.05,
                forecast_revision_months: 3,
                forecast_smoothing_months: 6.0,
                forecast_trend_weight_share: 0.5,
                forecast_max_outlook_ratio: 3.0,
                plan_adjustment_months: 3.0,
                foundry_booking_months: 3,
                foundry_booking_share: 1.1,
                take_or_pay_share: 0.8,
                cancellation_penalty_share: 0.5,
                max_price_change_share_per_month: 0.25,
                price_band_share: 0.1,
                competitive_weight_share: 0.5,
                stock_price_cut_share_per_month: 0.1,
                shortage_price_rise_share: 0.25,
                target_inventory_months: 1.0,
                max_delivery_delay_months: 3,
                onshore_share: 0.0,
            },
        },
        ManufacturerParams {
            name: "canaan".into(),
            cash_usd: 150000000.0,
            credit_line_usd: 100000000.0,
            credit_interest_rate_per_month: 0.008,
            capacity_units_per_month: 15000,
            foundry_allotment_units_per_month: 15000,
            wafer_cost_share: 0.6,
            fixed_opex_usd_per_month: 8000000.0,
            rnd_usd_per_month: 0.0,
            distress_cost_cut_share: 0.3,
            variable_cost_share: 0.0,
            initial_inventory_units: 15000,
            initial_wafer_units_per_month: 0,
            self_mining_power_price_usd_per_kwh: 0.045,
            origin_idx: 0,
            local_assembly_region_idxs: Vec::new(),
            local_assembly_uplift_share: 0.1,
            production_lines: Vec::new(),
            self_mining_region_idx: None,
            hosting_mw: 0.0,
            hosting_price_usd_per_mw_month: 0.0,
            hosting_cost_usd_per_mw_month: 0.0,
            ai_chip_revenue_usd_per_month: 0.0,
            ai_chip_opex_usd_per_month: 0.0,
            ai_chip_exit_month_offset: None,
            ai_chip_exit_cost_usd: 0.0,
            roadmap: vec![
                RoadmapEntry {
                    generation_idx: 1,
                    sell_from: YearMonth { year: 2023, month: 8 },
                    sell_from_month_offset: -17,
                    unit_cost_usd: 2100.0,
                },
                RoadmapEntry {
                    generation_idx: 2,
                    sell_from: YearMonth { year: 2024, month: 10 },
                    sell_from_month_offset: -3,
                    unit_cost_usd: 2900.0,
                },
            ],
            strategy: ManufacturerStrategy {
                futures_share: 0.5,
                delivery_months: 4,
                prepay_share: 0.3,
                wafer_lead_months: 4,
                wafer_prepay_share: 0.8,
                target_payback_months: 14.0,
                min_margin_share: 0.1,
                futures_discount_rate_per_month: 0.01,
                futures_max_outlook_ratio: 2.0,
                dealer_share_of_spot: 0.4,
                dealer_down_payment_share: 0.2,
                installment_months: 6,
                self_mine: false,
                self_mine_share_per_month: 0.2,
                pricing_power_price_usd_per_kwh: 0.05,
                forecast_revision_months: 3,
                forecast_smoothing_months: 6.0,
                forecast_trend_weight_share: 0.5,
                forecast_max_outlook_ratio: 3.0,
                plan_adjustment_months: 3.0,
                foundry_booking_months: 3,
                foundry_booking_share: 1.1,
                take_or_pay_share: 0.8,
                cancellation_penalty_share: 0.5,
                max_price_change_share_per_month: 0.25,
                price_band_share: 0.1,
                competitive_weight_share: 0.5,
                stock_price_cut_share_per_month: 0.1,
                shortage_price_rise_share: 0.25,
                target_inventory_months: 1.0,
                max_delivery_delay_months: 3,
                onshore_share: 0.0,
            },
        },
    ]
}

fn small_dealers() -> DealerParams {
    DealerParams {
        cash_usd: 300000000.0,
        credit_line_usd: 300000000.0,
        wholesale_discount_share: 0.05,
        bull_markup_share: 0.15,
        bear_dump_discount_share: 0.2,
        bull_stock_months: 2.0,
        bear_installment_take_share: 0.2,
        default_probability_per_month: 0.1,
        credit_interest_rate_per_month: 0.012,
        demand_smoothing_share: 0.3,
    }
}

fn small_secondary_market() -> SecondaryMarketParams {
    SecondaryMarketParams {
        used_payback_months: 10.0,
        scrap_value_usd_per_unit: 100.0,
        dealer_stock_price_impact_share: 0.3,
        reference_power_price_usd_per_kwh: 0.05,
        retired_sale_share: 0.5,
        retired_price_discount_share: 0.3,
    }
}

fn small_relocation() -> RelocationParams {
    RelocationParams {
        lag_months: 3,
        cost_usd_per_unit: 150.0,
        max_wait_months: 9,
        stranded_sale_share: 0.5,
        stranded_price_discount_share: 0.3,
        overhang_persistence_per_month: 0.7,
    }
}

/// Puts `units` machines into a manufacturer's stock of a generation from nowhere, breaking the machine
/// conservation law: tests of the layers above use it to see a failed check travel to files and messages.
pub fn smuggle_stock(world: &mut crate::world::World, manufacturer_idx: usize, generation_idx: usize, units: u64) {
    world.manufacturers[manufacturer_idx].stock[generation_idx].units += units;
}

/// Relabels one finished machine of a manufacturer's generation as made in origin slot `slot` (its stock by
/// origin still adds up to its stock, but not to what each origin made), breaking the conservation of machines
/// by origin: tests of the layers above use it.
pub fn relabel_origin_unit(
    world: &mut crate::world::World,
    manufacturer_idx: usize,
    generation_idx: usize,
    slot: usize,
) {
    world.manufacturers[manufacturer_idx].relabel_origin_unit(generation_idx, slot);
}
