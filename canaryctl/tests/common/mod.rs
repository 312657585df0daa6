//! Shared by the CLI tests: run the built binary, scratch folders, and the
//! three kinds of config file.
#![allow(dead_code)]
// Test helpers: a failed expectation panics, as in a #[test].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The binary's exit status, stdout and stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().expect("exited by a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

pub fn canaryctl(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_canaryctl"))
        .args(args)
        .output()
        .expect("canaryctl runs")
        .into()
}

/// Runs and expects success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let run = canaryctl(args);
    assert_eq!(run.code, 0, "canaryctl {args:?} failed: {}", run.stderr);
    run.stdout
}

/// Runs and expects a rejection (exit 1, nothing on stdout unless JSON);
/// returns stderr.
pub fn rejected(args: &[&str]) -> String {
    let run = canaryctl(args);
    assert_eq!(
        run.code, 1,
        "canaryctl {args:?}: {}{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    run.stderr
}

/// A fresh folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("canaryctl-cli-{}-{test}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Two releases: pay-service (rule, 20%, sticky by x-user-id) and a
/// catch-all web release.
pub const PLUGIN: &str = r#"{
  "releases": [
    {
      "name": "pay-service",
      "hosts": ["pay.example.com"],
      "header": "x-version",
      "baseline": "v1",
      "canary": "v2",
      "conditions": [{"header": "env", "op": "equals", "value": "test"}],
      "weight": 20,
      "sticky": {"header": "x-user-id"}
    },
    {
      "name": "web",
      "header": "x-web-version",
      "baseline": "stable",
      "canary": "next",
      "weight": 12.5
    }
  ]
}
"#;

/// The plugin JSON inside an ECDS DiscoveryResponse, as envoy-test writes it.
pub fn ecds_json(plugin: &str) -> String {
    let value = serde_json::to_string(plugin).unwrap();
    format!(
        r#"{{
  "version_info": "1",
  "resources": [
    {{
      "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
      "name": "canary-filter",
      "typed_config": {{
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {{
          "name": "canary-filter",
          "vm_config": {{"runtime": "envoy.wasm.runtime.v8", "code": {{"local": {{"filename": "/tmp/canary-filter.wasm"}}}}}},
          "configuration": {{
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": {value}
          }}
        }}
      }}
    }}
  ]
}}
"#
    )
}

/// The same in YAML, the plugin JSON as a literal block.
pub fn ecds_yaml(plugin: &str) -> String {
    let block: String = plugin
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    format!(
        "# Written for the canary filter's ECDS watch.\nversion_info: \"1\"\nresources:\n- \"@type\": type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig\n  name: canary-filter\n  typed_config:\n    \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\n    config:\n      name: canary-filter\n      configuration:\n        \"@type\": type.googleapis.com/google.protobuf.StringValue\n        value: |\n{block}      vm_config:\n        runtime: envoy.wasm.runtime.v8   # V8, as in Istio\n"
    )
}

/// An Istio WasmPlugin with comments outside pluginConfig; Istio's
/// numbers arrive as floats.
pub const WASMPLUGIN: &str = "\
# Canary routing for pay-service.
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: pay-canary   # one per service
  namespace: default
spec:
  selector:
    matchLabels:
      app: order-service
  url: oci://registry.example/canary-filter:1.0
  phase: AUTHN
  # The filter's releases.
  pluginConfig:
    releases:
      - name: pay-service
        hosts: [pay.example.com]
        header: x-version
        baseline: v1
        canary: v2
        conditions:
          - cookie: beta
            op: equals
            value: \"on\"
        weight: 20.0
        sticky:
          cookie: uid
  failStrategy: FAIL_OPEN
";
