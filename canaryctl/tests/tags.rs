//! Every command on a release with several canaries (`canaries`):
//! `--canary` selects one for `set-weight`, `rule` and `complete`; an
//! ambiguous step is refused; `rollback` zeroes them all; `add-canary` and
//! `remove-canary`; `show`, `simulate` and `--users` show each version.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{json, Value};

const TAGGED: &str = r#"{
  "releases": [
    {
      "name": "pay",
      "hosts": ["pay-service"],
      "header": "x-canary-version",
      "baseline": "v1",
      "canaries": [
        {"value": "v2", "conditions": [{"header": "env", "op": "equals", "value": "test"}], "weight": 10},
        {"value": "v3", "weight": 5}
      ],
      "sticky": {"header": "x-user-id"}
    }
  ]
}
"#;

fn plugin_of(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

fn canaries_of(path: &str) -> Value {
    plugin_of(path)["releases"][0]["canaries"].clone()
}

#[test]
fn set_weight_and_rule_need_canary_when_there_are_several() {
    let dir = scratch("tags-select");
    let path = write(&dir, "plugin.json", TAGGED);
    let err = rejected(&["set-weight", &path, "pay", "20"]);
    assert!(
        err.contains("pay: this release has 2 canaries (v2, v3); choose one with --canary"),
        "{err}"
    );
    assert_eq!(read(&path), TAGGED);
    assert_eq!(
        ok(&["set-weight", &path, "pay", "20", "--canary", "v3"]),
        "pay: v3 weight 5% -> 20%\n"
    );
    assert_eq!(canaries_of(&path)[1]["weight"], json!(20));
    assert_eq!(canaries_of(&path)[0]["weight"], json!(10));
    let err = rejected(&["set-weight", &path, "pay", "20", "--canary", "v9"]);
    assert!(
        err.contains("--canary v9: no such canary; the canaries are: v2, v3"),
        "{err}"
    );
    // The filter's own check on the result: the sum.
    let err = rejected(&["set-weight", &path, "pay", "95", "--canary", "v2"]);
    assert!(err.contains("the weights sum to 115%"), "{err}");
    let out = ok(&[
        "rule",
        &path,
        "pay",
        "--canary",
        "v3",
        "--when",
        "header x-tester present",
    ]);
    assert_eq!(out, "pay: v3 rule none -> header x-tester present\n");
    assert_eq!(
        canaries_of(&path)[1]["conditions"],
        json!([{"header": "x-tester", "op": "present"}])
    );
}

#[test]
fn complete_names_the_winner_and_rollback_zeroes_every_canary() {
    let dir = scratch("tags-complete");
    let path = write(&dir, "plugin.json", TAGGED);
    let err = rejected(&["complete", &path, "pay"]);
    assert!(err.contains("choose one with --canary"), "{err}");
    let out = ok(&["complete", &path, "pay", "--canary", "v3"]);
    assert!(
        out.starts_with("pay: canaries v2, v3 -> v3\npay: v3 weight 5% -> 100%\n"),
        "{out}"
    );
    assert!(
        out.contains("pay is complete: every request now goes to v3."),
        "{out}"
    );
    assert_eq!(canaries_of(&path), json!([{"value": "v3", "weight": 100}]));
    // The next release starts from the winner, in the same form.
    let out = ok(&["start", &path, "pay", "--canary", "v4"]);
    assert!(out.contains("baseline v1 -> v3"), "{out}");
    assert_eq!(plugin_of(&path)["releases"][0]["baseline"], "v3");
    assert_eq!(canaries_of(&path), json!([{"value": "v4", "weight": 0}]));

    let path = write(&dir, "again.json", TAGGED);
    let out = ok(&["rollback", &path, "pay"]);
    assert!(out.contains("pay: v2 weight 10% -> 0%"), "{out}");
    assert!(
        out.contains("pay: v2 rule header env equals test -> none"),
        "{out}"
    );
    assert!(out.contains("pay: v3 weight 5% -> 0%"), "{out}");
    assert!(out.contains("every request now goes to v1"), "{out}");
    assert_eq!(
        canaries_of(&path),
        json!([{"value": "v2", "weight": 0}, {"value": "v3", "weight": 0}])
    );
}

#[test]
fn add_and_remove_a_canary_version() {
    let dir = scratch("tags-add");
    // A two-version release becomes the canaries form, its canary first.
    let two = r#"{"releases": [{"name": "pay", "header": "x-v", "baseline": "v1", "canary": "v2", "path": {"prefix": "/pay"}, "weight": 10, "sticky": {"header": "u"}}]}"#;
    let path = write(&dir, "two.json", two);
    let out = ok(&["add-canary", &path, "pay", "v3", "--weight", "5"]);
    assert_eq!(out, "pay: canaries v2 -> v2, v3\n");
    let release = &plugin_of(&path)["releases"][0];
    let keys: Vec<&str> = release
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "header", "baseline", "canaries", "sticky"]);
    assert_eq!(
        release["canaries"],
        json!([{"value": "v2", "path": {"prefix": "/pay"}, "weight": 10}, {"value": "v3", "weight": 5}])
    );
    let err = rejected(&["add-canary", &path, "pay", "v2"]);
    assert!(err.contains("\"v2\" is used twice"), "{err}");
    let err = rejected(&["add-canary", &path, "pay", "v1"]);
    assert!(err.contains("must differ from baseline"), "{err}");
    assert_eq!(
        ok(&["remove-canary", &path, "pay", "v2"]),
        "pay: canaries v2, v3 -> v3\n"
    );
    let err = rejected(&["remove-canary", &path, "pay", "v3"]);
    assert!(err.contains("v3 is this release's only canary"), "{err}");
    let err = rejected(&["remove-canary", &path, "pay", "v9"]);
    assert!(err.contains("no such canary"), "{err}");
}

