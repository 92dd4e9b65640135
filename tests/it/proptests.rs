//! Property tests over generated valid scenarios: starting from `scenarios/base.toml`, prices, volatilities,
//! probabilities, shares that must sum to 1, costs, strategies, horizons, regions' capacities and hazards,
//! buyers, dealers, scripted events, AI power demand and hosting contracts are drawn anywhere inside the ranges
//! validation accepts, and a few paths of a few months are simulated. No case may panic, produce a
//! non-finite number in any row, or fail a conservation check.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use hashcycle::batch::simulate_path_guarded;
use hashcycle::scenario::Scenario;
use hashcycle::scenario::raw::{self, Value};
use hashcycle::scenario::reader::Problems;
use hashcycle_model::record::Collect;

use crate::support::{apply, assert_all_finite, assert_summary_finite, non_finite_fields, scenario_path};

/// Cases per property: enough to reach the corners of every range over time, few enough for the debug
/// profile to finish in seconds.
const CASES: u32 = 256;

/// `CASES`, or `PROPTEST_CASES` from the environment for a longer search.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}
/// Paths simulated per case.
const PATHS_PER_CASE: u32 = 3;
/// Horizons are drawn up to this many months.
const MAX_HORIZON_MONTHS: i64 = 24;

const REGIONS: [&str; 5] = ["us", "china", "russia", "canada_nordics", "other"];
const MANUFACTURERS: [&str; 3] = ["bitmain", "microbt", "canaan"];
const SEGMENTS: [&str; 2] = ["key_account", "retail"];

/// One drawn change: a parameter path and its value.
type Change = (String, Value);

fn one(key: String, values: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Vec<Change>> {
    values.prop_map(move |v| vec![(key.clone(), v)]).boxed()
}

/// A float anywhere in [lo, hi].
fn float_in(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Float(lo)),
        1 => Just(Value::Float(hi)),
        8 => (lo..=hi).prop_map(Value::Float),
    ]
    .boxed()
}

/// A positive float spread evenly over the decades from `lo` to `hi` (both > 0).
fn log_float(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Float(lo)),
        1 => Just(Value::Float(hi)),
        8 => (lo.log10()..=hi.log10()).prop_map(|e| Value::Float(10f64.powf(e))),
    ]
    .boxed()
}

/// Zero or a positive float spread over the decades from `lo` to `hi`.
fn zero_or_log_float(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    prop_oneof![1 => Just(Value::Float(0.0)), 4 => log_float(lo, hi)].boxed()
}

/// A signed amount: zero, or up to `hi` in size of either sign, spread over the decades.
fn signed_log_float(hi: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Float(0.0)),
        2 => (0.0..=hi.log10()).prop_map(|e| Value::Float(-(10f64.powf(e)))),
        4 => (0.0..=hi.log10()).prop_map(|e| Value::Float(10f64.powf(e))),
    ]
    .boxed()
}

fn int_in(lo: i64, hi: i64) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Int(lo)),
        1 => Just(Value::Int(hi)),
        8 => (lo..=hi).prop_map(Value::Int),
    ]
    .boxed()
}

/// A whole number spread over the decades up to `hi`, with zero.
fn log_int(hi: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Int(0)),
        6 => (0.0..=hi.log10()).prop_map(|e| Value::Int(10f64.powf(e).round() as i64)),
    ]
    .boxed()
}

/// A manufacturer's assembly capacity and the wafers in flight at the start, which validation holds within it.
fn capacity_and_wafers_in_flight(capacity_key: String, wafers_key: String) -> BoxedStrategy<Vec<Change>> {
    (log_int(1e9), 0.0..=1.0f64)
        .prop_map(move |(capacity, wafers_share)| {
            let Value::Int(capacity_units) = capacity else {
                unreachable!("log_int draws integers")
            };
            let wafer_units = (capacity_units as f64 * wafers_share).floor() as i64;
            vec![
                (capacity_key.clone(), Value::Int(capacity_units)),
                (wafers_key.clone(), Value::Int(wafer_units)),
            ]
        })
        .boxed()
}

