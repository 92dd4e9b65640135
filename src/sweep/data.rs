//! What the sweep charts and report show, read back from `sweep.parquet`, `paths.parquet` and `sweep.json`.
//!
//! The two strategy axes are the swept parameters ending in `.futures_share` and `.prepay_share`, or else the
//! first two swept parameters.

use std::collections::BTreeMap;
use std::path::Path;

use crate::output::OutputError;
use crate::output::charts::data::{Table, json_str, json_u64, read_json, tidy_path};
use crate::output::charts::format;
use crate::stats::Quantiles;
use crate::sweep::waterfall::{PathRecord, read_flows};

/// Provenance of a sweep, from `sweep.json`.
#[derive(Clone, Debug)]
pub struct SweepInfo {
    pub version: String,
    pub sweep_name: String,
    pub n_paths: u64,
    pub seed: u64,
    pub focus_manufacturer: String,
    /// The frontier chart's risk and return measures (`[sweep] frontier_risk`, `frontier_return`).
    pub frontier_risk: String,
    pub frontier_return: String,
    pub parameters: Vec<String>,
    /// The swept parameters whose values are booleans (0/1 in the tables).
    pub boolean_parameters: Vec<String>,
    /// (name, file) of each scenario, in the sweep file's order.
    pub scenarios: Vec<(String, String)>,
    pub n_cells: u64,
    /// Each scenario's description and generated assumptions (of its first cell), in the order of `scenarios`.
    pub descriptions: Vec<String>,
    pub assumptions: Vec<Vec<crate::batch::assumptions::Assumption>>,
    /// Each scenario's replay fit (`crate::batch::manifest::history_fit_for`), in the order of `scenarios`.
    pub history_fits: Vec<Option<crate::batch::manifest::HistoryFit>>,
}

impl SweepInfo {
    pub fn read(dir: &Path) -> Result<SweepInfo, OutputError> {
        let v = read_json(dir, "sweep.json")?;
        let strings = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(|a| a.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let scenarios = v
            .get("scenarios")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .map(|s| (json_str(s, "name"), tidy_path(&json_str(s, "file"))))
                    .collect()
            })
            .unwrap_or_default();
        let scenario_entries: Vec<serde_json::Value> = v
            .get("scenarios")
            .and_then(|a| a.as_array())
            .cloned()
            .unwrap_or_default();
        let descriptions = scenario_entries.iter().map(|s| json_str(s, "description")).collect();
        let assumptions = scenario_entries
            .iter()
            .map(|s| {
                s.get("assumptions")
                    .and_then(|a| serde_json::from_value(a.clone()).ok())
                    .unwrap_or_default()
            })
            .collect();
        let history_fits = v
            .get("scenarios")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .map(|s| {
                        s.get("history_fit")
                            .and_then(|f| serde_json::from_value(f.clone()).ok())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SweepInfo {
            version: json_str(&v, "version"),
            sweep_name: json_str(&v, "sweep_name"),
            n_paths: json_u64(&v, "paths"),
            seed: json_u64(&v, "seed"),
            focus_manufacturer: json_str(&v, "focus_manufacturer"),
            // Sweeps written before the choice was recorded drew the first of each.
            frontier_risk: Some(json_str(&v, "frontier_risk"))
                .filter(|r| crate::sweep::file::FRONTIER_RISKS.contains(&r.as_str()))
                .unwrap_or_else(|| crate::sweep::file::FRONTIER_RISKS[0].to_string()),
            frontier_return: Some(json_str(&v, "frontier_return"))
                .filter(|r| crate::sweep::file::FRONTIER_RETURNS.contains(&r.as_str()))
                .unwrap_or_else(|| crate::sweep::file::FRONTIER_RETURNS[0].to_string()),
            parameters: strings("parameters"),
            boolean_parameters: strings("boolean_parameters"),
            scenarios,
            n_cells: json_u64(&v, "n_cells"),
            history_fits,
            descriptions,
            assumptions,
        })
    }

    /// The source line printed under every sweep chart. No timestamp, so charts stay reproducible.
    pub fn source_line(&self) -> String {
        let files: Vec<&str> = self.scenarios.iter().map(|(_, f)| f.as_str()).collect();
        format!(
            "Source: hashcycle {} sweep {} of {} · {} paths per cell · seed {}",
            self.version,
            self.sweep_name,
            if files.is_empty() {
                "its scenarios".to_string()
            } else {
                files.join(", ")
            },
            format::grouped(self.n_paths as f64, 0),
            self.seed
        )
    }
}

