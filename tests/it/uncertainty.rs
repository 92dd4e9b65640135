//! `[[uncertainty]]`: behaviour parameters drawn per path. The draws stay inside their ranges, are the same for a
//! path whatever the strategy (common random numbers), a value a run states (`--set`) is not drawn, and bad
//! declarations are refused with file:line:col.

use hashcycle::output::parquet::read_frame;
use polars::prelude::*;

use crate::support::{hashcycle, project_dir, temp_dir};

fn run(dir: &std::path::Path, tag: &str, sets: &[&str]) -> DataFrame {
    let out_dir = dir.join(tag);
    let mut args = vec![
        "run",
        "scenarios/base.toml",
        "--paths",
        "6",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    for set in sets {
        args.extend(["--set", set]);
    }
    args.extend(["--set", "simulation.horizon_months=120"]);
    let out = hashcycle(&args, &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    read_frame(&out_dir.join("base/parameters.parquet")).unwrap()
}

#[test]
fn every_path_draws_within_the_fitted_ranges_and_strategies_share_the_draws() {
    let dir = temp_dir("uncertainty-runs");
    let reference = run(&dir, "a", &[]);
    assert_eq!(reference.height(), 6);
    let growth = reference
        .column("segments_all_max_growth_share_of_network_per_month")
        .unwrap()
        .f64()
        .unwrap();
    let declared = hashcycle::scenario::Scenario::load(&crate::support::scenario_path("base"))
        .unwrap()
        .params
        .uncertainty;
    let range = declared
        .iter()
        .find(|u| u.name == "segments.*.max_growth_share_of_network_per_month")
        .unwrap();
    for v in growth.into_no_null_iter() {
        assert!((range.min..=range.max).contains(&v), "{v}");
    }
    let distinct: std::collections::BTreeSet<u64> = growth.into_no_null_iter().map(f64::to_bits).collect();
    assert_eq!(distinct.len(), 6, "each path draws its own value");
    // Another strategy: the same draws path by path.
    let other = run(&dir, "b", &["manufacturers.bitmain.strategy.prepay_share=0.9"]);
    assert!(reference.equals(&other), "draws differ between strategies");
    // A value the run states is not drawn: its column is gone, the others are unchanged.
    let fixed = run(&dir, "c", &["segments.retail.max_spend_share_per_month=0.5"]);
    assert!(fixed.column("segments_retail_max_spend_share_per_month").is_err());
    assert!(reference.column("segments_retail_max_spend_share_per_month").is_ok());
    assert_eq!(fixed.width(), reference.width() - 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_declarations_are_refused_where_they_are_written() {
    let dir = temp_dir("uncertainty-bad");
    let base = project_dir().join("scenarios/base.toml").display().to_string();
    for (entry, expected) in [
        (
            "parameter = \"segments.retail.cash_usd\"\nmin = 1\nmax = 2",
            ":3:13: `cash_usd` cannot be drawn per path",
        ),
        (
            "parameter = \"manufacturers.nokia.strategy.target_payback_months\"\nmin = 8\nmax = 10",
            "no manufacturer named `nokia` (there are: bitmain, microbt, canaan",
        ),
        (
            "parameter = \"dealers.bull_stock_months\"\nmin = 3\nmax = 1",
            ":5:7: `uncertainty[0].max` = 1 is below its `min` (3)",
        ),
        (
            "parameter = \"segments.*.max_spend_share_per_month\"\nmin = 0.5\nmax = 1.5",
            ":5:7: `uncertainty[0].max` = 1.5 is not a valid `segments.*.max_spend_share_per_month`",
        ),
        (
            "parameter = \"network.difficulty_foresight_share\"\ndistribution = \"log_uniform\"\nmin = 0\nmax = 1",
            "a log-uniform draw needs min above 0",
        ),
    ] {
        let file = dir.join("bad.toml");
        std::fs::write(&file, format!("extends = {base:?}\n[[uncertainty]]\n{entry}\n")).unwrap();
        let out = hashcycle(&["check", file.to_str().unwrap()], &project_dir());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{entry}: {stderr}");
        assert!(stderr.contains(expected), "{entry}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
