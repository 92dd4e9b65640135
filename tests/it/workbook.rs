//! `report.xlsx` beside `report.html` (issue 29): a run's and a sweep's workbook open in a spreadsheet reader
//! (openpyxl, from the readers .ci/readers installs), hold the sheets, charts and conditional formats the
//! README names, and their figures equal the Parquet tables'; redrawing or rerunning gives the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use polars::prelude::*;

use hashcycle::output::parquet::read_frame;

use crate::support::{hashcycle, project_dir, small_scenario, temp_dir};

/// Set to `1` on a machine that cannot install the Python readers: the reader test then says loudly that it
/// checked nothing, instead of failing (as `issue_31_tables_open_in_old_and_new_readers` does).
const NO_READERS_VAR: &str = "HASHCYCLE_NO_PYTHON_READERS";

/// A price shock, so that the run has an event to list.
const EVENT: &str = "\n[[events]]\nmonth = \"2025-06\"\nkind = \"price_shock\"\nfactor = 0.7\n";

/// Two scenarios (small and a copy named bear) × futures_share {0.5, 0.8} × prepay_share {0.3, 0.5}: four
/// cells each, the reference (the scenario file's 80% futures, 50% prepaid) among them.
const SWEEP: &str = "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.5, 0.8]\n\n\
                     [[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3, 0.5]\n";

