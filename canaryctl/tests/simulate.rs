//! `simulate`: the split of the real decision over seeded rolls, the rule's
//! requests, and sticky users as the weight rises.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::Value;

fn simulate_json(args: &[&str]) -> Value {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&ok(&all)).unwrap()
}

#[test]
fn weight_split_is_within_four_sigma_and_repeatable() {
    let dir = scratch("split");
    let path = write(&dir, "plugin.json", PLUGIN);
    // The catch-all release at 12.5%: n = 20000, p = 0.125, sd = sqrt(n p (1-p)) ~ 46.8.
    let report = simulate_json(&[
        &path,
        "--host",
        "shop.example.com",
        "--requests",
        "20000",
        "--seed",
        "1",
    ]);
    assert_eq!(report["release"], "web");
    let canary = report["requests"]["canary"]["count"].as_u64().unwrap();
    assert!(
        (2500 - 188..=2500 + 188).contains(&canary),
        "canary {canary}"
    );
    assert_eq!(report["requests"]["reasons"]["weight"], 20_000);
    assert_eq!(report["requests"]["canary"]["version"], "next");
    let again = simulate_json(&[
        &path,
        "--host",
        "shop.example.com",
        "--requests",
        "20000",
        "--seed",
        "1",
    ]);
    assert_eq!(again, report, "same seed, same run");
}

#[test]
fn text_output_has_a_bar_per_version_and_the_reasons() {
    let dir = scratch("text");
    let path = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&["simulate", &path, "--requests", "1000", "--seed", "7"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "pay-service on pay.example.com GET /: 1000 requests, seed 7"
    );
    assert!(
        lines[1].starts_with("  baseline v1") && lines[1].contains('█'),
        "{out}"
    );
    assert!(
        lines[2].starts_with("  canary   v2") && lines[2].contains('░'),
        "{out}"
    );
    assert_eq!(lines[3], "  reasons: rule 0, sticky 0, weight 1000");
}

#[test]
fn rule_requests_all_go_to_the_canary() {
    let dir = scratch("rule");
    let path = write(&dir, "plugin.json", PLUGIN);
    let report = simulate_json(&[&path, "-H", "env: test", "--requests", "500", "--seed", "3"]);
    assert_eq!(report["requests"]["canary"]["count"], 500);
    assert_eq!(report["requests"]["reasons"]["rule"], 500);
    // A sticky key: every request lands where that key's bucket says.
    let report = simulate_json(&[
        &path,
        "-H",
        "x-user-id: alice",
        "--requests",
        "300",
        "--seed",
        "3",
    ]);
    assert_eq!(report["requests"]["reasons"]["sticky"], 300);
    let canary = report["requests"]["canary"]["count"].as_u64().unwrap();
    assert!(canary == 0 || canary == 300, "{canary}");
}

#[test]
fn cookies_queries_and_paths_reach_the_conditions() {
    let dir = scratch("sources");
    let plugin = r#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1","canary":"v2",
        "path":{"prefix":"/pay"},"mode":"any","conditions":[
          {"cookie":"beta","op":"equals","value":"on"},{"query":"uid","op":"in","values":["1001"]}]}]}"#;
    let path = write(&dir, "plugin.json", plugin);
    let rule = |args: &[&str]| {
        let mut all = vec![path.as_str(), "--requests", "10", "--seed", "1"];
        all.extend_from_slice(args);
        simulate_json(&all)["requests"]["reasons"]["rule"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rule(&["--path", "/pay/x", "--cookie", "beta=on"]), 10);
    assert_eq!(rule(&["--path", "/pay/x", "--query", "uid=1001"]), 10);
    assert_eq!(rule(&["--path", "/pay/x?a=1", "--query", "uid=1002"]), 0);
    assert_eq!(rule(&["--path", "/other", "--cookie", "beta=on"]), 0);
}

#[test]
fn a_host_no_release_covers_is_said_plainly() {
    let dir = scratch("no-release");
    let plugin = r#"{"releases":[{"name":"pay","hosts":["pay"],"header":"x-v","baseline":"v1","canary":"v2"}]}"#;
    let path = write(&dir, "plugin.json", plugin);
    let out = ok(&["simulate", &path, "--host", "other", "--requests", "5"]);
    assert!(out.starts_with("no release covers host \"other\""), "{out}");
}

#[test]
fn raising_the_weight_moves_no_sticky_user_back() {
    let dir = scratch("users");
    let path = write(&dir, "wasmplugin.yaml", WASMPLUGIN);
    let report = simulate_json(&[&path, "--users", "2000", "--weights", "5,10,20,50,100"]);
    let users = &report["users"];
    assert_eq!(users["key"], "cookie uid");
    assert_eq!(users["moved_back_while_rising"], 0);
    let rows = users["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let mut last = 0;
    for row in rows {
        let canary = row["canary"].as_u64().unwrap();
        assert!(canary >= last, "{rows:?}");
        assert_eq!(canary + row["baseline"].as_u64().unwrap(), 2000);
        last = canary;
    }
    assert_eq!(rows[0]["moved_back"], Value::Null);
    assert_eq!(rows[4]["canary"], 2000);
    // n = 2000, p = 0.2: sd ~ 17.9; allow 4 sd.
    let at_20 = rows[2]["canary"].as_u64().unwrap();
    assert!((400 - 72..=400 + 72).contains(&at_20), "{at_20}");
    let out = ok(&["simulate", &path, "--users", "100", "--weights", "10,20"]);
    assert!(
        out.contains("no user moved from canary back to baseline as the weight rose"),
        "{out}"
    );
}

#[test]
fn users_need_a_sticky_release() {
    let dir = scratch("not-sticky");
    let path = write(&dir, "plugin.json", PLUGIN);
    let stderr = rejected(&["simulate", &path, "--host", "shop", "--users", "10"]);
    assert!(stderr.contains("release \"web\" is not sticky"), "{stderr}");
    assert_eq!(
        canaryctl(&["simulate", &path, "--weights", "10"]).code,
        2,
        "--weights needs --users"
    );
}
