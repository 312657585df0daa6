//! filter-config/plugin-config.schema.json kept equal to what the filter
//! accepts: a table of configs goes through both the JSON Schema and
//! `Config::from_json`, which must agree. The few rules that span fields
//! (unique names, host overlaps, ...) only the filter can check: those cases
//! are listed apart, and must stay exactly "schema accepts, filter refuses",
//! so the schema never refuses a config the filter would run.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use canary_core::Config;
use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

pub(crate) fn schema() -> Validator {
    let path = crate::support::repo_root().join("filter-config/plugin-config.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "the schema is not a valid JSON Schema"
    );
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&schema)
        .unwrap()
}

/// A config of one release, `overrides` merged into it (null removes a field).
fn release(overrides: Value) -> Value {
    let mut release = json!({
        "name": "pay-service", "hosts": ["pay-service"], "header": "x-canary-version",
        "baseline": "v1", "canary": "v2"
    });
    for (key, value) in overrides.as_object().unwrap() {
        if value == &json!("<remove>") {
            release.as_object_mut().unwrap().remove(key);
        } else {
            release[key] = value.clone();
        }
    }
    json!({"releases": [release]})
}

fn condition(c: Value) -> Value {
    release(json!({"conditions": [c]}))
}

/// (case, config, accepted by both)
fn table() -> Vec<(&'static str, Value, bool)> {
    vec![
        ("minimal", release(json!({})), true),
        (
            "every optional field null",
            release(
                json!({"hosts": null, "path": null, "mode": null, "conditions": null, "weight": null, "sticky": null}),
            ),
            true,
        ),
        (
            "unknown top-level field",
            json!({"releases": [], "extra": 1}),
            false,
        ),
        ("no releases", json!({"releases": []}), false),
        ("releases null", json!({"releases": null}), false),
        ("not an object", json!([1]), false),
        (
            "unknown release field",
            release(json!({"wieght": 5})),
            false,
        ),
        ("name missing", release(json!({"name": "<remove>"})), false),
        (
            "name with a dot",
            release(json!({"name": "pay.service"})),
            false,
        ),
        ("name of 64", release(json!({"name": "a".repeat(64)})), true),
        (
            "name of 65",
            release(json!({"name": "a".repeat(65)})),
            false,
        ),
        (
            "header with a space",
            release(json!({"header": "x canary"})),
            false,
        ),
        (
            "header Host (any case)",
            release(json!({"header": "HoSt"})),
            false,
        ),
        ("header te", release(json!({"header": "te"})), false),
        ("header tea", release(json!({"header": "tea"})), true),
        (
            "baseline with a space",
            release(json!({"baseline": "v 1"})),
            false,
        ),
        ("baseline empty", release(json!({"baseline": ""})), false),
        ("canary non-ASCII", release(json!({"canary": "v2é"})), false),
        (
            "hosts: wildcard, IPv6, upper case",
            release(json!({"hosts": ["*.Pay.example", "[::1]", "a_b-c"]})),
            true,
        ),
        ("hosts: \"*\" alone", release(json!({"hosts": ["*"]})), true),
        (
            "host with port",
            release(json!({"hosts": ["pay:80"]})),
            false,
        ),
        (
            "host with trailing dot",
            release(json!({"hosts": ["pay."]})),
            false,
        ),
        ("host empty", release(json!({"hosts": [""]})), false),
        ("host *.", release(json!({"hosts": ["*."]})), false),
        (
            "101 hosts",
            release(json!({"hosts": (0..101).map(|i| format!("h{i}")).collect::<Vec<_>>()})),
            false,
        ),
        (
            "path prefix",
            release(json!({"path": {"prefix": "/pay"}})),
            true,
        ),
        (
            "path regex",
            release(json!({"path": {"regex": "/pay/[0-9]+"}})),
            true,
        ),
        (
            "path without slash",
            release(json!({"path": {"exact": "pay"}})),
            false,
        ),
        (
            "path two kinds",
            release(json!({"path": {"exact": "/a", "prefix": "/b"}})),
            false,
        ),
        (
            "path one kind and a null",
            release(json!({"path": {"exact": "/a", "prefix": null}})),
            true,
        ),
        ("path empty", release(json!({"path": {}})), false),
        (
            "path regex of 1025",
            release(json!({"path": {"regex": "a".repeat(1025)}})),
            false,
        ),
        ("mode any", release(json!({"mode": "any"})), true),
        ("mode or", release(json!({"mode": "or"})), false),
        ("weight 20", release(json!({"weight": 20})), true),
        (
            "weight 20.0 (through Istio)",
            release(json!({"weight": 20.0})),
            true,
        ),
        ("weight 0.07", release(json!({"weight": 0.07})), true),
        ("weight 33.33", release(json!({"weight": 33.33})), true),
        ("weight 12.345", release(json!({"weight": 12.345})), false),
        ("weight 100.01", release(json!({"weight": 100.01})), false),
        ("weight -1", release(json!({"weight": -1})), false),
        ("weight as string", release(json!({"weight": "20"})), false),
        (
            "sticky header",
            release(json!({"sticky": {"header": "x-user-id"}})),
            true,
        ),
        (
            "sticky cookie",
            release(json!({"sticky": {"cookie": "uid"}})),
            true,
        ),
        (
            "sticky both",
            release(json!({"sticky": {"header": "a", "cookie": "b"}})),
            false,
        ),
        ("sticky neither", release(json!({"sticky": {}})), false),
        (
            "sticky bad cookie",
            release(json!({"sticky": {"cookie": "u id"}})),
            false,
        ),
        (
            "33 conditions",
            release(json!({"conditions": vec![json!({"header": "a", "op": "present"}); 33]})),
            false,
        ),
        (
            "equals string",
            condition(json!({"header": "x-env", "op": "equals", "value": "test"})),
            true,
        ),
        (
            "equals number",
            condition(json!({"header": "x-uid", "op": "equals", "value": 1001})),
            false,
        ),
        (
            "equals without value",
            condition(json!({"header": "x-uid", "op": "equals"})),
            false,
        ),
        (
            "equals with values",
            condition(json!({"header": "x", "op": "equals", "value": "a", "values": ["a"]})),
            false,
        ),
        (
            "regex",
            condition(json!({"cookie": "c", "op": "regex", "value": "a.*"})),
            true,
        ),
        (
            "in",
            condition(json!({"query": "uid", "op": "in", "values": ["1", "2"]})),
            true,
        ),
        (
            "in with value null",
            condition(json!({"query": "uid", "op": "in", "values": ["1"], "value": null})),
            true,
        ),
        (
            "in empty",
            condition(json!({"query": "uid", "op": "in", "values": []})),
            false,
        ),
        (
            "in with a number",
            condition(json!({"query": "uid", "op": "in", "values": ["1", 2]})),
            false,
        ),
        (
            "in with value",
            condition(json!({"query": "uid", "op": "in", "value": "1"})),
            false,
        ),
        (
            "present",
            condition(json!({"header": "x", "op": "present"})),
            true,
        ),
        (
            "absent with value",
            condition(json!({"header": "x", "op": "absent", "value": "a"})),
            false,
        ),
        (
            "gt number",
            condition(json!({"header": "x-age", "op": "gt", "value": 17.5})),
            true,
        ),
        (
            "le numeric string",
            condition(json!({"header": "x-age", "op": "le", "value": " -1.5e3 "})),
            true,
        ),
        (
            "ge word",
            condition(json!({"header": "x-age", "op": "ge", "value": "ten"})),
            false,
        ),
        (
            "lt +1",
            condition(json!({"header": "x-age", "op": "lt", "value": "+1"})),
            false,
        ),
        (
            "percent 30",
            condition(json!({"header": "x-uid", "op": "percent", "value": 30})),
            true,
        ),
        (
            "percent 30.0",
            condition(json!({"header": "x-uid", "op": "percent", "value": 30.0})),
            true,
        ),
        (
            "percent 30.5",
            condition(json!({"header": "x-uid", "op": "percent", "value": 30.5})),
            false,
        ),
        (
            "percent 101",
            condition(json!({"header": "x-uid", "op": "percent", "value": 101})),
            false,
        ),
        (
            "unknown op",
            condition(json!({"header": "x", "op": "like", "value": "a"})),
            false,
        ),
        (
            "no op",
            condition(json!({"header": "x", "value": "a"})),
            false,
        ),
        (
            "two sources",
            condition(json!({"header": "x", "cookie": "y", "op": "present"})),
            false,
        ),
        ("no source", condition(json!({"op": "present"})), false),
        (
            "empty query",
            condition(json!({"query": "", "op": "present"})),
            false,
        ),
        (
            "source and a null",
            condition(json!({"header": "x", "query": null, "op": "present"})),
            true,
        ),
        (
            "unknown condition field",
            condition(json!({"header": "x", "op": "present", "not": true})),
            false,
        ),
    ]
}

