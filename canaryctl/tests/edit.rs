//! `set-weight`, `rule`, `complete` and `rollback` on each kind of file:
//! what they print, what they write, and that a refused edit leaves the
//! file's bytes as they were.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;

use common::*;
use serde_json::Value;

fn plugin_of(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// Order-sensitive text of a value (Value equality ignores key order).
fn ordered(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

fn inode(path: &str) -> u64 {
    fs::metadata(path).unwrap().ino()
}

fn only_file_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn set_weight_changes_only_the_weight_and_renames_into_place() {
    let dir = scratch("set-weight");
    let path = write(&dir, "plugin.json", PLUGIN);
    let before_inode = inode(&path);
    assert_eq!(
        ok(&["set-weight", &path, "pay-service", "50"]),
        "pay-service: weight 20% -> 50%\n"
    );
    let mut expected: Value = serde_json::from_str(PLUGIN).unwrap();
    expected["releases"][0]["weight"] = 50.into();
    assert_eq!(ordered(&plugin_of(&path)), ordered(&expected));
    assert!(
        read(&path).starts_with("{\n  \"releases\": [\n    {\n      \"name\": \"pay-service\",")
    );
    assert!(read(&path).ends_with("}\n"));
    // A new file renamed over the old one, and no temp file left behind.
    assert_ne!(inode(&path), before_inode);
    assert_eq!(only_file_in(&dir), ["plugin.json"]);
    assert_eq!(
        ok(&["set-weight", &path, "web", "0.25%"]),
        "web: weight 12.5% -> 0.25%\n"
    );
    assert_eq!(plugin_of(&path)["releases"][1]["weight"], 0.25);
}

#[test]
fn unchanged_weight_writes_nothing() {
    let dir = scratch("no-change");
    let path = write(&dir, "plugin.json", PLUGIN);
    let before_inode = inode(&path);
    let out = ok(&["set-weight", &path, "pay-service", "20"]);
    assert!(
        out.starts_with("pay-service: no change (weight 20%"),
        "{out}"
    );
    assert_eq!(inode(&path), before_inode);
    assert_eq!(read(&path), PLUGIN);
}

#[test]
fn invalid_edits_are_refused_before_the_file_is_touched() {
    let dir = scratch("refused");
    let files = [
        write(&dir, "plugin.json", PLUGIN),
        write(&dir, "ecds.json", &ecds_json(PLUGIN)),
        write(&dir, "ecds.yaml", &ecds_yaml(PLUGIN)),
        write(&dir, "wasmplugin.yaml", WASMPLUGIN),
    ];
    for path in &files {
        let before = fs::read(path).unwrap();
        let before_inode = inode(path);
        let refusals: [(&[&str], &str); 6] = [
            (
                &["set-weight", path, "pay-service", "150"],
                "releases[0].weight: 150 is out of range; expected 0 to 100",
            ),
            (
                &["set-weight", path, "pay-service", "10.005"],
                "releases[0].weight: 10.005 has more than two decimals; the finest step is 0.01",
            ),
            (
                &["set-weight", path, "checkout", "10"],
                "no release named \"checkout\"; the releases are: pay-service",
            ),
            (
                &["rule", path, "pay-service", "--path-regex", "(unclosed"],
                "releases[0].path.regex: invalid regex",
            ),
            (
                &["rule", path, "pay-service", "--path-prefix", "pay"],
                "releases[0].path.prefix: \"pay\" must start with '/'",
            ),
            (
                &["rule", path, "pay-service", "--when", "header env eq test"],
                "releases[0].conditions[0].op: unknown operator \"eq\"",
            ),
        ];
        for (args, message) in refusals {
            let stderr = rejected(args);
            assert!(
                stderr.starts_with(&format!("canaryctl: {path}: ")),
                "{stderr}"
            );
            assert!(stderr.contains(message), "{args:?}: {stderr}");
            assert_eq!(
                fs::read(path).unwrap(),
                before,
                "{path} changed after {args:?}"
            );
            assert_eq!(inode(path), before_inode);
        }
    }
    assert_eq!(only_file_in(&dir).len(), 4, "no temp files left");
}

#[test]
fn an_invalid_file_is_not_edited() {
    let dir = scratch("invalid-file");
    let broken = PLUGIN.replace("\"baseline\": \"v1\",", "");
    let path = write(&dir, "plugin.json", &broken);
    let stderr = rejected(&["rollback", &path, "pay-service"]);
    assert!(stderr.contains("releases[0].baseline: is required (canaryctl edits only a valid config; fix this first)"), "{stderr}");
    assert_eq!(read(&path), broken);
}

#[test]
fn rule_sets_path_mode_and_conditions_then_clears_them() {
    let dir = scratch("rule");
    let path = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&[
        "rule",
        &path,
        "pay-service",
        "--path-prefix",
        "/pay",
        "--mode",
        "any",
        "--when",
        "header env equals test",
        "--when",
        "query uid in 1001,1002",
    ]);
    assert_eq!(out, "pay-service: rule header env equals test -> path prefix /pay AND (header env equals test OR query uid in 1001,1002)\n");
    let release = &plugin_of(&path)["releases"][0];
    assert_eq!(release["path"], serde_json::json!({"prefix": "/pay"}));
    assert_eq!(
        release["conditions"][1],
        serde_json::json!({"query": "uid", "op": "in", "values": ["1001", "1002"]})
    );
    // New keys go last; existing ones keep their place.
    let keys: Vec<&str> = release
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "hosts",
            "header",
            "baseline",
            "canary",
            "conditions",
            "weight",
            "sticky",
            "path",
            "mode"
        ]
    );
    let out = ok(&[
        "rule",
        &path,
        "pay-service",
        "--no-path",
        "--when",
        "cookie beta present",
    ]);
    assert_eq!(out, "pay-service: rule path prefix /pay AND (header env equals test OR query uid in 1001,1002) -> cookie beta present\n");
    let out = ok(&["rule", &path, "pay-service", "--clear"]);
    assert_eq!(out, "pay-service: rule cookie beta present -> none\n");
    let release = &plugin_of(&path)["releases"][0];
    assert!(release.get("conditions").is_none() && release.get("mode").is_none());
    assert_eq!(
        plugin_of(&path)["releases"][1],
        serde_json::from_str::<Value>(PLUGIN).unwrap()["releases"][1]
    );
}

