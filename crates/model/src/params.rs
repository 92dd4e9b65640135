//! Validated model parameters: what a scenario file becomes once every value is checked.
//!
//! These types carry no spans and no serde: the scenario layer (`crate::scenario`) converts the
//! TOML text into them, so the model never sees malformed input.
//!
//! Each field's docs give its meaning and unit, the range validation enforces and, where the key may be
//! left out of a scenario, its default. The commented `scenarios/base.toml` is the reference for the keys.
#![warn(missing_docs)]

use crate::units::{Month, YearMonth};

/// A whole validated scenario: one value of this type drives every path of a run.
#[derive(Clone, Debug)]
pub struct Params {
    /// Run settings: name, start month, horizon, number of paths and seed (`[simulation]`).
    pub simulation: SimulationParams,
    /// The BTC price process (`[price]`).
    pub price: PriceParams,
    /// The transaction-fee process (`[fees]`).
    pub fees: FeeParams,
    /// The network at the start: block height, difficulty and hashrate (`[network]`).
    pub network: NetworkParams,
    /// Mining regions, in scenario order; a region's index is its `region_idx` everywhere in the model.
    pub regions: Vec<RegionParams>,
    /// Hardware generations, in scenario order; a generation's index is its `generation_idx`.
    pub generations: Vec<GenerationParams>,
    /// Buyer segments, indexed by [`Segment::idx`]: key accounts first, then retail.
    pub segments: [SegmentParams; 2],
    /// Starting installed machines per cohort, indexed like `Fleet` cohorts.
    pub initial_fleet: Vec<InitialCohort>,
    /// Manufacturers, in scenario order; may be empty (a backtest without makers).
    pub manufacturers: Vec<ManufacturerParams>,
    /// The channel dealers, one aggregated population (`[dealers]`; every key has a default).
    pub dealers: DealerParams,
    /// How the used-machine market prices machines (`[secondary_market]`).
    pub secondary_market: SecondaryMarketParams,
    /// What happens to machines stopped by a ban (`[relocation]`; every key has a default).
    pub relocation: RelocationParams,
    /// Key accounts as firms with balance sheets (`[key_account_firms]`; without it the key accounts are one
    /// pooled book that cannot fail).
    pub key_account_firms: KeyAccountFirmsParams,
    /// AI/HPC hosting contracts on offer and how the key accounts decide to convert sites to them
    /// (`[hosting]` and `[[hosting.contracts]]`; without them nothing is on offer and nothing converts).
    pub hosting: HostingParams,
    /// Where machines are made: manufacturers' origins and the origins tariffs name.
    pub origins: Vec<String>,
    /// Scripted events (`[[events]]`), applied at the start of their month.
    pub events: Vec<ScriptedEvent>,
    /// Behaviour parameters drawn per path (`[[uncertainty]]`); empty when every path runs with the values above.
    pub uncertainty: Vec<crate::uncertainty::UncertainParam>,
}

/// Run settings (`[simulation]`).
#[derive(Clone, Debug)]
pub struct SimulationParams {
    /// Scenario name; it names the output directory, so it holds only letters, digits, '_', '-' and '.'.
    pub name: String,
    /// One line that heads the scenario's reports (`description`; default: the name).
    pub description: String,
    /// First simulated calendar month (`start_month`); month 0 of every path.
    pub start: YearMonth,
    /// Number of months simulated (1..=1200).
    pub horizon_months: u32,
    /// Number of Monte Carlo paths (`paths`, 1..=10,000,000; default 1000).
    pub n_paths: u32,
    /// Master seed; each path's random streams derive from (seed, path index) (default 1).
    pub seed: u64,
}

/// State of the bull/bear Markov chain that drives the price drift, fees and the dealers' behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Regime {
    /// Rising market: dealers stockpile and resell with a mark-up, and new retail money flows in.
    Bull,
    /// Falling market: dealers dump stock below the manufacturers' price and take their excess stock on
    /// installment contracts.
    Bear,
}

impl Regime {
    /// The regime's name as written in scenario files: "bull" or "bear".
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Bull => "bull",
            Regime::Bear => "bear",
        }
    }
}

/// The BTC price (`[price]`).
#[derive(Clone, Debug)]
pub struct PriceParams {
    /// BTC price in USD at the start (> 0); with the historical process, the last close before the start unless
    /// given.
    pub start_price_usd: f64,
    /// Regime in force in the first month (default bull); the historical process takes it from the history.
    pub start_regime: Regime,
    /// How the monthly log-returns are drawn.
    pub process: PriceProcess,
    /// Optional jumps added to the monthly log-return in either process: the chance of a jump in a month
    /// ([0, 1]; default 0).
    pub jump_probability_per_month: f64,
    /// Mean log size of a jump ([-5, 5]; default 0); negative because crashes dominate.
    pub jump_mean_log: f64,
    /// Standard deviation of the log size of a jump ([0, 5]; default 0).
    pub jump_sd_log: f64,
}

/// The process that draws the monthly BTC log-return (`price.model`).
#[derive(Clone, Debug)]
pub enum PriceProcess {
    /// A bull/bear Markov chain with log-normal returns per regime (`model = "regime_switching"`, the default).
    RegimeSwitching(RegimeSwitchingParams),
    /// Blocks of historical monthly log-returns, resampled (`model = "bootstrap"`).
    Bootstrap(BootstrapParams),
    /// The historical month-end close of each simulated month, replayed.
    Historical(HistoricalPriceParams),
}

/// A replayed price history (`model = "historical"`), used to backtest the model against what happened.
#[derive(Clone, Debug)]
pub struct HistoricalPriceParams {
    /// Log of the month-end close, one per simulated month.
    pub log_prices: Vec<f64>,
    /// Regime label of each simulated month (from its trailing return).
    pub regimes: Vec<Regime>,
}

