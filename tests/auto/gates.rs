//! The gates of a run, by the real canaryctl while `auto` runs: `pause` and
//! `resume` hold and release the step, `promote` lets a run waiting before
//! completion go on, and `abort` rolls back at once (exit status 3).

use serde_json::json;

use super::bench::{follow, spawn_auto, Bench, Faults, FAST};
use crate::support::release::Canaryctl;

#[test]
fn pause_resume_promote_and_abort() {
    let bench = Bench::start(Faults::default());
    let _load = bench.load("pay-service", 1);
    let admin = bench.admin_url();
    let mut args = vec!["--admin", admin.as_str()];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--steps", "50", "--interval", "1s", "--manual-promotion"]);
    let ctl = Canaryctl::find();
    let file = bench.file().to_string();
    let gate = move |word: &str| {
        let run = ctl.run(&[word, &file, "pay"]);
        assert_eq!(run.code, 0, "canaryctl {word}: {}", run.stderr);
    };
    let gated = gate.clone();
    let run = follow(spawn_auto(bench.file(), &args), move |e| {
        match e["event"].as_str() {
            Some("weight_set") => gated("pause"),
            Some("paused") => gated("resume"),
            Some("awaiting_promotion") => gated("promote"),
            _ => {}
        }
        false
    });
    run.print("gated");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kinds: Vec<&str> = run
        .events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let position = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(position("paused") < position("resumed"), "{kinds:?}");
    assert!(position("resumed") < position("verdict"), "{kinds:?}");
    assert!(
        position("awaiting_promotion") < position("promoted"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"completed"));
    assert_eq!(bench.weight(), json!(100));

    // A new run (the last one ended), aborted by a person at its first step.
    args.push("--restart");
    let run = follow(spawn_auto(bench.file(), &args), move |e| {
        if e["event"] == "weight_set" {
            gate("abort");
        }
        false
    });
    run.print("aborted");
    assert_eq!(run.code, 3, "{}", run.stderr);
    let reason = run.of("rolled_back")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("aborted by a person"), "{reason}");
    assert!(run.of("verdict").is_empty(), "no verdict after the abort");
    assert_eq!(bench.weight(), json!(0));
}
