//! `report.html`: one self-contained page per run or sweep with the scenario summary, a key-figures table
//! and every chart, ready to open anywhere or print to PDF.
//!
//! Self-contained means no network at all: styles are inline, charts are inline SVG sharing one set of glyph
//! outlines, and the page's own text is set in the same embedded DejaVu Sans as the charts (as `data:` fonts),
//! so the page looks the same on every machine. There is no `http` in the file.
//! The page carries no timestamp, so regenerating it from the same tables gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::output::OutputError;
use crate::output::charts::canvas::{split_svg, xml_escape};
use crate::output::charts::data::{Quantiles, RunData};
use crate::output::charts::format;
use crate::output::charts::sweep_data::{Cell, SweepData};
use crate::output::charts::{self, AnyChart};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Regenerates the charts and `report.html` of a run or sweep directory from its Parquet files, deciding
/// which by the presence of `run.json` or `sweep.json`; a backtest directory (`backtest.json`) gets its chart
/// redrawn. Returns every file written.
pub fn plot_dir(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    if !dir.is_dir() {
        return Err(OutputError::Missing {
            path: dir.to_path_buf(),
            message: "no such directory".to_string(),
        });
    }
    // The tables are read once for both the charts and the report.
    let mut written;
    if dir.join("run.json").is_file() {
        let data = RunData::load(dir)?;
        written = charts::render_run_data(dir, &data)?;
        written.push(run_report(dir, &data)?);
    } else if dir.join("sweep.json").is_file() {
        let data = SweepData::load(dir)?;
        written = charts::render_sweep_data(dir, &data)?;
        written.push(sweep_report(dir, &data)?);
    } else if dir.join("backtest.json").is_file() {
        // A backtest has its chart but no report.
        written = charts::render_backtest(dir)?;
    } else {
        return Err(OutputError::Missing {
            path: dir.join("run.json"),
            message:
                "neither run.json, sweep.json nor backtest.json is here, so this is not a hashcycle run, sweep or backtest directory"
                    .to_string(),
        });
    }
    Ok(written)
}

/// Writes `dir/report.html` for a run, embedding the charts in `dir/charts/` (drawing any that are missing).
pub fn write_run_report(dir: &Path) -> Result<PathBuf, OutputError> {
    run_report(dir, &RunData::load(dir)?)
}

