//! Reading the monthly BTC price history used by the bootstrap price process.

use std::path::Path;

use crate::model::params::Regime;
use crate::model::units::YearMonth;

/// Monthly log-returns of the month-end close for the months after `from` up to `to`, with each month's
/// regime label: bull when the trailing `window_months` return is positive.
pub fn load_log_returns(
    path: &Path,
    from: YearMonth,
    to: YearMonth,
    window_months: u32,
) -> Result<(Vec<f64>, Vec<Regime>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{} ({e})", path.display()))?;
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
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("the file is empty")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(format!("no `{name}` column"))
    };
    let (month_col, price_col) = (col("month")?, col("price_usd_close")?);
    let mut out = vec![];
    for (line_idx, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(m), Some(p)) = (fields.get(month_col), fields.get(price_col)) else {
            continue;
        };
        if p.trim().is_empty() {
            continue;
        }
        let month = YearMonth::parse(m.trim()).ok_or(format!("line {}: bad month `{m}`", line_idx + 2))?;
        let price: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("line {}: bad price `{p}`", line_idx + 2))?;
        if !(price > 0.0 && price.is_finite()) {
            return Err(format!("line {}: price must be positive", line_idx + 2));
        }
        out.push((month, price));
    }
    Ok(out)
}
