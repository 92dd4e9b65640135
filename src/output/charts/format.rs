//! Readable numbers for charts and the report ($1.2M, $3.4B, 450 EH/s, 12.5%, 2027-06) and tick positions.
//!
//! Axis labels share one unit and one number of decimals across an axis (`$0.5B, $1.0B, $1.5B`), which is
//! why the axis formatters take the tick step as well as the value.

use hashcycle_model::units::YearMonth;

/// The minus sign, not a hyphen, so negative values line up and read as numbers.
const MINUS: char = '\u{2212}';

/// The most decimals an axis label carries; a finer step moves to a smaller unit instead.
const MAX_AXIS_DECIMALS: usize = 3;

/// (divisor, suffix) for compact money and counts, largest first.
const SCALES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];

fn scale_for(magnitude: f64) -> (f64, &'static str) {
    SCALES
        .iter()
        .find(|(divisor, _)| magnitude >= *divisor)
        .map_or((1.0, ""), |&(d, s)| (d, s))
}

/// Decimals needed to tell apart values `step` apart, once divided by `divisor`: the fewest that print every
/// multiple of the step exactly (a step of 2.5 needs one, 0.25 two, 5 none); `None` when that takes more than
/// [`MAX_AXIS_DECIMALS`].
fn exact_decimals(step: f64, divisor: f64) -> Option<usize> {
    let scaled = (step / divisor).abs();
    if !scaled.is_finite() || scaled == 0.0 {
        return Some(0);
    }
    (0..=MAX_AXIS_DECIMALS).find(|&decimals| {
        let shifted = scaled * 10f64.powi(decimals as i32);
        (shifted - shifted.round()).abs() <= 1e-6 * shifted.max(1.0)
    })
}

/// Decimals for ticks `step` apart once divided by `divisor`: as many as print them exactly, at most
/// [`MAX_AXIS_DECIMALS`].
fn decimals_for(step: f64, divisor: f64) -> usize {
    exact_decimals(step, divisor).unwrap_or(MAX_AXIS_DECIMALS)
}

fn signed(negative: bool, body: String) -> String {
    if negative { format!("{MINUS}{body}") } else { body }
}

/// Money with a compact suffix and about two significant figures: `$1.2M`, `$3.4B`, `−$250K`, `$12`.
pub fn usd(v: f64) -> String {
    compact(v, "$")
}

/// `v` with a compact suffix (K, M, B, T) after `prefix`, to about two significant figures.
fn compact(v: f64, prefix: &str) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let m = v.abs();
    let (divisor, suffix) = scale_for(m);
    let x = m / divisor;
    let decimals = if x < 10.0 && divisor > 1.0 { 1 } else { 0 };
    signed(v < 0.0 && m >= 0.5, format!("{prefix}{x:.decimals$}{suffix}"))
}

/// Money with a compact suffix and no needless `.0`: `$1M`, `$300K`, `$2.5M`; for log axes, whose ticks are
/// round numbers with different magnitudes.
pub fn usd_round(v: f64) -> String {
    usd(v).replace(".0", "")
}

/// Money on an axis whose ticks are `step` apart and whose largest magnitude is `max_abs`.
pub fn usd_axis(v: f64, step: f64, max_abs: f64) -> String {
    compact_axis(v, step, max_abs, "$")
}

/// An axis tick with a compact suffix after `prefix`, with as many decimals as the tick step needs.
fn compact_axis(v: f64, step: f64, max_abs: f64, prefix: &str) -> String {
    // The largest unit whose labels stay exact within the decimals an axis allows: ticks 0.25 apart near 1,000
    // read `999.75`, not `1.00K`.
    let (divisor, suffix) = SCALES
        .iter()
        .copied()
        .filter(|(divisor, _)| max_abs >= *divisor)
        .chain([(1.0, "")])
        .find(|(divisor, _)| exact_decimals(step, *divisor).is_some())
        .unwrap_or((1.0, ""));
    let decimals = decimals_for(step, divisor);
    let x = v.abs() / divisor;
    if x < 0.5 * 10f64.powi(-(decimals as i32)) {
        return format!("{prefix}0");
    }
    signed(v < 0.0, format!("{prefix}{x:.decimals$}{suffix}"))
}

/// A count with a compact suffix: `850`, `12K`, `1.2M`.
pub fn count(v: f64) -> String {
    compact(v, "")
}

/// A count on an axis whose ticks are `step` apart.
pub fn count_axis(v: f64, step: f64, max_abs: f64) -> String {
    compact_axis(v, step, max_abs, "")
}

