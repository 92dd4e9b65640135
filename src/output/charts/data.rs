//! Reading result files back for charts and reports: Parquet tables with typed columns that name the file in
//! their errors, rows bucketed by calendar month, and JSON provenance.
//!
//! Everything is computed sequentially in row order, so the same files give the same figures.

use std::path::{Path, PathBuf};

use chrono::Datelike as _;
use polars::prelude::{BooleanChunked, DataFrame, DataType};

use crate::output::OutputError;
use crate::output::parquet::{read_columns_where, read_frame};
use crate::stats::{Quantiles, quantiles};
use hashcycle_model::units::YearMonth;

/// A Parquet table read whole, with typed column access that names the file in its errors.
pub struct Table {
    pub path: PathBuf,
    pub df: DataFrame,
}

impl Table {
    /// Reads `dir/file`; a missing file is an `OutputError::Missing` naming it.
    pub fn read(dir: &Path, file: &str) -> Result<Table, OutputError> {
        let path = Table::existing(dir, file)?;
        let df = read_frame(&path)?;
        Ok(Table { path, df })
    }

    /// Reads only `columns` of `dir/file`; a missing file or column is an `OutputError::Missing` naming it.
    pub fn read_columns(dir: &Path, file: &str, columns: &[&str]) -> Result<Table, OutputError> {
        Table::read_where(dir, file, columns, Ok)
    }

    /// Reads `columns` of `dir/file`, keeping only the rows whose string column `key` holds one of `values`;
    /// the table is read in slices, so memory follows the rows kept.
    pub fn read_rows_where(
        dir: &Path,
        file: &str,
        columns: &[&str],
        key: &str,
        values: &[&str],
    ) -> Result<Table, OutputError> {
        Table::read_where(dir, file, columns, |df| {
            let mask: BooleanChunked = df
                .column(key)?
                .str()?
                .iter()
                .map(|v| Some(v.is_some_and(|v| values.contains(&v))))
                .collect();
            df.filter(&mask)
        })
    }

    /// Reads `columns` of `dir/file` in slices, keeping what `keep` returns of each.
    fn read_where(
        dir: &Path,
        file: &str,
        columns: &[&str],
        keep: impl FnMut(DataFrame) -> polars::prelude::PolarsResult<DataFrame>,
    ) -> Result<Table, OutputError> {
        let path = Table::existing(dir, file)?;
        let df = read_columns_where(&path, columns, keep).map_err(|e| match e {
            OutputError::Polars { .. } => OutputError::Missing {
                path: path.clone(),
                message: format!("cannot read columns {} ({e})", columns.join(", ")),
            },
            e => e,
        })?;
        Ok(Table { path, df })
    }

    fn existing(dir: &Path, file: &str) -> Result<PathBuf, OutputError> {
        let path = dir.join(file);
        if !path.is_file() {
            return Err(OutputError::Missing {
                path,
                message: format!("table {file} is missing, so the charts cannot be drawn"),
            });
        }
        Ok(path)
    }

    /// A string column as codes into its distinct values, numbered in order of first appearance
    /// (empty strings and nulls get no code of their own: `u32::MAX`).
    pub fn codes(&self, name: &str) -> Result<(Vec<String>, Vec<u32>), OutputError> {
        let column = self.column(name, &DataType::String)?;
        let strings = column.str().map_err(|e| OutputError::polars(&self.path, e))?;
        let mut distinct: Vec<String> = vec![];
        let codes = strings
            .iter()
            .map(|v| match v {
                Some(v) if !v.is_empty() => match distinct.iter().position(|d| d == v) {
                    Some(idx) => idx as u32,
                    None => {
                        distinct.push(v.to_string());
                        (distinct.len() - 1) as u32
                    }
                },
                _ => u32::MAX,
            })
            .collect();
        Ok((distinct, codes))
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    pub fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df.get_column_names().iter().map(|n| n.to_string()).collect()
    }

    fn column(&self, name: &str, as_type: &DataType) -> Result<polars::prelude::Column, OutputError> {
        let column = self.df.column(name).map_err(|_| OutputError::Missing {
            path: self.path.clone(),
            message: format!("column `{name}` is missing"),
        })?;
        column.cast(as_type).map_err(|e| OutputError::polars(&self.path, e))
    }

