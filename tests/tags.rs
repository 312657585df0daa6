//! Tag routing, end to end: releases with several canaries (`canaries`) in
//! a real Envoy. Rules per canary in priority order, the weights' split,
//! sticky keys as the weights rise, the counters per version, and the
//! routing header's anti-spoofing.
//!
//! The releases write `x-canary-version`; the demo front routes on
//! `x-canary-cluster`, so every request reaches `pay-v1`, which echoes the
//! `x-canary-version` it received: that is the filter's decision as the
//! upstream sees it. Binomial bounds are four standard deviations wide.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use canary_core::{CounterName, Reason, Version};
use serde_json::{json, Value};
use support::{binomial_bounds, plugin_config, stat, EcdsOutcome, Envoy, Request};

pub(crate) const HEADER: &str = "x-canary-version";

/// A release on host `<name>.test` with baseline `v1` and `canaries`.
pub(crate) fn tagged(name: &str, canaries: Value, sticky: bool) -> Value {
    let mut release = json!({
        "name": name,
        "hosts": [format!("{name}.test")],
        "header": HEADER,
        "baseline": "v1",
        "canaries": canaries,
    });
    if sticky {
        release["sticky"] = json!({"header": "x-user-id"});
    }
    release
}

/// `rules`: three canaries with rules and weight 0. `split`: 20 / 10 / rest.
/// `full`: 0 / 60 / 40 (no baseline left). `keys`: sticky, 10 / 5.
fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        Envoy::start(&plugin_config([
            tagged(
                "rules",
                json!([
                    {"value": "v2", "path": {"prefix": "/pay"}, "mode": "any",
                     "conditions": [{"header": "env", "op": "equals", "value": "test"},
                                    {"header": "x-debug", "op": "present"}]},
                    {"value": "v3", "conditions": [{"header": "x-tester", "op": "present"}]},
                    {"value": "v4", "path": {"regex": "/pay/[0-9]+"}, "mode": "all",
                     "conditions": [{"header": "x-beta", "op": "regex", "value": "b[0-9]+"},
                                    {"header": "x-region", "op": "equals", "value": "eu"}]}
                ]),
                false,
            ),
            tagged(
                "split",
                json!([{"value": "v2", "weight": 20}, {"value": "v3", "weight": 10}]),
                false,
            ),
            tagged(
                "full",
                json!([{"value": "v2", "weight": 0}, {"value": "v3", "weight": 60},
                       {"value": "v4", "weight": 40}]),
                false,
            ),
            tagged(
                "keys",
                json!([{"value": "v2", "weight": 10}, {"value": "v3", "weight": 5}]),
                true,
            ),
        ]))
    })
}

/// The routing value the upstream received.
pub(crate) fn routed(envoy: &Envoy, request: &Request) -> String {
    let response = envoy.send(request);
    assert_eq!(response.status, 200, "{response:?}");
    response
        .upstream_saw(HEADER)
        .unwrap_or_else(|| panic!("no {HEADER} reached the upstream: {response:?}"))
}

/// Sends `n` plain requests to `<release>.test` on one connection; the
/// count of each routing value the upstream received.
fn spread(envoy: &Envoy, release: &str, n: u64) -> BTreeMap<String, u64> {
    let mut client = envoy.client();
    let request = Request::get("/").host(format!("{release}.test"));
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let response = client.send(&request);
        let value = response
            .upstream_saw(HEADER)
            .unwrap_or_else(|| panic!("no {HEADER}: {response:?}"));
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
}

#[test]
fn each_canary_has_its_rule_and_the_first_match_wins() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    // (path, headers, the version it must reach)
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: [Case; 10] = [
        // v2: path /pay AND (env test OR x-debug).
        ("/pay", &[("env", "test")], "v2"),
        ("/pay/x", &[("x-debug", "1")], "v2"),
        ("/shop", &[("env", "test")], "v1"),
        ("/pay", &[], "v1"),
        // v3: x-tester, any path.
        ("/shop", &[("x-tester", "1")], "v3"),
        // v2's and v3's rules both match: the first in the list wins.
        ("/pay", &[("env", "test"), ("x-tester", "1")], "v2"),
        // v4: regex path AND x-beta regex AND x-region eu (mode all).
        ("/pay/12", &[("x-beta", "b7"), ("x-region", "eu")], "v4"),
        ("/pay/12", &[("x-beta", "b7")], "v1"),
        ("/pay/1x", &[("x-beta", "b7"), ("x-region", "eu")], "v1"),
        // v4's rule and v2's: v2 comes first.
        (
            "/pay/12",
            &[("x-beta", "b7"), ("x-region", "eu"), ("x-debug", "1")],
            "v2",
        ),
    ];
    for (path, headers, want) in cases {
        let mut request = Request::get(path).host("rules.test");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        assert_eq!(routed(envoy, &request), want, "{path} {headers:?}");
    }
}

