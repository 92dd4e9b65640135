//! Validation: reads the raw tree into `model::params::Params`, collecting every problem.
//!
//! Each key's unit is in its name; each call states the valid range, and the default where there is one.
//! The commented scenario files in `scenarios/` are the reference for what every key means.

use crate::scenario::history;
use crate::scenario::raw::{Node, Span, Value};
use crate::scenario::reader::{Bounds, Problems, Section};
use crate::scenario::{Source, data_path};
use hashcycle_model::math::to_units;
use hashcycle_model::params::{
    BootstrapParams, DealerParams, FeeParams, FirmSpec, GenerationParams, HistoricalPriceParams, HostingContractOffer,
    HostingParams, InitialCohort, KeyAccountFirmsParams, MAX_OPEX_SHARE_OF_POWER, ManufacturerParams,
    ManufacturerStrategy, NetworkParams, Params, PriceParams, PriceProcess, ProductionLineParams, Regime,
    RegimeSwitchingParams, RegionHazards, RegionParams, RelocationParams, RoadmapEntry, ScriptedEvent,
    ScriptedEventKind, SecondaryMarketParams, Segment, SegmentParams, SimulationParams,
};
use hashcycle_model::units::{Month, THS_PER_EHS, YearMonth};

/// Shares that must add up to 1 may be off by this much.
const SHARE_SUM_TOLERANCE: f64 = 1e-6;

/// Reads a whole scenario. `sources` are the texts its spans point into; a relative data file name (a price
/// or fee history) resolves against the directory of the text that wrote it (`crate::scenario::data_path`).
pub fn read_params(root: &Node, sources: &[Source], p: &mut Problems) -> Option<Params> {
    read_params_with(root, sources, p, RangeEnds::Check)
}

/// Whether reading a scenario also validates it at each end of every uncertain parameter's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeEnds {
    /// Validate the scenario again with each uncertain parameter at its `min`, then at its `max`, and report
    /// a problem there at that end: two more full readings per `[[uncertainty]]` entry.
    Check,
    /// Skip those readings, for a tree already read with `Check`: the parameters are the same, since the
    /// readings at the ends only add problems.
    Skip,
}

/// `read_params`, checking the ends of the uncertain parameters' ranges or not.
pub fn read_params_with(root: &Node, sources: &[Source], p: &mut Problems, range_ends: RangeEnds) -> Option<Params> {
    let Value::Table(table) = &root.value else {
        p.push(root.span.clone(), "", "a scenario must be a TOML table");
        return None;
    };
    let mut top = Section::new(table, "", root.span.clone());
    let simulation = read_simulation(&mut top, p);
    // A horizon that could not be read is not checked against: every month after its stand-in would be
    // reported as past the end, burying the one real problem under follow-on ones.
    let horizon_end = simulation
        .as_ref()
        .filter(|_| !follows_from(p, "simulation", &["horizon_months"]))
        .map(|s| s.start.plus_months(s.horizon_months as i64));
    let start = simulation.as_ref().map(|s| s.start);
    let price = read_price(&mut top, p, sources, simulation.as_ref());
    let fees = read_fees(&mut top, p, sources, simulation.as_ref());
    let network = read_network(&mut top, p);
    let mut origins: Vec<String> = vec![];
    let regions = read_regions(&mut top, p, sources, &mut origins);
    let generations = read_generations(&mut top, p, start);
    let segments = read_segments(&mut top, p);
    let initial_fleet = read_fleet(&mut top, p, &regions, &generations, &segments, network.as_ref(), start);
    let manufacturers = read_manufacturers(&mut top, p, sources, &generations, &regions, &mut origins, start);
    let dealers = read_dealers(&mut top, p);
    let secondary_market = read_secondary_market(&mut top, p);
    let relocation = read_relocation(&mut top, p);
    let key_account_firms = read_key_account_firms(&mut top, p);
    // Months outside the run are refused with the run's months; a `--set` that moved them is named there.
    let calendar_spans = ["start_month", "horizon_months"].map(|key| value_span(root, &["simulation", key]));
    let calendar_note = set_note(sources, &calendar_spans);
    let hosting = read_hosting(&mut top, p, &regions, start, horizon_end, &calendar_note);
    let events = read_events(&mut top, p, &regions, &mut origins, start, horizon_end, &calendar_note);
    let uncertain = crate::scenario::uncertainty::read(
        &mut top,
        p,
        root,
        sources,
        &regions.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        &manufacturers.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
    );
    top.finish(p);
    if !p.is_empty() {
        return None;
    }
    if range_ends == RangeEnds::Check {
        crate::scenario::uncertainty::check_ends(root, sources, &uncertain, p);
        if !p.is_empty() {
            return None;
        }
    }
    Some(Params {
        simulation: simulation?,
        price: price?,
        fees,
        network: network?,
        regions,
        generations,
        segments,
        initial_fleet,
        manufacturers,
        dealers,
        secondary_market,
        relocation,
        key_account_firms,
        hosting,
        origins,
        events,
        uncertainty: uncertain.into_iter().map(|d| d.param).collect(),
    })
}

/// The most paths a run or a sweep cell may have: `simulation.paths`, a sweep file's `paths` and `--paths`.
pub const MAX_PATHS: u32 = 10_000_000;

/// The longest `simulation.description`: one line that heads a report.
const MAX_DESCRIPTION_CHARS: usize = 300;

fn read_simulation(top: &mut Section, p: &mut Problems) -> Option<SimulationParams> {
    let mut s = top.table(p, "simulation", true)?;
    let (name, name_span) = s.string(p, "name", None);
    if let Some(problem) = crate::output::dir::output_name_problem(&name) {
        p.push(
            name_span,
            "simulation.name",
            format!("`simulation.name` {problem} (it names the output directory)"),
        );
    }
    let (description, description_span) = s.string(p, "description", Some(&name));
    if description.chars().count() > MAX_DESCRIPTION_CHARS || description.contains(['\n', '\r']) {
        p.push(
            description_span,
            "simulation.description",
            format!("`simulation.description` must be one line of at most {MAX_DESCRIPTION_CHARS} characters (it heads the reports)"),
        );
    }
    let (start, _) = s.year_month(p, "start_month");
    let horizon_months = s.u32(p, "horizon_months", Bounds::closed(1.0, 1200.0), None);
    let n_paths = s.u32(p, "paths", Bounds::closed(1.0, MAX_PATHS as f64), Some(1000));
    let seed = s.u64(p, "seed", Bounds::non_negative(), Some(1));
    s.finish(p);
    Some(SimulationParams {
        description: if description.trim().is_empty() {
            name.clone()
        } else {
            description.trim().to_string()
        },
        name,
        start: start?,
        horizon_months,
        n_paths,
        seed,
    })
}

fn read_regime(s: &mut Section, p: &mut Problems, key: &str, default: Option<&str>) -> Regime {
    if s.choice(p, key, &["bull", "bear"], default) == "bear" {
        Regime::Bear
    } else {
        Regime::Bull
    }
}

/// How far (in log terms, about 1%) a stated start price may sit from the history's close when the price is
/// replayed from history.
const MAX_HISTORICAL_START_PRICE_LOG_GAP: f64 = 0.01;

