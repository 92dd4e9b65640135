//! Text set in the embedded DejaVu Sans: line layout, rasterising for PNG and glyph outlines for SVG.
//!
//! Both chart backends set text through this module, so a chart's PNG and SVG place every glyph at the same
//! spot and neither depends on the fonts installed where the chart is drawn or viewed.
//! The fonts are also registered with plotters (`register_font`), so that any plotters code path that
//! measures text by itself finds the same font.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve, PxScale, point};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform};

/// The family name charts ask plotters for; the only family registered.
pub const FONT_FAMILY: &str = "hashcycle-sans";

static REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The two faces charts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// Bold text asks for `FontStyle::Bold`; every other style is set upright and regular.
    pub fn of(style: FontStyle) -> Weight {
        match style {
            FontStyle::Bold => Weight::Bold,
            _ => Weight::Regular,
        }
    }

    /// Prefix of glyph ids in SVG: stable across charts, so that SVGs inlined in one HTML page share glyphs.
    pub fn svg_id_prefix(self) -> &'static str {
        match self {
            Weight::Regular => "hcr",
            Weight::Bold => "hcb",
        }
    }
}

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

impl Fonts {
    fn face(&self, weight: Weight) -> &FontRef<'static> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

fn fonts() -> Result<&'static Fonts, String> {
    FONTS
        .get_or_init(|| {
            let parse = |bytes: &'static [u8], name: &str| {
                FontRef::try_from_slice(bytes).map_err(|e| format!("embedded font {name} is invalid: {e}"))
            };
            let fonts = Fonts {
                regular: parse(REGULAR_TTF, "DejaVuSans.ttf")?,
                bold: parse(BOLD_TTF, "DejaVuSans-Bold.ttf")?,
            };
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, REGULAR_TTF)
                .map_err(|_| "plotters refused the embedded font DejaVuSans.ttf".to_string())?;
            plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, BOLD_TTF)
                .map_err(|_| "plotters refused the embedded font DejaVuSans-Bold.ttf".to_string())?;
            Ok(fonts)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Loads the embedded fonts and registers them with plotters. Idempotent.
pub fn ensure_fonts() -> Result<(), String> {
    fonts().map(|_| ())
}

/// One line of text laid out at a size, in pixels with the origin at the left end of the baseline.
pub struct Line {
    pub weight: Weight,
    /// Pixels per font unit.
    pub px_per_unit: f32,
    /// Each glyph and the x of its origin.
    pub glyphs: Vec<(GlyphId, f32)>,
    pub width_px: f32,
    /// Above the baseline, positive.
    pub ascent_px: f32,
    /// Below the baseline, negative.
    pub descent_px: f32,
}

impl Line {
    pub fn height_px(&self) -> f32 {
        self.ascent_px - self.descent_px
    }

    /// Where the baseline's left end goes relative to the anchor point, before any rotation. Centred text
    /// is centred on the line box (ascent to descent), which puts digits and capitals on the anchor's height.
    pub fn origin(&self, anchor: Pos) -> (f32, f32) {
        let x = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -self.width_px / 2.0,
            HPos::Right => -self.width_px,
        };
        let y = match anchor.v_pos {
            VPos::Top => self.ascent_px,
            VPos::Center => (self.ascent_px + self.descent_px) / 2.0,
            VPos::Bottom => self.descent_px,
        };
        (x, y)
    }
}

/// Lays out `text` at `size_px`, the em size as in CSS `font-size`, with the font's kerning.
pub fn layout(text: &str, weight: Weight, size_px: f64) -> Result<Line, String> {
    let font = fonts()?.face(weight);
    let units_per_em = font.units_per_em().unwrap_or(2048.0);
    let px_per_unit = size_px as f32 / units_per_em;
    let mut glyphs = Vec::with_capacity(text.len());
    let mut x_units = 0.0f32;
    let mut previous: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            x_units += font.kern_unscaled(p, id);
        }
        glyphs.push((id, x_units * px_per_unit));
        x_units += font.h_advance_unscaled(id);
        previous = Some(id);
    }
    Ok(Line {
        weight,
        px_per_unit,
        glyphs,
        width_px: x_units * px_per_unit,
        ascent_px: font.ascent_unscaled() * px_per_unit,
        descent_px: font.descent_unscaled() * px_per_unit,
    })
}

/// Maps a point from the text's own frame to the canvas frame, as plotters' `FontTransform` does.
pub fn rotate(transform: &FontTransform, x: f32, y: f32) -> (f32, f32) {
    match transform {
        FontTransform::None => (x, y),
        FontTransform::Rotate90 => (-y, x),
        FontTransform::Rotate180 => (-x, -y),
        FontTransform::Rotate270 => (y, -x),
    }
}

