//! Reading result files back for charts and reports: Parquet tables with typed columns that name the file in
//! their errors, rows bucketed by calendar month, and JSON provenance.
//!
//! Everything is computed sequentially in row order, so the same files give the same figures.

use std::path::{Path, PathBuf};

use chrono::Datelike as _;
use polars::prelude::{DataFrame, DataType};

use crate::output::OutputError;
use crate::output::parquet::{column_names, for_each_slice, read_columns_where, read_frame};
use crate::stats::Quantiles;
use crate::stats::grouped::grouped_quantiles;
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

    /// Reads `columns` of `dir/file` in slices, handing each to `visit` as a table in row order: memory
    /// follows one slice, not the file. A missing file or column is an `OutputError::Missing` naming it.
    pub fn for_each_slice(
        dir: &Path,
        file: &str,
        columns: &[&str],
        mut visit: impl FnMut(Table) -> Result<(), OutputError>,
    ) -> Result<(), OutputError> {
        let path = Table::existing(dir, file)?;
        for_each_slice(&path, columns, |df| visit(Table { path: path.clone(), df })).map_err(|e| match e {
            OutputError::Polars { .. } => OutputError::Missing {
                path: path.clone(),
                message: format!("cannot read columns {} ({e})", columns.join(", ")),
            },
            e => e,
        })
    }

    /// Whether `dir/file` holds every one of `columns` (read from the footer only). Tables written by older
    /// versions lack the newer columns, and their charts are left out.
    pub fn has_columns(dir: &Path, file: &str, columns: &[&str]) -> Result<bool, OutputError> {
        let names = column_names(&Table::existing(dir, file)?)?;
        Ok(columns.iter().all(|c| names.iter().any(|n| n == c)))
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

    /// A string column as codes into `codes`, numbering new values as they appear; `None` for empty
    /// strings and nulls.
    pub fn key_codes(&self, name: &str, codes: &mut Codes) -> Result<Vec<Option<usize>>, OutputError> {
        let column = self.column(name, &DataType::String)?;
        let strings = column.str().map_err(|e| OutputError::polars(&self.path, e))?;
        Ok(strings.iter().map(|v| codes.code(v.unwrap_or(""))).collect())
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

    /// Whether a column holds text.
    pub fn is_text(&self, name: &str) -> bool {
        self.df.column(name).is_ok_and(|c| c.dtype() == &DataType::String)
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

/// Distinct non-empty strings of a column, numbered in order of first appearance, built up slice by slice.
#[derive(Default)]
pub struct Codes {
    pub names: Vec<String>,
}

impl Codes {
    /// The code of `name`, numbering it if it is new; `None` for an empty string (or a null).
    pub fn code(&mut self, name: &str) -> Option<usize> {
        if name.is_empty() {
            return None;
        }
        Some(match self.names.iter().position(|n| n == name) {
            Some(code) => code,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        })
    }
}

/// The calendar months a table's rows fall in, from the first month present: read from its `month` column
/// slice by slice. A row without a month counts as the first.
struct MonthSpan {
    start: YearMonth,
    n_months: usize,
}

impl MonthSpan {
    fn month_idx(&self, days: i32) -> usize {
        if days == i32::MIN {
            return 0;
        }
        year_month_of_days(days).months_since(self.start).max(0) as usize
    }
}

/// Quantiles per month across paths of some columns of a table, for each value of a key column (such as
/// the manufacturer), or of all rows. Computed in passes over slices of the table
/// ([`grouped_quantiles`]), so memory does not grow with the number of paths; the figures are exactly
/// those of sorting each month's values. Months without a value repeat the previous month's quantiles.
pub struct MonthlyFans {
    pub start: YearMonth,
    pub n_months: usize,
    /// The key column's values in order of first appearance; one empty key when there is no key column.
    pub keys: Vec<String>,
    /// `fans[column][key][month]`.
    fans: Vec<Vec<Vec<Quantiles>>>,
}

impl MonthlyFans {
    /// Reads `columns` of `dir/file` by month (and by `key`), holding about `budget_bytes` of values at once.
    pub fn read(
        dir: &Path,
        file: &str,
        key: Option<&str>,
        columns: &[&str],
        budget_bytes: usize,
    ) -> Result<MonthlyFans, OutputError> {
        // A first pass over the month and key columns: the calendar span and the keys.
        let mut first_days: Option<i32> = None;
        let mut last_days: Option<i32> = None;
        let mut any_row = false;
        let mut codes = Codes::default();
        let key_columns: Vec<&str> = std::iter::once("month").chain(key).collect();
        Table::for_each_slice(dir, file, &key_columns, |table| {
            for days in table.days("month")? {
                any_row = true;
                if days != i32::MIN {
                    first_days = Some(first_days.map_or(days, |d| d.min(days)));
                    last_days = Some(last_days.map_or(days, |d| d.max(days)));
                }
            }
            if let Some(key) = key {
                table.key_codes(key, &mut codes)?;
            }
            Ok(())
        })?;
        let start = year_month_of_days(first_days.unwrap_or(0));
        let span = MonthSpan {
            start,
            n_months: match (any_row, last_days) {
                (false, _) => 0,
                (true, None) => 1,
                (true, Some(last)) => year_month_of_days(last).months_since(start).max(0) as usize + 1,
            },
        };
        let keys = if key.is_some() {
            codes.names
        } else {
            vec![String::new()]
        };

        let n_months = span.n_months;
        let n_keys = keys.len();
        let mut read: Vec<&str> = key_columns.clone();
        read.extend(columns);
        let quantiles = grouped_quantiles(columns.len() * n_keys * n_months, budget_bytes, |sink| {
            let mut codes = Codes { names: keys.clone() };
            Table::for_each_slice(dir, file, &read, |table| {
                let months: Vec<usize> = table.days("month")?.into_iter().map(|d| span.month_idx(d)).collect();
                let row_keys: Vec<Option<usize>> = match key {
                    Some(key) => table.key_codes(key, &mut codes)?,
                    None => vec![Some(0); table.height()],
                };
                for (c, column) in columns.iter().enumerate() {
                    for ((value, month), row_key) in table.f64s(column)?.into_iter().zip(&months).zip(&row_keys) {
                        if let Some(k) = *row_key
                            && k < n_keys
                            && *month < n_months
                        {
                            sink((c * n_keys + k) * n_months + month, value);
                        }
                    }
                }
                Ok(())
            })
        })?;
        let nan = Quantiles {
            p5: f64::NAN,
            p25: f64::NAN,
            p50: f64::NAN,
            p75: f64::NAN,
            p95: f64::NAN,
        };
        let mut groups = quantiles.into_iter();
        let fans = (0..columns.len())
            .map(|_| {
                (0..n_keys)
                    .map(|_| {
                        let mut fan: Vec<Quantiles> = Vec::with_capacity(n_months);
                        for q in groups.by_ref().take(n_months) {
                            fan.push(q.unwrap_or_else(|| fan.last().copied().unwrap_or(nan)));
                        }
                        fan
                    })
                    .collect()
            })
            .collect();
        Ok(MonthlyFans {
            start,
            n_months,
            keys,
            fans,
        })
    }

    /// The quantiles per month of the `column`-th column read, for the `key`-th key.
    pub fn fan(&self, column: usize, key: usize) -> Vec<Quantiles> {
        self.fans[column][key].clone()
    }

    /// The median per month of the `column`-th column read, for the `key`-th key.
    pub fn medians(&self, column: usize, key: usize) -> Vec<f64> {
        self.fans[column][key].iter().map(|q| q.p50).collect()
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
