//! The sweep plan: every (scenario, strategy cell), each cell's parameters validated in full before any
//! path is simulated, so a misspelt parameter or an out-of-range value stops the sweep at once with a
//! located message.
//!
//! The plan does not hold the cells' parameters (about 14 KB a cell of the base scenario, 14 GB for a
//! million cells): each scenario keeps what they are built from, and `PlannedScenario::cell_params` builds a
//! cell's again, the same value, when the cell is run. Its memory grows with the cells only by their values
//! and labels.

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::scenario::overrides::{self, OverrideError};
use crate::scenario::raw::{self, Node, Value};
use crate::scenario::{MAX_PROBLEMS_SHOWN, Scenario, ScenarioError, Source, line_col};
use crate::sweep::file::{Design, SweepFile};
use hashcycle_model::params::Params;
use hashcycle_model::rng::PathRng;

/// A strategy: one value per swept parameter.
#[derive(Clone, Debug)]
pub struct Cell {
    pub cell_idx: u32,
    pub values: Vec<Value>,
    /// `futures_share=0.8, prepay_share=0.5`: the last path segment of each parameter with its value.
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct PlannedScenario {
    pub name: String,
    pub file: String,
    /// The scenario file's text, recorded by shards so that `merge` rebuilds the same plan.
    pub text: String,
    /// The files the scenario extends, nearest first, as (name, text): recorded by shards with `text`.
    pub extended_files: Vec<(String, String)>,
    /// The parameters of cell 0, kept whole: the outputs take the scenario's calendar, agents' names,
    /// description and assumptions from them. Other cells' are built by `cell_params` when needed.
    pub first_cell_params: Params,
    /// The cell whose values equal the scenario file's own (the reference strategy), if any.
    pub reference_cell: Option<u32>,
    pub focus_manufacturer_idx: usize,
    pub focus_manufacturer: String,
    /// What every cell's parameters are built from.
    recipe: CellRecipe,
}

impl PlannedScenario {
    /// The parameters of `cell`, built again from the scenario and the cell's values: the value validated
    /// when the plan was built (without validating it again at the ends of the uncertain parameters'
    /// ranges, which was done then). An error means the cell is no longer valid, which only a data file
    /// (a price history) changed or removed since then can cause.
    pub fn cell_params(&self, cell: &Cell) -> Result<Params, String> {
        let (tree, set_errors) = self.recipe.tree(cell);
        let built = match set_errors.first() {
            Some((_, e)) => Err(e.to_string()),
            None => self.recipe.scenario.rebuild_params(&tree).map_err(|e| e.to_string()),
        };
        built.map(|params| self.recipe.finish(params)).map_err(|e| {
            format!(
                "cell {} ({}) of scenario `{}`, valid when the sweep started, is not any more:\n{e}",
                cell.cell_idx, cell.label, self.file
            )
        })
    }
}

/// What a scenario's cells' parameters are built from: the scenario as loaded, the swept parameters, and the
/// paths and seed that replace the scenario's own.
#[derive(Clone, Debug)]
struct CellRecipe {
    scenario: Scenario,
    /// Each swept parameter's path, in axis order, with the scenario's own value there: a swept value takes
    /// that value's TOML type where that loses nothing (`coerce`).
    swept: Vec<(String, Value)>,
    n_paths: Option<u32>,
    seed: Option<u64>,
}

impl CellRecipe {
    /// The scenario's tree with the cell's values set, and each value that could not be set, by axis index.
    fn tree(&self, cell: &Cell) -> (Node, Vec<(usize, OverrideError)>) {
        let mut tree = self.scenario.tree.clone();
        let mut set_errors = vec![];
        for (axis_idx, ((parameter, original), value)) in self.swept.iter().zip(&cell.values).enumerate() {
            if let Err(e) = overrides::set(&mut tree, parameter, coerce(value, original)) {
                set_errors.push((axis_idx, e));
            }
        }
        (tree, set_errors)
    }