fn read_price(
    top: &mut Section,
    p: &mut Problems,
    sources: &[Source],
    simulation: Option<&SimulationParams>,
) -> Option<PriceParams> {
    let mut s = top.table(p, "price", true)?;
    let model = s.choice(
        p,
        "model",
        &["regime_switching", "bootstrap", "historical"],
        Some("regime_switching"),
    );
    if model == "historical" {
        // Replays the month-end close of every simulated month from a history file.
        let _ = s.table(p, "regime_switching", false);
        let _ = s.table(p, "bootstrap", false);
        let mut h = s.table(p, "historical", true)?;
        let (file, file_span) = h.string(p, "history_file", None);
        let window = h.u32(p, "regime_window_months", Bounds::closed(1.0, 60.0), Some(6));
        h.finish(p);
        let given_start_span = s.table.get("start_price_usd").and_then(|n| n.span.clone());
        let given_start = s
            .has("start_price_usd")
            .then(|| s.f64(p, "start_price_usd", Bounds::positive(), None));
        let _ = s.f64(p, "jump_probability_per_month", Bounds::share(), Some(0.0));
        let _ = s.f64(p, "jump_mean_log", Bounds::closed(-5.0, 5.0), Some(0.0));
        let _ = s.f64(p, "jump_sd_log", Bounds::closed(0.0, 5.0), Some(0.0));
        let _ = s.choice(p, "start_regime", &["bull", "bear"], Some("bull"));
        s.finish(p);
        let sim = simulation?;
        return match history::load_price_path(
            &data_path(sources, &file, file_span.as_ref()),
            sim.start,
            sim.horizon_months,
            window,
        ) {
            Ok((log_prices, regimes, before)) => {
                // A replay starts from the history's close of the month before the start. A different start
                // price (often one inherited through `extends` from a scenario with another model) would size
                // the starting fleet and price the first month at a price that never was.
                if let Some(given) =
                    given_start.filter(|g| *g > 0.0 && (g / before).ln().abs() > MAX_HISTORICAL_START_PRICE_LOG_GAP)
                {
                    p.push(
                        given_start_span,
                        "price.start_price_usd",
                        format!(
                            "`price.start_price_usd` = {given} is not the history's close for {} ({before}): with model = \"historical\" leave it out or give that close (within 1%)",
                            sim.start.plus_months(-1)
                        ),
                    );
                }
                Some(PriceParams {
                    start_price_usd: given_start.unwrap_or(before),
                    start_regime: regimes.first().copied().unwrap_or(Regime::Bull),
                    process: PriceProcess::Historical(HistoricalPriceParams { log_prices, regimes }),
                    jump_probability_per_month: 0.0,
                    jump_mean_log: 0.0,
                    jump_sd_log: 0.0,
                })
            }
            Err(message) => {
                p.push(
                    file_span,
                    "price.historical.history_file",
                    format!("cannot use price history `{file}`: {message}"),
                );
                None
            }
        };
    }
    let _ = s.table(p, "historical", false);
    let start_price_usd = s.f64(p, "start_price_usd", Bounds::positive(), None);
    let start_regime = read_regime(&mut s, p, "start_regime", Some("bull"));
    let jump_probability_per_month = s.f64(p, "jump_probability_per_month", Bounds::share(), Some(0.0));
    let jump_mean_log = s.f64(p, "jump_mean_log", Bounds::closed(-5.0, 5.0), Some(0.0));
    let jump_sd_log = s.f64(p, "jump_sd_log", Bounds::closed(0.0, 5.0), Some(0.0));
    let process = if model == "bootstrap" {
        // The other process's table may stay in the file, so that switching `model` is a one-word edit.
        let _ = s.table(p, "regime_switching", false);
        let mut b = s.table(p, "bootstrap", true)?;
        let (file, file_span) = b.string(p, "history_file", None);
        let (from, _) = b.year_month(p, "from_month");
        let (to, to_span) = b.year_month(p, "to_month");
        let block_months = b.u32(p, "block_months", Bounds::closed(1.0, 120.0), Some(6));
        let window = b.u32(p, "regime_window_months", Bounds::closed(1.0, 60.0), Some(6));
        b.finish(p);
        let (from, to) = (from?, to?);
        if to <= from {
            p.push(
                to_span,
                "price.bootstrap.to_month",
                "`price.bootstrap.to_month` must come after `from_month`",
            );
            return None;
        }
        match history::load_log_returns(&data_path(sources, &file, file_span.as_ref()), from, to, window) {
            Ok((log_returns, regimes)) if log_returns.len() >= block_months as usize => {
                PriceProcess::Bootstrap(BootstrapParams {
                    log_returns,
                    regimes,
                    block_months,
                })
            }
            Ok((log_returns, _)) => {
                p.push(
                    file_span,
                    "price.bootstrap.history_file",
                    format!(
                        "the history between {from} and {to} has {} monthly returns, fewer than `block_months` = {block_months}",
                        log_returns.len()
                    ),
                );
                return None;
            }
            Err(message) => {
                p.push(
                    file_span,
                    "price.bootstrap.history_file",
                    format!("cannot use price history `{file}`: {message}"),
                );
                return None;
            }
        }
    } else {
        let _ = s.table(p, "bootstrap", false);
        let mut r = s.table(p, "regime_switching", true)?;
        let drift = Bounds::closed(-1.0, 1.0);
        let vol = Bounds::closed(0.0, 2.0);
        let rs = RegimeSwitchingParams {
            bull_drift_log_per_month: r.f64(p, "bull_drift_log_per_month", drift, None),
            bull_volatility_log_per_month: r.f64(p, "bull_volatility_log_per_month", vol, None),
            bear_drift_log_per_month: r.f64(p, "bear_drift_log_per_month", drift, None),
            bear_volatility_log_per_month: r.f64(p, "bear_volatility_log_per_month", vol, None),
            bull_to_bear_probability_per_month: r.f64(p, "bull_to_bear_probability_per_month", Bounds::share(), None),
            bear_to_bull_probability_per_month: r.f64(p, "bear_to_bull_probability_per_month", Bounds::share(), None),
            trend_growth_log_per_month: r.f64(p, "trend_growth_log_per_month", drift, Some(0.0)),
            trend_reversion_per_month: r.f64(p, "trend_reversion_per_month", Bounds::share(), Some(0.0)),
            trend_start_price_usd: r.f64(
                p,
                "trend_start_price_usd",
                Bounds::above_up_to(0.0, 1e12),
                Some(start_price_usd),
            ),
        };
        r.finish(p);
        PriceProcess::RegimeSwitching(rs)
    };
    s.finish(p);
    Some(PriceParams {
        start_price_usd,
        start_regime,
        process,
        jump_probability_per_month,
        jump_mean_log,
        jump_sd_log,
    })
}

static EMPTY_TABLE: crate::scenario::raw::Table = crate::scenario::raw::Table { entries: Vec::new() };

fn read_fees(
    top: &mut Section,
    p: &mut Problems,
    sources: &[Source],
    simulation: Option<&SimulationParams>,
) -> FeeParams {
    let Some(mut s) = top.table(p, "fees", true) else {
        return FeeParams {
            history_btc_per_block: None,
            bull_mean_btc_per_block: 0.0,
            bear_mean_btc_per_block: 0.0,
            volatility_log_per_month: 0.0,
            persistence_per_month: 0.0,
        };
    };
    let model = s.choice(p, "model", &["regime", "historical"], Some("regime"));
    let history_btc_per_block = if model == "historical" {
        let mut h = s.table(p, "historical", true);
        let (file, file_span) = h
            .as_mut()
            .map(|h| h.string(p, "history_file", None))
            .unwrap_or_default();
        if let Some(h) = h {
            h.finish(p);
        }
        match simulation {
            Some(sim) if !file.is_empty() => {
                match history::load_fees_per_block(
                    &data_path(sources, &file, file_span.as_ref()),
                    sim.start,
                    sim.horizon_months,
                ) {
                    Ok(series) => Some(series),
                    Err(message) => {
                        p.push(
                            file_span,
                            "fees.historical.history_file",
                            format!("cannot use fee history `{file}`: {message}"),
                        );
                        None
                    }
                }
            }
            _ => None,
        }
    } else {
        let _ = s.table(p, "historical", false);
        None
    };
    let defaults_needed = model == "historical";
    let fees = FeeParams {
        history_btc_per_block,
        bull_mean_btc_per_block: s.f64(
            p,
            "bull_mean_btc_per_block",
            Bounds::closed(0.0, 1000.0),
            defaults_needed.then_some(0.0),
        ),
        bear_mean_btc_per_block: s.f64(
            p,
            "bear_mean_btc_per_block",
            Bounds::closed(0.0, 1000.0),
            defaults_needed.then_some(0.0),
        ),
        volatility_log_per_month: s.f64(p, "volatility_log_per_month", Bounds::closed(0.0, 3.0), Some(0.3)),
        persistence_per_month: s.f64(p, "persistence_per_month", Bounds::closed(0.0, 0.999), Some(0.7)),
    };
    s.finish(p);
    fees
}

fn read_network(top: &mut Section, p: &mut Problems) -> Option<NetworkParams> {
    let mut s = top.table(p, "network", true)?;
    let network = NetworkParams {
        block_height: s.u64(p, "block_height", Bounds::closed(0.0, 13_440_000.0), None),
        difficulty: s.f64(p, "difficulty", Bounds::closed(1.0, 1e30), None),
        hashrate_ehs: s.f64(p, "hashrate_ehs", Bounds::above_up_to(0.0, 1e9), None),
        difficulty_foresight_share: s.f64(p, "difficulty_foresight_share", Bounds::share(), Some(1.0)),
    };
    s.finish(p);
    Some(network)
}

/// Where the text wrote the value at `keys` (a path of table keys from the top), if it did.
fn value_span(root: &Node, keys: &[&str]) -> Option<Span> {
    let mut node = root;
    for key in keys {
        let Value::Table(table) = &node.value else {
            return None;
        };
        node = table.get(key)?;
    }
    node.span.clone()
}

/// The `--set` overrides that wrote any of the values at `spans`, as a note ending a message about a rule
/// they take part in: ` (set on the command line: regions.us.fleet_share=0.5)`, or nothing when the files
/// wrote them all. The problem is still shown where the rule's values are written in the file.
fn set_note(sources: &[Source], spans: &[Option<Span>]) -> String {
    let mut sets: Vec<&str> = vec![];
    for span in spans.iter().flatten() {
        let Some(source) = crate::scenario::source_of(sources, span.start) else {
            continue;
        };
        let set = source.text.strip_prefix("--set ").unwrap_or(&source.text);
        if source.file == "--set" && !sets.contains(&set) {
            sets.push(set);
        }
    }
    if sets.is_empty() {
        String::new()
    } else {
        format!(" (set on the command line: {})", sets.join(", "))
    }
}

