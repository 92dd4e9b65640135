//! The look shared by every chart: palette, type sizes, line styles and colour scales.
//!
//! The palette is chosen to survive a greyscale printer: series differ in lightness, not only in hue,
//! adjacent stack layers alternate dark and light, and lines that could be confused also differ in dash.

use plotters::style::{FontStyle, IntoFont, RGBColor, ShapeStyle, TextStyle};

use crate::output::charts::text::FONT_FAMILY;

/// A colour from `0xRRGGBB`.
pub const fn rgb(hex: u32) -> RGBColor {
    RGBColor((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

pub const BACKGROUND: RGBColor = rgb(0xFFFFFF);
/// Titles and values.
pub const INK: RGBColor = rgb(0x1A1A1A);
/// Subtitles, tick labels, axis descriptions.
pub const INK_SOFT: RGBColor = rgb(0x4A4A4A);
/// The source line and notes.
pub const MUTED: RGBColor = rgb(0x6E6E6E);
pub const AXIS: RGBColor = rgb(0x8A8A8A);
pub const GRID: RGBColor = rgb(0xE4E4E4);

/// Dark navy, lightness about 24: medians and the first series.
pub const NAVY: RGBColor = rgb(0x1F3B5C);
/// Lightness about 52.
pub const BLUE: RGBColor = rgb(0x5B86B3);
/// Lightness about 70: the 50% band.
pub const BLUE_LIGHT: RGBColor = rgb(0x93AFCF);
/// Lightness about 88: the 90% band.
pub const BLUE_PALE: RGBColor = rgb(0xD3DEEB);
/// Lightness about 70, a warm hue next to the blues.
pub const AMBER: RGBColor = rgb(0xE0A040);
/// Lightness about 88.
pub const SAND: RGBColor = rgb(0xF2DDB0);
/// Lightness about 45: alerts such as the zero-cash line and scripted events.
pub const BRICK: RGBColor = rgb(0xB5452F);
/// Lightness about 47, a green-blue for a second line among blues.
pub const TEAL: RGBColor = rgb(0x2E7D6F);
/// Lightness about 35: halvings.
pub const SLATE: RGBColor = rgb(0x555555);

/// Stack layers, dark and light alternating so neighbours stay apart in greyscale.
pub const STACK: [RGBColor; 4] = [NAVY, AMBER, BLUE, SAND];

/// Type sizes in pixels (CSS em size) at 1920×1080.
pub const TITLE_PX: f64 = 44.0;
pub const SUBTITLE_PX: f64 = 26.0;
pub const LEGEND_PX: f64 = 24.0;
pub const TICK_PX: f64 = 22.0;
pub const AXIS_DESC_PX: f64 = 24.0;
pub const NOTE_PX: f64 = 20.0;
pub const SOURCE_PX: f64 = 18.0;
pub const CELL_PX: f64 = 24.0;

/// Canvas margins in pixels.
pub const MARGIN_LEFT_PX: i32 = 56;
pub const MARGIN_RIGHT_PX: i32 = 64;

/// Line widths in pixels.
pub const MEDIAN_WIDTH_PX: u32 = 4;
pub const SERIES_WIDTH_PX: u32 = 3;
pub const MARKER_WIDTH_PX: u32 = 2;

/// Dash patterns (on, off) in pixels.
pub const DASH_HALVING: (i32, i32) = (14, 8);
pub const DASH_SCRIPTED: (i32, i32) = (4, 6);
pub const DASH_DRAWN: (i32, i32) = (2, 10);
pub const DASH_SERIES: (i32, i32) = (18, 10);

pub fn text(size_px: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT_FAMILY, size_px).into_font().color(&color)
}

pub fn bold(size_px: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT_FAMILY, size_px, FontStyle::Bold).into_font().color(&color)
}

pub fn stroke(color: RGBColor, width_px: u32) -> ShapeStyle {
    ShapeStyle {
        color: color.into(),
        filled: false,
        stroke_width: width_px,
    }
}

pub fn fill(color: RGBColor) -> ShapeStyle {
    ShapeStyle {
        color: color.into(),
        filled: true,
        stroke_width: 1,
    }
}

/// A sequential colour scale running from light to dark, so that greyscale keeps the order.
pub struct ColorScale {
    stops: &'static [u32],
}

/// For risks (probabilities of trouble): pale to dark orange.
pub const RISK_SCALE: ColorScale = ColorScale {
    stops: &[0xFFF5EB, 0xFDD0A2, 0xFD8D3C, 0xD94801, 0x7F2704],
};

/// For money: pale to dark blue.
pub const MONEY_SCALE: ColorScale = ColorScale {
    stops: &[0xF7FBFF, 0xC6DBEF, 0x6BAED6, 0x2171B5, 0x08306B],
};

impl ColorScale {
    /// The colour at `t` in [0, 1], interpolated between stops.
    pub fn at(&self, t: f64) -> RGBColor {
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        let n = self.stops.len() - 1;
        let pos = t * n as f64;
        let i = (pos.floor() as usize).min(n - 1);
        let f = pos - i as f64;
        let (a, b) = (rgb(self.stops[i]), rgb(self.stops[i + 1]));
        let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// Relative luminance (0 black to 1 white), to pick readable text on a filled cell.
pub fn luminance(c: RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// Black or white, whichever reads better on `background`.
pub fn ink_on(background: RGBColor) -> RGBColor {
    if luminance(background) > 0.30 { INK } else { BACKGROUND }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scales_darken_monotonically() {
        for scale in [RISK_SCALE, MONEY_SCALE] {
            let mut previous = f64::INFINITY;
            for i in 0..=20 {
                let l = luminance(scale.at(i as f64 / 20.0));
                assert!(l < previous, "lightness must fall along the scale");
                previous = l;
            }
        }
    }

    #[test]
    fn stack_neighbours_differ_in_lightness() {
        for pair in STACK.windows(2) {
            assert!((luminance(pair[0]) - luminance(pair[1])).abs() > 0.15);
        }
    }
}
