//! `validate`, `show`, `--help` and usage errors, on the built binary.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::Value;

#[test]
fn validate_accepts_each_kind_of_file() {
    let dir = scratch("validate");
    let plugin = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&["validate", &plugin]);
    assert_eq!(
        out,
        format!("OK {plugin}: plugin config, 2 releases: pay-service (20% to v2, rule, sticky), web (12.5% to next)\n")
    );
    let ecds = write(&dir, "canary-filter.json", &ecds_json(PLUGIN));
    assert!(ok(&["validate", &ecds]).contains(": ECDS DiscoveryResponse, 2 releases"));
    let ecds = write(&dir, "canary-filter.yaml", &ecds_yaml(PLUGIN));
    assert!(ok(&["validate", &ecds]).contains(": ECDS DiscoveryResponse, 2 releases"));
    let istio = write(&dir, "wasmplugin.yaml", WASMPLUGIN);
    assert!(ok(&["validate", &istio])
        .contains(": Istio WasmPlugin, 1 release: pay-service (20% to v2, rule, sticky)"));
}

#[test]
fn a_wasmplugin_is_read_as_kubernetes_reads_it() {
    // Unquoted, `on` is YAML 1.1's true: the API server hands Istio a
    // boolean, so the filter would refuse the rule. canaryctl must say so
    // rather than check the string it would see with a YAML 1.2 reader.
    let dir = scratch("yaml11");
    let istio = write(
        &dir,
        "w.yaml",
        &WASMPLUGIN.replace("value: \"on\"", "value: on"),
    );
    let stderr = rejected(&["validate", &istio]);
    assert!(
        stderr.contains(
            ": releases[0].conditions[0].value: operator \"equals\" needs a string, got a boolean"
        ),
        "{stderr}"
    );
    // Quoted, it is the string, as before.
    let quoted = write(&dir, "q.yaml", WASMPLUGIN);
    assert!(ok(&["validate", &quoted]).contains(": Istio WasmPlugin, 1 release"));
}

#[test]
fn validate_reports_the_filters_own_message() {
    let dir = scratch("invalid");
    let bad = PLUGIN.replace("\"weight\": 20,", "\"weight\": 120,");
    let plugin = write(&dir, "plugin.json", &bad);
    let stderr = rejected(&["validate", &plugin]);
    assert_eq!(
        stderr,
        format!(
            "canaryctl: {plugin}: releases[0].weight: 120 is out of range; expected 0 to 100\n"
        )
    );
    // The same message through the ECDS file and the WasmPlugin.
    let ecds = write(&dir, "ecds.yaml", &ecds_yaml(&bad));
    assert!(rejected(&["validate", &ecds])
        .ends_with(": releases[0].weight: 120 is out of range; expected 0 to 100\n"));
    let istio = write(
        &dir,
        "w.yaml",
        &WASMPLUGIN.replace("value: \"on\"", "value: 1001"),
    );
    let stderr = rejected(&["validate", &istio]);
    assert!(
        stderr.contains(
            ": releases[0].conditions[0].value: operator \"equals\" needs a string, got a number"
        ),
        "{stderr}"
    );
    let broken = write(&dir, "broken.json", "{\"releases\": [");
    assert!(rejected(&["validate", &broken]).contains("broken.json: not valid JSON: "));
    let unknown = write(&dir, "other.yaml", "apiVersion: v1\nkind: ConfigMap\n");
    assert!(rejected(&["validate", &unknown]).contains("cannot tell what kind of file this is"));
    let missing = dir.join("nope.json");
    assert!(rejected(&["validate", missing.to_str().unwrap()]).contains("nope.json: No such file"));
}

#[test]
fn validate_json_for_scripts() {
    let dir = scratch("validate-json");
    let plugin = write(&dir, "plugin.json", PLUGIN);
    let report: Value = serde_json::from_str(&ok(&["validate", &plugin, "--json"])).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["kind"], "plugin");
    assert_eq!(report["releases"][1]["weight"], 12.5);
    let bad = write(&dir, "bad.json", "{\"releases\": []}");
    let run = canaryctl(&["validate", &bad, "--json"]);
    assert_eq!(run.code, 1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(report["error"]
        .as_str()
        .unwrap()
        .ends_with("releases: at least one release is required"));
}

#[test]
fn kind_flag_overrides_detection() {
    let dir = scratch("kind");
    let ecds = write(&dir, "ecds.json", &ecds_json(PLUGIN));
    let stderr = rejected(&["validate", &ecds, "--kind", "plugin"]);
    assert!(
        stderr.contains("ecds.json: version_info: unknown field \"version_info\""),
        "{stderr}"
    );
    assert!(ok(&["validate", &ecds, "--kind", "ecds"]).starts_with("OK "));
}

#[test]
fn show_explains_each_release() {
    let dir = scratch("show");
    let plugin = write(&dir, "plugin.json", PLUGIN);
    let out = ok(&["show", &plugin]);
    assert!(out.contains("pay-service\n  hosts:   pay.example.com\n  header:  x-version: v1 (baseline) or v2 (canary)\n  rule:    header env equals test -> v2\n  weight:  20% of the other requests go to v2, 80% to v1\n  sticky:  by header x-user-id"), "{out}");
    assert!(out.contains("web\n  hosts:   every host"), "{out}");
    assert!(
        out.contains("12.5% of the other requests go to next, 87.5% to stable"),
        "{out}"
    );
    let istio = write(&dir, "w.yaml", WASMPLUGIN);
    let report: Value = serde_json::from_str(&ok(&["show", &istio, "--json"])).unwrap();
    assert_eq!(
        report["releases"][0]["rule"]["conditions"][0],
        "cookie beta equals on"
    );
    assert_eq!(report["releases"][0]["sticky"]["cookie"], "uid");
}

#[test]
fn help_on_every_command_and_usage_errors_exit_2() {
    for command in [
        "validate",
        "show",
        "simulate",
        "set-weight",
        "rule",
        "complete",
        "rollback",
        "start",
        "status",
    ] {
        let run = canaryctl(&[command, "--help"]);
        assert_eq!(run.code, 0, "{command} --help");
        assert!(
            run.stdout.contains("Usage: canaryctl"),
            "{command}: {}",
            run.stdout
        );
    }
    assert_eq!(canaryctl(&["--help"]).code, 0);
    assert_eq!(canaryctl(&[]).code, 2);
    assert_eq!(canaryctl(&["validate"]).code, 2);
    assert_eq!(canaryctl(&["frobnicate"]).code, 2);
    assert_eq!(canaryctl(&["set-weight", "f.json", "pay", "ten"]).code, 2);
    assert_eq!(
        canaryctl(&["rule", "f.json", "pay"]).code,
        2,
        "rule needs a change"
    );
    assert_eq!(
        canaryctl(&["rule", "f.json", "pay", "--clear", "--mode", "any"]).code,
        2
    );
    assert_eq!(
        canaryctl(&["rule", "f.json", "pay", "--when", "header env"]).code,
        2
    );
    assert_eq!(canaryctl(&["validate", "f.json", "--kind", "helm"]).code, 2);
}
