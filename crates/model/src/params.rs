//! Validated model parameters: what a scenario file becomes once every value is checked.
//!
//! These types carry no spans and no serde: the scenario layer (`crate::scenario`) converts the
//! TOML text into them, so the model never sees malformed input.

use crate::units::{Month, YearMonth};

#[derive(Clone, Debug)]
pub struct Params {
    pub simulation: SimulationParams,
    pub price: PriceParams,
    pub fees: FeeParams,
    pub network: NetworkParams,
    pub regions: Vec<RegionParams>,
    pub generations: Vec<GenerationParams>,
    pub segments: [SegmentParams; 2],
    /// Starting installed machines per cohort, indexed like `Fleet` cohorts.
    pub initial_fleet: Vec<InitialCohort>,
    pub manufacturers: Vec<ManufacturerParams>,
    pub dealers: DealerParams,
    pub secondary_market: SecondaryMarketParams,
    pub relocation: RelocationParams,
    /// Where machines are made: manufacturers' origins and the origins tariffs name.
    pub origins: Vec<String>,
    pub events: Vec<ScriptedEvent>,
}

#[derive(Clone, Debug)]
pub struct SimulationParams {
    pub name: String,
    pub start: YearMonth,
    pub horizon_months: u32,
    pub n_paths: u32,
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Regime {
    Bull,
    Bear,
}

impl Regime {
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Bull => "bull",
            Regime::Bear => "bear",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PriceParams {
    pub start_price_usd: f64,
    pub start_regime: Regime,
    pub process: PriceProcess,
    /// Optional jumps added to the monthly log-return in either process.
    pub jump_probability_per_month: f64,
    pub jump_mean_log: f64,
    pub jump_sd_log: f64,
}

#[derive(Clone, Debug)]
pub enum PriceProcess {
    RegimeSwitching(RegimeSwitchingParams),
    Bootstrap(BootstrapParams),
    /// The historical month-end close of each simulated month, replayed.
    Historical(HistoricalPriceParams),
}

#[derive(Clone, Debug)]
pub struct HistoricalPriceParams {
    /// Log of the month-end close, one per simulated month.
    pub log_prices: Vec<f64>,
    /// Regime label of each simulated month (from its trailing return).
    pub regimes: Vec<Regime>,
}

#[derive(Clone, Debug)]
pub struct RegimeSwitchingParams {
    pub bull_drift_log_per_month: f64,
    pub bull_volatility_log_per_month: f64,
    pub bear_drift_log_per_month: f64,
    pub bear_volatility_log_per_month: f64,
    pub bull_to_bear_probability_per_month: f64,
    pub bear_to_bull_probability_per_month: f64,
}

#[derive(Clone, Debug)]
pub struct BootstrapParams {
    /// Historical monthly log-returns, oldest first.
    pub log_returns: Vec<f64>,
    /// Regime label of each historical month (from its trailing return).
    pub regimes: Vec<Regime>,
    pub block_months: u32,
}

#[derive(Clone, Debug)]
pub struct FeeParams {
    /// Historical fees per block, one per simulated month, replacing the regime means when present.
    pub history_btc_per_block: Option<Vec<f64>>,
    pub bull_mean_btc_per_block: f64,
    pub bear_mean_btc_per_block: f64,
    pub volatility_log_per_month: f64,
    pub persistence_per_month: f64,
}

#[derive(Clone, Debug)]
pub struct NetworkParams {
    pub block_height: u64,
    pub difficulty: f64,
    /// Installed fleet hashrate at the start; the starting fleet is sized from it.
    pub hashrate_ehs: f64,
}

#[derive(Clone, Debug)]
pub struct RegionParams {
    pub name: String,
    pub fleet_share: f64,
    pub power_price_base_usd_per_kwh: f64,
    pub power_price_volatility_log_per_month: f64,
    pub power_price_reversion_per_month: f64,
    /// Spread of site power prices inside the region (log-normal sigma).
    pub site_power_price_dispersion_log: f64,
    /// Non-power operating cost (hosting, staff, maintenance) as a share of the power cost.
    pub opex_share_of_power: f64,
    /// Share of each segment's starting fleet in this region (key accounts, retail).
    pub segment_fleet_shares: [f64; 2],
    /// Power the region's sites can host, in MW (infinite when unlimited).
    pub hosting_capacity_mw: f64,
    /// Capacity grows by this share a month while the region is at least `capacity_build_trigger_share` full.
    pub capacity_growth_share_per_month: f64,
    pub capacity_build_trigger_share: f64,
    /// Import tariffs in force at the start, by origin index: the landed price rises by the rate.
    pub import_tariffs: Vec<(usize, f64)>,
    pub hazards: RegionHazards,
}

/// Monthly chances of random regulation shocks in a region, and their sizes.
#[derive(Clone, Debug, Default)]
pub struct RegionHazards {
    pub ban_per_month: f64,
    /// Share of the running machines a random ban stops.
    pub ban_share: f64,
    pub tariff_per_month: f64,
    pub tariff_rate_share: f64,
    /// Origin the random tariff hits.
    pub tariff_origin_idx: usize,
    pub power_shock_per_month: f64,
    pub power_shock_factor: f64,
    pub power_shock_decay_per_month: f64,
    pub tightening_per_month: f64,
    /// A tightening raises the region's opex share of power by this much.
    pub tightening_opex_increase_share: f64,
}

impl RegionHazards {
    pub fn any(&self) -> bool {
        self.ban_per_month > 0.0
            || self.tariff_per_month > 0.0
            || self.power_shock_per_month > 0.0
            || self.tightening_per_month > 0.0
    }
}

/// What happens to machines stopped by a ban.
#[derive(Clone, Debug)]
pub struct RelocationParams {
    /// Months from the ban until stopped machines can run elsewhere.
    pub lag_months: u32,
    pub cost_usd_per_unit: f64,
    /// Machines that find no capacity within this many months of the ban are sold or scrapped.
    pub max_wait_months: u32,
    /// Share of stranded machines sold on the used market (the rest is scrapped).
    pub stranded_sale_share: f64,
    /// Discount on the used price at which stranded machines sell.
    pub stranded_price_discount_share: f64,
    /// How much of the stranded overhang still weighs on used prices a month later.
    pub overhang_persistence_per_month: f64,
}

#[derive(Clone, Debug)]
pub struct GenerationParams {
    pub name: String,
    pub release: YearMonth,
    /// Release relative to the start month (negative for generations already on the market).
    pub release_month_offset: i64,
    pub hashrate_ths: f64,
    pub power_w: f64,
    pub price_new_usd: f64,
}

impl GenerationParams {
    pub fn efficiency_jth(&self) -> f64 {
        self.power_w / self.hashrate_ths
    }

