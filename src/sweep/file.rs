//! The sweep file: which scenarios, which parameters, and the design (a grid or a Latin hypercube).
//!
//! ```toml
//! [sweep]
//! name = "futures_prepay"
//! scenarios = ["../base.toml", "../bull.toml", "../bear.toml"]   # relative to the sweep file
//! paths = 1000                                                    # optional; --paths overrides
//! seed = 20250101                                                 # optional; --seed overrides
//! focus_manufacturer = "bitmain"                                  # optional; default: the first manufacturer
//! frontier_risk = "p_cash_below_zero"      # or "min_cash_usd_cvar5"; the frontier chart's risk (default the first)
//! frontier_return = "end_cash_usd_p50"     # or "gross_margin_usd_p50"; its return (default the first)
//!
//! [[grid]]                                                        # a full factorial over every axis
//! parameter = "manufacturers.bitmain.strategy.futures_share"
//! values = [0.2, 0.5, 0.8]                                        # or from = 0.1, to = 1.0, step = 0.1
//!
//! [latin_hypercube]                                               # instead of [[grid]]
//! points = 50
//! seed = 7
//! [[latin_hypercube.ranges]]
//! parameter = "manufacturers.bitmain.strategy.prepay_share"
//! min = 0.1
//! max = 0.9
//! ```

use std::path::{Path, PathBuf};

use crate::scenario::ScenarioError;
use crate::scenario::raw::{self, Span, Value};
use crate::scenario::reader::{Bounds, Problems, Section};
use crate::scenario::validate::MAX_PATHS;

/// Grid steps may produce at most this many values per axis.
const MAX_VALUES_PER_AXIS: usize = 10_000;
/// A sweep may have at most this many strategy cells (the most a Latin hypercube may ask for), so that a
/// grid of several long axes is refused with a message instead of exhausting memory while cells are built.
pub const MAX_CELLS: u64 = 1_000_000;

/// Why a sweep file was refused: every problem, located and shown as a scenario's are, under the heading
/// `FILE is not a valid sweep file`.
#[derive(Debug)]
pub struct SweepFileError(pub ScenarioError);

impl std::fmt::Display for SweepFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_report(f, "sweep file")
    }
}

impl std::error::Error for SweepFileError {}

impl std::ops::Deref for SweepFileError {
    type Target = ScenarioError;