#[test]
fn complete_and_rollback_say_what_comes_next() {
    let dir = scratch("complete");
    let path = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&["complete", &path, "pay-service"]);
    assert!(out.starts_with("pay-service: weight 20% -> 100%\npay-service: rule header env equals test -> none\npay-service is complete: every request now goes to v2.\n"), "{out}");
    assert!(
        out.contains("Scale the old Deployment (version v1) to zero"),
        "{out}"
    );
    assert!(out.contains("v2 is the new baseline"), "{out}");
    let release = &plugin_of(&path)["releases"][0];
    assert_eq!(release["weight"], 100);
    assert!(release.get("conditions").is_none());
    assert_eq!(
        release["sticky"],
        serde_json::json!({"header": "x-user-id"})
    );
    assert_eq!(plugin_of(&path)["releases"][1]["weight"], 12.5);

    let out = ok(&["rollback", &path, "pay-service"]);
    assert!(out.starts_with("pay-service: weight 100% -> 0%\npay-service is rolled back: every request now goes to v1.\n"), "{out}");
    assert_eq!(plugin_of(&path)["releases"][0]["weight"], 0);
}

#[test]
fn ecds_json_keeps_every_line_but_the_config_string() {
    let dir = scratch("ecds-json");
    let original = ecds_json(PLUGIN);
    let path = write(&dir, "canary-filter.json", &original);
    assert_eq!(
        ok(&["set-weight", &path, "web", "30"]),
        "web: weight 12.5% -> 30%\n"
    );
    let after = read(&path);
    let changed: Vec<(&str, &str)> = original
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(original.lines().count(), after.lines().count());
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(
        changed[0]
            .1
            .trim_start()
            .starts_with("\"value\": \"{\\n  \\\"releases\\\""),
        "{changed:?}"
    );
    assert!(ok(&["show", &path]).contains("30% of the other requests go to next"));
}

#[test]
fn ecds_yaml_keeps_comments_and_everything_outside_the_value() {
    let dir = scratch("ecds-yaml");
    let original = ecds_yaml(PLUGIN);
    let path = write(&dir, "canary-filter.yaml", &original);
    let out = ok(&[
        "rule",
        &path,
        "pay-service",
        "--when",
        "header env equals staging",
    ]);
    assert_eq!(
        out,
        "pay-service: rule header env equals test -> header env equals staging\n"
    );
    let after = read(&path);
    let head = original.split("        value: |\n").next().unwrap();
    assert!(
        after.starts_with(&format!("{head}        value: |\n")),
        "{after}"
    );
    assert!(
        after.ends_with(
            "      vm_config:\n        runtime: envoy.wasm.runtime.v8   # V8, as in Istio\n"
        ),
        "{after}"
    );
    assert!(ok(&["show", &path]).contains("rule:    header env equals staging -> v2"));
}

#[test]
fn wasmplugin_edits_keep_comments_and_yaml_1_1_strings() {
    let dir = scratch("wasmplugin");
    let path = write(&dir, "wasmplugin.yaml", WASMPLUGIN);
    assert_eq!(
        ok(&["set-weight", &path, "pay-service", "50"]),
        "pay-service: weight 20% -> 50%\n"
    );
    let after = read(&path);
    // Everything outside pluginConfig is as it was, byte for byte.
    let (head, _) = WASMPLUGIN.split_once("  pluginConfig:\n").unwrap();
    assert!(
        after.starts_with(&format!("{head}  pluginConfig:\n")),
        "{after}"
    );
    assert!(after.ends_with("\n  failStrategy: FAIL_OPEN\n"), "{after}");
    for kept in [
        "# Canary routing for pay-service.",
        "  name: pay-canary   # one per service",
        "  # The filter's releases.",
        "  failStrategy: FAIL_OPEN",
        "            value: \"on\"",
        "        weight: 50\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?}:\n{after}");
    }
    assert!(ok(&["validate", &path]).contains("pay-service (50% to v2, rule, sticky)"));
    assert!(ok(&["complete", &path, "pay-service"]).contains("every request now goes to v2"));
    assert!(read(&path).ends_with(
        "        weight: 100\n        sticky:\n          cookie: uid\n  failStrategy: FAIL_OPEN\n"
    ));
}

#[test]
fn wasmplugin_with_comments_inside_the_config_is_refused() {
    let dir = scratch("wasmplugin-comments");
    let text = WASMPLUGIN.replace("weight: 20.0", "weight: 20.0   # step 2 of 5");
    let path = write(&dir, "wasmplugin.yaml", &text);
    let stderr = rejected(&["set-weight", &path, "pay-service", "50"]);
    assert!(
        stderr.contains("the \"pluginConfig\" block holds comments"),
        "{stderr}"
    );
    assert_eq!(read(&path), text);
    // Reading it is fine.
    assert!(ok(&["validate", &path]).starts_with("OK "));
}
