//! The chart kit: board-ready charts as 1920×1080 PNG and SVG in `<results dir>/charts/`.
//!
//! Each feature (a run, a sweep, a backtest) reads its own files back and lists its charts; this kit draws
//! them. Charts are drawn from the result files alone, so `hashcycle plot DIR` redraws them at any time, byte
//! for byte.
//! - `data` reads tables and provenance back and buckets rows by month.
//! - `fan`, `stack`, `heatmap` and `interval` draw one kind of chart each, framed by `page` on axes from
//!   `axes`, in the look fixed by `style` and with numbers from `format`.
//! - `canvas` draws each chart on the PNG and SVG canvases; `text` sets text in the embedded font.

pub mod axes;
pub mod canvas;
pub mod data;
pub mod fan;
pub mod format;
pub mod heatmap;
pub mod interval;
pub mod layers;
pub mod page;
pub mod stack;
pub mod style;
pub mod text;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::output::OutputError;
use crate::output::charts::canvas::{Chart, write_chart};

/// One chart of a report: its file stem, its section and its title.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartEntry {
    pub stem: String,
    pub section: String,
    pub title: String,
}

/// A chart to draw, of any kind, with its place in the report.
pub struct AnyChart {
    entry: ChartEntry,
    chart: Box<dyn WriteChart + Send + Sync>,
}

/// Drawing a chart of a kind known only at run time (`Chart::draw` is generic over the backend, so it
/// cannot be called through a trait object itself).
trait WriteChart {
    fn write(&self, charts_dir: &Path, stem: &str) -> Result<Vec<PathBuf>, OutputError>;
}

impl<C: Chart> WriteChart for C {
    fn write(&self, charts_dir: &Path, stem: &str) -> Result<Vec<PathBuf>, OutputError> {
        write_chart(charts_dir, stem, self)
    }
}

impl AnyChart {
    pub fn new(entry: ChartEntry, chart: impl Chart + Send + Sync + 'static) -> AnyChart {
        AnyChart {
            entry,
            chart: Box::new(chart),
        }
    }

    pub fn entry(&self) -> &ChartEntry {
        &self.entry
    }

    /// Draws the chart into `charts_dir` as PNG and SVG.
    pub fn write(&self, charts_dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
        self.chart.write(charts_dir, &self.entry.stem)
    }
}

/// Draws `charts` into `dir/charts/` and returns the files written, in chart order.
pub fn render(dir: &Path, charts: &[AnyChart]) -> Result<Vec<PathBuf>, OutputError> {
    write_all(&charts_dir(dir)?, charts)
}

/// Draws charts in parallel (each chart is independent and writes its own files, so the bytes do not depend
/// on the order) and returns the files in chart order; the first error in chart order wins.
fn write_all(charts_dir: &Path, charts: &[AnyChart]) -> Result<Vec<PathBuf>, OutputError> {
    let results: Vec<Result<Vec<PathBuf>, OutputError>> =
        charts.par_iter().map(|chart| chart.write(charts_dir)).collect();
    let mut written = vec![];
    for result in results {
        written.extend(result?);
    }
    Ok(written)
}

/// The `charts/` directory of a results directory, created if missing. A symbolic link there is refused, not
/// followed (issue 30, defect 16): `plot` would otherwise write its files wherever the link points.
fn charts_dir(dir: &Path) -> Result<PathBuf, OutputError> {
    let charts_dir = dir.join("charts");
    if std::fs::symlink_metadata(&charts_dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(OutputError::io(
            &charts_dir,
            std::io::Error::other("is a symbolic link; charts are never written through one"),
        ));
    }
    std::fs::create_dir_all(&charts_dir).map_err(|e| OutputError::io(&charts_dir, e))?;
    Ok(charts_dir)
}

/// A name safe in a file name: lowercase letters, digits, `_` and `-`.
pub fn file_stem_part(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "unnamed".to_string() } else { s }
}
