//! The Istio way of routing, proven in a real Envoy: the caller's sidecar as
//! Istio configures it for the kit (envoy-test/istio/), where the canary
//! filter writes x-canary-version and the VirtualService's routes pick the
//! outbound|80|v1|... or outbound|80|v2|... cluster on it. Each step of the
//! Pay-Service release (filter-config/pay-service/) is run through it, and
//! a client's own header is shown never to choose the version: not with the
//! filter, and not without it, since the strip runs first.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_envoy;
use crate::support;

use canary_core::{Reason, Version};
use istio_envoy::{http_filters, Sidecar, STRIP, WASM_FILTER};
use serde_json::Value;
use support::{binomial_bounds, repo_root, routed_stat, Request, Response};

const HEADER: &str = "x-canary-version";
const ECHO: &str = "x-echo-canary-version";

fn step(file: &str) -> String {
    std::fs::read_to_string(repo_root().join("filter-config/pay-service").join(file)).unwrap()
}

/// The kit as a mesh would run it: strip, then the filter, then the router.
fn sidecar(file: &str) -> Sidecar {
    Sidecar::start(&step(file), |_| {})
}

/// The canary filter skipped, as FAIL_OPEN does when the module is down.
fn skip_canary_filter(manager: &mut Value) {
    http_filters(manager).retain(|f| f["name"] != WASM_FILTER);
}

fn drop_strip(manager: &mut Value) {
    manager.as_object_mut().unwrap().remove(STRIP).unwrap();
}

fn pay(path: &str) -> Request {
    Request::get(path).host("pay-service")
}

/// Which pay-service version answered, and the routing header it received.
fn served(response: &Response) -> (String, String) {
    assert_eq!(response.status, 200, "{response:?}");
    (
        response.body_text().trim().to_string(),
        response.header(ECHO).unwrap_or_default(),
    )
}

fn v(version: &str) -> (String, String) {
    (version.to_string(), version.to_string())
}

#[test]
fn rule_hits_go_to_v2_and_the_rest_to_the_default_v1() {
    let sidecar = sidecar("1-rule.json");
    let staff = pay("/pay/charge").header("x-user-group", "staff");
    assert_eq!(served(&sidecar.send(&staff)), v("v2"));
    let cookie = pay("/pay/refund").cookies(&[("pay_canary", "on")]);
    assert_eq!(served(&sidecar.send(&cookie)), v("v2"));
    // The rule is path AND (group OR cookie).
    let other_path = pay("/orders").header("x-user-group", "staff");
    assert_eq!(served(&sidecar.send(&other_path)), v("v1"));
    assert_eq!(served(&sidecar.send(&pay("/pay/charge"))), v("v1"));
    // Any of the service's names, with or without the port, as the sidecar sees them.
    for host in [
        "pay-service:80",
        "pay-service.default.svc.cluster.local:80",
        "pay-service.default",
    ] {
        let request = Request::get("/pay/x")
            .host(host)
            .header("x-user-group", "beta-testers");
        assert_eq!(served(&sidecar.send(&request)), v("v2"), "host {host}");
    }
    assert_eq!(
        sidecar.counter(&routed_stat("pay-service", Version::Canary, Reason::Rule)),
        5
    );
    assert_eq!(
        sidecar.counter(&routed_stat(
            "pay-service",
            Version::Baseline,
            Reason::Weight
        )),
        2
    );
}

#[test]
fn a_clients_routing_header_never_chooses_the_version() {
    let sidecar = sidecar("1-rule.json");
    for spoof in ["v2", "v1", "V2", ""] {
        let request = pay("/pay/charge").header(HEADER, spoof);
        assert_eq!(
            served(&sidecar.send(&request)),
            v("v1"),
            "spoofed {spoof:?}"
        );
    }
    let twice = pay("/pay/charge").header(HEADER, "v2").header(HEADER, "v2");
    assert_eq!(served(&sidecar.send(&twice)), v("v1"));
    let staff_says_v1 = pay("/pay/charge")
        .header("x-user-group", "staff")
        .header(HEADER, "v1");
    assert_eq!(served(&sidecar.send(&staff_says_v1)), v("v2"));
    // A host no release covers: the header is removed, not written.
    let elsewhere = Request::get("/pay").host("billing").header(HEADER, "v2");
    let response = sidecar.send(&elsewhere);
    assert_eq!(
        (response.status, response.body_text().trim()),
        (502, "passthrough")
    );
}

#[test]
fn weights_split_by_the_configured_share_and_sticky_keys_stay() {
    let sidecar = sidecar("2-weights.json");
    // No rule match and no sticky key: the random roll, 20% to v2.
    let n = 400;
    let mut canary = 0;
    for _ in 0..n {
        let (version, echoed) = served(&sidecar.send(&pay("/pay/charge").header(HEADER, "v2")));
        assert_eq!(version, echoed);
        canary += u64::from(version == "v2");
    }
    let bounds = binomial_bounds(n, 0.20, 4.0);
    assert!(
        bounds.contains(&canary),
        "{canary} of {n} to v2, expected {bounds:?} (4 sigma)"
    );
    // A sticky key: always the version its bucket gives, as the core computes it.
    for user in 0..40 {
        let key = format!("user-{user}");
        let expected = if canary_core::bucket("pay-service", key.as_bytes()) < 2000 {
            "v2"
        } else {
            "v1"
        };
        for _ in 0..2 {
            let request = pay("/pay/charge").header("x-user-id", &key);
            assert_eq!(served(&sidecar.send(&request)), v(expected), "{key}");
        }
    }
    // The rule still wins over the weight.
    let staff = pay("/pay/charge")
        .header("x-user-group", "staff")
        .header("x-user-id", "user-1");
    assert_eq!(served(&sidecar.send(&staff)), v("v2"));
}