/// Thousands separators: `1,250`.
pub fn grouped(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let text = format!("{:.decimals$}", v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    signed(v < 0.0 && v.abs() >= 0.5 * 10f64.powi(-(decimals as i32)), out)
}

/// Hashrate in EH/s: `450 EH/s`, `1,250 EH/s`; `n/a` for a missing figure.
pub fn ehs(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let decimals = if v.abs() < 10.0 { 1 } else { 0 };
    format!("{} EH/s", grouped(v, decimals))
}

/// Hashrate on an axis whose ticks are `step` apart: `2,000 EH/s`, `2.5 EH/s`.
pub fn ehs_axis(v: f64, step: f64) -> String {
    format!("{} EH/s", grouped(v, decimals_for(step, 1.0)))
}

/// A round hashrate for a log axis: `0.5 EH/s`, `20 EH/s`, `1,000 EH/s`, `1.5 EH/s` (ticks are round, so one
/// significant decimal is all they need).
pub fn ehs_round(v: f64) -> String {
    let decimals = if v > 0.0 && v < 1.0 {
        (-v.log10().floor()) as usize
    } else if (v - v.round()).abs() > 1e-9 {
        1
    } else {
        0
    };
    format!("{} EH/s", grouped(v, decimals))
}

/// A share as a percentage: `12.5%`, `0.3%`, `100%`.
pub fn pct(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_string();
    }
    // Tenths of a percent, printed without a trailing `.0`; a share that rounds to zero from below is 0%, not
    // -0% (adding +0.0 clears the sign of a zero).
    let tenths = (share * 1000.0).round() + 0.0;
    if tenths % 10.0 == 0.0 {
        format!("{:.0}%", tenths / 10.0)
    } else {
        format!("{:.1}%", tenths / 10.0)
    }
}

/// A share on an axis whose ticks are `step` apart (as shares).
pub fn pct_axis(share: f64, step: f64) -> String {
    let decimals = decimals_for(step * 100.0, 1.0);
    format!("{:.decimals$}%", share * 100.0)
}

/// The calendar month `idx` months after `start`, as `2027-06`.
pub fn month(start: YearMonth, idx: f64) -> String {
    start.plus_months(idx.round() as i64).to_string()
}

/// Ticks for a linear axis: about `target` round values (1, 2, 2.5, 5 × 10^k apart) covering [lo, hi].
/// Returns the ticks, the step, and the range widened to the outer ticks.
pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64, (f64, f64)) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - lo.abs() * 0.1, hi + hi.abs() * 0.1)
    };
    let raw = (hi - lo) / target.max(2) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let n = ((last - first) / step).round() as usize;
    let ticks: Vec<f64> = (0..=n)
        .map(|i| {
            let t = first + i as f64 * step;
            // Snap float noise such as 0.30000000000000004 and -0.0.
            let snapped = (t / step).round() * step;
            if snapped == 0.0 { 0.0 } else { snapped }
        })
        .collect();
    (ticks, step, (first, last))
}

/// Ticks for a log10 axis, as log10 values: 1, 2, 5 × 10^k inside [lo, hi] (given as log10 values),
/// thinned to decades when there would be too many.
pub fn log_ticks(lo_log: f64, hi_log: f64) -> Vec<f64> {
    let mut ticks = vec![];
    let (k0, k1) = (lo_log.floor() as i32, hi_log.ceil() as i32);
    let candidates = |mantissas: &[f64]| -> Vec<f64> {
        let mut out = vec![];
        for k in k0..=k1 {
            for m in mantissas {
                let t = (m * 10f64.powi(k)).log10();
                if t >= lo_log - 1e-9 && t <= hi_log + 1e-9 {
                    out.push(t);
                }
            }
        }
        out
    };
    for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..], &[1.0][..]] {
        ticks = candidates(mantissas);
        if ticks.len() <= 9 {
            break;
        }
    }
    if ticks.len() < 3 {
        ticks = candidates(&[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]);
    }
    ticks
}

