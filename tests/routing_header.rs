//! Anti-spoofing, end to end: a client's own routing header never picks the
//! version. The filter overwrites it on hosts a release covers and removes it
//! on hosts none covers; the demo upstreams echo what reached them.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::sync::OnceLock;

use serde_json::json;
use support::{pay_release, plugin_config, Envoy, Request, Response};

/// `pay` (weight 0): everything outside the rule goes to pay-v1; the rule
/// is `env: test`. `shop` on shop.test writes another routing header,
/// `x-canary-version` (v1 or v2; the route ignores it, so pay-v1 answers).
/// No release covers any other host.
fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        let mut pay = pay_release();
        pay["conditions"] = json!([{"header": "env", "op": "equals", "value": "test"}]);
        let shop = json!({
            "name": "shop",
            "hosts": ["shop.test"],
            "header": "x-canary-version",
            "baseline": "v1",
            "canary": "v2",
            "weight": 0
        });
        Envoy::start(&plugin_config([pay, shop]))
    })
}

fn send(request: Request) -> Response {
    let response = envoy().client().send(&request);
    assert_eq!(response.status, 200, "{response:?}");
    response
}

#[test]
fn spoofed_canary_value_is_overwritten_with_the_decision() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("pay-service")
            .header("x-canary-cluster", "pay-v2"),
    );
    assert_eq!(response.version(), "pay-v1");
    assert_eq!(
        response.upstream_routing_header().as_deref(),
        Some("pay-v1")
    );
}

#[test]
fn spoofed_baseline_value_does_not_stop_a_rule_hit() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("pay-service")
            .header("env", "test")
            .header("x-canary-cluster", "pay-v1"),
    );
    assert_eq!(response.version(), "pay-v2");
    assert_eq!(
        response.upstream_routing_header().as_deref(),
        Some("pay-v2")
    );
}

#[test]
fn repeated_and_mixed_case_routing_headers_leave_one_value() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("pay-service")
            .header("x-canary-cluster", "pay-v2")
            .header("X-Canary-Cluster", "pay-v2")
            .header("x-canary-cluster", "no-such-cluster"),
    );
    assert_eq!(response.version(), "pay-v1");
    // Two survivors would reach the upstream joined as "a,b".
    assert_eq!(
        response.upstream_routing_header().as_deref(),
        Some("pay-v1")
    );
}

#[test]
fn non_utf8_routing_header_is_overwritten() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("pay-service")
            .header("x-canary-cluster", b"pay-v2\xff\xfe"),
    );
    assert_eq!(response.version(), "pay-v1");
    assert_eq!(
        response.upstream_routing_header().as_deref(),
        Some("pay-v1")
    );
}

#[test]
fn host_forms_that_name_a_covered_host_are_covered() {
    let _log = envoy().log_on_failure();
    for host in [
        "PAY-SERVICE",
        "pay-service:8080",
        "pay-service.",
        "localhost:10000",
    ] {
        let response = send(
            Request::get("/")
                .host(host)
                .header("env", "test")
                .header("x-canary-cluster", "pay-v1"),
        );
        assert_eq!(response.version(), "pay-v2", "host {host:?}");
        assert_eq!(
            response.upstream_routing_header().as_deref(),
            Some("pay-v2"),
            "host {host:?}"
        );
    }
}

#[test]
fn routing_header_is_removed_on_a_host_no_release_covers() {
    let _log = envoy().log_on_failure();
    for host in ["other.example", "pay-service.other", "xpay-service"] {
        let response = send(
            Request::get("/")
                .host(host)
                .header("env", "test")
                .header("x-canary-cluster", "pay-v2"),
        );
        // Removed, so the default route (the baseline) served it, and the
        // upstream saw no routing header at all.
        assert_eq!(response.version(), "pay-v1", "host {host:?}");
        assert_eq!(response.upstream_routing_header(), None, "host {host:?}");
    }
}

#[test]
fn every_routing_header_is_removed_on_an_uncovered_host() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("other.example")
            .header("x-canary-cluster", "pay-v2")
            .header("x-canary-version", "v2"),
    );
    assert_eq!(response.version(), "pay-v1");
    assert_eq!(response.upstream_saw("x-canary-cluster"), None);
    assert_eq!(response.upstream_saw("x-canary-version"), None);
}

#[test]
fn another_releases_routing_header_is_removed() {
    let _log = envoy().log_on_failure();
    let response = send(
        Request::get("/")
            .host("pay-service")
            .header("x-canary-version", "v2"),
    );
    assert_eq!(response.upstream_saw("x-canary-version"), None);
    assert_eq!(
        response.upstream_saw("x-canary-cluster").as_deref(),
        Some("pay-v1")
    );

    let response = send(
        Request::get("/")
            .host("shop.test")
            .header("x-canary-cluster", "pay-v2")
            .header("x-canary-version", "v2"),
    );
    // shop writes only its own header, and strips pay's, so the default
    // route (pay-v1) answers.
    assert_eq!(response.version(), "pay-v1");
    assert_eq!(response.upstream_saw("x-canary-cluster"), None);
    assert_eq!(
        response.upstream_saw("x-canary-version").as_deref(),
        Some("v1")
    );
}

#[test]
fn request_without_a_routing_header_on_an_uncovered_host_reaches_the_baseline() {
    let _log = envoy().log_on_failure();
    let response = send(Request::get("/").host("other.example"));
    assert_eq!(response.version(), "pay-v1");
    assert_eq!(response.upstream_routing_header(), None);
}