/// The bull/bear Markov chain (`[price.regime_switching]`).
///
/// The mean bull spell is `1 / bull_to_bear_probability_per_month` months, and likewise for bear spells.
#[derive(Clone, Debug)]
pub struct RegimeSwitchingParams {
    /// Mean monthly log-return in bull regimes ([-1, 1]).
    pub bull_drift_log_per_month: f64,
    /// Standard deviation of the monthly log-return in bull regimes ([0, 2]).
    pub bull_volatility_log_per_month: f64,
    /// Mean monthly log-return in bear regimes ([-1, 1]).
    pub bear_drift_log_per_month: f64,
    /// Standard deviation of the monthly log-return in bear regimes ([0, 2]).
    pub bear_volatility_log_per_month: f64,
    /// Chance that a bull month is followed by a bear month ([0, 1]).
    pub bull_to_bear_probability_per_month: f64,
    /// Chance that a bear month is followed by a bull month ([0, 1]).
    pub bear_to_bull_probability_per_month: f64,
    /// Growth of the long-run trend the price reverts to, as a monthly log-return ([-1, 1]; default 0).
    pub trend_growth_log_per_month: f64,
    /// Share of the log gap between the price and its trend closed each month ([0, 1]; default 0, no trend).
    /// The regimes then make cycles around the trend instead of a random walk whose tails widen without
    /// bound: history's ten-year drawdowns stayed within 75-81% (see the README's price-tail table).
    pub trend_reversion_per_month: f64,
    /// Where the trend stands at the start, in USD (default: the start price, a price on its trend).
    pub trend_start_price_usd: f64,
}

/// The block bootstrap of historical returns (`[price.bootstrap]`).
#[derive(Clone, Debug)]
pub struct BootstrapParams {
    /// Historical monthly log-returns, oldest first.
    pub log_returns: Vec<f64>,
    /// Regime label of each historical month (from its trailing return).
    pub regimes: Vec<Regime>,
    /// Length in months of each resampled block (1..=120; default 6); blocks keep the history's autocorrelation.
    pub block_months: u32,
}

/// Transaction fees per block (`[fees]`): a regime mean times a log AR(1) deviation.
#[derive(Clone, Debug)]
pub struct FeeParams {
    /// Historical fees per block, one per simulated month, replacing the regime means when present.
    pub history_btc_per_block: Option<Vec<f64>>,
    /// Mean fees per block in BTC in bull regimes ([0, 1000]).
    pub bull_mean_btc_per_block: f64,
    /// Mean fees per block in BTC in bear regimes ([0, 1000]).
    pub bear_mean_btc_per_block: f64,
    /// Standard deviation of the monthly shock to the log deviation ([0, 3]; default 0.3).
    pub volatility_log_per_month: f64,
    /// AR(1) coefficient of the log deviation from one month to the next ([0, 0.999]; default 0.7).
    pub persistence_per_month: f64,
}

/// The network at the end of the month before the start (`[network]`).
#[derive(Clone, Debug)]
pub struct NetworkParams {
    /// Height of the chain's tip at the end of the month before the start, the last block mined
    /// (0..=13,440,000): the first block the run mines is `block_height + 1`. It places the next halving and
    /// retarget.
    pub block_height: u64,
    /// Difficulty in force at that height ([1, 1e30]).
    pub difficulty: f64,
    /// Running hashrate at the start in EH/s ((0, 1e9]): the starting fleet is sized so that what runs in the
    /// first month at the starting prices matches it.
    pub hashrate_ehs: f64,
    /// How far miners' monthly run decision looks through the difficulty in force at the month's start to the
    /// difficulty that will settle at the hashrate that runs ([0, 1]). At 0 they decide at the month's starting
    /// difficulty; at 1 they decide at the revenue per TH/s the network pays once difficulty has caught up with
    /// the hashrate that runs, an equilibrium in which their own switching lowers or raises difficulty.
    /// Retargets come every two weeks, so within a month miners face both.
    pub difficulty_foresight_share: f64,
}

/// Highest non-power operating cost a region can have, as a share of its power cost: the range of
/// `opex_share_of_power`, which tightenings raise the share up to and no further.
pub const MAX_OPEX_SHARE_OF_POWER: f64 = 10.0;

/// A mining region (`[[regions]]`): power prices, hosting capacity, tariffs and regulation hazards.
#[derive(Clone, Debug)]
pub struct RegionParams {
    /// Region name, unique in the scenario; events and fleet entries refer to regions by it.
    pub name: String,
    /// Share of the starting fleet in the region ([0, 1]; the regions' shares sum to 1); the default of each
    /// segment's share in `segment_fleet_shares`.
    pub fleet_share: f64,
    /// Base power price in USD per kWh ((0, 100]) around which the region's price reverts.
    pub power_price_base_usd_per_kwh: f64,
    /// Standard deviation of the monthly shock to the log power price ([0, 2]; default 0.05).
    pub power_price_volatility_log_per_month: f64,
    /// Share of the log deviation from the base removed each month ([0, 1]; default 0.2).
    pub power_price_reversion_per_month: f64,
    /// Spread of site power prices inside the region (log-normal sigma, [0, 3]; default 0.3), so that the dearest
    /// sites switch off first.
    pub site_power_price_dispersion_log: f64,
    /// Non-power operating cost (hosting, staff, maintenance) as a share of the power cost
    /// ([0, [`MAX_OPEX_SHARE_OF_POWER`]]; default 0.2). Tightenings raise it, never above the maximum.
    pub opex_share_of_power: f64,
    /// Share of each segment's starting fleet in this region (key accounts, retail), each in [0, 1]; each
    /// segment's shares sum to 1 over the regions (default `fleet_share`). They are also the weights the
    /// segment's new machines give the region before margins are compared.
    pub segment_fleet_shares: [f64; 2],
    /// Power the region's sites can host, in MW ([0, 1e9]; infinite when unlimited, the default); new machines
    /// need spare capacity.
    pub hosting_capacity_mw: f64,
    /// Capacity grows by this share a month while the region is at least `capacity_build_trigger_share` full
    /// ([0, 1]; default 0).
    pub capacity_growth_share_per_month: f64,
    /// Share of its capacity a region must use before it builds more ([0, 1]; default 0.9).
    pub capacity_build_trigger_share: f64,
    /// Import tariffs in force at the start, by origin index: the landed price rises by the rate.
    pub import_tariffs: Vec<(usize, f64)>,
    /// Chances and sizes of random regulation and power shocks.
    pub hazards: RegionHazards,
    /// Power AI data centres take in the region each year, in MW ([0, 1e7]; default 0): spread evenly over the
    /// months, they take the region's idle sites first and wait for sites built or freed when there are none.
    pub ai_power_demand_mw_per_year: f64,
    /// How far AI's load raises the region's power price ([0, 10]; default 0): the price is multiplied by
    /// 1 + this × the share of the region's sites AI holds (its data centres and the key accounts' sites hosting
    /// AI); where sites are unlimited, the share of the power in use.
    pub ai_power_price_elasticity: f64,
}

