//! The project's CSV reader (`CsvTable`), and the monthly BTC price and fee history read with it for the
//! historical and bootstrap price processes and historical fees.

use std::path::Path;

use hashcycle_model::params::Regime;
use hashcycle_model::units::YearMonth;

/// History files larger than this are refused: the shipped history is a few kilobytes, and a scenario
/// that names a huge file (or a device such as /dev/zero) must fail, not exhaust memory.
const MAX_HISTORY_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a history file, refusing anything that is not a regular file of a sensible size.
pub(crate) fn read_history(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("{} ({e})", path.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if metadata.len() > MAX_HISTORY_BYTES {
        return Err(format!(
            "{} has {} bytes, more than the {MAX_HISTORY_BYTES} a history file may have",
            path.display(),
            metadata.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{} ({e})", path.display()))
}

/// Monthly log-returns of the month-end close for the months after `from` up to `to`, with each month's
/// regime label: bull when the trailing `window_months` return is positive.
pub fn load_log_returns(
    path: &Path,
    from: YearMonth,
    to: YearMonth,
    window_months: u32,
) -> Result<(Vec<f64>, Vec<Regime>), String> {
    let text = read_history(path)?;
    let prices = parse_month_prices(&text)?;
    let price_at = |ym: YearMonth| prices.iter().find(|(m, _)| *m == ym).map(|(_, p)| *p);
    let mut log_returns = vec![];
    let mut regimes = vec![];
    let mut month = from.plus_months(1);
    while month <= to {
        let (Some(now), Some(before)) = (price_at(month), price_at(month.plus_months(-1))) else {
            return Err(format!("no month-end price for {month} or the month before"));
        };
        log_returns.push((now / before).ln());
        let trailing = price_at(month.plus_months(-(window_months as i64)))
            .map(|p| (now / p).ln())
            .unwrap_or(0.0);
        regimes.push(if trailing > 0.0 { Regime::Bull } else { Regime::Bear });
        month = month.plus_months(1);
    }
    Ok((log_returns, regimes))
}

/// Parses a CSV with columns `month` (YYYY-MM) and `price_usd_close`; blank prices are skipped. A price
/// must be above zero: returns and regimes are logarithms of price ratios.
pub fn parse_month_prices(text: &str) -> Result<Vec<(YearMonth, f64)>, String> {
    CsvTable::parse(text)?.month_column_where("price_usd_close", "a positive number", |v| v > 0.0)
}

/// A CSV file read whole: its header and its records, each with the line it starts on.
///
/// The one reader of the project's CSV files (price and network history, the ASIC list). Fields may be quoted
/// (`"a, b"`, with `""` for a quote inside); a record may have fewer or more fields than the header (a missing
/// field reads as absent); blank lines are skipped. Fields are kept as written, and callers trim them.
pub struct CsvTable {
    header: csv::StringRecord,
    /// Each record with the 1-based line it starts on, for messages.
    records: Vec<(u64, csv::StringRecord)>,
}

impl CsvTable {
    pub fn parse(text: &str) -> Result<CsvTable, String> {
        if text.is_empty() {
            return Err("the file is empty".to_string());
        }
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| e.to_string())?.clone();
        let bytes = text.as_bytes();
        // The reader's own line numbers are those of where the previous record ended, before the line end and
        // any blank lines it skipped, so the line a record starts on is counted here: from the reader's byte
        // position, past those line ends, counting newlines from the previous record's start.
        let (mut start_byte, mut start_line) = (0usize, 1u64);
        let mut records = vec![];
        for record in reader.into_records() {
            let record = record.map_err(|e| e.to_string())?;
            let after_previous = record
                .position()
                .map_or(start_byte, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
                .clamp(start_byte, bytes.len());
            let n_line_end_bytes = bytes[after_previous..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            let record_start = after_previous + n_line_end_bytes;
            start_line += bytes[start_byte..record_start].iter().filter(|&&b| b == b'\n').count() as u64;
            start_byte = record_start;
            records.push((start_line, record));
        }
        Ok(CsvTable { header, records })
    }

    /// The index of the column named `name`, blanks around header names ignored.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(format!("no `{name}` column"))
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.column(name).is_ok()
    }

    /// The records with the line each starts on.
    pub fn records(&self) -> impl Iterator<Item = (u64, &csv::StringRecord)> {
        self.records.iter().map(|(line, record)| (*line, record))
    }

    /// One month-indexed column, beside the `month` column: records with that field blank or absent are skipped,
    /// and a bad month or a value that is not a non-negative number is refused with its line.
    pub fn month_column(&self, column: &str) -> Result<Vec<(YearMonth, f64)>, String> {
        self.month_column_where(column, "a non-negative number", |v| v >= 0.0)
    }

    /// Like `month_column`, with each value required to pass `valid`, described by `what` in the error.
    pub fn month_column_where(
        &self,
        column: &str,
        what: &str,
        valid: impl Fn(f64) -> bool,
    ) -> Result<Vec<(YearMonth, f64)>, String> {
        let (month_col, value_col) = (self.column("month")?, self.column(column)?);
        let mut out = vec![];
        for (line, record) in self.records() {
            let (Some(m), Some(v)) = (record.get(month_col), record.get(value_col)) else {
                continue;
            };
            if v.trim().is_empty() {
                continue;
            }
            let month = YearMonth::parse(m.trim()).ok_or(format!("line {line}: bad month `{m}`"))?;
            let value: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("line {line}: bad {column} `{v}`"))?;
            if !(value.is_finite() && valid(value)) {
                return Err(format!("line {line}: {column} must be {what}"));
            }
            out.push((month, value));
        }
        Ok(out)
    }
}

/// The month-end close of every month from `start` for `n_months` (log), with regime labels from the
/// trailing `window_months` return, and the close of the month before `start`.
pub fn load_price_path(
    path: &Path,
    start: YearMonth,
    n_months: u32,
    window_months: u32,
) -> Result<(Vec<f64>, Vec<Regime>, f64), String> {
    let text = read_history(path)?;
    let prices = parse_month_prices(&text)?;
    let price_at = |ym: YearMonth| {
        prices
            .iter()
            .find(|(m, _)| *m == ym)
            .map(|(_, p)| *p)
            .filter(|p| *p > 0.0)
    };
    let before = price_at(start.plus_months(-1)).ok_or(format!("no month-end price for {}", start.plus_months(-1)))?;
    let mut log_prices = vec![];
    let mut regimes = vec![];
    for k in 0..n_months as i64 {
        let month = start.plus_months(k);
        let now = price_at(month).ok_or(format!(
            "no month-end price for {month}: the history must cover every simulated month"
        ))?;
        log_prices.push(now.ln());
        let trailing = price_at(month.plus_months(-(window_months as i64)))
            .map(|p| (now / p).ln())
            .unwrap_or(0.0);
        regimes.push(if trailing > 0.0 { Regime::Bull } else { Regime::Bear });
    }
    Ok((log_prices, regimes, before))
}

/// Fees per block (`fees_btc` / `blocks`) of every month from `start` for `n_months`.
pub fn load_fees_per_block(path: &Path, start: YearMonth, n_months: u32) -> Result<Vec<f64>, String> {
    let table = CsvTable::parse(&read_history(path)?)?;
    let fees = table.month_column("fees_btc")?;
    let blocks = table.month_column("blocks")?;
    let at = |series: &[(YearMonth, f64)], ym: YearMonth| series.iter().find(|(m, _)| *m == ym).map(|(_, v)| *v);
    (0..n_months as i64)
        .map(|k| {
            let month = start.plus_months(k);
            match (at(&fees, month), at(&blocks, month)) {
                (Some(f), Some(b)) if b > 0.0 => Ok(f / b),
                _ => Err(format!(
                    "no fees or blocks for {month}: the history must cover every simulated month"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    /// Issue 30, defect 12: a zero price in a price history is refused with its line, before any
    /// simulation divides by it.
    #[test]
    fn issue_30_a_zero_price_in_a_history_is_refused_with_its_line() {
        let text = "month,price_usd_close\n2020-01,100\n2020-02,0\n2020-03,120\n";
        assert_eq!(
            parse_month_prices(text).unwrap_err(),
            "line 3: price_usd_close must be a positive number"
        );
    }

    use super::*;

    #[test]
    fn a_quoted_field_with_a_comma_keeps_the_columns_after_it_in_place() {
        // Splitting on every comma would read `b"` as the price of 2020-02 and fail.
        let text = "month,note,price_usd_close\n2020-01,plain,100\n2020-02,\"a, b\",200.5\n2020-03,\"\",\n";
        let prices = parse_month_prices(text).unwrap();
        let expected = vec![
            (YearMonth::parse("2020-01").unwrap(), 100.0),
            (YearMonth::parse("2020-02").unwrap(), 200.5),
        ];
        assert_eq!(prices, expected);
    }

    #[test]
    fn problems_name_their_line() {
        let text = "month,price_usd_close\r\n2020-01,1\r\n\r\n2020-13,2\r\n";
        assert_eq!(parse_month_prices(text).unwrap_err(), "line 4: bad month `2020-13`");
        // A quoted note spanning two lines: the next record starts on line 4.
        let text = "month,note,price_usd_close\n2020-01,\"two\nlines\",1\n2020-02,,-1\n";
        assert_eq!(
            parse_month_prices(text).unwrap_err(),
            "line 4: price_usd_close must be a positive number"
        );
        assert_eq!(parse_month_prices("").unwrap_err(), "the file is empty");
        assert_eq!(
            parse_month_prices("month,price\n").unwrap_err(),
            "no `price_usd_close` column"
        );
    }
}
