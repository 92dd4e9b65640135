//! What every table shares: the calendar that turns month indexes into dates, and the scenario's names that
//! label rows.

use polars::prelude::*;

use hashcycle_model::params::Params;
use hashcycle_model::units::Month;

/// Turns month indexes into Arrow dates (days since 1970-01-01 of the first day of the month).
pub struct Calendar {
    days: Vec<i32>,
}

impl Calendar {
    pub fn new(params: &Params, extra_months: usize) -> Calendar {
        let n = params.simulation.horizon_months as usize + extra_months + 1;
        let days = (0..n)
            .map(|m| params.simulation.start.plus_months(m as i64).days_since_unix_epoch())
            .collect();
        Calendar { days }
    }

    pub fn day(&self, month: Month) -> i32 {
        self.days
            .get(month.idx())
            .copied()
            .unwrap_or_else(|| *self.days.last().unwrap_or(&0))
    }

    /// The month index whose first day is `day` (days since 1970-01-01), the inverse of `day`; `None` for a
    /// day that is not the first of a month of this calendar.
    pub fn month_of_day(&self, day: i32) -> Option<Month> {
        self.days.iter().position(|&d| d == day).map(|idx| Month(idx as u32))
    }
}

/// A Date column from days since 1970-01-01.
pub fn date_column(name: &str, days: Vec<i32>) -> PolarsResult<Column> {
    Column::new(name.into(), days).cast(&DataType::Date)
}

/// Names of the scenario's agents, to label rows.
pub struct Names<'a> {
    pub scenario: &'a str,
    pub origins: Vec<&'a str>,
    pub regions: Vec<&'a str>,
    pub manufacturers: Vec<&'a str>,
    pub segments: [&'static str; 2],
}

impl<'a> Names<'a> {
    pub fn new(params: &'a Params) -> Names<'a> {
        Names {
            scenario: &params.simulation.name,
            origins: params.origins.iter().map(String::as_str).collect(),
            regions: params.regions.iter().map(|r| r.name.as_str()).collect(),
            manufacturers: params.manufacturers.iter().map(|m| m.name.as_str()).collect(),
            segments: ["key_account", "retail"],
        }
    }
}
