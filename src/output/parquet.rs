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

/// Rows a row group holds at least, but for a file's last: batches are gathered until they reach it.
///
/// The encoder keeps every row group's metadata (column chunks, statistics and page locations: about 1 KB per
/// column) until the footer is written, so a file written one small batch at a time, such as one row per
/// sweep cell or a one-month run's 128 paths, grew by about 95 KB per batch, without bound. Gathering small
/// batches bounds that growth by the rows written instead, at 1-2 bytes a row; what is gathered is at most
/// this many rows and one batch.
pub const ROW_GROUP_MIN_ROWS: usize = 1 << 16;

/// Batches a row group gathers at most: each waiting batch costs its columns' headers (a few KB for a
/// one-row batch), so tiny batches are written every this many, keeping what waits to a few tens of MB.
pub const ROW_GROUP_MAX_BATCHES: usize = 4096;

/// One Parquet file being written batch by batch, in row groups of at least `ROW_GROUP_MIN_ROWS` rows.
/// Row groups depend only on the sequence of batches written, never on timing or threads.
pub struct TableFile {
    path: PathBuf,
    file: Option<File>,
    writer: Option<Writer>,
    /// Batches not yet written, in the file's types: fewer than `ROW_GROUP_MIN_ROWS` rows in all, and fewer
    /// than `ROW_GROUP_MAX_BATCHES` batches.
    pending: Vec<DataFrame>,
    pending_rows: usize,
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
            pending: vec![],
            pending_rows: 0,
        })
    }

    /// Appends a batch. The first batch fixes the schema; rows reach the file once at least
    /// `ROW_GROUP_MIN_ROWS` of them are waiting, as one row group.
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
        if df.height() == 0 {
            return Ok(());
        }
        self.pending_rows += df.height();
        self.pending.push(df);
        if self.pending_rows >= ROW_GROUP_MIN_ROWS || self.pending.len() >= ROW_GROUP_MAX_BATCHES {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes the batches waiting, if any, as one row group.
    fn write_pending(&mut self) -> Result<(), OutputError> {
        let mut batches = std::mem::take(&mut self.pending).into_iter();
        self.pending_rows = 0;
        let Some(mut rows) = batches.next() else {
            return Ok(());
        };
        for batch in batches {
            rows.vstack_mut_owned(batch)
                .map_err(|e| OutputError::polars(&self.path, e))?;
        }
        rows.rechunk_mut_par();
        let Some(writer) = self.writer.as_mut() else {
            return Err(OutputError::io(
                &self.path,
                std::io::Error::other("no schema to write rows with"),
            ));
        };
        writer.write(&rows).map_err(|e| OutputError::polars(&self.path, e))
    }

    /// Writes the rows still waiting and the footer. `empty` gives the schema when no batch was ever written.
    pub fn finish(mut self, empty: impl FnOnce() -> PolarsResult<DataFrame>) -> Result<(), OutputError> {
        if self.writer.is_none() {
            let df = empty().map_err(|e| OutputError::polars(&self.path, e))?;
            self.write(&df)?;
        }
        self.write_pending()?;
        let Some(mut writer) = self.writer.take() else {
            return Err(OutputError::io(
                &self.path,
                std::io::Error::other("no schema to write the footer with"),
            ));
        };
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

/// `df` as the file holds it: every unsigned integer column as a signed 64-bit one (a value that does not fit
/// is an error), and every negative zero as zero.
///
/// Arithmetic in the model leaves `-0.0` where a balance is zero (a zero times a negative share, a zero
/// negated), which readers print as "-0.0" (pandas, Excel); it means nothing, so every table loses it here,
/// and the charts and workbooks drawn from the tables never see it.
fn file_types(df: &DataFrame) -> PolarsResult<DataFrame> {
    let needs_change = |column: &Column| column.dtype().is_unsigned_integer() || has_negative_zero(column);
    if !df.columns().iter().any(needs_change) {
        return Ok(df.clone());
    }
    let columns = df
        .columns()
        .iter()
        .map(|column| {
            if column.dtype().is_unsigned_integer() {
                column.strict_cast(&DataType::Int64)
            } else if has_negative_zero(column) {
                // Adding +0.0 turns -0.0 into +0.0 and leaves every other value, NaN included, as it is.
                Ok(column.f64()?.apply_values(|x| x + 0.0).into_column())
            } else {
                Ok(column.clone())
            }
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(df.height(), columns)
}

/// Whether a float column holds a negative zero: one pass over its values, without allocating.
fn has_negative_zero(column: &Column) -> bool {
    const NEGATIVE_ZERO_BITS: u64 = 1 << 63;
    column.f64().is_ok_and(|values| {
        values
            .downcast_iter()
            .any(|chunk| chunk.values().iter().any(|x| x.to_bits() == NEGATIVE_ZERO_BITS))
    })
}

/// Writes a whole DataFrame to one file.
pub fn write_frame(path: &Path, df: &DataFrame) -> Result<(), OutputError> {
    let mut table = TableFile::create(path)?;
    table.write(df)?;
    let schema_df = df.clear();
    table.finish(|| Ok(schema_df))
}

/// Columns that say which row of a table is which, in the order a non-finite value's row is described by.
const ROW_KEY_COLUMNS: [&str; 9] = [
    "path",
    "month",
    "segment",
    "region",
    "generation",
    "manufacturer",
    "kind",
    "subject",
    "strategy",
];

/// Nothing non-finite may reach a file: a NaN or infinity is a modelling bug, reported with its column, its
/// value and its row's keys.
pub fn check_finite(df: &DataFrame, path: &Path) -> Result<(), OutputError> {
    for column in df.columns() {
        if let Ok(values) = column.f64()
            && let Some((idx, value)) = values
                .iter()
                .enumerate()
                .find_map(|(idx, v)| v.filter(|x| !x.is_finite()).map(|x| (idx, x)))
        {
            return Err(OutputError::NonFinite {
                path: path.to_path_buf(),
                column: column.name().to_string(),
                value,
                row: describe_row(df, idx),
            });
        }
    }
    Ok(())
}

/// Row `idx` of `df` by its keys (`path 0, month 2031-04-01, region russia`), or by its index in the batch
/// when it has none.
fn describe_row(df: &DataFrame, idx: usize) -> String {
    let keys: Vec<String> = ROW_KEY_COLUMNS
        .iter()
        .filter_map(|name| {
            let value = df.column(name).ok()?.get(idx).ok()?;
            Some(match value {
                AnyValue::String(text) => format!("{name} {text}"),
                AnyValue::StringOwned(text) => format!("{name} {text}"),
                other => format!("{name} {other}"),
            })
        })
        .collect();
    if keys.is_empty() {
        format!("row {idx} of a batch")
    } else {
        keys.join(", ")
    }
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
    let mut all: Option<DataFrame> = None;
    for_each_slice(path, columns, |slice| {
        let kept = keep(slice).map_err(|e| OutputError::polars(path, e))?;
        match all.as_mut() {
            None => all = Some(kept),
            Some(all) => {
                all.vstack_mut(&kept).map_err(|e| OutputError::polars(path, e))?;
            }
        }
        Ok(())
    })?;
    let mut all = all.unwrap_or_default();
    all.rechunk_mut();
    Ok(all)
}

/// Reads only `columns` of a Parquet file in slices of at most `READ_SLICE_ROWS` rows, handing each to
/// `visit` in row order: memory follows one slice, not the table. The first slice is read even from an empty
/// table, so `visit` always sees the columns.
pub fn for_each_slice(
    path: &Path,
    columns: &[&str],
    mut visit: impl FnMut(DataFrame) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let open = || -> Result<ParquetReader<File>, OutputError> {
        let file = File::open(path).map_err(|e| OutputError::io(path, e))?;
        Ok(ParquetReader::new(file).with_columns(Some(columns.iter().map(|c| c.to_string()).collect())))
    };
    let n_rows = open()?.num_rows().map_err(|e| OutputError::polars(path, e))?;
    let read_slice = |offset: usize| -> Result<DataFrame, OutputError> {
        open()?
            .with_slice(Some((offset, READ_SLICE_ROWS.min(n_rows - offset))))
            .finish()
            .map_err(|e| OutputError::polars(path, e))
    };
    visit(read_slice(0)?)?;
    for offset in (READ_SLICE_ROWS..n_rows).step_by(READ_SLICE_ROWS) {
        visit(read_slice(offset)?)?;
    }
    Ok(())
}

/// The column names of a Parquet file, read from its footer alone.
pub fn column_names(path: &Path) -> Result<Vec<String>, OutputError> {
    let mut file = File::open(path).map_err(|e| OutputError::io(path, e))?;
    let metadata = polars_parquet::parquet::read::read_metadata(&mut file).map_err(|e| OutputError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(metadata
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect())
}

/// Rows per slice when a table is read in slices.
const READ_SLICE_ROWS: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hashcycle-unit-parquet-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("t.parquet")
    }

    /// The rows of each row group of a file.
    fn row_group_rows(path: &Path) -> Vec<usize> {
        let mut file = File::open(path).unwrap();
        let metadata = polars_parquet::parquet::read::read_metadata(&mut file).unwrap();
        metadata.row_groups.iter().map(|g| g.num_rows()).collect()
    }

    fn batch(first_row: u32, n_rows: u32) -> DataFrame {
        let rows: Vec<u32> = (first_row..first_row + n_rows).collect();
        let values: Vec<f64> = rows.iter().map(|&r| f64::from(r) * 0.5).collect();
        let labels: Vec<String> = rows.iter().map(|r| format!("row {r}")).collect();
        df!("row" => rows, "value_usd" => values, "label" => labels).unwrap()
    }

    /// Writes `n_batches` batches of `batch_rows` rows; returns the file.
    fn write_batches(tag: &str, n_batches: u32, batch_rows: u32) -> PathBuf {
        let path = temp_file(tag);
        let mut table = TableFile::create(&path).unwrap();
        for k in 0..n_batches {
            table.write(&batch(k * batch_rows, batch_rows)).unwrap();
        }
        table.finish(|| Ok(batch(0, 0))).unwrap();
        path
    }

    fn assert_rows_in_order(path: &Path, n_rows: usize) {
        let frame = read_frame(path).unwrap();
        assert_eq!(frame.height(), n_rows);
        let rows: Vec<i64> = frame
            .column("row")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert!(
            rows.iter().enumerate().all(|(i, &r)| r == i as i64),
            "rows out of order"
        );
    }

    #[test]
    fn negative_zeros_are_written_as_zeros_and_other_values_kept() {
        let path = temp_file("negative-zero");
        let values = [Some(-0.0), Some(0.0), Some(-1.5), None, Some(2.0)];
        let frame = df!("balance_usd" => values, "share" => [0.5, -0.0, 0.25, 1.0, -0.0]).unwrap();
        write_frame(&path, &frame).unwrap();
        let back = read_frame(&path).unwrap();
        let bits = |name: &str| -> Vec<Option<u64>> {
            let column = back.column(name).unwrap().f64().unwrap();
            column.iter().map(|v| v.map(f64::to_bits)).collect()
        };
        let expected =
            |values: &[Option<f64>]| -> Vec<Option<u64>> { values.iter().map(|v| v.map(f64::to_bits)).collect() };
        assert_eq!(
            bits("balance_usd"),
            expected(&[Some(0.0), Some(0.0), Some(-1.5), None, Some(2.0)])
        );
        assert_eq!(
            bits("share"),
            expected(&[Some(0.5), Some(0.0), Some(0.25), Some(1.0), Some(0.0)])
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_non_finite_value_is_reported_with_its_table_column_and_row_keys() {
        let months = Column::new("month".into(), vec![0i32, 31, 59])
            .cast(&DataType::Date)
            .unwrap();
        let df = DataFrame::new(
            3,
            vec![
                Column::new("path".into(), vec![4u32, 4, 4]),
                months,
                Column::new("region".into(), vec!["us", "russia", "russia"]),
                Column::new("units".into(), vec![1u64, 2, 3]),
                Column::new("power_price_usd_per_kwh".into(), vec![0.05, f64::INFINITY, f64::NAN]),
            ],
        )
        .unwrap();
        let staged = Path::new("/results/.base.partial-7/regions.parquet");
        let message = check_finite(&df, staged).unwrap_err().to_string();
        assert_eq!(
            message,
            "regions.parquet: column `power_price_usd_per_kwh` is inf at path 4, month 1970-02-01, region russia: \
             a modelling bug, no results were kept"
        );
        let keyless = df!("value_usd" => [1.0, f64::NAN]).unwrap();
        let message = check_finite(&keyless, staged).unwrap_err().to_string();
        assert!(message.contains("is NaN at row 1 of a batch"), "{message}");
        check_finite(&df.slice(0, 1), staged).unwrap();
    }

    #[test]
    fn issue_30_one_row_batches_are_gathered_so_row_groups_do_not_grow_with_batches() {
        // A sweep of 10,000 one-path cells writes one row per cell: 10,000 batches, which were 10,000 row groups
        // whose metadata the encoder kept until the footer.
        let n_batches = 10_000;
        let path = write_batches("one-row", n_batches, 1);
        let groups = row_group_rows(&path);
        assert_eq!(
            groups.len(),
            (n_batches as usize).div_ceil(ROW_GROUP_MAX_BATCHES),
            "{groups:?}"
        );
        assert!(groups[..groups.len() - 1].iter().all(|&n| n == ROW_GROUP_MAX_BATCHES));
        assert_rows_in_order(&path, n_batches as usize);
    }

    #[test]
    fn issue_30_row_groups_hold_at_least_the_minimum_rows_but_the_last() {
        // A one-month run writes 128 paths' rows a chunk: 128-row batches.
        let (n_batches, batch_rows) = (1_100, 128);
        let path = write_batches("chunks", n_batches, batch_rows);
        let groups = row_group_rows(&path);
        let per_group = ROW_GROUP_MIN_ROWS.div_ceil(batch_rows as usize) * batch_rows as usize;
        assert!(groups[..groups.len() - 1].iter().all(|&n| n == per_group), "{groups:?}");
        assert!(*groups.last().unwrap() <= per_group);
        assert_eq!(groups.iter().sum::<usize>(), (n_batches * batch_rows) as usize);
        assert_rows_in_order(&path, (n_batches * batch_rows) as usize);
        // A batch larger than the minimum is a row group of its own, as it comes.
        let path = write_batches("large", 3, ROW_GROUP_MIN_ROWS as u32 + 5);
        assert_eq!(row_group_rows(&path), vec![ROW_GROUP_MIN_ROWS + 5; 3]);
    }

    #[test]
    fn a_table_with_no_rows_has_the_schema_of_its_empty_frame() {
        let path = write_batches("empty", 0, 0);
        let frame = read_frame(&path).unwrap();
        assert_eq!(frame.height(), 0);
        let names: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
        assert_eq!(names, vec!["row", "value_usd", "label"]);
        assert!(row_group_rows(&path).is_empty());
    }
}
