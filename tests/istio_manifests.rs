//! The Istio kit in filter-config/ checked offline, the way the API server
//! would check it on `kubectl apply`: against Istio's own CRD schemas in
//! ../shared/istio (OpenAPI with pruning, CEL rules, list types). The
//! validator is first proven on Istio's own valid and invalid examples.
//! Then the kit: every manifest accepted, mutations of it rejected, each
//! embedded plugin config accepted by the filter itself, and the pieces
//! agreeing with each other (header, values, subsets, selectors).

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_k8s;

use std::path::PathBuf;
use std::sync::OnceLock;

use canary_core::Config;
use istio_k8s::cel_env::KNOWN_FUNCTIONS;
use istio_k8s::{documents, shared_istio, Crds};
use serde_json::{json, Value};

fn crds() -> &'static Crds {
    static CRDS: OnceLock<Crds> = OnceLock::new();
    CRDS.get_or_init(|| Crds::istio().unwrap_or_else(|e| panic!("loading Istio's CRDs: {e}")))
}

fn repo() -> PathBuf {
    crate::support::repo_root()
}

fn examples(suffix: &str) -> Vec<(String, Value)> {
    let dir = shared_istio().join("testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *{suffix} in {}", dir.display());
    let mut out = Vec::new();
    for file in files {
        for (i, doc) in documents(&file).unwrap().into_iter().enumerate() {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            out.push((format!("{name} document {}", i + 1), doc));
        }
    }
    out
}

#[test]
fn istio_valid_examples_are_accepted() {
    let docs = examples("-valid.yaml");
    for (name, doc) in &docs {
        let verdict = crds().validate(doc);
        assert!(verdict.accepted(), "{name} rejected: {verdict:#?}");
    }
    println!("{} valid examples accepted", docs.len());
}

#[test]
fn istio_invalid_examples_are_rejected_for_the_stated_reason() {
    let docs = examples("-invalid.yaml");
    for (name, mut doc) in docs.clone() {
        // `_err` is the test data's note of the expected error, not a field.
        let expected = doc.as_object_mut().and_then(|d| d.remove("_err"));
        let expected = expected.and_then(|e| e.as_str().map(str::to_string));
        let expected = expected.unwrap_or_else(|| panic!("{name} has no _err"));
        let verdict = crds().validate(&doc);
        assert!(
            verdict.unevaluated.is_empty(),
            "{name}: unevaluated rules {:?}",
            verdict.unevaluated
        );
        assert!(
            verdict.errors.iter().any(|e| e.contains(&expected)),
            "{name}: expected an error containing {expected:?}, got {:?}",
            verdict.errors
        );
    }
    println!(
        "{} invalid examples rejected with the expected error",
        docs.len()
    );
}

#[test]
fn every_cel_rule_in_the_crds_compiles_and_calls_only_known_functions() {
    let rules = crds().all_rules();
    assert!(rules.len() > 100, "only {} rules found", rules.len());
    for (at, source) in &rules {
        let program = crds()
            .cel()
            .compile(source)
            .unwrap_or_else(|e| panic!("{at}: {source:?} does not compile: {e}"));
        for function in program.references().functions() {
            assert!(
                KNOWN_FUNCTIONS.contains(&function),
                "{at}: {source:?} calls {function}, which this validator does not provide"
            );
        }
    }
    println!("{} CEL rules compile", rules.len());
}

/// Every YAML document under filter-config/, with its file name.
fn kit() -> Vec<(String, Value)> {
    let dir = repo().join("filter-config/istio");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for doc in documents(&file).unwrap() {
            out.push((name.clone(), doc));
        }
    }
    out
}

fn kit_doc(file: &str) -> Value {
    let mut docs: Vec<Value> = kit()
        .into_iter()
        .filter(|(f, _)| f == file)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(docs.len(), 1, "{file}: expected one document");
    docs.remove(0)
}

#[test]
fn every_kit_manifest_passes_istios_schemas_and_rules() {
    let docs = kit();
    let mut kinds: Vec<String> = Vec::new();
    for (file, doc) in &docs {
        let verdict = crds().validate(doc);
        assert!(verdict.accepted(), "{file} rejected: {verdict:#?}");
        kinds.push(doc["kind"].as_str().unwrap().to_string());
        println!(
            "{file}: accepted, {} CEL rules passed",
            verdict.rules_passed
        );
        if doc["kind"] == "WasmPlugin" {
            // The url and selector rules ran, not just the schema.
            assert!(verdict.rules_passed >= 3, "{file}: {verdict:?}");
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "DestinationRule",
            "EnvoyFilter",
            "EnvoyFilter",
            "VirtualService",
            "WasmPlugin",
            "WasmPlugin"
        ]
    );
}

