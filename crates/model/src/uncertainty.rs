//! Parameter uncertainty: behaviour parameters drawn per path from declared ranges (`[[uncertainty]]`).
//!
//! What the model does not know (how fast buyers grow their fleets, how manufacturers price) widens its bands
//! only if each path draws it. A path's draws come from its own stream (`Stream::Uncertainty`), keyed by
//! (seed, path index) alone, so the same path draws the same values in every cell of a sweep: strategies are
//! compared on common parameter draws as they are on common prices.
#![warn(missing_docs)]

use rand::RngExt;

use crate::params::{
    DealerParams, KeyAccountFirmsParams, ManufacturerParams, ManufacturerStrategy, NetworkParams, Params, RegionParams,
    RelocationParams, SecondaryMarketParams, SegmentParams,
};
use crate::rng::{Stream, stream_rng};

/// Lists a parameter struct's `f64` fields that a scenario may declare uncertain.
macro_rules! uncertain_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $ty {
            /// Names of the parameters of this table a scenario may declare uncertain.
            pub const UNCERTAIN_FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The parameter `name` of [`Self::UNCERTAIN_FIELDS`], to set a path's draw.
            pub fn uncertain_field_mut(&mut self, name: &str) -> Option<&mut f64> {
                match name {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// The value of the parameter `name` of [`Self::UNCERTAIN_FIELDS`].
            pub fn uncertain_field(&self, name: &str) -> Option<f64> {
                match name {
                    $(stringify!($field) => Some(self.$field),)*
                    _ => None,
                }
            }
        }
    };
}

uncertain_fields!(SegmentParams {
    credit_interest_rate_per_month,
    full_appetite_payback_months,
    max_payback_months,
    max_spend_share_per_month,
    max_growth_share_of_network_per_month,
    run_response_share_per_month,
    futures_preference_share,
    prepay_elasticity,
    delivery_elasticity_per_month,
    reference_prepay_share,
    reference_wait_months,
    max_terms_demand_factor,
    price_sensitivity,
    bull_inflow_usd_per_month,
    churn_share_per_month,
    walk_away_rationality,
    region_choice_sensitivity,
});

uncertain_fields!(ManufacturerStrategy {
    target_payback_months,
    min_margin_share,
    futures_discount_rate_per_month,
    futures_max_outlook_ratio,
    dealer_share_of_spot,
    self_mine_share_per_month,
    pricing_power_price_usd_per_kwh,
    forecast_smoothing_months,
    forecast_trend_weight_share,
    forecast_max_outlook_ratio,
    plan_adjustment_months,
    foundry_booking_share,
    take_or_pay_share,
    cancellation_penalty_share,
    max_price_change_share_per_month,
    price_band_share,
    competitive_weight_share,
    stock_price_cut_share_per_month,
    shortage_price_rise_share,
    target_inventory_months,
});

uncertain_fields!(ManufacturerParams {
    wafer_cost_share,
    distress_cost_cut_share,
    variable_cost_share,
});

uncertain_fields!(KeyAccountFirmsParams {
    debt_interest_rate_per_month,
    overhead_usd_per_ths_month,
    equipment_loan_share,
    max_loan_to_value_share,
    site_capex_usd_per_mw,
    bull_equity_raise_share_per_month,
    fire_sale_discount_share,
    cash_reserve_months,
    consolidation_spend_share,
});

uncertain_fields!(DealerParams {
    wholesale_discount_share,
    bull_markup_share,
    bear_dump_discount_share,
    bull_stock_months,
    bear_installment_take_share,
    default_probability_per_month,
    demand_smoothing_share,
});

uncertain_fields!(SecondaryMarketParams {
    used_payback_months,
    dealer_stock_price_impact_share,
    reference_power_price_usd_per_kwh,
    retired_sale_share,
    retired_price_discount_share,
});

uncertain_fields!(RelocationParams {
    cost_usd_per_unit,
    stranded_sale_share,
    stranded_price_discount_share,
    overhang_persistence_per_month,
});

uncertain_fields!(NetworkParams {
    difficulty_foresight_share
});

