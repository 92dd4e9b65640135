//! What the run charts and report show, read back from a run's Parquet files and `run.json`: quantiles per
//! month across paths, per-month medians, event markers, and end-of-horizon key figures.
//!
//! Everything is computed sequentially in path and month order, so the same files give the same figures.

use std::collections::BTreeMap;
use std::path::Path;

use crate::batch::manifest::{RunManifest, StrategyEntry};
use crate::output::OutputError;
use crate::output::charts::axes::{Marker, MarkerKind};
use crate::output::charts::data::{Codes, MonthlyFans, Table, year_month_of_days};
use crate::output::charts::format;
use crate::stats::Quantiles;
use crate::stats::grouped::{DEFAULT_BUDGET_BYTES, grouped_quantiles};
use hashcycle_model::market::network::SATS_PER_BTC;
use hashcycle_model::units::YearMonth;
use polars::prelude::BooleanChunked;

/// Named series per month, stacked in order: (label, value per month).
pub type Layers = Vec<(String, Vec<f64>)>;

/// One manufacturer's monthly series.
#[derive(Debug)]
pub struct MakerSeries {
    pub name: String,
    pub strategy: Option<StrategyEntry>,
    pub cash_usd: Vec<Quantiles>,
    /// Median units per month by where they went: futures deliveries, spot, dealers, self-mining.
    pub flows_units: Vec<(String, Vec<f64>)>,
    pub produced_units: Vec<f64>,
    pub inventory_units: Vec<f64>,
    pub backlog_units: Vec<f64>,
    /// Median revenue per month by line (machines, self-mining, hosting, AI chips), in USD; empty when the
    /// manufacturer has no hosting business or AI-chip unit, or the run predates them.
    pub revenue_by_line_usd: Layers,
}

/// End-of-horizon figures of one manufacturer across paths, for the report.
#[derive(Debug)]
pub struct MakerFigures {
    pub name: String,
    pub n_paths: usize,
    pub p_cash_below_zero: f64,
    pub p_distressed: f64,
    pub min_cash_usd: Option<Quantiles>,
    pub end_cash_usd: Option<Quantiles>,
    pub revenue_usd: Option<Quantiles>,
    pub gross_margin_usd: Option<Quantiles>,
    pub walk_away_rate_mean: f64,
    pub market_share_mean: f64,
}

/// End-of-horizon figures of the network across paths.
#[derive(Debug)]
pub struct NetworkFigures {
    pub end_price_usd: Option<Quantiles>,
    pub end_hashrate_ehs: Option<Quantiles>,
    pub max_drawdown_share: Option<Quantiles>,
    pub n_halvings_median: f64,
}

/// Everything the run charts and report need.
pub struct RunData {
    pub info: RunManifest,
    pub start: YearMonth,
    pub n_months: usize,
    pub price_usd: Vec<Quantiles>,
    pub hashrate_ehs: Vec<Quantiles>,
    pub hashprice_usd_per_ph_day: Vec<Quantiles>,
    pub makers: Vec<MakerSeries>,
    pub dealer_inventory_units: Vec<Quantiles>,
    /// Median MW per month by use (mining, converting to AI, hosting AI, AI data centres), each summed over
    /// the regions; `None` when no region has AI hosting or AI power demand, or the run predates them.
    pub sites_by_use_mw: Option<Layers>,
    pub markers: Vec<Marker>,
    pub maker_figures: Vec<MakerFigures>,
    pub network_figures: NetworkFigures,
}

/// The tables a run directory must hold for its charts and report.
pub const RUN_TABLES: [&str; 6] = [
    "network.parquet",
    "miners.parquet",
    "manufacturers.parquet",
    "dealers.parquet",
    "events.parquet",
    "summary.parquet",
];

impl RunData {
    pub fn load(dir: &Path) -> Result<RunData, OutputError> {
        RunData::load_within(dir, DEFAULT_BUDGET_BYTES)
    }

