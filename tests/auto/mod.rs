//! `canaryctl auto` against a real Envoy under real load, with short
//! intervals: a healthy canary completes; one answering 20% 503s and one
//! slower than `--max-p99-ms` are rolled back with the reason; a canary
//! without traffic is never promoted and ends in rollback at the deadline;
//! a run killed (SIGKILL) mid-run resumes at its step; an edit by someone
//! else stops the run. Each prints the time from the first bad step to the
//! rollback.

mod bench;
mod gates;
mod prometheus;

use serde_json::json;

use bench::{follow, run_auto, spawn_auto, Bench, Faults, FAST};

#[test]
fn healthy_canary_completes_with_every_step_passing() {
    let bench = Bench::start(Faults::default());
    let load = bench.load("pay-service", 1);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", &admin];
    args.extend_from_slice(FAST);
    let run = run_auto(bench.file(), &args);
    let tally = load.finish();
    run.print("healthy");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every step seen passing, once each, in order (a step may be held as
    // inconclusive first when the shared machine slows the load down).
    let verdicts = run.verdicts();
    let passed: Vec<u64> = verdicts
        .iter()
        .filter(|(_, v)| v == "pass")
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(passed, [0, 1, 2], "{verdicts:?}");
    assert!(verdicts.iter().all(|(_, v)| v != "fail"), "{verdicts:?}");
    assert_eq!(run.steps_set(), [0, 1, 2]);
    assert!(run
        .of("weight_set")
        .iter()
        .all(|e| e["applied"] == "confirmed"));
    assert_eq!(run.of("completed").len(), 1);
    assert_eq!(bench.weight(), json!(100));
    // The run changed weights under load: no request failed for it.
    tally.assert_no_failure("during the healthy run");
    assert!(tally.v2 > 0 && tally.v1 > 0, "{tally:?}");
}

#[test]
fn canary_with_20_percent_errors_is_rolled_back_with_the_reason() {
    let bench = Bench::start(Faults {
        abort_percent: 20,
        ..Faults::default()
    });
    let _load = bench.load("pay-service", 1);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", &admin];
    args.extend_from_slice(FAST);
    let run = run_auto(bench.file(), &args);
    run.print("20% errors");
    assert_eq!(run.code, 3, "rolled back: {}", run.stderr);
    let verdicts = run.verdicts();
    let first_fail = verdicts.iter().position(|(_, v)| v == "fail").unwrap();
    let fails = verdicts.iter().filter(|(_, v)| v == "fail").count();
    // Rolled back within failure-limit (2) intervals of the first bad one.
    assert_eq!(fails, 2, "{verdicts:?}");
    assert!(verdicts.len() - first_fail <= 2, "{verdicts:?}");
    // No step after the failure.
    let bad_step = verdicts[first_fail].0;
    assert!(
        run.steps_set().iter().all(|&s| s <= bad_step),
        "{:?}",
        run.steps_set()
    );
    let reason = run.of("rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("error rate")
            && reason.contains("max-error-rate 1%")
            && reason.contains("baseline"),
        "{reason}"
    );
    assert_eq!(bench.weight(), json!(0));
    eprintln!(
        "first bad step to rollback (20% errors): {} ms",
        run.first_bad_step_to_rollback_ms()
    );
}

#[test]
fn canary_slower_than_max_p99_is_rolled_back_for_latency() {
    let bench = Bench::start(Faults {
        delay_ms: 150,
        delay_percent: 50,
        ..Faults::default()
    });
    let _load = bench.load("pay-service", 2);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", &admin, "--max-p99-ms", "100"];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--min-requests", "10", "--interval", "2s"]);
    let run = run_auto(bench.file(), &args);
    run.print("slow");
    assert_eq!(run.code, 3, "{}", run.stderr);
    let reason = run.of("rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("p99") && reason.contains("max-p99-ms 100"),
        "{reason}"
    );
    let fails = run.of("verdict");
    let fail = fails.iter().find(|e| e["verdict"] == "fail").unwrap();
    assert_eq!(fail["findings"][0]["metric"], "p99_ms");
    assert!(fail["findings"][0]["value"].as_f64().unwrap() > 100.0);
    assert_eq!(bench.weight(), json!(0));
    eprintln!(
        "first bad step to rollback (latency): {} ms",
        run.first_bad_step_to_rollback_ms()
    );
}

#[test]
fn canary_without_traffic_is_never_promoted_and_rolls_back_at_the_deadline() {
    let bench = Bench::start(Faults::default());
    // Requests only for a host no release covers: they all go to pay-v1.
    let load = bench.load("elsewhere.test", 1);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", &admin];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--interval", "1s", "--deadline", "4s"]);
    let run = run_auto(bench.file(), &args);
    let tally = load.finish();
    run.print("no traffic");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(tally.v1 > 0 && tally.v2 == 0, "{tally:?}");
    assert!(
        run.verdicts().iter().all(|(_, v)| v == "inconclusive"),
        "{:?}",
        run.verdicts()
    );
    assert_eq!(run.steps_set(), [0], "held at the first step");
    assert!(run.of("completed").is_empty());
    let reason = run.of("rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.starts_with("deadline"), "{reason}");
    assert_eq!(bench.weight(), json!(0));
}

