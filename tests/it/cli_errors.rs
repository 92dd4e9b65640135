//! Malformed scenarios: every problem reported at once with file:line:col, exit status 1, nothing written.

use crate::support::{hashcycle, project_dir, scenario_path, temp_dir};

/// Writes base.toml with textual replacements into a fresh directory; returns (dir, file).
fn broken(tag: &str, replacements: &[(&str, &str)]) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut text = std::fs::read_to_string(scenario_path("base")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "fixture text `{from}` not found");
        text = text.replacen(from, to, 1);
    }
    let dir = temp_dir(tag);
    let file = dir.join("broken.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// Runs `run` and `check` on a broken scenario and checks the common contract; returns stderr of `run`.
fn assert_rejected(tag: &str, replacements: &[(&str, &str)], expected: &[&str]) -> String {
    let (dir, file) = broken(tag, replacements);
    let out_dir = dir.join("out");
    let file_arg = file.to_str().unwrap();
    let run = hashcycle(
        &["run", file_arg, "--paths", "2", "--out", out_dir.to_str().unwrap()],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert_eq!(run.status.code(), Some(1), "{tag}: exit status; stderr:\n{stderr}");
    assert!(!out_dir.exists(), "{tag}: an output directory was created");
    assert!(
        !stderr.contains("panicked"),
        "{tag}: panic text reached the user:\n{stderr}"
    );
    assert!(stderr.contains("broken.toml:"), "{tag}: no file:line:col in\n{stderr}");
    for needle in expected {
        assert!(stderr.contains(needle), "{tag}: `{needle}` missing from\n{stderr}");
    }
    let check = hashcycle(&["check", file_arg], &dir);
    assert_eq!(check.status.code(), Some(1), "{tag}: check exit status");
    assert_eq!(
        String::from_utf8_lossy(&check.stderr),
        stderr,
        "{tag}: check and run report differently"
    );
    let _ = std::fs::remove_dir_all(&dir);
    stderr
}

/// The line:col the message gives for a key, found independently in the broken text.
fn location_of(text: &str, needle: &str) -> String {
    let offset = text.find(needle).unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("broken.toml:{line}:{col}")
}

#[test]
fn unknown_key_is_reported_with_its_location() {
    let stderr = assert_rejected(
        "unknown",
        &[(
            "start_price_usd = 93429.20",
            "start_price_usd = 93429.20\nstart_price_eur = 1",
        )],
        &["unknown key `price.start_price_eur`", "valid keys here"],
    );
    let text = std::fs::read_to_string(scenario_path("base")).unwrap().replacen(
        "start_price_usd = 93429.20",
        "start_price_usd = 93429.20\nstart_price_eur = 1",
        1,
    );
    assert!(stderr.contains(&location_of(&text, "start_price_eur")), "{stderr}");
}

#[test]
fn wrong_type_is_reported() {
    assert_rejected(
        "wrong-type",
        &[("horizon_months = 120", "horizon_months = \"ten years\"")],
        &["`simulation.horizon_months` must be a whole number in [1, 1200], found a string"],
    );
}

#[test]
fn negative_price_is_out_of_range() {
    let stderr = assert_rejected(
        "negative-price",
        &[("start_price_usd = 93429.20", "start_price_usd = -5")],
        &["`price.start_price_usd` = -5 is out of range: must be > 0"],
    );
    let text = std::fs::read_to_string(scenario_path("base")).unwrap().replacen(
        "start_price_usd = 93429.20",
        "start_price_usd = -5",
        1,
    );
    assert!(stderr.contains(&location_of(&text, "-5")), "{stderr}");
}

#[test]
fn probability_above_one_is_out_of_range() {
    assert_rejected(
        "probability",
        &[(
            "bull_to_bear_probability_per_month = 0.050",
            "bull_to_bear_probability_per_month = 1.5",
        )],
        &["`price.regime_switching.bull_to_bear_probability_per_month` = 1.5 is out of range: must be in [0, 1]"],
    );
}

#[test]
fn unparsable_start_month_is_reported() {
    assert_rejected(
        "start-month",
        &[("start_month = \"2025-01\"", "start_month = \"2025-13\"")],
        &["`simulation.start_month` = \"2025-13\" is not a month"],
    );
}

#[test]
fn a_roadmap_selling_a_generation_released_after_the_horizon_is_reported() {
    // A generation released after the horizon is allowed (it never appears), but not one a roadmap sells.
    assert_rejected(
        "late-generation",
        &[("release_month = \"2033-03\"", "release_month = \"2036-01\"")],
        &["is before generation \"Gen 2033\" is released (2036-01)"],
    );
}

#[test]
fn region_shares_must_sum_to_one() {
    assert_rejected(
        "region-shares",
        &[("fleet_share = 0.40", "fleet_share = 0.50")],
        &["regions' fleet_share values must sum to 1, but they sum to 1.100000"],
    );
}

#[test]
fn toml_syntax_errors_are_reported() {
    assert_rejected(
        "syntax",
        &[("horizon_months = 120", "horizon_months = = 120")],
        &["TOML syntax error"],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let stderr = assert_rejected(
        "many",
        &[
            ("start_month = \"2025-01\"", "start_month = \"2025-1\""),
            ("start_price_usd = 93429.20", "start_price_usd = -5"),
            (
                "bull_to_bear_probability_per_month = 0.050",
                "bull_to_bear_probability_per_month = 1.5",
            ),
            ("fleet_share = 0.40", "fleet_share = 0.50"),
            ("hashrate_ths = 88", "hashrate_ths = \"88\""),
            ("futures_share = 0.8 ", "futures_shar = 0.8 "),
        ],
        &[
            "simulation.start_month",
            "price.start_price_usd",
            "bull_to_bear_probability_per_month",
            "fleet_share values must sum to 1",
            "generations[0].hashrate_ths` must be a number",
            "unknown key `manufacturers[0].strategy.futures_shar`",
            "missing key `futures_share`",
        ],
    );
    let n_located = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("broken.toml:") || l.contains("/broken.toml:"))
        .count();
    assert!(
        n_located >= 7,
        "expected at least 7 located problems, got {n_located}:\n{stderr}"
    );
    assert!(stderr.contains("problems"), "{stderr}");
}

#[test]
fn missing_scenario_file_is_a_clean_error() {
    let dir = temp_dir("missing");
    let out = hashcycle(&["run", "no-such-file.toml", "--out", "out"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read the file"), "{stderr}");
    assert!(!dir.join("out").exists());
}

#[test]
fn bad_usage_exits_with_status_one() {
    let dir = temp_dir("usage");
    let out = hashcycle(&["run"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let out = hashcycle(&["frobnicate"], &dir);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn issue_30_options_out_of_range_are_refused_before_anything_runs() {
    // `--paths 4294967295` aborted in the allocator (exit status 134) and left a staging directory behind.
    let dir = temp_dir("option-ranges");
    let scenario = scenario_path("base");
    let scenario = scenario.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", scenario, "--paths", "0"],
            "'0' for '--paths <PATHS>': 0 is not in 1..=10000000",
        ),
        (
            &["run", scenario, "--paths", "10000001"],
            "10000001 is not in 1..=10000000",
        ),
        (
            &["run", scenario, "--paths", "4294967295"],
            "4294967295 is not in 1..=10000000",
        ),
        (
            &["sweep", "sweep.toml", "--paths", "10000001"],
            "10000001 is not in 1..=10000000",
        ),
        (
            &["run", scenario, "--threads", "0"],
            "'0' for '--threads <THREADS>': 0 is not in 1..=4096",
        ),
        (&["sweep", "sweep.toml", "--paths", "0"], "'--paths <PATHS>'"),
        (&["sweep", "sweep.toml", "--threads", "0"], "'--threads <THREADS>'"),
        (&["backtest", "--paths", "0"], "'--paths <PATHS>'"),
        (&["calibrate", "--threads", "0"], "'--threads <THREADS>'"),
    ];
    for (args, expected) in cases {
        let out = hashcycle(&[*args, &["--out", "out"]].concat(), &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: `{expected}` missing from\n{stderr}"
        );
        assert!(!dir.join("out").exists(), "{args:?} wrote output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn issue_30_commands_that_keep_every_path_refuse_more_paths_than_fit_in_memory() {
    // A replay keeps each path's months for its bands (about 27 KB a path), a backtest its series and a
    // sensitivity each evaluation's metric, a sweep each cell's outcomes: asked for millions of paths, each
    // refuses up front, writing nothing.
    let dir = temp_dir("paths-memory");
    let base = scenario_path("base");
    let base = base.to_str().unwrap();
    let sweep = format!("{}/scenarios/sweeps/futures_prepay.toml", env!("CARGO_MANIFEST_DIR"));
    let cases: &[(&[&str], &str)] = &[
        (&["replay", "--paths", "9000000"], "more than replay can hold"),
        (&["backtest", "--paths", "9000000"], "more than a backtest can hold"),
        (
            &["sensitivity", base, "--paths", "9000000"],
            "more than a sensitivity can hold",
        ),
        (
            &["sweep", &sweep, "--paths", "9000000"],
            "more than a sweep cell can hold",
        ),
    ];
    for (args, expected) in cases {
        let out = hashcycle(&[*args, &["--out", "out"]].concat(), &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: `{expected}` missing from\n{stderr}"
        );
        assert!(stderr.contains("(--paths)"), "{args:?}: {stderr}");
        assert!(!dir.join("out").exists(), "{args:?} wrote output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_type_deep_in_an_array_of_tables_is_located() {
    let stderr = assert_rejected(
        "deep-type",
        &[("unit_cost_usd = 3700", "unit_cost_usd = \"3700\"")],
        &["`manufacturers[2].roadmap[3].unit_cost_usd` must be a number in (0, 1000000000], found a string"],
    );
    let text = std::fs::read_to_string(scenario_path("base")).unwrap().replacen(
        "unit_cost_usd = 3700",
        "unit_cost_usd = \"3700\"",
        1,
    );
    assert!(stderr.contains(&location_of(&text, "\"3700\"")), "{stderr}");
}

#[test]
fn wrong_type_inside_an_inline_array_is_located() {
    assert_rejected(
        "array-item",
        &[("local_assembly_regions = []", "local_assembly_regions = [\"us\", 7]")],
        &["`manufacturers[0].local_assembly_regions` must list region names, found an integer"],
    );
}

#[test]
fn an_array_of_tables_given_as_a_plain_value_is_reported() {
    assert_rejected(
        "not-tables",
        &[("[simulation]\n", "events = [1, \"two\"]\n\n[simulation]\n")],
        &[
            "`events[0]` must be a table, found an integer",
            "`events[1]` must be a table, found a string",
        ],
    );
}

#[test]
fn a_duplicate_key_is_reported_at_its_second_occurrence() {
    let stderr = assert_rejected(
        "duplicate-key",
        &[("horizon_months = 120", "horizon_months = 120\nhorizon_months = 60")],
        &["TOML syntax error", "duplicate key"],
    );
    assert!(stderr.contains("broken.toml:19:1"), "{stderr}");
}

#[test]
fn a_duplicate_table_is_reported() {
    assert_rejected(
        "duplicate-table",
        &[("[dealers]\n", "[dealers]\ncash_usd = 1\n\n[dealers]\n")],
        &["TOML syntax error"],
    );
}

#[test]
fn a_value_of_the_wrong_kind_for_a_table_is_reported() {
    assert_rejected(
        "scalar-table",
        &[("lag_months = 3 ", "lag_months = { months = 3 } ")],
        &["`relocation.lag_months` must be a whole number in [0, 60], found a table"],
    );
}

#[test]
fn integers_too_large_and_special_floats_are_out_of_range() {
    assert_rejected(
        "huge-numbers",
        &[
            ("paths = 1000 ", "paths = 99999999999999999999999 "),
            ("start_price_usd = 93429.20", "start_price_usd = nan"),
            ("hashrate_ehs = 778.452", "hashrate_ehs = inf"),
        ],
        &[
            "`simulation.paths` = 99999999999999999999999 is out of range: must be a whole number in [1, 10000000]",
            "`price.start_price_usd` = NaN is out of range",
            "`network.hashrate_ehs` = inf is out of range",
        ],
    );
}

#[test]
fn a_toml_date_is_not_a_month() {
    assert_rejected(
        "toml-date",
        &[("start_month = \"2025-01\"", "start_month = 2025-01-01")],
        &["`simulation.start_month` = \"2025-01-01\" is not a month"],
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let dir = temp_dir("not-utf8");
    let text = std::fs::read_to_string(scenario_path("base")).unwrap();
    let line_3 = text.lines().take(2).map(|l| l.len() + 1).sum::<usize>();
    let mut bytes = text.into_bytes();
    // "# hashcycle" on line 3 becomes "# hash\xFFcycle": the bad byte is at column 7.
    bytes.splice(line_3 + 6..line_3 + 6, [0xFF]);
    let file = dir.join("broken.toml");
    std::fs::write(&file, bytes).unwrap();
    let check: &[&str] = &["check", "broken.toml"];
    let run: &[&str] = &["run", "broken.toml", "--out", "out"];
    for args in [check, run] {
        let out = hashcycle(args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("broken.toml:3:7"), "{stderr}");
        assert!(stderr.contains("not UTF-8 text: byte 0xFF"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!dir.join("out").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_file_lists_the_missing_sections() {
    let dir = temp_dir("empty");
    std::fs::write(dir.join("broken.toml"), "").unwrap();
    let out = hashcycle(&["check", "broken.toml"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.toml:1:1: missing key `simulation`"), "{stderr}");
    assert!(stderr.contains("missing key `regions`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_given_as_the_scenario_is_a_clean_error() {
    let dir = temp_dir("dir-scenario");
    std::fs::create_dir_all(dir.join("broken.toml")).unwrap();
    let out = hashcycle(&["run", "broken.toml", "--out", "out"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.toml:1:1: cannot read the file"), "{stderr}");
    assert!(!dir.join("out").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deeply_nested_arrays_are_an_error_not_a_crash() {
    let dir = temp_dir("nesting");
    let depth = 100_000;
    let text = format!("[simulation]\nname = {}{}\n", "[".repeat(depth), "]".repeat(depth));
    std::fs::write(dir.join("broken.toml"), text).unwrap();
    let out = hashcycle(&["check", "broken.toml"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.toml:2:"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("overflow"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defects 1, 10 and 11: names that are `.` or `..`, hidden names like a staging directory's,
/// and names too long for the staging names built from them are refused by `check` and `run` with the rule,
/// before anything is simulated or written.
#[test]
fn issue_30_dot_hidden_and_overlong_scenario_names_are_refused() {
    let long = "n".repeat(101);
    for (tag, bad) in [
        ("name-dot", "."),
        ("name-dotdot", ".."),
        ("name-staging", ".base.partial-4000000"),
        ("name-long", long.as_str()),
    ] {
        let stderr = assert_rejected(
            tag,
            &[("name = \"base\"", &format!("name = \"{bad}\""))],
            &["simulation.name"],
        );
        assert!(
            stderr.contains("must not start with '.'") || stderr.contains("at most 100 are allowed"),
            "{tag}: {stderr}"
        );
    }
}

/// Issue 30, defect 1: a sweep named `..` run as a shard is refused before anything is written, so nothing
/// beside the output root is created, moved or deleted.
#[test]
fn issue_30_a_sweep_named_dotdot_run_as_a_shard_writes_nothing_outside_its_root() {
    let dir = temp_dir("sweep-dotdot");
    let sibling = dir.join("shards");
    std::fs::create_dir_all(sibling.join("0-of-1")).unwrap();
    std::fs::write(sibling.join("0-of-1/keep.txt"), "user data").unwrap();
    let file = dir.join("sweep.toml");
    std::fs::write(
        &file,
        format!(
            "[sweep]\nname = \"..\"\nscenarios = [\"{}\"]\npaths = 2\n\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.1, 0.5]\n",
            scenario_path("base").display()
        ),
    )
    .unwrap();
    let out = hashcycle(
        &[
            "sweep",
            file.to_str().unwrap(),
            "--shard",
            "0/1",
            "--out",
            dir.join("out").to_str().unwrap(),
        ],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sweep.name"), "{stderr}");
    assert!(!dir.join("out").exists(), "nothing is written");
    assert_eq!(
        std::fs::read_to_string(sibling.join("0-of-1/keep.txt")).unwrap(),
        "user data"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defect 17: a scenario or sweep "file" that is a device, a FIFO or larger than 16 MiB is refused
/// at once with exit 1, instead of being read until memory runs out or blocking forever.
#[test]
fn issue_30_devices_fifos_and_huge_files_are_refused_before_reading() {
    let dir = temp_dir("source-kinds");
    let huge = dir.join("huge.toml");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(16 * 1024 * 1024 + 1).unwrap();
    let fifo = dir.join("fifo.toml");
    let made_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let mut cases = vec![
        ("/dev/zero".to_string(), "is not a regular file"),
        (huge.display().to_string(), "more than"),
    ];
    if made_fifo {
        cases.push((fifo.display().to_string(), "is not a regular file"));
    }
    for (path, expected) in &cases {
        for command in ["check", "sweep"] {
            let out_dir = dir.join("out");
            let args: Vec<&str> = match command {
                "check" => vec![command, path.as_str()],
                _ => vec![command, path.as_str(), "--out", out_dir.to_str().unwrap()],
            };
            let out = hashcycle(&args, &dir);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command} {path}: {stderr}");
            assert!(stderr.contains(expected), "{command} {path}: {stderr}");
        }
    }
    assert!(!dir.join("out").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 30, defect 5: a file with 20,000 problems prints the first 50 and counts the rest, instead of
/// megabytes of messages.
#[test]
fn issue_30_thousands_of_problems_print_the_first_fifty_and_count_the_rest() {
    let unknown: String = (0..20_000).map(|k| format!("unknown_key_{k} = 1\n")).collect();
    let (dir, file) = broken(
        "many-problems",
        &[("[simulation]\n", &format!("[simulation]\n{unknown}"))],
    );
    let out = hashcycle(&["check", file.to_str().unwrap()], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("20000 problems"),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    assert!(
        stderr.contains("and 19950 more problems not shown"),
        "{}",
        &stderr[stderr.len().saturating_sub(300)..]
    );
    assert!(stderr.len() < 50_000, "{} bytes printed", stderr.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run whose stderr is not a terminal (a batch job's log) says how far it has come at every tenth of its
/// paths and when it is done, instead of drawing a bar nobody sees.
#[test]
fn issue_31_progress_lines_when_not_on_a_terminal() {
    let dir = temp_dir("progress-lines");
    let scenario = crate::support::small_scenario(&dir, "small.toml", &[("paths = 4", "paths = 40")]);
    let out = hashcycle(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with("run small: ")).collect();
    // 10%, 20%, ... 90% (each tenth crossed once), then the last line.
    assert_eq!(progress.len(), 10, "{stderr}");
    assert!(progress[0].contains("4 of 40 paths (10%)"), "{stderr}");
    assert!(progress[9].contains("40 paths simulated in"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A valid hosting contract in base.toml's commented example, uncommented.
const HOSTING_CONTRACT: &str = "[[hosting.contracts]]\nregion = \"us\"\nfrom_month = \"2025-06\"\nuntil_month = \"2027-12\"\n\
offered_mw = 500\nprice_usd_per_mw_year = 1.45e6\nterm_months = 144\nconversion_cost_usd_per_mw = 1.0e6\n\
conversion_lag_months = 12\n";

#[test]
fn hosting_contracts_out_of_range_are_reported_with_their_location_and_range() {
    let bad = HOSTING_CONTRACT
        .replace("region = \"us\"", "region = \"mars\"")
        .replace("offered_mw = 500", "offered_mw = 0")
        .replace("term_months = 144", "term_months = 400")
        .replace(
            "conversion_lag_months = 12",
            "conversion_lag_months = 12\ncancellation_hazard_per_month = 1.5",
        );
    let marker = "redeploy_share = 0.8                   # share of displaced";
    let stderr = assert_rejected(
        "hosting-contract",
        &[(marker, &format!("{bad}{marker}"))],
        &[
            "`hosting.contracts[0].offered_mw` = 0 is out of range: must be in (0, 1000000]",
            "`hosting.contracts[0].term_months` = 400 is out of range: must be a whole number in [1, 360]",
            "`hosting.contracts[0].cancellation_hazard_per_month` = 1.5 is out of range: must be in [0, 1]",
            "mars",
        ],
    );
    let text = std::fs::read_to_string(scenario_path("base"))
        .unwrap()
        .replacen(marker, &format!("{bad}{marker}"), 1);
    assert!(stderr.contains(&location_of(&text, "400\nconversion_cost")), "{stderr}");
}

#[test]
fn a_hosting_window_ending_before_it_starts_is_reported() {
    let bad = HOSTING_CONTRACT.replace("until_month = \"2027-12\"", "until_month = \"2025-01\"");
    let marker = "redeploy_share = 0.8                   # share of displaced";
    assert_rejected(
        "hosting-window",
        &[(marker, &format!("{bad}{marker}"))],
        &["`hosting.contracts[0].until_month` = 2025-01 must not be before `from_month` = 2025-06"],
    );
}

#[test]
fn hosting_and_ai_power_keys_out_of_range_are_reported() {
    assert_rejected(
        "hosting-keys",
        &[
            ("hurdle_share = 0.25 ", "hurdle_share = -1 "),
            (
                "opex_share_of_power = 0.20                  # hosting",
                "ai_power_demand_mw_per_year = -5\nai_power_price_elasticity = 11\nopex_share_of_power = 0.20                  # hosting",
            ),
        ],
        &[
            "`hosting.hurdle_share` = -1 is out of range: must be in [0, 10]",
            "`regions[0].ai_power_demand_mw_per_year` = -5 is out of range: must be in [0, 10000000]",
            "`regions[0].ai_power_price_elasticity` = 11 is out of range: must be in [0, 10]",
        ],
    );
}

/// `check` of the base scenario with `--set` overrides, which must be refused; returns stderr.
fn refused_with_sets(sets: &[&str]) -> String {
    let mut args = vec!["check", "scenarios/base.toml"];
    for set in sets {
        args.extend(["--set", set]);
    }
    let out = hashcycle(&args, &project_dir());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A misspelt event kind is the one problem reported, with the nearest kind: the keys of the kind meant
/// (`region`, `share`) are not reported as unknown, nor those of another kind (`factor`) as missing.
#[test]
fn a_misspelt_event_kind_is_the_only_problem_and_the_nearest_kind_is_suggested() {
    let event = "[[events]]\nmonth = \"2025-03\"\nkind = \"bann\"\nregion = \"us\"\nshare = 0.5\n";
    let stderr = assert_rejected(
        "event-kind",
        &[(
            "# ----------------------------------------------------------------------------------------------------------\n# Manufacturers.",
            &format!(
                "{event}# ----------------------------------------------------------------------------------------------------------\n# Manufacturers."
            ),
        )],
        &[
            "`events[0].kind` = \"bann\" is not one of \"price_shock\", \"set_regime\", \"power_shock\", \"ban\", \"tariff\", \"tightening\", \"foundry_shortage\" (did you mean \"ban\"?)",
        ],
    );
    assert!(stderr.contains("1 problem\n"), "{stderr}");
}

/// A number out of range is echoed short, not in its full decimal expansion, and one beyond the range of a
/// float is said to be, not shown as `inf`.
#[test]
fn out_of_range_numbers_are_echoed_short() {
    let stderr = refused_with_sets(&["segments.retail.cash_usd=1e300"]);
    assert!(
        stderr.contains(
            "`segments.retail.cash_usd` = 1e300 is out of range: must be in [-1000000000000000, 1000000000000000]"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("000000000000000000000"), "{stderr}");
    let stderr = refused_with_sets(&["segments.retail.cash_usd=1e309"]);
    assert!(
        stderr.contains("`segments.retail.cash_usd` = 1e309 is out of the range of a number"),
        "{stderr}"
    );
    assert!(!stderr.contains("inf"), "{stderr}");
    let stderr = refused_with_sets(&["price.start_price_usd=-1e-9"]);
    assert!(
        stderr.contains("`price.start_price_usd` = -1e-9 is out of range: must be > 0"),
        "{stderr}"
    );
}

/// A seed is any 64-bit unsigned integer; one beyond is out of that range, not "a float".
#[test]
fn a_seed_beyond_64_bits_is_out_of_range() {
    let stderr = refused_with_sets(&["simulation.seed=18446744073709551616"]);
    assert!(
        stderr.contains(
            "`simulation.seed` = 18446744073709551616 is out of range: must be a whole number in [0, 18446744073709551615]"
        ),
        "{stderr}"
    );
    let largest = hashcycle::scenario::Scenario::load_with(
        &scenario_path("base"),
        &["simulation.seed=18446744073709551615".to_string()],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(largest.params.simulation.seed, u64::MAX);
}

/// Wafers in flight at the start beyond what the manufacturer can assemble a month would never all be
/// assembled (at a capacity of 0, never at all): refused where they are written, naming the override that
/// set the capacity.
#[test]
fn wafers_in_flight_above_the_assembly_capacity_are_refused() {
    let stderr = refused_with_sets(&["manufacturers.microbt.capacity_units_per_month=0"]);
    let text = std::fs::read_to_string(scenario_path("base")).unwrap();
    let offset = text.find("initial_wafer_units_per_month = 28000").unwrap() + "initial_wafer_units_per_month = ".len();
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').unwrap();
    assert!(
        stderr.contains(&format!(
            "scenarios/base.toml:{line}:{col}: `manufacturers[1].initial_wafer_units_per_month` = 28000 is out of range: must be in [0, 0]"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("(set on the command line: manufacturers.microbt.capacity_units_per_month=0)"),
        "{stderr}"
    );
    assert!(stderr.contains("1 problem\n"), "{stderr}");
    assert_rejected(
        "wafers-above-capacity",
        &[("capacity_units_per_month = 35000", "capacity_units_per_month = 20000")],
        &["`manufacturers[1].initial_wafer_units_per_month` = 28000 is out of range: must be in [0, 20000]"],
    );
}

/// `waterfall` given what is not a sweep's output directory says so (exit status 1), instead of reporting a
/// missing table of a damaged sweep.
#[test]
fn waterfall_of_a_directory_that_is_not_a_sweep_says_what_it_is() {
    let dir = temp_dir("waterfall-not-sweep");
    let run_dir = dir.join("base");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::write(run_dir.join("run.json"), "{}").unwrap();
    let sharded = dir.join("unmerged");
    std::fs::create_dir_all(sharded.join("shards/0-of-2")).unwrap();
    let missing = dir.join("nonexistent");
    for (target, expected) in [
        (
            &missing,
            format!("error: {} does not exist: give a sweep's directory", missing.display()),
        ),
        (
            &run_dir,
            format!(
                "error: {} is a run's output directory, not a sweep's",
                run_dir.display()
            ),
        ),
        (
            &dir,
            format!(
                "error: {} is not a sweep's output directory (it has no sweep.json)",
                dir.display()
            ),
        ),
        (
            &sharded,
            format!(
                "holds the shards of a sweep that has not been merged: run `hashcycle merge {}` first",
                sharded.display()
            ),
        ),
    ] {
        let out = hashcycle(&["waterfall", target.to_str().unwrap()], &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(!stderr.contains("sweep.parquet is missing"), "{stderr}");
    }
    assert!(!run_dir.join("charts").exists(), "nothing is drawn");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The backtest template is not a scenario: `run`, `check` and `sweep` say which command it is for, instead of
/// listing the keys the backtest derives from the data.
#[test]
fn the_backtest_template_is_refused_naming_the_backtest_command() {
    let dir = temp_dir("run-template");
    for command in ["run", "check", "sweep"] {
        let mut args = vec![command, "scenarios/backtest.toml"];
        if command != "check" {
            args.extend(["--out", dir.to_str().unwrap()]);
        }
        let out = hashcycle(&args, &project_dir());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        let line = std::fs::read_to_string(project_dir().join("scenarios/backtest.toml"))
            .unwrap()
            .lines()
            .position(|l| l.starts_with("[backtest]"))
            .unwrap()
            + 1;
        assert_eq!(
            stderr,
            format!(
                "error: scenarios/backtest.toml:{line}:2: scenarios/backtest.toml is a backtest template, not a scenario: its \
                 [backtest] table says how to complete it from the data; run it with \
                 `hashcycle backtest --scenario scenarios/backtest.toml`\n"
            ),
            "{command}"
        );
    }
    assert!(!dir.join("backtest").exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}
