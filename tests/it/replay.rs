//! Replay: the shipped replay scenario runs end to end through the command line, writes its tables and charts,
//! keeps its fit to history within the thresholds measured when it shipped (so that a model change that
//! worsens it fails here), shows the 2021 ban, and refuses bad input with exit status 1 and nothing written.

use hashcycle::output::parquet::read_frame;

use crate::support::{hashcycle, project_dir, temp_dir};

fn fit(info: &serde_json::Value, period: &str, measure: &str, key: &str) -> f64 {
    info["fit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == period)
        .unwrap_or_else(|| panic!("no fit for {period}"))[measure][key]
        .as_f64()
        .unwrap()
}

#[test]
fn replay_writes_its_tables_and_charts_and_keeps_its_fit_to_history() {
    let dir = temp_dir("replay-cli");
    let out = hashcycle(
        &["replay", "--paths", "12", "--out", dir.to_str().unwrap()],
        &project_dir(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("out-of-sample"), "{stdout}");
    assert!(stdout.contains("canaan   2021Q4      hashrate_sold_ehs"), "{stdout}");
    let run = dir.join("replay");
    let monthly = read_frame(&run.join("replay.parquet")).unwrap();
    assert_eq!(monthly.height(), 84, "2019-01 to 2025-12");
    for column in [
        "month",
        "in_sample",
        "actual_hashrate_ehs",
        "hashrate_ehs_p10",
        "hashrate_ehs_p50",
        "hashrate_ehs_p90",
        "actual_difficulty",
        "difficulty_p50",
        "new_usd_per_th_p50",
        "used_usd_per_th_p50",
        "listing_usd_per_th",
    ] {
        assert!(monthly.column(column).is_ok(), "no column {column}");
    }
    let p50 = monthly.column("hashrate_ehs_p50").unwrap().f64().unwrap().to_vec();
    let p50: Vec<f64> = p50.into_iter().map(Option::unwrap).collect();
    // The ban of June 2021 (month 29) takes a third or more of the network off within two months, as it did
    // (161 EH/s in May 2021, 100 in July), and the network recovers within a year: history passed May's level
    // again in December 2021, the model (200 paths) in February 2022.
    assert!(p50[30] < 0.75 * p50[28], "May {} vs July {}", p50[28], p50[30]);
    assert!(p50[40] > p50[28], "May 2021 {} vs May 2022 {}", p50[28], p50[40]);
    let listings = monthly.column("listing_count").unwrap().i64().unwrap();
    assert!(
        listings.iter().flatten().sum::<i64>() > 500,
        "the 2021-22 listings are read"
    );
    let quarters = read_frame(&run.join("replay_manufacturers.parquet")).unwrap();
    assert_eq!(quarters.height(), 3 * 28, "three manufacturers, 28 quarters");
    let figures = read_frame(&run.join("replay_figures.parquet")).unwrap();
    let companies = figures.column("company").unwrap().str().unwrap();
    assert!(companies.iter().filter(|c| *c == Some("canaan")).count() >= 20);

    // The fit, against thresholds set from the fit measured when base.toml took the replay's calibration (12 paths:
    // in-sample hashrate error 0.104, out-of-sample 0.156, 2019 0.096, difficulty in-sample 0.092; the real
    // hashrate inside p10-p90 in 60% and 97% of months). A model change that moves the replay further from history
    // than this fails here; one that moves it closer should lower them.
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("replay.json")).unwrap()).unwrap();
    assert_eq!(info["failed_paths"], serde_json::json!([]));
    let in_sample = fit(&info, "in_sample", "hashrate", "median_abs_log_error");
    let out_of_sample = fit(&info, "out_of_sample", "hashrate", "median_abs_log_error");
    let first_year = fit(&info, "2019", "hashrate", "median_abs_log_error");
    assert!(in_sample < 0.14, "in-sample hashrate error {in_sample}");
    assert!(out_of_sample < 0.20, "out-of-sample hashrate error {out_of_sample}");
    assert!(first_year < 0.13, "2019 hashrate error {first_year}");
    assert!(fit(&info, "in_sample", "difficulty", "median_abs_log_error") < 0.13);
    // Honest bands: drawn behaviour parameters widen them enough to hold the real hashrate in a good share of
    // months, out-of-sample too (with fixed parameters they held it in 2% and 0%).
    let coverage = fit(&info, "out_of_sample", "hashrate", "coverage_p10_p90_share");
    assert!(coverage >= 0.6, "out-of-sample coverage {coverage}");
    assert!(fit(&info, "in_sample", "hashrate", "coverage_p10_p90_share") >= 0.4);

    // The chart page: the hashrate chart marks the ban and the sample split; Canaan's filings are drawn.
    let svg = std::fs::read_to_string(run.join("charts/replay_hashrate.svg")).unwrap();
    assert!(
        svg.contains("Ban in china: 60% of machines stop · 2021-06"),
        "ban marker"
    );
    assert!(svg.contains("In-sample to 2022-12"), "split marker");
    for stem in [
        "replay_usd_per_th",
        "replay_canaan_hashrate_sold_ehs",
        "replay_canaan_gross_margin_share",
    ] {
        assert!(run.join(format!("charts/{stem}.png")).is_file(), "{stem}");
    }
    // `plot` redraws the page from the files alone, byte for byte.
    let chart = run.join("charts/replay_hashrate.png");
    let drawn = std::fs::read(&chart).unwrap();
    std::fs::remove_file(&chart).unwrap();
    let out = hashcycle(&["plot", run.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&chart).unwrap(), drawn);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn replay_refuses_bad_input_with_exit_status_1_and_writes_nothing() {
    let dir = temp_dir("replay-bad");
    let base = project_dir().join("scenarios/base.toml");
    let history = project_dir().join("data/btc_monthly.csv");
    // A scenario that switches base to the real price but keeps base's December 2024 start price.
    let inherited = dir.join("inherited.toml");
    std::fs::write(
        &inherited,
        format!(
            "extends = {:?}\n[simulation]\nname = \"inherited\"\nstart_month = \"2020-01\"\nhorizon_months = 12\n\
             [price]\nmodel = \"historical\"\n[price.historical]\nhistory_file = {:?}\n",
            base.display().to_string(),
            history.display().to_string()
        ),
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out_arg = out_dir.to_str().unwrap().to_string();
    for (args, expected) in [
        (vec!["scenarios/base.toml"], "a replay needs the real price"),
        (vec!["--calibrate-until", "2018-06"], "before the replay starts"),
        (
            vec!["--figures", "no/such/figures.csv"],
            "no/such/figures.csv is not a file",
        ),
        (vec!["--calibrate-until", "2022-13"], "2022-13"),
        (
            vec![inherited.to_str().unwrap()],
            "is not the history's close for 2019-12",
        ),
        (
            vec!["scenarios/china_2021.toml", "--calibrate"],
            "cannot calibrate: nothing to fit",
        ),
        (vec!["--calibrate", "--accept-share", "0"], "is not a share in (0, 1]"),
        (
            vec!["--calibrate", "--calibration-paths", "5"],
            "5 is not in 10..=1000000",
        ),
    ] {
        let mut all = vec!["replay", "--paths", "2", "--out", &out_arg];
        all.extend(&args);
        let out = hashcycle(&all, &project_dir());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out_dir.exists(), "{args:?} wrote output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of the shipped history and filings in `dir`, with every month after `last_in_sample` changed by `edit`
/// (price, hashrate and fees columns), and returns the history's path.
fn history_copy(dir: &std::path::Path, last_in_sample: &str, edit: impl Fn(&str, f64) -> f64) -> std::path::PathBuf {
    let data = project_dir().join("data");
    std::fs::copy(
        data.join("industry_public_figures.csv"),
        dir.join("industry_public_figures.csv"),
    )
    .unwrap();
    let text = std::fs::read_to_string(data.join("btc_monthly.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut out = vec![header.join(",")];
    for line in lines {
        let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
        if fields[0].as_str() > last_in_sample {
            for (k, name) in header.iter().enumerate() {
                if let Ok(v) = fields[k].parse::<f64>()
                    && matches!(*name, "price_usd_close" | "hashrate_ehs" | "fees_btc")
                {
                    fields[k] = format!("{}", edit(name, v));
                }
            }
        }
        out.push(fields.join(","));
    }
    let path = dir.join("btc_monthly.csv");
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    path
}

fn calibrate(
    dir: &std::path::Path,
    scenario: &str,
    history: &std::path::Path,
    extra: &[&str],
) -> (String, serde_json::Value) {
    let out_dir = dir.join("out");
    let price = format!("price.historical.history_file=\"{}\"", history.display());
    let fees = format!("fees.historical.history_file=\"{}\"", history.display());
    let mut args = vec![
        "replay",
        scenario,
        "--calibrate",
        "--calibration-paths",
        "300",
        "--accept-share",
        "0.1",
        "--paths",
        "4",
        "--out",
        out_dir.to_str().unwrap(),
        "--set",
        &price,
        "--set",
        &fees,
    ];
    args.extend(extra);
    let out = hashcycle(&args, &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let name = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("replay.json").is_file())
        .unwrap();
    let calibrated = std::fs::read_to_string(name.join("calibrated.toml")).unwrap();
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(name.join("replay.json")).unwrap()).unwrap();
    (calibrated, info)
}

/// The fit sees the in-sample months only: scrambling every later month of the price, fees and hashrate leaves
/// what it fits exactly as it was, while the out-of-sample comparison does change.
#[test]
fn calibration_never_sees_out_of_sample_months() {
    let dir = temp_dir("replay-blind");
    let (a_dir, b_dir) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let real = history_copy(&a_dir, "2022-12", |_, v| v);
    let scrambled = history_copy(&b_dir, "2022-12", |name, v| match name {
        "price_usd_close" => v * 7.0,
        "hashrate_ehs" => v / 3.0,
        _ => v * 5.0,
    });
    let (fit_a, info_a) = calibrate(&a_dir, "scenarios/replay_priors.toml", &real, &[]);
    let (fit_b, info_b) = calibrate(&b_dir, "scenarios/replay_priors.toml", &scrambled, &[]);
    assert_eq!(fit_a, fit_b, "the fit changed with out-of-sample data");
    assert_eq!(info_a["calibration"], info_b["calibration"]);
    assert_ne!(
        fit(&info_a, "out_of_sample", "hashrate", "median_abs_log_error"),
        fit(&info_b, "out_of_sample", "hashrate", "median_abs_log_error"),
        "the replay after the fit does read the later months"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a history the model itself made with known parameters, the fit's range holds them and is narrower than the
/// prior's.
#[test]
fn calibration_recovers_parameters_the_history_was_made_with() {
    let dir = temp_dir("replay-recover");
    // Priors on two parameters alone; every other behaviour parameter is stated (base's fitted medians), so the
    // world that makes the history and the one fitted to it differ only in these two.
    let priors = dir.join("priors.toml");
    std::fs::write(
        &priors,
        format!(
            "extends = {:?}\n[simulation]\nname = \"recover\"\n\n\
             [[uncertainty]]\nparameter = \"segments.*.max_growth_share_of_network_per_month\"\ndistribution = \"log_uniform\"\nmin = 0.02\nmax = 0.5\n\n\
             [[uncertainty]]\nparameter = \"manufacturers.*.strategy.target_payback_months\"\nmin = 6\nmax = 20\n",
            project_dir().join("scenarios/replay.toml").display().to_string()
        ),
    )
    .unwrap();
    // The model's own history: the same scenario with both parameters stated, so nothing is drawn.
    let truth = dir.join("truth");
    let out = hashcycle(
        &[
            "replay",
            priors.to_str().unwrap(),
            "--paths",
            "24",
            "--out",
            truth.to_str().unwrap(),
            "--set",
            "segments.key_account.max_growth_share_of_network_per_month=0.1",
            "--set",
            "segments.retail.max_growth_share_of_network_per_month=0.1",
            "--set",
            "manufacturers.bitmain.strategy.target_payback_months=12",
            "--set",
            "manufacturers.microbt.strategy.target_payback_months=12",
            "--set",
            "manufacturers.canaan.strategy.target_payback_months=12",
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made = read_frame(&truth.join("recover/replay.parquet")).unwrap();
    let p50: Vec<f64> = made
        .column("hashrate_ehs_p50")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    // Its hashrate replaces the real one, month by month from 2019-01.
    let history = {
        let path = history_copy(&dir, "9999-12", |_, v| v);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
        let col = header.iter().position(|h| h == "hashrate_ehs").unwrap();
        let first = lines.iter().position(|l| l.starts_with("2019-01")).unwrap();
        for (k, value) in p50.iter().enumerate() {
            let mut fields: Vec<String> = lines[first + k].split(',').map(str::to_string).collect();
            fields[col] = format!("{value}");
            lines[first + k] = fields.join(",");
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        // No filings: the fit is on hashrate alone.
        std::fs::remove_file(dir.join("industry_public_figures.csv")).unwrap();
        path
    };
    let (_, info) = calibrate(&dir, priors.to_str().unwrap(), &history, &[]);
    let fitted = |name: &str| {
        info["calibration"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["parameter"] == name)
            .map(|p| {
                (
                    p["p05"].as_f64().unwrap(),
                    p["p50"].as_f64().unwrap(),
                    p["p95"].as_f64().unwrap(),
                )
            })
            .unwrap()
    };
    let (lo, mid, hi) = fitted("segments.*.max_growth_share_of_network_per_month");
    assert!(
        lo <= 0.1 && 0.1 <= hi,
        "growth cap 0.1 outside the fitted {lo}-{hi} (median {mid})"
    );
    assert!(
        (hi / lo).ln() < 0.8 * (0.5f64 / 0.02).ln(),
        "growth cap range {lo}-{hi} hardly narrower than the prior"
    );
    let (lo, mid, hi) = fitted("manufacturers.*.strategy.target_payback_months");
    assert!(
        lo <= 12.0 && 12.0 <= hi,
        "payback target 12 outside the fitted {lo}-{hi} (median {mid})"
    );
    assert!(
        hi - lo < 0.8 * 14.0,
        "payback range {lo}-{hi} hardly narrower than the prior"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `data/replay_fit.json`, which run reports quote, is the fit the shipped replay gives today, with the ranges
/// base.toml draws.
#[test]
fn the_shipped_fit_record_is_the_replay_of_today() {
    let dir = temp_dir("replay-record");
    let out = hashcycle(&["replay", "--out", dir.to_str().unwrap()], &project_dir());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let now: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("replay/replay.json")).unwrap()).unwrap();
    let shipped: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project_dir().join("data/replay_fit.json")).unwrap()).unwrap();
    for key in ["fit", "uncertainty", "paths", "seed", "calibrate_until_month"] {
        assert_eq!(
            now[key], shipped[key],
            "data/replay_fit.json is stale ({key}): after a model change, run `hashcycle replay --out DIR` and copy \
             DIR/replay/replay.json to data/replay_fit.json"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every run report says how well the model matches history: the shipped replay's fit when the run draws the
/// calibrated behaviour, and why not otherwise.
#[test]
fn run_reports_say_how_well_the_model_matches_history() {
    let dir = temp_dir("replay-report");
    let report = |scenario: &str, sets: &[&str]| {
        let out_dir = dir.join(scenario.replace('/', "_"));
        let mut args = vec!["run", scenario, "--paths", "3", "--out", out_dir.to_str().unwrap()];
        for set in sets {
            args.extend(["--set", set]);
        }
        let out = hashcycle(&args, &project_dir());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let name = std::fs::read_dir(&out_dir).unwrap().next().unwrap().unwrap().path();
        std::fs::read_to_string(name.join("report.html")).unwrap()
    };
    let bear = report("scenarios/bear.toml", &[]);
    assert!(bear.contains("How well does this model match history"));
    assert!(bear.contains("All out-of-sample months"));
    assert!(!bear.contains("This run states some of the parameters"));
    let stated = report(
        "scenarios/base.toml",
        &["manufacturers.bitmain.strategy.target_payback_months=12"],
    );
    assert!(stated.contains("This run states some of the parameters the replay drew per path"));
    assert!(stated.contains("manufacturers.*.strategy.target_payback_months"));
    // Other behaviour: the fit does not describe it.
    let priors = report("scenarios/replay_priors.toml", &[]);
    assert!(priors.contains("behaviour parameters are not the calibrated ones"));
    assert!(!priors.contains("All out-of-sample months"));
    // A sweep of the shipped scenarios shows the fit once for all of them.
    let sweep_dir = dir.join("sweep");
    let out = hashcycle(
        &[
            "sweep",
            "scenarios/sweeps/futures_prepay.toml",
            "--paths",
            "2",
            "--out",
            sweep_dir.to_str().unwrap(),
        ],
        &project_dir(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep = std::fs::read_to_string(sweep_dir.join("futures_prepay/report.html")).unwrap();
    assert_eq!(sweep.matches("How well does this model match history").count(), 1);
    // ... and names the robust choices across its scenarios.
    assert!(sweep.contains("Robust choices across scenarios"));
    assert!(sweep.contains("Best worst case") && sweep.contains("Least regret"));
    // ... and each scenario's description and generated assumptions.
    assert!(sweep.contains("Scenarios and their assumptions"));
    assert!(sweep.contains("Bear case: base"));
    assert!(sweep.contains("Regime switching from $93K (bull)"));
    assert!(sweep.contains("All out-of-sample months"));
    let _ = std::fs::remove_dir_all(&dir);
}
