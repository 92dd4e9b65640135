//! The backtest template: a scenario file with a `[backtest]` table, turned into a scenario for a window.
//!
//! The template (`scenarios/backtest.toml`) holds the behaviour parameters (buyers, regions, power) like any
//! scenario, and its `[backtest]` table says where the history and the ASIC list are and how the hardware,
//! the starting fleet and the buyers' funds are derived from them, and which parameters calibration fits.
//! `Template::scenario` fills in the rest from the data for a window: the start month and horizon, the
//! network state of the month before the start, the frontier generations and the vintage fleet, and drops
//! scripted events outside the window. Data paths are relative to the template file.

use std::path::{Path, PathBuf};

use crate::backtest::data::{AsicModel, FrontierGeneration, History, frontier, vintage_fleet};
use crate::scenario::raw::{self, Entry, Node, Table, Value};
use crate::scenario::reader::{Bounds, Problems, Section};
use crate::scenario::{Scenario, ScenarioError, overrides};
use hashcycle_model::params::Segment;
use hashcycle_model::units::YearMonth;

/// How the calibration scores a candidate: the median or the mean of |log(simulated p50 / actual)| over the
/// in-sample months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    Median,
    Mean,
}

impl Objective {
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Median => "median",
            Objective::Mean => "mean",
        }
    }
}

/// A behaviour parameter the calibration fits: one value written to every path listed (so that, say, both
/// segments share a growth cap), searched within [min, max].
#[derive(Clone, Debug, PartialEq)]
pub struct FittedParameter {
    pub name: String,
    pub paths: Vec<String>,
    pub min: f64,
    pub max: f64,
    /// Rounded to a whole number before use (months, counts).
    pub integer: bool,
}

impl FittedParameter {
    /// The value at unit coordinate `u` (0 = min, 1 = max), clamped and rounded as the parameter demands.
    pub fn value_at(&self, u: f64) -> f64 {
        let x = self.min + u.clamp(0.0, 1.0) * (self.max - self.min);
        if self.integer { x.round() } else { x }
    }

