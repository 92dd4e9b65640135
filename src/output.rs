//! The means of writing results, shared by every feature and importing none: crash-safe output directories
//! and files, Parquet writing and reading, column buffers, provenance helpers, the chart kit, and the report
//! and workbook shells. Each feature (a run in `batch`, `sweep`, `backtest`) owns its tables, its manifest and
//! its charts.

pub mod charts;
pub mod dir;
pub mod parquet;
pub mod provenance;
pub mod report;
pub mod tables;
pub mod workbook;

use std::path::{Path, PathBuf};

/// Why results could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file or directory operation failed. Fatal for the run.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// polars failed to build, write or read a table. Fatal for the run.
    #[error("{path}: {message}")]
    Polars { path: PathBuf, message: String },
    /// A NaN or infinity reached a table: a modelling bug. Nothing is committed. The message names the table
    /// by its file name (the file being written is a staged one, removed with the rest), the column, the value
    /// and the row by its keys (path, month and what the row is about, such as a region), so that the inputs
    /// that led there can be found.
    #[error(
        "{}: column `{column}` is {value} at {row}: a modelling bug, no results were kept",
        table_name(path)
    )]
    NonFinite {
        path: PathBuf,
        column: String,
        value: f64,
        row: String,
    },
    /// An input table is missing or lacks a column.
    #[error("{path}: {message}")]
    Missing { path: PathBuf, message: String },
    /// A chart or the report could not be drawn: a rendering bug or a table with values no chart can show.
    #[error("{path}: {message}")]
    Chart { path: PathBuf, message: String },
}

/// A table's file name, as a results directory holds it.
fn table_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

impl OutputError {
    pub fn io(path: &Path, source: std::io::Error) -> OutputError {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn polars(path: &Path, e: polars::prelude::PolarsError) -> OutputError {
        OutputError::Polars {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
