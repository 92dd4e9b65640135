//! Strategy sweeps: many strategies × several scenarios, judged on the focus manufacturer's outcomes.
//!
//! Within a scenario every strategy cell runs the same seed and path indices, so every cell sees the same
//! price, fee and power paths (common random numbers): differences between cells are the strategies',
//! not noise.

pub mod charts;
pub mod data;
pub mod file;
pub mod frontier;
pub mod merge;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod robust;
pub mod run;
pub mod shard;
pub mod tables;
pub mod waterfall;
pub mod workbook;

use crate::sweep::data::common_value;
use crate::sweep::tables::SweepRow;

/// `$1.2B`, `-$450M`, `$12.3K`: money as a board deck writes it.
pub fn format_usd(x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    let (value, suffix) = if a >= 1e12 {
        (a / 1e12, "T")
    } else if a >= 1e9 {
        (a / 1e9, "B")
    } else if a >= 1e6 {
        (a / 1e6, "M")
    } else if a >= 1e3 {
        (a / 1e3, "K")
    } else {
        (a, "")
    };
    let digits = if value >= 100.0 { 0 } else { 1 };
    format!("{sign}${value:.digits$}{suffix}")
}

fn describe(row: &SweepRow) -> String {
    let m = &row.metrics;
    // A proportion reads with its 95% Wilson interval, which is never "0.0% ± 0.0" when no path goes below zero.
    let risk = match (m.p_cash_below_zero, m.p_cash_below_zero_lo95, m.p_cash_below_zero_hi95) {
        (Some(p), Some(lo), Some(hi)) => format!("{:>5.1}% ({:.1}-{:.1})", 100.0 * p, 100.0 * lo, 100.0 * hi),
        _ => "  n/a (every path failed)".to_string(),
    };
    let usd = |q: Option<f64>| q.map_or("n/a".to_string(), format_usd);
    let versus = match &row.paired {
        Some(_) if row.is_reference => String::new(),
        Some(p) if p.tied_on_risk() => format!(
            "  vs reference {:+.1} ±{:.1} pts (tied)",
            100.0 * p.p_cash_below_zero.0,
            100.0 * p.p_cash_below_zero.1
        ),
        Some(p) => format!(
            "  vs reference {:+.1} ±{:.1} pts",
            100.0 * p.p_cash_below_zero.0,
            100.0 * p.p_cash_below_zero.1
        ),
        None => String::new(),
    };
    format!(
        "{:<40} P(cash<0) {risk}  median end cash {:>8}  p5 min cash {:>8}{versus}",
        row.strategy,
        usd(m.end_cash_usd.map(|q| q.p50)),
        usd(m.min_cash_usd.map(|q| q.p5)),
    )
}

/// A cell's P(cash < 0) and median ending cash for ranking; a cell without figures is NaN, which ranks last.
fn risk_and_cash(row: &SweepRow) -> (f64, f64) {
    let m = &row.metrics;
    (
        m.p_cash_below_zero.unwrap_or(f64::NAN),
        m.end_cash_usd.map_or(f64::NAN, |q| q.p50),
    )
}