fn check_unique_names(p: &mut Problems, what: &str, names: &[(String, Option<Span>)]) {
    for (i, (name, span)) in names.iter().enumerate() {
        if names[..i].iter().any(|(n, _)| n == name) {
            p.push(span.clone(), what, format!("{what} name \"{name}\" is used twice"));
        }
    }
}

/// Whether a problem was already reported for one of `keys` under `prefix` (`regions` finds
/// `regions[2].fleet_share`): a check that uses those values would only report a follow-on problem.
fn follows_from(p: &Problems, prefix: &str, keys: &[&str]) -> bool {
    p.list.iter().any(|problem| {
        problem.key_path.starts_with(prefix)
            && keys.iter().any(|key| {
                problem.key_path.ends_with(&format!(".{key}")) || problem.key_path == format!("{prefix}.{key}")
            })
    })
}

/// Reports shares that do not sum to 1, ending the message with `note`; returns whether it did.
fn check_share_sum(p: &mut Problems, span: Option<Span>, what: &str, sum: f64, note: &str) -> bool {
    let wrong = (sum - 1.0).abs() > SHARE_SUM_TOLERANCE;
    if wrong {
        p.push(
            span,
            what,
            format!("{what} must sum to 1, but they sum to {sum:.6}{note}"),
        );
    }
    wrong
}

/// The index of an origin (where machines are made), registering it on first use.
fn origin_idx(origins: &mut Vec<String>, name: &str) -> usize {
    match origins.iter().position(|o| o == name) {
        Some(i) => i,
        None => {
            origins.push(name.to_string());
            origins.len() - 1
        }
    }
}

/// A table of origin name → tariff rate, e.g. `import_tariff_shares = { china = 0.25 }`.
fn read_tariff_table(r: &mut Section, p: &mut Problems, origins: &mut Vec<String>) -> Vec<(usize, f64)> {
    let path = format!("{}.import_tariff_shares", r.path);
    let Some(node) = r.node("import_tariff_shares") else {
        return vec![];
    };
    let Value::Table(table) = &node.value else {
        p.push(
            node.span.clone(),
            &path,
            format!("`{path}` must be a table of origin = rate, e.g. {{ china = 0.25 }}"),
        );
        return vec![];
    };
    let mut out = vec![];
    for entry in &table.entries {
        let rate = entry.node.value.as_f64().unwrap_or(f64::NAN);
        if !(0.0..=10.0).contains(&rate) {
            p.push(
                entry.node.span.clone(),
                &format!("{path}.{}", entry.key),
                format!("`{path}.{}` must be a tariff rate in [0, 10]", entry.key),
            );
            continue;
        }
        out.push((origin_idx(origins, &entry.key), rate));
    }
    out
}

fn read_hazards(r: &mut Section, p: &mut Problems, origins: &mut Vec<String>) -> RegionHazards {
    let (tariff_origin, _) = r.string(p, "tariff_shock_origin", Some("china"));
    RegionHazards {
        ban_per_month: r.f64(p, "ban_hazard_per_month", Bounds::share(), Some(0.0)),
        ban_share: r.f64(p, "ban_share", Bounds::share(), Some(0.5)),
        tariff_per_month: r.f64(p, "tariff_hazard_per_month", Bounds::share(), Some(0.0)),
        tariff_rate_share: r.f64(p, "tariff_shock_rate_share", Bounds::closed(0.0, 10.0), Some(0.25)),
        tariff_origin_idx: origin_idx(origins, &tariff_origin),
        power_shock_per_month: r.f64(p, "power_shock_hazard_per_month", Bounds::share(), Some(0.0)),
        power_shock_factor: r.f64(p, "power_shock_factor", Bounds::above_up_to(0.0, 100.0), Some(1.5)),
        power_shock_decay_per_month: r.f64(p, "power_shock_decay_per_month", Bounds::share(), Some(0.2)),
        tightening_per_month: r.f64(p, "tightening_hazard_per_month", Bounds::share(), Some(0.0)),
        tightening_opex_increase_share: r.f64(
            p,
            "tightening_opex_increase_share",
            Bounds::closed(0.0, 10.0),
            Some(0.1),
        ),
    }
}

fn read_regions(
    top: &mut Section,
    p: &mut Problems,
    sources: &[Source],
    origins: &mut Vec<String>,
) -> Vec<RegionParams> {
    let span = top.span.clone();
    let mut out = vec![];
    let mut names = vec![];
    // Where each region's fleet_share, key_account_fleet_share and retail_fleet_share are written (the last
    // two, when left out, are the fleet_share's), and whether those two are written at all.
    let mut share_spans: Vec<[Option<Span>; 3]> = vec![];
    let mut segment_shares_written: Vec<[bool; 2]> = vec![];
    for mut r in top.tables(p, "regions", true) {
        let (name, name_span) = r.string(p, "name", None);
        names.push((name.clone(), name_span));
        let fleet_share_span = r.table.get("fleet_share").and_then(|n| n.span.clone());
        let segment_share_span = |key: &str| r.table.get(key).map_or(fleet_share_span.clone(), |n| n.span.clone());
        share_spans.push([
            fleet_share_span.clone(),
            segment_share_span("key_account_fleet_share"),
            segment_share_span("retail_fleet_share"),
        ]);
        segment_shares_written.push(["key_account_fleet_share", "retail_fleet_share"].map(|key| r.has(key)));
        let fleet_share = r.f64(p, "fleet_share", Bounds::share(), None);
        let key_account_share = r.f64(p, "key_account_fleet_share", Bounds::share(), Some(fleet_share));
        let retail_share = r.f64(p, "retail_fleet_share", Bounds::share(), Some(fleet_share));
        let capacity = r.f64(p, "hosting_capacity_mw", Bounds::closed(0.0, 1e9), Some(f64::INFINITY));
        let power = r.f64(p, "power_price_base_usd_per_kwh", Bounds::above_up_to(0.0, 100.0), None);
        let volatility = r.f64(
            p,
            "power_price_volatility_log_per_month",
            Bounds::closed(0.0, 2.0),
            Some(0.05),
        );
        let dispersion = r.f64(
            p,
            "site_power_price_dispersion_log",
            Bounds::closed(0.0, 3.0),
            Some(0.3),
        );
        out.push(RegionParams {
            name,
            fleet_share,
            power_price_base_usd_per_kwh: power,
            power_price_volatility_log_per_month: volatility,
            power_price_reversion_per_month: r.f64(p, "power_price_reversion_per_month", Bounds::share(), Some(0.2)),
            site_power_price_dispersion_log: dispersion,
            opex_share_of_power: r.f64(
                p,
                "opex_share_of_power",
                Bounds::closed(0.0, MAX_OPEX_SHARE_OF_POWER),
                Some(0.2),
            ),
            segment_fleet_shares: [key_account_share, retail_share],
            hosting_capacity_mw: capacity,
            capacity_growth_share_per_month: r.f64(
                p,
                "capacity_growth_share_per_month",
                Bounds::closed(0.0, 1.0),
                Some(0.0),
            ),
            capacity_build_trigger_share: r.f64(p, "capacity_build_trigger_share", Bounds::share(), Some(0.9)),
            import_tariffs: read_tariff_table(&mut r, p, origins),
            hazards: read_hazards(&mut r, p, origins),
            ai_power_demand_mw_per_year: r.f64(p, "ai_power_demand_mw_per_year", Bounds::closed(0.0, 1e7), Some(0.0)),
            ai_power_price_elasticity: r.f64(p, "ai_power_price_elasticity", Bounds::closed(0.0, 10.0), Some(0.0)),
        });
        r.finish(p);
    }
    check_unique_names(p, "region", &names);
    if out.is_empty() {
        p.push(span, "regions", "a scenario needs at least one [[regions]] entry");
    } else if !follows_from(
        p,
        "regions",
        &["fleet_share", "key_account_fleet_share", "retail_fleet_share"],
    ) {
        let first = names.first().and_then(|n| n.1.clone());
        let note = |share_idx: usize| {
            let spans: Vec<Option<Span>> = share_spans.iter().map(|s| s[share_idx].clone()).collect();
            set_note(sources, &spans)
        };
        let fleet_shares_wrong = check_share_sum(
            p,
            first.clone(),
            "regions' fleet_share values",
            out.iter().map(|r| r.fleet_share).sum(),
            &note(0),
        );
        for segment in Segment::ALL {
            let what = ["key_account_fleet_share", "retail_fleet_share"][segment.idx()];
            // A segment's shares that every region leaves at its fleet_share only repeat that sum's problem.
            if fleet_shares_wrong && segment_shares_written.iter().all(|w| !w[segment.idx()]) {
                continue;
            }
            check_share_sum(
                p,
                first.clone(),
                &format!("regions' {what} values"),
                out.iter().map(|r| r.segment_fleet_shares[segment.idx()]).sum(),
                &note(1 + segment.idx()),
            );
        }
    }
    out
}