/// Ticks for a monthly time axis of `n_months` months from `start`: every January, every other or fifth
/// January for long horizons, or quarters for short ones.
pub fn month_ticks(start: YearMonth, n_months: usize) -> Vec<f64> {
    let every = match n_months {
        0..=23 => 3,
        24..=180 => 12,
        181..=360 => 24,
        _ => 60,
    };
    (0..n_months)
        .filter(|&i| {
            let ym = start.plus_months(i as i64);
            if every == 3 {
                (ym.month - 1).is_multiple_of(3)
            } else {
                ym.month == 1 && ym.year % (every / 12) == 0
            }
        })
        .map(|i| i as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_compact_with_two_significant_figures() {
        assert_eq!(usd(1_234_567.0), "$1.2M");
        assert_eq!(usd(3.4e9), "$3.4B");
        assert_eq!(usd(-250_000.0), "\u{2212}$250K");
        assert_eq!(usd(12.0), "$12");
        assert_eq!(usd(45e9), "$45B");
    }

    #[test]
    fn axis_labels_share_decimals() {
        let labels: Vec<String> = [0.0, 0.5e9, 1.0e9, 1.5e9]
            .iter()
            .map(|v| usd_axis(*v, 0.5e9, 1.5e9))
            .collect();
        assert_eq!(labels, ["$0", "$0.5B", "$1.0B", "$1.5B"]);
        assert_eq!(usd_axis(-2.5e8, 2.5e8, 1e9), "\u{2212}$0.25B");
        assert_eq!(pct_axis(0.25, 0.05), "25%");
        assert_eq!(count_axis(120_000.0, 20_000.0, 120_000.0), "120K");
    }

    /// Labels for `ticks` with `label`, for comparing a whole axis at once.
    fn axis_labels(ticks: &[f64], label: impl Fn(f64) -> String) -> Vec<String> {
        ticks.iter().map(|v| label(*v)).collect()
    }

    #[test]
    fn axis_labels_carry_the_decimals_the_step_needs() {
        let ticks = [0.0, 2.5e9, 5e9, 7.5e9, 10e9, 12.5e9];
        assert_eq!(
            axis_labels(&ticks, |v| usd_axis(v, 2.5e9, 12.5e9)),
            ["$0", "$2.5B", "$5.0B", "$7.5B", "$10.0B", "$12.5B"]
        );
        assert_eq!(
            axis_labels(&[-0.5e9, -0.25e9, 0.0, 0.25e9], |v| usd_axis(v, 0.25e9, 0.5e9)),
            ["\u{2212}$500M", "\u{2212}$250M", "$0", "$250M"]
        );
        assert_eq!(
            axis_labels(&[2e6, 3e6, 4e6], |v| usd_axis(v, 1e6, 4e6)),
            ["$2M", "$3M", "$4M"]
        );
        assert_eq!(
            axis_labels(&[0.0, 0.25, 0.5, 0.75], |v| count_axis(v, 0.25, 0.75)),
            ["0", "0.25", "0.50", "0.75"]
        );
        assert_eq!(
            axis_labels(&[0.0, 0.025, 0.05, 0.075], |v| pct_axis(v, 0.025)),
            ["0.0%", "2.5%", "5.0%", "7.5%"]
        );
        assert_eq!(
            axis_labels(&[0.1, 0.1025, 0.105], |v| pct_axis(v, 0.0025)),
            ["10.00%", "10.25%", "10.50%"]
        );
        assert_eq!(
            axis_labels(&[0.0, 2.5, 5.0, 7.5], |v| ehs_axis(v, 2.5)),
            ["0.0 EH/s", "2.5 EH/s", "5.0 EH/s", "7.5 EH/s"]
        );
    }

    #[test]
    fn a_step_too_fine_for_the_unit_moves_to_a_smaller_unit() {
        assert_eq!(
            axis_labels(&[999.75, 1000.0, 1000.25], |v| usd_axis(v, 0.25, 1000.25)),
            ["$999.75", "$1000.00", "$1000.25"]
        );
        assert_eq!(usd_axis(1.0025e9, 2.5e6, 1.0025e9), "$1002.5M");
    }

    #[test]
    fn every_round_step_labels_adjacent_ticks_apart() {
        for magnitude in [1e-3, 1e-2, 0.1, 1.0, 10.0, 1e3, 1e6, 1e9] {
            for mantissa in [1.0, 2.0, 2.5, 5.0] {
                let step = mantissa * magnitude;
                let ticks: Vec<f64> = (0..6).map(|i| (10.0 + i as f64) * step).collect();
                let max_abs = ticks[5];
                for label in [
                    &(|v| usd_axis(v, step, max_abs)) as &dyn Fn(f64) -> String,
                    &|v| count_axis(v, step, max_abs),
                    &|v| pct_axis(v, step),
                ] {
                    let labels = axis_labels(&ticks, label);
                    for pair in labels.windows(2) {
                        assert_ne!(pair[0], pair[1], "step {step}: {labels:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn hashrate_and_shares_read_naturally() {
        assert_eq!(ehs(450.2), "450 EH/s");
        assert_eq!(ehs(1250.0), "1,250 EH/s");
        assert_eq!(ehs_axis(2000.0, 1000.0), "2,000 EH/s");
        assert_eq!(ehs_axis(2.5, 0.5), "2.5 EH/s");
        assert_eq!(pct(0.125), "12.5%");
        assert_eq!(pct(0.5), "50%");
        assert_eq!(pct(0.0125), "1.3%");
        assert_eq!(pct(-0.0), "0%");
        assert_eq!(pct(-0.0001), "0%");
        assert_eq!(grouped(-1234567.0, 0), "\u{2212}1,234,567");
    }

    #[test]
    fn missing_figures_read_n_a() {
        for v in [f64::NAN, f64::INFINITY] {
            assert_eq!([usd(v), pct(v), ehs(v), count(v), grouped(v, 1)], ["n/a"; 5]);
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (ticks, step, (lo, hi)) = linear_ticks(3.0, 97.0, 6);
        assert_eq!(step, 20.0);
        assert_eq!(ticks, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!((lo, hi), (0.0, 100.0));
        let logs: Vec<f64> = log_ticks(4.0, 6.0).iter().map(|t| 10f64.powf(*t).round()).collect();
        assert_eq!(logs, [1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]);
        let start = YearMonth::parse("2025-01").unwrap();
        assert_eq!(month_ticks(start, 120).len(), 10);
        assert_eq!(month(start, 29.0), "2027-06");
    }
}