uncertain_fields!(RegionParams {
    power_price_base_usd_per_kwh,
    opex_share_of_power,
    capacity_growth_share_per_month,
    capacity_build_trigger_share,
});

/// Which table an uncertain parameter is in; entries of arrays by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `segments.<key_account|retail>`, by [`crate::params::Segment::idx`].
    Segment(usize),
    /// `manufacturers.<name>.strategy`.
    Strategy(usize),
    /// `manufacturers.<name>`.
    Manufacturer(usize),
    /// `regions.<name>`.
    Region(usize),
    /// `key_account_firms`.
    KeyAccountFirms,
    /// `dealers`.
    Dealers,
    /// `secondary_market`.
    SecondaryMarket,
    /// `relocation`.
    Relocation,
    /// `network`.
    Network,
}

/// How a parameter is drawn between its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// Uniform on [min, max].
    Uniform,
    /// Uniform in log terms on [min, max] (both above zero): every factor of two equally likely.
    LogUniform,
}

/// One declared uncertain parameter: where it is, and how it is drawn. One draw per path sets every place.
#[derive(Clone, Debug, PartialEq)]
pub struct UncertainParam {
    /// The parameter as the scenario writes it, e.g. `manufacturers.*.strategy.target_payback_months`.
    pub name: String,
    /// Every place the draw is written to (a `*` names every entry of an array).
    pub targets: Vec<(Table, &'static str)>,
    /// How it is drawn.
    pub distribution: Distribution,
    /// Lower bound of the draw.
    pub min: f64,
    /// Upper bound of the draw (`>= min`).
    pub max: f64,
}

impl UncertainParam {
    /// The value at quantile `u` in [0, 1) of the draw.
    pub fn at_quantile(&self, u: f64) -> f64 {
        match self.distribution {
            Distribution::Uniform => self.min + u * (self.max - self.min),
            Distribution::LogUniform => (self.min.ln() + u * (self.max.ln() - self.min.ln())).exp(),
        }
        .clamp(self.min, self.max)
    }
}

/// The place `target` of `params`.
fn field_mut<'a>(params: &'a mut Params, (table, field): (Table, &str)) -> Option<&'a mut f64> {
    match table {
        Table::Segment(i) => params.segments.get_mut(i)?.uncertain_field_mut(field),
        Table::Strategy(i) => params.manufacturers.get_mut(i)?.strategy.uncertain_field_mut(field),
        Table::Manufacturer(i) => params.manufacturers.get_mut(i)?.uncertain_field_mut(field),
        Table::Region(i) => params.regions.get_mut(i)?.uncertain_field_mut(field),
        Table::KeyAccountFirms => params.key_account_firms.uncertain_field_mut(field),
        Table::Dealers => params.dealers.uncertain_field_mut(field),
        Table::SecondaryMarket => params.secondary_market.uncertain_field_mut(field),
        Table::Relocation => params.relocation.uncertain_field_mut(field),
        Table::Network => params.network.uncertain_field_mut(field),
    }
}

/// The value at `target` of `params`; `None` when the table has no such entry or field.
pub fn value_at(params: &Params, (table, field): (Table, &str)) -> Option<f64> {
    match table {
        Table::Segment(i) => params.segments.get(i)?.uncertain_field(field),
        Table::Strategy(i) => params.manufacturers.get(i)?.strategy.uncertain_field(field),
        Table::Manufacturer(i) => params.manufacturers.get(i)?.uncertain_field(field),
        Table::Region(i) => params.regions.get(i)?.uncertain_field(field),
        Table::KeyAccountFirms => params.key_account_firms.uncertain_field(field),
        Table::Dealers => params.dealers.uncertain_field(field),
        Table::SecondaryMarket => params.secondary_market.uncertain_field(field),
        Table::Relocation => params.relocation.uncertain_field(field),
        Table::Network => params.network.uncertain_field(field),
    }
}

/// Writes `value` at `target` of `params`; false when the table has no such entry or field.
pub fn set_value(params: &mut Params, target: (Table, &str), value: f64) -> bool {
    match field_mut(params, target) {
        Some(field) => {
            *field = value;
            true
        }
        None => false,
    }
}