fn share() -> BoxedStrategy<Value> {
    float_in(0.0, 1.0)
}

/// Shares of `keys` that sum to 1 (some may be 0), as validation requires.
fn shares_summing_to_one(keys: Vec<String>) -> BoxedStrategy<Vec<Change>> {
    let n = keys.len();
    proptest::collection::vec(prop_oneof![1 => Just(0.0), 4 => 0.0..=1.0f64], n)
        .prop_map(move |weights| {
            let total: f64 = weights.iter().sum();
            let shares: Vec<f64> = if total > 0.0 {
                weights.iter().map(|w| w / total).collect()
            } else {
                // All weights drew zero: put everything on the first.
                (0..weights.len()).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect()
            };
            keys.iter().cloned().zip(shares.into_iter().map(Value::Float)).collect()
        })
        .boxed()
}

/// Two paybacks in (0, 600] with the first strictly below the second.
fn payback_pair(low_key: String, high_key: String) -> BoxedStrategy<Vec<Change>> {
    (0.0..=1.0f64, 0.0..=1.0f64)
        .prop_map(move |(a, b)| {
            // The lower one spread over the decades from 0.01 to 594 months, the upper one between 1% above
            // it and 600.
            let low = 10f64.powf(-2.0 + a * (594f64.log10() + 2.0));
            let high = (low * 1.01 + b * (600.0 - low * 1.01)).min(600.0);
            vec![
                (low_key.clone(), Value::Float(low)),
                (high_key.clone(), Value::Float(high)),
            ]
        })
        .boxed()
}

fn price_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let rs = "price.regime_switching";
    vec![
        one("price.start_price_usd".into(), log_float(1e-3, 1e9)),
        one(
            "price.start_regime".into(),
            prop_oneof![Just(Value::Str("bull".into())), Just(Value::Str("bear".into()))],
        ),
        one("price.jump_probability_per_month".into(), share()),
        one("price.jump_mean_log".into(), float_in(-5.0, 5.0)),
        one("price.jump_sd_log".into(), float_in(0.0, 5.0)),
        one(format!("{rs}.bull_drift_log_per_month"), float_in(-1.0, 1.0)),
        one(format!("{rs}.bear_drift_log_per_month"), float_in(-1.0, 1.0)),
        one(format!("{rs}.bull_volatility_log_per_month"), float_in(0.0, 2.0)),
        one(format!("{rs}.bear_volatility_log_per_month"), float_in(0.0, 2.0)),
        one(format!("{rs}.bull_to_bear_probability_per_month"), share()),
        one(format!("{rs}.bear_to_bull_probability_per_month"), share()),
        // Either process: the bootstrap resamples blocks of history.
        one(
            "price.model".into(),
            prop_oneof![
                3 => Just(Value::Str("regime_switching".into())),
                1 => Just(Value::Str("bootstrap".into())),
            ],
        ),
        one("price.bootstrap.block_months".into(), int_in(1, 120)),
        one("fees.bull_mean_btc_per_block".into(), zero_or_log_float(1e-6, 1000.0)),
        one("fees.bear_mean_btc_per_block".into(), zero_or_log_float(1e-6, 1000.0)),
        one("fees.volatility_log_per_month".into(), float_in(0.0, 3.0)),
        one("fees.persistence_per_month".into(), float_in(0.0, 0.999)),
        one("network.block_height".into(), int_in(0, 13_440_000)),
    ]
}

