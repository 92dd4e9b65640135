//! Scenarios built from others (`extends`), `--set` overrides, and the messages of issue 31: follow-on
//! problems suppressed, the nearest key suggested, a sweep file given to `run` named as one.

use std::path::{Path, PathBuf};

use crate::support::{hashcycle, project_dir, scenario_path, temp_dir};
use hashcycle::scenario::Scenario;

fn small_text() -> String {
    std::fs::read_to_string(project_dir().join("tests/data/small.toml")).unwrap()
}

/// A directory holding `base/small.toml` (the small test scenario) and the given files, by relative name.
fn layered(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::write(dir.join("base/small.toml"), small_text()).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn stderr_of(args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let out = hashcycle(args, cwd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A refused command: status 1, no panic text, nothing written.
fn assert_refused(code: Option<i32>, stderr: &str, out_dir: Option<&Path>) {
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if let Some(out_dir) = out_dir {
        assert!(!out_dir.exists(), "{} was written", out_dir.display());
    }
}

/// The shipped bear and bull cases extend base.toml and state only what differs; validated, they are exactly
/// the parameters of the full copies they replaced (kept as fixtures), so their results do not change.
#[test]
fn issue_31_bear_and_bull_extend_base_with_unchanged_parameters() {
    for name in ["bear", "bull"] {
        let text = std::fs::read_to_string(scenario_path(name)).unwrap();
        assert!(text.contains("extends = \"base.toml\""), "{name}");
        assert!(text.lines().count() < 60, "{name}.toml should state only what differs");
        let new = Scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{e}"));
        let old_path = project_dir().join(format!("tests/data/{name}_full.toml"));
        let old = Scenario::load(&old_path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{:#?}", old.params), format!("{:#?}", new.params), "{name}");
        let (code, stdout, stderr) = stderr_of(&["check", scenario_path(name).to_str().unwrap()], &project_dir());
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.contains(&format!("scenario \"{name}\"")), "{stdout}");
    }
}

/// Tables merge key by key, named entries by name (a new name is appended), `[[events]]` replace; a chain of
/// two `extends` works, each resolved against the file that names it.
#[test]
fn issue_31_extends_merges_by_key_and_name_through_a_chain() {
    let middle = "extends = \"base/small.toml\"\n[simulation]\nname = \"middle\"\n[[regions]]\nname = \"us\"\nfleet_share = 0.5\n[[regions]]\nname = \"eu\"\nfleet_share = 0.1\npower_price_base_usd_per_kwh = 0.07\n[[events]]\nmonth = \"2025-03\"\nkind = \"price_shock\"\nfactor = 0.9\n";
    let top = "extends = \"../middle.toml\"\n[simulation]\nname = \"top\"\n[[manufacturers]]\nname = \"canaan\"\n[manufacturers.strategy]\nprepay_share = 0.45\n[[events]]\nmonth = \"2025-02\"\nkind = \"set_regime\"\nregime = \"bear\"\n";
    let dir = layered("extends-chain", &[("middle.toml", middle)]);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("nested/top.toml"), top).unwrap();
    let top_path = dir.join("nested/top.toml");
    let (code, stdout, stderr) = stderr_of(&["check", top_path.to_str().unwrap()], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("scenario \"top\"") && stdout.contains("3 regions") && stdout.contains("1 scripted events"),
        "{stdout}"
    );
    let params = Scenario::load(&top_path).unwrap_or_else(|e| panic!("{e}")).params;
    let regions: Vec<(&str, f64)> = params
        .regions
        .iter()
        .map(|r| (r.name.as_str(), r.fleet_share))
        .collect();
    assert_eq!(regions, [("us", 0.5), ("other", 0.4), ("eu", 0.1)]);
    // The region the middle file changed keeps the base's keys it did not name.
    assert_eq!(params.regions[0].power_price_base_usd_per_kwh, 0.045);
    let canaan = params.manufacturers.iter().find(|m| m.name == "canaan").unwrap();
    assert_eq!(canaan.strategy.prepay_share, 0.45);
    assert_eq!(params.manufacturers[0].strategy.prepay_share, 0.5);
    assert_eq!(params.events.len(), 1, "[[events]] replace, they do not append");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A problem in a merged scenario is reported at the file, line and column that wrote the value: the
/// extending file for its own values, the extended file for values it inherits.
#[test]
fn issue_31_problems_in_a_merged_scenario_point_at_the_file_that_wrote_them() {
    let child = "extends = \"base/small.toml\"\n[simulation]\nname = \"child\"\n[[manufacturers]]\nname = \"bitmain\"\n[manufacturers.strategy]\nprepay_share = 1.5\n";
    let dir = layered("extends-located", &[("child.toml", child)]);
    let out_dir = dir.join("out");
    let (code, _, stderr) = stderr_of(&["run", "child.toml", "--out", out_dir.to_str().unwrap()], &dir);
    assert_refused(code, &stderr, Some(&out_dir));
    assert!(
        stderr.contains(
            "child.toml:7:16: `manufacturers[0].strategy.prepay_share` = 1.5 is out of range: must be in [0, 1]"
        ),
        "{stderr}"
    );
    // A share that cannot be read is one problem: the sum it would break is not reported as well.
    let child = "extends = \"base/small.toml\"\n[[regions]]\nname = \"other\"\nfleet_share = \"forty\"\n";
    std::fs::write(dir.join("child.toml"), child).unwrap();
    let (code, _, stderr) = stderr_of(&["check", "child.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("1 problem\n"), "{stderr}");
    assert!(
        stderr.contains("child.toml:4:15: `regions[1].fleet_share` must be a number in [0, 1], found a string"),
        "{stderr}"
    );
    // Inherited: the base's starting fleet holds a generation released after the start the child moved.
    std::fs::write(
        dir.join("child.toml"),
        "extends = \"base/small.toml\"\n[simulation]\nstart_month = \"2019-01\"\n",
    )
    .unwrap();
    let (code, _, stderr) = stderr_of(&["check", "child.toml"], &dir);
    assert_refused(code, &stderr, None);
    let fleet_line = small_text()
        .lines()
        .position(|l| l == "generation = \"S19 Pro\"")
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "base/small.toml:{fleet_line}:14: the starting fleet holds generation \"S19 Pro\""
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cycle of `extends` names the files; a file that is not there is reported at the `extends` naming it.
#[test]
fn issue_31_extends_cycles_and_missing_files_are_errors() {
    let dir = layered(
        "extends-cycle",
        &[
            ("a.toml", "extends = \"b.toml\"\n"),
            ("b.toml", "extends = \"a.toml\"\n"),
            ("c.toml", "# no base\nextends = \"nowhere.toml\"\n"),
        ],
    );
    let (code, _, stderr) = stderr_of(&["check", "a.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("b.toml:1:11: `extends` makes a cycle"), "{stderr}");
    assert!(stderr.contains("a.toml extends b.toml extends"), "{stderr}");
    let (code, _, stderr) = stderr_of(&["check", "c.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(
        stderr.contains("c.toml:2:11: cannot read `nowhere.toml`, which `extends` names"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A relative data path resolves against the file that names it, and, when the scenario was copied
/// elsewhere, against the project's `data/` directory.
#[test]
fn issue_31_a_copied_scenario_still_finds_its_history_file() {
    let dir = temp_dir("extends-data");
    let copy = dir.join("copy.toml");
    std::fs::copy(scenario_path("base"), &copy).unwrap();
    let copy_arg = copy.to_str().unwrap();
    let bootstrap = "price.model=\"bootstrap\"";
    // From the project directory, `../data/btc_monthly.csv` is found in the project's data/.
    let (code, _, stderr) = stderr_of(&["check", copy_arg, "--set", bootstrap], &project_dir());
    assert_eq!(code, Some(0), "{stderr}");
    // From elsewhere there is no project data/ to fall back on; the message names the file and where it was.
    let (code, _, stderr) = stderr_of(&["check", copy_arg, "--set", bootstrap], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("copy.toml:"), "{stderr}");
    assert!(
        stderr.contains("cannot use price history `../data/btc_monthly.csv`"),
        "{stderr}"
    );
    // A scenario extending the shipped base from elsewhere reads the history next to the base.
    std::fs::write(
        dir.join("mine.toml"),
        format!(
            "extends = {:?}\n[price]\nmodel = \"bootstrap\"\n",
            scenario_path("base").display().to_string()
        ),
    )
    .unwrap();
    let (code, _, stderr) = stderr_of(&["check", "mine.toml"], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--set` changes a value by path (by name in arrays of tables), is recorded in run.json, and a problem with
/// it is shown on the override itself.
#[test]
fn issue_31_set_overrides_a_value_and_is_recorded() {
    let dir = layered("extends-set", &[]);
    let out_dir = dir.join("out");
    let set = "manufacturers.canaan.strategy.prepay_share=0.42";
    let (code, _, stderr) = stderr_of(
        &[
            "run",
            "base/small.toml",
            "--paths",
            "2",
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            set,
            "--set",
            "simulation.seed=7",
        ],
        &dir,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("small/run.json")).unwrap()).unwrap();
    assert_eq!(manifest["overrides"], serde_json::json!([set, "simulation.seed=7"]));
    assert_eq!(manifest["seed"], 7);
    assert_eq!(manifest["manufacturers"][1]["strategy"]["prepay_share"], 0.42);

    let bad_out = dir.join("bad-out");
    let (code, _, stderr) = stderr_of(
        &[
            "run",
            "base/small.toml",
            "--out",
            bad_out.to_str().unwrap(),
            "--set",
            "manufacturers.canan.strategy.prepay_share=0.5",
        ],
        &dir,
    );
    assert_refused(code, &stderr, Some(&bad_out));
    assert!(stderr.contains("--set:1:7: `manufacturers.canan.strategy"), "{stderr}");
    assert!(stderr.contains("did you mean \"canaan\"?"), "{stderr}");
    let (code, _, stderr) = stderr_of(
        &[
            "check",
            "base/small.toml",
            "--set",
            "manufacturers.bitmain.strategy.prepay_share=7",
        ],
        &dir,
    );
    assert_refused(code, &stderr, None);
    assert!(
        stderr.contains("--set:1:51: `manufacturers[0].strategy.prepay_share` = 7 is out of range: must be in [0, 1]"),
        "{stderr}"
    );
    let (code, _, stderr) = stderr_of(&["check", "base/small.toml", "--set", "price.start_regime=bear"], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("not a TOML value"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sweep --set` applies to every scenario of the sweep and is checked like `run`'s.
#[test]
fn issue_31_sweep_takes_set_overrides() {
    let dir = layered(
        "extends-sweep",
        &[(
            "s.toml",
            "[sweep]\nname = \"s\"\nscenarios = [\"base/small.toml\"]\npaths = 2\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3]\n",
        )],
    );
    let out_dir = dir.join("out");
    let (code, _, stderr) = stderr_of(
        &[
            "sweep",
            "s.toml",
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            "regions.uss.fleet_share=0.6",
        ],
        &dir,
    );
    assert_refused(code, &stderr, Some(&out_dir));
    assert!(stderr.contains("did you mean \"us\"?"), "{stderr}");
    let (code, _, stderr) = stderr_of(
        &[
            "sweep",
            "s.toml",
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            "simulation.seed=9",
        ],
        &dir,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("s/sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["overrides"], serde_json::json!(["simulation.seed=9"]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One wrong type is one problem: the horizon that cannot be read is not used to judge every later month.
#[test]
fn issue_31_one_wrong_type_gives_one_problem() {
    let dir = temp_dir("follow-on");
    let text = std::fs::read_to_string(scenario_path("base")).unwrap().replacen(
        "horizon_months = 120",
        "horizon_months = \"120\"",
        1,
    );
    std::fs::write(dir.join("h.toml"), text).unwrap();
    let (code, _, stderr) = stderr_of(&["check", "h.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("is not a valid scenario: 1 problem\n"), "{stderr}");
    assert!(
        stderr
            .contains("h.toml:18:18: `simulation.horizon_months` must be a whole number in [1, 1200], found a string"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An unknown key names the nearest valid one; a misspelt subcommand the nearest command.
#[test]
fn issue_31_unknown_keys_and_commands_suggest_the_nearest() {
    let child = "extends = \"base/small.toml\"\n[[manufacturers]]\nname = \"bitmain\"\n[manufacturers.strategy]\nfutures_shares = 0.5\n";
    let dir = layered("suggest", &[("child.toml", child)]);
    let (code, _, stderr) = stderr_of(&["check", "child.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(
        stderr.contains(
            "child.toml:5:1: unknown key `manufacturers[0].strategy.futures_shares` (did you mean `futures_share`?"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = stderr_of(&["chek", "child.toml"], &dir);
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("a similar subcommand exists: 'check'"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep file given to `run` or `check` is named as one, with the command to use; a scenario given to
/// `sweep` likewise.
#[test]
fn issue_31_a_sweep_file_given_to_run_says_which_command_to_use() {
    let sweep = project_dir().join("scenarios/sweeps/futures_prepay.toml");
    let sweep_arg = sweep.to_str().unwrap();
    let sweep_line = std::fs::read_to_string(&sweep)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("[sweep]"))
        .unwrap()
        + 1;
    let dir = temp_dir("sweep-as-run");
    let out_dir = dir.join("out");
    for command in ["run", "check"] {
        let (code, _, stderr) = stderr_of(
            &[command, sweep_arg, "--out", out_dir.to_str().unwrap()][..if command == "run" { 4 } else { 2 }],
            &dir,
        );
        assert_refused(code, &stderr, Some(&out_dir));
        assert!(
            stderr.contains(&format!(
                "{sweep_arg}:{sweep_line}:2: {sweep_arg} is a sweep file, not a scenario: run it with `hashcycle sweep {sweep_arg}`"
            )),
            "{stderr}"
        );
    }
    let base = scenario_path("bear");
    let (code, _, stderr) = stderr_of(
        &["sweep", base.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        &dir,
    );
    assert_refused(code, &stderr, Some(&out_dir));
    let extends_line = std::fs::read_to_string(&base)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("extends ="))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "bear.toml:{extends_line}:1: {} is a scenario file, not a sweep: run it with `hashcycle run",
            base.display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sharded sweep of a scenario that extends another records the extended file's text, so `merge` rebuilds
/// the plan the shards ran even when the file has changed since, and the merged tables are an unsharded run's.
#[test]
fn issue_31_merge_rebuilds_extending_scenarios_from_the_recorded_texts() {
    let dir = layered(
        "extends-merge",
        &[
            (
                "child.toml",
                "extends = \"base/small.toml\"\n[simulation]\nname = \"child\"\n",
            ),
            (
                "s.toml",
                "[sweep]\nname = \"s\"\nscenarios = [\"child.toml\"]\npaths = 2\n[[grid]]\nparameter = \"manufacturers.bitmain.strategy.prepay_share\"\nvalues = [0.3, 0.6]\n",
            ),
        ],
    );
    let whole = dir.join("whole");
    let sharded = dir.join("sharded");
    let set = ["--set", "simulation.seed=5"];
    let (code, _, stderr) = stderr_of(
        &[&["sweep", "s.toml", "--out", whole.to_str().unwrap()][..], &set].concat(),
        &dir,
    );
    assert_eq!(code, Some(0), "{stderr}");
    for shard in ["0/2", "1/2"] {
        let args = [
            &["sweep", "s.toml", "--out", sharded.to_str().unwrap(), "--shard", shard][..],
            &set,
        ]
        .concat();
        let (code, _, stderr) = stderr_of(&args, &dir);
        assert_eq!(code, Some(0), "{stderr}");
    }
    std::fs::write(dir.join("base/small.toml"), "not = [a scenario").unwrap();
    let (code, _, stderr) = stderr_of(&["merge", sharded.join("s").to_str().unwrap()], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        std::fs::read(whole.join("s/sweep.parquet")).unwrap(),
        std::fs::read(sharded.join("s/sweep.parquet")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A name used twice in an extending file's array of named tables is refused at its second use, as in a
/// file that stands alone, for every such array, and the rest of the scenario is still checked.
#[test]
fn a_name_used_twice_in_an_extending_file_is_refused() {
    for (array, name, value_key) in [
        ("manufacturers", "bitmain", "cash_usd = 2.0"),
        ("regions", "us", "fleet_share = 0.6"),
        ("generations", "S21 XP", "price_new_usd = 4000"),
    ] {
        let child = format!(
            "extends = \"base/small.toml\"\n[simulation]\nname = \"dup\"\nhorizon_months = 0\n\
             [[{array}]]\nname = \"{name}\"\n{value_key}\n[[{array}]]\nname = \"{name}\"\n{value_key}\n"
        );
        let dir = layered("extends-duplicate", &[("child.toml", &child)]);
        let (code, _, stderr) = stderr_of(&["check", "child.toml"], &dir);
        assert_refused(code, &stderr, None);
        let what = array.strip_suffix('s').unwrap();
        assert!(
            stderr.contains(&format!("child.toml:9:8: {what} name \"{name}\" is used twice")),
            "{array}: {stderr}"
        );
        assert!(
            stderr.contains("`simulation.horizon_months` = 0 is out of range"),
            "{array}: {stderr}"
        );
        assert!(stderr.contains("2 problems\n"), "{array}: {stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A shipped scenario can be shortened on the command line: roadmap entries selling from after the horizon
/// are kept (the last months' wafers arrive after it, for the generation then current), and a scripted
/// month that falls outside the shortened run is refused with the run's months and the override named.
#[test]
fn a_shipped_scenario_can_be_shortened_with_set() {
    for horizon_months in [60, 12] {
        let set = format!("simulation.horizon_months={horizon_months}");
        let scenario = Scenario::load_with(&scenario_path("base"), std::slice::from_ref(&set))
            .unwrap_or_else(|e| panic!("{horizon_months} months: {e}"));
        let full = Scenario::load(&scenario_path("base")).unwrap();
        for (short, long) in scenario.params.manufacturers.iter().zip(&full.params.manufacturers) {
            assert_eq!(format!("{:?}", short.roadmap), format!("{:?}", long.roadmap));
        }
        let dir = temp_dir("extends-shortened");
        let out_dir = dir.join("out");
        let (code, _, stderr) = stderr_of(
            &[
                "run",
                scenario_path("base").to_str().unwrap(),
                "--paths",
                "1",
                "--out",
                out_dir.to_str().unwrap(),
                "--set",
                &set,
            ],
            &dir,
        );
        assert_eq!(code, Some(0), "{horizon_months} months: {stderr}");
        assert!(out_dir.join("base/network.parquet").is_file());
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (code, _, stderr) = stderr_of(
        &[
            "check",
            scenario_path("replay").to_str().unwrap(),
            "--set",
            "simulation.horizon_months=12",
        ],
        &project_dir(),
    );
    assert_refused(code, &stderr, None);
    assert!(
        stderr.contains(
            "`events[0].month` = 2021-06 is outside the simulated months 2019-01 to 2019-12 (set on the command line: simulation.horizon_months=12)"
        ),
        "{stderr}"
    );
}

/// A rule across keys that a `--set` override breaks names the override, and the sums of the segments'
/// shares that every region leaves at its fleet_share are not reported again.
#[test]
fn a_rule_broken_by_an_override_names_it() {
    let (code, _, stderr) = stderr_of(
        &[
            "check",
            scenario_path("base").to_str().unwrap(),
            "--set",
            "regions.us.fleet_share=0.5",
        ],
        &project_dir(),
    );
    assert_refused(code, &stderr, None);
    assert!(stderr.contains("1 problem\n"), "{stderr}");
    assert!(
        stderr.contains(
            "regions' fleet_share values must sum to 1, but they sum to 1.100000 (set on the command line: regions.us.fleet_share=0.5)"
        ),
        "{stderr}"
    );
    // A segment's shares written in the file are still summed, and their problem names no override.
    let child = "extends = \"base/small.toml\"\n[[regions]]\nname = \"other\"\nretail_fleet_share = 0.9\n";
    let dir = layered("extends-rule-override", &[("child.toml", child)]);
    let (code, _, stderr) = stderr_of(&["check", "child.toml", "--set", "regions.other.fleet_share=0.9"], &dir);
    assert_refused(code, &stderr, None);
    assert!(
        stderr.contains("(set on the command line: regions.other.fleet_share=0.9)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("regions' retail_fleet_share values must sum to 1"),
        "{stderr}"
    );
    assert!(!stderr.contains("key_account_fleet_share values"), "{stderr}");
    assert!(stderr.contains("2 problems\n"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