    /// A numeric column as f64; nulls become NaN, which every statistic here skips.
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>, OutputError> {
        let column = self.column(name, &DataType::Float64)?;
        let values = column.f64().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    pub fn u32s(&self, name: &str) -> Result<Vec<u32>, OutputError> {
        let column = self.column(name, &DataType::UInt32)?;
        let values = column.u32().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(values.iter().map(|v| v.unwrap_or(0)).collect())
    }

    /// A Date column as days since 1970-01-01.
    pub fn days(&self, name: &str) -> Result<Vec<i32>, OutputError> {
        let column = self.column(name, &DataType::Int32)?;
        let values = column.i32().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(values.iter().map(|v| v.unwrap_or(i32::MIN)).collect())
    }

    pub fn strs(&self, name: &str) -> Result<Vec<String>, OutputError> {
        let column = self.column(name, &DataType::String)?;
        let values = column.str().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(values.iter().map(|v| v.unwrap_or("").to_string()).collect())
    }

    pub fn bools(&self, name: &str) -> Result<Vec<bool>, OutputError> {
        let column = self.column(name, &DataType::Boolean)?;
        let values = column.bool().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(values.iter().map(|v| v.unwrap_or(false)).collect())
    }
}

/// The calendar month of a day count since 1970-01-01 (the Arrow `Date` encoding).
pub fn year_month_of_days(days: i32) -> YearMonth {
    // chrono is already compiled for polars. Its range (about ±262,000 years) is far wider than any table's
    // dates; a day count beyond it takes the nearest end.
    let date = chrono::NaiveDate::from_epoch_days(days).unwrap_or(if days < 0 {
        chrono::NaiveDate::MIN
    } else {
        chrono::NaiveDate::MAX
    });
    YearMonth::from_ordinal(i64::from(date.year()) * 12 + i64::from(date.month0()))
}

/// Rows bucketed by month: the month index (from the first month present) of each row.
pub struct Months {
    pub start: YearMonth,
    pub n_months: usize,
    pub row_month: Vec<usize>,
}

impl Months {
    pub fn of(days: &[i32]) -> Months {
        let first = days.iter().copied().filter(|d| *d != i32::MIN).min().unwrap_or(0);
        let start = year_month_of_days(first);
        let row_month: Vec<usize> = days
            .iter()
            .map(|d| year_month_of_days(*d).months_since(start).max(0) as usize)
            .collect();
        let n_months = row_month.iter().max().map_or(0, |m| m + 1);
        Months {
            start,
            n_months,
            row_month,
        }
    }

    /// Values of the selected rows grouped by month.
    pub fn bucket(&self, values: &[f64], keep: impl Fn(usize) -> bool) -> Vec<Vec<f64>> {
        let mut buckets = vec![vec![]; self.n_months];
        for (row, (&m, &v)) in self.row_month.iter().zip(values).enumerate() {
            if keep(row) {
                buckets[m].push(v);
            }
        }
        buckets
    }

    /// Quantiles per month of the selected rows; months without values repeat the previous month's.
    pub fn fan(&self, values: &[f64], keep: impl Fn(usize) -> bool) -> Vec<Quantiles> {
        let nan = Quantiles {
            p5: f64::NAN,
            p25: f64::NAN,
            p50: f64::NAN,
            p75: f64::NAN,
            p95: f64::NAN,
        };
        let mut out: Vec<Quantiles> = Vec::with_capacity(self.n_months);
        for bucket in self.bucket(values, keep) {
            let q = quantiles(&bucket).unwrap_or_else(|| out.last().copied().unwrap_or(nan));
            out.push(q);
        }
        out
    }

    /// The median per month of the selected rows.
    pub fn medians(&self, values: &[f64], keep: impl Fn(usize) -> bool) -> Vec<f64> {
        self.fan(values, keep).iter().map(|q| q.p50).collect()
    }
}

/// Reads a JSON provenance file; a missing file is an `OutputError::Missing` naming it.
pub fn read_json(dir: &Path, file: &str) -> Result<serde_json::Value, OutputError> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(OutputError::Missing {
            path,
            message: format!("{file} is missing"),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| OutputError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| OutputError::Missing {
        path: path.clone(),
        message: format!("not valid JSON: {e}"),
    })
}

/// Reads a JSON provenance file into its typed form; a missing or unreadable file is an
/// `OutputError::Missing` naming it.
pub fn read_json_as<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Result<T, OutputError> {
    let path = dir.join(file);
    serde_json::from_value(read_json(dir, file)?).map_err(|e| OutputError::Missing {
        path,
        message: format!("not a {file} written by hashcycle: {e}"),
    })
}

/// A path as written in provenance, with `dir/..` and `.` steps collapsed: `scenarios/sweeps/../base.toml`
/// reads `scenarios/base.toml`. Purely textual, so it does not depend on the machine.
pub fn tidy_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = vec![];
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

pub fn json_str(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|s| s.as_str()).unwrap_or("").to_string()
}

pub fn json_u64(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(|s| s.as_u64()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_paths_are_tidied() {
        assert_eq!(tidy_path("scenarios/sweeps/../base.toml"), "scenarios/base.toml");
        assert_eq!(tidy_path("./a/./b.toml"), "a/b.toml");
        assert_eq!(tidy_path("../x/../y.toml"), "../y.toml");
        assert_eq!(tidy_path("/abs/p/../q"), "/abs/q");
    }

    #[test]
    fn days_map_back_to_calendar_months() {
        for text in [
            "1600-02", "1969-12", "1970-01", "2025-01", "2028-02", "2100-12", "9999-12",
        ] {
            let ym = YearMonth::parse(text).unwrap();
            assert_eq!(year_month_of_days(ym.days_since_unix_epoch()), ym);
            assert_eq!(year_month_of_days(ym.days_since_unix_epoch() + 27), ym);
        }
    }
}