fn read_generations(top: &mut Section, p: &mut Problems, start: Option<YearMonth>) -> Vec<GenerationParams> {
    let span = top.span.clone();
    let mut out = vec![];
    let mut names = vec![];
    for mut g in top.tables(p, "generations", true) {
        let (name, name_span) = g.string(p, "name", None);
        names.push((name.clone(), name_span));
        let (release, _) = g.year_month(p, "release_month");
        let hashrate_ths = g.f64(p, "hashrate_ths", Bounds::above_up_to(0.0, 1e7), None);
        let power_w = g.f64(p, "power_w", Bounds::above_up_to(0.0, 1e7), None);
        let price_new_usd = g.f64(p, "price_new_usd", Bounds::above_up_to(0.0, 1e9), None);
        g.finish(p);
        // A generation released after the horizon simply never appears; one a roadmap sells or the fleet
        // holds is checked there (a roadmap never sells it before the release).
        let release = release.unwrap_or(YearMonth { year: 2000, month: 1 });
        out.push(GenerationParams {
            name,
            release,
            release_month_offset: start.map_or(0, |s| release.months_since(s)),
            hashrate_ths,
            power_w,
            price_new_usd,
        });
    }
    check_unique_names(p, "generation", &names);
    if out.is_empty() {
        p.push(
            span,
            "generations",
            "a scenario needs at least one [[generations]] entry",
        );
    }
    out
}

fn read_segment(s: &mut Section, p: &mut Problems) -> SegmentParams {
    let full = s.f64(p, "full_appetite_payback_months", Bounds::above_up_to(0.0, 600.0), None);
    let max_payback_span = s.table.get("max_payback_months").and_then(|n| n.span.clone());
    let max = s.f64(p, "max_payback_months", Bounds::above_up_to(0.0, 600.0), None);
    if max <= full && max > 0.0 {
        p.push(
            max_payback_span,
            &format!("{}.max_payback_months", s.path),
            format!(
                "`{}.max_payback_months` = {max} must be above `full_appetite_payback_months` = {full}",
                s.path
            ),
        );
    }
    SegmentParams {
        fleet_share: s.f64(p, "fleet_share", Bounds::share(), None),
        cash_usd: s.f64(p, "cash_usd", Bounds::closed(-1e15, 1e15), None),
        credit_line_usd: s.f64(p, "credit_line_usd", Bounds::closed(0.0, 1e15), Some(0.0)),
        credit_interest_rate_per_month: s.f64(p, "credit_interest_rate_per_month", Bounds::share(), Some(0.01)),
        full_appetite_payback_months: full,
        max_payback_months: max,
        max_spend_share_per_month: s.f64(p, "max_spend_share_per_month", Bounds::share(), None),
        max_growth_share_of_network_per_month: s.f64(
            p,
            "max_growth_share_of_network_per_month",
            Bounds::closed(0.0, 10.0),
            None,
        ),
        retire_after_months: s.u32(p, "retire_after_months", Bounds::closed(1.0, 120.0), None),
        run_response_share_per_month: s.f64(
            p,
            "run_response_share_per_month",
            Bounds::above_up_to(0.0, 1.0),
            Some(0.5),
        ),
        shipping_lag_months: s.u32(p, "shipping_lag_months", Bounds::closed(0.0, 24.0), Some(1)),
        futures_preference_share: s.f64(p, "futures_preference_share", Bounds::share(), None),
        prepay_elasticity: s.f64(p, "prepay_elasticity", Bounds::closed(0.0, 100.0), Some(1.0)),
        delivery_elasticity_per_month: s.f64(
            p,
            "delivery_elasticity_per_month",
            Bounds::closed(0.0, 10.0),
            Some(0.05),
        ),
        reference_prepay_share: s.f64(p, "reference_prepay_share", Bounds::share(), Some(0.3)),
        reference_wait_months: s.f64(p, "reference_wait_months", Bounds::closed(0.0, 60.0), Some(6.0)),
        max_terms_demand_factor: s.f64(p, "max_terms_demand_factor", Bounds::closed(1.0, 100.0), Some(4.0)),
        price_sensitivity: s.f64(p, "price_sensitivity", Bounds::closed(0.0, 100.0), Some(4.0)),
        bull_inflow_usd_per_month: s.f64(p, "bull_inflow_usd_per_month", Bounds::closed(0.0, 1e13), Some(0.0)),
        churn_share_per_month: s.f64(p, "churn_share_per_month", Bounds::share(), Some(0.0)),
        walk_away_rationality: s.f64(p, "walk_away_rationality", Bounds::closed(0.0, 100.0), Some(3.0)),
        region_choice_sensitivity: s.f64(p, "region_choice_sensitivity", Bounds::closed(0.0, 100.0), Some(2.0)),
    }
}

fn read_segments(top: &mut Section, p: &mut Problems) -> [SegmentParams; 2] {
    let mut out: Vec<SegmentParams> = vec![];
    let segments_span = top.table.get("segments").and_then(|n| n.span.clone());
    let mut t = top.table(p, "segments", true);
    for segment in Segment::ALL {
        let params = t
            .as_mut()
            .and_then(|t| t.table(p, segment.as_str(), true))
            .map(|mut s| {
                let params = read_segment(&mut s, p);
                s.finish(p);
                params
            });
        out.push(params.unwrap_or_else(placeholder_segment));
    }
    if let Some(t) = t {
        t.finish(p);
        if !follows_from(p, "segments", &["fleet_share"]) {
            check_share_sum(
                p,
                segments_span,
                "segments' fleet_share values",
                out.iter().map(|s| s.fleet_share).sum(),
                "",
            );
        }
    }
    let retail = out.pop().expect("two segments");
    let key_account = out.pop().expect("two segments");
    [key_account, retail]
}

fn placeholder_segment() -> SegmentParams {
    SegmentParams {
        fleet_share: 0.0,
        cash_usd: 0.0,
        credit_line_usd: 0.0,
        credit_interest_rate_per_month: 0.0,
        full_appetite_payback_months: 1.0,
        max_payback_months: 2.0,
        max_spend_share_per_month: 0.0,
        max_growth_share_of_network_per_month: 0.0,
        retire_after_months: 1,
        run_response_share_per_month: 1.0,
        shipping_lag_months: 0,
        futures_preference_share: 0.0,
        prepay_elasticity: 0.0,
        delivery_elasticity_per_month: 0.0,
        reference_prepay_share: 0.0,
        reference_wait_months: 0.0,
        max_terms_demand_factor: 1.0,
        price_sensitivity: 0.0,
        bull_inflow_usd_per_month: 0.0,
        churn_share_per_month: 0.0,
        walk_away_rationality: 0.0,
        region_choice_sensitivity: 0.0,
    }
}

fn lookup_name(
    p: &mut Problems,
    key_path: &str,
    what: &str,
    name: &str,
    span: Option<Span>,
    names: &[&str],
) -> Option<usize> {
    let found = names.iter().position(|n| *n == name);
    if found.is_none() {
        p.push(
            span,
            key_path,
            format!(
                "`{key_path}` names {what} \"{name}\", which is not defined (defined: {})",
                names.join(", ")
            ),
        );
    }
    found
}

fn read_fleet(
    top: &mut Section,
    p: &mut Problems,
    regions: &[RegionParams],
    generations: &[GenerationParams],
    segments: &[SegmentParams; 2],
    network: Option<&NetworkParams>,
    start: Option<YearMonth>,
) -> Vec<InitialCohort> {
    let region_names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    let generation_names: Vec<&str> = generations.iter().map(|g| g.name.as_str()).collect();
    let mut cells: Vec<(Option<usize>, usize, f64)> = vec![];
    let mut first_span = None;
    for (i, mut f) in top.tables(p, "fleet", true).into_iter().enumerate() {
        let path = format!("fleet[{i}]");
        let (generation, generation_span) = f.string(p, "generation", None);
        let region = if f.has("region") {
            Some(f.string(p, "region", None))
        } else {
            None
        };
        let share = f.f64(p, "hashrate_share", Bounds::share(), None);
        first_span = first_span.or(f.span.clone());
        f.finish(p);
        let g = lookup_name(
            p,
            &format!("{path}.generation"),
            "generation",
            &generation,
            generation_span.clone(),
            &generation_names,
        );
        let r = match region {
            Some((name, span)) => match lookup_name(p, &format!("{path}.region"), "region", &name, span, &region_names)
            {
                Some(r) => Some(r),
                None => continue,
            },
            None => None,
        };
        if let (Some(g), Some(start)) = (g, start)
            && generations[g].release > start
        {
            p.push(
                generation_span,
                &format!("{path}.generation"),
                format!(
                    "the starting fleet holds generation \"{generation}\", which is only released in {}",
                    generations[g].release
                ),
            );
        }
        if let Some(g) = g {
            cells.push((r, g, share));
        }
    }
    if !cells.is_empty() && !follows_from(p, "fleet", &["hashrate_share"]) {
        check_share_sum(
            p,
            first_span,
            "fleet hashrate_share values",
            cells.iter().map(|c| c.2).sum(),
            "",
        );
    }
    let Some(network) = network else {
        return vec![];
    };
    let total_ths = network.hashrate_ehs * THS_PER_EHS;
    let mut out = vec![];
    for (r, g, share) in cells {
        for segment in Segment::ALL {
            for (region_idx, region) in regions.iter().enumerate() {
                let weight = match r {
                    Some(r) if r == region_idx => 1.0,
                    Some(_) => 0.0,
                    None => region.segment_fleet_shares[segment.idx()],
                };
                let ths = total_ths * share * weight * segments[segment.idx()].fleet_share;
                let units = to_units(ths / generations[g].hashrate_ths);
                if units > 0 {
                    out.push(InitialCohort {
                        segment,
                        region_idx,
                        generation_idx: g,
                        units,
                    });
                }
            }
        }
    }
    out
}

