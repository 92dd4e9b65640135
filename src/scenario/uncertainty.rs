//! `[[uncertainty]]`: behaviour parameters drawn per path from a declared range.
//!
//! ```toml
//! [[uncertainty]]
//! parameter = "manufacturers.*.strategy.target_payback_months"   # `*`: every manufacturer, one draw
//! distribution = "uniform"                                        # or "log_uniform"; default "uniform"
//! min = 8
//! max = 16
//! ```
//!
//! A parameter is named as `--set` names it. Each end of its range must make a valid scenario on its own: the
//! scenario is validated again with the parameter set to `min` and to `max`, so the ranges every key
//! documents hold for every draw.
//!
//! A value stated more specifically than the `[[uncertainty]]` entry that would draw it is a choice, and is
//! not drawn: one written by a file that extends the entry's file, by `--set`, or by a sweep's cell. So
//! `--set segments.retail.max_spend_share_per_month=0.5` on a scenario that draws it runs every path at 0.5.

use crate::scenario::Source;
use crate::scenario::overrides;
use crate::scenario::raw::{Node, Span, Value};
use crate::scenario::reader::{Bounds, Problems, Section};
use hashcycle_model::params::{
    DealerParams, KeyAccountFirmsParams, ManufacturerParams, ManufacturerStrategy, NetworkParams, RegionParams,
    RelocationParams, SecondaryMarketParams, SegmentParams,
};
use hashcycle_model::uncertainty::{Distribution, Table, UncertainParam};

/// A declared uncertain parameter with what its endpoint check needs.
pub struct Declared {
    pub param: UncertainParam,
    /// Every place it sets, as `--set` paths.
    pub set_paths: Vec<String>,
    pub min_span: Option<Span>,
    pub max_span: Option<Span>,
}

/// The fields a table's parameters may be drawn for, and the `--set` stem of its entries.
fn fields_of(table: Table) -> &'static [&'static str] {
    match table {
        Table::Segment(_) => SegmentParams::UNCERTAIN_FIELDS,
        Table::Strategy(_) => ManufacturerStrategy::UNCERTAIN_FIELDS,
        Table::Manufacturer(_) => ManufacturerParams::UNCERTAIN_FIELDS,
        Table::Region(_) => RegionParams::UNCERTAIN_FIELDS,
        Table::KeyAccountFirms => KeyAccountFirmsParams::UNCERTAIN_FIELDS,
        Table::Dealers => DealerParams::UNCERTAIN_FIELDS,
        Table::SecondaryMarket => SecondaryMarketParams::UNCERTAIN_FIELDS,
        Table::Relocation => RelocationParams::UNCERTAIN_FIELDS,
        Table::Network => NetworkParams::UNCERTAIN_FIELDS,
    }
}

const SEGMENT_NAMES: [&str; 2] = ["key_account", "retail"];