fn region_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let mut out = vec![
        shares_summing_to_one(REGIONS.iter().map(|r| format!("regions.{r}.fleet_share")).collect()),
        shares_summing_to_one(
            REGIONS
                .iter()
                .map(|r| format!("regions.{r}.key_account_fleet_share"))
                .collect(),
        ),
        shares_summing_to_one(
            REGIONS
                .iter()
                .map(|r| format!("regions.{r}.retail_fleet_share"))
                .collect(),
        ),
    ];
    for r in REGIONS {
        let k = |key: &str| format!("regions.{r}.{key}");
        out.extend([
            one(k("power_price_base_usd_per_kwh"), log_float(1e-4, 100.0)),
            one(k("power_price_volatility_log_per_month"), float_in(0.0, 2.0)),
            one(k("power_price_reversion_per_month"), share()),
            one(k("site_power_price_dispersion_log"), float_in(0.0, 3.0)),
            one(k("opex_share_of_power"), float_in(0.0, 10.0)),
            // Absent (unlimited) stays possible: the key is only set in most cases.
            proptest::option::weighted(0.7, zero_or_log_float(1e-3, 1e9))
                .prop_map(move |v| {
                    v.map(|v| vec![(format!("regions.{r}.hosting_capacity_mw"), v)])
                        .unwrap_or_default()
                })
                .boxed(),
            one(k("capacity_growth_share_per_month"), share()),
            one(k("capacity_build_trigger_share"), share()),
            one(k("ban_hazard_per_month"), share()),
            one(k("ban_share"), share()),
            one(k("tariff_hazard_per_month"), share()),
            one(k("tariff_shock_rate_share"), float_in(0.0, 10.0)),
            one(k("power_shock_hazard_per_month"), share()),
            one(k("power_shock_factor"), log_float(1e-3, 100.0)),
            one(k("power_shock_decay_per_month"), share()),
            one(k("tightening_hazard_per_month"), share()),
            one(k("tightening_opex_increase_share"), float_in(0.0, 10.0)),
            one(k("ai_power_demand_mw_per_year"), zero_or_log_float(1e-3, 1e7)),
            one(k("ai_power_price_elasticity"), float_in(0.0, 10.0)),
        ]);
    }
    out
}

fn segment_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let mut out = vec![shares_summing_to_one(
        SEGMENTS.iter().map(|s| format!("segments.{s}.fleet_share")).collect(),
    )];
    for s in SEGMENTS {
        let k = |key: &str| format!("segments.{s}.{key}");
        out.extend([
            one(k("cash_usd"), signed_log_float(1e15)),
            one(k("credit_line_usd"), zero_or_log_float(1.0, 1e15)),
            one(k("credit_interest_rate_per_month"), share()),
            payback_pair(k("full_appetite_payback_months"), k("max_payback_months")),
            one(k("max_spend_share_per_month"), share()),
            one(k("max_growth_share_of_network_per_month"), float_in(0.0, 10.0)),
            one(k("retire_after_months"), int_in(1, 120)),
            one(k("run_response_share_per_month"), log_float(1e-6, 1.0)),
            one(k("shipping_lag_months"), int_in(0, 24)),
            one(k("futures_preference_share"), share()),
            one(k("prepay_elasticity"), float_in(0.0, 100.0)),
            one(k("delivery_elasticity_per_month"), float_in(0.0, 10.0)),
            one(k("reference_prepay_share"), share()),
            one(k("reference_wait_months"), float_in(0.0, 60.0)),
            one(k("max_terms_demand_factor"), float_in(1.0, 100.0)),
            one(k("price_sensitivity"), float_in(0.0, 100.0)),
            one(k("bull_inflow_usd_per_month"), zero_or_log_float(1.0, 1e13)),
            one(k("churn_share_per_month"), share()),
            one(k("walk_away_rationality"), float_in(0.0, 100.0)),
            one(k("region_choice_sensitivity"), float_in(0.0, 100.0)),
        ]);
    }
    out
}