#[test]
fn weights_20_10_and_the_rest_over_3000_requests_and_the_counters_agree() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let before = envoy.canary_counters();
    let n = 3000;
    let counts = spread(envoy, "split", n);
    let got = |value: &str| counts.get(value).copied().unwrap_or(0);
    for (value, share) in [("v2", 0.2), ("v3", 0.1), ("v1", 0.7)] {
        let bounds = binomial_bounds(n, share, 4.0);
        assert!(
            bounds.contains(&got(value)),
            "{value}: {} of {n}; expected {bounds:?} ({counts:?})",
            got(value)
        );
    }
    assert_eq!(got("v1") + got("v2") + got("v3"), n, "{counts:?}");
    eprintln!("split 20/10/70 over {n}: {counts:?}");
    // Counters equal the responses seen, per version.
    let after = envoy.canary_counters();
    let delta = |counter: CounterName<'_>| {
        let name = stat(counter);
        after.get(&name).copied().unwrap_or(0) - before.get(&name).copied().unwrap_or(0)
    };
    assert_eq!(
        delta(CounterName::routed(
            "split",
            Version::Baseline,
            Reason::Weight
        )),
        got("v1")
    );
    for value in ["v2", "v3"] {
        assert_eq!(
            delta(CounterName::tagged("split", value, Reason::Weight)),
            got(value),
            "{value}"
        );
    }
    // Prometheus shows the same names, '-' and '.' as '_'.
    let prometheus = envoy.prometheus();
    for value in ["v2", "v3"] {
        let name = CounterName::tagged("split", value, Reason::Weight).prometheus_name();
        let seen = support::prometheus_value(&prometheus, &name)
            .unwrap_or_else(|| panic!("{name} not in /stats/prometheus"));
        assert!(seen >= got(value) as f64, "{name}: {seen}");
    }
}

#[test]
fn weight_0_never_and_weights_summing_to_100_never_reach_the_baseline() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let n = 600;
    let counts = spread(envoy, "full", n);
    assert_eq!(counts.get("v1"), None, "{counts:?}");
    assert_eq!(counts.get("v2"), None, "{counts:?}");
    let v3 = counts.get("v3").copied().unwrap_or(0);
    let bounds = binomial_bounds(n, 0.6, 4.0);
    assert!(bounds.contains(&v3), "v3: {v3}; expected {bounds:?}");
}

