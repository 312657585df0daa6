//! Defence in depth for the routing header. The filter overwrites a
//! client's routing header, but a filter that failed to load and fails open
//! overwrites nothing. `make run`'s Envoy therefore strips the header in the
//! connection manager's early header mutation, before any filter and before
//! a route is chosen. Here the canary filter is replaced by a pass-through
//! stand-in, and a spoofed header must still not reach v2.

// A test crate: helpers outside #[test] functions may panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use serde_json::json;
use support::Mode;
use support::{pay_release, plugin_config, Envoy, Request};

fn spoofed() -> Request {
    Request::get("/")
        .host("pay-service")
        .header("x-canary-cluster", "pay-v2")
}

#[test]
fn without_the_filter_the_early_strip_keeps_a_spoofed_header_off_v2() {
    let envoy = Envoy::builder(&plugin_config([pay_release()]))
        .mode(Mode::Absent)
        .early_strip()
        .start();
    for _ in 0..50 {
        let response = envoy.send(&spoofed());
        assert_eq!(response.version(), "pay-v1");
        assert_eq!(response.upstream_routing_header(), None);
    }
}

#[test]
fn control_without_the_strip_a_spoofed_header_would_pick_v2() {
    // The threat the strip answers: no filter, no strip, the client chooses.
    let envoy = Envoy::builder(&plugin_config([pay_release()]))
        .mode(Mode::Absent)
        .start();
    let response = envoy.send(&spoofed());
    assert_eq!(response.version(), "pay-v2");
}

#[test]
fn with_the_filter_the_strip_changes_nothing_but_the_spoof() {
    let mut pay = pay_release();
    pay["conditions"] = json!([{"header": "env", "op": "equals", "value": "test"}]);
    let envoy = Envoy::builder(&plugin_config([pay])).early_strip().start();
    for _ in 0..20 {
        assert_eq!(envoy.send(&spoofed()).version(), "pay-v1");
        let rule_hit = spoofed().header("env", "test");
        let response = envoy.send(&rule_hit);
        assert_eq!(response.version(), "pay-v2");
        assert_eq!(
            response.upstream_routing_header().as_deref(),
            Some("pay-v2")
        );
    }
}
