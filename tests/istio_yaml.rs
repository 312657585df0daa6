//! The Istio kit's YAML as Kubernetes reads it (YAML 1.1, go-yaml v2 under
//! kubectl and the API server; `istio_k8s/yaml11.rs`): one-line edits of the
//! checked-in manifests that YAML 1.2 would read as meant, each refused with
//! the field's path, as `kubectl apply` refuses them; and edits that are
//! fine once read the Kubernetes way. (A file of its own: the kit's other
//! checks fill tests/istio_manifests.rs.)

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_k8s;

use std::sync::OnceLock;

use canary_core::Config;
use istio_k8s::{documents_of, kit_dir, Crds};
use serde_json::{json, Value};

fn crds() -> &'static Crds {
    static CRDS: OnceLock<Crds> = OnceLock::new();
    CRDS.get_or_init(|| Crds::istio().unwrap_or_else(|e| panic!("loading Istio's CRDs: {e}")))
}

/// The kit file `file` with the first `old` replaced by `new`.
fn edited(file: &str, old: &str, new: &str) -> String {
    let path = kit_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{file} has no {old:?}");
    text.replacen(old, new, 1)
}

fn one_document(file: &str, text: &str) -> Value {
    let mut docs = documents_of(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(docs.len(), 1, "{file}");
    docs.remove(0)
}

const OCI: &str = "wasmplugin-oci.yaml";
const FILE: &str = "wasmplugin-file.yaml";
const DR: &str = "destinationrule.yaml";
const VS: &str = "virtualservice.yaml";
const WASM_FILTER: &str = "envoyfilter-wasm.yaml";
const OCI_URL: &str = "  url: oci://registry.example.com/pay/canary-filter:0.1.0\n";
const FILE_URL: &str = "  url: file:///var/local/lib/wasm/canary-filter.wasm\n";
const EXACT_V2: &str = "exact: v2";
const PORT: &str = "number: 80";
const EXACT_AT: &str = "spec.http[0].match[0].headers.x-canary-version.exact";
const PORT_AT: &str = "spec.http[0].route[0].destination.port.number";

/// A digest that is valid hex and, unquoted, the float 0 (`0e...`).
fn zero_e_digest() -> String {
    format!("0e{}", "1234567890".repeat(7).get(..62).unwrap())
}

/// (file, text, its replacement, field, the JSON type Kubernetes sees there)
fn mistakes() -> Vec<(
    &'static str,
    &'static str,
    String,
    &'static str,
    &'static str,
)> {
    let digits = "1234567890".repeat(7);
    let mut out = Vec::new();
    for (file, url, digest, kind) in [
        (OCI, OCI_URL, "0".repeat(64), "integer"),
        (OCI, OCI_URL, zero_e_digest(), "integer"),
        (
            FILE,
            FILE_URL,
            digits.get(..64).unwrap().to_string(),
            "number",
        ),
        (FILE, FILE_URL, "~".to_string(), "null"),
    ] {
        out.push((
            file,
            url,
            format!("{url}  sha256: {digest}\n"),
            "spec.sha256",
            kind,
        ));
    }
    for (value, kind) in [
        ("on", "boolean"),
        ("Yes", "boolean"),
        ("NO", "boolean"),
        ("off", "boolean"),
        ("y", "boolean"),
        ("0755", "integer"),
        ("0o17", "integer"),
        ("0x1F", "integer"),
        ("1_000", "integer"),
        ("+12", "integer"),
        ("1e3", "integer"), // 1000.0, which JSON and the API server hold as 1000
        ("1.10", "number"),
        ("null", "null"),
    ] {
        out.push((VS, EXACT_V2, format!("exact: {value}"), EXACT_AT, kind));
    }
    out.push((
        DR,
        "        version: v2",
        "        version: 1.10".into(),
        "spec.subsets[1].labels.version",
        "number",
    ));
    out.push((
        DR,
        "    - name: v1",
        "    - name: 1e3".into(),
        "spec.subsets[0].name",
        "integer",
    ));
    out.push((
        WASM_FILTER,
        "      app: order-service",
        "      app: 0755".into(),
        "spec.workloadSelector.labels.app",
        "integer",
    ));
    out
}

#[test]
fn yaml_1_1_mistakes_are_rejected_with_the_fields_path() {
    let cases = mistakes();
    assert_eq!(cases.len(), 20);
    for (file, old, new, at, kind) in &cases {
        let doc = one_document(file, &edited(file, old, new));
        let verdict = crds().validate(&doc);
        let expected = format!(
            "{at}: Invalid value: \"{kind}\": {at} in body must be of type string: \"{kind}\""
        );
        assert!(
            verdict.errors.contains(&expected),
            "{file} with {new:?}: expected {expected:?}, got {:?}",
            verdict.errors
        );
    }
    println!("{} YAML 1.1 mistakes rejected", cases.len());
}

#[test]
fn the_same_values_quoted_are_strings_and_accepted() {
    for value in ["on", "Yes", "0755", "0x1F", "1e3", "1.10", "~", "null"] {
        for quoted in [format!("'{value}'"), format!("\"{value}\"")] {
            let doc = one_document(VS, &edited(VS, EXACT_V2, &format!("exact: {quoted}")));
            let verdict = crds().validate(&doc);
            assert!(verdict.accepted(), "exact: {quoted}: {verdict:?}");
            let exact = &doc["spec"]["http"][0]["match"][0]["headers"]["x-canary-version"]["exact"];
            assert_eq!(exact, value, "exact: {quoted}");
        }
    }
    let digest = zero_e_digest();
    let new = format!("{OCI_URL}  sha256: \"{digest}\"\n");
    let doc = one_document(OCI, &edited(OCI, OCI_URL, &new));
    assert!(crds().validate(&doc).accepted());
    assert_eq!(doc["spec"]["sha256"], json!(digest));
}

#[test]
fn what_go_yaml_leaves_as_text_stays_text() {
    // No base-60 numbers in go-yaml, and timestamps keep their text.
    for value in ["1:20", "2001-12-14", "yEs", "0x", "12abc", "v2.0"] {
        let doc = one_document(VS, &edited(VS, EXACT_V2, &format!("exact: {value}")));
        assert!(crds().validate(&doc).accepted(), "exact: {value}");
        let exact = &doc["spec"]["http"][0]["match"][0]["headers"]["x-canary-version"]["exact"];
        assert_eq!(exact, value);
    }
}

#[test]
fn numbers_are_read_the_kubernetes_way_in_a_number_field() {
    // 0x50, 0120 (octal) and 8e1 are all the port 80 to Kubernetes.
    for value in ["0x50", "0120", "8e1", "80.0", "8_0"] {
        let doc = one_document(VS, &edited(VS, PORT, &format!("number: {value}")));
        let verdict = crds().validate(&doc);
        assert!(verdict.accepted(), "number: {value}: {verdict:?}");
        assert_eq!(
            doc.pointer("/spec/http/0/route/0/destination/port/number"),
            Some(&json!(80))
        );
    }
    let doc = one_document(VS, &edited(VS, PORT, "number: 80.5"));
    let errors = crds().validate(&doc).errors;
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&format!("{PORT_AT}: Invalid value: \"number\""))),
        "{errors:?}"
    );
}