    fn deref(&self) -> &ScenarioError {
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct SweepFile {
    pub path: PathBuf,
    pub text: String,
    pub name: String,
    pub scenario_files: Vec<(PathBuf, Option<Span>)>,
    pub n_paths: Option<u32>,
    pub seed: Option<u64>,
    pub focus_manufacturer: Option<(String, Option<Span>)>,
    /// The frontier chart's risk and return measures, as `sweep.parquet` names them.
    pub frontier_risk: String,
    pub frontier_return: String,
    pub design: Design,
}

/// The risk measures a frontier may use.
pub const FRONTIER_RISKS: [&str; 2] = ["p_cash_below_zero", "min_cash_usd_cvar5"];
/// The return measures a frontier may use.
pub const FRONTIER_RETURNS: [&str; 2] = ["end_cash_usd_p50", "gross_margin_usd_p50"];

#[derive(Clone, Debug)]
pub enum Design {
    Grid(Vec<Axis>),
    LatinHypercube {
        n_points: u32,
        seed: u64,
        ranges: Vec<LhsRange>,
    },
}

#[derive(Clone, Debug)]
pub struct Axis {
    pub parameter: String,
    pub span: Option<Span>,
    pub values: Vec<Value>,
}

#[derive(Clone, Debug)]
pub struct LhsRange {
    pub parameter: String,
    pub span: Option<Span>,
    pub min: f64,
    pub max: f64,
}

/// Scenario keys a sweep may not vary: every cell of a scenario is dated with one calendar and split into
/// shards by one path count, so cells that differed in these would be written with wrong dates or differ
/// between sharded and unsharded runs.
const UNSWEEPABLE_PARAMETERS: [&str; 4] = [
    "simulation.start_month",
    "simulation.horizon_months",
    "simulation.paths",
    "simulation.name",
];

/// Issue 30, defects 13 to 15: a parameter swept twice (two grid axes or ranges on one path) and the
/// simulation's calendar, path count and name are refused with the line that names them, instead of failing
/// once cells are written.
fn check_swept_parameters(design: &Design, p: &mut Problems) {
    let parameters = design.parameters();
    for (idx, (parameter, span)) in parameters.iter().enumerate() {
        if parameters[..idx].iter().any(|(earlier, _)| earlier == parameter) {
            p.push(
                span.clone(),
                "grid",
                format!("`{parameter}` is swept twice: each parameter may have one axis or range"),
            );
        }
        if UNSWEEPABLE_PARAMETERS.contains(&parameter.as_str()) {
            p.push(
                span.clone(),
                "grid",
                format!(
                    "`{parameter}` cannot be swept: a scenario's cells share its calendar, path count and name (write one scenario file per value instead)"
                ),
            );
        }
    }
}

impl Design {
    /// The swept parameter paths, in axis order, with where each is named.
    pub fn parameters(&self) -> Vec<(String, Option<Span>)> {
        match self {
            Design::Grid(axes) => axes.iter().map(|a| (a.parameter.clone(), a.span.clone())).collect(),
            Design::LatinHypercube { ranges, .. } => {
                ranges.iter().map(|r| (r.parameter.clone(), r.span.clone())).collect()
            }
        }
    }
}

/// Values `from`, `from + step`, ... up to `to` (inclusive, allowing for rounding), rounded to 12 decimals
/// so that 0.1 + 0.2 prints as 0.3.
/// At most `MAX_VALUES_PER_AXIS` values: a range too wide for its step (even one whose width overflows to
/// infinity) is cut short here and reported by validation.
pub fn stepped_values(from: f64, to: f64, step: f64) -> Vec<f64> {
    let steps = ((to - from) / step + 1e-9).floor();
    let n = if steps.is_nan() || steps < 0.0 {
        0
    } else {
        steps.min(MAX_VALUES_PER_AXIS as f64) as usize + 1
    };
    (0..n.min(MAX_VALUES_PER_AXIS))
        .map(|k| ((from + k as f64 * step) * 1e12).round() / 1e12)
        .collect()
}

/// Where a text that failed as a scenario has its `[sweep]` table, if it is a sweep file: a `[sweep]` table
/// and no `[simulation]`.
pub fn sweep_table_span(text: &str) -> Option<Span> {
    let (tree, _) = raw::parse(text);
    let Value::Table(t) = &tree.value else {
        return None;
    };
    if t.get("simulation").is_some() {
        return None;
    }
    let entry = t.entries.iter().find(|e| e.key == "sweep")?;
    matches!(entry.node.value, Value::Table(_)).then(|| entry.key_span.clone().or(entry.node.span.clone()))?
}

/// Where a text that failed as a sweep file says it is a scenario (its `[simulation]` table or its `extends`),
/// if it has no `[sweep]` table.
pub fn scenario_key_span(text: &str) -> Option<Span> {
    let (tree, _) = raw::parse(text);
    let Value::Table(t) = &tree.value else {
        return None;
    };
    if t.get("sweep").is_some() {
        return None;
    }
    let entry = t.entries.iter().find(|e| e.key == "simulation" || e.key == "extends")?;
    entry.key_span.clone().or(entry.node.span.clone())
}

/// Reads and checks a sweep file; the scenarios it names are only loaded by `crate::sweep::plan::build`.
pub fn load(path: &Path) -> Result<SweepFile, SweepFileError> {
    let file = path.display().to_string();
    let text = crate::scenario::read_source(path).map_err(SweepFileError)?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    from_text(&text, &file, &base_dir).map(|mut s| {
        s.path = path.to_path_buf();
        s
    })
}

/// Checks sweep text; `file` names it in messages, `base_dir` resolves the scenario file names.
pub fn from_text(text: &str, file: &str, base_dir: &Path) -> Result<SweepFile, SweepFileError> {
    let (tree, syntax_errors) = raw::parse(text);
    let mut p = Problems::default();
    for e in syntax_errors {
        p.push(e.span, "", format!("TOML syntax error: {}", e.message));
    }
    let sweep = if p.is_empty() {
        read(&tree, base_dir, &mut p)
    } else {
        None
    };
    match sweep {
        Some(mut s) if p.is_empty() => {
            s.path = PathBuf::from(file);
            s.text = text.to_string();
            Ok(s)
        }
        _ => {
            let mut problems = p.list;
            if problems.is_empty() {
                // `read` gives up without a problem only when the root is not a table, which the parser
                // never produces; say something rather than report an error with no reason.
                problems.push(crate::scenario::reader::Problem {
                    span: tree.span.clone(),
                    key_path: String::new(),
                    message: "a sweep file must be a TOML table".into(),
                });
            }
            problems.sort_by_key(|p| p.span.as_ref().map_or(usize::MAX, |s| s.start));
            problems.dedup();
            Err(SweepFileError(ScenarioError {
                file: file.to_string(),
                text: text.to_string(),
                problems,
                more_sources: vec![],
            }))
        }
    }
}

fn read(root: &raw::Node, base_dir: &Path, p: &mut Problems) -> Option<SweepFile> {
    let raw::Value::Table(table) = &root.value else {
        return None;
    };
    let mut top = Section::new(table, "", root.span.clone());
    let mut s = top.table(p, "sweep", true)?;
    let (name, name_span) = s.string(p, "name", None);
    if let Some(problem) = crate::output::dir::output_name_problem(&name) {
        p.push(
            name_span,
            "sweep.name",
            format!("`sweep.name` {problem} (it names the output directory)"),
        );
    }
    let mut scenario_files = vec![];
    match s.node("scenarios") {
        Some(raw::Node {
            value: raw::Value::Array(items),
            span,
        }) => {
            for item in items {
                match &item.value {
                    raw::Value::Str(f) => scenario_files.push((base_dir.join(f), item.span.clone())),
                    other => p.push(
                        item.span.clone(),
                        "sweep.scenarios",
                        format!(
                            "`sweep.scenarios` entries must be file names, found {}",
                            other.type_name()
                        ),
                    ),
                }
            }
            if items.is_empty() {
                p.push(
                    span.clone(),
                    "sweep.scenarios",
                    "`sweep.scenarios` must list at least one scenario file",
                );
            }
        }
        Some(node) => p.push(
            node.span.clone(),
            "sweep.scenarios",
            "`sweep.scenarios` must be an array of file names",
        ),
        None => p.push(
            s.span.clone(),
            "sweep.scenarios",
            "missing key `scenarios` in [sweep] (expected an array of scenario files)",
        ),
    }
    let n_paths = s
        .has("paths")
        .then(|| s.u32(p, "paths", Bounds::closed(1.0, MAX_PATHS as f64), None));
    let seed = s.has("seed").then(|| s.u64(p, "seed", Bounds::non_negative(), None));
    let focus_manufacturer = s
        .has("focus_manufacturer")
        .then(|| s.string(p, "focus_manufacturer", None));
    let frontier_risk = s.choice(p, "frontier_risk", &FRONTIER_RISKS, Some(FRONTIER_RISKS[0]));
    let frontier_return = s.choice(p, "frontier_return", &FRONTIER_RETURNS, Some(FRONTIER_RETURNS[0]));
    s.finish(p);

    let grid = top.tables(p, "grid", false);
    let lhs = top.table(p, "latin_hypercube", false);
    let design = match (grid.is_empty(), lhs) {
        (false, Some(l)) => {
            p.push(
                l.span.clone(),
                "latin_hypercube",
                "a sweep has either [[grid]] axes or a [latin_hypercube], not both",
            );
            l.finish(p);
            None
        }
        (true, None) => {
            p.push(
                root.span.clone(),
                "grid",
                "a sweep needs [[grid]] axes or a [latin_hypercube] section",
            );
            None
        }
        (false, None) => {
            let mut axes = vec![];
            for mut g in grid {
                let (parameter, span) = g.string(p, "parameter", None);
                let values = if g.has("values") {
                    let path = g.path.clone();
                    match g.node("values") {
                        Some(raw::Node {
                            value: raw::Value::Array(items),
                            ..
                        }) if !items.is_empty() => items.iter().map(|n| n.value.clone()).collect(),
                        node => {
                            let span = node.and_then(|n| n.span.clone()).or(g.span.clone());
                            p.push(
                                span,
                                &format!("{path}.values"),
                                format!("`{path}.values` must be a non-empty array"),
                            );
                            vec![]
                        }
                    }
                } else {
                    let from = g.f64(p, "from", Bounds::any(), None);
                    let to = g.f64(p, "to", Bounds::any(), None);
                    let step = g.f64(p, "step", Bounds::positive(), None);
                    if to < from {
                        p.push(
                            g.span.clone(),
                            &format!("{}.to", g.path),
                            format!("`{}.to` = {to} is below `from` = {from}", g.path),
                        );
                    }
                    if step > 0.0 && (to - from) / step > MAX_VALUES_PER_AXIS as f64 {
                        p.push(
                            g.span.clone(),
                            &format!("{}.step", g.path),
                            format!("`{}` would produce more than {MAX_VALUES_PER_AXIS} values", g.path),
                        );
                    }
                    if step > 0.0 && to >= from {
                        stepped_values(from, to, step).into_iter().map(Value::Float).collect()
                    } else {
                        vec![]
                    }
                };
                g.finish(p);
                axes.push(Axis {
                    parameter,
                    span,
                    values,
                });
            }
            let n_cells = axes
                .iter()
                .fold(1u64, |n, axis| n.saturating_mul(axis.values.len() as u64));
            if n_cells > MAX_CELLS {
                p.push(
                    axes.first().and_then(|a| a.span.clone()),
                    "grid",
                    format!(
                        "the [[grid]] axes make {n_cells} strategy cells, more than the {MAX_CELLS} a sweep may have"
                    ),
                );
            }
            Some(Design::Grid(axes))
        }
        (true, Some(mut l)) => {
            let n_points = l.u32(p, "points", Bounds::closed(1.0, 1_000_000.0), None);
            let seed = l.u64(p, "seed", Bounds::non_negative(), Some(1));
            let mut ranges = vec![];
            for mut r in l.tables(p, "ranges", true) {
                let (parameter, span) = r.string(p, "parameter", None);
                let min = r.f64(p, "min", Bounds::any(), None);
                let max = r.f64(p, "max", Bounds::any(), None);
                if max < min {
                    p.push(
                        r.span.clone(),
                        &format!("{}.max", r.path),
                        format!("`{}.max` = {max} is below `min` = {min}", r.path),
                    );
                }
                r.finish(p);
                ranges.push(LhsRange {
                    parameter,
                    span,
                    min,
                    max,
                });
            }
            if ranges.is_empty() {
                p.push(
                    l.span.clone(),
                    "latin_hypercube.ranges",
                    "a [latin_hypercube] needs at least one [[latin_hypercube.ranges]] parameter to vary",
                );
            }
            l.finish(p);
            Some(Design::LatinHypercube { n_points, seed, ranges })
        }
    };
    if let Some(design) = &design {
        check_swept_parameters(design, p);
    }
    top.finish(p);
    Some(SweepFile {
        path: PathBuf::new(),
        text: String::new(),
        name,
        scenario_files,
        n_paths,
        seed,
        focus_manufacturer,
        frontier_risk,
        frontier_return,
        design: design?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepped_values_include_both_ends_without_rounding_noise() {
        let v = stepped_values(0.1, 1.0, 0.1);
        assert_eq!(v.len(), 10);
        assert_eq!(v[2], 0.3);
        assert_eq!(v[9], 1.0);
        assert_eq!(stepped_values(0.1, 0.9, 0.1).len(), 9);
    }
}