    /// Loads with about `budget_bytes` of values held at once for the quantiles across paths: the figures
    /// do not depend on it, only the number of passes over the tables does.
    pub(crate) fn load_within(dir: &Path, budget_bytes: usize) -> Result<RunData, OutputError> {
        // Check every table first, so a damaged directory is reported before any work.
        for table in RUN_TABLES {
            if !dir.join(table).is_file() {
                return Err(OutputError::Missing {
                    path: dir.join(table),
                    message: format!("table {table} is missing, so the charts cannot be drawn"),
                });
            }
        }
        let info = RunManifest::read(dir)?;

        // Each table is read for the columns drawn only, in slices: the tables grow with paths, the charts'
        // inputs do not.
        let network = MonthlyFans::read(
            dir,
            "network.parquet",
            None,
            &["price_usd", "hashrate_ehs", "hashprice_usd_per_ph_day"],
            budget_bytes,
        )?;
        let (price_usd, hashrate_ehs, hashprice_usd_per_ph_day) =
            (network.fan(0, 0), network.fan(1, 0), network.fan(2, 0));

        // Cash as a fan; the rest as medians, each by manufacturer.
        let maker_columns = [
            "cash_usd",
            "units_delivered",
            "units_sold_spot",
            "units_sold_dealers",
            "units_self_mined",
            "units_produced",
            "inventory_units",
            "backlog_units",
        ];
        let flow_labels = ["Delivered on futures", "Sold spot", "Sold to dealers", "Self-mined"];
        let per_maker = MonthlyFans::read(
            dir,
            "manufacturers.parquet",
            Some("manufacturer"),
            &maker_columns,
            budget_bytes,
        )?;
        let mut makers = per_maker
            .keys
            .iter()
            .enumerate()
            .map(|(code, name)| MakerSeries {
                name: name.clone(),
                strategy: info.strategy(name).cloned(),
                cash_usd: per_maker.fan(0, code),
                flows_units: flow_labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| (label.to_string(), per_maker.medians(1 + i, code)))
                    .collect(),
                produced_units: per_maker.medians(5, code),
                inventory_units: per_maker.medians(6, code),
                backlog_units: per_maker.medians(7, code),
                revenue_by_line_usd: vec![],
            })
            .collect::<Vec<MakerSeries>>();

        let revenue_lines = [
            ("revenue_usd", "Machines"),
            ("self_mining_revenue_usd", "Self-mining"),
            ("hosting_revenue_usd", "Hosting"),
            ("ai_chip_revenue_usd", "AI chips"),
        ];
        let revenue_columns: Vec<&str> = revenue_lines.iter().map(|(c, _)| *c).collect();
        if Table::has_columns(dir, "manufacturers.parquet", &revenue_columns)? {
            let revenue = MonthlyFans::read(
                dir,
                "manufacturers.parquet",
                Some("manufacturer"),
                &revenue_columns,
                budget_bytes,
            )?;
            for maker in &mut makers {
                let Some(code) = revenue.keys.iter().position(|k| *k == maker.name) else {
                    continue;
                };
                let lines: Vec<(String, Vec<f64>)> = revenue_lines
                    .iter()
                    .enumerate()
                    .map(|(c, (_, label))| (label.to_string(), revenue.medians(c, code)))
                    .collect();
                // Drawn only for a manufacturer with a line besides machines and self-mining.
                if lines[2..].iter().any(|(_, v)| v.iter().any(|x| *x > 0.0)) {
                    maker.revenue_by_line_usd = lines;
                }
            }
        }
        let sites_by_use_mw = sites_by_use(dir, budget_bytes)?;

        let dealer_inventory_units =
            MonthlyFans::read(dir, "dealers.parquet", None, &["inventory_units"], budget_bytes)?.fan(0, 0);
        let markers = markers(dir, network.start, info.paths)?;
        let (maker_figures, network_figures) = figures(dir, budget_bytes)?;

        Ok(RunData {
            info,
            start: network.start,
            n_months: network.n_months,
            price_usd,
            hashrate_ehs,
            hashprice_usd_per_ph_day,
            makers,
            dealer_inventory_units,
            sites_by_use_mw,
            markers,
            maker_figures,
            network_figures,
        })
    }
}

/// Median MW per month of the regions' sites by use, each use summed over the regions (a sum of medians);
/// `None` when nothing converts to AI or hosts it and no AI data centre takes sites, or the run predates them.
fn sites_by_use(dir: &Path, budget_bytes: usize) -> Result<Option<Layers>, OutputError> {
    let uses = [
        ("capacity_used_mw", "Mining"),
        ("ai_converting_mw", "Converting to AI hosting"),
        ("ai_hosting_mw", "Hosting AI"),
        ("ai_power_demand_mw", "AI data centres"),
    ];
    let columns: Vec<&str> = uses.iter().map(|(c, _)| *c).collect();
    if !Table::has_columns(dir, "regions.parquet", &columns)? {
        return Ok(None);
    }
    let fans = MonthlyFans::read(dir, "regions.parquet", Some("region"), &columns, budget_bytes)?;
    let layers: Vec<(String, Vec<f64>)> = uses
        .iter()
        .enumerate()
        .map(|(c, (_, label))| {
            let mut total = vec![0.0; fans.n_months];
            for region in 0..fans.keys.len() {
                for (t, v) in total.iter_mut().zip(fans.medians(c, region)) {
                    if v.is_finite() {
                        *t += v;
                    }
                }
            }
            (label.to_string(), total)
        })
        .collect();
    let any_ai = layers[1..].iter().any(|(_, v)| v.iter().any(|x| *x > 0.0));
    Ok(any_ai.then_some(layers))
}