/// One strategy cell of one scenario.
#[derive(Clone, Debug)]
pub struct Cell {
    pub scenario: String,
    pub cell: u32,
    pub strategy: String,
    /// One value per swept parameter, in `SweepData::parameters` order; a text parameter's value is the index
    /// of its text in `SweepData::texts`.
    pub params: Vec<f64>,
    pub is_reference: bool,
    pub n_paths: u32,
    pub n_failed: u32,
    pub p_cash_below_zero: f64,
    pub p_cash_below_zero_se: f64,
    /// The 95% Wilson interval of P(cash < 0) (NaN in tables written before it was recorded).
    pub p_cash_below_zero_lo95: f64,
    pub p_cash_below_zero_hi95: f64,
    /// CVaR-5% of minimum cash (NaN in tables written before it was recorded).
    pub min_cash_usd_cvar5: f64,
    pub p_distress: f64,
    pub p_distress_se: f64,
    pub min_cash_usd: Quantiles,
    pub end_cash_usd: Quantiles,
    pub revenue_usd: Quantiles,
    pub gross_margin_usd: Quantiles,
    pub walk_away_rate_mean: f64,
    pub prepayments_forfeited_usd_mean: f64,
    pub writedowns_usd_mean: f64,
    pub market_share_mean: f64,
}

/// Everything the sweep charts and report need.
pub struct SweepData {
    pub info: SweepInfo,
    /// Swept parameters present as columns, by full path.
    pub parameters: Vec<String>,
    /// For each of `parameters`, the distinct values of a text parameter (such as `price.model`) in order of
    /// first appearance, which its cells' `params` index; empty for a numeric parameter.
    pub texts: Vec<Vec<String>>,
    /// Index in `parameters` of the heatmap's x axis (futures share) and y axis (prepayment share).
    pub x_param: usize,
    pub y_param: Option<usize>,
    /// Scenario names in the sweep's order.
    pub scenarios: Vec<String>,
    pub cells: Vec<Cell>,
    /// The cash tallies of the paths of the cells waterfalls compare, by (scenario, cell): those of
    /// `default_waterfall_cells` once loaded, and any `read_flows_of` adds.
    pub flows: BTreeMap<(String, u32), Vec<PathRecord>>,
    /// Whether `paths.parquet` records the cash tallies (a sweep written by an older hashcycle does not).
    pub flows_recorded: bool,
}

/// The files a sweep directory must hold for its charts and report.
pub const SWEEP_FILES: [&str; 3] = ["sweep.parquet", "paths.parquet", "sweep.json"];

/// Columns of `sweep.parquet` that are not swept parameters.
const FIXED_COLUMNS: [&str; 8] = [
    "sweep",
    "scenario",
    "cell",
    "strategy",
    "is_reference",
    "focus_manufacturer",
    "n_paths",
    "n_failed",
];

impl SweepData {
    pub fn load(dir: &Path) -> Result<SweepData, OutputError> {
        for file in SWEEP_FILES {
            if !dir.join(file).is_file() {
                return Err(OutputError::Missing {
                    path: dir.join(file),
                    message: format!("{file} is missing, so the sweep charts cannot be drawn"),
                });
            }
        }
        let info = SweepInfo::read(dir)?;
        let table = Table::read(dir, "sweep.parquet")?;
        let mut data = Self::from_cells(info, &table)?;
        // Path by path, only the cells the default waterfalls compare: paths.parquet grows with cells × paths.
        let wanted = data.default_waterfall_cells();
        data.read_flows_of(dir, &wanted)?;
        Ok(data)
    }

    /// Builds the sweep data from its two tables (separate from `load` so tests can pass frames).
    pub fn from_tables(info: SweepInfo, table: &Table, paths: &Table) -> Result<SweepData, OutputError> {
        let mut data = Self::from_cells(info, table)?;
        let wanted = data.default_waterfall_cells();
        data.add_flows(paths, &wanted)?;
        Ok(data)
    }

    /// Each scenario's reference cell and the cell its default waterfall compares it with.
    pub fn default_waterfall_cells(&self) -> Vec<(String, u32)> {
        let mut cells = vec![];
        for scenario in &self.scenarios {
            if let Some(reference) = self.reference(scenario) {
                cells.push((scenario.clone(), reference.cell));
                if let Some(alternative) = crate::sweep::waterfall::default_alternative(self, scenario, reference) {
                    cells.push((scenario.clone(), alternative.cell));
                }
            }
        }
        cells
    }