/// Monthly chances of random regulation shocks in a region, and their sizes.
///
/// Every chance defaults to 0, so a region has no random shocks unless the scenario asks for them.
#[derive(Clone, Debug, Default)]
pub struct RegionHazards {
    /// Chance of a random ban in a month ([0, 1]; default 0).
    pub ban_per_month: f64,
    /// Share of the running machines a random ban stops ([0, 1]; default 0.5).
    pub ban_share: f64,
    /// Chance of a random import tariff in a month ([0, 1]; default 0).
    pub tariff_per_month: f64,
    /// Rate of a random tariff: the landed price of machines from `tariff_origin_idx` rises by this share
    /// ([0, 10]; default 0.25).
    pub tariff_rate_share: f64,
    /// Origin the random tariff hits, an index into [`Params::origins`] (default "china").
    pub tariff_origin_idx: usize,
    /// Chance of a random power-price shock in a month ([0, 1]; default 0).
    pub power_shock_per_month: f64,
    /// Factor a power shock multiplies the region's base power price by ((0, 100]; default 1.5). Shocks do not
    /// compound: one that meets a shock in force moving the price at least as far the same way changes nothing
    /// (`crate::market::power::PowerState::shock`).
    pub power_shock_factor: f64,
    /// Share of a power shock's excess that decays each month ([0, 1]; default 0.2).
    pub power_shock_decay_per_month: f64,
    /// Chance of a random regulatory tightening in a month ([0, 1]; default 0).
    pub tightening_per_month: f64,
    /// A tightening raises the region's opex share of power by this much, up to [`MAX_OPEX_SHARE_OF_POWER`]
    /// ([0, 10]; default 0.1).
    pub tightening_opex_increase_share: f64,
}

impl RegionHazards {
    /// Whether any random shock can happen in the region, so that paths without hazards draw nothing.
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
    /// Months from the ban until stopped machines can run elsewhere (0..=60; default 3).
    pub lag_months: u32,
    /// Freight and re-installation in USD per machine moved ([0, 1e7]; default 150).
    pub cost_usd_per_unit: f64,
    /// Machines that find no capacity within this many months of the ban are sold or scrapped (0..=120, at least
    /// `lag_months`; default 9). Deliveries that find no site anywhere join the same queue, counted as stopped
    /// `lag_months` before they arrived.
    pub max_wait_months: u32,
    /// Share of stranded machines sold on the used market, the rest scrapped ([0, 1]; default 0.5).
    pub stranded_sale_share: f64,
    /// Discount on the used price at which stranded machines sell ([0, 1]; default 0.3).
    pub stranded_price_discount_share: f64,
    /// Share of the stranded sell-off still weighing on used prices a month later ([0, 1]; default 0.7).
    pub overhang_persistence_per_month: f64,
}

/// A hardware generation (`[[generations]]`): one machine model, or a projection of one.
#[derive(Clone, Debug)]
pub struct GenerationParams {
    /// Generation name, unique in the scenario; roadmaps and the fleet refer to it.
    pub name: String,
    /// Calendar month of release (`release_month`); it must fall before the horizon ends.
    pub release: YearMonth,
    /// Release relative to the start month (negative for generations already on the market).
    pub release_month_offset: i64,
    /// Hashrate of one machine in TH/s ((0, 1e7]).
    pub hashrate_ths: f64,
    /// Power drawn by one machine at the wall in W ((0, 1e7]).
    pub power_w: f64,
    /// Price of a new machine in USD ((0, 1e9]), used only where no manufacturer sells the generation.
    pub price_new_usd: f64,
}

impl GenerationParams {
    /// Energy efficiency in J/TH (W per TH/s): lower is better.
    pub fn efficiency_jth(&self) -> f64 {
        self.power_w / self.hashrate_ths
    }

    /// Whether the generation is on the market in simulated month `month`.
    pub fn is_released(&self, month: Month) -> bool {
        self.release_month_offset <= month.0 as i64
    }
}

/// A buyer segment; its discriminant indexes per-segment arrays (see [`Segment::idx`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// Few, large, financed miners that buy mostly on futures.
    #[default]
    KeyAccount = 0,
    /// Many small, short-lived miners that buy spot, mostly from dealers.
    Retail = 1,
}

impl Segment {
    /// Both segments, in index order.
    pub const ALL: [Segment; 2] = [Segment::KeyAccount, Segment::Retail];

    /// The segment's name as written in scenario files (`[segments.key_account]`, `[segments.retail]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::KeyAccount => "key_account",
            Segment::Retail => "retail",
        }
    }

    /// The segment's index into per-segment arrays: 0 for key accounts, 1 for retail.
    pub fn idx(self) -> usize {
        self as usize
    }
}

