//! The weight, end to end: requests outside the rule and without a sticky
//! key reach the canary at the configured share. Bounds are binomial, four
//! standard deviations wide, so a correct filter fails about once in 16,000
//! runs and a filter off by a few points fails every time.

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

use canary_core::{Reason, Version};
use support::{binomial_bounds, plugin_config, routed_stat, weighted_release, Envoy, Request};

fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        Envoy::start(&plugin_config([
            weighted_release("w20", 20.0),
            weighted_release("w0", 0.0),
            weighted_release("w100", 100.0),
        ]))
    })
}

/// Sends `n` requests to `<release>.test` on one keep-alive connection and
/// counts those the canary (pay-v2) answered.
fn canary_count(release: &str, n: u64) -> u64 {
    let envoy = envoy();
    let mut client = envoy.client();
    let request = Request::get("/").host(format!("{release}.test"));
    let mut canary = 0;
    for _ in 0..n {
        let response = client.send(&request);
        match response.version().as_str() {
            "pay-v2" => canary += 1,
            "pay-v1" => {}
            other => panic!("unexpected answer {} {other:?}", response.status),
        }
    }
    canary
}

#[test]
fn weight_20_sends_a_fifth_of_2000_requests_to_the_canary() {
    let _log = envoy().log_on_failure();
    let before = envoy().canary_counters();
    let canary = canary_count("w20", 2000);
    // p = 0.2, n = 2000: mean 400, sd 17.9, so 4 sd is 328..=472.
    let bounds = binomial_bounds(2000, 0.2, 4.0);
    assert!(
        bounds.contains(&canary),
        "{canary} of 2000 reached the canary; expected {bounds:?}"
    );
    // Every one of them was the random roll's doing.
    let after = envoy().canary_counters();
    let delta = |name: &str| after[name] - before[name];
    assert_eq!(
        delta(&routed_stat("w20", Version::Canary, Reason::Weight)),
        canary
    );
    assert_eq!(
        delta(&routed_stat("w20", Version::Baseline, Reason::Weight)),
        2000 - canary
    );
}

#[test]
fn weight_0_never_reaches_the_canary() {
    let _log = envoy().log_on_failure();
    assert_eq!(canary_count("w0", 500), 0);
}

#[test]
fn weight_100_always_reaches_the_canary() {
    let _log = envoy().log_on_failure();
    assert_eq!(canary_count("w100", 500), 500);
}