/// Resolves `name` to its places (table, field, `--set` path), or says what is wrong.
fn resolve(
    name: &str,
    regions: &[String],
    manufacturers: &[String],
) -> Result<Vec<(Table, &'static str, String)>, String> {
    let parts: Vec<&str> = name.split('.').collect();
    // (tables with their `--set` prefixes, the field).
    let entries = |list: &[String], which: &str, make: fn(usize) -> Table, suffix: &str| {
        let all: Vec<(Table, String)> = list
            .iter()
            .enumerate()
            .map(|(i, n)| (make(i), format!("{which}.{n}{suffix}")))
            .collect();
        all
    };
    let pick = |all: Vec<(Table, String)>, entry: &str, what: &str, names: &[String]| {
        if entry == "*" {
            return Ok(all);
        }
        match names.iter().position(|n| n == entry) {
            Some(i) => Ok(vec![all[i].clone()]),
            None => Err(format!(
                "no {what} named `{entry}` (there are: {}; `*` names them all)",
                names.join(", ")
            )),
        }
    };
    let segments: Vec<String> = SEGMENT_NAMES.iter().map(|s| s.to_string()).collect();
    let (tables, field) = match parts.as_slice() {
        ["segments", entry, field] => (
            pick(
                entries(&segments, "segments", Table::Segment, ""),
                entry,
                "segment",
                &segments,
            )?,
            *field,
        ),
        ["manufacturers", entry, "strategy", field] => (
            pick(
                entries(manufacturers, "manufacturers", Table::Strategy, ".strategy"),
                entry,
                "manufacturer",
                manufacturers,
            )?,
            *field,
        ),
        ["manufacturers", entry, field] => (
            pick(
                entries(manufacturers, "manufacturers", Table::Manufacturer, ""),
                entry,
                "manufacturer",
                manufacturers,
            )?,
            *field,
        ),
        ["regions", entry, field] => (
            pick(entries(regions, "regions", Table::Region, ""), entry, "region", regions)?,
            *field,
        ),
        [
            table @ ("key_account_firms" | "dealers" | "secondary_market" | "relocation" | "network"),
            field,
        ] => {
            let t = match *table {
                "key_account_firms" => Table::KeyAccountFirms,
                "dealers" => Table::Dealers,
                "secondary_market" => Table::SecondaryMarket,
                "relocation" => Table::Relocation,
                _ => Table::Network,
            };
            (vec![(t, table.to_string())], *field)
        }
        _ => {
            return Err(format!(
                "`{name}` is not a parameter that can be drawn: name one as `segments.<name|*>.KEY`, \
                 `manufacturers.<name|*>.strategy.KEY`, `manufacturers.<name|*>.KEY`, `regions.<name|*>.KEY`, or \
                 `key_account_firms.KEY`, `dealers.KEY`, `secondary_market.KEY`, `relocation.KEY`, `network.KEY`"
            ));
        }
    };
    let Some((first, _)) = tables.first() else {
        return Err(format!("`{name}` names no table: the scenario has none of its entries"));
    };
    let allowed = fields_of(*first);
    let Some(field) = allowed.iter().find(|f| **f == field) else {
        return Err(format!(
            "`{field}` cannot be drawn per path in `{name}`; the keys that can are: {}",
            allowed.join(", ")
        ));
    };
    Ok(tables
        .into_iter()
        .map(|(t, prefix)| (t, *field, format!("{prefix}.{field}")))
        .collect())
}

/// How specific the text at `span` is: `--set` (and values with no span, which a sweep cell or a test wrote)
/// most, then the scenario's own file, then the files it extends, nearest first.
fn specificity_rank(sources: &[Source], span: Option<&Span>) -> usize {
    let Some(span) = span else {
        return 0;
    };
    match sources.iter().enumerate().rev().find(|(_, s)| s.offset <= span.start) {
        Some((_, s)) if s.file == "--set" => 0,
        Some((i, _)) => 1 + i,
        None => 1,
    }
}