/// A buyer segment's balance sheet and behaviour (`[segments.key_account]`, `[segments.retail]`).
#[derive(Clone, Debug)]
pub struct SegmentParams {
    /// Share of the starting installed fleet held by this segment ([0, 1]; the two segments' shares sum to 1).
    pub fleet_share: f64,
    /// Cash at the start in USD ([-1e15, 1e15]).
    pub cash_usd: f64,
    /// How far cash may go below zero, in USD ([0, 1e15]; default 0).
    pub credit_line_usd: f64,
    /// Interest charged per month on credit drawn ([0, 1]; default 0.01).
    pub credit_interest_rate_per_month: f64,
    /// Payback in months ((0, 600]) at or below which the segment spends its full monthly budget; between it and
    /// `max_payback_months` the budget shrinks. The base scenario's value is fitted by `hashcycle calibrate` on the
    /// 2016-2020 network history.
    pub full_appetite_payback_months: f64,
    /// Payback in months ((0, 600], above `full_appetite_payback_months`) at or above which the segment buys
    /// nothing. The base scenario's value is fitted by `hashcycle calibrate` on the 2016-2020 network history.
    pub max_payback_months: f64,
    /// Share of available funds (cash plus unused credit) the segment may commit in one month ([0, 1]).
    pub max_spend_share_per_month: f64,
    /// Cap on new hashrate ordered in a month, as a share of the network's installed hashrate ([0, 10]).
    pub max_growth_share_of_network_per_month: f64,
    /// Months a machine may stay unprofitable (even after the coming difficulty adjustment) before it is retired
    /// (1..=120).
    pub retire_after_months: u32,
    /// Share of the gap between the machines running and those that would pay their power that closes in a
    /// month (power contracts and hosting terms make switching sluggish); 1 switches at once ((0, 1]; default 0.5).
    pub run_response_share_per_month: f64,
    /// Months from delivery to running (0..=24; default 1).
    pub shipping_lag_months: u32,
    /// Share of the segment's purchases it wants as futures, the rest spot ([0, 1]).
    pub futures_preference_share: f64,
    /// How strongly a higher prepayment share lowers futures demand, per unit of prepay share: demand falls by
    /// exp(-e × (prepay - `reference_prepay_share`)) ([0, 100]; default 1).
    pub prepay_elasticity: f64,
    /// How strongly a longer mean wait lowers futures demand, per month of wait: demand falls by
    /// exp(-e × (mean wait - `reference_wait_months`)) ([0, 10]; default 0.05).
    pub delivery_elasticity_per_month: f64,
    /// Prepayment share at which a futures offer's terms neither raise nor lower demand ([0, 1]; default 0.3).
    pub reference_prepay_share: f64,
    /// Mean wait in months (lead time plus half the delivery spread) at which the terms neither raise nor lower
    /// demand ([0, 60]; default 6).
    pub reference_wait_months: f64,
    /// The most that favourable terms (a low prepayment, a short wait) can multiply futures demand by
    /// ([1, 100]; default 4).
    pub max_terms_demand_factor: f64,
    /// How strongly buyers prefer the offer with the shortest payback: the logit weight on relative payback between
    /// offers (0 = split by availability; [0, 100]; default 4).
    pub price_sensitivity: f64,
    /// New capital entering in bull regimes (retail entry), in USD per month ([0, 1e13]; default 0).
    pub bull_inflow_usd_per_month: f64,
    /// Share of the fleet sold off per month while the segment's cash is below zero ([0, 1]; default 0).
    pub churn_share_per_month: f64,
    /// Walk-away steepness: probability = 1 - exp(-rationality * (balance / value - 1)) ([0, 100]; default 3).
    pub walk_away_rationality: f64,
    /// How strongly new machines go to the regions with the best margin (0 = by fleet share alone; [0, 100];
    /// default 2).
    pub region_choice_sensitivity: f64,
}

/// Key accounts as firms with balance sheets (`[key_account_firms]`): each owns a share of the segment's
/// fleet and of its futures book, and has its own cash, credit line, debt, overheads and BTC treasury. A firm
/// that cannot pay what falls due is insolvent: its futures default and its fleet is sold at fire-sale
/// prices. With no firms (`n_firms = 0` and none listed) the key accounts are one pooled book, as before.
#[derive(Clone, Debug, Default)]
pub struct KeyAccountFirmsParams {
    /// Firms drawn per path (0..=200); 0 with no `firms` listed keeps the key accounts one pooled book.
    pub n_firms: u32,
    /// Dispersion of the firms' sizes: the log-normal sigma of their shares of the starting fleet ([0, 5]).
    pub size_dispersion_log: f64,
    /// Dispersion of cash relative to size: the log-normal sigma of each firm's cash per unit of fleet ([0, 5]).
    pub cash_dispersion_log: f64,
    /// Lowest starting debt drawn, as a share of the firm's fleet value at used prices ([0, 10]).
    pub min_debt_to_fleet_value_share: f64,
    /// Highest starting debt drawn, as a share of the firm's fleet value ([min, 10]).
    pub max_debt_to_fleet_value_share: f64,
    /// Share of each firm's starting debt that is convertible notes, repaid whole at maturity; the rest are
    /// term loans repaid in equal monthly parts ([0, 1]).
    pub notes_share_of_debt: f64,
    /// Months over which term loans are repaid, in equal parts of the balance (1..=360).
    pub term_loan_months: u32,
    /// Starting notes mature evenly over 1..= this many months; refinanced notes run this long (1..=360).
    pub notes_maturity_months: u32,
    /// Interest on term loans and notes, per month ([0, 1]).
    pub debt_interest_rate_per_month: f64,
    /// Overheads (staff, general and administrative, hosting fees) per TH/s of fleet, in USD per month
    /// ([0, 1e3]).
    pub overhead_usd_per_ths_month: f64,
    /// Lowest share of its mined BTC a firm keeps in treasury, drawn per firm ([0, 1]).
    pub min_btc_hold_share: f64,
    /// Highest share of its mined BTC a firm keeps in treasury ([min, 1]).
    pub max_btc_hold_share: f64,
    /// Share of every machine purchase (spot or futures balance) financed by a new term loan, while the
    /// lenders' loan-to-value limit allows ([0, 1]).
    pub equipment_loan_share: f64,
    /// Lenders lend, and refinance maturing notes, only while a firm's debt stays within this share of its
    /// fleet's value at used prices plus its BTC ([0, 10]).
    pub max_loan_to_value_share: f64,
    /// What a firm pays to build sites for the machines that grow its fleet (those bought beyond those
    /// retired), in USD per MW ([0, 1e8]).
    pub site_capex_usd_per_mw: f64,
    /// Equity raised in each bull month, as a share of the firm's fleet value at used prices (listed miners
    /// sell shares when theirs are up) ([0, 1]).
    pub bull_equity_raise_share_per_month: f64,
    /// How far below the used price an insolvent firm's machines are sold ([0, 1]).
    pub fire_sale_discount_share: f64,
    /// Months of its fixed charges (overheads and debt service) a firm keeps in cash or undrawn credit and
    /// does not spend on machines ([0, 120]).
    pub cash_reserve_months: f64,
    /// Share of their available funds surviving firms put into distressed fleets in a month ([0, 1]).
    pub consolidation_spend_share: f64,
    /// Firms listed explicitly (`[[key_account_firms.firms]]`), used instead of drawing `n_firms`; the
    /// segment's starting cash and credit line are then theirs summed.
    pub firms: Vec<FirmSpec>,
}

