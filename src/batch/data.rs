//! What the run charts and report show, read back from a run's Parquet files and `run.json`: quantiles per
//! month across paths, per-month medians, event markers, and end-of-horizon key figures.
//!
//! Everything is computed sequentially in path and month order, so the same files give the same figures.

use std::collections::BTreeMap;
use std::path::Path;

use crate::batch::manifest::{RunManifest, StrategyEntry};
use crate::output::OutputError;
use crate::output::charts::axes::{Marker, MarkerKind};
use crate::output::charts::data::{Months, Table, year_month_of_days};
use crate::output::charts::format;
use crate::stats::{Quantiles, mean, median, quantiles};
use hashcycle_model::market::network::SATS_PER_BTC;
use hashcycle_model::units::YearMonth;

/// One manufacturer's monthly series.
pub struct MakerSeries {
    pub name: String,
    pub strategy: Option<StrategyEntry>,
    pub cash_usd: Vec<Quantiles>,
    /// Median units per month by where they went: futures deliveries, spot, dealers, self-mining.
    pub flows_units: Vec<(String, Vec<f64>)>,
    pub produced_units: Vec<f64>,
    pub inventory_units: Vec<f64>,
    pub backlog_units: Vec<f64>,
}

/// End-of-horizon figures of one manufacturer across paths, for the report.
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

        // Each table is read for the columns drawn only: the tables grow with paths, the charts' inputs much less.
        let network = Table::read_columns(
            dir,
            "network.parquet",
            &["month", "price_usd", "hashrate_ehs", "hashprice_usd_per_ph_day"],
        )?;
        let months = Months::of(&network.days("month")?);
        let all = |_: usize| true;
        let price_usd = months.fan(&network.f64s("price_usd")?, all);
        let hashrate_ehs = months.fan(&network.f64s("hashrate_ehs")?, all);
        let hashprice_usd_per_ph_day = months.fan(&network.f64s("hashprice_usd_per_ph_day")?, all);
        drop(network);

        // One column at a time, each reduced to its monthly statistics before the next is read.
        let (maker_months, names, maker_codes) = {
            let keys = Table::read_columns(dir, "manufacturers.parquet", &["month", "manufacturer"])?;
            let (names, codes) = keys.codes("manufacturer")?;
            (Months::of(&keys.days("month")?), names, codes)
        };
        let maker_column = |column: &str| -> Result<Vec<f64>, OutputError> {
            Table::read_columns(dir, "manufacturers.parquet", &[column])?.f64s(column)
        };
        let per_maker_medians = |column: &str| -> Result<Vec<Vec<f64>>, OutputError> {
            let values = maker_column(column)?;
            Ok((0..names.len())
                .map(|code| maker_months.medians(&values, |row| maker_codes[row] == code as u32))
                .collect())
        };
        let cash = maker_column("cash_usd")?;
        let cash_fans: Vec<Vec<Quantiles>> = (0..names.len())
            .map(|code| maker_months.fan(&cash, |row| maker_codes[row] == code as u32))
            .collect();
        drop(cash);
        let flow_columns = [
            ("units_delivered", "Delivered on futures"),
            ("units_sold_spot", "Sold spot"),
            ("units_sold_dealers", "Sold to dealers"),
            ("units_self_mined", "Self-mined"),
        ];
        let mut flows: Vec<(&str, Vec<Vec<f64>>)> = vec![];
        for (column, label) in flow_columns {
            flows.push((label, per_maker_medians(column)?));
        }
        let mut produced = per_maker_medians("units_produced")?;
        let mut inventory = per_maker_medians("inventory_units")?;
        let mut backlog = per_maker_medians("backlog_units")?;
        let mut makers = vec![];
        for ((code, name), cash_usd) in names.iter().enumerate().zip(cash_fans) {
            makers.push(MakerSeries {
                name: name.clone(),
                strategy: info.strategy(name).cloned(),
                cash_usd,
                flows_units: flows
                    .iter_mut()
                    .map(|(label, per_maker)| (label.to_string(), std::mem::take(&mut per_maker[code])))
                    .collect(),
                produced_units: std::mem::take(&mut produced[code]),
                inventory_units: std::mem::take(&mut inventory[code]),
                backlog_units: std::mem::take(&mut backlog[code]),
            });
        }
        drop(maker_codes);

        let dealers = Table::read_columns(dir, "dealers.parquet", &["month", "inventory_units"])?;
        let dealer_months = Months::of(&dealers.days("month")?);
        let dealer_inventory_units = dealer_months.fan(&dealers.f64s("inventory_units")?, all);
        drop(dealers);

        let mut kinds = vec!["halving"];
        kinds.extend(SHOCK_KINDS);
        let events = Table::read_rows_where(
            dir,
            "events.parquet",
            &["path", "month", "kind", "subject", "value", "drawn"],
            "kind",
            &kinds,
        )?;
        let markers = markers(&events, months.start, info.paths)?;
        drop(events);

        // The summary grows with paths too (a row per path and manufacturer): only the columns the figures use.
        let summary = Table::read_columns(dir, "summary.parquet", &SUMMARY_COLUMNS)?;
        let (maker_figures, network_figures) = figures(&summary)?;

        Ok(RunData {
            info,
            start: months.start,
            n_months: months.n_months,
            price_usd,
            hashrate_ehs,
            hashprice_usd_per_ph_day,
            makers,
            dealer_inventory_units,
            markers,
            maker_figures,
            network_figures,
        })
    }
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
fn markers(events: &Table, start: YearMonth, n_paths: u32) -> Result<Vec<Marker>, OutputError> {
    let paths = events.u32s("path")?;
    let kinds = events.strs("kind")?;
    let days = events.days("month")?;
    let values = events.f64s("value")?;
    let subjects = events.strs("subject")?;
    let drawn_col = events.bools("drawn")?;
    // Halvings are keyed by the subsidy they set (each path has the nth halving once), then by month.
    let mut halvings: BTreeMap<i64, BTreeMap<i64, usize>> = BTreeMap::new();
    // Scripted events by (month, label); drawn ones by (kind, subject): each path's first month.
    let mut scripted: BTreeMap<(i64, String), ()> = BTreeMap::new();
    let mut drawn: BTreeMap<(String, String), BTreeMap<u32, i64>> = BTreeMap::new();
    for row in 0..events.height() {
        let month = year_month_of_days(days[row]).months_since(start);
        match kinds[row].as_str() {
            "halving" => {
                let subsidy_sats = (values[row] * SATS_PER_BTC as f64).round() as i64;
                *halvings.entry(subsidy_sats).or_default().entry(month).or_default() += 1;
            }
            kind if drawn_col[row] => {
                let first = drawn
                    .entry((kind.to_string(), subjects[row].clone()))
                    .or_default()
                    .entry(paths[row])
                    .or_insert(month);
                *first = (*first).min(month);
            }
            kind => {
                scripted.insert((month, shock_label(kind, &subjects[row], values[row])), ());
            }
        }
    }
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
        let mut months: Vec<i64> = first_months.into_values().collect();
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

/// The columns of `summary.parquet` that `figures` reads.
const SUMMARY_COLUMNS: [&str; 14] = [
    "path",
    "manufacturer",
    "min_cash_usd",
    "end_cash_usd",
    "revenue_usd",
    "gross_margin_usd",
    "cash_below_zero",
    "distressed",
    "walk_away_rate",
    "market_share",
    "end_price_usd",
    "end_hashrate_ehs",
    "max_hashrate_drawdown_share",
    "n_halvings",
];

fn figures(summary: &Table) -> Result<(Vec<MakerFigures>, NetworkFigures), OutputError> {
    let paths = summary.u32s("path")?;
    let (names, maker_codes) = summary.codes("manufacturer")?;
    let min_cash = summary.f64s("min_cash_usd")?;
    let end_cash = summary.f64s("end_cash_usd")?;
    let revenue = summary.f64s("revenue_usd")?;
    let margin = summary.f64s("gross_margin_usd")?;
    let below = summary.bools("cash_below_zero")?;
    let distressed = summary.bools("distressed")?;
    let walk_away = summary.f64s("walk_away_rate")?;
    let share = summary.f64s("market_share")?;
    let pick = |values: &[f64], rows: &[usize]| -> Vec<f64> { rows.iter().map(|&r| values[r]).collect() };
    let share_of = |flags: &[bool], rows: &[usize]| -> f64 {
        if rows.is_empty() {
            f64::NAN
        } else {
            rows.iter().filter(|&&r| flags[r]).count() as f64 / rows.len() as f64
        }
    };
    let mut maker_figures = vec![];
    for (code, name) in names.into_iter().enumerate() {
        let rows: Vec<usize> = (0..summary.height())
            .filter(|&r| maker_codes[r] == code as u32)
            .collect();
        maker_figures.push(MakerFigures {
            n_paths: rows.len(),
            p_cash_below_zero: share_of(&below, &rows),
            p_distressed: share_of(&distressed, &rows),
            min_cash_usd: quantiles(&pick(&min_cash, &rows)),
            end_cash_usd: quantiles(&pick(&end_cash, &rows)),
            revenue_usd: quantiles(&pick(&revenue, &rows)),
            gross_margin_usd: quantiles(&pick(&margin, &rows)),
            walk_away_rate_mean: mean(&pick(&walk_away, &rows)),
            market_share_mean: mean(&pick(&share, &rows)),
            name,
        });
    }
    // Network figures are repeated on each manufacturer's row of a path; take each path once.
    let mut first_rows = vec![];
    for r in 0..summary.height() {
        if r == 0 || paths[r] != paths[r - 1] {
            first_rows.push(r);
        }
    }
    let network_figures = NetworkFigures {
        end_price_usd: quantiles(&pick(&summary.f64s("end_price_usd")?, &first_rows)),
        end_hashrate_ehs: quantiles(&pick(&summary.f64s("end_hashrate_ehs")?, &first_rows)),
        max_drawdown_share: quantiles(&pick(&summary.f64s("max_hashrate_drawdown_share")?, &first_rows)),
        n_halvings_median: median(&pick(&summary.f64s("n_halvings")?, &first_rows)),
    };
    Ok((maker_figures, network_figures))
}