/// The events marked on time charts besides halvings: shocks, scripted or drawn.
const SHOCK_KINDS: [&str; 7] = [
    "price_shock",
    "set_regime",
    "power_shock",
    "ban",
    "tariff",
    "tightening",
    "foundry_shortage",
];

/// An event's label without its month: what happened, where, and how much.
fn shock_label(kind: &str, subject: &str, value: f64) -> String {
    match kind {
        "price_shock" => format!("Price shock ×{}", trim_float(value)),
        "set_regime" => format!("Regime set to {}", if value >= 0.5 { "bull" } else { "bear" }),
        "power_shock" => format!("Power shock {subject} ×{}", trim_float(value)),
        "ban" => format!("Ban {subject} {}", format::pct(value)),
        "tariff" => format!("Tariff {subject} {}", format::pct(value)),
        "tightening" => format!("Tightening {subject} +{}", trim_float(value)),
        _ => format!("Foundry shortage {} of allotments", format::pct(value)),
    }
}

/// The name of an event kind for a drawn marker.
fn shock_name(kind: &str, subject: &str) -> String {
    match kind {
        "price_shock" => "Price shock".to_string(),
        "set_regime" => "Regime change".to_string(),
        "power_shock" => format!("Power shock {subject}"),
        "ban" => format!("Ban {subject}"),
        "tariff" => format!("Tariff {subject}"),
        "tightening" => format!("Tightening {subject}"),
        _ => "Foundry shortage".to_string(),
    }
}

/// Halvings at the month most paths had them; scripted events at their month; and each kind of drawn event
/// (per region) at the month by which half the paths it happened on had had it, labelled with the share of
/// paths it happened on. The model records which events a region's hazards drew (column `drawn`).
fn markers(dir: &Path, start: YearMonth, n_paths: u32) -> Result<Vec<Marker>, OutputError> {
    let mut kinds_marked = vec!["halving"];
    kinds_marked.extend(SHOCK_KINDS);
    // Halvings are keyed by the subsidy they set (each path has the nth halving once), then by month.
    let mut halvings: BTreeMap<i64, BTreeMap<i64, usize>> = BTreeMap::new();
    // Scripted events by (month, label); drawn ones by (kind, subject): each path's first month, by path.
    let mut scripted: BTreeMap<(i64, String), ()> = BTreeMap::new();
    let mut drawn: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    let columns = ["path", "month", "kind", "subject", "value", "drawn"];
    // Read in slices, each cut to the marked kinds before anything else is taken from it.
    Table::for_each_slice(dir, "events.parquet", &columns, |slice| {
        let mask: BooleanChunked = slice
            .df
            .column("kind")
            .and_then(|c| c.str().cloned())
            .map_err(|e| OutputError::polars(&slice.path, e))?
            .iter()
            .map(|v| Some(v.is_some_and(|v| kinds_marked.contains(&v))))
            .collect();
        let events = Table {
            df: slice
                .df
                .filter(&mask)
                .map_err(|e| OutputError::polars(&slice.path, e))?,
            path: slice.path,
        };
        let paths = events.u32s("path")?;
        let kinds = events.strs("kind")?;
        let days = events.days("month")?;
        let values = events.f64s("value")?;
        let subjects = events.strs("subject")?;
        let drawn_col = events.bools("drawn")?;
        for row in 0..events.height() {
            let month = year_month_of_days(days[row]).months_since(start);
            match kinds[row].as_str() {
                "halving" => {
                    let subsidy_sats = (values[row] * SATS_PER_BTC as f64).round() as i64;
                    *halvings.entry(subsidy_sats).or_default().entry(month).or_default() += 1;
                }
                kind if drawn_col[row] => {
                    let path = paths[row] as usize;
                    if path >= n_paths as usize {
                        return Err(OutputError::Missing {
                            path: events.path.clone(),
                            message: format!("an event of path {path}, beyond the run's {n_paths} paths"),
                        });
                    }
                    let by_path = drawn.entry((kind.to_string(), subjects[row].clone())).or_default();
                    if by_path.len() <= path {
                        by_path.resize(path + 1, i64::MAX);
                    }
                    by_path[path] = by_path[path].min(month);
                }
                kind => {
                    scripted.insert((month, shock_label(kind, &subjects[row], values[row])), ());
                }
            }
        }
        Ok(())
    })?;
    let mut out = vec![];
    for (subsidy_sats, by_month) in halvings {
        // The month most paths had this halving; ties go to the earlier month.
        let mut best: Option<(i64, usize)> = None;
        for (&month, &n) in &by_month {
            if best.is_none_or(|(_, bn)| n > bn) {
                best = Some((month, n));
            }
        }
        if let Some((month, _)) = best {
            let subsidy = subsidy_sats as f64 / SATS_PER_BTC as f64;
            out.push(Marker {
                month_idx: month as f64,
                label: format!(
                    "Halving {} · subsidy {} BTC",
                    format::month(start, month as f64),
                    trim_float(subsidy)
                ),
                kind: MarkerKind::Halving,
            });
        }
    }
    for (month, label) in scripted.into_keys() {
        out.push(Marker {
            month_idx: month as f64,
            label: format!("{label} · {}", format::month(start, month as f64)),
            kind: MarkerKind::Scripted,
        });
    }
    for ((kind, subject), first_months) in drawn {
        // The month by which half the paths it happened on had had it (the lower median).
        let mut months: Vec<i64> = first_months.into_iter().filter(|&m| m != i64::MAX).collect();
        months.sort_unstable();
        let month = months[(months.len() - 1) / 2];
        out.push(Marker {
            month_idx: month as f64,
            label: format!(
                "{} drawn on {} of paths · half of them by {}",
                shock_name(&kind, &subject),
                format::pct(months.len() as f64 / f64::from(n_paths.max(1))),
                format::month(start, month as f64)
            ),
            kind: MarkerKind::Drawn,
        });
    }
    // Time order, then halvings before scripted events before drawn ones in the same month.
    out.sort_by(|a, b| a.month_idx.total_cmp(&b.month_idx).then(a.kind.cmp(&b.kind)));
    Ok(out)
}

