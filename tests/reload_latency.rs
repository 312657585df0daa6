//! How long a config change takes to reach traffic: from the rename of a new
//! ECDS file into the watched folder to the first response routed by it.
//! The weight flips between 0 and 100, so every request names the config in
//! force; a client polls on a keep-alive connection as fast as it can.
//!
//! Prints min/median/p90/max (run with `--nocapture`); asserts only that
//! every swap lands within a generous bound and that no request fails.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::fs;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{ecds_stat, pay_release, plugin_config, Envoy, Request};

const SWAPS: usize = 30;
/// A safety bound, not a performance target: a swap slower than this is
/// broken, not slow.
const SWAP_BOUND: Duration = Duration::from_secs(10);
/// Requests checked after each swap: the new config stays in force.
const SETTLE_REQUESTS: usize = 20;

/// The ECDS file `file` with the release's weight set to `weight`.
fn ecds_with_weight(file: &Path, weight: u32) -> String {
    let mut doc: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    let slot = &mut doc["resources"][0]["typed_config"]["config"]["configuration"]["value"];
    let mut plugin: Value = serde_json::from_str(slot.as_str().unwrap()).unwrap();
    plugin["releases"][0]["weight"] = json!(weight);
    *slot = json!(plugin.to_string());
    serde_json::to_string_pretty(&doc).unwrap()
}

/// The value at quantile `q` of sorted `values` (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[test]
fn a_swap_reaches_traffic_within_the_bound_and_no_request_fails() {
    // Two workers, as a sidecar commonly runs.
    let envoy = Envoy::builder(&plugin_config([pay_release()]))
        .ecds()
        .concurrency(2)
        .start();
    let _log = envoy.log_on_failure();
    let file = envoy.dir().join("ecds").join("canary-filter.json");
    let staging = envoy.dir().join("ecds-staging");
    fs::create_dir_all(&staging).unwrap();
    // Rendered once, so a swap is a copy and a rename.
    let by_weight = [
        (0, ecds_with_weight(&file, 0)),
        (100, ecds_with_weight(&file, 100)),
    ];
    let success = || envoy.counter(&ecds_stat("update_success"));
    let reload = || envoy.counter(&ecds_stat("config_reload"));

    let request = Request::get("/").host("pay-service");
    let mut client = envoy.client();
    assert_eq!(client.send(&request).version(), "pay-v1");
    let mut latencies = Vec::with_capacity(SWAPS);
    let mut polls = 0u64;
    let mut sent = 1u64;
    for swap in 0..SWAPS {
        let (weight, text) = &by_weight[(swap + 1) % 2];
        let (new, old) = if *weight == 100 {
            ("pay-v2", "pay-v1")
        } else {
            ("pay-v1", "pay-v2")
        };
        let staged = staging.join(format!("swap-{swap}.json"));
        fs::write(&staged, text).unwrap();
        let (success_before, reload_before) = (success(), reload());

        let renamed = Instant::now();
        fs::rename(&staged, &file).unwrap();
        let latency = loop {
            let response = client.send(&request);
            sent += 1;
            polls += 1;
            assert_eq!(response.status, 200, "swap {swap}: {response:?}");
            let version = response.version();
            if version == new {
                break renamed.elapsed();
            }
            assert_eq!(version, old, "swap {swap}: {response:?}");
            assert!(
                renamed.elapsed() < SWAP_BOUND,
                "swap {swap} to weight {weight} not routed within {SWAP_BOUND:?}\n{}",
                envoy.log_tail(20)
            );
        };
        latencies.push(latency);

        // Settled: Envoy counts the update, every worker has it, and the
        // connection keeps getting the new version.
        let deadline = Instant::now() + SWAP_BOUND;
        while success() == success_before || reload() == reload_before {
            assert!(
                Instant::now() < deadline,
                "swap {swap}: Envoy never counted the update"
            );
            sleep(Duration::from_millis(5));
        }
        for _ in 0..SETTLE_REQUESTS {
            let response = client.send(&request);
            sent += 1;
            assert_eq!(
                (response.status, response.version().as_str()),
                (200, new),
                "swap {swap}: after the switch"
            );
        }
    }

    let front = |name: &str| envoy.counter(&format!("http.front.{name}"));
    assert_eq!(
        front("downstream_rq_2xx"),
        sent,
        "responses Envoy counted as 2xx"
    );
    assert_eq!(
        front("downstream_cx_total"),
        1,
        "one connection for the whole run"
    );
    assert_eq!(envoy.counter(&ecds_stat("update_rejected")), 0);

    let mut sorted = latencies.clone();
    sorted.sort();
    let listed: Vec<String> = latencies
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
        .collect();
    eprintln!("reload latency, rename to first response routed by the new config, {SWAPS} swaps (weight 0 <-> 100, Envoy with 2 workers, one keep-alive client):");
    eprintln!("  each (ms): {}", listed.join(" "));
    eprintln!(
        "  min {}  median {}  p90 {}  max {}  ({} requests polled, {} in all)",
        ms(sorted[0]),
        ms(quantile(&sorted, 0.5)),
        ms(quantile(&sorted, 0.9)),
        ms(sorted[SWAPS - 1]),
        polls,
        sent
    );
}