    pub fn is_released(&self, month: Month) -> bool {
        self.release_month_offset <= month.0 as i64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    KeyAccount = 0,
    Retail = 1,
}

impl Segment {
    pub const ALL: [Segment; 2] = [Segment::KeyAccount, Segment::Retail];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::KeyAccount => "key_account",
            Segment::Retail => "retail",
        }
    }

    pub fn idx(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug)]
pub struct SegmentParams {
    /// Share of the starting installed fleet held by this segment.
    pub fleet_share: f64,
    pub cash_usd: f64,
    pub credit_line_usd: f64,
    pub credit_interest_rate_per_month: f64,
    /// Payback at or below which the segment spends its full monthly budget.
    pub full_appetite_payback_months: f64,
    /// Payback at or above which the segment buys nothing.
    pub max_payback_months: f64,
    /// Share of available funds (cash plus unused credit) the segment may commit in one month.
    pub max_spend_share_per_month: f64,
    /// Cap on new hashrate ordered in a month, as a share of the network's installed hashrate.
    pub max_growth_share_of_network_per_month: f64,
    /// Months a machine may stay unprofitable (even after the coming difficulty adjustment) before it is retired.
    pub retire_after_months: u32,
    /// Share of the gap between the machines running and those that would pay their power that closes in a
    /// month (power contracts and hosting terms make switching sluggish); 1 switches at once.
    pub run_response_share_per_month: f64,
    pub shipping_lag_months: u32,
    /// Share of the segment's purchases it wants as futures (the rest spot).
    pub futures_preference_share: f64,
    /// How strongly a higher prepayment share lowers futures demand (per unit of prepay share).
    pub prepay_elasticity: f64,
    /// How strongly a longer mean wait lowers futures demand (per month of wait).
    pub delivery_elasticity_per_month: f64,
    pub reference_prepay_share: f64,
    pub reference_wait_months: f64,
    /// The most that favourable terms (a low prepayment, a short wait) can multiply futures demand by.
    pub max_terms_demand_factor: f64,
    /// How strongly buyers prefer the offer with the shortest payback (0 = split by availability).
    pub price_sensitivity: f64,
    /// New capital entering in bull regimes (retail entry), per month.
    pub bull_inflow_usd_per_month: f64,
    /// Share of the fleet sold off per month while the segment's cash is below zero.
    pub churn_share_per_month: f64,
    /// Walk-away steepness: probability = 1 - exp(-rationality * (balance / value - 1)).
    pub walk_away_rationality: f64,
    /// How strongly new machines go to the regions with the best margin (0 = by fleet share alone).
    pub region_choice_sensitivity: f64,
}

#[derive(Clone, Debug)]
pub struct InitialCohort {
    pub segment: Segment,
    pub region_idx: usize,
    pub generation_idx: usize,
    pub units: u64,
}

#[derive(Clone, Debug)]
pub struct RoadmapEntry {
    pub generation_idx: usize,
    pub sell_from: YearMonth,
    pub sell_from_month_offset: i64,
    pub unit_cost_usd: f64,
}

#[derive(Clone, Debug)]
pub struct ManufacturerStrategy {
    pub futures_share: f64,
    pub delivery_months: u32,
    pub prepay_share: f64,
    pub wafer_lead_months: u32,
    pub wafer_prepay_share: f64,
    pub target_payback_months: f64,
    pub min_margin_share: f64,
    /// Futures price relative to spot: 0.05 means futures cost 5% more.
    pub futures_premium_share: f64,
    /// Share of spot supply offered to channel dealers.
    pub dealer_share_of_spot: f64,
    pub dealer_down_payment_share: f64,
    pub installment_months: u32,
    pub self_mine: bool,
    /// Share of the unsold stock moved into self-mining per month while the market price is below cost.
    pub self_mine_share_per_month: f64,
    /// Power price used to compute a buyer's payback when pricing.
    pub pricing_power_price_usd_per_kwh: f64,
    /// Output plan: full capacity at or below this buyer payback ...
    pub plan_full_payback_months: f64,
    /// ... and the minimum utilisation at or above this one.
    pub plan_min_payback_months: f64,
    pub plan_min_utilisation_share: f64,
    /// Finished stock the plan aims to hold, in months of capacity.
    pub target_inventory_months: f64,
    /// Buyers cancel a futures batch (refund) once it is this many months late.
    pub max_delivery_delay_months: u32,
}

#[derive(Clone, Debug)]
pub struct ManufacturerParams {
    pub name: String,
    pub cash_usd: f64,
    pub credit_line_usd: f64,
    pub credit_interest_rate_per_month: f64,
    pub capacity_units_per_month: u64,
    /// Share of the unit cost paid to the foundry for wafers (the rest is assembly, paid at production).
    pub wafer_cost_share: f64,
    pub fixed_opex_usd_per_month: f64,
    pub rnd_usd_per_month: f64,
    /// Opex and R&D are cut by this share while the manufacturer is distressed.
    pub distress_cost_cut_share: f64,
    /// Share of opex and R&D that scales with planned utilisation (the rest is fixed).
    pub variable_cost_share: f64,
    pub initial_inventory_units: u64,
    /// Wafer lots already in flight at the start: this many units arriving in each of the first
    /// `wafer_lead_months` months (their foundry prepayment was paid before the start).
    pub initial_wafer_units_per_month: u64,
    pub self_mining_power_price_usd_per_kwh: f64,
    /// Where its machines are made (an index into `Params::origins`): tariffs on that origin apply.
    pub origin_idx: usize,
    /// Regions where it assembles locally: no import tariff there, but a price uplift instead.
    pub local_assembly_region_idxs: Vec<usize>,
    pub local_assembly_uplift_share: f64,
    pub roadmap: Vec<RoadmapEntry>,
    pub strategy: ManufacturerStrategy,
}

#[derive(Clone, Debug)]
pub struct DealerParams {
    pub cash_usd: f64,
    pub credit_line_usd: f64,
    /// Discount dealers get from the manufacturer's spot price.
    pub wholesale_discount_share: f64,
    /// Mark-up over the manufacturer's price when reselling in bull regimes.
    pub bull_markup_share: f64,
    /// Discount below the manufacturer's price when dumping in bear regimes.
    pub bear_dump_discount_share: f64,
    /// Stock dealers aim to hold in bull regimes, in months of recent retail demand.
    pub bull_stock_months: f64,
    /// Share of a manufacturer's excess stock dealers take on installment per bear month.
    pub bear_installment_take_share: f64,
    /// Monthly probability that a dealer defaults on an installment contract that is under water.
    pub default_probability_per_month: f64,
    pub credit_interest_rate_per_month: f64,
    /// Weight of the latest month in the dealers' smoothed demand estimate.
    pub demand_smoothing_share: f64,
}

#[derive(Clone, Debug)]
pub struct SecondaryMarketParams {
    /// Payback a buyer of a used machine demands.
    pub used_payback_months: f64,
    pub scrap_value_usd_per_unit: f64,
    /// How far dealers' excess stock pushes used prices down (at a stock of one month of demand).
    pub dealer_stock_price_impact_share: f64,
    pub reference_power_price_usd_per_kwh: f64,
}

#[derive(Clone, Debug)]
pub struct ScriptedEvent {
    pub month: Month,
    pub at: YearMonth,
    pub kind: ScriptedEventKind,
}

#[derive(Clone, Debug)]
pub enum ScriptedEventKind {
    /// The BTC price is multiplied by `factor` at the start of the month.
    PriceShock { factor: f64 },
    /// The regime is forced (the chain continues from it).
    SetRegime { regime: Regime },
    /// A region's power price is multiplied by `factor`, decaying back at `decay_per_month`.
    PowerShock {
        region_idx: usize,
        factor: f64,
        decay_per_month: f64,
    },
    /// A share of a region's running machines must stop at once; they relocate or are sold or scrapped.
    Ban { region_idx: usize, share: f64 },
    /// The landed price of machines from an origin rises by `rate_share` in a region from now on.
    Tariff {
        region_idx: usize,
        origin_idx: usize,
        rate_share: f64,
    },
    /// A region's operating cost rises: its opex share of power goes up by `opex_increase_share`.
    Tightening {
        region_idx: usize,
        opex_increase_share: f64,
    },
}

impl ScriptedEventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ScriptedEventKind::PriceShock { .. } => "price_shock",
            ScriptedEventKind::SetRegime { .. } => "set_regime",
            ScriptedEventKind::PowerShock { .. } => "power_shock",
            ScriptedEventKind::Ban { .. } => "ban",
            ScriptedEventKind::Tariff { .. } => "tariff",
            ScriptedEventKind::Tightening { .. } => "tightening",
        }
    }
}