#[test]
fn an_unquoted_on_in_the_plugin_config_reaches_the_filter_as_true() {
    // The schema lets pluginConfig through as any object; the filter then
    // gets `"value": true` and refuses it, so the kit must quote "on".
    let text = edited(OCI, "value: \"on\"", "value: on");
    let doc = one_document(OCI, &text);
    assert!(crds().validate(&doc).accepted());
    let condition = &doc["spec"]["pluginConfig"]["releases"][0]["conditions"][1];
    assert_eq!(condition["value"], json!(true));
    let config = serde_json::to_vec(&doc["spec"]["pluginConfig"]).unwrap();
    assert!(
        Config::from_json(&config).is_err(),
        "the filter took value: true"
    );
}

#[test]
fn what_json_cannot_hold_is_refused_when_read() {
    for (value, kind) in [(".inf", "inf"), ("-.Inf", "inf"), (".nan", "NaN")] {
        let text = edited(OCI, "weight: 20", &format!("weight: {value}"));
        let error = documents_of(&text).unwrap_err();
        assert!(
            error.contains("spec.pluginConfig.releases[0].weight: json: unsupported value")
                && error.contains(kind),
            "weight: {value}: {error}"
        );
    }
    let text = edited(
        DR,
        "        version: v2",
        "        version: v2\n        version: v3",
    );
    let error = documents_of(&text).unwrap_err();
    assert!(
        error.contains("key \"version\" already set in map"),
        "{error}"
    );
}