/// The end-of-sweep table: per scenario, the reference cell and the best and worst cells by
/// P(cash < 0) (ties broken by median ending cash) and by median ending cash, with the reference's rank.
pub fn summary_text(rows: &[SweepRow]) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = vec![];
    for r in rows {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    for scenario in scenarios {
        let cells: Vec<&SweepRow> = rows.iter().filter(|r| r.scenario == scenario).collect();
        let by_risk = |a: &&SweepRow, b: &&SweepRow| {
            let ((a_risk, a_cash), (b_risk, b_cash)) = (risk_and_cash(a), risk_and_cash(b));
            a_risk.total_cmp(&b_risk).then(b_cash.total_cmp(&a_cash))
        };
        let by_cash = |a: &&SweepRow, b: &&SweepRow| risk_and_cash(b).1.total_cmp(&risk_and_cash(a).1);
        let mut risk_order = cells.clone();
        risk_order.sort_by(by_risk);
        let mut cash_order = cells.clone();
        cash_order.sort_by(by_cash);
        let focus = cells.first().map_or("", |r| r.focus_manufacturer.as_str());
        out.push_str(&format!(
            "scenario {scenario} ({} strategies for {focus})\n",
            cells.len()
        ));
        if let Some(reference) = cells.iter().find(|r| r.is_reference) {
            let risk_rank = risk_order
                .iter()
                .position(|r| r.cell_idx == reference.cell_idx)
                .map_or(0, |i| i + 1);
            let cash_rank = cash_order
                .iter()
                .position(|r| r.cell_idx == reference.cell_idx)
                .map_or(0, |i| i + 1);
            // Cells whose P(cash<0) is within two paired standard errors of the reference's cannot be told apart.
            let tied = cells
                .iter()
                .filter(|r| !r.is_reference && r.paired.as_ref().is_some_and(|p| p.tied_on_risk()))
                .count();
            out.push_str(&format!(
                "  reference         {}\n                    ranks {risk_rank} of {} by P(cash<0), tied with {tied} other cells \
                 (within 2 paired standard errors on the same paths); {cash_rank} of {} by median ending cash\n",
                describe(reference),
                cells.len(),
                cells.len()
            ));
        }
        // When every cell shares the figure, naming one the safest and another the riskiest would rank a tie.
        if let Some(risk) = common_value(cells.iter().map(|r| risk_and_cash(r).0)) {
            out.push_str(&format!(
                "  safest, riskiest  all {} strategies tie at P(cash<0) {:.1}%\n",
                cells.len(),
                100.0 * risk
            ));
        } else if let (Some(best), Some(worst)) = (risk_order.first(), risk_order.last()) {
            out.push_str(&format!("  safest            {}\n", describe(best)));
            out.push_str(&format!("  riskiest          {}\n", describe(worst)));
        }
        if let Some(cash) = common_value(cells.iter().map(|r| risk_and_cash(r).1)) {
            out.push_str(&format!(
                "  most, least cash  all {} strategies tie at median end cash {}\n",
                cells.len(),
                format_usd(cash)
            ));
        } else if let (Some(best), Some(worst)) = (cash_order.first(), cash_order.last()) {
            out.push_str(&format!("  most cash         {}\n", describe(best)));
            out.push_str(&format!("  least cash        {}\n", describe(worst)));
        }
    }
    out.push_str(&robust_text(rows));
    out
}

/// The robust choices across scenarios, on risk and on cash, beside the reference.
fn robust_text(rows: &[SweepRow]) -> String {
    let mut out = String::new();
    let several = rows.iter().any(|r| r.scenario != rows[0].scenario);
    if !several {
        return out;
    }
    let risk: Vec<(String, String, f64, bool)> = rows
        .iter()
        .map(|r| {
            let (risk, _) = risk_and_cash(r);
            (r.scenario.clone(), r.strategy.clone(), risk, r.is_reference)
        })
        .collect();
    let cash: Vec<(String, String, f64, bool)> = rows
        .iter()
        .map(|r| {
            let (_, cash) = risk_and_cash(r);
            (r.scenario.clone(), r.strategy.clone(), cash, r.is_reference)
        })
        .collect();
    if let Some((maximin, regret, reference)) = robust::robust_choices(&risk, true) {
        out.push_str("across scenarios, by P(cash<0)\n");
        let line = |role: &str, s: &robust::Standing| {
            format!(
                "  {role:<17} {:<40} worst {:.1}% ({}), at most {:.1} points above each scenario's safest\n",
                s.strategy,
                100.0 * s.worst,
                s.worst_scenario,
                100.0 * s.max_regret
            )
        };
        out.push_str(&line("best worst case", &maximin));
        out.push_str(&line("least regret", &regret));
        if let Some(r) = reference {
            out.push_str(&line("reference", &r));
        }
    }
    if let Some((maximin, regret, reference)) = robust::robust_choices(&cash, false) {
        out.push_str("across scenarios, by median ending cash\n");
        let line = |role: &str, s: &robust::Standing| {
            format!(
                "  {role:<17} {:<40} worst {} ({}), at most {} below each scenario's richest\n",
                s.strategy,
                format_usd(s.worst),
                s.worst_scenario,
                format_usd(s.max_regret)
            )
        };
        out.push_str(&line("best worst case", &maximin));
        out.push_str(&line("least regret", &regret));
        if let Some(r) = reference {
            out.push_str(&line("reference", &r));
        }
    }
    out
}