fn manufacturer_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let mut out = vec![];
    for m in MANUFACTURERS {
        let k = |key: &str| format!("manufacturers.{m}.{key}");
        let st = |key: &str| format!("manufacturers.{m}.strategy.{key}");
        out.extend([
            one(k("cash_usd"), signed_log_float(1e15)),
            one(k("credit_line_usd"), zero_or_log_float(1.0, 1e15)),
            one(k("credit_interest_rate_per_month"), share()),
            capacity_and_wafers_in_flight(k("capacity_units_per_month"), k("initial_wafer_units_per_month")),
            one(k("foundry_allotment_units_per_month"), log_int(1e9)),
            one(k("wafer_cost_share"), share()),
            one(k("fixed_opex_usd_per_month"), zero_or_log_float(1.0, 1e13)),
            one(k("rnd_usd_per_month"), zero_or_log_float(1.0, 1e13)),
            one(k("distress_cost_cut_share"), share()),
            one(k("variable_cost_share"), share()),
            one(k("initial_inventory_units"), log_int(1e10)),
            one(k("self_mining_power_price_usd_per_kwh"), log_float(1e-4, 100.0)),
            one(k("local_assembly_uplift_share"), float_in(0.0, 10.0)),
            one(
                format!("manufacturers.{m}.roadmap[0].unit_cost_usd"),
                log_float(1e-2, 1e9),
            ),
            one(st("futures_share"), share()),
            one(st("delivery_months"), int_in(1, 36)),
            one(st("prepay_share"), share()),
            one(st("wafer_lead_months"), int_in(1, 24)),
            one(st("wafer_prepay_share"), share()),
            one(st("target_payback_months"), log_float(1e-2, 600.0)),
            one(st("min_margin_share"), float_in(-0.9, 10.0)),
            one(st("futures_discount_rate_per_month"), share()),
            one(st("dealer_share_of_spot"), share()),
            one(st("dealer_down_payment_share"), share()),
            one(st("installment_months"), int_in(1, 60)),
            one(st("self_mine"), any::<bool>().prop_map(Value::Bool)),
            one(st("self_mine_share_per_month"), share()),
            one(st("pricing_power_price_usd_per_kwh"), log_float(1e-4, 100.0)),
            one(st("forecast_revision_months"), int_in(1, 12)),
            one(st("forecast_smoothing_months"), float_in(1.0, 120.0)),
            one(st("forecast_trend_weight_share"), share()),
            one(st("forecast_max_outlook_ratio"), float_in(1.0, 100.0)),
            one(st("futures_max_outlook_ratio"), float_in(1.0, 100.0)),
            one(st("plan_adjustment_months"), float_in(1.0, 60.0)),
            one(st("foundry_booking_months"), int_in(0, 24)),
            one(st("foundry_booking_share"), float_in(0.0, 5.0)),
            one(st("take_or_pay_share"), share()),
            one(st("cancellation_penalty_share"), share()),
            one(st("max_price_change_share_per_month"), float_in(0.0, 10.0)),
            one(st("price_band_share"), share()),
            one(st("competitive_weight_share"), share()),
            one(st("stock_price_cut_share_per_month"), share()),
            one(st("shortage_price_rise_share"), float_in(0.0, 10.0)),
            one(st("target_inventory_months"), float_in(0.0, 60.0)),
            one(st("max_delivery_delay_months"), int_in(0, 60)),
        ]);
    }
    // The other lines' keys are written out for the first manufacturer only (base.toml documents them there).
    let k = |key: &str| format!("manufacturers.bitmain.{key}");
    out.extend([
        one(k("hosting_mw"), float_in(0.0, 1e6)),
        one(k("hosting_price_usd_per_mw_month"), float_in(0.0, 1e9)),
        one(k("hosting_cost_usd_per_mw_month"), float_in(0.0, 1e9)),
        one(k("ai_chip_revenue_usd_per_month"), zero_or_log_float(1.0, 1e13)),
        one(k("ai_chip_opex_usd_per_month"), zero_or_log_float(1.0, 1e13)),
        one(k("ai_chip_exit_cost_usd"), zero_or_log_float(1.0, 1e13)),
        one("manufacturers.bitmain.strategy.onshore_share".into(), share()),
    ]);
    out
}

