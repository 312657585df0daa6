//! The Istio kit's tag-routing example (filter-config/istio/tag-routing/:
//! a baseline and two canaries, three subsets) checked like the rest of the
//! kit: Istio's CRD schemas and rules, the filter and the JSON Schema on
//! its plugin config, the pieces agreeing (a route and a subset per
//! value), and routed in an Envoy set up like the caller's sidecar, whose
//! routes are the VirtualService's.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_envoy::Sidecar;
use crate::istio_k8s::{documents, Crds};
use crate::support::{binomial_bounds, repo_root, Request};

use canary_core::Config;
use serde_json::{json, Value};

const HEADER: &str = "x-canary-version";

fn doc(file: &str) -> Value {
    let path = repo_root()
        .join("filter-config/istio/tag-routing")
        .join(file);
    let mut docs = documents(&path).unwrap();
    assert_eq!(docs.len(), 1, "{file}: one document");
    docs.remove(0)
}

/// The plugin config as Istio hands it over (a protobuf Struct: numbers
/// are doubles).
fn plugin_config() -> String {
    doc("wasmplugin.yaml")["spec"]["pluginConfig"].to_string()
}

#[test]
fn the_tag_routing_manifests_pass_istios_schemas_and_rules() {
    let crds = Crds::istio().unwrap_or_else(|e| panic!("loading Istio's CRDs: {e}"));
    for file in [
        "wasmplugin.yaml",
        "virtualservice.yaml",
        "destinationrule.yaml",
    ] {
        let verdict = crds.validate(&doc(file));
        assert!(verdict.accepted(), "{file} rejected: {verdict:#?}");
    }
}

#[test]
fn its_plugin_config_passes_the_filter_and_the_schema() {
    let text = plugin_config();
    let config = Config::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let release = &config.releases[0];
    assert!(release.tagged);
    assert_eq!(release.canaries.len(), 2);
    let schema = crate::istio_plugin_config::schema();
    let value: Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// (value, subset) of each VirtualService route with a header match, and
/// the default route's subset.
fn routes(vs: &Value) -> (Vec<(String, String)>, String) {
    let http = vs["spec"]["http"].as_array().unwrap();
    let mut matched = Vec::new();
    let mut default = None;
    for route in http {
        let subset = route["route"][0]["destination"]["subset"]
            .as_str()
            .unwrap()
            .to_string();
        match route.get("match") {
            Some(m) => matched.push((
                m[0]["headers"][HEADER]["exact"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                subset,
            )),
            None => default = Some(subset),
        }
    }
    assert!(
        http.last().unwrap().get("match").is_none(),
        "the default route comes last"
    );
    (matched, default.unwrap())
}

#[test]
fn every_version_has_a_route_and_a_subset() {
    let config = Config::from_json(plugin_config().as_bytes()).unwrap();
    let release = &config.releases[0];
    let mut values: Vec<String> = release.canaries.iter().map(|c| c.value.clone()).collect();
    values.push(release.baseline.clone());
    values.sort();
    let (matched, default) = routes(&doc("virtualservice.yaml"));
    for (value, subset) in &matched {
        assert_eq!(value, subset, "route for {value} goes to subset {subset}");
    }
    let mut routed: Vec<String> = matched.into_iter().map(|(v, _)| v).collect();
    routed.sort();
    assert_eq!(routed, values);
    assert_eq!(default, release.baseline);
    let dr = doc("destinationrule.yaml");
    assert_eq!(
        dr["spec"]["host"],
        doc("virtualservice.yaml")["spec"]["hosts"][0]
    );
    let mut subsets: Vec<String> = dr["spec"]["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["labels"]["version"], s["name"]);
            s["name"].as_str().unwrap().to_string()
        })
        .collect();
    subsets.sort();
    assert_eq!(subsets, values);
}

/// The sidecar's routes as Istio derives them from the VirtualService,
/// each answering with its subset's name (standing in for its pods).
fn route_config(vs: &Value) -> Value {
    let (matched, default) = routes(vs);
    let answer =
        |subset: &str| json!({"status": 200, "body": {"inline_string": format!("{subset}\n")}});
    let mut routes: Vec<Value> = matched
        .iter()
        .map(|(value, subset)| {
            json!({"match": {"prefix": "/", "headers": [{"name": HEADER, "string_match": {"exact": value}}]},
                   "direct_response": answer(subset)})
        })
        .collect();
    routes.push(json!({"match": {"prefix": "/"}, "direct_response": answer(&default)}));
    json!({"name": "80", "virtual_hosts": [{"name": "pay-service", "domains": ["*"], "routes": routes}]})
}

#[test]
fn three_subsets_are_routed_in_envoy() {
    let routes = route_config(&doc("virtualservice.yaml"));
    let sidecar = Sidecar::start(&plugin_config(), |manager| {
        manager["route_config"] = routes.clone();
    });
    let send = |request: Request| {
        let response = sidecar.send(&request);
        assert_eq!(response.status, 200, "{response:?}");
        response.body_text().trim().to_string()
    };
    let pay = |path: &str| Request::get(path).host("pay-service");
    assert_eq!(
        send(pay("/pay/charge").header("x-user-group", "staff")),
        "v2"
    );
    assert_eq!(send(pay("/orders").cookies(&[("pay_hotfix", "yes")])), "v3");
    // Both rules: the first canary in the list.
    let both = pay("/pay/charge")
        .header("x-user-group", "beta-testers")
        .cookies(&[("pay_hotfix", "yes")]);
    assert_eq!(send(both), "v2");
    // A client's header does not choose.
    assert_eq!(
        send(
            pay("/orders")
                .header(HEADER, "v3")
                .header("x-user-id", "alice")
        ),
        "v1"
    );
    // The rest by weight: 10% v2, 5% v3, 85% v1 over 1,000 requests.
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..1000 {
        *counts.entry(send(pay("/orders"))).or_insert(0u64) += 1;
    }
    for (version, share) in [("v2", 0.10), ("v3", 0.05), ("v1", 0.85)] {
        let got = counts.get(version).copied().unwrap_or(0);
        let bounds = binomial_bounds(1000, share, 4.0);
        assert!(
            bounds.contains(&got),
            "{version}: {got} of 1000, expected {bounds:?} ({counts:?})"
        );
    }
}
