//! The two canvases every chart is drawn on, and writing a chart as PNG and SVG.
//!
//! Charts are drawn once per format through the same plotters code on a 1920×1080 canvas.
//! - `PngCanvas` draws at three times the size and averages each 3×3 block into one pixel.
//!   plotters' bitmap backend does not anti-alias lines, polygons or text, and jagged edges look
//!   unfinished on a slide; supersampling smooths them without changing any chart code.
//! - `SvgCanvas` writes SVG itself instead of using plotters' SVG backend, because that backend emits
//!   `<text>` elements that each viewer sets in whatever font it has. Here every glyph is an outline
//!   of the embedded font, defined once and reused, so an SVG looks the same in a browser, Inkscape or a
//!   slide deck, with no font installed.
//!
//! Both canvases set text with `text.rs`, so PNG and SVG match glyph for glyph.
//! Neither writes a timestamp, so the same tables always give the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea};
use plotters::style::RGBAColor;
use plotters::style::ShapeStyle;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontTransform,
};

use crate::output::OutputError;
use crate::output::charts::text::{self, Weight};
use crate::output::dir::{write_atomic, write_atomic_with};

/// Every chart is 1920×1080 (full HD, 16:9 like a slide).
pub const WIDTH_PX: u32 = 1920;
pub const HEIGHT_PX: u32 = 1080;

/// Linear supersampling factor of the PNG canvas. 3 gives 9 coverage levels per pixel; more costs time
/// and memory (a 3× buffer is 56 MB) without a visible gain at 1920×1080.
const SUPERSAMPLE: i32 = 3;

/// A chart that can be drawn on any plotters backend.
pub trait Chart {
    /// What the chart shows, written into the SVG's `<title>`.
    fn title(&self) -> String;
    /// Draws the whole chart on a 1920×1080 area. Errors are messages; the caller adds the file.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Turns any displayable plotters error into the message charts pass up.
pub fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Writes `charts_dir/<stem>.png` and `charts_dir/<stem>.svg`; returns both paths.
pub fn write_chart(charts_dir: &Path, stem: &str, chart: &impl Chart) -> Result<Vec<PathBuf>, OutputError> {
    let png_path = charts_dir.join(format!("{stem}.png"));
    let svg_path = charts_dir.join(format!("{stem}.svg"));
    let chart_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| OutputError::Chart { path, message }
    };
    text::ensure_fonts().map_err(chart_err(&png_path))?;
    let pixels = render_png(chart).map_err(chart_err(&png_path))?;
    save_png(&png_path, &pixels)?;
    let svg = render_svg(chart).map_err(chart_err(&svg_path))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok(vec![png_path, svg_path])
}

/// Draws a chart and returns its 1920×1080 RGB pixels.
pub fn render_png(chart: &impl Chart) -> Result<Vec<u8>, String> {
    let s = SUPERSAMPLE as usize;
    let (w, h) = (WIDTH_PX as usize, HEIGHT_PX as usize);
    let mut big = vec![255u8; w * s * h * s * 3];
    {
        let inner = BitMapBackend::with_buffer(&mut big, (WIDTH_PX * s as u32, HEIGHT_PX * s as u32));
        let root = PngCanvas { inner }.into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(msg)?;
    }
    Ok(downsample(&big, w, h, s))
}

/// Draws a chart and returns its SVG document.
pub fn render_svg(chart: &impl Chart) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SvgCanvas::new(&mut out, &chart.title()).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(msg)?;
    }
    Ok(out)
}

/// Averages each `s`×`s` block of an RGB image `w·s` by `h·s` into one pixel.
fn downsample(big: &[u8], w: usize, h: usize, s: usize) -> Vec<u8> {
    let big_row = w * s * 3;
    let n = (s * s) as u32;
    let mut out = vec![0u8; w * h * 3];
    // Sums of one output row, built from `s` input rows; slices and chunks keep the inner loops free of
    // bounds checks, which matters in the tests' lightly optimised builds.
    let mut sums = vec![0u32; w * 3];
    for (y, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        sums.fill(0);
        for in_row in big[y * s * big_row..(y + 1) * s * big_row].chunks_exact(big_row) {
            for (sum, block) in sums.chunks_exact_mut(3).zip(in_row.chunks_exact(s * 3)) {
                for px in block.chunks_exact(3) {
                    sum[0] += px[0] as u32;
                    sum[1] += px[1] as u32;
                    sum[2] += px[2] as u32;
                }
            }
        }
        for (o, total) in out_row.iter_mut().zip(&sums) {
            *o = ((total + n / 2) / n) as u8;
        }
    }
    out
}