fn market_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    vec![
        one("dealers.cash_usd".into(), signed_log_float(1e15)),
        one("dealers.credit_line_usd".into(), zero_or_log_float(1.0, 1e15)),
        one("dealers.wholesale_discount_share".into(), share()),
        one("dealers.bull_markup_share".into(), float_in(0.0, 10.0)),
        one("dealers.bear_dump_discount_share".into(), share()),
        one("dealers.bull_stock_months".into(), float_in(0.0, 60.0)),
        one("dealers.bear_installment_take_share".into(), share()),
        one("dealers.default_probability_per_month".into(), share()),
        one("dealers.credit_interest_rate_per_month".into(), share()),
        one("dealers.demand_smoothing_share".into(), log_float(1e-6, 1.0)),
        one("secondary_market.used_payback_months".into(), log_float(1e-2, 600.0)),
        one(
            "secondary_market.scrap_value_usd_per_unit".into(),
            zero_or_log_float(1e-2, 1e7),
        ),
        one("secondary_market.dealer_stock_price_impact_share".into(), share()),
        one("secondary_market.retired_sale_share".into(), share()),
        one("secondary_market.retired_price_discount_share".into(), share()),
        one(
            "secondary_market.reference_power_price_usd_per_kwh".into(),
            log_float(1e-4, 100.0),
        ),
        // The longest wait may not be shorter than the relocation lag.
        (0i64..=60, 0i64..=60)
            .prop_map(|(lag, extra)| {
                vec![
                    ("relocation.lag_months".to_string(), Value::Int(lag)),
                    ("relocation.max_wait_months".to_string(), Value::Int(lag + extra)),
                ]
            })
            .boxed(),
        one("relocation.cost_usd_per_unit".into(), zero_or_log_float(1e-2, 1e7)),
        one("relocation.stranded_sale_share".into(), share()),
        one("relocation.stranded_price_discount_share".into(), share()),
        one("relocation.overhang_persistence_per_month".into(), share()),
    ]
}

/// Two values in [0, `hi`] with the first no larger than the second.
fn ordered_pair(low_key: &str, high_key: &str, hi: f64) -> BoxedStrategy<Vec<Change>> {
    let (low_key, high_key) = (low_key.to_string(), high_key.to_string());
    (0.0..=1.0f64, 0.0..=1.0f64)
        .prop_map(move |(a, b)| {
            let low = a * hi;
            let high = low + b * (hi - low);
            vec![
                (low_key.clone(), Value::Float(low)),
                (high_key.clone(), Value::Float(high)),
            ]
        })
        .boxed()
}

/// The key-account firms: how many are drawn, their balance sheets and their lenders.
fn firm_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let key = |k: &str| format!("key_account_firms.{k}");
    vec![
        one(key("n_firms"), int_in(0, 200)),
        one(key("size_dispersion_log"), float_in(0.0, 5.0)),
        one(key("cash_dispersion_log"), float_in(0.0, 5.0)),
        ordered_pair(
            "key_account_firms.min_debt_to_fleet_value_share",
            "key_account_firms.max_debt_to_fleet_value_share",
            10.0,
        ),
        one(key("notes_share_of_debt"), share()),
        one(key("term_loan_months"), int_in(1, 360)),
        one(key("notes_maturity_months"), int_in(1, 360)),
        one(key("debt_interest_rate_per_month"), share()),
        one(key("overhead_usd_per_ths_month"), zero_or_log_float(1e-4, 1e3)),
        ordered_pair(
            "key_account_firms.min_btc_hold_share",
            "key_account_firms.max_btc_hold_share",
            1.0,
        ),
        one(key("equipment_loan_share"), share()),
        one(key("max_loan_to_value_share"), float_in(0.0, 10.0)),
        one(key("site_capex_usd_per_mw"), zero_or_log_float(1.0, 1e8)),
        one(key("bull_equity_raise_share_per_month"), share()),
        one(key("fire_sale_discount_share"), share()),
        one(key("cash_reserve_months"), float_in(0.0, 120.0)),
        one(key("consolidation_spend_share"), share()),
    ]
}

fn hosting_changes() -> Vec<BoxedStrategy<Vec<Change>>> {
    let key = |k: &str| format!("hosting.{k}");
    vec![
        one(key("hurdle_share"), float_in(0.0, 10.0)),
        one(key("max_conversion_share_per_month"), share()),
        one(key("max_converted_share"), share()),
        one(key("operating_cost_share"), share()),
        one(key("redeploy_share"), share()),
        one(key("machine_budget_cut_share"), share()),
        one(key("ring_fenced_share"), share()),
    ]
}

