//! The lanes part of the Istio kit (filter-config/istio/lanes/) checked
//! offline as the API server would (Istio's CRDs, read as Kubernetes reads
//! YAML), and its pieces agreeing: the gateway's and the sidecars' plugins
//! alike but for `edge`, the sidecars' plugin on both listeners, the strips
//! removing the right headers, a route and a subset for every lane version.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::istio_k8s::{documents, Crds};

fn crds() -> &'static Crds {
    static CRDS: OnceLock<Crds> = OnceLock::new();
    CRDS.get_or_init(|| Crds::istio().unwrap_or_else(|e| panic!("loading Istio's CRDs: {e}")))
}

fn lanes_kit() -> Vec<(String, Value)> {
    let dir = crate::istio_k8s::kit_dir().join("lanes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .flat_map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            documents(&file)
                .unwrap()
                .into_iter()
                .map(move |doc| (name.clone(), doc))
        })
        .collect()
}

fn named(kind: &str, name: &str) -> Value {
    lanes_kit()
        .into_iter()
        .map(|(_, doc)| doc)
        .find(|doc| doc["kind"] == kind && doc["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the lanes kit"))
}

fn sidecar_plugin() -> Value {
    named("WasmPlugin", "shop-lanes")
}

fn gateway_plugin() -> Value {
    named("WasmPlugin", "shop-lanes-gateway")
}