/// Path `path_idx`'s draw of every uncertain parameter, in declaration order.
pub fn draws(params: &Params, path_idx: u32) -> Vec<f64> {
    let mut rng = stream_rng(params.simulation.seed, path_idx as u64, Stream::Uncertainty);
    params
        .uncertainty
        .iter()
        .map(|p| p.at_quantile(rng.random::<f64>()))
        .collect()
}

/// `params` with `values` (one per uncertain parameter, in declaration order) written to their places.
pub fn with_values(params: &Params, values: &[f64]) -> Params {
    let mut drawn = params.clone();
    for (p, &value) in params.uncertainty.iter().zip(values) {
        for &target in &p.targets {
            if let Some(field) = field_mut(&mut drawn, target) {
                *field = value;
            }
        }
    }
    drawn
}

/// The parameters path `path_idx` runs with: `params` itself when nothing is uncertain.
pub fn for_path(params: &Params, path_idx: u32) -> Option<Params> {
    (!params.uncertainty.is_empty()).then(|| with_values(params, &draws(params, path_idx)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn declared(params: &mut Params) {
        params.uncertainty = vec![
            UncertainParam {
                name: "segments.*.max_spend_share_per_month".into(),
                targets: vec![
                    (Table::Segment(0), "max_spend_share_per_month"),
                    (Table::Segment(1), "max_spend_share_per_month"),
                ],
                distribution: Distribution::Uniform,
                min: 0.1,
                max: 0.5,
            },
            UncertainParam {
                name: "network.difficulty_foresight_share".into(),
                targets: vec![(Table::Network, "difficulty_foresight_share")],
                distribution: Distribution::LogUniform,
                min: 0.25,
                max: 1.0,
            },
        ];
    }

    #[test]
    fn each_path_draws_within_the_bounds_and_writes_every_place() {
        let mut params = fixtures::small();
        declared(&mut params);
        let mut spend = vec![];
        for path_idx in 0..200 {
            let drawn = for_path(&params, path_idx).unwrap();
            let (a, b) = (
                drawn.segments[0].max_spend_share_per_month,
                drawn.segments[1].max_spend_share_per_month,
            );
            assert_eq!(a, b, "one draw sets both segments");
            assert!((0.1..=0.5).contains(&a));
            assert!((0.25..=1.0).contains(&drawn.network.difficulty_foresight_share));
            spend.push(a);
        }
        // The draws spread over the range: both ends' fifths are reached.
        assert!(spend.iter().any(|v| *v < 0.18) && spend.iter().any(|v| *v > 0.42));
        // Log-uniform: the median of draws on [0.25, 1] is near 0.5, not 0.625.
        let mut foresight: Vec<f64> = (0..400).map(|i| draws(&params, i)[1]).collect();
        foresight.sort_by(f64::total_cmp);
        assert!((foresight[200] - 0.5).abs() < 0.06, "{}", foresight[200]);
    }

    #[test]
    fn draws_depend_on_seed_and_path_only() {
        let mut params = fixtures::small();
        declared(&mut params);
        let a = draws(&params, 3);
        let mut other_strategy = params.clone();
        other_strategy.manufacturers[0].strategy.prepay_share = 0.9;
        assert_eq!(draws(&other_strategy, 3), a, "common draws across strategies");
        assert_ne!(draws(&params, 4), a);
        params.simulation.seed += 1;
        assert_ne!(draws(&params, 3), a);
        // Nothing uncertain: the path runs with the scenario's own parameters.
        params.uncertainty.clear();
        assert!(for_path(&params, 0).is_none());
    }

    #[test]
    fn every_listed_field_is_reachable() {
        let mut params = fixtures::small();
        for name in SegmentParams::UNCERTAIN_FIELDS {
            assert!(params.segments[0].uncertain_field_mut(name).is_some(), "{name}");
        }
        for name in ManufacturerStrategy::UNCERTAIN_FIELDS {
            assert!(
                params.manufacturers[0].strategy.uncertain_field_mut(name).is_some(),
                "{name}"
            );
        }
        assert!(params.dealers.uncertain_field_mut("no_such_field").is_none());
    }
}