/// Refuses a sweep whose cells have more paths than memory holds: a cell's paths are kept as outcomes for its
/// metrics, and the charts keep the cash tallies of two cells a scenario (the reference and the strategy its
/// waterfall compares). Checked before a sweep or a shard simulates and before a merge, so none of them runs
/// out of memory after the work is done.
pub fn check_paths_fit(plan: &plan::Plan) -> Result<(), String> {
    let outcome_bytes = std::mem::size_of::<metrics::PathOutcome>() as u64 + 16;
    let flows_bytes = 2 * plan.scenarios.len() as u64 * std::mem::size_of::<waterfall::PathRecord>() as u64;
    crate::memory::paths_fit(
        "a sweep cell",
        "each path's outcome for the cell's metrics and the cash tallies of two cells a scenario for its charts",
        u64::from(plan.n_paths),
        outcome_bytes.max(flows_bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::Value;
    use crate::sweep::metrics::{PathOutcome, cell_metrics};
    use hashcycle_model::record::ManufacturerOutcome;

    /// A cell of scenario `base` whose paths end with `end_cash_usd` and go below zero where `below_zero`.
    fn row(cell_idx: u32, paths: &[(f64, bool)]) -> SweepRow {
        let outcomes: Vec<PathOutcome> = paths
            .iter()
            .enumerate()
            .map(|(path_idx, &(end_cash_usd, cash_below_zero))| PathOutcome {
                path_idx: path_idx as u32,
                failed_check: false,
                manufacturer: ManufacturerOutcome {
                    end_cash_usd,
                    cash_below_zero,
                    ..ManufacturerOutcome::default()
                },
                end_price_usd: 1.0,
                end_hashrate_ehs: 1.0,
            })
            .collect();
        SweepRow {
            scenario: "base".to_string(),
            cell_idx,
            strategy: format!("futures_share={cell_idx}"),
            values: vec![Value::Float(cell_idx as f64)],
            is_reference: false,
            focus_manufacturer: "bitmain".to_string(),
            metrics: cell_metrics(&outcomes),
            paired: None,
        }
    }

    #[test]
    fn a_tie_on_risk_names_no_safest_or_riskiest_cell() {
        let rows = [
            row(0, &[(5e9, true), (7e9, false)]),
            row(1, &[(1e9, false), (2e9, true)]),
            row(2, &[(3e9, true), (4e9, false)]),
        ];
        let text = summary_text(&rows);
        assert!(text.contains("all 3 strategies tie at P(cash<0) 50.0%"), "{text}");
        assert!(!text.contains("  safest  ") && !text.contains("  riskiest  "), "{text}");
        // Median ending cash differs, so the cash extremes are still named.
        assert!(text.contains("most cash         futures_share=0"), "{text}");
        assert!(text.contains("least cash        futures_share=1"), "{text}");
    }

    #[test]
    fn distinct_risks_name_the_safest_and_riskiest_cells() {
        let rows = [
            row(0, &[(5e9, true), (7e9, true)]),
            row(1, &[(5e9, false), (7e9, false)]),
        ];
        let text = summary_text(&rows);
        assert!(text.contains("safest            futures_share=1"), "{text}");
        assert!(text.contains("riskiest          futures_share=0"), "{text}");
        assert!(text.contains("all 2 strategies tie at median end cash $6.0B"), "{text}");
        assert!(!text.contains("strategies tie at P(cash<0)"), "{text}");
    }

    #[test]
    fn formats_money_for_boards() {
        assert_eq!(format_usd(1.234e9), "$1.2B");
        assert_eq!(format_usd(-4.5e8), "-$450M");
        assert_eq!(format_usd(12_300.0), "$12.3K");
        assert_eq!(format_usd(3.0), "$3.0");
    }
}
