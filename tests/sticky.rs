//! Sticky assignment, end to end: a key (header or cookie) always lands on
//! the same version, the version is the one `canary_core::bucket` predicts,
//! and raising the weight only moves keys from the baseline to the canary.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::json;
use support::{pay_release, plugin_config, EcdsOutcome, Envoy, Request};

/// Weight in basis points, as the filter compares it.
fn in_canary(release: &str, key: &str, weight_bp: u32) -> bool {
    canary_core::bucket(release, key.as_bytes()) < weight_bp
}

fn sticky_release(name: &str, weight: u32, sticky: serde_json::Value) -> serde_json::Value {
    let mut release = pay_release();
    release["name"] = json!(name);
    release["hosts"] = json!([format!("{name}.test")]);
    release["weight"] = json!(weight);
    release["sticky"] = sticky;
    release
}

/// `by-header` (weight 50, key `x-user-id`) and `by-cookie` (weight 30,
/// key cookie `uid`).
fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        Envoy::start(&plugin_config([
            sticky_release("by-header", 50, json!({"header": "x-user-id"})),
            sticky_release("by-cookie", 30, json!({"cookie": "uid"})),
        ]))
    })
}

fn version_of(canary: bool) -> &'static str {
    if canary {
        "pay-v2"
    } else {
        "pay-v1"
    }
}

#[test]
fn same_key_lands_on_the_same_version_across_200_requests() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    // One key on each side of the 50% line, so both versions are exercised.
    let keys: Vec<String> = (0..40).map(|i| format!("user-{i}")).collect();
    let canary_key = keys
        .iter()
        .find(|k| in_canary("by-header", k, 5000))
        .expect("a canary key");
    let baseline_key = keys
        .iter()
        .find(|k| !in_canary("by-header", k, 5000))
        .expect("a baseline key");
    let mut client = envoy.client();
    for (key, want) in [(canary_key, "pay-v2"), (baseline_key, "pay-v1")] {
        let request = Request::get("/")
            .host("by-header.test")
            .header("x-user-id", key);
        let versions: BTreeSet<String> =
            (0..200).map(|_| client.send(&request).version()).collect();
        assert_eq!(versions, BTreeSet::from([want.to_owned()]), "key {key}");
    }
}

#[test]
fn header_keys_get_the_version_canary_core_bucket_predicts() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    let mut wrong = Vec::new();
    for i in 0..200 {
        let key = format!("customer-{i}");
        let want = version_of(in_canary("by-header", &key, 5000));
        let got = client
            .send(
                &Request::get("/")
                    .host("by-header.test")
                    .header("x-user-id", &key),
            )
            .version();
        if got != want {
            wrong.push(format!("{key}: got {got}, bucket says {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cookie_keys_get_the_version_canary_core_bucket_predicts() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    let mut wrong = Vec::new();
    for i in 0..200 {
        let key = format!("c{i}");
        let want = version_of(in_canary("by-cookie", &key, 3000));
        let request = Request::get("/")
            .host("by-cookie.test")
            .cookies(&[("theme", "dark"), ("uid", &key)]);
        let got = client.send(&request).version();
        if got != want {
            wrong.push(format!("{key}: got {got}, bucket says {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The keys among `keys` that reach the canary.
fn canary_keys(envoy: &Envoy, keys: &[String]) -> BTreeSet<String> {
    let mut client = envoy.client();
    keys.iter()
        .filter(|key| {
            let request = Request::get("/")
                .host("ramp.test")
                .header("x-user-id", key.as_str());
            client.send(&request).version() == "pay-v2"
        })
        .cloned()
        .collect()
}

#[test]
fn keys_in_the_canary_at_weight_10_are_still_there_at_weight_30() {
    let config = |weight| {
        plugin_config([sticky_release(
            "ramp",
            weight,
            json!({"header": "x-user-id"}),
        )])
    };
    let envoy = Envoy::start_ecds(&config(10));
    let keys: Vec<String> = (0..300).map(|i| format!("user-{i}")).collect();
    let predicted = |weight_bp| -> BTreeSet<String> {
        keys.iter()
            .filter(|k| in_canary("ramp", k, weight_bp))
            .cloned()
            .collect()
    };

    let at_10 = canary_keys(&envoy, &keys);
    assert_eq!(at_10, predicted(1000), "weight 10");
    assert!(
        !at_10.is_empty(),
        "300 keys at weight 10 should put some in the canary"
    );

    assert_eq!(envoy.apply_plugin_config(&config(30)), EcdsOutcome::Applied);
    let at_30 = canary_keys(&envoy, &keys);
    assert_eq!(at_30, predicted(3000), "weight 30");
    let moved_back: Vec<_> = at_10.difference(&at_30).collect();
    assert!(
        moved_back.is_empty(),
        "keys left the canary when the weight rose: {moved_back:?}"
    );
    assert!(
        at_30.len() > at_10.len(),
        "raising the weight moved no key into the canary"
    );
}