fn read_strategy(s: &mut Section, p: &mut Problems) -> ManufacturerStrategy {
    ManufacturerStrategy {
        futures_share: s.f64(p, "futures_share", Bounds::share(), None),
        delivery_months: s.u32(p, "delivery_months", Bounds::closed(1.0, 36.0), None),
        prepay_share: s.f64(p, "prepay_share", Bounds::share(), None),
        wafer_lead_months: s.u32(p, "wafer_lead_months", Bounds::closed(1.0, 24.0), None),
        wafer_prepay_share: s.f64(p, "wafer_prepay_share", Bounds::share(), None),
        target_payback_months: s.f64(p, "target_payback_months", Bounds::above_up_to(0.0, 600.0), None),
        min_margin_share: s.f64(p, "min_margin_share", Bounds::closed(-0.9, 10.0), None),
        futures_discount_rate_per_month: s.f64(p, "futures_discount_rate_per_month", Bounds::share(), Some(0.01)),
        futures_max_outlook_ratio: s.f64(p, "futures_max_outlook_ratio", Bounds::closed(1.0, 100.0), Some(2.0)),
        dealer_share_of_spot: s.f64(p, "dealer_share_of_spot", Bounds::share(), None),
        dealer_down_payment_share: s.f64(p, "dealer_down_payment_share", Bounds::share(), None),
        installment_months: s.u32(p, "installment_months", Bounds::closed(1.0, 60.0), Some(6)),
        self_mine: s.bool(p, "self_mine", None),
        self_mine_share_per_month: s.f64(p, "self_mine_share_per_month", Bounds::share(), Some(0.2)),
        pricing_power_price_usd_per_kwh: s.f64(
            p,
            "pricing_power_price_usd_per_kwh",
            Bounds::above_up_to(0.0, 100.0),
            Some(0.05),
        ),
        forecast_revision_months: s.u32(p, "forecast_revision_months", Bounds::closed(1.0, 12.0), Some(3)),
        forecast_smoothing_months: s.f64(p, "forecast_smoothing_months", Bounds::closed(1.0, 120.0), Some(6.0)),
        forecast_trend_weight_share: s.f64(p, "forecast_trend_weight_share", Bounds::share(), Some(0.5)),
        forecast_max_outlook_ratio: s.f64(p, "forecast_max_outlook_ratio", Bounds::closed(1.0, 100.0), Some(3.0)),
        plan_adjustment_months: s.f64(p, "plan_adjustment_months", Bounds::closed(1.0, 60.0), Some(3.0)),
        foundry_booking_months: s.u32(p, "foundry_booking_months", Bounds::closed(0.0, 24.0), Some(3)),
        foundry_booking_share: s.f64(p, "foundry_booking_share", Bounds::closed(0.0, 5.0), Some(1.1)),
        take_or_pay_share: s.f64(p, "take_or_pay_share", Bounds::share(), Some(0.8)),
        cancellation_penalty_share: s.f64(p, "cancellation_penalty_share", Bounds::share(), Some(0.5)),
        max_price_change_share_per_month: s.f64(
            p,
            "max_price_change_share_per_month",
            Bounds::closed(0.0, 10.0),
            Some(0.25),
        ),
        price_band_share: s.f64(p, "price_band_share", Bounds::share(), Some(0.1)),
        competitive_weight_share: s.f64(p, "competitive_weight_share", Bounds::share(), Some(0.5)),
        stock_price_cut_share_per_month: s.f64(p, "stock_price_cut_share_per_month", Bounds::share(), Some(0.1)),
        shortage_price_rise_share: s.f64(p, "shortage_price_rise_share", Bounds::closed(0.0, 10.0), Some(0.25)),
        target_inventory_months: s.f64(p, "target_inventory_months", Bounds::closed(0.0, 60.0), Some(1.0)),
        max_delivery_delay_months: s.u32(p, "max_delivery_delay_months", Bounds::closed(0.0, 60.0), Some(3)),
        onshore_share: s.f64(p, "onshore_share", Bounds::share(), Some(0.0)),
    }
}

/// A manufacturer's `[[manufacturers.production_lines]]`: each in an origin other than its main one.
fn read_production_lines(
    m: &mut Section,
    p: &mut Problems,
    path: &str,
    main_origin: &str,
    origins: &mut Vec<String>,
    start: Option<YearMonth>,
) -> Vec<ProductionLineParams> {
    const MAX_LINES: usize = 16;
    let mut lines = vec![];
    let tables = m.tables(p, "production_lines", false);
    if tables.len() > MAX_LINES {
        p.push(
            m.table
                .get("production_lines")
                .and_then(|n| n.span.clone())
                .or(m.span.clone()),
            &format!("{path}.production_lines"),
            format!(
                "`{path}.production_lines` lists {} lines; at most {MAX_LINES} are allowed",
                tables.len()
            ),
        );
    }
    for (j, mut l) in tables.into_iter().enumerate() {
        let lpath = format!("{path}.production_lines[{j}]");
        let (origin, origin_span) = l.string(p, "origin", None);
        if origin == main_origin {
            p.push(
                origin_span,
                &format!("{lpath}.origin"),
                format!(
                    "`{lpath}.origin` = \"{origin}\" is the manufacturer's own origin: a production line must sit in another origin (the main line is `capacity_units_per_month`)"
                ),
            );
        }
        let capacity_units_per_month = l.u64(p, "capacity_units_per_month", Bounds::closed(0.0, 1e9), None);
        let unit_cost_uplift_share = l.f64(p, "unit_cost_uplift_share", Bounds::closed(0.0, 10.0), Some(0.15));
        let fixed_cost_usd_per_month = l.f64(p, "fixed_cost_usd_per_month", Bounds::closed(0.0, 1e13), Some(0.0));
        // A line starting after the horizon never assembles nor costs anything in the run, so a scenario
        // can be shortened without editing its lines.
        let from_month_offset = if l.has("from_month") {
            let (from, _) = l.year_month(p, "from_month");
            match (from, start) {
                (Some(from), Some(start)) => from.months_since(start),
                _ => 0,
            }
        } else {
            0
        };
        l.finish(p);
        if origin.is_empty() || origin == main_origin {
            continue;
        }
        lines.push(ProductionLineParams {
            origin_idx: origin_idx(origins, &origin),
            capacity_units_per_month,
            unit_cost_uplift_share,
            from_month_offset,
            fixed_cost_usd_per_month,
        });
    }
    lines
}

