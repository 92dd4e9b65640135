//! Parquet files written in row groups as paths complete, refusing any non-finite number.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::output::OutputError;

/// One Parquet file being written batch by batch.
pub struct TableFile {
    path: PathBuf,
    file: Option<File>,
    writer: Option<BatchedWriter<File>>,
}

impl TableFile {
    pub fn create(path: &Path) -> Result<TableFile, OutputError> {
        let file = File::create(path).map_err(|e| OutputError::io(path, e))?;
        Ok(TableFile {
            path: path.to_path_buf(),
            file: Some(file),
            writer: None,
        })
    }

    /// Appends a batch (one or more row groups). The first batch fixes the schema.
    pub fn write(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        check_finite(df, &self.path)?;
        if self.writer.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| OutputError::io(&self.path, std::io::Error::other("file already closed")))?;
            let writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .with_row_group_size(Some(256 * 1024))
                .batched(df.schema())
                .map_err(|e| OutputError::polars(&self.path, e))?;
            self.writer = Some(writer);
        }
        if df.height() > 0 {
            let writer = self.writer.as_mut().expect("created above");
            writer.write_batch(df).map_err(|e| OutputError::polars(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the footer. `empty` gives the schema when no batch was ever written.
    pub fn finish(mut self, empty: impl FnOnce() -> PolarsResult<DataFrame>) -> Result<(), OutputError> {
        if self.writer.is_none() {
            let df = empty().map_err(|e| OutputError::polars(&self.path, e))?;
            self.write(&df)?;
        }
        let writer = self.writer.take().expect("written above");
        writer.finish().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(())
    }
}

/// Writes a whole DataFrame to one file.
pub fn write_frame(path: &Path, df: &DataFrame) -> Result<(), OutputError> {
    let mut table = TableFile::create(path)?;
    table.write(df)?;
    let schema_df = df.clear();
    table.finish(|| Ok(schema_df))
}

/// Nothing non-finite may reach a file: a NaN or infinity is a modelling bug, reported with its column.
pub fn check_finite(df: &DataFrame, path: &Path) -> Result<(), OutputError> {
    for column in df.columns() {
        if let Ok(values) = column.f64()
            && let Some(idx) = values.iter().position(|v| v.is_some_and(|x| !x.is_finite()))
        {
            return Err(OutputError::NonFinite {
                path: path.to_path_buf(),
                column: column.name().to_string(),
                row: idx,
            });
        }
    }
    Ok(())
}

/// Reads a whole Parquet file.
pub fn read_frame(path: &Path) -> Result<DataFrame, OutputError> {
    let file = File::open(path).map_err(|e| OutputError::io(path, e))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| OutputError::polars(path, e))
}

/// Reads only `columns` of a Parquet file, in slices of at most `READ_SLICE_ROWS` rows, keeping what `keep`
/// returns of each slice: memory follows the columns read and the rows kept, not the table's size.
pub fn read_columns_where(
    path: &Path,
    columns: &[&str],
    mut keep: impl FnMut(DataFrame) -> PolarsResult<DataFrame>,
) -> Result<DataFrame, OutputError> {
    let open = || -> Result<ParquetReader<File>, OutputError> {
        let file = File::open(path).map_err(|e| OutputError::io(path, e))?;
        Ok(ParquetReader::new(file).with_columns(Some(columns.iter().map(|c| c.to_string()).collect())))
    };
    let n_rows = open()?.num_rows().map_err(|e| OutputError::polars(path, e))?;
    let mut read_slice = |offset: usize| -> Result<DataFrame, OutputError> {
        open()?
            .with_slice(Some((offset, READ_SLICE_ROWS.min(n_rows - offset))))
            .finish()
            .and_then(&mut keep)
            .map_err(|e| OutputError::polars(path, e))
    };
    // The first slice is read even from an empty table, so the result always has the columns.
    let mut all = read_slice(0)?;
    for offset in (READ_SLICE_ROWS..n_rows).step_by(READ_SLICE_ROWS) {
        all.vstack_mut(&read_slice(offset)?)
            .map_err(|e| OutputError::polars(path, e))?;
    }
    all.rechunk_mut();
    Ok(all)
}

/// Rows per slice when a table is read in slices.
const READ_SLICE_ROWS: usize = 1 << 20;
