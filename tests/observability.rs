//! What operators see, end to end: the filter's counters in `/stats` equal
//! the responses clients got, the same numbers appear in `/stats/prometheus`,
//! and with wasm debug logging each request leaves one line in the log.
//!
//! Envoy names them:
//!   /stats:             wasmcustom.canary.<release>.<baseline|canary>.<rule|sticky|weight>
//!                       wasmcustom.canary.no_release
//!   /stats/prometheus:  canary_<release>_<baseline|canary>_<rule|sticky|weight>
//!                       canary_no_release
//! (the `wasmcustom.` namespace is dropped, there is no `envoy_` prefix, and
//! every character outside [a-zA-Z0-9_] becomes `_`, so release `shop-v2`
//! shows as `canary_shop_v2_...`). Each is a counter with no labels.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use canary_core::{CounterName, Reason, Version};
use support::{plugin_config, routed_stat, stat, weighted_release, Envoy, Request};

/// One release per test, so tests running at once do not share counters;
/// only `counters_equal_the_responses_seen` sends to uncovered hosts.
fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        Envoy::builder(&plugin_config([
            weighted_release("counted", 50.0),
            weighted_release("shop-v2", 30.0),
            weighted_release("logged", 0.0),
        ]))
        .component_log_level("wasm:debug")
        .start()
    })
}

/// Every (version, reason) pair a release counts.
fn routed_pairs() -> impl Iterator<Item = (Version, Reason)> {
    Version::ALL
        .into_iter()
        .flat_map(|version| Reason::ALL.into_iter().map(move |reason| (version, reason)))
}

#[test]
fn the_cores_counter_names_are_the_documented_ones() {
    // The names are a contract with dashboards: the core defines them once,
    // the filter, canaryctl and these tests use its definition, and this
    // pins it to what the module doc above (and the README) promise.
    let release = CounterName::routed("shop-v2", Version::Canary, Reason::Rule);
    assert_eq!(stat(release), "wasmcustom.canary.shop-v2.canary.rule");
    assert_eq!(release.prometheus_name(), "canary_shop_v2_canary_rule");
    assert_eq!(stat(CounterName::NoRelease), "wasmcustom.canary.no_release");
    assert_eq!(
        CounterName::NoRelease.prometheus_name(),
        "canary_no_release"
    );
    let names: Vec<String> = routed_pairs()
        .map(|(version, reason)| routed_stat("r", version, reason))
        .collect();
    assert_eq!(
        names,
        [
            "wasmcustom.canary.r.baseline.rule",
            "wasmcustom.canary.r.baseline.sticky",
            "wasmcustom.canary.r.baseline.weight",
            "wasmcustom.canary.r.canary.rule",
            "wasmcustom.canary.r.canary.sticky",
            "wasmcustom.canary.r.canary.weight",
        ]
    );
}

#[test]
fn counters_equal_the_responses_seen() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let before = envoy.canary_counters();
    let mut client = envoy.client();
    let host = "counted.test";
    // Responses seen, by (version, reason) as the request's shape implies.
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut tally = |reason: Reason, request: Request| {
        let response = client.send(&request);
        let version = match response.version().as_str() {
            "pay-v2" => Version::Canary,
            "pay-v1" => Version::Baseline,
            other => panic!("unexpected answer {} {other:?}", response.status),
        };
        *seen
            .entry(routed_stat("counted", version, reason))
            .or_default() += 1;
    };
    for _ in 0..30 {
        tally(
            Reason::Rule,
            Request::get("/").host(host).header("env", "test"),
        );
    }
    for i in 0..60 {
        let key = format!("user-{i}");
        tally(
            Reason::Sticky,
            Request::get("/").host(host).header("x-user-id", key),
        );
    }
    for _ in 0..60 {
        tally(Reason::Weight, Request::get("/").host(host));
    }
    let mut uncovered = 0;
    for host in ["nobody.test", "other.example"] {
        for _ in 0..5 {
            assert_eq!(
                client.send(&Request::get("/").host(host)).version(),
                "pay-v1"
            );
            uncovered += 1;
        }
    }

    let after = envoy.canary_counters();
    for (version, reason) in routed_pairs() {
        let name = routed_stat("counted", version, reason);
        let delta = after.get(&name).copied().unwrap_or_default()
            - before.get(&name).copied().unwrap_or_default();
        assert!(after.contains_key(&name), "no counter {name}: {after:?}");
        assert_eq!(delta, seen.get(&name).copied().unwrap_or(0), "{name}");
    }
    // A rule hit is always the canary, so this counter never moves.
    let baseline_rule = routed_stat("counted", Version::Baseline, Reason::Rule);
    assert_eq!(seen.get(&baseline_rule), None);
    let no_release = stat(CounterName::NoRelease);
    assert_eq!(after[&no_release] - before[&no_release], uncovered);
}

#[test]
fn counters_show_in_prometheus_without_the_wasmcustom_prefix() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let mut client = envoy.client();
    for i in 0..40 {
        let request = Request::get("/")
            .host("shop-v2.test")
            .header("x-user-id", format!("u{i}"));
        client.send(&request);
    }
    client.send(&Request::get("/").host("shop-v2.test").header("env", "test"));

    let stats = envoy.canary_counters();
    let prometheus = envoy.prometheus();
    for (version, reason) in routed_pairs() {
        let counter = CounterName::routed("shop-v2", version, reason);
        let (stat, metric) = (stat(counter), counter.prometheus_name());
        assert!(
            prometheus.contains(&format!("# TYPE {metric} counter")),
            "{metric} is not a Prometheus counter:\n{prometheus}"
        );
        let value = support::prometheus_value(&prometheus, &metric)
            .unwrap_or_else(|| panic!("no {metric} in /stats/prometheus"));
        assert_eq!(value, stats[&stat] as f64, "{metric} vs {stat}");
    }
    assert!(stats[&routed_stat("shop-v2", Version::Canary, Reason::Rule)] >= 1);
    let no_release = CounterName::NoRelease.prometheus_name();
    assert!(support::prometheus_value(&prometheus, &no_release).is_some());
    assert!(
        !prometheus.contains("wasmcustom"),
        "Envoy should drop the wasmcustom namespace in Prometheus"
    );
}

#[test]
fn each_request_logs_one_debug_line_with_release_version_and_reason() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    envoy.send(&Request::get("/").host("logged.test").header("env", "test"));
    envoy.send(&Request::get("/").host("logged.test"));
    let want = [
        "canary-filter: release=logged version=canary reason=rule x-canary-cluster=pay-v2",
        "canary-filter: release=logged version=baseline reason=weight x-canary-cluster=pay-v1",
    ];
    // Envoy writes its log from its own threads: wait (bounded) for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = envoy.log();
    while want.iter().any(|line| !log.contains(line)) && Instant::now() < deadline {
        sleep(Duration::from_millis(50));
        log = envoy.log();
    }
    for line in want {
        assert_eq!(
            log.matches(line).count(),
            1,
            "want exactly one `{line}` in the log"
        );
    }
}
