//! Lanes in real Envoys, on the chain gateway → order → pay → stock →
//! ledger (support/chain.rs) running the lanes kit's own plugin configs
//! (filter-config/istio/lanes/): a beta user runs order v2 → pay v2 →
//! stock v1 → ledger v2 at every hop, everybody else stays on v1, in strict
//! mode (apps forward the lane header) and loose mode (apps forward only
//! `traceparent`, the sidecars remember the trace's lane).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::Duration;

use canary_core::{Reason, Version};
use serde_json::{json, Value};

use crate::support::chain::{
    hops, kit_configs, route, traceparent, Chain, Forward, LANE_HEADER, VERSION_HEADER,
};
use crate::support::{routed_stat, EcdsOutcome, Request};

const LANE: &str = "gray";
const IN_LANE: &str = "order:v2 pay:v2 stock:v1 ledger:v2";
const BASELINES: &str = "order:v1 pay:v1 stock:v1 ledger:v1";
/// Requests per check: the 200 of 200.
const REQUESTS: u64 = 200;
/// The loose chain's record lifetime: short, so a test can outlive it.
const LOOSE_TTL_SECONDS: u64 = 2;

fn configs(forward: Forward) -> (String, String) {
    let (mut sidecar, gateway) = kit_configs(forward);
    if forward == Forward::TraceContext {
        sidecar["lanes"]["ttl_seconds"] = json!(LOOSE_TTL_SECONDS);
    }
    (sidecar.to_string(), gateway.to_string())
}

/// Loose mode; sidecars on ECDS so a test can update them mid-way.
fn loose() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let (sidecar, gateway) = configs(Forward::TraceContext);
        Chain::builder(Forward::TraceContext, &gateway, &sidecar)
            .ecds()
            .start()
    })
}

/// Strict mode, without the gateway's early strip: the filter alone keeps
/// a client out of a lane.
fn strict() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let (sidecar, gateway) = configs(Forward::LaneHeader);
        Chain::builder(Forward::LaneHeader, &gateway, &sidecar)
            .without_gateway_strip()
            .start()
    })
}

/// Distinct trace ids across all the tests of the process.
fn next_trace() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn beta(trace: u64) -> Request {
    Chain::request()
        .header("x-user-group", "beta")
        .header("traceparent", traceparent(trace))
}

fn other(trace: u64) -> Request {
    Chain::request().header("traceparent", traceparent(trace))
}

/// Sends `request` `REQUESTS` times (each with a trace of its own) and
/// tallies the paths.
fn paths(chain: &Chain, request: impl Fn(u64) -> Request) -> Vec<(String, u64)> {
    let mut tally: Vec<(String, u64)> = Vec::new();
    let mut client = chain.gateway.client();
    for _ in 0..REQUESTS {
        let response = client.send(&request(next_trace()));
        assert_eq!(
            response.status,
            200,
            "{}\n{}",
            response.body_text(),
            chain.logs_tail()
        );
        let path = route(&response);
        match tally.iter_mut().find(|(p, _)| *p == path) {
            Some((_, n)) => *n += 1,
            None => tally.push((path, 1)),
        }
    }
    tally
}

fn a_beta_user_stays_in_the_lane_and_others_on_the_baselines(chain: &Chain, mode: &str) {
    let _log = chain.gateway.log_on_failure();
    let lane = paths(chain, beta);
    let others = paths(chain, other);
    println!("{mode}: beta users {lane:?}; other users {others:?}");
    assert_eq!(lane, [(IN_LANE.to_owned(), REQUESTS)], "{mode}");
    assert_eq!(others, [(BASELINES.to_owned(), REQUESTS)], "{mode}");
    // Every app behind the gateway saw the lane header on a lane request.
    let response = chain.send(&beta(next_trace()));
    for hop in hops(&response) {
        assert_eq!(hop.lane.as_deref(), Some(LANE), "{mode}: {hop:?}");
    }
    let order_v2 = chain.sidecar("order-v2");
    assert!(order_v2.counter(&routed_stat("pay", Version::Canary, Reason::Lane)) >= REQUESTS);
}

#[test]
fn loose_a_beta_user_runs_the_lane_at_every_hop_200_of_200() {
    a_beta_user_stays_in_the_lane_and_others_on_the_baselines(loose(), "loose");
}

#[test]
fn strict_a_beta_user_runs_the_lane_at_every_hop_200_of_200() {
    a_beta_user_stays_in_the_lane_and_others_on_the_baselines(strict(), "strict");
}