#[test]
fn show_and_simulate_give_each_version() {
    let dir = scratch("tags-show");
    let path = write(&dir, "plugin.json", TAGGED);
    let text = ok(&["show", &path]);
    assert!(
        text.contains("x-canary-version: v1 (baseline) or v2, v3 (canaries, first rule wins)"),
        "{text}"
    );
    assert!(
        text.contains("v2:  rule header env equals test; weight 10% of the other requests"),
        "{text}"
    );
    assert!(
        text.contains("v3:  rule none; weight 5% of the other requests"),
        "{text}"
    );
    assert!(
        text.contains("weight:  85% of the other requests go to v1"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&ok(&["show", &path, "--json"])).unwrap();
    let release = &json["releases"][0];
    assert_eq!(release["tagged"], true);
    assert_eq!(release["canaries"][1]["value"], "v3");
    assert_eq!(release["canaries"][1]["weight"], json!(5));
    assert_eq!(
        release["canaries"][0]["rule"]["text"],
        "header env equals test"
    );

    let out = ok(&[
        "simulate",
        &path,
        "--requests",
        "20000",
        "--seed",
        "7",
        "--json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let requests = &report["requests"];
    let count = |i: usize| requests["canaries"][i]["count"].as_u64().unwrap();
    // n = 20000: p = 0.10 sd 42.4, p = 0.05 sd 30.8; 4 sd each.
    assert!((1830..=2170).contains(&count(0)), "{requests}");
    assert!((877..=1123).contains(&count(1)), "{requests}");
    assert_eq!(
        requests["canary"]["count"].as_u64().unwrap(),
        count(0) + count(1)
    );
    let text = ok(&["simulate", &path, "--requests", "1000", "--seed", "7"]);
    assert!(text.contains("  canary   v3"), "{text}");

    let out = ok(&[
        "simulate",
        &path,
        "--users",
        "2000",
        "--weights",
        "5,10,20",
        "--canary",
        "v3",
    ]);
    assert!(
        out.contains("weights of v3, the others as configured"),
        "{out}"
    );
    assert!(
        out.contains("no user moved from a canary back to baseline as v3's weight rose"),
        "{out}"
    );
    let json: Value = serde_json::from_str(&ok(&[
        "simulate",
        &path,
        "--users",
        "2000",
        "--weights",
        "5,10,20",
        "--canary",
        "v3",
        "--json",
    ]))
    .unwrap();
    let rows = &json["users"]["rows"];
    assert_eq!(json["users"]["moved_back_while_rising"], 0);
    // v2 stays at 10% of the users whatever v3's weight (its slice does not move).
    let v2: Vec<u64> = (0..3)
        .map(|i| rows[i]["canaries"]["v2"].as_u64().unwrap())
        .collect();
    assert!(v2.iter().all(|&n| n == v2[0]), "{rows}");
    let err = rejected(&[
        "simulate",
        &path,
        "--users",
        "10",
        "--weights",
        "5",
        "--canary",
        "v9",
    ]);
    assert!(err.contains("--canary v9"), "{err}");
}

#[test]
fn start_mid_release_names_every_canary() {
    let dir = scratch("tags-start");
    let path = write(&dir, "plugin.json", TAGGED);
    let err = rejected(&["start", &path, "pay", "--canary", "v4"]);
    assert!(err.contains("pay is not complete (v2 weight 10%, rule header env equals test; v3 weight 5%, rule none)"), "{err}");
    assert!(
        err.contains("requests still go to both v1 and v2, v3"),
        "{err}"
    );
    assert_eq!(read(&path), TAGGED);
}
