//! The report shell: `report.html`, one self-contained page per run or sweep, ready to open anywhere or
//! print to PDF. Each feature writes the page's body (its summary, key figures and chart list); this module
//! supplies the page, its styles and fonts, and the charts' sections.
//!
//! Self-contained means no network at all: styles are inline, charts are inline SVG sharing one set of glyph
//! outlines, and the page's own text is set in the same embedded DejaVu Sans as the charts (as `data:` fonts),
//! so the page looks the same on every machine. There is no `http` in the file.
//! The page carries no timestamp, so regenerating it from the same tables gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::output::OutputError;
use crate::output::charts::AnyChart;
use crate::output::charts::canvas::{split_svg, xml_escape};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Text escaped for HTML.
pub fn esc(text: &str) -> String {
    xml_escape(text)
}

/// A two-column table of labels and values.
pub fn meta_table(body: &mut String, rows: &[(&str, String)]) {
    let _ = writeln!(body, "<table class=\"meta\">\n<tbody>");
    for (key, value) in rows {
        let _ = writeln!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(key), esc(value));
    }
    let _ = writeln!(body, "</tbody>\n</table>");
}

/// Appends the chart sections, reading each chart's SVG (drawing the chart if its files are missing), and
/// returns the glyph definitions the charts share.
pub fn charts_html(
    dir: &Path,
    charts: &[AnyChart],
    body: &mut String,
) -> Result<BTreeMap<String, String>, OutputError> {
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
table.figures tr.total td { font-weight: bold; border-top: 2px solid var(--ink); }
table.figures tr.memo td { color: var(--muted); font-style: italic; }
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

/// Writes `dir/report.html`: the page around `body`, with the embedded fonts, the styles and the glyphs the
/// charts share.
pub fn write_page(
    dir: &Path,
    title: &str,
    glyphs: &BTreeMap<String, String>,
    body: &str,
) -> Result<PathBuf, OutputError> {
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