    /// Validates the cell in full, as the plan is built.
    fn validate(&self, cell: &Cell) -> CellCheck {
        let (tree, set_errors) = self.tree(cell);
        let params = self.scenario.revalidate(tree).map(|s| self.finish(s.params));
        CellCheck { set_errors, params }
    }

    /// A cell's validated parameters with the sweep's paths and seed.
    fn finish(&self, mut params: Params) -> Params {
        if let Some(n) = self.n_paths {
            params.simulation.n_paths = n;
        }
        if let Some(s) = self.seed {
            params.simulation.seed = s;
        }
        params
    }
}

/// A scenario of the sweep as loaded, before its cells are validated.
struct LoadedScenario {
    file: PathBuf,
    base: Scenario,
    /// The scenario's own value of each swept parameter, in axis order.
    originals: Vec<Value>,
    focus_idx: usize,
    focus_name: String,
}

/// Points each problem of a refused cell that has no location and names a swept parameter at the line of the
/// sweep file that names that parameter (the sweep file joins the error's texts); returns the axis of the
/// first one located.
fn locate_swept_values(
    error: &mut ScenarioError,
    sweep: &SweepFile,
    validated_paths: &[Option<String>],
    parameters: &[(String, Option<raw::Span>)],
) -> Option<usize> {
    let offset = error
        .more_sources
        .last()
        .map_or(error.text.len(), |s| s.offset + s.text.len())
        + 1;
    let mut first_axis = None;
    for problem in error.problems.iter_mut().filter(|p| p.span.is_none()) {
        let axis = validated_paths
            .iter()
            .position(|path| path.as_deref() == Some(problem.key_path.as_str()));
        if let Some(axis_idx) = axis
            && let Some(span) = &parameters[axis_idx].1
        {
            problem.span = Some(span.start + offset..span.end + offset);
            first_axis.get_or_insert(axis_idx);
        }
    }
    if first_axis.is_some() {
        error.more_sources.push(Source {
            file: sweep.path.display().to_string(),
            text: sweep.text.clone(),
            dir: PathBuf::new(),
            offset,
        });
    }
    first_axis
}

/// Which ranges of a Latin hypercube vary a parameter that a scenario holds as a whole number: one the
/// scenario writes as an integer and refuses when the same number is written as a float (`delivery_months =
/// 6.0`), where a parameter read as any number accepts it. Every parameter of a grid is false: its values are
/// the file's own.
fn whole_number_ranges(design: &Design, loaded: &[LoadedScenario]) -> Vec<bool> {
    let Design::LatinHypercube { ranges, .. } = design else {
        return vec![];
    };
    (0..ranges.len())
        .map(|range_idx| {
            loaded.iter().any(|l| match &l.originals[range_idx] {
                Value::Int(i) => {
                    let mut tree = l.base.tree.clone();
                    let parameter = &ranges[range_idx].parameter;
                    overrides::set(&mut tree, parameter, Value::Float(*i as f64)).is_ok()
                        && l.base.revalidate(tree).is_err()
                }
                _ => false,
            })
        })
        .collect()
}

/// What validating a cell found: the values that could not be set (by axis index) and the validation.
struct CellCheck {
    set_errors: Vec<(usize, OverrideError)>,
    params: Result<Params, ScenarioError>,
}

/// How many cells are validated in parallel at once. Their checks, each with the cell's parameters, are held
/// until the chunk is reported (about 3.5 MB of the base scenario), so validation's memory does not grow with
/// the cells either.
const VALIDATION_CHUNK_CELLS: usize = 256;

#[derive(Clone, Debug)]
pub struct Plan {
    pub sweep: SweepFile,
    pub parameters: Vec<String>,
    pub cells: Vec<Cell>,
    pub scenarios: Vec<PlannedScenario>,
    pub n_paths: u32,
    pub seed: u64,
    /// The `--set key.path=value` overrides applied to every scenario before the sweep's own values.
    pub overrides: Vec<String>,
}

impl Plan {
    pub fn n_work_paths(&self) -> u64 {
        self.scenarios.len() as u64 * self.cells.len() as u64 * self.n_paths as u64
    }
}

/// Renders a value the way a user wrote it.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Float(x) => format!("{x}"),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("\"{s}\""),
        other => other.type_name().to_string(),
    }
}

