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

use support::{plugin_config, weighted_release, Envoy, Request};

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

const VERSIONS: [&str; 2] = ["baseline", "canary"];
const REASONS: [&str; 3] = ["rule", "sticky", "weight"];

#[test]
fn counters_equal_the_responses_seen() {
    let envoy = envoy();
    let _log = envoy.log_on_failure();
    let before = envoy.canary_counters();
    let mut client = envoy.client();
    let host = "counted.test";
    // Responses seen, by (version, reason) as the request's shape implies.
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut tally = |reason: &str, request: Request| {
        let response = client.send(&request);
        let version = match response.version().as_str() {
            "pay-v2" => "canary",
            "pay-v1" => "baseline",
            other => panic!("unexpected answer {} {other:?}", response.status),
        };
        *seen
            .entry(format!("wasmcustom.canary.counted.{version}.{reason}"))
            .or_default() += 1;
    };
    for _ in 0..30 {
        tally("rule", Request::get("/").host(host).header("env", "test"));
    }
    for i in 0..60 {
        let key = format!("user-{i}");
        tally(
            "sticky",
            Request::get("/").host(host).header("x-user-id", key),
        );
    }
    for _ in 0..60 {
        tally("weight", Request::get("/").host(host));
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
    for version in VERSIONS {
        for reason in REASONS {
            let name = format!("wasmcustom.canary.counted.{version}.{reason}");
            let delta = after.get(&name).copied().unwrap_or_default()
                - before.get(&name).copied().unwrap_or_default();
            assert!(after.contains_key(&name), "no counter {name}: {after:?}");
            assert_eq!(delta, seen.get(&name).copied().unwrap_or(0), "{name}");
        }
    }
    // A rule hit is always the canary, so this counter never moves.
    assert_eq!(seen.get("wasmcustom.canary.counted.baseline.rule"), None);
    let no_release = "wasmcustom.canary.no_release";
    assert_eq!(after[no_release] - before[no_release], uncovered);
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
    for version in VERSIONS {
        for reason in REASONS {
            let stat = format!("wasmcustom.canary.shop-v2.{version}.{reason}");
            let metric = format!("canary_shop_v2_{version}_{reason}");
            assert!(
                prometheus.contains(&format!("# TYPE {metric} counter")),
                "{metric} is not a Prometheus counter:\n{prometheus}"
            );
            let value = support::prometheus_value(&prometheus, &metric)
                .unwrap_or_else(|| panic!("no {metric} in /stats/prometheus"));
            assert_eq!(value, stats[&stat] as f64, "{metric} vs {stat}");
        }
    }
    assert!(stats["wasmcustom.canary.shop-v2.canary.rule"] >= 1);
    assert!(support::prometheus_value(&prometheus, "canary_no_release").is_some());
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