    /// Reads the cash tallies of the paths of `cells` (by scenario and cell) from `dir/paths.parquet` into
    /// `flows`, in slices: memory follows those cells' paths, not the sweep's. A sweep written before the
    /// tallies were recorded leaves `flows_recorded` false.
    pub fn read_flows_of(&mut self, dir: &Path, cells: &[(String, u32)]) -> Result<(), OutputError> {
        let wanted: Vec<(String, u32)> = cells.iter().filter(|c| !self.flows.contains_key(*c)).cloned().collect();
        if wanted.is_empty() || !self.flows_recorded {
            return Ok(());
        }
        let mut columns = vec!["scenario", "cell", "path", "failed_check"];
        columns.extend(crate::sweep::waterfall::FLOW_COLUMNS);
        match Table::for_each_slice(dir, "paths.parquet", &columns, |paths| self.add_flows(&paths, &wanted)) {
            Err(OutputError::Missing { .. }) if dir.join("paths.parquet").is_file() => {
                self.flows_recorded = false;
                self.flows.clear();
                Ok(())
            }
            done => done,
        }
    }

    /// Adds the flows of the rows of `paths` that belong to `wanted` cells.
    fn add_flows(&mut self, paths: &Table, wanted: &[(String, u32)]) -> Result<(), OutputError> {
        let Some(rows) = read_flows(paths)? else {
            self.flows_recorded = false;
            return Ok(());
        };
        let scenarios = paths.strs("scenario")?;
        let cells = paths.u32s("cell")?;
        for ((scenario, cell), record) in scenarios.into_iter().zip(cells).zip(rows) {
            let key = (scenario, cell);
            if wanted.contains(&key) {
                self.flows.entry(key).or_default().push(record);
            }
        }
        Ok(())
    }