pub fn value_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Float(x) => Some(*x),
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// Makes a swept value the same TOML type as the value it replaces, where that loses nothing.
fn coerce(value: &Value, original: &Value) -> Value {
    match (value, original) {
        (Value::Float(x), Value::Int(_)) if x.fract() == 0.0 && x.abs() < 9e15 => Value::Int(*x as i64),
        (Value::Int(i), Value::Float(_)) => Value::Float(*i as f64),
        _ => value.clone(),
    }
}

/// Whether a swept value is the scenario's own: numbers within a relative 1e-9, other values exactly.
fn same_value(value: &Value, original: &Value) -> bool {
    match (value_f64(value), value_f64(original)) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        _ => value == original,
    }
}

fn short_name(parameter: &str) -> &str {
    parameter.rsplit('.').next().unwrap_or(parameter)
}

/// The strategy cells of a design. A Latin hypercube's draws for the ranges marked in `whole_numbers` (the
/// parameters a scenario holds as whole numbers, such as `delivery_months`) are whole numbers: each whole
/// number in `[min, max]` is equally likely, and the strata are those of `[ceil(min) - 0.5, floor(max) + 0.5]`
/// before rounding, so the points still spread over the range. Grid values are the file's own.
pub fn cells(design: &Design, whole_numbers: &[bool]) -> Vec<Cell> {
    let (parameters, rows): (Vec<String>, Vec<Vec<Value>>) = match design {
        Design::Grid(axes) => {
            let mut rows: Vec<Vec<Value>> = vec![vec![]];
            for axis in axes {
                rows = rows
                    .into_iter()
                    .flat_map(|row| {
                        axis.values.iter().map(move |v| {
                            let mut r = row.clone();
                            r.push(v.clone());
                            r
                        })
                    })
                    .collect();
            }
            (axes.iter().map(|a| a.parameter.clone()).collect(), rows)
        }
        Design::LatinHypercube { n_points, seed, ranges } => {
            let n = *n_points as usize;
            let mut rng = PathRng::seed_from_u64(*seed);
            let mut columns = vec![];
            for (range_idx, range) in ranges.iter().enumerate() {
                let whole = whole_numbers.get(range_idx).copied().unwrap_or(false);
                let (whole_min, whole_max) = (range.min.ceil(), range.max.floor());
                // One point in each of n equal strata, strata shuffled independently per dimension.
                let mut strata: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    let j = rng.random_range(0..=i);
                    strata.swap(i, j);
                }
                let column: Vec<Value> = strata
                    .iter()
                    .map(|&k| {
                        let u: f64 = rng.random();
                        if whole && whole_min <= whole_max {
                            let x = whole_min - 0.5 + (k as f64 + u) / n as f64 * (whole_max - whole_min + 1.0);
                            Value::Int(x.round().clamp(whole_min, whole_max) as i64)
                        } else {
                            let x = range.min + (k as f64 + u) / n as f64 * (range.max - range.min);
                            Value::Float((x * 1e9).round() / 1e9)
                        }
                    })
                    .collect();
                columns.push(column);
            }
            let rows = (0..n).map(|i| columns.iter().map(|c| c[i].clone()).collect()).collect();
            (ranges.iter().map(|r| r.parameter.clone()).collect(), rows)
        }
    };
    rows.into_iter()
        .enumerate()
        .map(|(cell_idx, values)| {
            let label = parameters
                .iter()
                .zip(&values)
                .map(|(p, v)| format!("{}={}", short_name(p), value_text(v)))
                .collect::<Vec<_>>()
                .join(", ");
            Cell {
                cell_idx: cell_idx as u32,
                values,
                label,
            }
        })
        .collect()
}