    /// The unit coordinate of a value.
    pub fn unit_of(&self, value: f64) -> f64 {
        if self.max > self.min {
            ((value - self.min) / (self.max - self.min)).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    pub fn toml_value(&self, value: f64) -> Value {
        if self.integer {
            Value::Int(value.round() as i64)
        } else {
            Value::Float(value)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationSettings {
    pub objective: Objective,
    pub n_paths: u32,
    pub seed: u64,
    /// Points per parameter of the coarse grid searched before Nelder–Mead (0: start from the template).
    pub grid_points_per_parameter: u32,
    /// Objective evaluations Nelder–Mead may spend, after the grid.
    pub max_evaluations: u32,
    pub parameters: Vec<FittedParameter>,
}

/// The `[backtest]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The monthly network history (resolved against the template's directory).
    pub history_file: PathBuf,
    pub asic_models_file: PathBuf,
    /// Default window: first simulated month, and the last in-sample month.
    pub from: YearMonth,
    pub calibrate_until: YearMonth,
    /// A model joins the frontier when its J/TH is at least this share below the last one's.
    pub frontier_min_improvement_share: f64,
    /// TH/s of the nominal unit carrying a model listed with its efficiency only.
    pub nominal_unit_hashrate_ths: f64,
    /// Price of a new machine per watt at the wall (the data has no launch prices).
    pub price_usd_per_w: f64,
    /// Months before the start whose added hashrate sets the starting fleet's mix.
    pub fleet_vintage_months: u32,
    /// Buyers' cash and credit at the start, in months of the miners' revenue in the month before the start,
    /// split by the segments' `fleet_share`.
    pub segment_cash_months_of_revenue: f64,
    pub segment_credit_months_of_revenue: f64,
    /// Longest price lag the baseline may choose.
    pub baseline_max_lag_months: u32,
    pub calibration: CalibrationSettings,
}

/// The window a backtest simulates: `from` to `to` inclusive, in-sample up to `calibrate_until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: YearMonth,
    pub to: YearMonth,
    pub calibrate_until: YearMonth,
}

impl Window {
    pub fn n_months(&self) -> usize {
        (self.to.months_since(self.from) + 1) as usize
    }

    /// Months from `from` up to `calibrate_until`, within the window.
    pub fn n_in_sample(&self) -> usize {
        ((self.calibrate_until.min(self.to).months_since(self.from) + 1).max(0)) as usize
    }
}

/// A parsed template with its data loaded.
#[derive(Clone, Debug)]
pub struct Template {
    pub path: PathBuf,
    pub text: String,
    pub base_dir: PathBuf,
    /// The scenario tree without the `[backtest]` table.
    pub tree: Node,
    pub settings: Settings,
    pub history: History,
    pub models: Vec<AsicModel>,
}

/// What a built scenario holds beyond the parameters: the hardware chosen and the fleet mix.
#[derive(Clone, Debug)]
pub struct Hardware {
    pub generations: Vec<FrontierGeneration>,
    /// (index into `generations`, share of the starting hashrate).
    pub fleet: Vec<(usize, f64)>,
}

fn error(file: &str, text: &str, problems: Problems) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        text: text.to_string(),
        problems: problems.list,
        more_sources: vec![],
    }
}

fn read_calibration(s: &mut Section, p: &mut Problems) -> Option<CalibrationSettings> {
    let mut c = s.table(p, "calibration", true)?;
    let objective = match c.choice(p, "objective", &["median", "mean"], Some("median")).as_str() {
        "mean" => Objective::Mean,
        _ => Objective::Median,
    };
    let n_paths = c.u32(p, "paths", Bounds::closed(1.0, 100_000.0), Some(16));
    let seed = c.u64(p, "seed", Bounds::non_negative(), Some(1));
    let grid_points_per_parameter = c.u32(p, "grid_points_per_parameter", Bounds::closed(0.0, 10.0), Some(0));
    let max_evaluations = c.u32(p, "max_evaluations", Bounds::closed(1.0, 100_000.0), Some(200));
    let mut parameters = vec![];
    for (i, mut f) in c.tables(p, "parameters", true).into_iter().enumerate() {
        let key = format!("backtest.calibration.parameters[{i}]");
        let (name, _) = f.string(p, "name", None);
        let min = f.f64(p, "min", Bounds::any(), None);
        let max = f.f64(p, "max", Bounds::any(), None);
        let integer = f.bool(p, "integer", Some(false));
        let mut paths = vec![];
        match f.node("paths") {
            Some(Node {
                value: Value::Array(items),
                ..
            }) if !items.is_empty() => {
                for item in items {
                    match &item.value {
                        Value::Str(path) => paths.push(path.clone()),
                        other => p.push(
                            item.span.clone(),
                            &format!("{key}.paths"),
                            format!(
                                "`{key}.paths` must list parameter paths as strings, found {}",
                                other.type_name()
                            ),
                        ),
                    }
                }
            }
            Some(node) => p.push(
                node.span.clone(),
                &format!("{key}.paths"),
                format!("`{key}.paths` must be a non-empty array of parameter paths"),
            ),
            None => p.push(
                f.span.clone(),
                &format!("{key}.paths"),
                format!("missing key `paths` in [{key}] (the parameter paths the value is written to)"),
            ),
        }
        if max <= min {
            p.push(
                f.span.clone(),
                &key,
                format!("`{key}`: max ({max}) must exceed min ({min})"),
            );
        }
        f.finish(p);
        parameters.push(FittedParameter {
            name,
            paths,
            min,
            max,
            integer,
        });
    }
    c.finish(p);
    Some(CalibrationSettings {
        objective,
        n_paths,
        seed,
        grid_points_per_parameter,
        max_evaluations,
        parameters,
    })
}

fn read_settings(table: &Table, span: Option<raw::Span>, base_dir: &Path, p: &mut Problems) -> Option<Settings> {
    let mut s = Section::new(table, "backtest", span);
    let (history_file, _) = s.string(p, "history_file", None);
    let (asic_models_file, _) = s.string(p, "asic_models_file", None);
    let (from, _) = s.year_month(p, "from_month");
    let (calibrate_until, _) = s.year_month(p, "calibrate_until_month");
    let frontier_min_improvement_share = s.f64(p, "frontier_min_improvement_share", Bounds::closed(0.0, 0.99), None);
    let nominal_unit_hashrate_ths = s.f64(p, "nominal_unit_hashrate_ths", Bounds::above_up_to(0.0, 1e6), None);
    let price_usd_per_w = s.f64(p, "price_usd_per_w", Bounds::above_up_to(0.0, 1e3), None);
    let fleet_vintage_months = s.u32(p, "fleet_vintage_months", Bounds::closed(0.0, 120.0), None);
    let segment_cash_months_of_revenue = s.f64(p, "segment_cash_months_of_revenue", Bounds::closed(0.0, 1000.0), None);
    let segment_credit_months_of_revenue = s.f64(
        p,
        "segment_credit_months_of_revenue",
        Bounds::closed(0.0, 1000.0),
        Some(0.0),
    );
    let baseline_max_lag_months = s.u32(p, "baseline_max_lag_months", Bounds::closed(0.0, 60.0), Some(24));
    let calibration = read_calibration(&mut s, p);
    s.finish(p);
    Some(Settings {
        history_file: base_dir.join(history_file),
        asic_models_file: base_dir.join(asic_models_file),
        from: from?,
        calibrate_until: calibrate_until?,
        frontier_min_improvement_share,
        nominal_unit_hashrate_ths,
        price_usd_per_w,
        fleet_vintage_months,
        segment_cash_months_of_revenue,
        segment_credit_months_of_revenue,
        baseline_max_lag_months,
        calibration: calibration?,
    })
}

/// Sets `path` in `tree`, recording a problem instead of failing.
fn set(tree: &mut Node, path: &str, value: Value, p: &mut Problems) {
    if let Err(e) = overrides::set(tree, path, value) {
        p.push(None, path, e.to_string());
    }
}

fn table_node(entries: Vec<(&str, Value)>) -> Node {
    Node {
        span: None,
        value: Value::Table(Table {
            entries: entries
                .into_iter()
                .map(|(key, value)| Entry {
                    key: key.to_string(),
                    key_span: None,
                    node: Node { span: None, value },
                })
                .collect(),
        }),
    }
}

/// Where a text that failed as a scenario has its `[backtest]` table, if it has one: such a file is a backtest
/// template, which `hashcycle backtest --scenario FILE` completes from the data before it is a scenario.
pub fn backtest_table_span(text: &str) -> Option<raw::Span> {
    let (tree, _) = raw::parse(text);
    let Value::Table(t) = &tree.value else {
        return None;
    };
    let entry = t.entries.iter().find(|e| e.key == "backtest")?;
    matches!(entry.node.value, Value::Table(_)).then(|| entry.key_span.clone().or(entry.node.span.clone()))?
}

fn top_table(tree: &mut Node) -> &mut Table {
    match &mut tree.value {
        Value::Table(t) => t,
        _ => unreachable!("a parsed template is a table"),
    }
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, ScenarioError> {
        let file = path.display().to_string();
        let text = crate::scenario::read_source(path)?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut template = Template::from_text(&text, &file, &base_dir)?;
        template.path = path.to_path_buf();
        Ok(template)
    }

    /// Parses template text; `file` names it in messages and `base_dir` resolves its data paths.
    pub fn from_text(text: &str, file: &str, base_dir: &Path) -> Result<Template, ScenarioError> {
        let (mut tree, syntax_errors) = raw::parse(text);
        let mut p = Problems::default();
        for e in syntax_errors {
            p.push(e.span, "", format!("TOML syntax error: {}", e.message));
        }
        if !p.is_empty() {
            return Err(error(file, text, p));
        }
        let top = top_table(&mut tree);
        let Some(idx) = top.entries.iter().position(|e| e.key == "backtest") else {
            p.push(
                None,
                "",
                "a backtest template needs a [backtest] table (scenarios/backtest.toml documents it)",
            );
            return Err(error(file, text, p));
        };
        let entry = top.entries.remove(idx);
        let Value::Table(backtest) = &entry.node.value else {
            p.push(entry.node.span.clone(), "backtest", "`backtest` must be a table");
            return Err(error(file, text, p));
        };
        let settings = read_settings(backtest, entry.node.span.clone(), base_dir, &mut p);
        let (Some(settings), true) = (settings, p.is_empty()) else {
            return Err(error(file, text, p));
        };
        let history = History::load(&settings.history_file);
        let models = AsicModel::load_all(&settings.asic_models_file);
        let (history, models) = match (history, models) {
            (Ok(h), Ok(m)) => (h, m),
            (h, m) => {
                for message in [h.err(), m.err()].into_iter().flatten() {
                    p.push(entry.node.span.clone(), "backtest", message);
                }
                return Err(error(file, text, p));
            }
        };
        // Every fitted parameter must be written in the template, so the calibrated file can show it in place.
        for parameter in &settings.calibration.parameters {
            for path in &parameter.paths {
                let mut probe = tree.clone();
                match overrides::get(&mut probe, path) {
                    Ok(Value::Int(_) | Value::Float(_)) => {}
                    Ok(other) => p.push(
                        entry.node.span.clone(),
                        path,
                        format!("the fitted parameter `{path}` is {}, not a number", other.type_name()),
                    ),
                    Err(e) => p.push(entry.node.span.clone(), path, format!("fitted parameter: {e}")),
                }
            }
        }
        if !p.is_empty() {
            return Err(error(file, text, p));
        }
        Ok(Template {
            path: PathBuf::from(file),
            text: text.to_string(),
            base_dir: base_dir.to_path_buf(),
            tree,
            settings,
            history,
            models,
        })
    }

    /// The default window: from the template's start to the last month of the history.
    pub fn default_window(&self) -> Window {
        Window {
            from: self.settings.from,
            to: self.history.last_month(),
            calibrate_until: self.settings.calibrate_until,
        }
    }

    /// The current values of the fitted parameters (the first path of each).
    pub fn fitted_values(&self) -> Vec<f64> {
        self.settings
            .calibration
            .parameters
            .iter()
            .map(|parameter| {
                let mut probe = self.tree.clone();
                overrides::get(&mut probe, &parameter.paths[0])
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    }

    /// The scenario tree for `from..=to` with the fitted parameters at `values` (`None`: the template's own).
    pub fn scenario_tree(
        &self,
        from: YearMonth,
        to: YearMonth,
        values: Option<&[f64]>,
    ) -> Result<(Node, Hardware), ScenarioError> {
        let file = self.path.display().to_string();
        let mut p = Problems::default();
        let mut tree = self.tree.clone();
        let settings = &self.settings;
        if let Some(values) = values {
            for (parameter, &value) in settings.calibration.parameters.iter().zip(values) {
                for path in &parameter.paths {
                    set(&mut tree, path, parameter.toml_value(value), &mut p);
                }
            }
        }
        let before = from.plus_months(-1);
        let window_check = self.history.window(before, to).map(|_| ()).and_then(|()| {
            self.history
                .at(before)
                .filter(|r| r.price_usd_close.is_some())
                .map(|_| ())
                .ok_or(format!("the history has no price for {before}"))
        });
        if let Err(message) = window_check {
            p.push(None, "backtest", format!("cannot backtest {from} to {to}: {message}"));
            return Err(error(&file, &self.text, p));
        }
        let start = self.history.at(before).expect("checked above").clone();
        set(
            &mut tree,
            "simulation.start_month",
            Value::Str(from.to_string()),
            &mut p,
        );
        set(
            &mut tree,
            "simulation.horizon_months",
            Value::Int(to.months_since(from) + 1),
            &mut p,
        );
        set(
            &mut tree,
            "network.block_height",
            Value::Int(start.height_end as i64),
            &mut p,
        );
        set(&mut tree, "network.difficulty", Value::Float(start.difficulty), &mut p);
        set(
            &mut tree,
            "network.hashrate_ehs",
            Value::Float(start.hashrate_ehs),
            &mut p,
        );
        let revenue_usd = start.miner_revenue_usd.unwrap_or(0.0);
        for segment in Segment::ALL.map(Segment::as_str) {
            let share = overrides::get(&mut tree, &format!("segments.{segment}.fleet_share"))
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0);
            let cash = settings.segment_cash_months_of_revenue * revenue_usd * share;
            let credit = settings.segment_credit_months_of_revenue * revenue_usd * share;
            set(
                &mut tree,
                &format!("segments.{segment}.cash_usd"),
                Value::Float(cash),
                &mut p,
            );
            set(
                &mut tree,
                &format!("segments.{segment}.credit_line_usd"),
                Value::Float(credit),
                &mut p,
            );
        }
        let all = frontier(
            &self.models,
            settings.frontier_min_improvement_share,
            settings.nominal_unit_hashrate_ths,
            to,
        );
        let fleet = match vintage_fleet(&self.history, &all, from, settings.fleet_vintage_months) {
            Ok(fleet) => fleet,
            Err(message) => {
                p.push(None, "backtest.fleet_vintage_months", message);
                return Err(error(&file, &self.text, p));
            }
        };
        // Keep what the fleet holds and what is released inside the window.
        let keep: Vec<usize> = (0..all.len())
            .filter(|&g| all[g].release >= from || fleet.iter().any(|(f, _)| *f == g))
            .collect();
        let generations: Vec<FrontierGeneration> = keep.iter().map(|&g| all[g].clone()).collect();
        let fleet: Vec<(usize, f64)> = fleet
            .iter()
            .map(|(g, share)| (keep.iter().position(|k| k == g).expect("kept above"), *share))
            .collect();
        let generation_nodes = generations
            .iter()
            .map(|g| {
                table_node(vec![
                    ("name", Value::Str(g.name.clone())),
                    ("release_month", Value::Str(g.release.to_string())),
                    ("hashrate_ths", Value::Float(g.hashrate_ths)),
                    ("power_w", Value::Float(g.power_w)),
                    ("price_new_usd", Value::Float(settings.price_usd_per_w * g.power_w)),
                ])
            })
            .collect();
        let fleet_nodes = fleet
            .iter()
            .map(|(g, share)| {
                table_node(vec![
                    ("generation", Value::Str(generations[*g].name.clone())),
                    ("hashrate_share", Value::Float(*share)),
                ])
            })
            .collect();
        let top = top_table(&mut tree);
        for (key, nodes) in [("generations", generation_nodes), ("fleet", fleet_nodes)] {
            if top.get(key).is_some() {
                p.push(
                    None,
                    key,
                    format!("a backtest template must not list [[{key}]]: they come from the data"),
                );
            }
            top.insert(
                key,
                Node {
                    span: None,
                    value: Value::Array(nodes),
                },
            );
        }
        // Scripted events (a ban, say) apply only when they fall inside the window.
        if let Some(Value::Array(events)) = top.get_mut("events").map(|n| &mut n.value) {
            events.retain(|event| match &event.value {
                Value::Table(t) => match t.get("month").map(|n| &n.value) {
                    Some(Value::Str(month)) => YearMonth::parse(month).is_none_or(|m| m >= from && m <= to),
                    _ => true,
                },
                _ => true,
            });
        }
        if !p.is_empty() {
            return Err(error(&file, &self.text, p));
        }
        Ok((tree, Hardware { generations, fleet }))
    }

    /// The validated scenario for `from..=to`, with the fitted parameters at `values` (`None`: the template's).
    pub fn scenario(
        &self,
        from: YearMonth,
        to: YearMonth,
        values: Option<&[f64]>,
    ) -> Result<(Scenario, Hardware), ScenarioError> {
        let (tree, hardware) = self
            .scenario_tree(from, to, values)
            .map_err(|e| self.locate_derived(e))?;
        let file = self.path.display().to_string();
        let scenario = Scenario::from_tree(tree, &self.text, &file, &self.base_dir, Problems::default())
            .map_err(|e| self.locate_derived(e))?;
        Ok((scenario, hardware))
    }

    /// Problems with values the backtest derived from the data have no place in the text: point them at the
    /// `[backtest]` table, which says how they are derived.
    fn locate_derived(&self, mut error: ScenarioError) -> ScenarioError {
        let header = "[backtest]";
        let table_start = if self.text.starts_with(header) {
            Some(0)
        } else {
            self.text.find(&format!("\n{header}")).map(|i| i + 1)
        };
        if let Some(start) = table_start {
            for problem in error.problems.iter_mut().filter(|p| p.span.is_none()) {
                problem.span = Some(start..start + header.len());
            }
        }
        error
    }

    /// The template's text with the fitted parameters replaced by `values` in place, comments kept, under a
    /// header saying how they were fitted.
    pub fn with_values_text(&self, values: &[f64], header: &str) -> String {
        let (mut original, _) = raw::parse(&self.text);
        let mut replacements: Vec<(raw::Span, String)> = vec![];
        for (parameter, &value) in self.settings.calibration.parameters.iter().zip(values) {
            let text = match parameter.toml_value(value) {
                Value::Int(i) => i.to_string(),
                _ => format_float(value),
            };
            for path in &parameter.paths {
                if let Ok(Some(span)) = overrides::span(&mut original, path) {
                    replacements.push((span, text.clone()));
                }
            }
        }
        replacements.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
        let mut text = self.text.clone();
        for (span, value) in replacements {
            replace_keeping_comment_column(&mut text, span, &value);
        }
        let mut out = String::new();
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&text);
        out
    }
}

/// Replaces the value at `span` with `value`, keeping a trailing comment in its column: the spaces before it
/// shrink or grow (at least one stays).
fn replace_keeping_comment_column(text: &mut String, span: raw::Span, value: &str) {
    let rest = &text[span.end..];
    let n_spaces = rest.len() - rest.trim_start_matches(' ').len();
    if rest[n_spaces..].starts_with('#') {
        let width = (span.len() + n_spaces).saturating_sub(1).max(value.len());
        text.replace_range(span.start..span.end + n_spaces, &format!("{value:<width$} "));
    } else {
        text.replace_range(span, value);
    }
}

/// Four significant digits: enough for a fitted value, short enough to read.
pub fn format_float(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x:?}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(1) as usize;
    let text = format!("{x:.digits$}");
    // Trailing zeros say nothing; keep one digit after the point so TOML reads a float.
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_values_keep_the_comment_column() {
        let mut text = "a = 0.05      # note\nb = 3\n".to_string();
        replace_keeping_comment_column(&mut text, 4..8, "0.05256");
        assert_eq!(text, "a = 0.05256   # note\nb = 3\n");
        let end = text.len() - 1;
        replace_keeping_comment_column(&mut text, end - 1..end, "12");
        assert_eq!(text, "a = 0.05256   # note\nb = 12\n");
        let mut crowded = "a = 1 # note".to_string();
        replace_keeping_comment_column(&mut crowded, 4..5, "1234");
        assert_eq!(crowded, "a = 1234 # note");
    }

    #[test]
    fn floats_are_written_with_four_significant_digits() {
        assert_eq!(format_float(0.0812345), "0.08123");
        assert_eq!(format_float(17.25), "17.25");
        assert_eq!(format_float(20.0), "20.0");
        assert_eq!(format_float(1234.5), "1234.5");
    }
}