fn read_manufacturers(
    top: &mut Section,
    p: &mut Problems,
    sources: &[Source],
    generations: &[GenerationParams],
    regions: &[RegionParams],
    origins: &mut Vec<String>,
    start: Option<YearMonth>,
) -> Vec<ManufacturerParams> {
    let generation_names: Vec<&str> = generations.iter().map(|g| g.name.as_str()).collect();
    let region_names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    let mut out = vec![];
    let mut names = vec![];
    for (i, mut m) in top.tables(p, "manufacturers", false).into_iter().enumerate() {
        let path = format!("manufacturers[{i}]");
        let (name, name_span) = m.string(p, "name", None);
        names.push((name.clone(), name_span));
        let cash_usd = m.f64(p, "cash_usd", Bounds::closed(-1e15, 1e15), None);
        let credit_line_usd = m.f64(p, "credit_line_usd", Bounds::closed(0.0, 1e15), Some(0.0));
        let credit_interest_rate_per_month = m.f64(p, "credit_interest_rate_per_month", Bounds::share(), Some(0.008));
        let capacity_units_per_month = m.u64(p, "capacity_units_per_month", Bounds::closed(0.0, 1e9), None);
        let foundry_allotment_units_per_month = m.u64(
            p,
            "foundry_allotment_units_per_month",
            Bounds::closed(0.0, 1e9),
            Some(capacity_units_per_month),
        );
        let wafer_cost_share = m.f64(p, "wafer_cost_share", Bounds::share(), Some(0.6));
        let fixed_opex_usd_per_month = m.f64(p, "fixed_opex_usd_per_month", Bounds::closed(0.0, 1e13), None);
        let rnd_usd_per_month = m.f64(p, "rnd_usd_per_month", Bounds::closed(0.0, 1e13), Some(0.0));
        let distress_cost_cut_share = m.f64(p, "distress_cost_cut_share", Bounds::share(), Some(0.3));
        let variable_cost_share = m.f64(p, "variable_cost_share", Bounds::share(), Some(0.0));
        let initial_inventory_units = m.u64(p, "initial_inventory_units", Bounds::closed(0.0, 1e10), Some(0));
        let (origin, _) = m.string(p, "origin", Some("china"));
        let origin_idx = origin_idx(origins, &origin);
        let mut local_assembly_region_idxs = vec![];
        match m.node("local_assembly_regions") {
            Some(crate::scenario::raw::Node {
                value: Value::Array(items),
                ..
            }) => {
                for item in items {
                    match &item.value {
                        Value::Str(region) => {
                            let key = format!("{path}.local_assembly_regions");
                            if let Some(r) = lookup_name(p, &key, "region", region, item.span.clone(), &region_names) {
                                local_assembly_region_idxs.push(r);
                            }
                        }
                        other => p.push(
                            item.span.clone(),
                            &format!("{path}.local_assembly_regions"),
                            format!(
                                "`{path}.local_assembly_regions` must list region names, found {}",
                                other.type_name()
                            ),
                        ),
                    }
                }
            }
            Some(node) => p.push(
                node.span.clone(),
                &format!("{path}.local_assembly_regions"),
                format!("`{path}.local_assembly_regions` must be an array of region names"),
            ),
            None => {}
        }
        let local_assembly_uplift_share = m.f64(p, "local_assembly_uplift_share", Bounds::closed(0.0, 10.0), Some(0.1));
        let initial_wafer_units_per_month =
            m.u64(p, "initial_wafer_units_per_month", Bounds::closed(0.0, 1e9), Some(0));
        // Wafers are ordered only up to what the main line can assemble in the month they arrive; lots in
        // flight at the start beyond it would wait in work in progress (for ever at a capacity of 0).
        if initial_wafer_units_per_month > capacity_units_per_month
            && !follows_from(p, &path, &["capacity_units_per_month"])
        {
            let spans = ["initial_wafer_units_per_month", "capacity_units_per_month"]
                .map(|key| m.table.get(key).and_then(|n| n.span.clone()));
            p.push(
                spans[0].clone(),
                &format!("{path}.initial_wafer_units_per_month"),
                format!(
                    "`{path}.initial_wafer_units_per_month` = {initial_wafer_units_per_month} is out of range: must be \
                     in [0, {capacity_units_per_month}], at most `capacity_units_per_month` (machines arriving faster \
                     than they can be assembled would wait unassembled){}",
                    set_note(sources, &spans)
                ),
            );
        }
        let self_mining_power_price_usd_per_kwh = m.f64(
            p,
            "self_mining_power_price_usd_per_kwh",
            Bounds::above_up_to(0.0, 100.0),
            Some(0.045),
        );
        let self_mining_region_idx = if m.has("self_mining_region") {
            let (region, region_span) = m.string(p, "self_mining_region", None);
            lookup_name(
                p,
                &format!("{path}.self_mining_region"),
                "region",
                &region,
                region_span,
                &region_names,
            )
        } else {
            None
        };
        let production_lines = read_production_lines(&mut m, p, &path, &origin, origins, start);
        let hosting_mw = m.f64(p, "hosting_mw", Bounds::closed(0.0, 1e6), Some(0.0));
        let hosting_price_usd_per_mw_month =
            m.f64(p, "hosting_price_usd_per_mw_month", Bounds::closed(0.0, 1e9), Some(0.0));
        let hosting_cost_usd_per_mw_month =
            m.f64(p, "hosting_cost_usd_per_mw_month", Bounds::closed(0.0, 1e9), Some(0.0));
        let ai_chip_revenue_usd_per_month =
            m.f64(p, "ai_chip_revenue_usd_per_month", Bounds::closed(0.0, 1e13), Some(0.0));
        let ai_chip_opex_usd_per_month = m.f64(p, "ai_chip_opex_usd_per_month", Bounds::closed(0.0, 1e13), Some(0.0));
        let ai_chip_exit_cost_usd = m.f64(p, "ai_chip_exit_cost_usd", Bounds::closed(0.0, 1e13), Some(0.0));
        let ai_chip_exit_month_offset = if m.has("ai_chip_exit_month") {
            let (exit, _) = m.year_month(p, "ai_chip_exit_month");
            match (exit, start) {
                (Some(exit), Some(start)) => Some(exit.months_since(start)),
                _ => None,
            }
        } else {
            None
        };
        let mut roadmap = vec![];
        for (j, mut e) in m.tables(p, "roadmap", true).into_iter().enumerate() {
            let epath = format!("{path}.roadmap[{j}]");
            let (generation, generation_span) = e.string(p, "generation", None);
            let (sell_from, sell_span) = e.year_month(p, "sell_from_month");
            let unit_cost_usd = e.f64(p, "unit_cost_usd", Bounds::above_up_to(0.0, 1e9), None);
            e.finish(p);
            let g = lookup_name(
                p,
                &format!("{epath}.generation"),
                "generation",
                &generation,
                generation_span,
                &generation_names,
            );
            // An entry selling from after the horizon stays: the wafers of the last `wafer_lead_months` of the
            // run arrive after it, and are planned, priced and sold ahead as the generation then current.
            if let (Some(g), Some(sell_from)) = (g, sell_from) {
                if sell_from < generations[g].release {
                    p.push(
                        sell_span,
                        &format!("{epath}.sell_from_month"),
                        format!("`{epath}.sell_from_month` = {sell_from} is before generation \"{generation}\" is released ({})", generations[g].release),
                    );
                }
                roadmap.push(RoadmapEntry {
                    generation_idx: g,
                    sell_from,
                    sell_from_month_offset: start.map_or(0, |s| sell_from.months_since(s)),
                    unit_cost_usd,
                });
            }
        }
        let roadmap_span = m.table.get("roadmap").and_then(|n| n.span.clone()).or(m.span.clone());
        if roadmap.windows(2).any(|w| w[1].sell_from <= w[0].sell_from) {
            p.push(
                roadmap_span.clone(),
                &format!("{path}.roadmap"),
                format!("`{path}.roadmap` entries must be listed in increasing `sell_from_month` order"),
            );
        }
        if roadmap.is_empty() && p.is_empty() {
            p.push(
                roadmap_span,
                &format!("{path}.roadmap"),
                format!("`{path}.roadmap` needs at least one entry"),
            );
        }
        let strategy = match m.table(p, "strategy", true) {
            Some(mut s) => {
                let strategy = read_strategy(&mut s, p);
                s.finish(p);
                Some(strategy)
            }
            None => None,
        };
        m.finish(p);
        if let Some(strategy) = strategy {
            out.push(ManufacturerParams {
                name,
                cash_usd,
                credit_line_usd,
                credit_interest_rate_per_month,
                capacity_units_per_month,
                foundry_allotment_units_per_month,
                wafer_cost_share,
                fixed_opex_usd_per_month,
                rnd_usd_per_month,
                distress_cost_cut_share,
                variable_cost_share,
                initial_inventory_units,
                initial_wafer_units_per_month,
                self_mining_power_price_usd_per_kwh,
                origin_idx,
                local_assembly_region_idxs,
                local_assembly_uplift_share,
                production_lines,
                self_mining_region_idx,
                hosting_mw,
                hosting_price_usd_per_mw_month,
                hosting_cost_usd_per_mw_month,
                ai_chip_revenue_usd_per_month,
                ai_chip_opex_usd_per_month,
                ai_chip_exit_month_offset,
                ai_chip_exit_cost_usd,
                roadmap,
                strategy,
            });
        }
    }
    check_unique_names(p, "manufacturer", &names);
    out
}

fn read_dealers(top: &mut Section, p: &mut Problems) -> DealerParams {
    // Without a [dealers] table every key takes its default.
    let mut s = top
        .table(p, "dealers", false)
        .unwrap_or_else(|| Section::new(&EMPTY_TABLE, "dealers", None));
    let dealers = DealerParams {
        cash_usd: s.f64(p, "cash_usd", Bounds::closed(-1e15, 1e15), Some(0.0)),
        credit_line_usd: s.f64(p, "credit_line_usd", Bounds::closed(0.0, 1e15), Some(0.0)),
        wholesale_discount_share: s.f64(p, "wholesale_discount_share", Bounds::share(), Some(0.05)),
        bull_markup_share: s.f64(p, "bull_markup_share", Bounds::closed(0.0, 10.0), Some(0.15)),
        bear_dump_discount_share: s.f64(p, "bear_dump_discount_share", Bounds::share(), Some(0.2)),
        bull_stock_months: s.f64(p, "bull_stock_months", Bounds::closed(0.0, 60.0), Some(2.0)),
        bear_installment_take_share: s.f64(p, "bear_installment_take_share", Bounds::share(), Some(0.2)),
        default_probability_per_month: s.f64(p, "default_probability_per_month", Bounds::share(), Some(0.1)),
        credit_interest_rate_per_month: s.f64(p, "credit_interest_rate_per_month", Bounds::share(), Some(0.012)),
        demand_smoothing_share: s.f64(p, "demand_smoothing_share", Bounds::above_up_to(0.0, 1.0), Some(0.3)),
    };
    s.finish(p);
    dealers
}

