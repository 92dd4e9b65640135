//! Charts and report.html: every chart is written as a full-HD PNG and a well-formed SVG, `plot` redraws
//! them byte for byte, a damaged directory is named, and the report renders in headless Chromium without
//! loading anything from outside the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hashcycle::output::parquet::{read_frame, write_frame};

use crate::support::{hashcycle, project_dir, scenario_path, temp_dir};

/// A chart PNG must be full HD.
const WIDTH_PX: u32 = 1920;
const HEIGHT_PX: u32 = 1080;

/// Luminance variance (8-bit units squared) a chart must exceed to count as drawn. A blank or single-colour
/// image has 0; the charts of a 40-path run measured 1,000 to 8,000 (fans lowest, heatmaps highest).
const CHART_MIN_VARIANCE: f64 = 400.0;
/// The same for the screenshot of the report's first screen, mostly text and tables on white: it measured
/// about 800.
const SCREENSHOT_MIN_VARIANCE: f64 = 200.0;

/// The charts of a run of a shipped scenario (three manufacturers).
fn run_chart_stems() -> Vec<String> {
    let mut stems: Vec<String> = ["btc_price", "network_hashrate", "hashprice", "dealer_inventory"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for maker in ["bitmain", "microbt", "canaan"] {
        stems.push(format!("cash_{maker}"));
        stems.push(format!("units_{maker}"));
    }
    stems
}

fn run_into(out: &Path) -> PathBuf {
    let result = hashcycle(
        &[
            "run",
            "scenarios/base.toml",
            "--paths",
            "40",
            "--out",
            out.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    out.join("base")
}

/// One run shared by the tests that only read its files.
fn shared_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| run_into(&temp_dir("charts-shared")))
}

/// Width, height and luminance variance of a PNG.
fn png_stats(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(
        channels >= 3,
        "{}: expected colour, got {:?}",
        path.display(),
        info.color_type
    );
    let lum: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| 0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    (info.width, info.height, variance)
}

/// Checks a chart's PNG and SVG; returns the SVG's title.
fn check_chart(charts: &Path, stem: &str) -> String {
    let png = charts.join(format!("{stem}.png"));
    let svg = charts.join(format!("{stem}.svg"));
    assert!(png.is_file(), "missing {}", png.display());
    assert!(svg.is_file(), "missing {}", svg.display());
    let (w, h, variance) = png_stats(&png);
    assert_eq!((w, h), (WIDTH_PX, HEIGHT_PX), "{stem}.png");
    assert!(
        variance > CHART_MIN_VARIANCE,
        "{stem}.png looks blank (variance {variance:.1})"
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{stem}.svg is not XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("1920"));
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("{stem}.svg has no <title>"))
        .to_string();
    assert!(!title.is_empty());
    // The title is drawn, as glyph outlines labelled with their text.
    assert!(
        doc.descendants()
            .any(|n| n.attribute("aria-label") == Some(title.as_str())),
        "{stem}.svg does not draw its title {title:?}"
    );
    // Text is outlines of the embedded font, so no viewer needs a font.
    assert!(!text.contains("<text"), "{stem}.svg relies on a viewer's font");
    title
}

/// Every file under `dir/charts` and the report, by name.
fn chart_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("charts")).unwrap() {
        let path = entry.unwrap().path();
        files.insert(
            path.file_name().unwrap().to_string_lossy().to_string(),
            std::fs::read(&path).unwrap(),
        );
    }
    files.insert(
        "report.html".to_string(),
        std::fs::read(dir.join("report.html")).unwrap(),
    );
    files
}

/// Every value of `src=`, `href=`, `url(` and `@import` in an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = vec![];
    for pattern in ["src=", "href=", "url(", "@import"] {
        for (at, _) in html.match_indices(pattern) {
            let rest = html[at + pattern.len()..].trim_start();
            let rest = rest.trim_start_matches(['"', '\'']);
            let end = rest.find(['"', '\'', ')', ' ', '>', ';']).unwrap_or(rest.len());
            found.push(format!("{pattern}{}", &rest[..end.min(80)]));
        }
    }
    found
}

fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(
        !lower.contains("http:") && !lower.contains("https:"),
        "report.html names an http(s) URL"
    );
    for reference in references(html) {
        let value = reference
            .split_once(['=', '('])
            .map_or("", |(_, v)| v)
            .to_ascii_lowercase();
        assert!(!reference.starts_with("@import"), "report.html imports {reference}");
        assert!(
            value.starts_with('#') || value.starts_with("data:"),
            "report.html refers outside itself: {reference}"
        );
        assert!(
            !value.starts_with("//"),
            "report.html has a protocol-relative URL: {reference}"
        );
    }
}

#[test]
fn a_run_writes_every_chart_as_full_hd_png_and_svg() {
    let run = shared_run();
    let charts = run.join("charts");
    let mut titles = vec![];
    for stem in run_chart_stems() {
        titles.push(check_chart(&charts, &stem));
    }
    assert!(titles.iter().any(|t| t.starts_with("BTC price")));
    assert!(titles.iter().any(|t| t.starts_with("bitmain: cash balance")));
    // Nothing else is written there.
    let n_files = std::fs::read_dir(&charts).unwrap().count();
    assert_eq!(n_files, 2 * run_chart_stems().len());
    // The report embeds every chart once.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert_eq!(html.matches("<figure").count(), run_chart_stems().len());
    for title in &titles {
        assert!(
            html.contains(title.replace('\'', "&apos;").as_str()),
            "report.html lacks {title:?}"
        );
    }
    assert_self_contained(&html);
}