#[test]
fn killed_mid_run_resumes_at_the_same_step() {
    let bench = Bench::start(Faults::default());
    let load = bench.load("pay-service", 1);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", &admin];
    args.extend_from_slice(FAST);
    // SIGKILL once step 2 (50%) is applied, in the middle of its interval.
    let first = follow(spawn_auto(bench.file(), &args), |e| {
        e["event"] == "weight_set" && e["step"] == 1
    });
    first.print("first, killed");
    assert_eq!(first.code, -9);
    assert_eq!(bench.weight(), json!(50));
    let second = run_auto(bench.file(), &args);
    let tally = load.finish();
    second.print("second, resumed");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.of("started")[0]["resumed"], "step 2");
    // Step 2 is measured again, not set again; nothing before it repeats.
    assert_eq!(second.steps_set(), [2]);
    let verdicts = second.verdicts();
    assert_eq!(
        verdicts[0].0, 1,
        "the first verdict is step 2's: {verdicts:?}"
    );
    assert!(verdicts.contains(&(1, "pass".into())), "{verdicts:?}");
    assert_eq!(bench.weight(), json!(100));
    tally.assert_no_failure("during the killed and resumed run");
    // A run that ended does not start again by itself.
    let again = run_auto(bench.file(), &args);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("has ended"), "{}", again.stderr);
}

#[test]
fn an_edit_by_someone_else_stops_the_run_and_bad_settings_change_nothing() {
    let bench = Bench::start(Faults::default());
    let _load = bench.load("pay-service", 1);
    let admin = bench.admin_url();
    let before = std::fs::read(&bench.ecds_file).unwrap();
    for (bad, message) in [
        (vec!["--steps", "50,20"], "must rise"),
        (vec!["--max-error-rate", "120"], "0 to 100"),
        (
            vec!["--cluster", "pay-v2=nope"],
            "nope is not one of its clusters",
        ),
    ] {
        let mut args = vec!["--admin", admin.as_str()];
        args.extend(bad);
        let run = run_auto(bench.file(), &args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        assert_eq!(std::fs::read(&bench.ecds_file).unwrap(), before);
    }
    let run = run_auto(bench.file(), &["--admin", &admin, "--steps", "20", "--foo"]);
    assert_eq!(run.code, 2, "usage error: {}", run.stderr);

    let mut args = vec!["--admin", admin.as_str()];
    args.extend_from_slice(FAST);
    let ctl = crate::support::release::Canaryctl::find();
    let file = bench.file().to_string();
    let run = follow(spawn_auto(bench.file(), &args), move |e| {
        if e["event"] == "weight_set" {
            let edit = ctl.run(&["set-weight", &file, "pay", "35"]);
            assert_eq!(edit.code, 0, "{}", edit.stderr);
        }
        false
    });
    run.print("edited meanwhile");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("edited by someone else"),
        "{}",
        run.stderr
    );
    assert_eq!(bench.weight(), json!(35), "the person's edit stands");
}

#[test]
fn status_shows_each_versions_health_over_the_last_interval() {
    let bench = Bench::start(Faults {
        abort_percent: 20,
        ..Faults::default()
    });
    let admin = bench.admin_url();
    let ctl = crate::support::release::Canaryctl::find();
    let file = bench.file();
    let set = ctl.run(&["set-weight", file, "pay", "50", "--wait", "--admin", &admin]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let _load = bench.load("pay-service", 1);
    let args = [
        "status",
        "--admin",
        &admin,
        "--file",
        file,
        "--interval",
        "1",
    ];
    let run = ctl.run(&[&args[..], &["--json"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let versions = report["versions"].as_array().unwrap();
    let (baseline, canary) = (&versions[0], &versions[1]);
    assert_eq!(
        (baseline["version"].as_str(), canary["version"].as_str()),
        (Some("pay-v1"), Some("pay-v2"))
    );
    assert!(canary["requests"].as_u64().unwrap() > 50, "{report}");
    // 20% of the canary's requests are 503s: well inside 5..40% over 1 s.
    let rate = canary["error_rate"].as_f64().unwrap();
    assert!((5.0..40.0).contains(&rate), "{report}");
    assert_eq!(baseline["error_rate"], 0.0, "{report}");
    let text = ctl.run(&args);
    eprintln!("{}", text.stdout);
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("pay") && l.contains("canary")),
        "{}",
        text.stdout
    );
}
