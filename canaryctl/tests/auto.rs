//! `canaryctl auto`'s run as a library call, without Envoy: a scripted
//! health source and a plain plugin file (nothing to confirm), for what a
//! real Envoy cannot stage on cue: a run killed between its write and its
//! record, an edit found on resume, a source that stops answering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use canaryctl::auto::judge::Limits;
use canaryctl::auto::settings::Settings;
use canaryctl::auto::state::{default_path, Phase, State};
use canaryctl::auto::{run, AutoOptions, Outcome};
use canaryctl::health::{Histogram, Sample, Source};
use serde_json::{json, Value};

/// Every sample: 100 more requests per version, `errors` of the canary's
/// 5xx, all under 10 ms; after `answers` samples it stops answering.
struct Scripted {
    calls: AtomicU64,
    canary_errors: u64,
    answers: u64,
}

impl Source for Scripted {
    fn sample(&self, key: &str) -> Result<Sample, String> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n >= self.answers {
            return Err("connection refused".to_string());
        }
        let requests = (n / 2 + 1) * 100;
        let errors = if key == "pay-v2" {
            (n / 2 + 1) * self.canary_errors
        } else {
            0
        };
        Ok(Sample {
            requests,
            errors,
            latency: Histogram {
                buckets: vec![(10.0, requests), (100.0, requests)],
            },
        })
    }

    fn describe(&self) -> String {
        "a script".to_string()
    }
}

fn settings() -> Settings {
    Settings {
        steps: vec![50.0, 100.0],
        interval_ms: 50,
        limits: Limits {
            min_requests: 10,
            max_error_rate: 1.0,
            max_p99_ms: 500.0,
        },
        failure_limit: 2,
        deadline_ms: 20_000,
        ..Settings::default()
    }
}

fn plugin(weight: u64) -> String {
    json!({"releases": [{"name": "pay", "hosts": ["pay-service"], "header": "x-canary-cluster",
        "baseline": "pay-v1", "canary": "pay-v2", "weight": weight}]})
    .to_string()
}

fn options(file: &Path, source: Scripted) -> AutoOptions {
    AutoOptions {
        file: file.to_path_buf(),
        kind: None,
        release: "pay".to_string(),
        canary: None,
        settings: settings(),
        source: Box::new(source),
        admin: None,
        state: None,
        restart: false,
        json: true,
    }
}

fn healthy() -> Scripted {
    Scripted {
        calls: AtomicU64::new(0),
        canary_errors: 0,
        answers: u64::MAX,
    }
}

fn events(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn weight(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["releases"][0]["weight"].clone()
}

fn file_with(test: &str, weight: u64) -> PathBuf {
    let dir = common::scratch(test);
    PathBuf::from(common::write(&dir, "plugin.json", &plugin(weight)))
}

#[test]
fn a_healthy_run_completes_and_says_nothing_was_confirmed() {
    let file = file_with("auto-healthy", 0);
    let mut out = Vec::new();
    let outcome = run(&options(&file, healthy()), &mut out).unwrap();
    assert_eq!(outcome, Outcome::Completed);
    let events = events(&out);
    let applied: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "weight_set")
        .map(|e| &e["applied"])
        .collect();
    assert_eq!(applied, [&json!("unconfirmed"), &json!("unconfirmed")]);
    assert_eq!(weight(&file), json!(100));
    let state = State::load(&default_path(&file, "pay")).unwrap().unwrap();
    assert_eq!(state.phase, Phase::Completed);
}

#[test]
fn a_source_that_stops_answering_fails_the_step_and_rolls_back() {
    let file = file_with("auto-source-down", 0);
    let mut out = Vec::new();
    // Two answers: the check before anything changes.
    let source = Scripted {
        answers: 2,
        ..healthy()
    };
    let outcome = run(&options(&file, source), &mut out).unwrap();
    assert_eq!(outcome, Outcome::RolledBack);
    let events = events(&out);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "source_error")
            .count(),
        2
    );
    assert!(!events.iter().any(|e| e["verdict"] == "pass"));
    assert_eq!(weight(&file), json!(0));
}

#[test]
fn killed_between_its_write_and_its_record_the_run_takes_the_write_as_its_own() {
    // As if killed after writing 50% and before recording it.
    let file = file_with("auto-kill-window", 50);
    let state_path = default_path(&file, "pay");
    let release =
        |w: u64| serde_json::from_str::<Value>(&plugin(w)).unwrap()["releases"][0].clone();
    let state = State {
        file: file.display().to_string(),
        release: "pay".into(),
        settings: settings(),
        started_unix_ms: 0,
        deadline_unix_ms: u64::MAX,
        phase: Phase::Step {
            index: 0,
            applied: false,
        },
        failures: 0,
        expected_release: release(0),
        pending_release: Some(release(50)),
        canary: None,
        last_measurement: None,
    };
    state.save(&state_path).unwrap();
    let mut out = Vec::new();
    let outcome = run(&options(&file, healthy()), &mut out).unwrap();
    assert_eq!(outcome, Outcome::Completed);
    let events = events(&out);
    assert_eq!(events[0]["resumed"], "step 1");
    assert_eq!(events[1]["event"], "weight_set");
    assert_eq!(
        events[1]["applied"], "unchanged",
        "the 50% was not written twice"
    );

    // Another run's state, with the release edited by a person since.
    let file = file_with("auto-edited", 35);
    let state_path = default_path(&file, "pay");
    State {
        file: file.display().to_string(),
        pending_release: None,
        canary: None,
        phase: Phase::Step {
            index: 0,
            applied: true,
        },
        ..state
    }
    .save(&state_path)
    .unwrap();
    let err = run(&options(&file, healthy()), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("edited by someone else"), "{err}");
    assert_eq!(weight(&file), json!(35), "not overwritten");
    let stopped = State::load(&state_path).unwrap().unwrap();
    assert!(matches!(stopped.phase, Phase::Stopped { .. }));
}