/// Encodes RGB pixels as PNG through plotters' bitmap backend, whose encoder writes no timestamp, replacing
/// `path` whole or not at all.
fn save_png(path: &Path, pixels: &[u8]) -> Result<(), OutputError> {
    let err = |e: String| OutputError::Chart {
        path: path.to_path_buf(),
        message: e,
    };
    write_atomic_with(path, |temp| {
        let mut backend = BitMapBackend::new(temp, (WIDTH_PX, HEIGHT_PX));
        backend
            .blit_bitmap((0, 0), (WIDTH_PX, HEIGHT_PX), pixels)
            .map_err(|e| err(e.to_string()))?;
        backend.present().map_err(|e| err(e.to_string()))
    })
}

fn with_width(color: BackendColor, width: u32, filled: bool) -> ShapeStyle {
    ShapeStyle {
        color: RGBAColor(color.rgb.0, color.rgb.1, color.rgb.2, color.alpha),
        filled,
        stroke_width: width,
    }
}

/// The bitmap canvas: reports 1920×1080 to plotters and draws everything `SUPERSAMPLE` times larger.
pub struct PngCanvas<'a> {
    inner: BitMapBackend<'a>,
}

type PngError<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> PngCanvas<'a> {
    /// The centre of a logical pixel on the large canvas.
    fn centre(p: BackendCoord) -> BackendCoord {
        (p.0 * SUPERSAMPLE + SUPERSAMPLE / 2, p.1 * SUPERSAMPLE + SUPERSAMPLE / 2)
    }

    /// A straight stroke `width` large pixels wide between two points of the large canvas.
    fn stroke(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        width: i32,
        color: BackendColor,
    ) -> Result<(), PngError<'a>> {
        let fill = with_width(color, 1, true);
        let half = width as f64 / 2.0;
        if a.1 == b.1 || a.0 == b.0 {
            // Axis-aligned strokes are rectangles, exact to the pixel.
            let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
            let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
            let lo = (half - 0.5).floor() as i32;
            let hi = width - lo;
            let (ul, br) = if a.1 == b.1 {
                ((x0, y0 - lo), (x1 + 1, y0 + hi))
            } else {
                ((x0 - lo, y0), (x0 + hi, y1 + 1))
            };
            return self.inner.draw_rect(ul, br, &fill, true);
        }
        let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
        let len = (dx * dx + dy * dy).sqrt();
        let (nx, ny) = (-dy / len * half, dx / len * half);
        let corner =
            |p: BackendCoord, sx: f64, sy: f64| ((p.0 as f64 + sx).round() as i32, (p.1 as f64 + sy).round() as i32);
        let quad = vec![
            corner(a, nx, ny),
            corner(b, nx, ny),
            corner(b, -nx, -ny),
            corner(a, -nx, -ny),
        ];
        self.inner.fill_polygon(quad, &fill)
    }
}

impl<'a> DrawingBackend for PngCanvas<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        (WIDTH_PX, HEIGHT_PX)
    }

    fn ensure_prepared(&mut self) -> Result<(), PngError<'a>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), PngError<'a>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), PngError<'a>> {
        let ul = (point.0 * SUPERSAMPLE, point.1 * SUPERSAMPLE);
        let br = (ul.0 + SUPERSAMPLE, ul.1 + SUPERSAMPLE);
        self.inner.draw_rect(ul, br, &with_width(color, 1, true), true)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), PngError<'a>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let width = style.stroke_width().max(1) as i32 * SUPERSAMPLE;
        self.stroke(Self::centre(from), Self::centre(to), width, style.color())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), PngError<'a>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        if fill {
            let ul = (upper_left.0 * SUPERSAMPLE, upper_left.1 * SUPERSAMPLE);
            let br = (bottom_right.0 * SUPERSAMPLE, bottom_right.1 * SUPERSAMPLE);
            return self.inner.draw_rect(ul, br, &with_width(style.color(), 1, true), true);
        }
        let corners = [
            upper_left,
            (bottom_right.0, upper_left.1),
            bottom_right,
            (upper_left.0, bottom_right.1),
            upper_left,
        ];
        self.draw_path(corners, style)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), PngError<'a>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let width = style.stroke_width().max(1) as i32 * SUPERSAMPLE;
        let points: Vec<BackendCoord> = path.into_iter().map(Self::centre).collect();
        for pair in points.windows(2) {
            if pair[0] != pair[1] {
                self.stroke(pair[0], pair[1], width, style.color())?;
            }
        }
        // Round joins: a disc at every inner vertex closes the notches between segments.
        if width > SUPERSAMPLE && points.len() > 2 {
            let disc = with_width(style.color(), 1, true);
            for p in &points[1..points.len() - 1] {
                self.inner.draw_circle(*p, (width / 2) as u32, &disc, true)?;
            }
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), PngError<'a>> {
        let width = style.stroke_width().max(1) * SUPERSAMPLE as u32;
        let scaled = with_width(style.color(), width, fill);
        self.inner
            .draw_circle(Self::centre(center), radius * SUPERSAMPLE as u32, &scaled, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), PngError<'a>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = vert.into_iter().map(Self::centre).collect();
        self.inner.fill_polygon(points, &with_width(style.color(), 1, true))
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> Result<(), PngError<'a>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let font_err = |e: String| DrawingErrorKind::FontError(e.into());
        let line = text::layout(text, Weight::of(style.style()), style.size()).map_err(font_err)?;
        let origin = line.origin(style.anchor());
        let s = SUPERSAMPLE as f32;
        let at = (pos.0 as f32 * s + s / 2.0, pos.1 as f32 * s + s / 2.0);
        let mut covered: Vec<(i32, i32, f32)> = Vec::new();
        text::rasterize(&line, origin, at, &style.transform(), s, |x, y, c| {
            covered.push((x, y, c))
        })
        .map_err(font_err)?;
        for (x, y, coverage) in covered {
            let c = BackendColor {
                alpha: color.alpha * coverage as f64,
                rgb: color.rgb,
            };
            self.inner.draw_pixel((x, y), c)?;
        }
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(&self, text: &str, style: &T) -> Result<(u32, u32), PngError<'a>> {
        estimate(text, style)
    }
}

