//! One VM, one canary configuration (src/tenancy.rs), in a real Envoy: the
//! filter makes one guest call per request and so cannot tell which plugin a
//! request belongs to. Plugins that share a VM with the same settings work
//! (Istio's one WasmPlugin on many listeners; stacked copies); a plugin with
//! other settings is refused with a message naming the fix and never runs,
//! rather than route by another plugin's releases; with its own vm_id it runs.

// A test crate: helpers outside #[test] functions may panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_envoy;
use crate::support;

use canary_core::{CounterName, Reason, Version};
use istio_envoy::{http_filters, Sidecar, WASM_FILTER};
use serde_json::{json, Value};
use support::{repo_root, routed_stat, stat, Request};

const OTHER: &str = "default.other-canary";

fn pay_rule() -> String {
    std::fs::read_to_string(repo_root().join("filter-config/pay-service/1-rule.json")).unwrap()
}

/// Another service's release, with its own routing header.
fn other_release() -> String {
    json!({"releases": [{
        "name": "other-service", "hosts": ["other-service"],
        "header": "x-other-version", "baseline": "v1", "canary": "v2",
        "conditions": [{"header": "x-env", "op": "equals", "value": "test"}],
        "weight": 0
    }]})
    .to_string()
}

/// Adds a second canary filter after the kit's: the same module and VM
/// settings, named `OTHER`, with `plugin_config` and, if given, `vm_id`.
fn second_plugin(manager: &mut Value, plugin_config: &str, vm_id: Option<&str>) {
    let filters = http_filters(manager);
    let at = filters
        .iter()
        .position(|f| f["name"] == WASM_FILTER)
        .unwrap();
    let mut copy = filters[at].clone();
    copy["name"] = json!(OTHER);
    let config = &mut copy["typed_config"]["config"];
    config["name"] = json!(OTHER);
    config["configuration"]["value"] = json!(plugin_config);
    if let Some(vm_id) = vm_id {
        config["vm_config"]["vm_id"] = json!(vm_id);
    }
    filters.insert(at + 1, copy);
}

fn staff() -> Request {
    Request::get("/pay")
        .host("pay-service")
        .header("x-user-group", "staff")
}

#[test]
fn plugins_with_the_same_settings_share_a_vm() {
    let config = pay_rule();
    let sidecar = Sidecar::start(&config, |m| second_plugin(m, &config, None));
    assert_eq!(sidecar.send(&staff()).body_text().trim(), "v2");
    let plain = Request::get("/pay").host("pay-service");
    assert_eq!(sidecar.send(&plain).body_text().trim(), "v1");
    // Both plugins ran on each request: each counted it.
    let log = sidecar.log();
    assert_eq!(
        sidecar.counter(&routed_stat("pay-service", Version::Canary, Reason::Rule)),
        2,
        "{log}"
    );
    assert_eq!(
        sidecar.counter(&routed_stat(
            "pay-service",
            Version::Baseline,
            Reason::Weight
        )),
        2,
        "{log}"
    );
}

/// Envoy validates each plugin in a VM of its own, so the clash shows only
/// when the workers' shared VM configures the second plugin: Envoy keeps
/// running, logs the refusal, and does not run that plugin (FAIL_OPEN here
/// skips it; FAIL_CLOSE would fail its requests). The first plugin routes
/// as before, and the second never acts on a request.
#[test]
fn a_plugin_with_other_settings_in_the_same_vm_is_refused() {
    let other = other_release();
    let sidecar = Sidecar::start(&pay_rule(), |m| second_plugin(m, &other, None));
    assert_eq!(sidecar.send(&staff()).body_text().trim(), "v2");
    let plain = Request::get("/pay").host("pay-service");
    assert_eq!(sidecar.send(&plain).body_text().trim(), "v1");
    let log = sidecar.log();
    let want = format!(
        "canary-filter: invalid plugin configuration: plugin '{OTHER}' would share a VM with \
         plugin(s) '{WASM_FILTER}', which run other settings"
    );
    assert!(log.contains(&want), "{log}");
    assert!(
        log.contains("give this plugin its own vm_config.vm_id"),
        "{log}"
    );
    // Running, the second plugin would count pay-service as not its own.
    assert_eq!(sidecar.counter(&stat(CounterName::NoRelease)), 0, "{log}");
}

#[test]
fn a_plugin_with_other_settings_and_its_own_vm_runs() {
    let other = other_release();
    let sidecar = Sidecar::start(&pay_rule(), |m| second_plugin(m, &other, Some("other")));
    // pay-service is routed by the first plugin's release...
    assert_eq!(sidecar.send(&staff()).body_text().trim(), "v2");
    // ...and the second plugin, which covers only other-service, leaves it.
    let response = sidecar.send(&staff().header("x-env", "test"));
    assert_eq!(response.body_text().trim(), "v2");
    assert!(
        sidecar.counter(&routed_stat("pay-service", Version::Canary, Reason::Rule)) >= 2,
        "{}",
        sidecar.log()
    );
    assert!(
        sidecar.counter(&stat(CounterName::NoRelease)) >= 2,
        "the second plugin saw no release for pay-service\n{}",
        sidecar.log()
    );
}

/// Envoy skips a plugin whose configuration the worker's VM refused, even
/// with FAIL_CLOSED (which applies to a VM that fails, not to a plugin it
/// refuses), so the filter counts the refusal where monitoring sees it.
#[test]
fn a_refused_plugin_is_skipped_even_when_it_fails_closed() {
    let other = other_release();
    let sidecar = Sidecar::start(&pay_rule(), |m| {
        second_plugin(m, &other, None);
        let filters = http_filters(m);
        let second = filters.iter_mut().find(|f| f["name"] == OTHER).unwrap();
        second["typed_config"]["config"]["failure_policy"] = json!("FAIL_CLOSED");
    });
    let response = sidecar.send(&staff());
    let log = sidecar.log();
    assert_eq!(response.status, 200, "{response:?}\n{log}");
    assert_eq!(response.body_text().trim(), "v2");
    assert!(
        sidecar.counter(&stat(CounterName::RefusedPlugin)) >= 1,
        "{log}"
    );
}