/// A hosting contract on offer as TOML, its window overlapping the months simulated.
fn hosting_contract(horizon_months: i64) -> BoxedStrategy<String> {
    let month = |k: i64| {
        let ordinal = 2025 * 12 + k;
        format!("{:04}-{:02}", ordinal / 12, ordinal % 12 + 1)
    };
    let region = proptest::sample::select(REGIONS.to_vec());
    let window = (-12..horizon_months, 0i64..48).prop_map(|(from, length)| (from, (from + length).max(0)));
    (
        region,
        window,
        log_float(1e-3, 1e6),
        zero_or_log_float(1.0, 1e8),
        (1i64..=360, 0i64..=60),
        zero_or_log_float(1.0, 1e9),
        share(),
    )
        .prop_map(move |(r, (from, until), mw, price, (term, lag), cost, cancel)| {
            format!(
                "[[hosting.contracts]]\nregion = \"{r}\"\nfrom_month = \"{}\"\nuntil_month = \"{}\"\n\
                 offered_mw = {}\nprice_usd_per_mw_year = {}\nterm_months = {term}\n\
                 conversion_cost_usd_per_mw = {}\nconversion_lag_months = {lag}\n\
                 cancellation_hazard_per_month = {}\n",
                month(from),
                month(until),
                toml_float(&mw),
                toml_float(&price),
                toml_float(&cost),
                toml_float(&cancel),
            )
        })
        .boxed()
}

/// A scripted event as TOML, in one of the months simulated.
fn event(horizon_months: i64) -> BoxedStrategy<String> {
    let month = (0..horizon_months).prop_map(|k| {
        let ordinal = 2025 * 12 + k;
        format!("{:04}-{:02}", ordinal / 12, ordinal % 12 + 1)
    });
    let region = proptest::sample::select(REGIONS.to_vec());
    let kind = prop_oneof![
        log_float(1e-6, 1e6).prop_map(|f| format!("kind = \"price_shock\"\nfactor = {}", toml_float(&f))),
        prop_oneof![Just("bull"), Just("bear")].prop_map(|r| format!("kind = \"set_regime\"\nregime = \"{r}\"")),
        (region.clone(), log_float(1e-6, 1e6), share()).prop_map(|(r, f, d)| format!(
            "kind = \"power_shock\"\nregion = \"{r}\"\nfactor = {}\ndecay_per_month = {}",
            toml_float(&f),
            toml_float(&d)
        )),
        (region.clone(), share())
            .prop_map(|(r, s)| format!("kind = \"ban\"\nregion = \"{r}\"\nshare = {}", toml_float(&s))),
        (region.clone(), float_in(0.0, 10.0)).prop_map(|(r, x)| format!(
            "kind = \"tariff\"\nregion = \"{r}\"\norigin = \"china\"\nrate_share = {}",
            toml_float(&x)
        )),
        (region, float_in(0.0, 10.0)).prop_map(|(r, x)| format!(
            "kind = \"tightening\"\nregion = \"{r}\"\nopex_increase_share = {}",
            toml_float(&x)
        )),
        (share(), 1i64..=120).prop_map(|(f, d)| format!(
            "kind = \"foundry_shortage\"\nfactor = {}\nduration_months = {d}",
            toml_float(&f)
        )),
    ];
    (month, kind)
        .prop_map(|(month, kind)| format!("[[events]]\nmonth = \"{month}\"\n{kind}\n"))
        .boxed()
}

/// A float as TOML writes it (always with a decimal point or exponent, round-tripping exactly).
fn toml_float(value: &Value) -> String {
    let Value::Float(x) = value else {
        unreachable!("floats only")
    };
    format!("{x:e}")
}