/// Reads `[[uncertainty]]` (may be absent). Places whose value is stated more specifically than the entry
/// are left out of its draw, and an entry left with no place is dropped.
pub fn read(
    top: &mut Section,
    p: &mut Problems,
    root: &Node,
    sources: &[Source],
    regions: &[String],
    manufacturers: &[String],
) -> Vec<Declared> {
    let mut out: Vec<Declared> = vec![];
    let mut tree = root.clone();
    for (i, mut e) in top.tables(p, "uncertainty", false).into_iter().enumerate() {
        let path = format!("uncertainty[{i}]");
        let (name, name_span) = e.string(p, "parameter", None);
        let distribution = e.choice(p, "distribution", &["uniform", "log_uniform"], Some("uniform"));
        let min_span = e.table.get("min").and_then(|n| n.span.clone());
        let max_span = e.table.get("max").and_then(|n| n.span.clone());
        let min = e.f64(p, "min", Bounds::any(), None);
        let max = e.f64(p, "max", Bounds::any(), None);
        e.finish(p);
        if name.is_empty() {
            continue;
        }
        if max < min {
            p.push(
                max_span.clone(),
                &format!("{path}.max"),
                format!("`{path}.max` = {max} is below its `min` ({min})"),
            );
        }
        let distribution = if distribution == "log_uniform" {
            if min <= 0.0 {
                p.push(
                    min_span.clone(),
                    &format!("{path}.min"),
                    format!("`{path}.min` = {min}: a log-uniform draw needs min above 0"),
                );
            }
            Distribution::LogUniform
        } else {
            Distribution::Uniform
        };
        if out.iter().any(|d| d.param.name == name) {
            p.push(
                name_span.clone(),
                &format!("{path}.parameter"),
                format!("`{name}` is declared uncertain twice"),
            );
            continue;
        }
        match resolve(&name, regions, manufacturers) {
            Ok(places) => {
                let entry_rank = specificity_rank(sources, name_span.as_ref());
                let places: Vec<(Table, &'static str, String)> = places
                    .into_iter()
                    .filter(|(_, _, path)| match overrides::span(&mut tree, path) {
                        Ok(value_span) => specificity_rank(sources, value_span.as_ref()) >= entry_rank,
                        // A value the scenario does not state (a default) is drawn.
                        Err(_) => true,
                    })
                    .collect();
                if places.is_empty() {
                    continue;
                }
                if let Some(clash) = out
                    .iter()
                    .find(|d| d.set_paths.iter().any(|s| places.iter().any(|(_, _, q)| q == s)))
                {
                    p.push(
                        name_span,
                        &format!("{path}.parameter"),
                        format!("`{name}` sets a parameter `{}` already draws", clash.param.name),
                    );
                    continue;
                }
                out.push(Declared {
                    param: UncertainParam {
                        name,
                        targets: places.iter().map(|(t, f, _)| (*t, *f)).collect(),
                        distribution,
                        min,
                        max,
                    },
                    set_paths: places.into_iter().map(|(_, _, s)| s).collect(),
                    min_span,
                    max_span,
                })
            }
            Err(message) => p.push(name_span, &format!("{path}.parameter"), message),
        }
    }
    out
}

/// Validates the scenario again with each declared parameter at each end of its range; a problem there is
/// reported at that end.
pub fn check_ends(root: &Node, sources: &[Source], declared: &[Declared], p: &mut Problems) {
    for (i, d) in declared.iter().enumerate() {
        for (end, value, span) in [("min", d.param.min, &d.min_span), ("max", d.param.max, &d.max_span)] {
            let mut tree = root.clone();
            // The copy draws nothing: only the end being checked is set.
            if let Value::Table(table) = &mut tree.value
                && let Some(node) = table.get_mut("uncertainty")
            {
                node.value = Value::Array(vec![]);
            }
            let mut ok = true;
            for path in &d.set_paths {
                ok &= overrides::set(&mut tree, path, Value::Float(value)).is_ok();
            }
            let mut problems = Problems::default();
            if ok {
                let _ = crate::scenario::validate::read_params(&tree, sources, &mut problems);
            }
            let first = problems.list.first().map(|x| x.message.clone());
            if !ok || first.is_some() {
                p.push(
                    span.clone(),
                    &format!("uncertainty[{i}].{end}"),
                    format!(
                        "`uncertainty[{i}].{end}` = {value} is not a valid `{}`: {}",
                        d.param.name,
                        first.unwrap_or_else(|| "it cannot be set".to_string())
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_every_place_they_set() {
        let regions = vec!["us".to_string(), "china".to_string()];
        let makers = vec!["bitmain".to_string(), "canaan".to_string()];
        let all = resolve("manufacturers.*.strategy.target_payback_months", &regions, &makers).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].2, "manufacturers.canaan.strategy.target_payback_months");
        let one = resolve("segments.retail.max_spend_share_per_month", &regions, &makers).unwrap();
        assert_eq!(
            one,
            vec![(
                Table::Segment(1),
                "max_spend_share_per_month",
                "segments.retail.max_spend_share_per_month".to_string()
            )]
        );
        assert!(
            resolve("segments.retail.cash_usd", &regions, &makers)
                .unwrap_err()
                .contains("cannot be drawn")
        );
        assert!(
            resolve("regions.mars.opex_share_of_power", &regions, &makers)
                .unwrap_err()
                .contains("no region named `mars`")
        );
        assert!(
            resolve("price.start_price_usd", &regions, &makers)
                .unwrap_err()
                .contains("not a parameter")
        );
        assert_eq!(
            resolve("network.difficulty_foresight_share", &regions, &makers)
                .unwrap()
                .len(),
            1
        );
    }
}