impl KeyAccountFirmsParams {
    /// Whether the key accounts are firms (drawn or listed) rather than one pooled book.
    pub fn enabled(&self) -> bool {
        self.n_firms > 0 || !self.firms.is_empty()
    }
}

/// AI/HPC hosting (`[hosting]`): contracts on offer by region and month (`[[hosting.contracts]]`) and how the
/// key accounts decide to convert sites from mining to hosting. Every key has a default; with no contracts
/// nothing converts and a path draws nothing for hosting.
#[derive(Clone, Debug)]
pub struct HostingParams {
    /// Contracts on offer, in scenario order.
    pub contracts: Vec<HostingContractOffer>,
    /// How far a contract's net income per MW must beat the expected mining margin per MW before the key
    /// accounts convert, as a share of that margin ([0, 10]; default 0.25).
    pub hurdle_share: f64,
    /// Most of the key accounts' sites in a region (mining, converting and hosting MW) that start converting in a
    /// month ([0, 1]; default 0.05): conversions are staged, site by site.
    pub max_conversion_share_per_month: f64,
    /// Most of the key accounts' sites in a region that may be converting or hosting at once ([0, 1]; default
    /// 0.5).
    pub max_converted_share: f64,
    /// Operating cost of hosted sites (staff, maintenance, insurance; the tenant pays the power), as a share of
    /// the contract price ([0, 1]; default 0.2).
    pub operating_cost_share: f64,
    /// Share of the machines displaced by a conversion moved to other sites through the relocation pool; the
    /// rest are sold at once at the used price less the stranded discount ([0, 1]; default 0.8).
    pub redeploy_share: f64,
    /// How far the key accounts' budget for new machines follows their sites to AI ([0, 1]; default 1): the
    /// budget is multiplied by 1 − this × the share of their sites converting or hosting. Converting miners
    /// put their growth capital into the AI business (Riot cut its 2025 hashrate guidance for it).
    pub machine_budget_cut_share: f64,
    /// Share of the net hosting income kept for the AI business (its build-outs and financing) and never spent
    /// on machines ([0, 1]; default 1). It stays in cash, so it still pays what falls due when mining cannot.
    pub ring_fenced_share: f64,
}

impl Default for HostingParams {
    fn default() -> HostingParams {
        HostingParams {
            contracts: Vec::new(),
            hurdle_share: 0.25,
            max_conversion_share_per_month: 0.05,
            max_converted_share: 0.5,
            operating_cost_share: 0.2,
            redeploy_share: 0.8,
            machine_budget_cut_share: 1.0,
            ring_fenced_share: 1.0,
        }
    }
}

/// AI/HPC hosting capacity tenants offer to lease in one region over a window of months
/// (`[[hosting.contracts]]`): the key accounts sign what they choose to convert, first come, first served.
#[derive(Clone, Debug)]
pub struct HostingContractOffer {
    /// Index of the region where the sites are, into [`Params::regions`].
    pub region_idx: usize,
    /// First simulated month the offer is open.
    pub from: Month,
    /// Last simulated month the offer is open (at least `from`).
    pub until: Month,
    /// Power the tenants want hosted over the window, in MW ((0, 1e6]).
    pub offered_mw: f64,
    /// What the tenant pays per MW of critical load and year, in USD ([0, 1e8]): $1.45M (Core Scientific and
    /// CoreWeave, 2024) to $1.85M (TeraWulf and Fluidstack).
    pub price_usd_per_mw_year: f64,
    /// Months the contract runs once the site is ready (1..=360).
    pub term_months: u32,
    /// What converting a MW of mining site to AI hosting costs the miner, in USD ([0, 1e9]), paid when the
    /// conversion starts.
    pub conversion_cost_usd_per_mw: f64,
    /// Months from signing until the site hosts and the contract pays (0..=60).
    pub conversion_lag_months: u32,
    /// Monthly chance that the tenant cancels a signed contract ([0, 1]; default 0); the site goes back to
    /// mining.
    pub cancellation_per_month: f64,
}

/// One key-account firm listed in the scenario (`[[key_account_firms.firms]]`).
#[derive(Clone, Debug, Default)]
pub struct FirmSpec {
    /// The firm's name, used in its events.
    pub name: String,
    /// Its share of the key accounts' starting fleet and futures book ((0, 1]; the listed firms' shares sum
    /// to 1).
    pub fleet_share: f64,
    /// Cash at the start, in USD ([0, 1e15]).
    pub cash_usd: f64,
    /// How far its cash may go below zero, in USD ([0, 1e15]).
    pub credit_line_usd: f64,
    /// Term loans outstanding at the start, in USD ([0, 1e15]).
    pub term_debt_usd: f64,
    /// Convertible notes outstanding at the start, in USD ([0, 1e15]).
    pub notes_usd: f64,
    /// Months until the starting notes mature (1..=360).
    pub notes_maturity_months: u32,
    /// Share of its mined BTC it keeps in treasury ([0, 1]).
    pub btc_hold_share: f64,
}