fn run_report(dir: &Path, data: &RunData) -> Result<PathBuf, OutputError> {
    let charts = charts::run_charts(data);
    let info = &data.info;
    let mut body = String::new();

    let _ = writeln!(body, "<header>");
    let _ = writeln!(body, "<p class=\"kicker\">hashcycle run report</p>");
    let _ = writeln!(body, "<h1>Scenario {}</h1>", esc(&info.scenario_name));
    // The first paragraph of the scenario file's header names it; the rest go to the summary as notes.
    let description = info.description();
    if let Some(first) = description.first() {
        let _ = writeln!(body, "<p class=\"lede\">{}</p>", esc(first));
    }
    let horizon_end = data.start.plus_months(data.n_months.saturating_sub(1) as i64);
    meta_table(
        &mut body,
        &[
            ("Scenario file", info.scenario_file.clone()),
            (
                "Months",
                format!("{} to {} ({} months)", data.start, horizon_end, data.n_months),
            ),
            ("Paths", format::grouped(info.n_paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
            ("Paths stopped by a failed check", info.n_failed_paths.to_string()),
        ],
    );
    let _ = writeln!(body, "</header>");

    let _ = writeln!(body, "<section>\n<h2>Scenario summary</h2>");
    for paragraph in description.iter().skip(1) {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", esc(paragraph));
    }
    let _ = writeln!(
        body,
        "<table class=\"figures plain\">\n<thead><tr><th>Manufacturer</th><th>Strategy in the scenario file</th></tr></thead>\n<tbody>"
    );
    for maker in &data.makers {
        let strategy = maker.strategy.as_ref().map_or("not set".to_string(), |s| s.describe());
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&maker.name),
            esc(&strategy)
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>");
    if data.markers.is_empty() {
        let _ = writeln!(body, "<p>No halving or scripted event falls in the horizon.</p>");
    } else {
        let _ = writeln!(body, "<p>Events marked on the time charts:</p>\n<ul class=\"events\">");
        for marker in &data.markers {
            let _ = writeln!(body, "<li>{}</li>", esc(&marker.label));
        }
        let _ = writeln!(body, "</ul>");
    }
    let _ = writeln!(body, "</section>");

    let _ = writeln!(body, "<section>\n<h2>Key figures</h2>");
    let _ = writeln!(
        body,
        "<p class=\"note\">Across {} paths at the end of the horizon. Money in USD; p5 and p95 are the 5th and 95th percentiles of paths.</p>",
        format::grouped(info.n_paths as f64, 0)
    );
    let _ = writeln!(
        body,
        "<table class=\"figures\">\n<thead><tr><th>Manufacturer</th><th>P(cash&nbsp;&lt;&nbsp;0)</th><th>P(distress)</th>\
         <th>Lowest cash, median</th><th>Ending cash p5</th><th>Ending cash median</th><th>Ending cash p95</th>\
         <th>Revenue, median</th><th>Gross margin, median</th><th>Walk-away rate, mean</th><th>Market share, mean</th></tr></thead>\n<tbody>"
    );
    for m in &data.maker_figures {
        let q = |q: &Option<Quantiles>, f: fn(&Quantiles) -> f64| {
            q.as_ref().map_or("n/a".to_string(), |q| format::usd(f(q)))
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.name),
            format::pct(m.p_cash_below_zero),
            format::pct(m.p_distressed),
            q(&m.min_cash_usd, |q| q.p50),
            q(&m.end_cash_usd, |q| q.p5),
            q(&m.end_cash_usd, |q| q.p50),
            q(&m.end_cash_usd, |q| q.p95),
            q(&m.revenue_usd, |q| q.p50),
            q(&m.gross_margin_usd, |q| q.p50),
            format::pct(m.walk_away_rate_mean),
            format::pct(m.market_share_mean),
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>");
    let n = &data.network_figures;
    let range = |q: &Option<Quantiles>, show: fn(f64) -> String| {
        q.as_ref().map_or("n/a".to_string(), |q| {
            format!("{} ({} to {})", show(q.p50), show(q.p5), show(q.p95))
        })
    };
    meta_table(
        &mut body,
        &[
            (
                "BTC price at the end, median (p5 to p95)",
                range(&n.end_price_usd, format::usd),
            ),
            (
                "Network hashrate at the end, median (p5 to p95)",
                range(&n.end_hashrate_ehs, format::ehs),
            ),
            (
                "Largest hashrate drawdown, median (p5 to p95)",
                range(&n.max_drawdown_share, format::pct),
            ),
            (
                "Halvings in the horizon, median",
                format::grouped(n.n_halvings_median, 0),
            ),
        ],
    );
    let _ = writeln!(body, "</section>");

    let glyphs = charts_html(dir, &charts, &mut body)?;
    let _ = writeln!(body, "<footer>{}</footer>", esc(&info.source_line()));
    let title = format!("hashcycle run report: scenario {}", info.scenario_name);
    write_page(dir, &title, &glyphs, &body)
}

/// Writes `dir/report.html` for a sweep, embedding the charts in `dir/charts/` (drawing any that are missing).
pub fn write_sweep_report(dir: &Path) -> Result<PathBuf, OutputError> {
    sweep_report(dir, &SweepData::load(dir)?)
}

fn sweep_report(dir: &Path, data: &SweepData) -> Result<PathBuf, OutputError> {
    let charts = charts::sweep_charts(data);
    let info = &data.info;
    let mut body = String::new();

    let _ = writeln!(body, "<header>");
    let _ = writeln!(body, "<p class=\"kicker\">hashcycle strategy sweep report</p>");
    let _ = writeln!(body, "<h1>Sweep {}</h1>", esc(&info.sweep_name));
    let _ = writeln!(
        body,
        "<p class=\"lede\">How the strategy of {} fares across {} scenario(s): {} strategy cells per scenario, each run on the \
         same {} paths (common random numbers, so cells differ only by strategy).</p>",
        esc(&info.focus_manufacturer),
        data.scenarios.len(),
        data.cells.len() / data.scenarios.len().max(1),
        format::grouped(info.n_paths as f64, 0)
    );
    let scenarios: Vec<String> = info
        .scenarios
        .iter()
        .map(|(name, file)| format!("{name} ({file})"))
        .collect();
    meta_table(
        &mut body,
        &[
            ("Scenarios", scenarios.join(", ")),
            ("Swept parameters", data.parameters.join(", ")),
            ("Focus manufacturer", info.focus_manufacturer.clone()),
            ("Paths per cell", format::grouped(info.n_paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
        ],
    );
    let _ = writeln!(body, "</header>");

    let _ = writeln!(body, "<section>\n<h2>Key figures</h2>");
    let _ = writeln!(
        body,
        "<p class=\"note\">For each scenario: the scenario file's own strategy (reference) and the sweep's safest and riskiest cells, \
         with the lowest and highest probability that cash falls below zero. ± is one standard error. Money in USD.</p>"
    );
    let head = "<thead><tr><th>Scenario</th><th>Cell</th><th>Strategy</th><th>P(cash&nbsp;&lt;&nbsp;0)</th><th>P(distress)</th>\
                <th>Ending cash p5</th><th>Ending cash median</th><th>Lowest cash, median</th><th>Revenue, median</th>\
                <th>Gross margin, median</th><th>Walk-away rate, mean</th><th>Market share, mean</th></tr></thead>";
    let _ = writeln!(body, "<table class=\"figures\">\n{head}\n<tbody>");
    for scenario in &data.scenarios {
        let picks = [
            ("Reference", data.reference(scenario)),
            ("Safest", data.best(scenario)),
            ("Riskiest", data.worst(scenario)),
        ];
        for (role, cell) in picks {
            if let Some(cell) = cell {
                cell_row(&mut body, data, scenario, role, cell);
            }
        }
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");

    let glyphs = charts_html(dir, &charts, &mut body)?;

    let _ = writeln!(body, "<section class=\"all-cells\">\n<h2>Every cell</h2>");
    let _ = writeln!(body, "<table class=\"figures compact\">\n{head}\n<tbody>");
    for scenario in &data.scenarios {
        for cell in data.cells_of(scenario) {
            let role = if cell.is_reference { "Reference" } else { "" };
            cell_row(&mut body, data, scenario, role, cell);
        }
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");
    let _ = writeln!(body, "<footer>{}</footer>", esc(&info.source_line()));
    let title = format!("hashcycle sweep report: {}", info.sweep_name);
    write_page(dir, &title, &glyphs, &body)
}

fn cell_row(body: &mut String, data: &SweepData, scenario: &str, role: &str, cell: &Cell) {
    let role = if role.is_empty() {
        format!("{}", cell.cell)
    } else {
        format!("{} ({role})", cell.cell)
    };
    let _ = writeln!(
        body,
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{} ± {}</td><td>{} ± {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        if cell.is_reference { " class=\"reference\"" } else { "" },
        esc(scenario),
        esc(&role),
        esc(&data.describe(cell)),
        format::pct(cell.p_cash_below_zero),
        format::pct(cell.p_cash_below_zero_se),
        format::pct(cell.p_distress),
        format::pct(cell.p_distress_se),
        format::usd(cell.end_cash_usd.p5),
        format::usd(cell.end_cash_usd.p50),
        format::usd(cell.min_cash_usd.p50),
        format::usd(cell.revenue_usd.p50),
        format::usd(cell.gross_margin_usd.p50),
        format::pct(cell.walk_away_rate_mean),
        format::pct(cell.market_share_mean),
    );
}

fn esc(text: &str) -> String {
    xml_escape(text)
}

fn meta_table(body: &mut String, rows: &[(&str, String)]) {
    let _ = writeln!(body, "<table class=\"meta\">\n<tbody>");
    for (key, value) in rows {
        let _ = writeln!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(key), esc(value));
    }
    let _ = writeln!(body, "</tbody>\n</table>");
}

/// Appends the chart sections, reading each chart's SVG (drawing the chart if its files are missing), and
/// returns the glyph definitions the charts share.
fn charts_html(dir: &Path, charts: &[AnyChart], body: &mut String) -> Result<BTreeMap<String, String>, OutputError> {
    let charts_dir = dir.join("charts");
    let mut glyphs: BTreeMap<String, String> = BTreeMap::new();
    let mut section = String::new();
    let _ = writeln!(body, "<section class=\"charts\">\n<h2>Charts</h2>");
    for (i, chart) in charts.iter().enumerate() {
        let entry = chart.entry();
        let svg_path = charts_dir.join(format!("{}.svg", entry.stem));
        if !svg_path.is_file() {
            std::fs::create_dir_all(&charts_dir).map_err(|e| OutputError::io(&charts_dir, e))?;
            chart.write(&charts_dir)?;
        }
        let svg = std::fs::read_to_string(&svg_path).map_err(|e| OutputError::io(&svg_path, e))?;
        let (defs, drawing) = split_svg(&svg).ok_or_else(|| OutputError::Chart {
            path: svg_path.clone(),
            message: "not an SVG written by hashcycle; run `hashcycle plot` on the directory".to_string(),
        })?;
        for def in defs {
            if let Some(id) = def.strip_prefix("<path id=\"").and_then(|r| r.split('"').next()) {
                glyphs.entry(id.to_string()).or_insert_with(|| def.to_string());
            }
        }
        if entry.section != section {
            section = entry.section.clone();
            let _ = writeln!(body, "<h3>{}</h3>", esc(&section));
        }
        // In HTML, `href` replaces SVG 1.1's `xlink:href`, and the SVG namespace is implied.
        let drawing = drawing.replace("xlink:href=", "href=");
        let _ = writeln!(
            body,
            "<figure id=\"{stem}\">\n<svg viewBox=\"0 0 1920 1080\" role=\"img\" aria-labelledby=\"{stem}-title\">\
             <title id=\"{stem}-title\">{title}</title>\n{drawing}</svg>\n\
             <figcaption>Figure {n}. {title}. Files: <code>charts/{stem}.png</code>, <code>charts/{stem}.svg</code>.</figcaption>\n</figure>",
            stem = esc(&entry.stem),
            title = esc(&entry.title),
            n = i + 1,
        );
    }
    let _ = writeln!(body, "</section>");
    Ok(glyphs)
}

/// Standard base64 with padding, for the embedded fonts.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink: #1a1a1a; --soft: #4a4a4a; --muted: #6e6e6e; --rule: #e4e4e4; --navy: #1f3b5c; --pale: #eef3f8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1240px; padding: 32px 40px 48px; font-family: "HC Sans", sans-serif; font-size: 15px;
       line-height: 1.45; color: var(--ink); background: #fff; }
h1 { font-size: 34px; margin: 4px 0 12px; }
h2 { font-size: 24px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--navy); break-after: avoid; }
h3 { font-size: 19px; margin: 28px 0 8px; color: var(--navy); break-after: avoid; }
.kicker { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: 0.08em; font-size: 13px; }
.lede { color: var(--soft); margin: 6px 0; max-width: 980px; }
.note { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
table.meta th { text-align: left; font-weight: normal; color: var(--muted); padding: 3px 18px 3px 0; vertical-align: top; }
table.meta td { padding: 3px 0; }
table.figures { width: 100%; font-size: 13px; }
table.figures th { text-align: right; font-weight: bold; padding: 6px 8px; border-bottom: 2px solid var(--ink); vertical-align: bottom; }
table.figures td { text-align: right; padding: 5px 8px; border-bottom: 1px solid var(--rule); white-space: nowrap; }
table.figures th:first-child, table.figures td:first-child { text-align: left; }
table.figures tr.reference td { background: var(--pale); font-weight: bold; }
table.compact td, table.compact th { padding: 3px 6px; font-size: 12px; }
table.plain th, table.plain td { text-align: left !important; }
ul.events { margin: 4px 0; padding-left: 20px; }
figure { margin: 20px 0 28px; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
code { font-size: 12px; }
footer { margin-top: 36px; padding-top: 8px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12px; }
svg.glyphs { position: absolute; width: 0; height: 0; overflow: hidden; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.charts > h2, section.all-cells > h2 { break-before: page; }
  h3 { margin-top: 4mm; }
  figure { margin: 4mm 0 6mm; }
  /* One chart per A4 landscape page, with room for the section headings above it. */
  figure svg { border: none; width: auto; max-width: 100%; max-height: 140mm; margin: 0 auto; }
  figcaption { text-align: center; }
  table.figures { font-size: 8.5pt; }
}
"#;

fn write_page(dir: &Path, title: &str, glyphs: &BTreeMap<String, String>, body: &str) -> Result<PathBuf, OutputError> {
    let mut page = String::with_capacity(body.len() + 3_000_000);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(page, "<title>{}</title>", esc(title));
    page.push_str("<style>\n");
    for (weight, bytes) in [("normal", REGULAR_TTF), ("bold", BOLD_TTF)] {
        let _ = writeln!(
            page,
            "@font-face {{ font-family: \"HC Sans\"; font-weight: {weight}; font-style: normal; src: url(data:font/ttf;base64,{}) format(\"truetype\"); }}",
            base64(bytes)
        );
    }
    page.push_str(CSS);
    page.push_str("</style>\n</head>\n<body>\n");
    page.push_str("<svg class=\"glyphs\" aria-hidden=\"true\" focusable=\"false\"><defs>\n");
    for def in glyphs.values() {
        page.push_str(def);
        page.push('\n');
    }
    page.push_str("</defs></svg>\n");
    page.push_str(body);
    page.push_str("</body>\n</html>\n");
    let path = dir.join("report.html");
    crate::output::dir::write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