/// A production line of the first manufacturer as TOML, outside its origin, starting in a month simulated.
fn production_line(horizon_months: i64) -> BoxedStrategy<String> {
    (
        proptest::sample::select(vec!["us", "malaysia"]),
        0u64..=1_000_000,
        0.0..=10.0f64,
        0..horizon_months,
        prop_oneof![Just(0.0), 1.0..=1e9f64],
    )
        .prop_map(|(origin, capacity, uplift, from, fixed)| {
            let ordinal = 2025 * 12 + from;
            format!(
                "[[manufacturers.production_lines]]\norigin = \"{origin}\"\ncapacity_units_per_month = {capacity}\n\
                 unit_cost_uplift_share = {uplift:e}\nfrom_month = \"{:04}-{:02}\"\nfixed_cost_usd_per_month = {fixed:e}\n\n",
                ordinal / 12,
                ordinal % 12 + 1
            )
        })
        .boxed()
}

/// A generated scenario: a horizon, changes by parameter path, scripted events and the first manufacturer's
/// production lines outside its origin.
#[derive(Debug, Clone)]
struct Case {
    horizon_months: i64,
    changes: Vec<Change>,
    events: Vec<String>,
    lines: Vec<String>,
}

fn case() -> impl Strategy<Value = Case> {
    let mut groups = price_changes();
    groups.extend(region_changes());
    groups.extend(segment_changes());
    groups.extend(manufacturer_changes());
    groups.extend(market_changes());
    groups.extend(firm_changes());
    groups.extend(hosting_changes());
    (1..=MAX_HORIZON_MONTHS).prop_flat_map(move |horizon_months| {
        (
            groups.clone(),
            proptest::collection::vec(event(horizon_months), 0..4),
            proptest::collection::vec(hosting_contract(horizon_months), 0..3),
            proptest::collection::vec(production_line(horizon_months), 0..3),
        )
            .prop_map(move |(groups, mut events, contracts, lines)| {
                // Hosting contracts go at the end of the text like events: tables of arrays of tables.
                events.extend(contracts);
                Case {
                    horizon_months,
                    changes: groups.into_iter().flatten().collect(),
                    events,
                    lines,
                }
            })
    })
}

/// The scenario of a case; it must validate, since every value was drawn inside its valid range.
fn build(case: &Case) -> Scenario {
    let path = scenario_path("base");
    // The lines go into the first manufacturer's entry, before its strategy table.
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[manufacturers.strategy]",
        &(case.lines.concat() + "[manufacturers.strategy]"),
        1,
    ) + "\n"
        + &case.events.join("\n");
    let (mut tree, errors) = raw::parse(&text);
    assert!(errors.is_empty(), "{errors:?}");
    let mut changes: Vec<(&str, Value)> = case.changes.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    changes.push(("simulation.horizon_months", Value::Int(case.horizon_months)));
    apply(&mut tree, &changes);
    let base_dir = path.parent().unwrap().to_path_buf();
    Scenario::from_tree(tree, &text, "generated.toml", &base_dir, Problems::default())
        .unwrap_or_else(|e| panic!("a generated scenario must be valid:\n{e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn valid_scenarios_simulate_without_panics_non_finite_numbers_or_failed_checks(case in case()) {
        let scenario = build(&case);
        let params = &scenario.params;
        for path_idx in 0..PATHS_PER_CASE {
            let mut rows = Collect::default();
            // Guarded, so that a panic is reported as this case's failure with its message, like the CLI does.
            let summary = simulate_path_guarded(params, path_idx, &mut rows);
            prop_assert!(summary.violation.is_none(), "path {}: {:?}", path_idx, summary.violation);
            prop_assert_eq!(rows.network.len() as u32, params.simulation.horizon_months);
            assert_all_finite(&rows);
            assert_summary_finite(&summary);
        }
    }
}

#[test]
fn the_non_finite_scan_finds_every_kind_of_non_finite_field() {
    let debug = "NetworkRow { path_idx: 0, price_usd: NaN, difficulty: inf, fees_btc: -inf, capacity_mw: Some(inf), hashrate_ehs: 1.5, regime: Some(Bull), detail: \"info: fine\" }";
    assert_eq!(
        non_finite_fields(debug),
        vec![
            "price_usd = NaN",
            "difficulty = inf",
            "fees_btc = -inf",
            "capacity_mw = inf"
        ]
    );
    assert!(non_finite_fields("DealerRow { cash_usd: 1e300, units_sold: 3 }").is_empty());
}