    /// The cells of `sweep.parquet`, without any path's flows.
    fn from_cells(info: SweepInfo, table: &Table) -> Result<SweepData, OutputError> {
        // Swept parameters: those sweep.json lists, else every dotted column that is not a metric.
        let columns = table.column_names();
        let mut parameters: Vec<String> = info
            .parameters
            .iter()
            .filter(|p| columns.contains(p))
            .cloned()
            .collect();
        if parameters.is_empty() {
            parameters = columns
                .iter()
                .filter(|c| c.contains('.') && !FIXED_COLUMNS.contains(&c.as_str()))
                .cloned()
                .collect();
        }
        if parameters.is_empty() {
            return Err(OutputError::Missing {
                path: table.path.clone(),
                message: "no swept parameter column (a column named by its parameter path, such as \
                          `manufacturers.bitmain.strategy.futures_share`)"
                    .to_string(),
            });
        }
        let find = |suffix: &str| parameters.iter().position(|p| p.ends_with(suffix));
        let (x_param, y_param) = match (find(".futures_share"), find(".prepay_share")) {
            (Some(x), Some(y)) => (x, Some(y)),
            (Some(x), None) => (x, (0..parameters.len()).find(|&i| i != x)),
            (None, Some(y)) => ((0..parameters.len()).find(|&i| i != y).unwrap_or(y), Some(y)),
            (None, None) => (0, (parameters.len() > 1).then_some(1)),
        };
        let (x_param, y_param) = if Some(x_param) == y_param {
            (x_param, None)
        } else {
            (x_param, y_param)
        };

        let scenario_col = table.strs("scenario")?;
        let cell_col = table.u32s("cell")?;
        let strategy_col = table.strs("strategy")?;
        let reference_col = table.bools("is_reference")?;
        let n_paths_col = table.u32s("n_paths")?;
        let n_failed_col = table.u32s("n_failed")?;
        let mut texts = vec![];
        let mut param_cols: Vec<Vec<f64>> = vec![];
        for parameter in &parameters {
            let (values, distinct) = if table.is_text(parameter) {
                text_codes(&table.strs(parameter)?)
            } else {
                (table.f64s(parameter)?, vec![])
            };
            param_cols.push(values);
            texts.push(distinct);
        }
        let f = |name: &str| table.f64s(name);
        let quantile_cols = |stem: &str| -> Result<[Vec<f64>; 5], OutputError> {
            Ok([
                f(&format!("{stem}_p5"))?,
                f(&format!("{stem}_p25"))?,
                f(&format!("{stem}_p50"))?,
                f(&format!("{stem}_p75"))?,
                f(&format!("{stem}_p95"))?,
            ])
        };
        let at = |cols: &[Vec<f64>; 5], row: usize| Quantiles {
            p5: cols[0][row],
            p25: cols[1][row],
            p50: cols[2][row],
            p75: cols[3][row],
            p95: cols[4][row],
        };
        let min_cash = quantile_cols("min_cash_usd")?;
        let end_cash_q = quantile_cols("end_cash_usd")?;
        let revenue = quantile_cols("revenue_usd")?;
        let gross_margin = quantile_cols("gross_margin_usd")?;
        let p_cash = f("p_cash_below_zero")?;
        let p_cash_se = f("p_cash_below_zero_se")?;
        let optional = |name: &str| -> Result<Vec<f64>, OutputError> {
            if table.has(name) {
                table.f64s(name)
            } else {
                Ok(vec![f64::NAN; table.height()])
            }
        };
        let (p_cash_lo, p_cash_hi) = (optional("p_cash_below_zero_lo95")?, optional("p_cash_below_zero_hi95")?);
        let cvar5 = optional("min_cash_usd_cvar5")?;
        let p_distress = f("p_distress")?;
        let p_distress_se = f("p_distress_se")?;
        let walk_away = f("walk_away_rate_mean")?;
        let forfeited = f("prepayments_forfeited_usd_mean")?;
        let writedowns = f("writedowns_usd_mean")?;
        let market_share = f("market_share_mean")?;
        let mut cells = Vec::with_capacity(table.height());
        for row in 0..table.height() {
            cells.push(Cell {
                scenario: scenario_col[row].clone(),
                cell: cell_col[row],
                strategy: strategy_col[row].clone(),
                params: param_cols.iter().map(|c| c[row]).collect(),
                is_reference: reference_col[row],
                n_paths: n_paths_col[row],
                n_failed: n_failed_col[row],
                p_cash_below_zero: p_cash[row],
                p_cash_below_zero_se: p_cash_se[row],
                p_cash_below_zero_lo95: p_cash_lo[row],
                p_cash_below_zero_hi95: p_cash_hi[row],
                min_cash_usd_cvar5: cvar5[row],
                p_distress: p_distress[row],
                p_distress_se: p_distress_se[row],
                min_cash_usd: at(&min_cash, row),
                end_cash_usd: at(&end_cash_q, row),
                revenue_usd: at(&revenue, row),
                gross_margin_usd: at(&gross_margin, row),
                walk_away_rate_mean: walk_away[row],
                prepayments_forfeited_usd_mean: forfeited[row],
                writedowns_usd_mean: writedowns[row],
                market_share_mean: market_share[row],
            });
        }

        // Scenario order: the sweep file's, then any other in order of appearance.
        let mut scenarios: Vec<String> = info
            .scenarios
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| cells.iter().any(|c| c.scenario == *name))
            .collect();
        for c in &cells {
            if !scenarios.contains(&c.scenario) {
                scenarios.push(c.scenario.clone());
            }
        }