fn read_secondary_market(top: &mut Section, p: &mut Problems) -> SecondaryMarketParams {
    let Some(mut s) = top.table(p, "secondary_market", true) else {
        return SecondaryMarketParams {
            used_payback_months: 1.0,
            scrap_value_usd_per_unit: 0.0,
            dealer_stock_price_impact_share: 0.0,
            reference_power_price_usd_per_kwh: 1.0,
            retired_sale_share: 0.5,
            retired_price_discount_share: 0.3,
        };
    };
    let market = SecondaryMarketParams {
        used_payback_months: s.f64(p, "used_payback_months", Bounds::above_up_to(0.0, 600.0), None),
        scrap_value_usd_per_unit: s.f64(p, "scrap_value_usd_per_unit", Bounds::closed(0.0, 1e7), None),
        dealer_stock_price_impact_share: s.f64(p, "dealer_stock_price_impact_share", Bounds::share(), Some(0.3)),
        reference_power_price_usd_per_kwh: s.f64(
            p,
            "reference_power_price_usd_per_kwh",
            Bounds::above_up_to(0.0, 100.0),
            None,
        ),
        retired_sale_share: s.f64(p, "retired_sale_share", Bounds::share(), Some(0.5)),
        retired_price_discount_share: s.f64(p, "retired_price_discount_share", Bounds::share(), Some(0.3)),
    };
    s.finish(p);
    market
}

fn read_key_account_firms(top: &mut Section, p: &mut Problems) -> KeyAccountFirmsParams {
    // Without a [key_account_firms] table the key accounts stay one pooled book.
    let mut s = top
        .table(p, "key_account_firms", false)
        .unwrap_or_else(|| Section::new(&EMPTY_TABLE, "key_account_firms", None));
    let n_firms = s.u32(p, "n_firms", Bounds::closed(0.0, 200.0), Some(0));
    let size_dispersion_log = s.f64(p, "size_dispersion_log", Bounds::closed(0.0, 5.0), Some(1.0));
    let cash_dispersion_log = s.f64(p, "cash_dispersion_log", Bounds::closed(0.0, 5.0), Some(0.5));
    let min_debt = s.f64(p, "min_debt_to_fleet_value_share", Bounds::closed(0.0, 10.0), Some(0.0));
    let max_debt_span = s
        .table
        .get("max_debt_to_fleet_value_share")
        .and_then(|n| n.span.clone());
    let max_debt = s.f64(p, "max_debt_to_fleet_value_share", Bounds::closed(0.0, 10.0), Some(0.8));
    if max_debt < min_debt {
        p.push(
            max_debt_span.or(s.span.clone()),
            "key_account_firms.max_debt_to_fleet_value_share",
            format!(
                "`key_account_firms.max_debt_to_fleet_value_share` = {max_debt} must be at least \
                 `min_debt_to_fleet_value_share` = {min_debt}"
            ),
        );
    }
    let notes_share_of_debt = s.f64(p, "notes_share_of_debt", Bounds::share(), Some(0.4));
    let term_loan_months = s.u32(p, "term_loan_months", Bounds::closed(1.0, 360.0), Some(36));
    let notes_maturity_months = s.u32(p, "notes_maturity_months", Bounds::closed(1.0, 360.0), Some(36));
    let debt_interest_rate_per_month = s.f64(p, "debt_interest_rate_per_month", Bounds::share(), Some(0.01));
    let overhead_usd_per_ths_month = s.f64(p, "overhead_usd_per_ths_month", Bounds::closed(0.0, 1e3), Some(0.5));
    let min_hold = s.f64(p, "min_btc_hold_share", Bounds::share(), Some(0.0));
    let max_hold_span = s.table.get("max_btc_hold_share").and_then(|n| n.span.clone());
    let max_hold = s.f64(p, "max_btc_hold_share", Bounds::share(), Some(0.5));
    if max_hold < min_hold {
        p.push(
            max_hold_span.or(s.span.clone()),
            "key_account_firms.max_btc_hold_share",
            format!(
                "`key_account_firms.max_btc_hold_share` = {max_hold} must be at least `min_btc_hold_share` = {min_hold}"
            ),
        );
    }
    let equipment_loan_share = s.f64(p, "equipment_loan_share", Bounds::share(), Some(0.3));
    let max_loan_to_value_share = s.f64(p, "max_loan_to_value_share", Bounds::closed(0.0, 10.0), Some(0.6));
    let site_capex_usd_per_mw = s.f64(p, "site_capex_usd_per_mw", Bounds::closed(0.0, 1e8), Some(3.5e5));
    let bull_equity_raise_share_per_month = s.f64(p, "bull_equity_raise_share_per_month", Bounds::share(), Some(0.02));
    let fire_sale_discount_share = s.f64(p, "fire_sale_discount_share", Bounds::share(), Some(0.5));
    let cash_reserve_months = s.f64(p, "cash_reserve_months", Bounds::closed(0.0, 120.0), Some(6.0));
    let consolidation_spend_share = s.f64(p, "consolidation_spend_share", Bounds::share(), Some(0.3));
    let firms_span = s.table.get("firms").and_then(|n| n.span.clone());
    let mut firms = vec![];
    for (i, mut f) in s.tables(p, "firms", false).into_iter().enumerate() {
        let (name, _) = f.string(p, "name", Some(&format!("firm{}", i + 1)));
        firms.push(FirmSpec {
            name,
            fleet_share: f.f64(p, "fleet_share", Bounds::above_up_to(0.0, 1.0), None),
            cash_usd: f.f64(p, "cash_usd", Bounds::closed(0.0, 1e15), None),
            credit_line_usd: f.f64(p, "credit_line_usd", Bounds::closed(0.0, 1e15), Some(0.0)),
            term_debt_usd: f.f64(p, "term_debt_usd", Bounds::closed(0.0, 1e15), Some(0.0)),
            notes_usd: f.f64(p, "notes_usd", Bounds::closed(0.0, 1e15), Some(0.0)),
            notes_maturity_months: f.u32(
                p,
                "notes_maturity_months",
                Bounds::closed(1.0, 360.0),
                Some(notes_maturity_months),
            ),
            btc_hold_share: f.f64(p, "btc_hold_share", Bounds::share(), Some(min_hold)),
        });
        f.finish(p);
    }
    if !firms.is_empty() && !follows_from(p, "key_account_firms", &["fleet_share"]) {
        check_share_sum(
            p,
            firms_span,
            "key_account_firms.firms' fleet_share values",
            firms.iter().map(|f| f.fleet_share).sum(),
            "",
        );
    }
    s.finish(p);
    KeyAccountFirmsParams {
        n_firms,
        size_dispersion_log,
        cash_dispersion_log,
        min_debt_to_fleet_value_share: min_debt,
        max_debt_to_fleet_value_share: max_debt,
        notes_share_of_debt,
        term_loan_months,
        notes_maturity_months,
        debt_interest_rate_per_month,
        overhead_usd_per_ths_month,
        min_btc_hold_share: min_hold,
        max_btc_hold_share: max_hold,
        equipment_loan_share,
        max_loan_to_value_share,
        site_capex_usd_per_mw,
        bull_equity_raise_share_per_month,
        fire_sale_discount_share,
        cash_reserve_months,
        consolidation_spend_share,
        firms,
    }
}