/// Machines of one generation that one segment runs in one region at the start.
#[derive(Clone, Debug)]
pub struct InitialCohort {
    /// The segment that owns the machines.
    pub segment: Segment,
    /// Index of the region they stand in, into [`Params::regions`].
    pub region_idx: usize,
    /// Index of their generation, into [`Params::generations`].
    pub generation_idx: usize,
    /// Number of machines, before the starting fleet is scaled to the starting hashrate.
    pub units: u64,
}

/// A generation on a manufacturer's roadmap (`[[manufacturers.roadmap]]`).
#[derive(Clone, Debug)]
pub struct RoadmapEntry {
    /// Index of the generation sold, into [`Params::generations`].
    pub generation_idx: usize,
    /// Calendar month from which the manufacturer sells it; not before its release, and roadmap entries come in
    /// increasing order of it.
    pub sell_from: YearMonth,
    /// `sell_from` relative to the start month (negative for generations already on sale).
    pub sell_from_month_offset: i64,
    /// Cost in USD of making one machine ((0, 1e9]).
    pub unit_cost_usd: f64,
}

/// The parameters of a manufacturer that a strategy sweep varies (`[manufacturers.strategy]`).
#[derive(Clone, Debug)]
pub struct ManufacturerStrategy {
    /// Share of planned output sold ahead as futures ([0, 1]); the playbook's rule of thumb is 0.8.
    pub futures_share: f64,
    /// Number of monthly batches a futures contract is delivered over (1..=36).
    pub delivery_months: u32,
    /// Share of a futures contract the customer pays at signing ([0, 1]); the balance is due at delivery.
    pub prepay_share: f64,
    /// Months between ordering wafers and their arrival (1..=24; 4-6 in practice).
    pub wafer_lead_months: u32,
    /// Share of a wafer order paid to the foundry at order ([0, 1]; 50-100% in practice); the rest on arrival.
    pub wafer_prepay_share: f64,
    /// Buyer payback in months ((0, 600]) the list price aims for, at `pricing_power_price_usd_per_kwh`.
    pub target_payback_months: f64,
    /// Price floor as a margin over unit cost ([-0.9, 10]): the price is at least unit cost × (1 + this), unless
    /// the manufacturer is clearing superseded stock.
    pub min_margin_share: f64,
    /// Futures price discount per month of the buyer's wait, per unit of prepaid share ([0, 1]; default 0.01): the
    /// manufacturer pays for the use of the prepayment, so a 50% prepayment and a 7.5-month wait take 3.75% off.
    pub futures_discount_rate_per_month: f64,
    /// Most the futures price moves from the list price, as a ratio either way, for the profit expected over
    /// the delivery window ([1, 100]; default 2).
    pub futures_max_outlook_ratio: f64,
    /// Share of spot supply offered to channel dealers ([0, 1]).
    pub dealer_share_of_spot: f64,
    /// Share of an installment contract's price a dealer pays at signing ([0, 1]).
    pub dealer_down_payment_share: f64,
    /// Months over which dealers pay an installment contract's balance (1..=60; default 6).
    pub installment_months: u32,
    /// Whether the manufacturer mines with unsold stock while its market price is below cost.
    pub self_mine: bool,
    /// Share of the unsold stock moved into self-mining per month while the market price is below cost
    /// ([0, 1]; default 0.2).
    pub self_mine_share_per_month: f64,
    /// Power price in USD per kWh used to compute a buyer's payback when pricing ((0, 100]; default 0.05).
    pub pricing_power_price_usd_per_kwh: f64,
    /// The demand forecast is revised every this many months (1..=12; default 3: the industry's quarterly
    /// rolling forecast). Between revisions the plan follows the last forecast.
    pub forecast_revision_months: u32,
    /// Months over which the forecast smooths the manufacturer's market share and the hashprice trend
    /// ([1, 120]; default 6).
    pub forecast_smoothing_months: f64,
    /// Share of the recent hashprice trend the forecast extrapolates to the months it plans for ([0, 1];
    /// default 0.5; 0 plans at today's hashprice).
    pub forecast_trend_weight_share: f64,
    /// Most the forecast moves its smoothed demand, as a ratio either way, for what it expects of the market
    /// ([1, 100]; default 3).
    pub forecast_max_outlook_ratio: f64,
    /// Months over which the plan closes the gap between stock plus pipeline and what the forecast needs
    /// ([1, 60]; default 3).
    pub plan_adjustment_months: f64,
    /// Foundry capacity for a month's wafer order is booked this many months before the order (0..=24;
    /// default 3; 0 books at the order).
    pub foundry_booking_months: u32,
    /// Capacity booked, as a share of the forecast for the month it is booked for ([0, 5]; default 1.1: a
    /// tenth more than the forecast, for an upside).
    pub foundry_booking_share: f64,
    /// Share of booked capacity the manufacturer must pay for whether or not it orders wafers on it ([0, 1];
    /// default 0.8): the foundry's take-or-pay term.
    pub take_or_pay_share: f64,
    /// Share of the wafer cost paid on take-or-pay capacity left unordered, the cancellation penalty ([0, 1];
    /// default 0.5). The manufacturer orders the wafers instead when they are worth more than the penalty saves.
    pub cancellation_penalty_share: f64,
    /// Most a list price moves in a month, as a share of the price ([0, 10]; default 0.25).
    pub max_price_change_share_per_month: f64,
    /// A list price is left alone while it is within this share of its target ([0, 1]; default 0.1).
    pub price_band_share: f64,
    /// Weight of the competitors' value in the target price ([0, 1]; default 0.5): 0 prices on its own
    /// payback rule, 1 matches the best competitor's payback.
    pub competitive_weight_share: f64,
    /// The target price falls by this share per month of stock beyond the target, its own and the channel's
    /// ([0, 1]; default 0.1): how hard it cuts to clear stock and take share.
    pub stock_price_cut_share_per_month: f64,
    /// The target price rises by this share for each 100% by which what buyers asked for ran ahead of what it
    /// sold, smoothed ([0, 10]; default 0.25): how a sold-out manufacturer prices.
    pub shortage_price_rise_share: f64,
    /// Finished stock the plan aims to hold, in months of forecast sales ([0, 60]; default 1).
    pub target_inventory_months: f64,
    /// Buyers cancel a futures batch (refund) once it is this many months late (0..=60; default 3).
    pub max_delivery_delay_months: u32,
    /// Share of each month's assembly put on the production lines outside the main origin (`production_lines`),
    /// within their capacity ([0, 1]; default 0). What the main line cannot assemble also goes to the lines' spare
    /// capacity. Onshore units are dearer to make and pay no tariff where the main origin is taxed.
    pub onshore_share: f64,
}

