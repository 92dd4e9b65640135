//! Parquet files written in row groups as paths complete, refusing any non-finite number, in the types the
//! oldest common readers understand.
//!
//! polars' own `ParquetWriter` declares strings as Arrow `string_view` in the schema it stores in the file,
//! which pyarrow before 15 and polars before 0.20 cannot open ("Unrecognized type: 24"). The tables are
//! therefore written through polars' Parquet encoder directly, with the arrays and schema of
//! `CompatLevel::oldest()` (strings as `large_string`). Every integer column is written as a signed 64-bit
//! integer, so that a difference of two counts never wraps in pandas or numpy.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_parquet::parquet::FallibleStreamingIterator;
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::write::{
    CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding, FileWriter, ParquetType,
    StatisticsOptions, Version, WriteOptions, array_to_columns, get_dtype_encoding,
};
use rayon::prelude::*;

use crate::output::OutputError;

/// The Arrow types and arrays the files are written with: no views, which older readers do not know.
const FILE_COMPAT_LEVEL: CompatLevel = CompatLevel::oldest();

/// One Parquet file being written batch by batch.
pub struct TableFile {
    path: PathBuf,
    file: Option<File>,
    writer: Option<Writer>,
}

/// The encoder of an open file: its schema, fixed by the first batch, and each column's encodings.
struct Writer {
    file: FileWriter<File>,
    schema: Schema,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
}

const WRITE_OPTIONS: WriteOptions = WriteOptions {
    statistics: StatisticsOptions {
        min_value: true,
        max_value: true,
        distinct_count: false,
        null_count: true,
        binary_statistics_truncate_length: None,
    },
    version: Version::V1,
    compression: CompressionOptions::Zstd(None),
    data_page_size: None,
};

impl TableFile {
    pub fn create(path: &Path) -> Result<TableFile, OutputError> {
        let file = File::create(path).map_err(|e| OutputError::io(path, e))?;
        Ok(TableFile {
            path: path.to_path_buf(),
            file: Some(file),
            writer: None,
        })
    }

    /// Appends a batch (one row group per chunk). The first batch fixes the schema.
    pub fn write(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        check_finite(df, &self.path)?;
        let df = file_types(df).map_err(|e| OutputError::polars(&self.path, e))?;
        if self.writer.is_none() {
            let file = self
                .file
                .take()
                .ok_or_else(|| OutputError::io(&self.path, std::io::Error::other("file already closed")))?;
            let writer = Writer::new(file, df.schema()).map_err(|e| OutputError::polars(&self.path, e))?;
            self.writer = Some(writer);
        }
        if df.height() > 0 {
            let writer = self.writer.as_mut().expect("created above");
            writer.write(&df).map_err(|e| OutputError::polars(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the footer. `empty` gives the schema when no batch was ever written.
    pub fn finish(mut self, empty: impl FnOnce() -> PolarsResult<DataFrame>) -> Result<(), OutputError> {
        if self.writer.is_none() {
            let df = empty().map_err(|e| OutputError::polars(&self.path, e))?;
            self.write(&df)?;
        }
        let mut writer = self.writer.take().expect("written above");
        // With no metadata given, the footer holds the Arrow schema the file was written with.
        writer.file.end(None).map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(())
    }
}

impl Writer {
    fn new(file: File, schema: &Schema) -> PolarsResult<Writer> {
        let arrow_schema = schema.to_arrow(FILE_COMPAT_LEVEL);
        let encodings = arrow_schema
            .iter_values()
            .map(|f| get_dtype_encoding(&f.dtype))
            .collect();
        let file = FileWriter::try_new(file, arrow_schema, WRITE_OPTIONS)?;
        let fields = file.parquet_schema().fields().to_vec();
        Ok(Writer {
            file,
            schema: schema.clone(),
            fields,
            encodings,
        })
    }

    /// Writes each chunk of `df` as a row group, encoding its columns in parallel.
    fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        polars_ensure!(
            df.schema().as_ref() == &self.schema,
            SchemaMismatch: "a batch's columns differ from the first batch's"
        );
        let mut df = df.clone();
        df.align_chunks_par();
        for batch in df.iter_chunks(FILE_COMPAT_LEVEL, false) {
            let n_rows = batch.len();
            if n_rows == 0 {
                continue;
            }
            let columns = batch
                .columns()
                .par_iter()
                .zip(&self.fields)
                .zip(&self.encodings)
                .map(|((array, field), encoding)| array_to_columns(array, field.clone(), WRITE_OPTIONS, encoding))
                .collect::<PolarsResult<Vec<_>>>()?;
            let pages = columns.into_iter().flatten().map(|pages| {
                let pages = pages.map(|page| page.map_err(|e| ParquetError::OutOfSpec(e.to_string())));
                let compressed = Compressor::new(pages, WRITE_OPTIONS.compression, vec![]).map_err(PolarsError::from);
                Ok(DynStreamingIterator::new(compressed))
            });
            self.file.write(n_rows as u64, DynIter::new(pages))?;
        }
        Ok(())
    }
}

/// `df` with every unsigned integer column as a signed 64-bit one; a value that does not fit is an error.
fn file_types(df: &DataFrame) -> PolarsResult<DataFrame> {
    if !df.columns().iter().any(|c| c.dtype().is_unsigned_integer()) {
        return Ok(df.clone());
    }
    let columns = df
        .columns()
        .iter()
        .map(|column| {
            if column.dtype().is_unsigned_integer() {
                column.strict_cast(&DataType::Int64)
            } else {
                Ok(column.clone())
            }
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(df.height(), columns)
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
