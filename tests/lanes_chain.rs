//! The lanes chain harness itself (support/chain.rs), before lanes: a real
//! call chain of eight Envoys and seven apps whose every hop is reported,
//! routed by the filter's plain rules.

use std::sync::OnceLock;

use serde_json::json;

use crate::support::chain::{
    hops, route, traceparent, Chain, Forward, LANE_HEADER, VERSION_HEADER,
};
use crate::support::plugin_config;

/// Releases order, pay and ledger (v1 → v2 on `x-canary-version`); order's
/// canary for `x-user-group: beta`.
fn releases() -> String {
    let release = |name: &str| {
        json!({"name": name, "hosts": [name], "header": VERSION_HEADER,
               "baseline": "v1", "canary": "v2", "weight": 0})
    };
    let mut order = release("order");
    order["conditions"] = json!([{"header": "x-user-group", "op": "equals", "value": "beta"}]);
    plugin_config([order, release("pay"), release("ledger")])
}

fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let config = releases();
        Chain::builder(Forward::TraceContext, &config, &config).start()
    })
}

#[test]
fn every_hop_of_the_chain_is_reported_and_routed_by_its_own_sidecar() {
    let chain = chain();
    let _log = chain.gateway.log_on_failure();
    let beta = Chain::request()
        .header("x-user-group", "beta")
        .header("traceparent", traceparent(1));
    for _ in 0..5 {
        let response = chain.send(&beta);
        assert_eq!(
            response.status,
            200,
            "{}\n{}",
            response.body_text(),
            chain.logs_tail()
        );
        assert_eq!(route(&response), "order:v2 pay:v1 stock:v1 ledger:v1");
        let response = chain.send(&Chain::request());
        assert_eq!(route(&response), "order:v1 pay:v1 stock:v1 ledger:v1");
    }
    // The gateway strips a client's routing and lane headers: nobody picks
    // a version, and the apps saw no lane.
    let spoofed = Chain::request()
        .header(VERSION_HEADER, "v2")
        .header(LANE_HEADER, "gray");
    let response = chain.send(&spoofed);
    assert_eq!(route(&response), "order:v1 pay:v1 stock:v1 ledger:v1");
    assert!(hops(&response).iter().all(|hop| hop.lane.is_none()));
    assert!(chain.apps_alive());
}

#[test]
fn each_pod_has_its_own_sidecar_with_two_listeners() {
    let chain = chain();
    let pods: Vec<&str> = chain.sidecars().map(|(pod, _)| pod).collect();
    assert_eq!(
        pods,
        [
            "order-v1",
            "order-v2",
            "pay-v1",
            "pay-v2",
            "stock-v1",
            "ledger-v1",
            "ledger-v2"
        ]
    );
    for (pod, envoy) in chain.sidecars() {
        let listeners = envoy.admin_get("/listeners");
        assert!(
            listeners.contains("inbound::") && listeners.contains("front::"),
            "{pod}: {listeners}"
        );
    }
}