/// Text size in logical pixels, as both canvases measure it.
fn estimate<T: BackendTextStyle, E: std::error::Error + Send + Sync>(
    text: &str,
    style: &T,
) -> Result<(u32, u32), DrawingErrorKind<E>> {
    let line = text::layout(text, Weight::of(style.style()), style.size())
        .map_err(|e| DrawingErrorKind::FontError(e.into()))?;
    let (w, h) = (line.width_px.ceil() as u32, line.height_px().ceil() as u32);
    Ok(match style.transform() {
        FontTransform::Rotate90 | FontTransform::Rotate270 => (h, w),
        _ => (w, h),
    })
}

/// The SVG canvas's error type: it cannot fail except through fonts.
#[derive(Debug, thiserror::Error)]
#[error("svg canvas: {0}")]
pub struct SvgError(String);

/// The vector canvas: SVG with text as outlines of the embedded font.
pub struct SvgCanvas<'a> {
    out: &'a mut String,
    title: String,
    body: String,
    /// Glyph outlines used so far, by face and glyph id; a `BTreeMap` so `<defs>` come out in a fixed order.
    glyphs: BTreeMap<(Weight, u16), String>,
}

impl<'a> SvgCanvas<'a> {
    pub fn new(out: &'a mut String, title: &str) -> SvgCanvas<'a> {
        SvgCanvas {
            out,
            title: title.to_string(),
            body: String::new(),
            glyphs: BTreeMap::new(),
        }
    }

    fn paint(color: BackendColor) -> String {
        let (r, g, b) = color.rgb;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// The SVG paint attributes of a shape drawn filled, or outlined with a stroke of `stroke_width`.
    fn fill_or_stroke(color: BackendColor, stroke_width: u32, fill: bool) -> String {
        if fill {
            format!("fill=\"{}\"{}", Self::paint(color), Self::opacity("fill", color))
        } else {
            format!(
                "fill=\"none\" stroke=\"{}\"{} stroke-width=\"{}\"",
                Self::paint(color),
                Self::opacity("stroke", color),
                stroke_width.max(1)
            )
        }
    }

    /// ` fill-opacity="…"` (or stroke) when the colour is translucent.
    fn opacity(attr: &str, color: BackendColor) -> String {
        if color.alpha >= 1.0 {
            String::new()
        } else {
            format!(" {attr}-opacity=\"{:.3}\"", color.alpha.max(0.0))
        }
    }
}

type SvgResult = Result<(), DrawingErrorKind<SvgError>>;

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn points_attr(points: &[BackendCoord]) -> String {
    let mut s = String::with_capacity(points.len() * 10);
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{x},{y}");
    }
    s
}

impl DrawingBackend for SvgCanvas<'_> {
    type ErrorType = SvgError;

    fn get_size(&self) -> (u32, u32) {
        (WIDTH_PX, HEIGHT_PX)
    }

    fn ensure_prepared(&mut self) -> SvgResult {
        Ok(())
    }

