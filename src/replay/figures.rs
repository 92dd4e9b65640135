//! The public figures a replay is judged on: manufacturers' filings (`industry_public_figures.csv`) and
//! dealers' listing prices (`asic_market_prices_2021-2022.csv`), read into the units the model reports.

use std::path::Path;

use crate::scenario::history::{CsvTable, read_history};
use hashcycle_model::units::YearMonth;

/// Which months a filed figure covers: a flow sums over them, a balance is read at the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub first: YearMonth,
    pub last: YearMonth,
}

impl Period {
    /// `2021` (a year), `2021Q4`, `2018H1`, `2019-12` (a month) or `2021-12-31` (a balance-sheet date: the
    /// month it falls in).
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        let year = |s: &str| s.parse::<i32>().ok().filter(|y| (1900..=9999).contains(y));
        let span = |y: i32, first_month: u32, n_months: i64| {
            let first = YearMonth::new(y, first_month)?;
            Some(Period {
                first,
                last: first.plus_months(n_months - 1),
            })
        };
        if text.len() == 4 {
            return span(year(text)?, 1, 12);
        }
        if let Some((y, q)) = text.split_once('Q') {
            let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
            return span(year(y)?, 3 * q - 2, 3);
        }
        if let Some((y, h)) = text.split_once('H') {
            let h: u32 = h.parse().ok().filter(|h| (1..=2).contains(h))?;
            return span(year(y)?, 6 * h - 5, 6);
        }
        let month = YearMonth::parse(text.get(..7)?)?;
        match text.len() {
            7 => Some(Period {
                first: month,
                last: month,
            }),
            10 if text.as_bytes()[7] == b'-' && text[8..].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)) => {
                Some(Period {
                    first: month,
                    last: month,
                })
            }
            _ => None,
        }
    }

    pub fn contains(&self, month: YearMonth) -> bool {
        month >= self.first && month <= self.last
    }
}

/// What a filed figure measures, in the model's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Hashrate of the machines sold in the period, in EH/s (a flow).
    HashrateSoldEhs,
    /// Sales revenue over the period, in USD (a flow).
    RevenueUsd,
    /// Gross profit over revenue over the period (a ratio of flows).
    GrossMarginShare,
    /// Customer advances (contract liabilities) at the period's end, in USD (a balance).
    CustomerAdvancesUsd,
    /// Finished stock at book value at the period's end, in USD (a balance).
    InventoryUsd,
    /// The manufacturer's share of the hashrate all manufacturers sold in the period.
    MarketShareHashrateSold,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::HashrateSoldEhs => "hashrate_sold_ehs",
            Metric::RevenueUsd => "revenue_usd",
            Metric::GrossMarginShare => "gross_margin_share",
            Metric::CustomerAdvancesUsd => "customer_advances_usd",
            Metric::InventoryUsd => "inventory_usd",
            Metric::MarketShareHashrateSold => "market_share_hashrate_sold",
        }
    }
}

/// One filed figure, converted to the model's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub period_text: String,
    pub period: Period,
    pub company: String,
    pub metric: Metric,
    /// The figure in the metric's unit (USD, EH/s or a share).
    pub value: f64,
    pub source: String,
}

/// Average CNY per USD by year (annual averages of the People's Bank of China central parity), for filings in
/// RMB. Years outside the table are not converted, and their RMB figures are left out.
const CNY_PER_USD_BY_YEAR: [(i32, f64); 5] = [(2018, 6.62), (2019, 6.91), (2020, 6.90), (2021, 6.45), (2022, 6.73)];

fn usd_from(value: f64, unit: &str, year: i32) -> Option<f64> {
    match unit {
        "usd_millions" => Some(value * 1e6),
        "cny_millions" => CNY_PER_USD_BY_YEAR
            .iter()
            .find(|(y, _)| *y == year)
            .map(|(_, rate)| value * 1e6 / rate),
        _ => None,
    }
}

