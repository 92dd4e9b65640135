//! The history a backtest starts from and is judged against, and the hardware it releases.
//!
//! `History` is the monthly network record (`data/btc_monthly.csv`): month-end price, mean hashrate,
//! month-end difficulty and height, miners' revenue. `AsicModel` rows come from `data/asic_models.csv`.
//! Two documented rules turn the model list into a scenario's hardware:
//! - `frontier`: the models that moved the efficiency frontier, each released at its real month;
//! - `vintage_fleet`: the starting fleet's mix, from when the hashrate of the months before the start was added.

use std::path::Path;

use crate::scenario::history::{CsvTable, read_history};
use hashcycle_model::units::YearMonth;

/// One month of the real network.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthRecord {
    pub month: YearMonth,
    /// Month-end close; absent before 2010.
    pub price_usd_close: Option<f64>,
    /// Mean hashrate over the month.
    pub hashrate_ehs: f64,
    /// Difficulty in force at the end of the month.
    pub difficulty: f64,
    /// Block height at the end of the month.
    pub height_end: u64,
    /// Subsidy and fees paid to miners over the month, in USD; absent before prices are.
    pub miner_revenue_usd: Option<f64>,
}

/// The monthly network record, oldest first, one entry per month without gaps.
#[derive(Clone, Debug)]
pub struct History {
    pub records: Vec<MonthRecord>,
}