/// (file, JSON pointer, new value or None to delete, expected error part)
const MUTATIONS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "wasmplugin-oci.yaml",
        "/spec/bogus",
        Some("1"),
        "unknown field \"spec.bogus\"",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/pluginconfig",
        Some("{}"),
        "unknown field \"spec.pluginconfig\"",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/failStrategy",
        Some("\"FAIL_SOMETIMES\""),
        "spec.failStrategy: Unsupported value",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/match/0/mode",
        Some("\"CALLER\""),
        "spec.match[0].mode: Unsupported value",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/url",
        Some("\"ftp://registry/x\""),
        "url must have schema one of",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/sha256",
        Some("\"abc\""),
        "spec.sha256 in body should match",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/selector/matchLabels/app",
        Some("\"order-*\""),
        "wildcard not allowed",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/targetRefs",
        Some("[{\"kind\":\"Service\",\"name\":\"x\"}]"),
        "only one of targetRefs or selector",
    ),
    (
        "wasmplugin-oci.yaml",
        "/spec/match/0/ports/0/number",
        Some("0"),
        "should be greater than or equal to 1",
    ),
    (
        "wasmplugin-file.yaml",
        "/spec/url",
        None,
        "spec.url: Required value",
    ),
    (
        "wasmplugin-file.yaml",
        "/metadata/name",
        Some("\"Pay_Canary\""),
        "metadata.name in body should match",
    ),
    (
        "destinationrule.yaml",
        "/spec/subsets/0/name",
        None,
        "spec.subsets[0].name: Required value",
    ),
    (
        "destinationrule.yaml",
        "/spec/subsets/0/lables",
        Some("{}"),
        "unknown field \"spec.subsets[0].lables\"",
    ),
    (
        "virtualservice.yaml",
        "/spec/http/0/match/0/headers/x-canary-version/exact",
        Some("2"),
        "must be of type string",
    ),
    (
        "virtualservice.yaml",
        "/spec/http/0/route/0/destination/port/number",
        Some("-1"),
        "should be greater than or equal to 0",
    ),
    (
        "envoyfilter-strip-routing-header.yaml",
        "/spec/configPatches/0/patch/operation",
        Some("\"FIRST\""),
        "Unsupported value",
    ),
    (
        "envoyfilter-strip-routing-header.yaml",
        "/spec/configPatches/0/match/waypoint",
        Some("{}"),
        "only support waypointMatch when context is WAYPOINT",
    ),
    (
        "envoyfilter-wasm.yaml",
        "/spec/workloadSelector/labels/app",
        Some("\"*\""),
        "wildcard is not supported in selector",
    ),
];

fn set_pointer(doc: &mut Value, pointer: &str, new: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match (parent, new) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_string(), v);
        }
        (Value::Object(map), None) => {
            assert!(map.remove(key).is_some(), "nothing at {pointer}");
        }
        (other, _) => panic!("{pointer}: parent is {other}"),
    }
}

#[test]
fn broken_copies_of_the_kit_are_rejected_with_the_api_servers_error() {
    for (file, pointer, new, expected) in MUTATIONS {
        let mut doc = kit_doc(file);
        set_pointer(
            &mut doc,
            pointer,
            new.map(|v| serde_json::from_str(v).unwrap()),
        );
        let verdict = crds().validate(&doc);
        assert!(
            verdict.unevaluated.is_empty(),
            "{file} {pointer}: {:?}",
            verdict.unevaluated
        );
        assert!(
            verdict.errors.iter().any(|e| e.contains(expected)),
            "{file} with {pointer} = {new:?}: expected {expected:?}, got {:?}",
            verdict.errors
        );
    }
}