    fn present(&mut self) -> SvgResult {
        let mut doc = String::with_capacity(self.body.len() + self.glyphs.len() * 600 + 512);
        doc.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            doc,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
             width=\"{WIDTH_PX}\" height=\"{HEIGHT_PX}\" viewBox=\"0 0 {WIDTH_PX} {HEIGHT_PX}\" role=\"img\">"
        );
        let _ = writeln!(doc, "<title>{}</title>", xml_escape(&self.title));
        doc.push_str("<defs>\n");
        for ((weight, id), d) in &self.glyphs {
            let _ = writeln!(doc, "<path id=\"{}{id}\" d=\"{d}\"/>", weight.svg_id_prefix());
        }
        doc.push_str("</defs>\n");
        doc.push_str(&self.body);
        doc.push_str("</svg>\n");
        *self.out = doc;
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> SvgResult {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"1\" height=\"1\" fill=\"{}\"{}/>",
            point.0,
            point.1,
            Self::paint(color),
            Self::opacity("fill", color)
        );
        Ok(())
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"{} stroke-width=\"{}\"/>",
            from.0,
            from.1,
            to.0,
            to.1,
            Self::paint(color),
            Self::opacity("stroke", color),
            style.stroke_width().max(1)
        );
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (x0, y0) = (upper_left.0.min(bottom_right.0), upper_left.1.min(bottom_right.1));
        let (x1, y1) = (upper_left.0.max(bottom_right.0), upper_left.1.max(bottom_right.1));
        let paint = Self::fill_or_stroke(color, style.stroke_width(), fill);
        let _ = writeln!(
            self.body,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" {paint}/>",
            x1 - x0,
            y1 - y0
        );
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if points.len() < 2 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\"{} stroke-width=\"{}\" stroke-linejoin=\"round\"/>",
            points_attr(&points),
            Self::paint(color),
            Self::opacity("stroke", color),
            style.stroke_width().max(1)
        );
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let paint = Self::fill_or_stroke(color, style.stroke_width(), fill);
        let _ = writeln!(
            self.body,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{radius}\" {paint}/>",
            center.0, center.1
        );
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        let _ = writeln!(
            self.body,
            "<polygon points=\"{}\" fill=\"{}\"{}/>",
            points_attr(&points),
            Self::paint(color),
            Self::opacity("fill", color)
        );
        Ok(())
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> SvgResult {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let font_err = |e: String| DrawingErrorKind::FontError(e.into());
        let weight = Weight::of(style.style());
        let line = text::layout(text, weight, style.size()).map_err(font_err)?;
        let (ox, oy) = line.origin(style.anchor());
        let rotation = text::rotation_degrees(&style.transform());
        let rotate = if rotation == 0 {
            String::new()
        } else {
            format!(" rotate({rotation})")
        };
        // The group's frame: origin at the baseline's left end, in font units, y down (glyph paths are
        // stored y down already, so the scale is uniform).
        let _ = write!(
            self.body,
            "<g aria-label=\"{}\" fill=\"{}\"{} transform=\"translate({} {}){rotate} translate({:.2} {:.2}) scale({:.5})\">",
            xml_escape(text),
            Self::paint(color),
            Self::opacity("fill", color),
            pos.0,
            pos.1,
            ox,
            oy,
            line.px_per_unit
        );
        for &(id, x_px) in &line.glyphs {
            let key = (weight, id.0);
            if let std::collections::btree_map::Entry::Vacant(slot) = self.glyphs.entry(key) {
                match text::glyph_path(weight, id).map_err(font_err)? {
                    Some(d) => {
                        slot.insert(d);
                    }
                    None => continue,
                }
            }
            let x_units = x_px / line.px_per_unit;
            let _ = write!(
                self.body,
                "<use xlink:href=\"#{}{}\" x=\"{:.1}\"/>",
                weight.svg_id_prefix(),
                id.0,
                x_units
            );
        }
        self.body.push_str("</g>\n");
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<SvgError>> {
        estimate(text, style)
    }
}

/// An SVG written by `SvgCanvas`, split for inlining in HTML: its glyph definitions (`<path id=…/>` lines)
/// and its drawing (everything after `</defs>`, without the closing `</svg>`). `None` for any other SVG.
pub fn split_svg(svg: &str) -> Option<(Vec<&str>, &str)> {
    let (_, rest) = svg.split_once("<defs>\n")?;
    let (defs, body) = rest.split_once("</defs>\n")?;
    let body = body.strip_suffix("</svg>\n")?;
    Some((defs.lines().filter(|l| l.starts_with("<path id=")).collect(), body))
}
