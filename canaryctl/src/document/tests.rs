use super::*;

const PLUGIN: &str = r#"{"releases":[{"name":"pay","hosts":["pay.example.com"],"header":"x-version","baseline":"v1","canary":"v2","weight":20}]}"#;

fn load(name: &str, text: &str, kind: Option<Kind>) -> Result<Document> {
    Document::from_bytes(Path::new(name), text.as_bytes().to_vec(), kind)
}

fn ecds_yaml(plugin: &str) -> String {
    format!(
        "# ECDS for the canary filter\nversion_info: \"1\"\nresources:\n- \"@type\": type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig\n  name: canary-filter\n  typed_config:\n    \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\n    config:\n      root_id: canary\n      configuration:\n        \"@type\": type.googleapis.com/google.protobuf.StringValue\n        value: |\n          {plugin}\n      vm_config:\n        runtime: envoy.wasm.runtime.v8\n"
    )
}

const WASMPLUGIN: &str = "\
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: canary # the filter
spec:
  url: oci://registry/canary:1
  pluginConfig:
    releases:
    - name: pay
      header: x-version
      baseline: v1
      canary: v2
      weight: 20.0
";

#[test]
fn detects_each_kind() {
    let plugin = load("p.json", PLUGIN, None).unwrap();
    assert_eq!(plugin.kind, Kind::Plugin);
    assert_eq!(
        plugin.config().unwrap().releases[0]
            .canaries
            .first()
            .weight_bp,
        2000
    );
    let ecds = load("e.yaml", &ecds_yaml(PLUGIN), None).unwrap();
    assert_eq!(ecds.kind, Kind::Ecds);
    assert_eq!(ecds.config().unwrap().releases[0].name, "pay");
    let istio = load("w.yaml", WASMPLUGIN, None).unwrap();
    assert_eq!(istio.kind, Kind::Wasmplugin);
    assert_eq!(
        istio.config().unwrap().releases[0]
            .canaries
            .first()
            .weight_bp,
        2000
    );
}

#[test]
fn errors_name_the_file_and_the_place() {
    let err = load("p.json", r#"{"releases":[{"name":"pay"}]}"#, None)
        .unwrap()
        .config()
        .unwrap_err();
    assert_eq!(err.to_string(), "p.json: releases[0].header: is required");
    let err = load("p.json", "{\"releases\": [", None)
        .unwrap()
        .config()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("p.json: not valid JSON: "),
        "{err}"
    );
    let err = load("x.yaml", "a: 1\n", None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x.yaml: cannot tell what kind of file"),
        "{err}"
    );
    let err = load("x.yaml", "# nothing yet\n", None).unwrap_err();
    assert_eq!(err.to_string(), "x.yaml: is empty");
    let err = load("x.yaml", "a: [1\n", None).unwrap_err();
    assert!(
        err.to_string().starts_with("x.yaml: neither JSON nor YAML"),
        "{err}"
    );
    let err = load("x.yaml", "releases: []\n", None).unwrap_err();
    assert!(err.to_string().contains("must be JSON"), "{err}");
    let err = load("w.yaml", "kind: WasmPlugin\nspec: {}\n", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "w.yaml: spec.pluginConfig: missing; the filter's releases go there"
    );
    let two = format!("{WASMPLUGIN}---\n{WASMPLUGIN}");
    assert!(load("w.yaml", &two, None)
        .unwrap_err()
        .to_string()
        .contains("2 Istio WasmPlugin documents"));
    let bytes = vec![0xff, 0xfe, b'{'];
    assert!(Document::from_bytes(Path::new("b.bin"), bytes, Some(Kind::Ecds)).is_err());
}

#[test]
fn kind_flag_overrides_detection() {
    // Read as a plugin config, an ECDS file fails the filter's own checks.
    let err = load("e.yaml", &ecds_yaml(PLUGIN), Some(Kind::Plugin)).unwrap_err();
    assert!(err.to_string().contains("must be JSON"), "{err}");
    let err = load("p.json", PLUGIN, Some(Kind::Ecds)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p.json: resources: expected a list"),
        "{err}"
    );
}

fn with_weight(document: &Document, weight: u32) -> Value {
    let mut plugin = document.plugin_value().unwrap();
    plugin["releases"][0]["weight"] = weight.into();
    plugin
}

#[test]
fn renders_each_kind_keeping_the_rest() {
    let plugin_doc = load("p.json", PLUGIN, None).unwrap();
    let out = plugin_doc.render(&with_weight(&plugin_doc, 50)).unwrap();
    assert_eq!(out, PLUGIN.replace("\"weight\":20", "\"weight\":50"));

    let ecds_text = ecds_yaml(PLUGIN);
    let ecds = load("e.yaml", &ecds_text, None).unwrap();
    let out = ecds.render(&with_weight(&ecds, 50)).unwrap();
    assert!(
        out.starts_with("# ECDS for the canary filter\nversion_info: \"1\"\n"),
        "{out}"
    );
    assert!(
        out.ends_with("      vm_config:\n        runtime: envoy.wasm.runtime.v8\n"),
        "{out}"
    );
    let reread = load("e.yaml", &out, None).unwrap();
    assert_eq!(
        reread.config().unwrap().releases[0]
            .canaries
            .first()
            .weight_bp,
        5000
    );

    let istio = load("w.yaml", WASMPLUGIN, None).unwrap();
    let out = istio.render(&with_weight(&istio, 50)).unwrap();
    assert!(out.contains("  name: canary # the filter\n"));
    assert_eq!(
        load("w.yaml", &out, None)
            .unwrap()
            .config()
            .unwrap()
            .releases[0]
            .canaries
            .first()
            .weight_bp,
        5000
    );
}

#[test]
fn ecds_json_keeps_the_file_bytes_but_the_string() {
    let value = serde_json::to_string(PLUGIN).unwrap();
    let text = format!(
        "{{\n  \"resources\": [ {{ \"@type\": \"type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig\", \"name\": \"canary-filter\",\n    \"typed_config\": {{ \"@type\": \"type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\",\n      \"config\": {{ \"configuration\": {{ \"@type\": \"type.googleapis.com/google.protobuf.StringValue\", \"value\": {value} }} }} }} }} ]\n}}\n"
    );
    let ecds = load("e.json", &text, None).unwrap();
    assert_eq!(ecds.kind, Kind::Ecds);
    let out = ecds.render(&with_weight(&ecds, 50)).unwrap();
    assert_eq!(out, text.replace("\\\"weight\\\":20", "\\\"weight\\\":50"));
}