#[test]
fn complete_sends_everything_to_v2_and_rollback_everything_to_v1() {
    let complete = sidecar("3-complete.json");
    let rollback = sidecar("4-rollback.json");
    for i in 0..20 {
        let spoof = if i % 2 == 0 { "v1" } else { "v2" };
        let request = pay(&format!("/pay/{i}"))
            .header(HEADER, spoof)
            .header("x-user-group", "staff");
        assert_eq!(served(&complete.send(&request)), v("v2"), "complete");
        assert_eq!(served(&rollback.send(&request)), v("v1"), "rollback");
    }
}

#[test]
fn without_the_filter_the_strip_still_drops_a_spoofed_header() {
    // The filter skipped (FAIL_OPEN with the module down): strip and router only.
    let skipped = Sidecar::start(&step("2-weights.json"), skip_canary_filter);
    for spoof in ["v2", "v1"] {
        let response = skipped.send(&pay("/pay/charge").header(HEADER, spoof));
        assert_eq!(
            served(&response),
            ("v1".to_string(), String::new()),
            "spoofed {spoof}"
        );
    }
    // Control: with neither filter, the route does follow a client's header,
    // so it is the strip that protects the skipped-filter case above.
    let bare = Sidecar::start(&step("2-weights.json"), |manager: &mut Value| {
        skip_canary_filter(manager);
        drop_strip(manager);
    });
    assert_eq!(
        served(&bare.send(&pay("/pay/charge").header(HEADER, "v2"))),
        v("v2")
    );
}

#[test]
fn a_strip_placed_later_than_the_connection_manager_is_too_late() {
    // Why the kit strips with an early header mutation: the two obvious
    // alternatives remove the header (the upstream sees none) but only after
    // Envoy chose the route from it, so with the canary filter skipped the
    // client's v2 still wins.
    let header_filter_first = |manager: &mut Value| {
        skip_canary_filter(manager);
        drop_strip(manager);
        let strip = serde_json::json!({
            "name": "strip",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
                "mutations": {"request_mutations": [{"remove": HEADER}]}
            }
        });
        http_filters(manager).insert(0, strip);
    };
    let on_the_route = |manager: &mut Value| {
        skip_canary_filter(manager);
        drop_strip(manager);
        manager["route_config"]["virtual_hosts"][0]["request_headers_to_remove"] =
            serde_json::json!([HEADER]);
    };
    for (how, edit) in [
        (
            "an HTTP filter first",
            &header_filter_first as &dyn Fn(&mut Value),
        ),
        ("the route", &on_the_route),
    ] {
        let sidecar = Sidecar::start(&step("2-weights.json"), edit);
        let response = sidecar.send(&pay("/pay/charge").header(HEADER, "v2"));
        assert_eq!(
            served(&response),
            ("v2".to_string(), String::new()),
            "strip on {how}"
        );
    }
}

fn kit_patch_value(file: &str) -> Value {
    // Read as Kubernetes reads it (YAML 1.1), as the API server would hand it to Istio.
    let path = crate::istio_k8s::kit_dir().join(file);
    let docs = crate::istio_k8s::documents_of(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = &docs[0];
    doc["spec"]["configPatches"][0]["patch"]["value"].clone()
}

#[test]
fn the_sidecars_strip_is_the_kits_envoyfilter_patch() {
    let mut bootstrap = istio_envoy::bootstrap("{}", 1, 2);
    let manager = istio_envoy::connection_manager(&mut bootstrap);
    let patch = kit_patch_value("envoyfilter-strip-routing-header.yaml");
    assert_eq!(manager[STRIP], patch["typed_config"][STRIP]);
    assert_eq!(manager["@type"], patch["typed_config"]["@type"]);
    let names: Vec<&str> = http_filters(manager)
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [WASM_FILTER, "envoy.filters.http.router"]);
}

#[test]
fn the_envoyfilter_alternative_routes_the_same() {
    // envoyfilter-wasm.yaml's filter, pointed at the built module, in place
    // of the WasmPlugin's: Envoy 1.40 takes it, and it routes alike.
    let mut patch = kit_patch_value("envoyfilter-wasm.yaml");
    let wasm = support::canary_wasm().to_string_lossy().into_owned();
    patch["typed_config"]["config"]["vm_config"]["code"]["local"]["filename"] = Value::String(wasm);
    let sidecar = Sidecar::start("{}", move |manager: &mut Value| {
        let filters = http_filters(manager);
        let at = filters
            .iter()
            .position(|f| f["name"] == WASM_FILTER)
            .unwrap();
        filters[at] = patch.clone();
    });
    let staff = pay("/pay/charge")
        .header("x-user-group", "staff")
        .header(HEADER, "v1");
    assert_eq!(served(&sidecar.send(&staff)), v("v2"));
    let sticky_v1 = (0..)
        .map(|u| format!("user-{u}"))
        .find(|k| canary_core::bucket("pay-service", k.as_bytes()) >= 2000)
        .unwrap();
    let request = pay("/pay/charge")
        .header("x-user-id", &sticky_v1)
        .header(HEADER, "v2");
    assert_eq!(served(&sidecar.send(&request)), v("v1"));
}
