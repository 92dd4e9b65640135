//! Buyers with balance sheets: key-account firms that borrow, fail and are sold off, run through the real
//! engine on the shipped scenarios, and listed firms read from a scenario file.

use hashcycle::scenario::raw::Value;
use hashcycle_model::params::Params;

use crate::support::{hashcycle, i, params_with, run_path, scenario_path, temp_dir};

/// The mean number of key-account firms that failed per path, and the share of paths with at least one,
/// over `n_paths` paths of the first `horizon_months` months.
fn defaults(params: &Params, n_paths: u32) -> (f64, f64) {
    let (mut failed, mut any) = (0u32, 0u32);
    for path in 0..n_paths {
        let (_, summary) = run_path(params, path);
        failed += summary.network.buyer_defaults;
        any += u32::from(summary.network.buyer_defaults > 0);
    }
    (
        f64::from(failed) / f64::from(n_paths),
        f64::from(any) / f64::from(n_paths),
    )
}

#[test]
fn key_accounts_fail_most_in_the_bear_case_and_least_in_the_bull_case() {
    let horizon: Vec<(&str, Value)> = vec![("simulation.horizon_months", i(60))];
    let n_paths = 60;
    let bear = defaults(&params_with("bear", &horizon), n_paths);
    let base = defaults(&params_with("base", &horizon), n_paths);
    let bull = defaults(&params_with("bull", &horizon), n_paths);
    // Five years in: the bear case's long, deep bear sinks the leveraged firms; base has its halving year;
    // the bull case's firms mostly carry their debt.
    assert!(bear.1 > 0.5, "bear: {bear:?}");
    assert!(bear.0 > 2.0 * base.0, "bear {bear:?} vs base {base:?}");
    assert!(base.0 > 1.5 * bull.0, "base {base:?} vs bull {bull:?}");
    assert!(bull.1 < base.1, "bull {bull:?} vs base {base:?}");
}

#[test]
fn without_firms_the_key_accounts_are_one_book_that_never_fails() {
    let params = params_with(
        "bear",
        &[
            ("simulation.horizon_months", i(60)),
            ("key_account_firms.n_firms", i(0)),
        ],
    );
    assert_eq!(defaults(&params, 10), (0.0, 0.0));
}

/// The base scenario with two firms listed, whose fleet shares are `shares`.
fn listed(shares: (f64, f64)) -> String {
    let base = std::fs::read_to_string(scenario_path("base")).unwrap();
    format!(
        "{base}\n[[key_account_firms.firms]]\nname = \"highly_levered\"\nfleet_share = {}\ncash_usd = 1.0e8\n\
         term_debt_usd = 2.0e9\nnotes_usd = 1.0e9\nnotes_maturity_months = 6\n\n[[key_account_firms.firms]]\n\
         name = \"cash_rich\"\nfleet_share = {}\ncash_usd = 3.0e9\ncredit_line_usd = 5.0e8\n",
        shares.0, shares.1
    )
}

#[test]
fn listed_firms_are_read_from_the_scenario_and_their_shares_must_sum_to_one() {
    // Laid out like the project, so the base scenario's `../data/btc_monthly.csv` resolves.
    let root = temp_dir("listed-firms");
    let dir = root.join("scenarios");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::copy(project_data_csv(), root.join("data/btc_monthly.csv")).unwrap();
    let good = dir.join("listed.toml");
    std::fs::write(&good, listed((0.4, 0.6))).unwrap();
    let out = hashcycle(&["check", good.to_str().unwrap()], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, listed((0.4, 0.5))).unwrap();
    let out = hashcycle(&["check", bad.to_str().unwrap()], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.toml:"), "{stderr}");
    assert!(stderr.contains("fleet_share values must sum to 1"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn project_data_csv() -> std::path::PathBuf {
    crate::support::project_dir().join("data/btc_monthly.csv")
}

/// Buyers' ability to prepay is bounded by their balance sheets: in a boom, key-account firms (each keeping
/// a cash reserve, part of its BTC, and borrowing only against collateral) sign fewer futures than the same
/// buyers pooled into one book with an unconditional credit line.
#[test]
fn balance_sheets_bound_the_futures_buyers_sign_in_a_boom() {
    let signed = |n_firms: i64| {
        let params = crate::support::params_with(
            "base",
            &crate::support::with_calm(&[
                ("simulation.horizon_months", i(18)),
                ("price.start_regime", crate::support::s("bull")),
                (
                    "price.regime_switching.bull_drift_log_per_month",
                    crate::support::f(0.06),
                ),
                ("key_account_firms.n_firms", i(n_firms)),
            ]),
        );
        let (run, _) = run_path(&params, 0);
        run.manufacturers.iter().map(|r| r.units_sold_futures).sum::<u64>()
    };
    let (firms, pooled) = (signed(20), signed(0));
    assert!(
        (firms as f64) < 0.9 * pooled as f64,
        "futures signed in 18 boom months: {firms} by firms, {pooled} pooled"
    );
}