/// A manufacturer (`[[manufacturers]]`): its balance sheet, costs, roadmap and strategy.
#[derive(Clone, Debug)]
pub struct ManufacturerParams {
    /// Manufacturer name, unique in the scenario.
    pub name: String,
    /// Cash at the start in USD, before the customer advances on the futures book it opens with, which are
    /// added to it ([-1e15, 1e15]).
    pub cash_usd: f64,
    /// How far cash may go below zero, in USD ([0, 1e15]; default 0); below it the manufacturer is distressed.
    pub credit_line_usd: f64,
    /// Interest charged per month on credit drawn ([0, 1]; default 0.008).
    pub credit_interest_rate_per_month: f64,
    /// Machines the manufacturer can assemble in a month ([0, 1e9]).
    pub capacity_units_per_month: u64,
    /// Most foundry capacity it can book for a month, in machines ([0, 1e9]; default its assembly capacity).
    pub foundry_allotment_units_per_month: u64,
    /// Share of the unit cost paid to the foundry for wafers ([0, 1]; default 0.6); the rest is assembly, paid at
    /// production.
    pub wafer_cost_share: f64,
    /// Operating cost in USD per month besides production ([0, 1e13]).
    pub fixed_opex_usd_per_month: f64,
    /// Research and development spending in USD per month ([0, 1e13]; default 0).
    pub rnd_usd_per_month: f64,
    /// Opex and R&D are cut by this share while the manufacturer is distressed ([0, 1]; default 0.3).
    pub distress_cost_cut_share: f64,
    /// Share of opex and R&D that scales with planned utilisation, the rest fixed ([0, 1]; default 0).
    pub variable_cost_share: f64,
    /// Finished machines of the first roadmap generation in stock at the start ([0, 1e10]; default 0).
    pub initial_inventory_units: u64,
    /// Wafer lots already in flight at the start: this many units arriving in each of the first
    /// `wafer_lead_months` months (their foundry prepayment was paid before the start; [0, `capacity_units_per_month`]; default 0).
    pub initial_wafer_units_per_month: u64,
    /// Power price of its own mines in USD per kWh ((0, 100]; default 0.045).
    pub self_mining_power_price_usd_per_kwh: f64,
    /// Where its machines are made (an index into [`Params::origins`]): tariffs on that origin apply
    /// (default "china").
    pub origin_idx: usize,
    /// Regions where it assembles locally, as region indexes: no import tariff there, but a price uplift instead
    /// (default none).
    pub local_assembly_region_idxs: Vec<usize>,
    /// Price uplift of machines assembled locally, as a share of the price ([0, 10]; default 0.1).
    pub local_assembly_uplift_share: f64,
    /// Production lines besides the main one (`[[manufacturers.production_lines]]`), each in an origin other
    /// than `origin_idx` (default none). The main line keeps `capacity_units_per_month` and the main origin.
    pub production_lines: Vec<ProductionLineParams>,
    /// The region whose sites its self-mining fleet runs in, an index into [`Params::regions`] (default none:
    /// its own sites at `self_mining_power_price_usd_per_kwh`). There the fleet pays the region's power price
    /// with its opex share, and a ban stops the banned share of it.
    pub self_mining_region_idx: Option<usize>,
    /// Power its hosting business sells to other miners, in MW ([0, 1e6]; default 0): Ebang earned 48% of its
    /// 2020 revenue from hosting.
    pub hosting_mw: f64,
    /// What hosting clients pay per MW per month, in USD ([0, 1e9]; default 0).
    pub hosting_price_usd_per_mw_month: f64,
    /// What hosting costs it per MW per month (power, sites, staff), in USD ([0, 1e9]; default 0).
    pub hosting_cost_usd_per_mw_month: f64,
    /// Revenue of an AI-chip unit, in USD per month ([0, 1e13]; default 0): Canaan's edge-AI unit earned about
    /// $0.9M in 2024.
    pub ai_chip_revenue_usd_per_month: f64,
    /// Operating cost of that unit, in USD per month ([0, 1e13]; default 0), besides `fixed_opex_usd_per_month`:
    /// about 15% of Canaan's operating expenses.
    pub ai_chip_opex_usd_per_month: f64,
    /// Month (from the start) the AI-chip unit is exited (`ai_chip_exit_month`; default never): from then on
    /// it earns and costs nothing.
    pub ai_chip_exit_month_offset: Option<i64>,
    /// One-off cost of exiting the AI-chip unit, paid in the exit month, in USD ([0, 1e13]; default 0).
    pub ai_chip_exit_cost_usd: f64,
    /// Generations it sells, in increasing order of `sell_from`.
    pub roadmap: Vec<RoadmapEntry>,
    /// The parameters a strategy sweep varies.
    pub strategy: ManufacturerStrategy,
}

/// A production line outside the manufacturer's main origin (`[[manufacturers.production_lines]]`), such as
/// Canaan's 2025 US pilot line: its machines carry its origin, so tariffs on the main origin spare them.
#[derive(Clone, Debug)]
pub struct ProductionLineParams {
    /// Where the line is (an index into [`Params::origins`]); never the manufacturer's main origin.
    pub origin_idx: usize,
    /// Machines the line can assemble in a month ([0, 1e9]).
    pub capacity_units_per_month: u64,
    /// Extra unit cost of a machine assembled on the line, as a share of the roadmap unit cost, paid with the
    /// assembly ([0, 10]; default 0.15).
    pub unit_cost_uplift_share: f64,
    /// Month (from the start) the line starts assembling (`from_month`; default the start month).
    pub from_month_offset: i64,
    /// The line's fixed cost in USD per month from `from_month` on, whether it assembles or not ([0, 1e13];
    /// default 0).
    pub fixed_cost_usd_per_month: f64,
}