#[test]
fn a_client_that_sends_the_lane_header_to_the_gateway_does_not_enter_the_lane() {
    for (chain, mode) in [
        (strict(), "strict, the filter's removal"),
        (loose(), "loose, the kit's strip"),
    ] {
        let spoofed = other(next_trace()).header(LANE_HEADER, LANE);
        let response = chain.send(&spoofed);
        assert_eq!(route(&response), BASELINES, "{mode}");
        assert!(
            hops(&response).iter().all(|hop| hop.lane.is_none()),
            "{mode}"
        );
        // Nor with the routing header as well.
        let both = spoofed.header(VERSION_HEADER, "v2");
        assert_eq!(route(&chain.send(&both)), BASELINES, "{mode}");
    }
}

#[test]
fn loose_without_trace_context_the_lane_ends_after_the_hop_that_joined_it() {
    let chain = loose();
    let untraced = Chain::request().header("x-user-group", "beta");
    let response = chain.send(&untraced);
    assert_eq!(route(&response), "order:v2 pay:v1 stock:v1 ledger:v1");
}

/// A call order v2's app could make: to pay, through its sidecar.
fn call_pay_from_order_v2(chain: &Chain, request: Request) -> String {
    let response = chain.sidecar("order-v2").send(&request.host("pay"));
    assert_eq!(response.status, 200, "{}", response.body_text());
    route(&response)
}

#[test]
fn loose_a_trace_never_recorded_or_past_its_ttl_goes_to_the_baselines() {
    let chain = loose();
    let never = Request::get("/").header("traceparent", traceparent(next_trace()));
    assert_eq!(
        call_pay_from_order_v2(chain, never),
        "pay:v1 stock:v1 ledger:v1"
    );
    // A trace recorded by a beta user's request: followed while fresh...
    let trace = next_trace();
    assert_eq!(route(&chain.send(&beta(trace))), IN_LANE);
    let again = || Request::get("/").header("traceparent", traceparent(trace));
    assert_eq!(
        call_pay_from_order_v2(chain, again()),
        "pay:v2 stock:v1 ledger:v2"
    );
    // ...and no more once its TTL has passed (the records are in seconds).
    sleep(Duration::from_secs(LOOSE_TTL_SECONDS + 1));
    assert_eq!(
        call_pay_from_order_v2(chain, again()),
        "pay:v1 stock:v1 ledger:v1"
    );
}

#[test]
fn an_unknown_lane_is_no_lane_and_a_known_one_is_honoured_in_a_sidecar() {
    for (chain, mode) in [(strict(), "strict"), (loose(), "loose")] {
        let unknown = Request::get("/").header(LANE_HEADER, "red");
        assert_eq!(
            call_pay_from_order_v2(chain, unknown),
            "pay:v1 stock:v1 ledger:v1",
            "{mode}"
        );
        let known = Request::get("/")
            .header(LANE_HEADER, LANE)
            .header("traceparent", traceparent(next_trace()));
        assert_eq!(
            call_pay_from_order_v2(chain, known),
            "pay:v2 stock:v1 ledger:v2",
            "{mode}"
        );
    }
}

/// An equivalent config for the chain: one more release, on a host nobody
/// calls, so the update changes the plugin but not a route.
fn updated_sidecar_config() -> String {
    let (sidecar, _) = configs(Forward::TraceContext);
    let mut config: Value = serde_json::from_str(&sidecar).unwrap();
    config["releases"].as_array_mut().unwrap().push(json!({
        "name": "audit", "hosts": ["audit"], "header": VERSION_HEADER,
        "baseline": "v1", "canary": "v2", "weight": 0
    }));
    config.to_string()
}

#[test]
fn loose_an_ecds_update_of_every_sidecar_mid_way_loses_no_request() {
    let chain = loose();
    let stop = AtomicBool::new(false);
    /// Stops the traffic even when the update panics (the scope waits for it).
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let (sent, wrong) = std::thread::scope(|scope| {
        let traffic = scope.spawn(|| {
            let (mut sent, mut wrong) = (0u64, Vec::new());
            let mut client = chain.gateway.client();
            while !stop.load(Ordering::Relaxed) || sent < REQUESTS {
                let response = client.send(&beta(next_trace()));
                let path = if response.status == 200 {
                    route(&response)
                } else {
                    format!("status {}: {}", response.status, response.body_text())
                };
                if path != IN_LANE {
                    wrong.push(path);
                }
                sent += 1;
            }
            (sent, wrong)
        });
        let _stop = Stop(&stop);
        let config = updated_sidecar_config();
        for (pod, sidecar) in chain.sidecars() {
            assert_eq!(
                sidecar.apply_plugin_config(&config),
                EcdsOutcome::Applied,
                "{pod}"
            );
        }
        drop(_stop);
        traffic.join().unwrap()
    });
    println!(
        "ECDS update of 7 sidecars under lane traffic: {sent} requests, {} off the lane",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:?}");
    assert_eq!(paths(chain, beta), [(IN_LANE.to_owned(), REQUESTS)]);
}