/// Reads the filed figures the model can be compared with: hashrate sold, revenue, gross margin (from revenue
/// and gross profit of the same period), customer advances, inventory and shares of hashrate sold. Rows
/// with another metric, a text note or no value are skipped.
pub fn load_figures(path: &Path) -> Result<Vec<Figure>, String> {
    let text = read_history(path)?;
    parse_figures(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_figures(text: &str) -> Result<Vec<Figure>, String> {
    let table = CsvTable::parse(text)?;
    let [period_col, company_col, metric_col, value_col, unit_col, source_col] =
        ["period", "company", "metric", "value", "unit", "source"].map(|c| table.column(c));
    let (period_col, company_col, metric_col, value_col, unit_col) =
        (period_col?, company_col?, metric_col?, value_col?, unit_col?);
    let source_col = source_col.ok();
    struct Raw {
        period_text: String,
        period: Period,
        company: String,
        metric: String,
        value: f64,
        unit: String,
        source: String,
    }
    let mut raws = vec![];
    for (line, record) in table.records() {
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        if field(value_col).is_empty() || field(unit_col) == "text" {
            continue;
        }
        let period = Period::parse(field(period_col))
            .ok_or_else(|| format!("line {line}: `{}` is not a period", field(period_col)))?;
        let value: f64 = field(value_col)
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("line {line}: `{}` is not a number", field(value_col)))?;
        raws.push(Raw {
            period_text: field(period_col).to_string(),
            period,
            company: field(company_col).to_string(),
            metric: field(metric_col).to_string(),
            value,
            unit: field(unit_col).to_string(),
            source: source_col.map(|c| field(c).to_string()).unwrap_or_default(),
        });
    }
    let mut figures = vec![];
    for raw in &raws {
        let year = raw.period.last.year;
        let figure = |metric: Metric, value: f64| Figure {
            period_text: raw.period_text.clone(),
            period: raw.period,
            company: raw.company.clone(),
            metric,
            value,
            source: raw.source.clone(),
        };
        match (raw.metric.as_str(), raw.unit.as_str()) {
            ("hashrate_sold", "ehs") => figures.push(figure(Metric::HashrateSoldEhs, raw.value)),
            ("market_share_hashrate_sold", "share") => figures.push(figure(Metric::MarketShareHashrateSold, raw.value)),
            ("revenue", unit) => {
                if let Some(usd) = usd_from(raw.value, unit, year) {
                    figures.push(figure(Metric::RevenueUsd, usd));
                }
                let gross = raws.iter().find(|r| {
                    r.metric == "gross_profit"
                        && r.company == raw.company
                        && r.period == raw.period
                        && r.unit == raw.unit
                });
                if let Some(gross) = gross.filter(|_| raw.value != 0.0) {
                    figures.push(figure(Metric::GrossMarginShare, gross.value / raw.value));
                }
            }
            ("customer_advances", unit) => {
                if let Some(usd) = usd_from(raw.value, unit, year) {
                    figures.push(figure(Metric::CustomerAdvancesUsd, usd));
                }
            }
            ("inventory", unit) => {
                if let Some(usd) = usd_from(raw.value, unit, year) {
                    figures.push(figure(Metric::InventoryUsd, usd));
                }
            }
            _ => {}
        }
    }
    Ok(figures)
}

/// Dealers' listing prices by month: the median $/TH of the listings dated in each month, with their count.
pub fn load_listings(path: &Path) -> Result<Vec<(YearMonth, f64, usize)>, String> {
    let text = read_history(path)?;
    parse_listings(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_listings(text: &str) -> Result<Vec<(YearMonth, f64, usize)>, String> {
    let table = CsvTable::parse(text)?;
    let date_col = table.column("date")?;
    let price_col = table.column("usd_per_th")?;
    let mut by_month: Vec<(YearMonth, Vec<f64>)> = vec![];
    for (line, record) in table.records() {
        let date = record.get(date_col).unwrap_or("").trim();
        let month = date
            .get(..7)
            .and_then(YearMonth::parse)
            .ok_or_else(|| format!("line {line}: `{date}` is not a date"))?;
        let Some(price) = record
            .get(price_col)
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| p.is_finite() && *p > 0.0)
        else {
            continue;
        };
        match by_month.iter_mut().find(|(m, _)| *m == month) {
            Some((_, prices)) => prices.push(price),
            None => by_month.push((month, vec![price])),
        }
    }
    by_month.sort_by_key(|(m, _)| *m);
    Ok(by_month
        .into_iter()
        .map(|(month, mut prices)| {
            prices.sort_by(f64::total_cmp);
            (month, crate::stats::quantile_sorted(&prices, 0.5), prices.len())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).unwrap()
    }

    #[test]
    fn periods_cover_their_months() {
        assert_eq!(
            Period::parse("2021"),
            Some(Period {
                first: ym(2021, 1),
                last: ym(2021, 12)
            })
        );
        assert_eq!(
            Period::parse("2021Q4"),
            Some(Period {
                first: ym(2021, 10),
                last: ym(2021, 12)
            })
        );
        assert_eq!(
            Period::parse("2018H2"),
            Some(Period {
                first: ym(2018, 7),
                last: ym(2018, 12)
            })
        );
        assert_eq!(
            Period::parse("2019-12"),
            Some(Period {
                first: ym(2019, 12),
                last: ym(2019, 12)
            })
        );
        assert_eq!(
            Period::parse("2022-09-30"),
            Some(Period {
                first: ym(2022, 9),
                last: ym(2022, 9)
            })
        );
        for bad in ["2021Q5", "20x1", "2022-09-3x", "", "2021H3"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn figures_convert_to_usd_and_margins_pair_revenue_with_gross_profit() {
        let text = "period,company,metric,value,unit,source\n\
            2021Q4,canaan,revenue,2184.6,cny_millions,\"release, 2022\"\n\
            2021Q4,canaan,gross_profit,1486.9,cny_millions,same\n\
            2021Q4,canaan,hashrate_sold,7.7,ehs,same\n\
            2018H1,bitmain,note_advances,,text,\"a note\"\n\
            2030Q1,canaan,revenue,10,cny_millions,no rate that year\n";
        let figures = parse_figures(text).unwrap();
        let get = |m: Metric| {
            figures
                .iter()
                .find(|f| f.metric == m && f.period.first.year == 2021)
                .unwrap()
        };
        assert!((get(Metric::RevenueUsd).value - 2184.6e6 / 6.45).abs() < 1.0);
        assert!((get(Metric::GrossMarginShare).value - 1486.9 / 2184.6).abs() < 1e-12);
        assert_eq!(get(Metric::HashrateSoldEhs).value, 7.7);
        assert_eq!(get(Metric::RevenueUsd).source, "release, 2022");
        // The 2030 revenue has no exchange rate, so only its margin could be read, and it has no gross profit.
        assert_eq!(figures.len(), 3);
    }

    #[test]
    fn listings_are_medians_by_month() {
        let text = "date,vendor,model,hashrate_ths,power_w,efficiency_jth,price_usd,usd_per_th\n\
            2021-02-23,a,x,100,3000,30,9000,90\n2021-02-26,a,x,100,3000,30,8000,80\n\
            2021-02-27,a,x,100,3000,30,7000,70\n2021-03-01,a,x,100,3000,30,5000,50\n";
        assert_eq!(
            parse_listings(text).unwrap(),
            vec![(ym(2021, 2), 80.0, 3), (ym(2021, 3), 50.0, 1)]
        );
    }
}
