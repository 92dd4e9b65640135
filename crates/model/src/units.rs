//! Time and unit types shared by the model: the month index, calendar months, and unit conversions.
#![warn(missing_docs)]

use std::fmt;

/// Months since the scenario's start month; month 0 is the start month itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Month(pub u32);

impl Month {
    /// The month as an index into per-month vectors (month 0 is index 0).
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// A calendar month such as 2025-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    /// Calendar year, 1 to 9999.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl YearMonth {
    /// The calendar month `year`-`month`, or `None` unless the month is 1 to 12 and the year 1 to 9999.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Some(YearMonth { year, month })
        } else {
            None
        }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Option<YearMonth> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        if !year.bytes().all(|b| b.is_ascii_digit()) || !month.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        YearMonth::new(year.parse().ok()?, month.parse().ok()?)
    }

    /// Months since year 0, month 1; a total order usable for differences.
    pub fn ordinal(self) -> i64 {
        self.year as i64 * 12 + (self.month as i64 - 1)
    }

    /// The calendar month at `ordinal` months since year 0, month 1: the inverse of [`YearMonth::ordinal`].
    pub fn from_ordinal(ordinal: i64) -> YearMonth {
        YearMonth {
            year: ordinal.div_euclid(12) as i32,
            month: ordinal.rem_euclid(12) as u32 + 1,
        }
    }

    /// The calendar month `n_months` later (earlier when negative).
    pub fn plus_months(self, n_months: i64) -> YearMonth {
        YearMonth::from_ordinal(self.ordinal() + n_months)
    }

    /// Signed number of months from `other` to `self`.
    pub fn months_since(self, other: YearMonth) -> i64 {
        self.ordinal() - other.ordinal()
    }

    /// Whether the month's year is a Gregorian leap year.
    pub fn is_leap_year(self) -> bool {
        (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0
    }

    /// Number of days in the month (28 to 31).
    pub fn n_days(self) -> u32 {
        match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if self.is_leap_year() => 29,
            _ => 28,
        }
    }

    /// Days from 1970-01-01 to the first day of this month (the Arrow `Date` encoding).
    pub fn days_since_unix_epoch(self) -> i32 {
        // Howard Hinnant's days_from_civil algorithm, written out because the model crate depends on the random
        // number crates only (no chrono, so nothing here can read a clock); the binary crate uses chrono, which
        // polars already builds.
        let y = if self.month <= 2 { self.year - 1 } else { self.year } as i64;
        let m = self.month as i64;
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468) as i32
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Seconds in a day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// Hours in a day, to turn a power draw in W into energy per day.
pub const HOURS_PER_DAY: f64 = 24.0;
/// Mean days per month, used where a rate per month is converted from a rate per day
/// for planning (payback), not for the event-exact block clock.
pub const MEAN_DAYS_PER_MONTH: f64 = 365.25 / 12.0;
/// TH/s per EH/s: the scenario gives the network hashrate in EH/s, the model counts TH/s.
pub const THS_PER_EHS: f64 = 1.0e6;
/// TH/s per PH/s.
pub const THS_PER_PHS: f64 = 1.0e3;
/// Watts per kilowatt (W × h / W_PER_KW is kWh) and per megawatt.
pub const W_PER_KW: f64 = 1.0e3;
/// Watts per megawatt, for regions' hosting capacity in MW.
pub const W_PER_MW: f64 = 1.0e6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_year_months() {
        let ym = YearMonth::parse("2025-01").unwrap();
        assert_eq!(ym, YearMonth { year: 2025, month: 1 });
        assert_eq!(ym.to_string(), "2025-01");
        assert!(YearMonth::parse("2025-13").is_none());
        assert!(YearMonth::parse("2025-1").is_none());
        assert!(YearMonth::parse("25-01").is_none());
        assert!(YearMonth::parse("2025/01").is_none());
        assert_eq!(ym.plus_months(13).to_string(), "2026-02");
        assert_eq!(ym.plus_months(-1).to_string(), "2024-12");
    }

    #[test]
    fn counts_days_and_epoch_offsets() {
        assert_eq!(YearMonth::parse("2024-02").unwrap().n_days(), 29);
        assert_eq!(YearMonth::parse("2100-02").unwrap().n_days(), 28);
        assert_eq!(YearMonth::parse("1970-01").unwrap().days_since_unix_epoch(), 0);
        assert_eq!(YearMonth::parse("2025-01").unwrap().days_since_unix_epoch(), 20_089);
    }
}