/// The angle in degrees SVG's `rotate()` needs for a transform.
pub fn rotation_degrees(transform: &FontTransform) -> i32 {
    match transform {
        FontTransform::None => 0,
        FontTransform::Rotate90 => 90,
        FontTransform::Rotate180 => 180,
        FontTransform::Rotate270 => -90,
    }
}

/// Rasterises a laid-out line whose baseline starts at `origin` (in the text's own frame, relative to the
/// anchor point `at`), magnified by `scale`. Calls `put(x, y, coverage)` for every covered pixel of the
/// magnified canvas.
pub fn rasterize(
    line: &Line,
    origin: (f32, f32),
    at: (f32, f32),
    transform: &FontTransform,
    scale: f32,
    mut put: impl FnMut(i32, i32, f32),
) -> Result<(), String> {
    let font = fonts()?.face(line.weight);
    // ab_glyph's PxScale is the pixel height of ascent - descent, not the em size.
    let px_scale = PxScale::from(line.px_per_unit * scale * font.height_unscaled());
    for &(id, x) in &line.glyphs {
        let glyph = id.with_scale_and_position(px_scale, point((origin.0 + x) * scale, origin.1 * scale));
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        let (min_x, min_y) = (bounds.min.x as i32, bounds.min.y as i32);
        outlined.draw(|gx, gy, coverage| {
            if coverage <= 0.0 {
                return;
            }
            // The pixel's centre in the text frame, rotated about the anchor, then floored to a pixel.
            let cx = (min_x + gx as i32) as f32 + 0.5;
            let cy = (min_y + gy as i32) as f32 + 0.5;
            let (rx, ry) = rotate(transform, cx, cy);
            put(
                (at.0 + rx).floor() as i32,
                (at.1 + ry).floor() as i32,
                coverage.min(1.0),
            );
        });
    }
    Ok(())
}

/// The outline of a glyph as SVG path data in font units, y pointing down; `None` for blank glyphs.
pub fn glyph_path(weight: Weight, id: GlyphId) -> Result<Option<String>, String> {
    let font = fonts()?.face(weight);
    let Some(outline) = font.outline(id) else {
        return Ok(None);
    };
    if outline.curves.is_empty() {
        return Ok(None);
    }
    let mut d = String::new();
    let mut last: Option<ab_glyph::Point> = None;
    let fmt = |p: ab_glyph::Point| format!("{} {}", round1(p.x), round1(-p.y));
    for curve in &outline.curves {
        let (start, end) = match curve {
            OutlineCurve::Line(a, b) => (*a, *b),
            OutlineCurve::Quad(a, _, c) => (*a, *c),
            OutlineCurve::Cubic(a, _, _, d) => (*a, *d),
        };
        if last != Some(start) {
            if last.is_some() {
                d.push('Z');
            }
            d.push_str(&format!("M{}", fmt(start)));
        }
        match curve {
            OutlineCurve::Line(_, b) => d.push_str(&format!("L{}", fmt(*b))),
            OutlineCurve::Quad(_, b, c) => d.push_str(&format!("Q{} {}", fmt(*b), fmt(*c))),
            OutlineCurve::Cubic(_, b, c, e) => d.push_str(&format!("C{} {} {}", fmt(*b), fmt(*c), fmt(*e))),
        }
        last = Some(end);
    }
    d.push('Z');
    Ok(Some(d))
}

/// Rounds to one decimal and prints without a trailing `.0`, so path data is short and stable.
fn round1(v: f32) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_measures_text_with_the_embedded_font() {
        let line = layout("Hashprice", Weight::Regular, 20.0).unwrap();
        assert_eq!(line.glyphs.len(), 9);
        assert!(line.width_px > 60.0 && line.width_px < 140.0, "{}", line.width_px);
        assert!(line.ascent_px > 15.0 && line.descent_px < -2.0);
        let bold = layout("Hashprice", Weight::Bold, 20.0).unwrap();
        assert!(bold.width_px > line.width_px);
    }

    #[test]
    fn glyph_outlines_become_closed_svg_paths() {
        let line = layout("o", Weight::Regular, 10.0).unwrap();
        let d = glyph_path(Weight::Regular, line.glyphs[0].0).unwrap().unwrap();
        // The letter o has an outer and an inner contour.
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert!(d.ends_with('Z'));
        let space = layout(" ", Weight::Regular, 10.0).unwrap();
        assert!(glyph_path(Weight::Regular, space.glyphs[0].0).unwrap().is_none());
    }
}