/// Builds and validates every (scenario, cell); all problems are gathered into one message. Cells are
/// validated in parallel on the current rayon pool (`rayon::ThreadPool::install` picks it).
pub fn build(sweep: SweepFile, n_paths: Option<u32>, seed: Option<u64>) -> Result<Plan, String> {
    build_with_overrides(sweep, n_paths, seed, &[])
}

/// `build`, with `--set key.path=value` overrides applied to every scenario before the sweep's own values.
pub fn build_with_overrides(
    sweep: SweepFile,
    n_paths: Option<u32>,
    seed: Option<u64>,
    overrides: &[String],
) -> Result<Plan, String> {
    let mut plan = build_with(sweep, n_paths, seed, &|file: &Path| {
        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::load_with(file, overrides).map(|s| (s, base_dir))
    })?;
    plan.overrides = overrides.to_vec();
    Ok(plan)
}

/// Finds a scenario named by a sweep file: the validated scenario and the directory its relative file names
/// (such as a bootstrap price history) resolve against.
pub type ScenarioLoader<'a> = dyn Fn(&Path) -> Result<(Scenario, PathBuf), ScenarioError> + 'a;

/// `build`, with scenarios found by `load` instead of read from disk, so that `merge` can rebuild a sharded
/// sweep's plan from the scenario texts its shards recorded.
pub fn build_with(
    sweep: SweepFile,
    n_paths: Option<u32>,
    seed: Option<u64>,
    load: &ScenarioLoader,
) -> Result<Plan, String> {
    let parameters: Vec<(String, Option<raw::Span>)> = sweep.design.parameters();
    let mut errors: Vec<String> = vec![];
    let sweep_location = |span: &Option<raw::Span>| match span {
        Some(span) => {
            let (line, col) = line_col(&sweep.text, span.start);
            format!("{}:{line}:{col}", sweep.path.display())
        }
        None => sweep.path.display().to_string(),
    };
    // The tables name each parameter twice, by its path and by its flat name, which must differ too.
    for (k, (parameter, span)) in parameters.iter().enumerate() {
        let flat = crate::sweep::tables::flat_column_name(parameter);
        if let Some((other, _)) = parameters[..k]
            .iter()
            .find(|(other, _)| crate::sweep::tables::flat_column_name(other) == flat)
        {
            errors.push(format!(
                "{}: `{parameter}` and `{other}` would share the column name `{flat}`: rename an entry",
                sweep_location(span)
            ));
        }
    }

    // Every scenario is loaded first: the cells are drawn once for all of them, and a Latin hypercube needs
    // to know which parameters the scenarios hold as whole numbers.
    let mut loaded: Vec<LoadedScenario> = vec![];
    for (file, file_span) in &sweep.scenario_files {
        // The scenario resolves its own data files (each against the text that names it).
        let (base, _) = match load(file) {
            Ok(loaded) => loaded,
            Err(e) => {
                errors.push(format!(
                    "{}: scenario `{}` is not valid:\n{e}",
                    sweep_location(file_span),
                    file.display()
                ));
                continue;
            }
        };
        let mut tree = base.tree.clone();
        // Every swept parameter must exist in every scenario, as a single value.
        let mut originals = vec![];
        for (parameter, span) in &parameters {
            match overrides::get(&mut tree, parameter) {
                Ok(v @ (Value::Float(_) | Value::Int(_) | Value::Bool(_) | Value::Str(_))) => originals.push(v),
                Ok(v) => {
                    errors.push(format!(
                        "{}: `{parameter}` is {} in scenario `{}`, not a single value",
                        sweep_location(span),
                        v.type_name(),
                        file.display()
                    ));
                }
                Err(e) => errors.push(format!(
                    "{}: {e} (in scenario `{}`)",
                    sweep_location(span),
                    file.display()
                )),
            }
        }
        if originals.len() != parameters.len() {
            continue;
        }
        let (focus_idx, focus_name) = match &sweep.focus_manufacturer {
            Some((name, span)) => match base.params.manufacturers.iter().position(|m| &m.name == name) {
                Some(i) => (i, name.clone()),
                None => {
                    errors.push(format!(
                        "{}: focus manufacturer \"{name}\" is not in scenario `{}`",
                        sweep_location(span),
                        file.display()
                    ));
                    continue;
                }
            },
            None => match base.params.manufacturers.first() {
                Some(m) => (0, m.name.clone()),
                None => {
                    errors.push(format!(
                        "{}: scenario `{}` has no manufacturer whose strategy the sweep could judge",
                        sweep_location(file_span),
                        file.display()
                    ));
                    continue;
                }
            },
        };
        loaded.push(LoadedScenario {
            file: file.clone(),
            base,
            originals,
            focus_idx,
            focus_name,
        });
    }

    let whole_numbers = whole_number_ranges(&sweep.design, &loaded);
    if let Design::LatinHypercube { ranges, .. } = &sweep.design {
        for (range, _) in ranges.iter().zip(&whole_numbers).filter(|(_, whole)| **whole) {
            if range.min.ceil() > range.max.floor() {
                // Every cell would be refused for it: validating them would only repeat this.
                loaded.clear();
                errors.push(format!(
                    "{}: `{}` is a whole number, and its range [{}, {}] holds none",
                    sweep_location(&range.span),
                    range.parameter,
                    range.min,
                    range.max
                ));
            }
        }
    }
    let cells = cells(&sweep.design, &whole_numbers);

    let mut scenarios = vec![];
    for LoadedScenario {
        file,
        base,
        originals,
        focus_idx,
        focus_name,
    } in loaded
    {
        let extended_files = base
            .sources
            .iter()
            .skip(1)
            .filter(|s| s.file != "--set")
            .map(|s| (s.file.clone(), s.text.clone()))
            .collect();
        // Each swept parameter as validation names it, to locate the problems with the values the sweep set.
        let validated_paths: Vec<Option<String>> = parameters
            .iter()
            .map(|(parameter, _)| overrides::indexed_path(&base.tree, parameter))
            .collect();
        let recipe = CellRecipe {
            scenario: base,
            swept: parameters
                .iter()
                .map(|(parameter, _)| parameter.clone())
                .zip(originals)
                .collect(),
            n_paths: n_paths.or(sweep.n_paths),
            seed: seed.or(sweep.seed),
        };
        let mut first_cell_params = None;
        let mut n_valid_cells = 0;
        let mut reference_cell = None;
        // Cells are validated in parallel a chunk at a time and their findings reported in cell order, so the
        // messages do not depend on thread count; only cell 0's parameters are kept.
        for chunk in cells.chunks(VALIDATION_CHUNK_CELLS) {
            let checks: Vec<CellCheck> = chunk.par_iter().map(|cell| recipe.validate(cell)).collect();
            for (cell, check) in chunk.iter().zip(checks) {
                for (axis_idx, e) in check.set_errors {
                    errors.push(format!("{}: {e}", sweep_location(&parameters[axis_idx].1)));
                }
                let is_reference = cell
                    .values
                    .iter()
                    .zip(&recipe.swept)
                    .all(|(v, (_, o))| same_value(v, o));
                if is_reference && reference_cell.is_none() {
                    reference_cell = Some(cell.cell_idx);
                }
                match check.params {
                    Ok(params) => {
                        n_valid_cells += 1;
                        if cell.cell_idx == 0 {
                            first_cell_params = Some(params);
                        }
                    }
                    Err(mut e) => {
                        if errors.len() < 10 {
                            // The value came from the sweep file: point at the axis the problem names, whose
                            // value the scenario refused (the scenario's own location is only where the key
                            // would be).
                            let located_axis = locate_swept_values(&mut e, &sweep, &validated_paths, &parameters);
                            let message = e.to_string();
                            let axis = located_axis
                                .map(|axis_idx| &parameters[axis_idx])
                                .or_else(|| {
                                    parameters
                                        .iter()
                                        .find(|(parameter, _)| message.contains(short_name(parameter)))
                                })
                                .map_or(String::new(), |(_, span)| format!("{}: ", sweep_location(span)));
                            errors.push(format!(
                                "{axis}cell {} ({}) of scenario `{}`:\n{e}",
                                cell.cell_idx,
                                cell.label,
                                file.display()
                            ));
                        }
                    }
                }
            }
        }
        if let Some(first_cell_params) = first_cell_params.filter(|_| n_valid_cells == cells.len()) {
            let base = &recipe.scenario;
            scenarios.push(PlannedScenario {
                name: base.params.simulation.name.clone(),
                file: file.display().to_string(),
                text: base.text.clone(),
                extended_files,
                first_cell_params,
                reference_cell,
                focus_manufacturer_idx: focus_idx,
                focus_manufacturer: focus_name,
                recipe,
            });
        }
    }
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            errors.push(format!(
                "two scenarios of the sweep are named \"{name}\"; scenario names must differ"
            ));
        }
    }
    if !errors.is_empty() {
        let n_more = errors.len().saturating_sub(MAX_PROBLEMS_SHOWN);
        errors.truncate(MAX_PROBLEMS_SHOWN);
        if n_more > 0 {
            errors.push(format!(
                "... and {n_more} more problems not shown: fix these and run the sweep again"
            ));
        }
        return Err(errors.join("\n"));
    }
    let first = &scenarios[0].first_cell_params;
    let (n_paths, seed) = (first.simulation.n_paths, first.simulation.seed);
    Ok(Plan {
        overrides: vec![],
        parameters: parameters.into_iter().map(|p| p.0).collect(),
        cells,
        scenarios,
        n_paths,
        seed,
        sweep,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::file::{Axis, LhsRange};

    #[test]
    fn a_cell_built_when_it_runs_has_the_parameters_validated_in_the_plan() {
        // The plan keeps only cell 0's parameters, and builds each cell's again when the cell runs, without
        // the readings at the uncertain ranges' ends: that must be the value a full validation gives. The
        // base scenario states canaan's delivery as an integer (a swept 3.0 becomes 3) and microbt's target
        // payback as a float that `[[uncertainty]]` draws (a swept 9 becomes 9.0).
        const AXES: [&str; 3] = [
            "manufacturers.bitmain.strategy.prepay_share",
            "manufacturers.canaan.strategy.delivery_months",
            "manufacturers.microbt.strategy.target_payback_months",
        ];
        let sweeps_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
        let text = format!(
            "[sweep]\nname = \"t\"\nscenarios = [\"../base.toml\"]\nseed = 5\n\n\
             [[grid]]\nparameter = \"{}\"\nvalues = [0.2, 0.9]\n\n\
             [[grid]]\nparameter = \"{}\"\nvalues = [3.0, 6]\n\n\
             [[grid]]\nparameter = \"{}\"\nvalues = [9, 12.5]\n",
            AXES[0], AXES[1], AXES[2]
        );
        let sweep = crate::sweep::file::from_text(&text, "t.toml", &sweeps_dir).unwrap();
        let plan = build(sweep, Some(3), None).unwrap();
        let scenario = &plan.scenarios[0];
        assert_eq!(plan.cells.len(), 8);
        let base = crate::scenario::shipped_base();
        let mut types = base.tree.clone();
        let originals: Vec<Value> = AXES.iter().map(|a| overrides::get(&mut types, a).unwrap()).collect();
        assert!(matches!(
            originals[..],
            [Value::Float(_), Value::Int(_), Value::Float(_)]
        ));
        for cell in &plan.cells {
            let mut tree = base.tree.clone();
            for ((axis, value), original) in AXES.iter().zip(&cell.values).zip(&originals) {
                overrides::set(&mut tree, axis, coerce(value, original)).unwrap();
            }
            let mut expected = base.revalidate(tree).unwrap().params;
            (expected.simulation.n_paths, expected.simulation.seed) = (3, 5);
            let expected = format!("{expected:?}");
            assert_eq!(
                format!("{:?}", scenario.cell_params(cell).unwrap()),
                expected,
                "{}",
                cell.label
            );
            if cell.cell_idx == 0 {
                assert_eq!(format!("{:?}", scenario.first_cell_params), expected);
            }
        }
        // The cells differ where their values do.
        let last = scenario.cell_params(&plan.cells[7]).unwrap();
        let strategy = |name: &str| &last.manufacturers.iter().find(|m| m.name == name).unwrap().strategy;
        assert_eq!(strategy("bitmain").prepay_share, 0.9);
        assert_eq!(strategy("canaan").delivery_months, 6);
        assert_eq!(strategy("microbt").target_payback_months, 12.5);
    }

    #[test]
    fn refused_cells_are_reported_in_cell_order_whatever_the_thread_count() {
        // Cells are validated in parallel; the first ten refusals must be the same ten, in the same order.
        let sweeps_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
        let text = "[sweep]\nname = \"t\"\nscenarios = [\"../base.toml\"]\n\n\
                    [[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.5, 1.5, 2.0, -1.0]\n\n\
                    [[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.2, 1.4, 1.6]\n";
        let messages: Vec<String> = [1, 3]
            .map(|n_threads| {
                let sweep = crate::sweep::file::from_text(text, "t.toml", &sweeps_dir).unwrap();
                let pool = crate::batch::thread_pool(Some(n_threads)).unwrap();
                pool.install(|| build(sweep, Some(1), None)).unwrap_err()
            })
            .into();
        assert_eq!(messages[0], messages[1]);
        // Eleven of the twelve cells are refused; the message lists the first ten.
        let cells: Vec<&str> = messages[0].lines().filter(|l| l.contains(" of scenario ")).collect();
        assert_eq!(cells.len(), 10, "{}", messages[0]);
        assert!(
            cells[0].contains("cell 1 (prepay_share=0.5, futures_share=1.4)"),
            "{}",
            cells[0]
        );
        assert!(
            cells[9].contains("cell 10 (prepay_share=-1, futures_share=1.4)"),
            "{}",
            cells[9]
        );
    }

    #[test]
    fn grid_cells_are_the_full_factorial_in_axis_order() {
        let design = Design::Grid(vec![
            Axis {
                parameter: "a.x".into(),
                span: None,
                values: vec![Value::Float(1.0), Value::Float(2.0)],
            },
            Axis {
                parameter: "b.y".into(),
                span: None,
                values: vec![Value::Int(3), Value::Int(4), Value::Int(5)],
            },
        ]);
        let cells = cells(&design, &[]);
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[0].label, "x=1, y=3");
        assert_eq!(cells[5].label, "x=2, y=5");
    }

    #[test]
    fn latin_hypercube_puts_one_point_in_every_stratum() {
        let design = Design::LatinHypercube {
            n_points: 20,
            seed: 3,
            ranges: vec![
                LhsRange {
                    parameter: "x".into(),
                    span: None,
                    min: 0.0,
                    max: 1.0,
                },
                LhsRange {
                    parameter: "y".into(),
                    span: None,
                    min: 10.0,
                    max: 30.0,
                },
            ],
        };
        let cells = cells(&design, &[]);
        assert_eq!(cells.len(), 20);
        for (dim, (lo, hi)) in [(0.0, 1.0), (10.0, 30.0)].into_iter().enumerate() {
            let mut strata: Vec<usize> = cells
                .iter()
                .map(|c| (((value_f64(&c.values[dim]).unwrap() - lo) / (hi - lo)) * 20.0).floor() as usize)
                .collect();
            strata.sort();
            assert_eq!(strata, (0..20).collect::<Vec<_>>());
        }
    }
}