        Ok(SweepData {
            info,
            parameters,
            texts,
            x_param,
            y_param,
            scenarios,
            cells,
            flows: BTreeMap::new(),
            flows_recorded: true,
        })
    }

    pub fn cells_of(&self, scenario: &str) -> impl Iterator<Item = &Cell> + '_ {
        let scenario = scenario.to_string();
        self.cells.iter().filter(move |c| c.scenario == scenario)
    }

    /// The P(cash < 0) every cell of `scenario` shares, when it has two or more cells and all of them share
    /// one; then no cell is safer or riskier than another, and none is named so.
    pub fn risk_tie(&self, scenario: &str) -> Option<f64> {
        common_value(self.cells_of(scenario).map(|c| c.p_cash_below_zero))
    }

    /// The cell with the lowest P(cash < 0), ties broken by the higher median ending cash.
    pub fn best(&self, scenario: &str) -> Option<&Cell> {
        self.cells_of(scenario).min_by(|a, b| {
            a.p_cash_below_zero
                .total_cmp(&b.p_cash_below_zero)
                .then(b.end_cash_usd.p50.total_cmp(&a.end_cash_usd.p50))
                .then(a.cell.cmp(&b.cell))
        })
    }

    /// The cell with the highest P(cash < 0), ties broken by the lower median ending cash.
    pub fn worst(&self, scenario: &str) -> Option<&Cell> {
        self.cells_of(scenario).max_by(|a, b| {
            a.p_cash_below_zero
                .total_cmp(&b.p_cash_below_zero)
                .then(b.end_cash_usd.p50.total_cmp(&a.end_cash_usd.p50))
                .then(b.cell.cmp(&a.cell))
        })
    }

    /// A scenario's cells that vary only along the heatmap's two axes, the other swept parameters held at the
    /// reference's values (the first cell's without a reference); `None` when the scenario has no cells.
    pub fn axis_cells(&self, scenario: &str) -> Option<Vec<&Cell>> {
        let all: Vec<&Cell> = self.cells_of(scenario).collect();
        let anchor = self.reference(scenario).or_else(|| all.first().copied())?;
        let (xi, yi) = (self.x_param, self.y_param);
        Some(
            all.iter()
                .copied()
                .filter(|c| {
                    (0..self.parameters.len())
                        .filter(|&i| i != xi && Some(i) != yi)
                        .all(|i| value_key(c.params[i]) == value_key(anchor.params[i]))
                })
                .collect(),
        )
    }

    pub fn reference(&self, scenario: &str) -> Option<&Cell> {
        self.cells_of(scenario).find(|c| c.is_reference)
    }

    /// How the key figures introduce the reference strategy: not at all when no scenario has a cell matching
    /// the scenario file's own strategy, "where a cell matches it" when only some do.
    pub fn reference_note(&self) -> &'static str {
        let n_with_reference = self.scenarios.iter().filter(|s| self.reference(s).is_some()).count();
        if n_with_reference == 0 {
            ""
        } else if n_with_reference < self.scenarios.len() {
            "the scenario file's own strategy (reference) where a cell matches it, and "
        } else {
            "the scenario file's own strategy (reference) and "
        }
    }

    /// A short name of a parameter: its last path component.
    pub fn short_name(&self, idx: usize) -> &str {
        let p = &self.parameters[idx];
        p.rsplit('.').next().unwrap_or(p)
    }

    /// Whether every value of a parameter is a share in [0, 1], to print it as a percentage.
    pub fn is_share(&self, idx: usize) -> bool {
        !self.is_text(idx)
            && (self.parameters[idx].ends_with("_share")
                || self.cells.iter().all(|c| (0.0..=1.0).contains(&c.params[idx])))
    }

    /// Whether a parameter's values are text (such as `price.model`), not numbers.
    pub fn is_text(&self, idx: usize) -> bool {
        !self.texts[idx].is_empty()
    }

    /// A parameter value for people: the text of a text parameter without its TOML quotes, `yes`/`no` for
    /// booleans, `80%` for shares, else the number; `n/a` for a missing value.
    pub fn show_value(&self, idx: usize, v: f64) -> String {
        if self.is_text(idx) {
            let text = (v.is_finite() && v >= 0.0)
                .then(|| self.texts[idx].get(v.round() as usize))
                .flatten();
            text.map_or("n/a".to_string(), |t| unquoted(t).to_string())
        } else if !v.is_finite() {
            "n/a".to_string()
        } else if self.info.boolean_parameters.contains(&self.parameters[idx]) {
            if v != 0.0 { "yes" } else { "no" }.to_string()
        } else if self.is_share(idx) {
            format::pct(v)
        } else {
            trim(v)
        }
    }

    /// `futures 80% · prepay 50%`.
    pub fn describe(&self, cell: &Cell) -> String {
        (0..self.parameters.len())
            .map(|i| {
                let name = self.short_name(i).trim_end_matches("_share").replace('_', " ");
                format!("{name} {}", self.show_value(i, cell.params[i]))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// An axis description: a readable name for the parameters the shipped sweeps vary.
    pub fn axis_desc(&self, idx: usize) -> String {
        let short = self.short_name(idx);
        match short {
            "futures_share" => "Share of output sold as futures (futures_share)".to_string(),
            "prepay_share" => "Prepayment share at signing (prepay_share)".to_string(),
            other => {
                let words = other.replace('_', " ");
                let mut chars = words.chars();
                chars
                    .next()
                    .map_or(String::new(), |c| c.to_uppercase().collect::<String>() + chars.as_str())
            }
        }
    }
}

/// A parameter value rounded so that float noise does not split a grid row or column.
pub fn value_key(v: f64) -> i64 {
    (v * 1e9).round() as i64
}

/// A text column as codes: each row's index into the distinct texts, numbered in order of first appearance
/// (the sweep file's order for a grid); a missing text (null or empty) is NaN.
fn text_codes(column: &[String]) -> (Vec<f64>, Vec<String>) {
    let mut distinct: Vec<String> = vec![];
    let codes = column
        .iter()
        .map(|text| {
            if text.is_empty() {
                return f64::NAN;
            }
            let code = distinct.iter().position(|d| d == text).unwrap_or_else(|| {
                distinct.push(text.clone());
                distinct.len() - 1
            });
            code as f64
        })
        .collect();
    (codes, distinct)
}

/// The value all of `values` share, when there are two or more, all finite and all equal; `None` otherwise.
pub fn common_value(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut values = values.into_iter();
    let first = values.next().filter(|v| v.is_finite())?;
    let mut n_values = 1usize;
    for v in values {
        if v != first {
            return None;
        }
        n_values += 1;
    }
    (n_values >= 2).then_some(first)
}

/// A TOML string as written in a table (`"bootstrap"`) without its quotes.
fn unquoted(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}

fn trim(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use polars::prelude::{Column, DataFrame};

    use super::*;
    use crate::output::charts::canvas::render_svg;
    use crate::sweep::charts::{Metric, comparison, heatmap_for_scenario};

    const A: &str = "manufacturers.bitmain.strategy.delivery_months";
    const B: &str = "manufacturers.bitmain.strategy.wafer_prepay_share";

    /// A sweep table of one scenario over `points` of parameters `A` and `B`, with made-up metrics, and its
    /// per-path table (three paths per cell).
    fn tables(points: &[(f64, f64)], reference: usize) -> (Table, Table) {
        let n = points.len();
        let mut columns = vec![
            Column::new("sweep".into(), vec!["s"; n]),
            Column::new("scenario".into(), vec!["base"; n]),
            Column::new("cell".into(), (0..n as u32).collect::<Vec<u32>>()),
            Column::new("strategy".into(), vec!["x"; n]),
            Column::new(A.into(), points.iter().map(|p| p.0).collect::<Vec<f64>>()),
            Column::new(B.into(), points.iter().map(|p| p.1).collect::<Vec<f64>>()),
            Column::new(
                "is_reference".into(),
                (0..n).map(|i| i == reference).collect::<Vec<bool>>(),
            ),
            Column::new("focus_manufacturer".into(), vec!["bitmain"; n]),
            Column::new("n_paths".into(), vec![3u32; n]),
            Column::new("n_failed".into(), vec![0u32; n]),
        ];
        let risk: Vec<f64> = points.iter().map(|p| (p.1 * 0.5).min(1.0)).collect();
        for name in ["p_cash_below_zero", "p_distress"] {
            columns.push(Column::new(name.into(), risk.clone()));
            columns.push(Column::new(format!("{name}_se").into(), vec![0.05; n]));
        }
        for stem in ["min_cash_usd", "end_cash_usd", "revenue_usd", "gross_margin_usd"] {
            for (q, offset) in [("p5", -2e9), ("p25", -1e9), ("p50", 0.0), ("p75", 1e9), ("p95", 2e9)] {
                let values: Vec<f64> = points.iter().map(|p| p.0 * 1e8 + offset).collect();
                columns.push(Column::new(format!("{stem}_{q}").into(), values));
            }
        }
        for name in [
            "walk_away_rate_mean",
            "prepayments_forfeited_usd_mean",
            "writedowns_usd_mean",
            "market_share_mean",
        ] {
            columns.push(Column::new(name.into(), vec![0.1; n]));
        }
        let sweep = DataFrame::new(n, columns).unwrap();
        let rows = 3 * n;
        let paths = DataFrame::new(
            rows,
            vec![
                Column::new("scenario".into(), vec!["base"; rows]),
                Column::new("cell".into(), (0..rows as u32).map(|r| r / 3).collect::<Vec<u32>>()),
                Column::new(
                    "end_cash_usd".into(),
                    (0..rows).map(|r| r as f64 * 1e8 - 5e8).collect::<Vec<f64>>(),
                ),
            ],
        )
        .unwrap();
        let table = |df| Table {
            path: PathBuf::from("test.parquet"),
            df,
        };
        (table(sweep), table(paths))
    }

    fn info() -> SweepInfo {
        SweepInfo {
            version: "0".into(),
            sweep_name: "s".into(),
            n_paths: 3,
            seed: 1,
            focus_manufacturer: "bitmain".into(),
            frontier_risk: "p_cash_below_zero".into(),
            frontier_return: "end_cash_usd_p50".into(),
            parameters: vec![],
            boolean_parameters: vec![],
            scenarios: vec![("base".into(), "scenarios/base.toml".into())],
            n_cells: 0,
            history_fits: vec![None],
            descriptions: vec![String::new()],
            assumptions: vec![vec![]],
        }
    }

    #[test]
    fn a_common_value_needs_two_finite_equal_values() {
        assert_eq!(common_value([0.1, 0.1, 0.1]), Some(0.1));
        assert_eq!(common_value([0.1, 0.1, 0.2]), None);
        assert_eq!(common_value([0.1]), None);
        assert_eq!(common_value([f64::NAN, f64::NAN]), None);
        assert_eq!(common_value(std::iter::empty()), None);
    }

    #[test]
    fn a_scenario_whose_cells_share_their_risk_ties() {
        // Risk is half the second coordinate: one value for both cells, then two.
        let (sweep, paths) = tables(&[(1.0, 0.2), (2.0, 0.2)], 0);
        let data = SweepData::from_tables(info(), &sweep, &paths).unwrap();
        assert_eq!(data.risk_tie("base"), Some(0.1));
        let (sweep, paths) = tables(&[(1.0, 0.2), (2.0, 0.4)], 0);
        let data = SweepData::from_tables(info(), &sweep, &paths).unwrap();
        assert_eq!(data.risk_tie("base"), None);
    }

    #[test]
    fn axes_fall_back_to_the_first_two_swept_parameters() {
        let grid: Vec<(f64, f64)> = [3.0, 6.0].iter().flat_map(|a| [0.5, 1.0].map(|b| (*a, b))).collect();
        let (sweep, paths) = tables(&grid, 3);
        let data = SweepData::from_tables(info(), &sweep, &paths).unwrap();
        assert_eq!(data.parameters, [A, B]);
        assert_eq!((data.x_param, data.y_param), (0, Some(1)));
        assert_eq!(data.describe(&data.cells[3]), "delivery months 6 · wafer prepay 100%");
        assert_eq!(data.axis_desc(1), "Wafer prepay share");
        assert_eq!(data.best("base").unwrap().cell, 2);
        assert_eq!(data.worst("base").unwrap().cell, 1);
        let (_, map) = heatmap_for_scenario(&data, "base", Metric::CashBelowZero).unwrap();
        assert_eq!(map.x_labels, ["3", "6"]);
        assert_eq!(map.y_labels, ["50%", "100%"]);
        assert_eq!(map.cells.iter().filter(|c| c.reference).count(), 1);
        assert!(render_svg(&map).unwrap().contains("aria-label=\"25%\""));
        let (_, comparison) = comparison(&data).unwrap();
        assert_eq!(comparison.items.len(), 3);
        render_svg(&comparison).unwrap();
    }

    #[test]
    fn a_design_that_is_not_a_grid_is_drawn_as_points() {
        let scattered: Vec<(f64, f64)> = (0..12)
            .map(|i| (1.0 + i as f64 * 0.37, (i * 7 % 12) as f64 / 12.0))
            .collect();
        let (sweep, paths) = tables(&scattered, usize::MAX);
        let data = SweepData::from_tables(info(), &sweep, &paths).unwrap();
        assert!(data.reference("base").is_none());
        let (_, map) = heatmap_for_scenario(&data, "base", Metric::MedianEndCash).unwrap();
        assert!(map.x_labels.is_empty(), "a scatter has continuous axes");
        assert_eq!(map.cells.len(), 12);
        assert!(!map.page.legend.iter().any(|item| item.label.starts_with("Reference")));
        render_svg(&map).unwrap();
    }

    #[test]
    fn a_sweep_table_without_parameter_columns_is_refused() {
        let (sweep, paths) = tables(&[(1.0, 0.5)], 0);
        let mut df = sweep.df.clone();
        df = df.drop(A).unwrap().drop(B).unwrap();
        let sweep = Table { df, ..sweep };
        let err = SweepData::from_tables(info(), &sweep, &paths).err().unwrap();
        assert!(err.to_string().contains("no swept parameter column"), "{err}");
    }
}