/// Rules across fields or values only the filter checks: the schema accepts
/// these, the filter refuses them.
fn filter_only() -> Vec<(&'static str, Value)> {
    let two = |a: Value, b: Value| json!({"releases": [release(a)["releases"][0], release(b)["releases"][0]]});
    vec![
        (
            "duplicate release names",
            two(json!({"hosts": ["a"]}), json!({"hosts": ["b"]})),
        ),
        (
            "overlapping hosts",
            two(
                json!({"name": "a", "hosts": ["*.example.com"]}),
                json!({"name": "b", "hosts": ["pay.example.com"]}),
            ),
        ),
        (
            "catch-all not last",
            two(json!({"name": "a", "hosts": null}), json!({"name": "b"})),
        ),
        ("baseline equals canary", release(json!({"canary": "v1"}))),
        (
            "regex that does not compile",
            release(json!({"path": {"regex": "(unclosed"}})),
        ),
        (
            "percent as a string out of range",
            condition(json!({"header": "x", "op": "percent", "value": "150"})),
        ),
    ]
}

#[test]
fn schema_and_filter_agree_on_the_table() {
    let schema = schema();
    let mut disagreements = Vec::new();
    let cases = table();
    for (case, config, expected) in &cases {
        let by_schema = schema.is_valid(config);
        let by_filter = Config::from_json(config.to_string().as_bytes());
        if by_schema != *expected || by_filter.is_ok() != *expected {
            disagreements.push(format!(
                "{case}: expected {expected}, schema {by_schema}, filter {:?}",
                by_filter.err().map(|e| e.to_string())
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    println!("{} configs: schema and filter agree", cases.len());
}

#[test]
fn rules_only_the_filter_checks_stay_the_only_difference() {
    let schema = schema();
    for (case, config) in filter_only() {
        assert!(
            schema.is_valid(&config),
            "{case}: the schema now refuses it; move it to the table"
        );
        assert!(
            Config::from_json(config.to_string().as_bytes()).is_err(),
            "{case}: the filter accepts it"
        );
    }
}

#[test]
fn the_release_steps_pass_schema_and_filter() {
    let schema = schema();
    let dir = crate::support::repo_root().join("filter-config/pay-service");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let config: Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = schema.iter_errors(&config).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
        if let Err(e) = Config::from_json(text.as_bytes()) {
            panic!("{}: {e}", file.display());
        }
    }
}