fn read_hosting(
    top: &mut Section,
    p: &mut Problems,
    regions: &[RegionParams],
    start: Option<YearMonth>,
    horizon_end: Option<YearMonth>,
    calendar_note: &str,
) -> HostingParams {
    // Without a [hosting] table every key takes its default and nothing is on offer.
    let mut s = top
        .table(p, "hosting", false)
        .unwrap_or_else(|| Section::new(&EMPTY_TABLE, "hosting", None));
    let defaults = HostingParams::default();
    let hurdle_share = s.f64(
        p,
        "hurdle_share",
        Bounds::closed(0.0, 10.0),
        Some(defaults.hurdle_share),
    );
    let max_conversion_share_per_month = s.f64(
        p,
        "max_conversion_share_per_month",
        Bounds::share(),
        Some(defaults.max_conversion_share_per_month),
    );
    let max_converted_share = s.f64(
        p,
        "max_converted_share",
        Bounds::share(),
        Some(defaults.max_converted_share),
    );
    let operating_cost_share = s.f64(
        p,
        "operating_cost_share",
        Bounds::share(),
        Some(defaults.operating_cost_share),
    );
    let redeploy_share = s.f64(p, "redeploy_share", Bounds::share(), Some(defaults.redeploy_share));
    let machine_budget_cut_share = s.f64(
        p,
        "machine_budget_cut_share",
        Bounds::share(),
        Some(defaults.machine_budget_cut_share),
    );
    let ring_fenced_share = s.f64(
        p,
        "ring_fenced_share",
        Bounds::share(),
        Some(defaults.ring_fenced_share),
    );
    let region_names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    let mut contracts = vec![];
    for (i, mut c) in s.tables(p, "contracts", false).into_iter().enumerate() {
        let path = format!("hosting.contracts[{i}]");
        let (region, region_span) = c.string(p, "region", None);
        let (from, from_span) = c.year_month(p, "from_month");
        let (until, until_span) = c.year_month(p, "until_month");
        let offered_mw = c.f64(p, "offered_mw", Bounds::above_up_to(0.0, 1e6), None);
        let price_usd_per_mw_year = c.f64(p, "price_usd_per_mw_year", Bounds::closed(0.0, 1e8), None);
        let term_months = c.u32(p, "term_months", Bounds::closed(1.0, 360.0), None);
        let conversion_cost_usd_per_mw = c.f64(p, "conversion_cost_usd_per_mw", Bounds::closed(0.0, 1e9), None);
        let conversion_lag_months = c.u32(p, "conversion_lag_months", Bounds::closed(0.0, 60.0), None);
        let cancellation_per_month = c.f64(p, "cancellation_hazard_per_month", Bounds::share(), Some(0.0));
        c.finish(p);
        let region_idx = lookup_name(
            p,
            &format!("{path}.region"),
            "region",
            &region,
            region_span,
            &region_names,
        );
        let (Some(region_idx), Some(from), Some(until), Some(start), Some(end)) =
            (region_idx, from, until, start, horizon_end)
        else {
            continue;
        };
        let last = end.plus_months(-1);
        if until < from {
            p.push(
                until_span,
                &format!("{path}.until_month"),
                format!("`{path}.until_month` = {until} must not be before `from_month` = {from}"),
            );
            continue;
        }
        if from > last || until < start {
            p.push(
                from_span,
                &format!("{path}.from_month"),
                format!("`{path}.from_month` to `until_month` ({from} to {until}) must overlap the simulated months {start} to {last}{calendar_note}"),
            );
            continue;
        }
        let month_of = |ym: YearMonth| Month(ym.max(start).min(last).months_since(start) as u32);
        contracts.push(HostingContractOffer {
            region_idx,
            from: month_of(from),
            until: month_of(until),
            offered_mw,
            price_usd_per_mw_year,
            term_months,
            conversion_cost_usd_per_mw,
            conversion_lag_months,
            cancellation_per_month,
        });
    }
    s.finish(p);
    HostingParams {
        contracts,
        hurdle_share,
        max_conversion_share_per_month,
        max_converted_share,
        operating_cost_share,
        redeploy_share,
        machine_budget_cut_share,
        ring_fenced_share,
    }
}

fn read_relocation(top: &mut Section, p: &mut Problems) -> RelocationParams {
    // Without a [relocation] table every key takes its default.
    let mut s = top
        .table(p, "relocation", false)
        .unwrap_or_else(|| Section::new(&EMPTY_TABLE, "relocation", None));
    let lag_months = s.u32(p, "lag_months", Bounds::closed(0.0, 60.0), Some(3));
    let max_wait_span = s
        .table
        .get("max_wait_months")
        .and_then(|n| n.span.clone())
        .or(s.span.clone());
    let max_wait_months = s.u32(p, "max_wait_months", Bounds::closed(0.0, 120.0), Some(9));
    if max_wait_months < lag_months {
        p.push(
            max_wait_span,
            "relocation.max_wait_months",
            format!("`relocation.max_wait_months` = {max_wait_months} must be at least `lag_months` = {lag_months}"),
        );
    }
    let relocation = RelocationParams {
        lag_months,
        cost_usd_per_unit: s.f64(p, "cost_usd_per_unit", Bounds::closed(0.0, 1e7), Some(150.0)),
        max_wait_months,
        stranded_sale_share: s.f64(p, "stranded_sale_share", Bounds::share(), Some(0.5)),
        stranded_price_discount_share: s.f64(p, "stranded_price_discount_share", Bounds::share(), Some(0.3)),
        overhang_persistence_per_month: s.f64(p, "overhang_persistence_per_month", Bounds::share(), Some(0.7)),
    };
    s.finish(p);
    relocation
}

/// The kinds of a scripted event (`[[events]]`'s `kind`).
const EVENT_KINDS: [&str; 7] = [
    "price_shock",
    "set_regime",
    "power_shock",
    "ban",
    "tariff",
    "tightening",
    "foundry_shortage",
];

fn read_events(
    top: &mut Section,
    p: &mut Problems,
    regions: &[RegionParams],
    origins: &mut Vec<String>,
    start: Option<YearMonth>,
    horizon_end: Option<YearMonth>,
    calendar_note: &str,
) -> Vec<ScriptedEvent> {
    let region_names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    let mut out = vec![];
    for (i, mut e) in top.tables(p, "events", false).into_iter().enumerate() {
        let path = format!("events[{i}]");
        let (at, at_span) = e.year_month(p, "month");
        let kind = e.choice(p, "kind", &EVENT_KINDS, None);
        // Which other keys an event has depends on its kind: with no kind known, they are neither read nor
        // reported as unknown, which would only follow from the kind's problem.
        let kind_known = matches!(
            e.table.get("kind").map(|n| &n.value),
            Some(Value::Str(k)) if EVENT_KINDS.contains(&k.as_str())
        );
        if !kind_known {
            continue;
        }
        let region_key = format!("{path}.region");
        let kind = match kind.as_str() {
            "price_shock" => Some(ScriptedEventKind::PriceShock {
                factor: e.f64(p, "factor", Bounds::above_up_to(0.0, 1e6), None),
            }),
            "set_regime" => Some(ScriptedEventKind::SetRegime {
                regime: read_regime(&mut e, p, "regime", None),
            }),
            "power_shock" => {
                let (region, region_span) = e.string(p, "region", None);
                let factor = e.f64(p, "factor", Bounds::above_up_to(0.0, 1e6), None);
                let decay_per_month = e.f64(p, "decay_per_month", Bounds::share(), Some(0.2));
                lookup_name(
                    p,
                    &format!("{path}.region"),
                    "region",
                    &region,
                    region_span,
                    &region_names,
                )
                .map(|region_idx| ScriptedEventKind::PowerShock {
                    region_idx,
                    factor,
                    decay_per_month,
                })
            }
            "ban" => {
                let (region, region_span) = e.string(p, "region", None);
                let share = e.f64(p, "share", Bounds::share(), None);
                lookup_name(p, &region_key, "region", &region, region_span, &region_names)
                    .map(|region_idx| ScriptedEventKind::Ban { region_idx, share })
            }
            "tariff" => {
                let (region, region_span) = e.string(p, "region", None);
                let (origin, _) = e.string(p, "origin", None);
                let rate_share = e.f64(p, "rate_share", Bounds::closed(0.0, 10.0), None);
                let origin_idx = origin_idx(origins, &origin);
                lookup_name(p, &region_key, "region", &region, region_span, &region_names).map(|region_idx| {
                    ScriptedEventKind::Tariff {
                        region_idx,
                        origin_idx,
                        rate_share,
                    }
                })
            }
            "tightening" => {
                let (region, region_span) = e.string(p, "region", None);
                let opex_increase_share = e.f64(p, "opex_increase_share", Bounds::closed(0.0, 10.0), None);
                lookup_name(p, &region_key, "region", &region, region_span, &region_names).map(|region_idx| {
                    ScriptedEventKind::Tightening {
                        region_idx,
                        opex_increase_share,
                    }
                })
            }
            "foundry_shortage" => Some(ScriptedEventKind::FoundryShortage {
                factor: e.f64(p, "factor", Bounds::share(), None),
                duration_months: e.u32(p, "duration_months", Bounds::closed(1.0, 120.0), None),
            }),
            _ => None,
        };
        e.finish(p);
        let (Some(at), Some(kind), Some(start), Some(end)) = (at, kind, start, horizon_end) else {
            continue;
        };
        if at < start || at >= end {
            p.push(
                at_span,
                &format!("{path}.month"),
                format!(
                    "`{path}.month` = {at} is outside the simulated months {start} to {}{calendar_note}",
                    end.plus_months(-1)
                ),
            );
            continue;
        }
        out.push(ScriptedEvent {
            month: Month(at.months_since(start) as u32),
            at,
            kind,
        });
    }
    out
}