#[test]
fn bad_settings_and_unknown_releases_change_nothing() {
    let file = file_with("auto-refusals", 0);
    let before = std::fs::read(&file).unwrap();
    let mut falling = options(&file, healthy());
    falling.settings.steps = vec![50.0, 20.0];
    let err = run(&falling, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("must rise"), "{err}");
    let mut other = options(&file, healthy());
    other.release = "shop".into();
    let err = run(&other, &mut Vec::new()).unwrap_err();
    assert!(
        err.to_string().contains("no release named \"shop\""),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(!default_path(&file, "pay").exists(), "no state file either");
    // The command line: a plan file with an unknown key, exit 1.
    let dir = common::scratch("auto-plan");
    let plan = common::write(&dir, "plan.yaml", "steps: [10, 100]\nmax-eror-rate: 2\n");
    let ran = common::canaryctl(&[
        "auto",
        file.to_str().unwrap(),
        "pay",
        "--admin",
        "127.0.0.1:1",
        "--plan",
        &plan,
    ]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("unknown field `max-eror-rate`"),
        "{}",
        ran.stderr
    );
    let ran = common::canaryctl(&["auto", file.to_str().unwrap(), "pay"]);
    assert_eq!(ran.code, 2, "no source: a usage error");
}

/// A release of three versions: pay-v2 (the one the script can make fail)
/// at `v2`%, pay-v3 at 5% with a rule.
fn tagged_file(test: &str, v2: u64) -> PathBuf {
    let dir = common::scratch(test);
    let plugin = json!({"releases": [{"name": "pay", "hosts": ["pay-service"],
        "header": "x-canary-cluster", "baseline": "pay-v1", "canaries": [
            {"value": "pay-v2", "weight": v2},
            {"value": "pay-v3", "weight": 5,
             "conditions": [{"header": "x-tester", "op": "present"}]}]}]});
    PathBuf::from(common::write(&dir, "plugin.json", &plugin.to_string()))
}

fn canaries(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["releases"][0]["canaries"].clone()
}

#[test]
fn a_release_of_several_canaries_needs_the_canary_named_and_nothing_changes() {
    let file = tagged_file("auto-tags-unnamed", 0);
    let before = std::fs::read(&file).unwrap();
    let mut out = Vec::new();
    let error = run(&options(&file, healthy()), &mut out).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("has 2 canaries (pay-v2, pay-v3); name the one to drive with --canary"),
        "{error}"
    );
    let named_wrong = AutoOptions {
        canary: Some("pay-v9".to_string()),
        ..options(&file, healthy())
    };
    let error = run(&named_wrong, &mut out).unwrap_err();
    assert!(
        error.to_string().contains("has no canary pay-v9"),
        "{error}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(State::load(&default_path(&file, "pay")).unwrap().is_none());
}

#[test]
fn steps_that_do_not_fit_beside_the_other_canaries_are_refused_before_anything_changes() {
    let file = tagged_file("auto-tags-room", 0);
    let before = std::fs::read(&file).unwrap();
    let options = AutoOptions {
        canary: Some("pay-v2".to_string()),
        ..options(&file, healthy())
    };
    let error = run(&options, &mut Vec::new()).unwrap_err();
    assert!(
        error.to_string().contains(
            "the steps reach 100% but the other canaries of pay hold 5%: pay-v2 has room for 95%"
        ),
        "{error}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn a_named_canary_is_driven_alone_and_completes_as_the_winner() {
    let file = tagged_file("auto-tags-healthy", 0);
    let mut options = AutoOptions {
        canary: Some("pay-v2".to_string()),
        ..options(&file, healthy())
    };
    options.settings.steps = vec![50.0, 95.0];
    let mut out = Vec::new();
    assert_eq!(run(&options, &mut out).unwrap(), Outcome::Completed);
    // Complete on one canary of several makes it the only one, at 100%.
    assert_eq!(canaries(&file), json!([{"value": "pay-v2", "weight": 100}]));
    let state = State::load(&default_path(&file, "pay")).unwrap().unwrap();
    assert_eq!(state.canary.as_deref(), Some("pay-v2"));
}

#[test]
fn a_failing_named_canary_is_rolled_back_alone() {
    let file = tagged_file("auto-tags-failing", 0);
    let failing = Scripted {
        canary_errors: 20,
        ..healthy()
    };
    let mut options = AutoOptions {
        canary: Some("pay-v2".to_string()),
        ..options(&file, failing)
    };
    options.settings.steps = vec![50.0, 95.0];
    let mut out = Vec::new();
    assert_eq!(run(&options, &mut out).unwrap(), Outcome::RolledBack);
    // pay-v2 at 0%; pay-v3 keeps its weight and its rule.
    assert_eq!(
        canaries(&file),
        json!([
            {"value": "pay-v2", "weight": 0},
            {"value": "pay-v3", "weight": 5,
             "conditions": [{"header": "x-tester", "op": "present"}]}
        ])
    );
}

#[test]
fn the_state_file_keeps_the_last_judged_interval_for_the_console() {
    let file = file_with("auto-last-measurement", 0);
    let outcome = run(&options(&file, healthy()), &mut Vec::new()).unwrap();
    assert_eq!(outcome, Outcome::Completed);
    let state = State::load(&default_path(&file, "pay")).unwrap().unwrap();
    let last = state.last_measurement.expect("a judged interval");
    assert_eq!(last.step, settings().steps.len() - 1);
    assert_eq!(last.verdict, "pass");
    assert!(last.requests >= settings().limits.min_requests, "{last:?}");
}
