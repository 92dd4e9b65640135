//! Reading the monthly BTC price history used by the bootstrap price process.

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

/// Parses a CSV with columns `month` (YYYY-MM) and `price_usd_close`; blank prices are skipped.
pub fn parse_month_prices(text: &str) -> Result<Vec<(YearMonth, f64)>, String> {
    parse_month_column(text, "price_usd_close")
}

/// One month-indexed column of a CSV with a `month` column; blank values are skipped.
pub fn parse_month_column(text: &str, column: &str) -> Result<Vec<(YearMonth, f64)>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("the file is empty")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(format!("no `{name}` column"))
    };
    let (month_col, value_col) = (col("month")?, col(column)?);
    let mut out = vec![];
    for (line_idx, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(m), Some(v)) = (fields.get(month_col), fields.get(value_col)) else {
            continue;
        };
        if v.trim().is_empty() {
            continue;
        }
        let month = YearMonth::parse(m.trim()).ok_or(format!("line {}: bad month `{m}`", line_idx + 2))?;
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("line {}: bad {column} `{v}`", line_idx + 2))?;
        if !(value >= 0.0 && value.is_finite()) {
            return Err(format!("line {}: {column} must be a non-negative number", line_idx + 2));
        }
        out.push((month, value));
    }
    Ok(out)
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
    let text = read_history(path)?;
    let fees = parse_month_column(&text, "fees_btc")?;
    let blocks = parse_month_column(&text, "blocks")?;
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