/// The channel dealers, one aggregated population (`[dealers]`); every key has a default.
#[derive(Clone, Debug)]
pub struct DealerParams {
    /// Cash at the start in USD ([-1e15, 1e15]; default 0).
    pub cash_usd: f64,
    /// How far cash may go below zero, in USD ([0, 1e15]; default 0).
    pub credit_line_usd: f64,
    /// Discount dealers get from the manufacturer's spot price ([0, 1]; default 0.05).
    pub wholesale_discount_share: f64,
    /// Mark-up over the manufacturer's price when reselling in bull regimes ([0, 10]; default 0.15).
    pub bull_markup_share: f64,
    /// Discount below the manufacturer's price when dumping in bear regimes ([0, 1]; default 0.2).
    pub bear_dump_discount_share: f64,
    /// Stock dealers aim to hold in bull regimes, in months of recent retail demand ([0, 60]; default 2).
    pub bull_stock_months: f64,
    /// Share of a manufacturer's excess stock dealers take on installment per bear month ([0, 1]; default 0.2).
    pub bear_installment_take_share: f64,
    /// Monthly probability that a dealer defaults on an installment contract that is under water
    /// ([0, 1]; default 0.1).
    pub default_probability_per_month: f64,
    /// Interest charged per month on credit drawn ([0, 1]; default 0.012).
    pub credit_interest_rate_per_month: f64,
    /// Weight of the latest month in the dealers' smoothed demand estimate ((0, 1]; default 0.3).
    pub demand_smoothing_share: f64,
}

/// The used-machine market (`[secondary_market]`): it prices a machine from the profit it can still earn,
/// never below scrap.
#[derive(Clone, Debug)]
pub struct SecondaryMarketParams {
    /// Payback in months ((0, 600]) a buyer of a used machine demands.
    pub used_payback_months: f64,
    /// What a machine fetches as scrap, in USD ([0, 1e7]): the floor of the used price.
    pub scrap_value_usd_per_unit: f64,
    /// How far dealers' excess stock pushes used prices down, at a stock of one month of demand
    /// ([0, 1]; default 0.3).
    pub dealer_stock_price_impact_share: f64,
    /// Power price in USD per kWh ((0, 100]) at which buyers value used machines. The base scenario's value is
    /// fitted by `hashcycle calibrate` on the 2016-2020 network history.
    pub reference_power_price_usd_per_kwh: f64,
    /// Share of retired machines sold on the used market to buyers with cheaper power outside the simulated
    /// fleet; the rest are scrapped ([0, 1]; default 0.5).
    pub retired_sale_share: f64,
    /// Discount on the used price that retired machines fetch ([0, 1]; default 0.3).
    pub retired_price_discount_share: f64,
}

/// A scripted event (`[[events]]`), applied at the start of its month.
#[derive(Clone, Debug)]
pub struct ScriptedEvent {
    /// Simulated month in which the event happens.
    pub month: Month,
    /// Calendar month of the event, as written in the scenario.
    pub at: YearMonth,
    /// What happens.
    pub kind: ScriptedEventKind,
}

/// What a scripted event does (its `kind` key).
#[derive(Clone, Debug)]
pub enum ScriptedEventKind {
    /// The BTC price is multiplied by `factor` at the start of the month.
    PriceShock {
        /// Multiplier of the price ((0, 1e6]).
        factor: f64,
    },
    /// The regime is forced (the chain continues from it).
    SetRegime {
        /// The regime in force from this month.
        regime: Regime,
    },
    /// A region's power price is multiplied by `factor`, decaying back at `decay_per_month`.
    PowerShock {
        /// Index of the region hit, into [`Params::regions`].
        region_idx: usize,
        /// Multiplier of the power price ((0, 1e6]).
        factor: f64,
        /// Share of the shock's excess that decays each month ([0, 1]; default 0.2).
        decay_per_month: f64,
    },
    /// A share of a region's running machines must stop at once; they relocate or are sold or scrapped.
    Ban {
        /// Index of the region banning mining, into [`Params::regions`].
        region_idx: usize,
        /// Share of the region's machines (and of those on their way there) stopped ([0, 1]).
        share: f64,
    },
    /// The landed price of machines from an origin rises by `rate_share` in a region from now on.
    Tariff {
        /// Index of the region imposing the tariff, into [`Params::regions`].
        region_idx: usize,
        /// Index of the origin taxed, into [`Params::origins`].
        origin_idx: usize,
        /// Tariff rate as a share of the price ([0, 10]).
        rate_share: f64,
    },
    /// A region's operating cost rises: its opex share of power goes up by `opex_increase_share`.
    Tightening {
        /// Index of the region, into [`Params::regions`].
        region_idx: usize,
        /// Increase of the region's opex share of power ([0, 10]).
        opex_increase_share: f64,
    },
    /// The foundries can book only `factor` of every manufacturer's allotment for `duration_months` (a wafer
    /// shortage, as in 2020-21); bookings already made stand.
    FoundryShortage {
        /// Share of the allotment the foundries can still book ([0, 1]).
        factor: f64,
        /// Months the shortage lasts (1..=120).
        duration_months: u32,
    },
}

impl ScriptedEventKind {
    /// The kind's name as written in scenario files (the `kind` key of `[[events]]`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ScriptedEventKind::PriceShock { .. } => "price_shock",
            ScriptedEventKind::SetRegime { .. } => "set_regime",
            ScriptedEventKind::PowerShock { .. } => "power_shock",
            ScriptedEventKind::Ban { .. } => "ban",
            ScriptedEventKind::Tariff { .. } => "tariff",
            ScriptedEventKind::Tightening { .. } => "tightening",
            ScriptedEventKind::FoundryShortage { .. } => "foundry_shortage",
        }
    }
}