/// What reaches the filter from a WasmPlugin: Istio reads `pluginConfig`
/// into a protobuf Struct, where every number is a double, and hands the
/// filter that Struct as JSON.
fn through_protobuf_struct(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(through_protobuf_struct).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), through_protobuf_struct(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn plugin_config_file(name: &str) -> Value {
    let path = repo().join("filter-config/pay-service").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The plugin config each manifest carries, as the filter receives it.
fn embedded_plugin_configs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (file, doc) in kit() {
        if doc["kind"] == "WasmPlugin" {
            let config = through_protobuf_struct(&doc["spec"]["pluginConfig"]);
            let text = serde_json::to_string(&config).unwrap();
            out.push((file.clone(), text));
        }
        for patch in doc["spec"]["configPatches"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let wasm = &patch["patch"]["value"]["typed_config"]["config"]["configuration"]["value"];
            if let Some(text) = wasm.as_str() {
                out.push((file.clone(), text.to_string()));
            }
        }
    }
    out
}

#[test]
fn each_embedded_plugin_config_is_accepted_by_the_filter_and_matches_a_release_step() {
    let configs = embedded_plugin_configs();
    assert_eq!(
        configs.len(),
        3,
        "two WasmPlugins and the wasm EnvoyFilter: {configs:?}"
    );
    let steps: Vec<(&str, Value)> = [
        "1-rule.json",
        "2-weights.json",
        "3-complete.json",
        "4-rollback.json",
    ]
    .iter()
    .map(|f| (*f, through_protobuf_struct(&plugin_config_file(f))))
    .collect();
    for (file, text) in &configs {
        if let Err(e) = Config::from_json(text.as_bytes()) {
            panic!("{file}: the filter refuses its plugin config: {e}\n{text}");
        }
        // 20.0 is what Istio delivers for `weight: 20`.
        let seen = through_protobuf_struct(&serde_json::from_str(text).unwrap());
        let step = steps.iter().find(|(_, s)| *s == seen).map(|(f, _)| *f);
        assert!(
            step.is_some(),
            "{file}: plugin config is none of filter-config/pay-service/*.json"
        );
        println!("{file}: plugin config = pay-service/{}", step.unwrap());
    }
}

#[test]
fn the_routing_pieces_agree() {
    let config = plugin_config_file("2-weights.json");
    let release = &config["releases"][0];
    let header = release["header"].as_str().unwrap();
    let (baseline, canary) = (
        release["baseline"].as_str().unwrap(),
        release["canary"].as_str().unwrap(),
    );

    // VirtualService: header values name the subsets; the last route is the baseline.
    let vs = kit_doc("virtualservice.yaml");
    let http = vs["spec"]["http"].as_array().unwrap();
    let mut routed = Vec::new();
    for route in http {
        let subset = route["route"][0]["destination"]["subset"].as_str().unwrap();
        match route.get("match") {
            Some(matches) => {
                let wanted = matches[0]["headers"][header]["exact"].as_str();
                assert_eq!(
                    wanted,
                    Some(subset),
                    "route {} must send {header}: {subset} to subset {subset}",
                    route["name"]
                );
                routed.push(subset.to_string());
            }
            None => assert_eq!(
                subset, baseline,
                "the default route must go to the baseline"
            ),
        }
    }
    routed.sort();
    assert_eq!(routed, [baseline, canary]);
    assert!(
        http.last().unwrap().get("match").is_none(),
        "the default route comes last"
    );

    // DestinationRule: the same host, a subset per version by `version` label.
    let dr = kit_doc("destinationrule.yaml");
    assert_eq!(dr["spec"]["host"], vs["spec"]["hosts"][0]);
    for version in [baseline, canary] {
        let subset = dr["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == version);
        assert_eq!(
            subset.map(|s| &s["labels"]["version"]),
            Some(&json!(version)),
            "subset {version}"
        );
    }
    let host = dr["spec"]["host"].as_str().unwrap();
    let hosts: Vec<&str> = release["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(hosts.contains(&host), "the release must cover {host}");

    // The strip removes exactly the routing header, in the connection
    // manager itself (before any filter and before routing).
    let strip = kit_doc("envoyfilter-strip-routing-header.yaml");
    let patch = &strip["spec"]["configPatches"][0];
    assert_eq!(patch["applyTo"], "NETWORK_FILTER");
    assert_eq!(patch["patch"]["operation"], "MERGE");
    assert_eq!(patch["match"]["context"], "SIDECAR_OUTBOUND");
    let early = &patch["patch"]["value"]["typed_config"]["early_header_mutation_extensions"];
    assert_eq!(
        early[0]["typed_config"]["mutations"],
        json!([{"remove": header}])
    );

    // Everything targets the same calling workload.
    let selector = json!({"app": "order-service"});
    for file in ["wasmplugin-oci.yaml", "wasmplugin-file.yaml"] {
        let plugin = kit_doc(file);
        assert_eq!(
            plugin["spec"]["selector"]["matchLabels"], selector,
            "{file}"
        );
        assert_eq!(plugin["spec"]["match"][0]["mode"], "CLIENT", "{file}");
    }
    for file in [
        "envoyfilter-strip-routing-header.yaml",
        "envoyfilter-wasm.yaml",
    ] {
        assert_eq!(
            kit_doc(file)["spec"]["workloadSelector"]["labels"],
            selector,
            "{file}"
        );
    }
}

#[test]
fn no_yaml_1_1_boolean_look_alikes() {
    // Kubernetes reads YAML 1.1, where on/off/yes/no unquoted are booleans:
    // `value: on` would reach the filter as true.
    let words = ["y", "n", "yes", "no", "on", "off"];
    for (file, _) in kit() {
        let text = std::fs::read_to_string(repo().join("filter-config/istio").join(&file)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split(" #").next().unwrap_or("").trim();
            if code.starts_with('#') {
                continue;
            }
            let scalars = code
                .split([':', ',', '[', ']', '{', '}', '-'])
                .map(str::trim)
                .filter(|s| !s.is_empty());
            for scalar in scalars {
                assert!(
                    !words.contains(&scalar.to_ascii_lowercase().as_str()),
                    "{file}:{}: quote {scalar:?}, YAML 1.1 reads it as a boolean",
                    n + 1
                );
            }
        }
    }
}