/// Runs the small scenario (with a price shock) and a 2×2 sweep of it and a copy under `dir/out_name`, and
/// returns the two results directories.
fn run_and_sweep(dir: &Path, out_name: &str) -> [PathBuf; 2] {
    let scenario = small_scenario(dir, "small.toml", &[]);
    let mut text = std::fs::read_to_string(&scenario).unwrap();
    text.push_str(EVENT);
    std::fs::write(&scenario, &text).unwrap();
    small_scenario(dir, "bear.toml", &[("name = \"small\"", "name = \"bear\"")]);
    let out = dir.join(out_name);
    let run = hashcycle(
        &["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()],
        dir,
    );
    assert!(run.status.success(), "run: {}", String::from_utf8_lossy(&run.stderr));
    let sweep_file = dir.join("sweep.toml");
    let sweep_text = format!(
        "[sweep]\nname = \"board\"\nscenarios = [\"small.toml\", \"bear.toml\"]\npaths = 3\nseed = 3\n\
         focus_manufacturer = \"bitmain\"\n\n{SWEEP}"
    );
    std::fs::write(&sweep_file, sweep_text).unwrap();
    let sweep = hashcycle(
        &["sweep", sweep_file.to_str().unwrap(), "--out", out.to_str().unwrap()],
        dir,
    );
    assert!(
        sweep.status.success(),
        "sweep: {}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    [out.join("small"), out.join("board")]
}

/// The Python of the "new" readers, or `None` (after saying so) when it is missing and the machine may not
/// install it.
fn reader_python() -> Option<PathBuf> {
    let readers_dir = std::env::var_os("HASHCYCLE_READERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join("target/readers"));
    let python = readers_dir.join("new/bin/python");
    if python.is_file() {
        return Some(python);
    }
    if std::env::var(NO_READERS_VAR).is_ok_and(|v| v == "1") {
        eprintln!(
            "\n*** SKIPPED workbook_opens_in_a_spreadsheet_reader: {NO_READERS_VAR}=1 and {} is missing; no \
             workbook was read ***\n",
            python.display()
        );
        return None;
    }
    panic!(
        "{} is missing: run .ci/readers to install the Python readers (openpyxl among them; needs the Python \
         package registry), or set {NO_READERS_VAR}=1 to skip this test",
        python.display()
    );
}

/// One sheet as the reader saw it.
struct Sheet {
    rows: Vec<Vec<serde_json::Value>>,
    conditional_formats: Vec<serde_json::Value>,
    charts: Vec<serde_json::Value>,
}

impl Sheet {
    /// The values under the column named `name` (on the table's name row, `header_row` + 1), down to the
    /// first empty cell.
    fn column(&self, header_row: usize, name: &str) -> Vec<serde_json::Value> {
        let names = &self.rows[header_row + 1];
        let col = names
            .iter()
            .position(|v| v.as_str() == Some(name))
            .unwrap_or_else(|| panic!("no column named {name} in {names:?}"));
        self.rows[header_row + 2..]
            .iter()
            .map(|row| row.get(col).cloned().unwrap_or(serde_json::Value::Null))
            .take_while(|v| !v.is_null())
            .collect()
    }

    fn numbers(&self, header_row: usize, name: &str) -> Vec<f64> {
        self.column(header_row, name)
            .iter()
            .map(|v| v.as_f64().unwrap_or_else(|| panic!("{name}: {v} is not a number")))
            .collect()
    }

    /// The row whose first cell is `text`.
    fn row_starting(&self, text: &str) -> usize {
        self.rows
            .iter()
            .position(|row| row.first().and_then(|v| v.as_str()) == Some(text))
            .unwrap_or_else(|| panic!("no row starts with {text:?}"))
    }
}

/// Reads `xlsx` with openpyxl (`.ci/read_workbook.py`): the sheets in order, by name.
fn read_workbook(python: &Path, xlsx: &Path) -> (Vec<String>, BTreeMap<String, Sheet>) {
    let out = Command::new(python)
        .arg(project_dir().join(".ci/read_workbook.py"))
        .arg(xlsx)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names = vec![];
    let mut sheets = BTreeMap::new();
    for sheet in json["sheets"].as_array().unwrap() {
        let name = sheet["name"].as_str().unwrap().to_string();
        let rows = sheet["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().clone())
            .collect();
        names.push(name.clone());
        sheets.insert(
            name,
            Sheet {
                rows,
                conditional_formats: sheet["conditional_formats"].as_array().unwrap().clone(),
                charts: sheet["charts"].as_array().unwrap().clone(),
            },
        );
    }
    (names, sheets)
}

fn f64s(df: &DataFrame, column: &str) -> Vec<f64> {
    let column = df.column(column).unwrap().cast(&DataType::Float64).unwrap();
    column.f64().unwrap().iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())),
        "{what}: workbook {a}, tables {b}"
    );
}

#[test]
fn workbook_opens_in_a_spreadsheet_reader() {
    let Some(python) = reader_python() else {
        return;
    };
    let dir = temp_dir("workbook");
    let [run, sweep] = run_and_sweep(&dir, "out");

    // The run: its sheets, in order.
    let (names, sheets) = read_workbook(&python, &run.join("report.xlsx"));
    assert_eq!(names, ["Summary", "Monthly", "Fans", "Events"]);
    // Monthly: one row per month after the label and name rows, the month first.
    let network = read_frame(&run.join("network.parquet")).unwrap();
    let days: Vec<i32> = network
        .column("month")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap()
        .i32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let mut months: Vec<i32> = days.clone();
    months.sort_unstable();
    months.dedup();
    assert_eq!(months.len(), 12);
    let monthly = &sheets["Monthly"];
    let month_column = monthly.column(0, "month");
    assert_eq!(month_column.len(), 12);
    assert_eq!(month_column[0], "2025-01");
    assert_eq!(month_column[11], "2025-12");
    // Each month's median price across paths, as the fan charts draw it.
    let prices = f64s(&network, "price_usd");
    let price: Vec<hashcycle::stats::Quantiles> = months
        .iter()
        .map(|month| {
            let of_month: Vec<f64> = days
                .iter()
                .zip(&prices)
                .filter(|(d, _)| *d == month)
                .map(|(_, p)| *p)
                .collect();
            hashcycle::stats::quantiles(&of_month).unwrap()
        })
        .collect();
    for (name, pick) in [("price_usd_p5", 0), ("price_usd_p50", 2), ("price_usd_p95", 4)] {
        let got = monthly.numbers(0, name);
        assert_eq!(got.len(), 12, "{name}");
        for (m, (g, q)) in got.iter().zip(&price).enumerate() {
            let want = [q.p5, q.p25, q.p50, q.p75, q.p95][pick];
            assert_close(*g, want, &format!("{name} month {m}"));
        }
    }
    assert_eq!(monthly.numbers(0, "bitmain.cash_usd_p50").len(), 12);
    // Fans: one line chart of five quantile series per fan (price, hashrate, hashprice, cash of each of the two
    // manufacturers, dealer inventory).
    let fans = &sheets["Fans"].charts;
    assert_eq!(fans.len(), 6, "{fans:?}");
    for chart in fans {
        assert_eq!(chart["type"], "lineChart");
        assert_eq!(chart["series"], 5);
    }
    // Summary: P(cash < 0) of each manufacturer, as summary.parquet has it.
    let summary = read_frame(&run.join("summary.parquet")).unwrap();
    let key = &sheets["Summary"];
    let header = key.row_starting("Manufacturer");
    let makers = key.column(header, "manufacturer");
    let shares = key.numbers(header, "p_cash_below_zero");
    assert_eq!(makers.len(), 2);
    let maker_names: Vec<Option<&str>> = summary.column("manufacturer").unwrap().str().unwrap().iter().collect();
    let below: Vec<Option<bool>> = summary
        .column("cash_below_zero")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    for (maker, share) in makers.iter().zip(&shares) {
        let rows: Vec<usize> = (0..summary.height())
            .filter(|&r| maker_names[r] == maker.as_str())
            .collect();
        let n_below = rows.iter().filter(|&&r| below[r] == Some(true)).count();
        assert_close(
            *share,
            n_below as f64 / rows.len() as f64,
            &format!("{maker} P(cash < 0)"),
        );
    }
    // Events: the price shock.
    let events = &sheets["Events"];
    assert_eq!(events.column(0, "month"), ["2025-06"]);
    assert!(
        events.column(0, "label")[0]
            .as_str()
            .unwrap()
            .starts_with("Price shock ×0.7")
    );

    // The sweep: its sheets, in order.
    let (names, sheets) = read_workbook(&python, &sweep.join("report.xlsx"));
    assert_eq!(
        names,
        [
            "Summary",
            "Cells",
            "Paired",
            "Heatmap risk",
            "Heatmap cash",
            "Frontier",
            "Waterfall"
        ]
    );
    // The waterfall: per scenario, its parts sum to its total.
    let waterfall = &sheets["Waterfall"];
    let (scenarios, roles) = (waterfall.column(0, "scenario"), waterfall.column(0, "role"));
    let differences = waterfall.numbers(0, "difference_usd");
    for scenario in ["small", "bear"] {
        let of = |role: &str| -> Vec<f64> {
            (0..differences.len())
                .filter(|&i| scenarios[i].as_str() == Some(scenario) && roles[i].as_str() == Some(role))
                .map(|i| differences[i])
                .collect()
        };
        let (parts, total) = (of("part"), of("total"));
        assert_eq!(
            (parts.len(), total.len()),
            (hashcycle::sweep::waterfall::PARTS.len(), 1),
            "{scenario}"
        );
        let scale: f64 = parts.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
        assert!(
            (parts.iter().sum::<f64>() - total[0]).abs() <= 1e-6 * scale,
            "{scenario}: {parts:?} vs {total:?}"
        );
    }
    let table = read_frame(&sweep.join("sweep.parquet")).unwrap();
    assert_eq!(table.height(), 8);
    // Cells and Paired: one row per cell of sweep.parquet, in its order, with its figures.
    for (sheet, columns) in [
        (
            "Cells",
            &[
                "p_cash_below_zero",
                "p_cash_below_zero_lo95",
                "p_cash_below_zero_hi95",
                "min_cash_usd_cvar5",
                "end_cash_usd_p50",
                "manufacturers.bitmain.strategy.futures_share",
            ][..],
        ),
        (
            "Paired",
            &[
                "p_cash_below_zero_vs_reference",
                "p_cash_below_zero_vs_reference_se",
                "end_cash_usd_p50_vs_reference",
                "min_cash_usd_cvar5_vs_reference_se",
            ][..],
        ),
    ] {
        let sheet = &sheets[sheet];
        let scenarios = sheet.column(0, "scenario");
        assert_eq!(scenarios.len(), 8, "{sheet:?} rows", sheet = scenarios);
        for column in columns {
            let got = sheet.numbers(0, column);
            let want = f64s(&table, column);
            assert_eq!(got.len(), want.len(), "{column}");
            for (g, w) in got.iter().zip(&want) {
                assert_close(*g, *w, column);
            }
        }
        let tied = sheet.column(0, "tied_with_reference");
        assert!(tied.iter().all(|v| v.is_boolean()), "{tied:?}");
    }
    // The heatmaps: a 2×2 grid per scenario, each coloured by a three-colour scale with the same bounds.
    for name in ["Heatmap risk", "Heatmap cash"] {
        let formats = &sheets[name].conditional_formats;
        assert_eq!(formats.len(), 2, "{name}: {formats:?}");
        for format in formats {
            assert_eq!(format["types"], serde_json::json!(["colorScale"]), "{name}");
        }
        assert_eq!(formats[0]["range"], "B6:C7", "{name}");
        assert!(sheets[name].rows.iter().any(|r| r[0] == "Scenario bear"), "{name}");
    }
    // The frontier: one scatter chart, per scenario its cells and its efficient cells, then the references.
    let charts = &sheets["Frontier"].charts;
    assert_eq!(charts.len(), 1, "{charts:?}");
    assert_eq!(charts[0]["type"], "scatterChart");
    assert_eq!(charts[0]["series"], 5);
    let frontier = &sheets["Frontier"];
    let risks = frontier.numbers(0, "p_cash_below_zero");
    assert_eq!(risks.len(), 8);
    // Summary: the robust choices of the two scenarios.
    assert!(sheets["Summary"].row_starting("Robust choices across scenarios") > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn workbooks_are_the_same_bytes_when_redrawn_or_rerun() {
    let dir = temp_dir("workbook-bytes");
    let [run, sweep] = run_and_sweep(&dir, "first");
    let [run_again, sweep_again] = run_and_sweep(&dir, "second");
    for (a, b) in [(&run, &run_again), (&sweep, &sweep_again)] {
        let first = std::fs::read(a.join("report.xlsx")).unwrap();
        assert!(first.starts_with(b"PK"), "{}: not a zip package", a.display());
        assert!(
            first == std::fs::read(b.join("report.xlsx")).unwrap(),
            "{}: a second run of the same scenario and seed wrote other bytes",
            a.display()
        );
        let out = hashcycle(&["plot", a.to_str().unwrap()], &project_dir());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            first == std::fs::read(a.join("report.xlsx")).unwrap(),
            "{}: plot redrew other bytes",
            a.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A swept text parameter (the price model) reads as its text wherever a strategy is labelled: the report,
/// the charts and the workbook's sheets, never as a missing number.
#[test]
fn a_swept_text_parameter_labels_strategies_by_its_text() {
    let dir = temp_dir("workbook-text-parameter");
    let sweep_file = dir.join("sweep.toml");
    let sweep_text = format!(
        "[sweep]\nname = \"models\"\nscenarios = [\"{}\"]\npaths = 2\nseed = 1\n\n\
         [[grid]]\nparameter = \"price.model\"\nvalues = [\"bootstrap\", \"regime_switching\"]\n",
        crate::support::scenario_path("base").display()
    );
    std::fs::write(&sweep_file, sweep_text).unwrap();
    let out = dir.join("out");
    let result = hashcycle(
        &["sweep", sweep_file.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &project_dir(),
    );
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let sweep = out.join("models");

    // The base scenario's own model is the reference; the report lists both cells by their model.
    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    assert!(html.contains("<td>model regime_switching</td>"), "the reference cell");
    assert!(html.contains("<td>model bootstrap</td>"), "the other cell");
    assert!(html.contains("reference strategy from the scenario file (model regime_switching)"));
    assert!(!html.contains("NaN"));
    let mut n_svgs = 0;
    for entry in std::fs::read_dir(sweep.join("charts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(!svg.contains("NaN"), "{}", path.display());
            n_svgs += 1;
        }
    }
    assert!(n_svgs > 0);
    // The heatmap has one column per model, labelled by it.
    let heatmap = std::fs::read_to_string(sweep.join("charts/heatmap_p_cash_below_zero_base.svg")).unwrap();
    assert!(heatmap.contains("aria-label=\"bootstrap\"") && heatmap.contains("aria-label=\"regime_switching\""));

    let Some(python) = reader_python() else {
        return;
    };
    let (_, sheets) = read_workbook(&python, &sweep.join("report.xlsx"));
    let texts = |sheet: &str| -> Vec<String> {
        sheets[sheet]
            .rows
            .iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    for sheet in ["Summary", "Heatmap risk", "Heatmap cash"] {
        let texts = texts(sheet);
        assert!(
            texts.iter().any(|t| t.contains("model regime_switching")),
            "{sheet}: {texts:?}"
        );
        assert!(!texts.iter().any(|t| t.contains("NaN")), "{sheet}: {texts:?}");
    }
    let heatmap = texts("Heatmap risk");
    assert!(heatmap.iter().any(|t| t == "bootstrap") && heatmap.iter().any(|t| t == "regime_switching"));
    assert_eq!(
        sheets["Cells"].column(0, "price.model"),
        [serde_json::json!("bootstrap"), serde_json::json!("regime_switching")]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