#[test]
fn the_same_key_lands_on_the_same_version_across_200_requests() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    // One key per version, found by the layout the README documents.
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..2000 {
        let key = format!("user-{i}");
        let value = expected("keys", &key, &[1000, 500]);
        keys.entry(value).or_insert(key);
    }
    assert_eq!(keys.len(), 3, "{keys:?}");
    let mut client = envoy.client();
    for (want, key) in &keys {
        let request = Request::get("/").host("keys.test").header("x-user-id", key);
        let seen: BTreeSet<String> = (0..200)
            .map(|_| {
                client
                    .send(&request)
                    .upstream_saw(HEADER)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(seen, BTreeSet::from([want.clone()]), "key {key}");
    }
}

/// The version the README's formula gives `key` in release `release` with
/// canaries v2, v3, ... of `weights_bp`.
pub(crate) fn expected(release: &str, key: &str, weights_bp: &[u32]) -> String {
    let bucket = canary_core::bucket(release, key.as_bytes());
    match canary_core::landing(bucket, weights_bp.iter().copied()) {
        Some(position) => format!("v{}", position + 2),
        None => "v1".to_string(),
    }
}

pub(crate) fn sticky_config(weights_bp: &[u32]) -> String {
    let canaries: Vec<Value> = weights_bp
        .iter()
        .enumerate()
        .map(|(i, w)| json!({"value": format!("v{}", i + 2), "weight": f64::from(*w) / 100.0}))
        .collect();
    plugin_config([tagged("raise", json!(canaries), true)])
}

#[test]
fn raising_one_weight_moves_no_key_to_the_baseline() {
    // Over 1,000 keys: two canaries (raise the first, then the second),
    // then three (raise the middle one).
    let steps: [&[u32]; 5] = [
        &[1000, 500],
        &[2500, 500],
        &[2500, 1500],
        &[1000, 500, 800],
        &[1000, 1700, 800],
    ];
    let envoy = Envoy::start_ecds(&sticky_config(steps[0]));
    let _log = envoy.log_on_failure();
    let keys: Vec<String> = (0..1000).map(|i| format!("k{i}")).collect();
    let mut client = envoy.client();
    let mut read = |weights: &[u32]| -> Vec<String> {
        keys.iter()
            .map(|key| {
                let request = Request::get("/")
                    .host("raise.test")
                    .header("x-user-id", key);
                let value = client
                    .send(&request)
                    .upstream_saw(HEADER)
                    .unwrap_or_default();
                assert_eq!(
                    value,
                    expected("raise", key, weights),
                    "key {key} at {weights:?}"
                );
                value
            })
            .collect()
    };
    let mut previous = read(steps[0]);
    for pair in steps.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        assert_eq!(
            envoy.apply_plugin_config(&sticky_config(to)),
            EcdsOutcome::Applied
        );
        let now = read(to);
        // Only a raise of one weight is a step here (a new list is a start).
        let raised = (from.len() == to.len())
            .then(|| (0..to.len()).find(|&i| to[i] > from[i]))
            .flatten();
        let mut moved = BTreeMap::new();
        for (key, (was, is)) in keys.iter().zip(previous.iter().zip(&now)) {
            if let Some(raised) = raised {
                assert!(
                    was == "v1" || is != "v1",
                    "{key} moved from {was} to the baseline ({from:?} -> {to:?})"
                );
                if to.len() == 2 && was != is {
                    assert_eq!(
                        (was.as_str(), is.as_str()),
                        ("v1", format!("v{}", raised + 2).as_str()),
                        "{key} ({from:?} -> {to:?})"
                    );
                }
            }
            if was != is {
                *moved.entry(format!("{was}->{is}")).or_insert(0u32) += 1;
            }
        }
        eprintln!("sticky {from:?} -> {to:?}: moved {moved:?}");
        previous = now;
    }
}

#[test]
fn the_routing_header_is_always_overwritten_and_removed_elsewhere() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    // A client naming a canary gets what the filter decides.
    let spoofed = Request::get("/").host("rules.test").header(HEADER, "v3");
    let response = envoy.send(&spoofed);
    assert_eq!(response.upstream_saw(HEADER).as_deref(), Some("v1"));
    assert_eq!(response.version(), "pay-v1");
    // A host no release covers: the header is removed.
    let elsewhere = Request::get("/").host("other.test").header(HEADER, "v3");
    assert_eq!(envoy.send(&elsewhere).upstream_saw(HEADER), None);
}

#[test]
fn a_third_upstream_is_routed_to_by_cluster_header() {
    // As the demo after `canaryctl add-canary ... pay-v3`: the values are
    // cluster names and Envoy routes on them (cluster_header).
    let release = json!({
        "name": "pay",
        "hosts": ["pay-service"],
        "header": "x-canary-cluster",
        "baseline": "pay-v1",
        "canaries": [
            {"value": "pay-v2", "conditions": [{"header": "env", "op": "equals", "value": "test"}]},
            {"value": "pay-v3", "conditions": [{"header": "x-tester", "op": "present"}], "weight": 100}
        ]
    });
    let envoy = Envoy::start(&plugin_config([release]));
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    let send = |client: &mut support::Client, headers: &[(&str, &str)]| {
        let mut request = Request::get("/").host("pay-service");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        client.send(&request).version()
    };
    assert_eq!(send(&mut client, &[("env", "test")]), "pay-v2");
    assert_eq!(send(&mut client, &[("x-tester", "1")]), "pay-v3");
    // Weight 100 on pay-v3: no rule hit still lands there, never on pay-v1.
    for _ in 0..50 {
        assert_eq!(send(&mut client, &[]), "pay-v3");
    }
}
