//! Chaos during reconfiguration: 100 plugin configs swapped through ECDS
//! into one running Envoy (two workers) while client threads keep sending
//! requests, valid and invalid configs mixed. Promises:
//! - no request fails and no connection breaks, however the swaps fall;
//! - each valid config is in force for the next request (checked by a rule
//!   only it has, and by its weight, 0 or 100);
//! - each invalid config is rejected and the last good one keeps serving.
//!
//! Load is continuous by construction: a swap is not over until the load
//! threads have completed requests after it was applied.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{ecds_stat, pay_release, plugin_config, Client, EcdsOutcome, Envoy, Request};

const SWAPS: u32 = 100;
/// Requests the load threads must complete after each swap before the next.
const LOAD_PER_SWAP: u64 = 10;
/// Bound on waiting for them (a stuck Envoy fails the test, never hangs it).
const LOAD_WAIT: Duration = Duration::from_secs(30);

/// Valid config `generation`: its own rule (`x-generation: g<N>`) and a
/// weight of 100 on odd generations, 0 on even ones.
fn generation(n: u32) -> String {
    let mut pay = pay_release();
    pay["weight"] = json!(if n % 2 == 1 { 100 } else { 0 });
    pay["conditions"] = json!([
        {"header": "x-generation", "op": "equals", "value": format!("g{n}")}
    ]);
    plugin_config([pay])
}

/// Invalid configs of every kind the filter refuses.
fn invalid(n: u32) -> String {
    let mut pay = pay_release();
    match n % 8 {
        0 => pay["weight"] = json!(-1),
        1 => pay["conditions"] = json!([{"header": "env", "op": "eq", "value": "t"}]),
        2 => return r#"{"releases": ["#.to_owned(),
        3 => return r#"{"releases": []}"#.to_owned(),
        4 => pay["path"] = json!({"regex": "(unclosed"}),
        5 => return plugin_config([pay.clone(), pay]),
        6 => return format!("{}{}", "[".repeat(1000), "]".repeat(1000)),
        _ => return format!(r#"{{"releases": [], "pad": "{}"}}"#, "x".repeat(600 * 1024)),
    }
    plugin_config([pay])
}

/// What the load threads saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn check(&self, outcome: std::io::Result<support::Response>) {
        let verdict = match outcome {
            Err(e) => Err(format!("connection error: {e}")),
            Ok(r) if r.status != 200 => Err(format!("status {}: {}", r.status, r.body_text())),
            Ok(r) => {
                let version = r.version();
                let header = r.upstream_routing_header().unwrap_or_default();
                if ["pay-v1", "pay-v2"].contains(&version.as_str()) && header == version {
                    Ok(())
                } else {
                    Err(format!("reached {version} with routing header {header:?}"))
                }
            }
        };
        match verdict {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => self.failures.lock().unwrap().push(e),
        }
    }
}

/// Sends until `stop`: one thread on a keep-alive connection, one on a new
/// connection per request, both spread over the generations' rules.
fn start_load(
    envoy: &Envoy,
    tally: &Arc<Tally>,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<()>> {
    [true, false]
        .into_iter()
        .map(|keep_alive| {
            let (front, tally, stop) = (envoy.front, Arc::clone(tally), Arc::clone(stop));
            thread::spawn(move || {
                let mut client = Client::new(front);
                let mut n = 0u32;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let request = Request::get("/")
                        .host("pay-service")
                        .header("x-generation", format!("g{}", n % SWAPS));
                    if keep_alive {
                        tally.check(client.try_send(&request));
                    } else {
                        tally.check(Client::new(front).try_send(&request));
                    }
                }
            })
        })
        .collect()
}

/// Waits until the load threads have completed `LOAD_PER_SWAP` more requests.
fn wait_for_load(tally: &Tally, from: u64) {
    let deadline = Instant::now() + LOAD_WAIT;
    while tally.ok.load(Ordering::SeqCst) < from + LOAD_PER_SWAP {
        assert!(
            tally.failures.lock().unwrap().is_empty() && Instant::now() < deadline,
            "load stalled or failed: {:?}",
            tally.failures.lock().unwrap()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// The version a fresh request reaches, with and without generation `n`'s rule.
fn probe(envoy: &Envoy, n: u32) -> (String, String) {
    let base = || Request::get("/").host("pay-service");
    let rule = envoy.send(&base().header("x-generation", format!("g{n}")));
    let plain = envoy.send(&base());
    (rule.version(), plain.version())
}

/// What generation `n` in force means for [`probe`].
fn expected(n: u32) -> (String, String) {
    let plain = if n % 2 == 1 { "pay-v2" } else { "pay-v1" };
    ("pay-v2".to_owned(), plain.to_owned())
}

#[test]
fn one_hundred_swaps_under_load_lose_no_request() {
    let envoy = Envoy::builder(&generation(0)).ecds().concurrency(2).start();
    let _log = envoy.log_on_failure();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&envoy, &tally, &stop);

    let (mut applied, mut rejected, mut good) = (0u64, 0u64, 0u32);
    for swap in 1..=SWAPS {
        let before = tally.ok.load(Ordering::SeqCst);
        // Every third swap is invalid: 33 rejected, 67 applied.
        if swap % 3 == 0 {
            let outcome = envoy.apply_plugin_config(&invalid(swap));
            assert_eq!(outcome, EcdsOutcome::Rejected, "invalid config {swap}");
            rejected += 1;
        } else {
            let outcome = envoy.apply_plugin_config(&generation(swap));
            assert_eq!(outcome, EcdsOutcome::Applied, "valid config {swap}");
            applied += 1;
            good = swap;
        }
        assert_eq!(
            probe(&envoy, good),
            expected(good),
            "after swap {swap}, generation {good} in force"
        );
        wait_for_load(&tally, before);
    }
    stop.store(true, Ordering::SeqCst);
    for thread in load {
        thread.join().unwrap();
    }

    let failures = tally.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert_eq!((applied, rejected), (67, 33));
    // Envoy's own count agrees: one initial config, then ours.
    assert_eq!(envoy.counter(&ecds_stat("update_success")), 1 + applied);
    assert_eq!(envoy.counter(&ecds_stat("update_rejected")), rejected);
    // Envoy answered every request and closed no connection itself (the
    // keep-alive client would hide one such close behind its single retry).
    assert_eq!(envoy.counter("http.front.downstream_rq_5xx"), 0);
    assert_eq!(envoy.counter("http.front.downstream_cx_destroy_local"), 0);
    assert_eq!(
        envoy.counter("http.front.downstream_cx_destroy_remote_active_rq"),
        0
    );
    let log = envoy.log();
    assert!(!log.contains("panicked"), "{}", envoy.log_tail(40));
    eprintln!(
        "reconfigure chaos: {SWAPS} swaps ({applied} applied, {rejected} rejected), {} requests under load, 0 failed",
        tally.ok.load(Ordering::SeqCst)
    );
}