impl History {
    pub fn load(path: &Path) -> Result<History, String> {
        let text = read_history(path).map_err(|e| format!("cannot read {e}"))?;
        History::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the CSV: `month`, `hashrate_ehs`, `difficulty` and `height_end` are required for every month;
    /// `price_usd_close` and `miner_revenue_usd` may be blank.
    pub fn parse(text: &str) -> Result<History, String> {
        let table = CsvTable::parse(text)?;
        let hashrate = table.month_column("hashrate_ehs")?;
        let difficulty = table.month_column("difficulty")?;
        let height = table.month_column("height_end")?;
        let price = optional_column(&table, "price_usd_close")?;
        let revenue = optional_column(&table, "miner_revenue_usd")?;
        let lookup =
            |series: &[(YearMonth, f64)], month: YearMonth| series.iter().find(|(m, _)| *m == month).map(|(_, v)| *v);
        let mut records = Vec::with_capacity(hashrate.len());
        for &(month, hashrate_ehs) in &hashrate {
            let (Some(difficulty), Some(height_end)) = (lookup(&difficulty, month), lookup(&height, month)) else {
                return Err(format!("{month} has a hashrate but no difficulty or height_end"));
            };
            if let Some(previous) = records.last().map(|r: &MonthRecord| r.month)
                && month != previous.plus_months(1)
            {
                return Err(format!(
                    "months must follow each other without gaps, but {month} follows {previous}"
                ));
            }
            records.push(MonthRecord {
                month,
                price_usd_close: lookup(&price, month).filter(|p| *p > 0.0),
                hashrate_ehs,
                difficulty,
                height_end: height_end.round() as u64,
                miner_revenue_usd: lookup(&revenue, month).filter(|r| *r > 0.0),
            });
        }
        if records.is_empty() {
            return Err("no months with a hashrate".to_string());
        }
        Ok(History { records })
    }

    pub fn at(&self, month: YearMonth) -> Option<&MonthRecord> {
        let first = self.records.first()?.month;
        let idx = usize::try_from(month.months_since(first)).ok()?;
        self.records.get(idx)
    }

    pub fn first_month(&self) -> YearMonth {
        self.records[0].month
    }

    pub fn last_month(&self) -> YearMonth {
        self.records[self.records.len() - 1].month
    }

    /// The records from `from` to `to` inclusive, or why they are not all there.
    pub fn window(&self, from: YearMonth, to: YearMonth) -> Result<&[MonthRecord], String> {
        if to < from {
            return Err(format!("the window ends ({to}) before it starts ({from})"));
        }
        let first = self.first_month();
        let last = self.last_month();
        if from < first || to > last {
            return Err(format!("the history covers {first} to {last}, not {from} to {to}"));
        }
        let start = from.months_since(first) as usize;
        let end = to.months_since(first) as usize;
        Ok(&self.records[start..=end])
    }
}

/// A column that may be missing altogether (then every month is blank).
fn optional_column(table: &CsvTable, column: &str) -> Result<Vec<(YearMonth, f64)>, String> {
    if table.has_column(column) {
        table.month_column(column)
    } else {
        Ok(vec![])
    }
}

/// One row of the ASIC model list.
#[derive(Clone, Debug, PartialEq)]
pub struct AsicModel {
    pub manufacturer: String,
    pub model: String,
    pub release: Option<YearMonth>,
    pub hashrate_ths: Option<f64>,
    pub power_w: Option<f64>,
    pub efficiency_jth: Option<f64>,
}

impl AsicModel {
    pub fn load_all(path: &Path) -> Result<Vec<AsicModel>, String> {
        let text = read_history(path).map_err(|e| format!("cannot read {e}"))?;
        AsicModel::parse_all(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the CSV: `manufacturer`, `model`, `release` (YYYY-MM or blank), `hashrate_ths`, `power_w` and
    /// `efficiency_jth` (each number may be blank).
    pub fn parse_all(text: &str) -> Result<Vec<AsicModel>, String> {
        let table = CsvTable::parse(text)?;
        let cols = [
            table.column("manufacturer")?,
            table.column("model")?,
            table.column("release")?,
            table.column("hashrate_ths")?,
            table.column("power_w")?,
            table.column("efficiency_jth")?,
        ];
        let mut out = vec![];
        for (line, fields) in table.records() {
            // A line of blanks only; the CSV reader skips empty lines itself.
            if fields.len() == 1 && fields[0].trim().is_empty() {
                continue;
            }
            let field = |i: usize| fields.get(cols[i]).map_or("", |f| f.trim());
            let number = |i: usize| -> Result<Option<f64>, String> {
                let text = field(i);
                if text.is_empty() {
                    return Ok(None);
                }
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                    _ => Err(format!("line {line}: `{text}` is not a positive number")),
                }
            };
            let release = match field(2) {
                "" => None,
                text => Some(YearMonth::parse(text).ok_or(format!("line {line}: bad release month `{text}`"))?),
            };
            out.push(AsicModel {
                manufacturer: field(0).to_string(),
                model: field(1).to_string(),
                release,
                hashrate_ths: number(3)?,
                power_w: number(4)?,
                efficiency_jth: number(5)?,
            });
        }
        Ok(out)
    }

    /// J/TH from the row, or from its power and hashrate.
    pub fn efficiency(&self) -> Option<f64> {
        self.efficiency_jth.or(match (self.power_w, self.hashrate_ths) {
            (Some(w), Some(ths)) => Some(w / ths),
            _ => None,
        })
    }
}

/// A machine generation chosen for a backtest.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontierGeneration {
    pub name: String,
    pub release: YearMonth,
    pub hashrate_ths: f64,
    pub power_w: f64,
    /// Whether TH/s and W are the row's own (false: only its efficiency was listed, and a nominal unit of
    /// `nominal_unit_hashrate_ths` carries it).
    pub nameplate: bool,
}

impl FrontierGeneration {
    pub fn efficiency_jth(&self) -> f64 {
        self.power_w / self.hashrate_ths
    }
}

/// The models that moved the efficiency frontier, oldest first.
///
/// Models with a release month and an efficiency are taken in order of release (the most efficient first
/// within a month). A model joins when its J/TH is at least `min_improvement_share` below that of the last
/// model that joined; models released after `last_release` are left out. A row listing only its efficiency
/// becomes a nominal machine of `nominal_unit_hashrate_ths` at that efficiency: the model needs a unit size,
/// and only money per TH/s and J/TH matter to the economics.
pub fn frontier(
    models: &[AsicModel],
    min_improvement_share: f64,
    nominal_unit_hashrate_ths: f64,
    last_release: YearMonth,
) -> Vec<FrontierGeneration> {
    let mut candidates: Vec<(YearMonth, f64, &AsicModel)> = models
        .iter()
        .filter_map(|m| Some((m.release?, m.efficiency()?, m)))
        .filter(|(release, _, _)| *release <= last_release)
        .collect();
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<FrontierGeneration> = vec![];
    for (release, efficiency, model) in candidates {
        let improves = out
            .last()
            .is_none_or(|last| efficiency <= last.efficiency_jth() * (1.0 - min_improvement_share));
        if !improves {
            continue;
        }
        let (hashrate_ths, power_w, nameplate) = match (model.hashrate_ths, model.power_w) {
            (Some(ths), Some(w)) => (ths, w, true),
            _ => (nominal_unit_hashrate_ths, nominal_unit_hashrate_ths * efficiency, false),
        };
        out.push(FrontierGeneration {
            name: model.model.clone(),
            release,
            hashrate_ths,
            power_w,
            nameplate,
        });
    }
    out
}

/// The newest of `generations` (sorted by release) released by `month`, or the oldest if none is.
fn newest_by(generations: &[FrontierGeneration], month: YearMonth) -> usize {
    generations.iter().rposition(|g| g.release <= month).unwrap_or(0)
}

/// The starting fleet's share of hashrate by generation (indices into `generations`, shares summing to 1).
///
/// The rule: each month of the `vintage_months` before `start` contributes its increase in hashrate (months
/// when hashrate fell add nothing) to the frontier generation newest at that month; the hashrate already
/// there before the window belongs to the generation newest when the window opened. Machines are thus
/// assumed to be bought new at the frontier and kept, which makes the fleet somewhat more efficient than it
/// was: real buyers also bought older models, and older machines are switched off by the model itself when
/// they do not pay their power.
pub fn vintage_fleet(
    history: &History,
    generations: &[FrontierGeneration],
    start: YearMonth,
    vintage_months: u32,
) -> Result<Vec<(usize, f64)>, String> {
    if generations.is_empty() {
        return Err("no hardware generation was selected".to_string());
    }
    let opening = start.plus_months(-(vintage_months as i64) - 1);
    let hashrate_at = |month: YearMonth| {
        history.at(month).map(|r| r.hashrate_ehs).ok_or(format!(
            "the history has no hashrate for {month}, which the starting fleet's vintage rule needs"
        ))
    };
    let mut shares = vec![0.0; generations.len()];
    shares[newest_by(generations, opening)] += hashrate_at(opening)?;
    for k in (1..=vintage_months as i64).rev() {
        let month = start.plus_months(-k);
        let added = hashrate_at(month)? - hashrate_at(month.plus_months(-1))?;
        if added > 0.0 {
            shares[newest_by(generations, month)] += added;
        }
    }
    let total: f64 = shares.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!("the history gives no hashrate before {start}"));
    }
    Ok(shares
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .map(|(g, s)| (g, s / total))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(text: &str) -> YearMonth {
        YearMonth::parse(text).unwrap()
    }

    fn model(name: &str, release: &str, ths: Option<f64>, w: Option<f64>, jth: f64) -> AsicModel {
        AsicModel {
            manufacturer: "m".into(),
            model: name.into(),
            release: YearMonth::parse(release),
            hashrate_ths: ths,
            power_w: w,
            efficiency_jth: Some(jth),
        }
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        let text = "manufacturer,model,release,hashrate_ths,power_w,efficiency_jth,note\n\
                    \"Bitmain, Inc.\",\"Antminer S9 \"\"13.5\"\"\",2016-06,13.5,1323,,\"a note, with commas\"\n\
                    \n\
                    Canaan,A1,\"2017-01\",,,\"98.0\",\n";
        let models = AsicModel::parse_all(text).unwrap();
        assert_eq!(models.len(), 2);
        assert_eq!(models[0].manufacturer, "Bitmain, Inc.");
        assert_eq!(models[0].model, "Antminer S9 \"13.5\"");
        assert_eq!(
            (models[0].release, models[0].hashrate_ths, models[0].power_w),
            (YearMonth::parse("2016-06"), Some(13.5), Some(1323.0))
        );
        assert_eq!(
            (models[1].release, models[1].efficiency_jth),
            (YearMonth::parse("2017-01"), Some(98.0))
        );
    }

    #[test]
    fn a_bad_number_is_refused_with_its_line() {
        let text = "manufacturer,model,release,hashrate_ths,power_w,efficiency_jth\n\
                    a,\"multi\nline\",2016-06,1,1,\n\
                    b,x,2016-06,-3,1,\n";
        assert_eq!(
            AsicModel::parse_all(text).unwrap_err(),
            "line 4: `-3` is not a positive number"
        );
        let history = "month,hashrate_ehs,difficulty,height_end\n2015-01,1,1,1\n\n2015-02,1,x,2\n";
        assert_eq!(History::parse(history).unwrap_err(), "line 4: bad difficulty `x`");
    }

    #[test]
    fn the_frontier_keeps_only_models_that_improve_enough() {
        let models = vec![
            model("old", "2015-09", None, None, 273.0),
            model("slightly better", "2016-06", None, None, 258.0),
            model("much better", "2016-06", Some(11.5), Some(1127.0), 98.0),
            model("undated", "", Some(10.0), Some(500.0), 50.0),
            model("future", "2030-01", Some(100.0), Some(1000.0), 10.0),
        ];
        let f = frontier(&models, 0.10, 10.0, ym("2026-01"));
        let names: Vec<&str> = f.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["old", "much better"]);
        assert!(!f[0].nameplate);
        assert!((f[0].efficiency_jth() - 273.0).abs() < 1e-9);
        assert_eq!((f[1].hashrate_ths, f[1].power_w), (11.5, 1127.0));
    }

    #[test]
    fn vintage_shares_follow_hashrate_added_under_each_generation() {
        let text = "month,hashrate_ehs,difficulty,height_end\n\
                    2015-01,1,1,1\n2015-02,2,1,2\n2015-03,1.5,1,3\n2015-04,4,1,4\n2015-05,5,1,5\n";
        let history = History::parse(text).unwrap();
        let gens = vec![
            FrontierGeneration {
                name: "a".into(),
                release: ym("2014-01"),
                hashrate_ths: 1.0,
                power_w: 100.0,
                nameplate: true,
            },
            FrontierGeneration {
                name: "b".into(),
                release: ym("2015-04"),
                hashrate_ths: 1.0,
                power_w: 50.0,
                nameplate: true,
            },
        ];
        // Window 2015-02..2015-04 before a 2015-05 start: 1 EH/s there before, +1 (a), -0.5 (nothing), +2.5 (b).
        let shares = vintage_fleet(&history, &gens, ym("2015-05"), 3).unwrap();
        assert_eq!(shares.len(), 2);
        assert!((shares[0].1 - 2.0 / 4.5).abs() < 1e-12);
        assert!((shares[1].1 - 2.5 / 4.5).abs() < 1e-12);
    }

    #[test]
    fn gaps_in_the_history_are_refused() {
        let text = "month,hashrate_ehs,difficulty,height_end\n2015-01,1,1,1\n2015-03,2,1,2\n";
        assert!(History::parse(text).unwrap_err().contains("without gaps"));
    }
}