/// A float without trailing zeros: 0.5, 1.5625, 2.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.8}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// End-of-horizon figures across paths, read from `summary.parquet` in slices (it has a row per path and
/// manufacturer): counts, shares and means in one pass, quantiles in as many as [`grouped_quantiles`] needs.
fn figures(dir: &Path, budget_bytes: usize) -> Result<(Vec<MakerFigures>, NetworkFigures), OutputError> {
    const FILE: &str = "summary.parquet";
    const MAKER_QUANTILES: [&str; 4] = ["min_cash_usd", "end_cash_usd", "revenue_usd", "gross_margin_usd"];
    const NETWORK_QUANTILES: [&str; 4] = [
        "end_price_usd",
        "end_hashrate_ehs",
        "max_hashrate_drawdown_share",
        "n_halvings",
    ];
    /// Counts and sums of one manufacturer; means skip values that are not finite, as [`mean`] does.
    #[derive(Default)]
    struct Tally {
        n_rows: usize,
        n_below: usize,
        n_distressed: usize,
        walk_away: (f64, usize),
        share: (f64, usize),
    }
    let add = |sum: &mut (f64, usize), value: f64| {
        if value.is_finite() {
            // Starting from the first value, as `f64::sum` does from -0.0 (the same bits).
            sum.0 = if sum.1 == 0 { value } else { sum.0 + value };
            sum.1 += 1;
        }
    };
    let mut codes = Codes::default();
    let mut tallies: Vec<Tally> = vec![];
    let tally_columns = [
        "manufacturer",
        "cash_below_zero",
        "distressed",
        "walk_away_rate",
        "market_share",
    ];
    Table::for_each_slice(dir, FILE, &tally_columns, |table| {
        let makers = table.key_codes("manufacturer", &mut codes)?;
        let (below, distressed) = (table.bools("cash_below_zero")?, table.bools("distressed")?);
        let (walk_away, share) = (table.f64s("walk_away_rate")?, table.f64s("market_share")?);
        tallies.resize_with(codes.names.len(), Tally::default);
        for (row, maker) in makers.into_iter().enumerate() {
            if let Some(k) = maker {
                let tally = &mut tallies[k];
                tally.n_rows += 1;
                tally.n_below += usize::from(below[row]);
                tally.n_distressed += usize::from(distressed[row]);
                add(&mut tally.walk_away, walk_away[row]);
                add(&mut tally.share, share[row]);
            }
        }
        Ok(())
    })?;

    // Quantiles: each manufacturer's four, then the network's four over each path's first row (network
    // figures are repeated on every manufacturer's row of a path).
    let n_makers = codes.names.len();
    let mut read = vec!["path", "manufacturer"];
    read.extend(MAKER_QUANTILES);
    read.extend(NETWORK_QUANTILES);
    let quantiles = grouped_quantiles(4 * n_makers + 4, budget_bytes, |sink| {
        let mut pass_codes = Codes {
            names: codes.names.clone(),
        };
        let mut previous_path: Option<u32> = None;
        Table::for_each_slice(dir, FILE, &read, |table| {
            let paths = table.u32s("path")?;
            let makers = table.key_codes("manufacturer", &mut pass_codes)?;
            for (c, column) in MAKER_QUANTILES.iter().enumerate() {
                for (value, maker) in table.f64s(column)?.into_iter().zip(&makers) {
                    if let Some(k) = *maker
                        && k < n_makers
                    {
                        sink(4 * k + c, value);
                    }
                }
            }
            let network: Vec<Vec<f64>> = NETWORK_QUANTILES
                .iter()
                .map(|c| table.f64s(c))
                .collect::<Result<_, _>>()?;
            for (row, &path) in paths.iter().enumerate() {
                if previous_path != Some(path) {
                    for (c, values) in network.iter().enumerate() {
                        sink(4 * n_makers + c, values[row]);
                    }
                }
                previous_path = Some(path);
            }
            Ok(())
        })
    })?;

    let ratio = |n: usize, of: usize| if of == 0 { f64::NAN } else { n as f64 / of as f64 };
    let maker_figures = codes
        .names
        .into_iter()
        .zip(tallies)
        .enumerate()
        .map(|(k, (name, tally))| MakerFigures {
            n_paths: tally.n_rows,
            p_cash_below_zero: ratio(tally.n_below, tally.n_rows),
            p_distressed: ratio(tally.n_distressed, tally.n_rows),
            min_cash_usd: quantiles[4 * k],
            end_cash_usd: quantiles[4 * k + 1],
            revenue_usd: quantiles[4 * k + 2],
            gross_margin_usd: quantiles[4 * k + 3],
            walk_away_rate_mean: tally.walk_away.0 / tally.walk_away.1 as f64,
            market_share_mean: tally.share.0 / tally.share.1 as f64,
            name,
        })
        .collect();
    let network = &quantiles[4 * n_makers..];
    let network_figures = NetworkFigures {
        end_price_usd: network[0],
        end_hashrate_ehs: network[1],
        max_drawdown_share: network[2],
        n_halvings_median: network[3].map_or(f64::NAN, |q| q.p50),
    };
    Ok((maker_figures, network_figures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{RunOptions, run};

    #[test]
    fn run_figures_do_not_depend_on_the_memory_budget() {
        let mut scenario = crate::scenario::shipped_base();
        scenario.params.simulation.horizon_months = 30;
        let out_dir = std::env::temp_dir().join(format!("hashcycle-unit-run-budget-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        let options = RunOptions {
            n_paths: Some(60),
            seed: None,
            out_dir: out_dir.clone(),
            threads: Some(1),
            progress: false,
        };
        let report = run(&scenario, &options).unwrap();
        // Everything the charts and report show, to the last bit (Debug prints floats exactly).
        let shown = |data: &RunData| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {}",
                data.price_usd,
                data.hashrate_ehs,
                data.hashprice_usd_per_ph_day,
                data.makers,
                data.dealer_inventory_units,
                data.markers,
                data.maker_figures,
                data.network_figures,
                data.start,
                data.n_months
            )
        };
        let whole = RunData::load(&report.dir).unwrap();
        // 60 paths × 30 months of 3 network columns are 5,400 values: a 1-byte budget keeps 768 at a time.
        let streamed = RunData::load_within(&report.dir, 1).unwrap();
        assert_eq!(whole.n_months, 30);
        assert_eq!(whole.makers.len(), scenario.params.manufacturers.len());
        assert!(whole.price_usd.iter().any(|q| q.p5 < q.p95), "the paths differ");
        assert_eq!(shown(&whole), shown(&streamed));
        let _ = std::fs::remove_dir_all(&out_dir);
    }
}