fn removed_headers(envoy_filter: &Value) -> Vec<String> {
    let patch = &envoy_filter["spec"]["configPatches"][0]["patch"]["value"]["typed_config"];
    patch["early_header_mutation_extensions"][0]["typed_config"]["mutations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["remove"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_lanes_manifest_passes_istios_schemas_and_rules() {
    let docs = lanes_kit();
    for (file, doc) in &docs {
        let verdict = crds().validate(doc);
        assert!(
            verdict.accepted(),
            "{file} {} rejected: {verdict:#?}",
            doc["metadata"]["name"]
        );
    }
    let kinds: Vec<&str> = docs
        .iter()
        .map(|(_, d)| d["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "WasmPlugin",
        "EnvoyFilter",
        "Gateway",
        "VirtualService",
        "DestinationRule",
    ] {
        assert!(
            kinds.contains(&kind),
            "no {kind} in the lanes kit: {kinds:?}"
        );
    }
    println!("{} lanes manifests accepted", docs.len());
}

#[test]
fn the_gateway_and_the_sidecars_run_one_configuration_but_for_edge() {
    let sidecar = sidecar_plugin();
    let gateway = gateway_plugin();
    assert_eq!(sidecar["spec"]["match"][0]["mode"], "CLIENT_AND_SERVER");
    assert_eq!(sidecar["spec"]["match"].as_array().unwrap().len(), 1);
    let mut sidecar_config = sidecar["spec"]["pluginConfig"].clone();
    let mut gateway_config = gateway["spec"]["pluginConfig"].clone();
    assert_eq!(sidecar_config["lanes"]["edge"], Value::Bool(false));
    assert_eq!(gateway_config["lanes"]["edge"], Value::Bool(true));
    sidecar_config["lanes"]["edge"] = Value::Null;
    gateway_config["lanes"]["edge"] = Value::Null;
    assert_eq!(sidecar_config, gateway_config);
    assert_eq!(
        gateway["spec"]["selector"]["matchLabels"]["istio"],
        "ingressgateway"
    );
    // Every lane named is a valid lane name, on a release with a canary.
    for release in sidecar_config["releases"].as_array().unwrap() {
        if let Some(lane) = release["lane"].as_str() {
            assert!(canary_core::is_valid_lane_name(lane), "{lane}");
            assert!(release["canary"].is_string(), "{release}");
        }
    }
    let trace_headers = sidecar_config["lanes"]["trace_headers"].as_array().unwrap();
    for header in trace_headers {
        let name = header.as_str().unwrap();
        assert!(
            canary_core::TraceHeader::from_name(name).is_some(),
            "{name}"
        );
    }
}

#[test]
fn the_gateway_strips_the_lane_header_and_the_sidecars_keep_it() {
    let config = sidecar_plugin()["spec"]["pluginConfig"].clone();
    let lane_header = config["lanes"]["header"].as_str().unwrap().to_owned();
    let routing: Vec<String> = config["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["header"].as_str().unwrap().to_owned())
        .collect();
    let at_gateway = named("EnvoyFilter", "shop-lanes-strip-gateway");
    let in_sidecars = named("EnvoyFilter", "shop-lanes-strip-sidecars");
    let gateway_strips = removed_headers(&at_gateway);
    let sidecar_strips = removed_headers(&in_sidecars);
    assert!(gateway_strips.contains(&lane_header), "{gateway_strips:?}");
    assert!(!sidecar_strips.contains(&lane_header), "{sidecar_strips:?}");
    for header in &routing {
        assert!(
            gateway_strips.contains(header),
            "{header}: {gateway_strips:?}"
        );
        assert!(
            sidecar_strips.contains(header),
            "{header}: {sidecar_strips:?}"
        );
    }
    assert_eq!(
        at_gateway["spec"]["configPatches"][0]["match"]["context"],
        "GATEWAY"
    );
    assert_eq!(
        in_sidecars["spec"]["configPatches"][0]["match"]["context"],
        "SIDECAR_OUTBOUND"
    );
    assert_eq!(
        in_sidecars["spec"]["workloadSelector"]["labels"],
        sidecar_plugin()["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        at_gateway["spec"]["workloadSelector"]["labels"],
        gateway_plugin()["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn every_lane_version_has_a_route_on_the_routing_header_and_a_subset() {
    let config = sidecar_plugin()["spec"]["pluginConfig"].clone();
    let docs = lanes_kit();
    for release in config["releases"].as_array().unwrap() {
        let name = release["name"].as_str().unwrap();
        let header = release["header"].as_str().unwrap();
        let canary = release["canary"].as_str().unwrap();
        let baseline = release["baseline"].as_str().unwrap();
        let host = format!("{name}.default.svc.cluster.local");
        assert!(
            release["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h == &host),
            "{name}: {host} not in hosts"
        );
        let rule = named("DestinationRule", name);
        let subsets: Vec<&str> = rule["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert!(
            subsets.contains(&canary) && subsets.contains(&baseline),
            "{name}: {subsets:?}"
        );
        let service = named("VirtualService", name);
        let routes = service["spec"]["http"].as_array().unwrap();
        let to_canary = routes.iter().any(|route| {
            route["match"][0]["headers"][header]["exact"] == canary
                && route["route"][0]["destination"]["subset"] == canary
                && route["route"][0]["destination"]["host"] == host.as_str()
        });
        assert!(
            to_canary,
            "{name}: no route from {header}: {canary} to subset {canary}"
        );
        let last = routes.last().unwrap();
        assert!(
            last["match"].is_null(),
            "{name}: the last route must catch all"
        );
        assert_eq!(
            last["route"][0]["destination"]["subset"], baseline,
            "{name}"
        );
    }
    // The gateway's entry routes to order the same way.
    let entry = named("VirtualService", "order-gateway");
    assert_eq!(entry["spec"]["gateways"][0], "shop");
    assert!(docs.iter().any(|(_, d)| d["kind"] == "Gateway"));
}

#[test]
fn the_kits_lanes_configs_are_accepted_by_the_filter_and_the_schema() {
    let schema = crate::istio_plugin_config::schema();
    for plugin in [sidecar_plugin(), gateway_plugin()] {
        let name = plugin["metadata"]["name"].clone();
        let config = plugin["spec"]["pluginConfig"].clone();
        let compiled = canary_core::Config::from_json(config.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: the filter refuses it: {e}"));
        let lanes = compiled.lanes.expect("the kit names lanes");
        assert_eq!(lanes.names, ["gray"], "{name}");
        assert!(lanes.is_loose(), "{name}");
        assert!(schema.is_valid(&config), "{name}: the schema refuses it");
        // And the schema refuses what the filter refuses.
        let mut bad = config.clone();
        bad["releases"][0]["lane"] = Value::from("Gray");
        assert!(!schema.is_valid(&bad), "{name}");
        assert!(canary_core::Config::from_json(bad.to_string().as_bytes()).is_err());
        let mut bad = config.clone();
        bad["lanes"]["trace_headers"] = serde_json::json!(["uber-trace-id"]);
        assert!(!schema.is_valid(&bad), "{name}");
        assert!(canary_core::Config::from_json(bad.to_string().as_bytes()).is_err());
    }
}
