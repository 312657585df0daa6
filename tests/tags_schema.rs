//! The JSON Schema and the filter agree on the `canaries` form too (the
//! two-version form's table is tests/istio_plugin_config.rs, whose schema
//! loader this shares); the rules across a release's canaries only the
//! filter checks stay exactly "schema accepts, filter refuses".

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use canary_core::Config;
use serde_json::{json, Value};

use crate::istio_plugin_config::schema;

/// A release of the `canaries` form, `extra` fields merged in.
fn tagged(canaries: Value, extra: Value) -> Value {
    let mut release = json!({
        "name": "pay", "hosts": ["pay"], "header": "x-canary-version",
        "baseline": "v1", "canaries": canaries
    });
    for (key, value) in extra.as_object().unwrap() {
        release[key] = value.clone();
    }
    json!({"releases": [release]})
}

fn canaries(n: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"value": format!("v{}", i + 2)}))
        .collect::<Vec<_>>())
}

/// (case, config, accepted by both)
fn table() -> Vec<(&'static str, Value, bool)> {
    vec![
        ("one canary", tagged(canaries(1), json!({})), true),
        ("eight canaries", tagged(canaries(8), json!({})), true),
        ("nine canaries", tagged(canaries(9), json!({})), false),
        ("empty list", tagged(json!([]), json!({})), false),
        ("canaries null alone", tagged(json!(null), json!({})), false),
        (
            "both forms",
            tagged(canaries(2), json!({"canary": "v9"})),
            false,
        ),
        (
            "both forms, canary null",
            tagged(canaries(2), json!({"canary": null})),
            true,
        ),
        (
            "two-version form, canaries null",
            tagged(json!(null), json!({"canary": "v2"})),
            true,
        ),
        (
            "release-level weight",
            tagged(canaries(1), json!({"weight": 5})),
            false,
        ),
        (
            "release-level conditions",
            tagged(canaries(1), json!({"conditions": []})),
            false,
        ),
        (
            "release-level rule fields null",
            tagged(
                canaries(1),
                json!({"path": null, "mode": null, "conditions": null, "weight": null}),
            ),
            true,
        ),
        (
            "every canary field",
            tagged(
                json!([
                    {"value": "v2", "path": {"prefix": "/pay"}, "mode": "any", "weight": 10,
                     "conditions": [{"header": "env", "op": "equals", "value": "test"}]},
                    {"value": "v3", "conditions": [{"header": "x-tester", "op": "present"}], "weight": 5.5},
                    {"value": "v4", "path": {"regex": "/pay/[0-9]+"}, "weight": null, "mode": null}
                ]),
                json!({"sticky": {"header": "x-user-id"}}),
            ),
            true,
        ),
        (
            "value missing",
            tagged(json!([{"weight": 1}]), json!({})),
            false,
        ),
        (
            "value with a dot",
            tagged(json!([{"value": "v2.1"}]), json!({})),
            false,
        ),
        (
            "value of 65",
            tagged(json!([{"value": "a".repeat(65)}]), json!({})),
            false,
        ),
        (
            "unknown canary field",
            tagged(json!([{"value": "v2", "canary": "x"}]), json!({})),
            false,
        ),
        (
            "canary weight of 3 decimals",
            tagged(json!([{"value": "v2", "weight": 1.005}]), json!({})),
            false,
        ),
        (
            "canary weight over 100",
            tagged(json!([{"value": "v2", "weight": 101}]), json!({})),
            false,
        ),
        (
            "canary mode unknown",
            tagged(json!([{"value": "v2", "mode": "some"}]), json!({})),
            false,
        ),
        (
            "canary condition without op",
            tagged(
                json!([{"value": "v2", "conditions": [{"header": "a"}]}]),
                json!({}),
            ),
            false,
        ),
    ]
}

/// Rules across a release's canaries: the schema accepts these, the filter
/// refuses them.
fn filter_only() -> Vec<(&'static str, Value)> {
    vec![
        (
            "duplicate values",
            tagged(json!([{"value": "v2"}, {"value": "v2"}]), json!({})),
        ),
        (
            "values equal for Prometheus",
            tagged(json!([{"value": "v-2"}, {"value": "v_2"}]), json!({})),
        ),
        (
            "value equals the baseline",
            tagged(json!([{"value": "v1"}]), json!({})),
        ),
        (
            "weights sum over 100",
            tagged(
                json!([{"value": "v2", "weight": 60}, {"value": "v3", "weight": 40.01}]),
                json!({}),
            ),
        ),
    ]
}

#[test]
fn schema_and_filter_agree_on_the_canaries_form() {
    let schema = schema();
    let mut disagreements = Vec::new();
    for (case, config, expected) in table() {
        let by_schema = schema.is_valid(&config);
        let by_filter = Config::from_json(config.to_string().as_bytes());
        if by_schema != expected || by_filter.is_ok() != expected {
            disagreements.push(format!(
                "{case}: expected {expected}, schema {by_schema}, filter {:?}",
                by_filter.err().map(|e| e.to_string())
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn rules_across_canaries_only_the_filter_checks() {
    let schema = schema();
    for (case, config) in filter_only() {
        let errors: Vec<String> = schema.iter_errors(&config).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{case}: the schema refuses it: {errors:?}"
        );
        assert!(
            Config::from_json(config.to_string().as_bytes()).is_err(),
            "{case}: the filter accepts it"
        );
    }
}