#[test]
fn charts_carry_the_source_and_scenario() {
    let svg = std::fs::read_to_string(shared_run().join("charts").join("cash_bitmain.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let labels: Vec<&str> = doc.descendants().filter_map(|n| n.attribute("aria-label")).collect();
    let source = labels
        .iter()
        .find(|l| l.starts_with("Source: hashcycle"))
        .expect("a source line");
    assert!(
        source.contains(env!("CARGO_PKG_VERSION")) && source.contains("40 paths") && source.contains("seed 20250101")
    );
    assert!(
        labels
            .iter()
            .any(|l| l.contains("Scenario base") && l.contains("80% futures")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("Halving 2028")),
        "halvings are marked: {labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("Cash (USD")),
        "the y axis names its unit: {labels:?}"
    );
}

#[test]
fn plot_redraws_byte_identical_charts_and_report() {
    let run = run_into(&temp_dir("charts-replot"));
    let before = chart_bytes(&run);
    assert_eq!(before.len(), 2 * run_chart_stems().len() + 1);
    let out = hashcycle(&["plot", run.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = chart_bytes(&run);
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "{name} changed when redrawn");
    }
    let _ = std::fs::remove_dir_all(run.parent().unwrap());
}

#[test]
fn plot_names_the_missing_table() {
    let run = run_into(&temp_dir("charts-missing"));
    std::fs::remove_file(run.join("manufacturers.parquet")).unwrap();
    let out = hashcycle(&["plot", run.to_str().unwrap()], &project_dir());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("manufacturers.parquet") && stderr.contains("missing"),
        "{stderr}"
    );

    std::fs::remove_file(run.join("run.json")).unwrap();
    let out = hashcycle(&["plot", run.to_str().unwrap()], &project_dir());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("run.json") && stderr.contains("sweep.json"), "{stderr}");
    let _ = std::fs::remove_dir_all(run.parent().unwrap());
}

#[test]
fn a_sweep_gets_heatmaps_a_comparison_and_a_report() {
    let dir = temp_dir("charts-sweep");
    let file = dir.join("sweep.toml");
    let text = format!(
        "[sweep]\nname = \"chart_sweep\"\nscenarios = [\"{}\", \"{}\"]\npaths = 10\nseed = 3\nfocus_manufacturer = \"bitmain\"\n\n\
         [[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.5, 0.8]\n\n\
         [[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.2, 0.5]\n",
        scenario_path("base").display(),
        scenario_path("bear").display()
    );
    std::fs::write(&file, text).unwrap();
    let out_dir = dir.join("out");
    let out = hashcycle(
        &["sweep", file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep = out_dir.join("chart_sweep");
    let out = hashcycle(&["plot", sweep.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let charts = sweep.join("charts");
    let mut stems = vec![];
    for scenario in ["base", "bear"] {
        stems.push(format!("heatmap_p_cash_below_zero_{scenario}"));
        stems.push(format!("heatmap_end_cash_median_{scenario}"));
        stems.push(format!("frontier_{scenario}"));
        stems.push(format!("waterfall_{scenario}"));
    }
    stems.push("strategy_comparison".to_string());
    stems.push("robustness".to_string());
    for stem in &stems {
        check_chart(&charts, stem);
    }
    // The reference cell (80% futures, 50% prepayment) is outlined and every cell prints its value.
    let svg = std::fs::read_to_string(charts.join("heatmap_p_cash_below_zero_base.svg")).unwrap();
    assert!(svg.contains("aria-label=\"Reference strategy (the scenario file&apos;s values)\""));
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let percentages = doc
        .descendants()
        .filter_map(|n| n.attribute("aria-label"))
        .filter(|l| l.ends_with('%') && l.len() <= 6)
        .count();
    assert!(
        percentages >= 4,
        "every cell prints its probability ({percentages} found)"
    );
    // The frontier joins and labels the efficient strategies and rings the reference.
    let frontier = std::fs::read_to_string(charts.join("frontier_bear.svg")).unwrap();
    assert!(frontier.contains("Risk and return of every strategy: scenario bear"));
    assert!(frontier.contains("futures_share="), "efficient strategies are labelled");
    assert!(
        frontier.contains("Reference (the scenario file"),
        "the matched reference is in the legend"
    );
    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    assert_eq!(html.matches("<figure").count(), stems.len());
    assert_self_contained(&html);
    // Redrawing gives the same bytes.
    let before = chart_bytes(&sweep);
    let out = hashcycle(&["plot", sweep.to_str().unwrap()], &project_dir());
    assert!(out.status.success());
    assert!(before == chart_bytes(&sweep), "sweep charts changed when redrawn");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep of `test_sweep` (base and bear, 12 paths) over `grid`, written under `dir/out`; returns its directory.
fn run_test_sweep(dir: &Path, grid: &str) -> PathBuf {
    let file = crate::sweep::write_sweep(dir, grid);
    let out_dir = dir.join("out");
    let out = hashcycle(
        &["sweep", file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out_dir.join("test_sweep")
}

/// The text of every drawn label of an SVG chart.
fn svg_labels(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter_map(|n| n.attribute("aria-label"))
        .map(str::to_string)
        .collect()
}

/// The report's key figures table, up to the next section.
fn key_figures(html: &str) -> &str {
    let start = html.find("<h2>Key figures</h2>").expect("the report has key figures");
    let end = html[start..].find("</section>").map_or(html.len(), |i| start + i);
    &html[start..end]
}

#[test]
fn a_sweep_whose_cells_tie_on_risk_names_no_safest_or_riskiest_and_spreads_the_axis() {
    let dir = temp_dir("charts-sweep-tie");
    let sweep = run_test_sweep(&dir, crate::sweep::GRID_2X2);
    // Every cell gets the same P(cash < 0), as a sweep with few paths or a calm scenario gives.
    let table = sweep.join("sweep.parquet");
    let mut frame = read_frame(&table).unwrap();
    let n_cells = frame.height();
    for (name, value) in [
        ("p_cash_below_zero", 0.1),
        ("p_cash_below_zero_lo95", 0.02),
        ("p_cash_below_zero_hi95", 0.4),
    ] {
        frame
            .with_column(polars::prelude::Column::new(name.into(), vec![value; n_cells]))
            .unwrap();
    }
    write_frame(&table, &frame).unwrap();
    let out = hashcycle(&["plot", sweep.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    let figures = key_figures(&html);
    for scenario in ["base", "bear"] {
        assert!(
            figures.contains(&format!(
                "<td>{scenario}</td><td colspan=\"11\">All 4 strategies tie at P(cash &lt; 0) 10%"
            )),
            "{scenario}: {figures}"
        );
    }
    assert!(
        !figures.contains("(Safest)") && !figures.contains("(Riskiest)"),
        "{figures}"
    );
    let comparison = svg_labels(&sweep.join("charts").join("strategy_comparison.svg"));
    assert!(
        !comparison
            .iter()
            .any(|l| l.starts_with("Safest") || l.starts_with("Riskiest")),
        "{comparison:?}"
    );
    // The frontier's risk axis spreads around the shared 10%, with whole-percent ticks, not 9.99%-10.01%.
    let ticks: Vec<f64> = svg_labels(&sweep.join("charts").join("frontier_base.svg"))
        .iter()
        .filter_map(|l| l.strip_suffix('%')?.parse::<f64>().ok())
        .collect();
    assert!(ticks.contains(&10.0), "{ticks:?}");
    let (lo, hi) = ticks.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(*t), hi.max(*t))
    });
    assert!(lo <= 7.0 && hi >= 13.0, "ticks {ticks:?}");
    assert!(ticks.iter().all(|t| t.fract() == 0.0), "ticks {ticks:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sweep_without_the_reference_strategy_promises_none() {
    let dir = temp_dir("charts-sweep-no-reference");
    // Neither scenario's own strategy (80% futures, 50% prepayment) is on this grid.
    let grid = "[[grid]]\nparameter = \"manufacturers.bitmain.strategy.futures_share\"\nvalues = [0.2, 0.6]\n\n\
                [[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.1, 0.9]\n";
    let sweep = run_test_sweep(&dir, grid);
    let charts = sweep.join("charts");
    for scenario in ["base", "bear"] {
        let heatmap =
            std::fs::read_to_string(charts.join(format!("heatmap_p_cash_below_zero_{scenario}.svg"))).unwrap();
        assert!(
            heatmap.contains("no cell matches the scenario file"),
            "{scenario} heatmap"
        );
        let frontier = svg_labels(&charts.join(format!("frontier_{scenario}.svg")));
        assert!(
            !frontier.iter().any(|l| l.starts_with("Reference")),
            "{scenario} frontier: {frontier:?}"
        );
    }
    let comparison = svg_labels(&charts.join("strategy_comparison.svg"));
    assert!(!comparison.iter().any(|l| l.starts_with("Reference")), "{comparison:?}");
    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    let figures = key_figures(&html);
    assert!(
        !figures.contains("(Reference)") && !figures.contains("(reference)"),
        "{figures}"
    );
    assert_eq!(
        figures
            .matches("No cell matches the scenario file&apos;s own strategy")
            .count(),
        2,
        "{figures}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Chromium binary, installing the Debian package when it is missing and we are root.
fn chromium() -> PathBuf {
    let find = || {
        ["chromium", "chromium-browser"].iter().find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|candidate| candidate.is_file())
            })
        })
    };
    if let Some(path) = find() {
        return path;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut tried = vec![];
    if is_root {
        for args in [
            &["install", "-y", "--no-install-recommends", "--no-upgrade", "chromium"][..],
            &["update"][..],
            &["install", "-y", "--no-install-recommends", "--no-upgrade", "chromium"][..],
        ] {
            let status = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
            tried.push(format!("apt-get {} ({status:?})", args.join(" ")));
            if let Some(path) = find() {
                return path;
            }
        }
    }
    panic!(
        "this test renders report.html in headless Chromium, which is not installed; install the Debian package \
         `chromium` (apt-get install -y chromium) and run again. Tried: {}",
        if tried.is_empty() {
            "nothing (not root)".to_string()
        } else {
            tried.join(", ")
        }
    );
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let report = shared_run().join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    assert_self_contained(&html);
    let work = temp_dir("charts-chromium");
    let screenshot = work.join("report.png");
    let profile = work.join("profile");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1920,1080",
            &format!("file://{}", report.canonicalize().unwrap().display()),
        ])
        .output()
        .unwrap();
    assert!(
        screenshot.is_file(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h, variance) = png_stats(&screenshot);
    assert_eq!((w, h), (1920, 1080));
    assert!(
        variance > SCREENSHOT_MIN_VARIANCE,
        "the rendered report looks blank (variance {variance:.1})"
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// Issue 30, defect 16: `plot` of a directory whose `charts/` is a symbolic link writes nothing through the
/// link: it fails with exit 2 naming the link, and the link's target stays as it was.
#[test]
fn issue_30_plot_writes_nothing_through_a_symbolic_link_at_charts() {
    let run = run_into(&temp_dir("charts-symlink"));
    let elsewhere = run.parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep.txt"), "user data").unwrap();
    std::fs::remove_dir_all(run.join("charts")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, run.join("charts")).unwrap();
    let out = hashcycle(&["plot", run.to_str().unwrap()], &project_dir());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("keep.txt")],
        "nothing written through the link"
    );
    let _ = std::fs::remove_dir_all(run.parent().unwrap());
}

/// The report is headed by `simulation.description` and lists assumptions generated from the parameters, not the
/// scenario file's comments; a copied scenario with another description says so.
#[test]
fn the_report_is_headed_by_the_description_with_assumptions_from_the_parameters() {
    let dir = temp_dir("report-description");
    let copy = dir.join("copy.toml");
    let text = std::fs::read_to_string(scenario_path("bear")).unwrap().replace(
        "extends = \"base.toml\"",
        &format!("extends = {:?}", scenario_path("base").display().to_string()),
    );
    std::fs::write(&copy, text).unwrap();
    let out_dir = dir.join("out");
    let out = hashcycle(
        &[
            "run",
            copy.to_str().unwrap(),
            "--paths",
            "2",
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            "simulation.description=\"Board pack: a deep bear with prices back at $40K\"",
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(out_dir.join("bear/report.html")).unwrap();
    assert!(html.contains("Board pack: a deep bear with prices back at $40K"));
    // The file's own header comment ("BEAR CASE") is not the report's text.
    assert!(!html.contains("BEAR CASE"));
    for expected in [
        "Regime switching from $93K (bull)",
        "mean bull spell 20 months, bear 17",
        "Manufacturer bitmain",
        "80% of output as futures, 50% prepaid",
        "2025-07: Regime turns bear; 2025-07: BTC price × 0.7",
        "Drawn per path",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    // A description of several lines is refused where it is written.
    let out = hashcycle(
        &[
            "check",
            copy.to_str().unwrap(),
            "--set",
            "simulation.description=\"a\\nb\"",
        ],
        &project_dir(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be one line"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A boolean swept value reads yes/no on the heatmaps, the heatmaps of every scenario share one colour scale,
/// and each share carries its 95% interval instead of "± 0".
#[test]
fn sweep_heatmaps_read_booleans_as_yes_no_on_one_scale_with_intervals() {
    let dir = temp_dir("charts-bool-sweep");
    let file = dir.join("sweep.toml");
    let text = format!(
        "[sweep]\nname = \"bools\"\nscenarios = [\"{}\", \"{}\"]\npaths = 4\nseed = 3\nfocus_manufacturer = \"bitmain\"\n\n\
         [[grid]]\nparameter = \"manufacturers.bitmain.strategy.self_mine\"\nvalues = [true, false]\n\n\
         [[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3, 0.5]\n",
        scenario_path("base").display(),
        scenario_path("bear").display()
    );
    std::fs::write(&file, text).unwrap();
    let out_dir = dir.join("out");
    let out = hashcycle(
        &["sweep", file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep = out_dir.join("bools");
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(sweep.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(
        info["boolean_parameters"],
        serde_json::json!(["manufacturers.bitmain.strategy.self_mine"])
    );
    for scenario in ["base", "bear"] {
        let svg =
            std::fs::read_to_string(sweep.join(format!("charts/heatmap_p_cash_below_zero_{scenario}.svg"))).unwrap();
        assert!(
            svg.contains("aria-label=\"yes\"") && svg.contains("aria-label=\"no\""),
            "{scenario}"
        );
        assert!(svg.contains("colours on one scale for every scenario"));
        assert!(
            !svg.contains("± 0.0 pp"),
            "{scenario}: an interval, not a zero standard error"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scripted_and_drawn_events_are_marked_on_the_time_charts_and_listed_in_the_report() {
    let dir = temp_dir("charts-events");
    let file = crate::support::small_scenario(
        &dir,
        "events.toml",
        &[
            ("horizon_months = 12", "horizon_months = 24"),
            (
                "power_price_base_usd_per_kwh = 0.050\n",
                "power_price_base_usd_per_kwh = 0.050\ntightening_hazard_per_month = 0.05\n",
            ),
        ],
    );
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n[[events]]\nmonth = \"2025-07\"\nkind = \"ban\"\nregion = \"us\"\nshare = 0.5\n");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let result = hashcycle(
        &[
            "run",
            file.to_str().unwrap(),
            "--paths",
            "20",
            "--out",
            out.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let run = out.join("small");
    let svg = std::fs::read_to_string(run.join("charts").join("network_hashrate.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let labels: Vec<&str> = doc.descendants().filter_map(|n| n.attribute("aria-label")).collect();
    assert!(
        labels.contains(&"Ban us 50% · 2025-07"),
        "the scripted ban is labelled at its month: {labels:?}"
    );
    let drawn = labels
        .iter()
        .find(|l| l.starts_with("Tightening other drawn on "))
        .unwrap_or_else(|| panic!("the drawn tightening is labelled: {labels:?}"));
    assert!(drawn.contains("% of paths · half of them by 20"), "{drawn}");
    assert!(
        labels.iter().any(|l| l.starts_with("Drawn event")),
        "its kind is in the legend"
    );
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("Ban us 50% · 2025-07") && report.contains("Tightening other drawn on "));
}

#[test]
fn the_ai_pivot_draws_sites_by_use_and_a_maker_with_other_lines_its_revenue_by_line() {
    let out = temp_dir("charts-ai-pivot");
    for scenario in ["scenarios/ai_pivot.toml", "scenarios/tariffs_2025.toml"] {
        let result = hashcycle(
            &["run", scenario, "--paths", "8", "--out", out.to_str().unwrap()],
            &project_dir(),
        );
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    }
    // Sites by use: mining, and the sites converting to and hosting AI, over the hashrate.
    let pivot = out.join("ai_pivot").join("charts");
    let title = check_chart(&pivot, "sites_by_use");
    assert!(title.starts_with("Sites by use"), "{title}");
    let svg = std::fs::read_to_string(pivot.join("sites_by_use.svg")).unwrap();
    for layer in [
        "Mining",
        "Hosting AI",
        "AI data centres",
        "Network hashrate (median path)",
    ] {
        assert!(svg.contains(layer), "sites_by_use lacks {layer}");
    }
    // Nobody in ai_pivot has a hosting business or an AI-chip unit; in tariffs_2025 Canaan has an AI-chip unit.
    assert!(!pivot.join("revenue_lines_canaan.png").exists());
    let tariffs = out.join("tariffs_2025").join("charts");
    check_chart(&tariffs, "revenue_lines_canaan");
    let svg = std::fs::read_to_string(tariffs.join("revenue_lines_canaan.svg")).unwrap();
    assert!(
        svg.contains("AI chips") && svg.contains("Machines"),
        "revenue by line lacks its lines"
    );
    // A scenario without AI on any site draws neither.
    assert!(!tariffs.join("sites_by_use.png").exists());
    let _ = std::fs::remove_dir_all(&out);
}
