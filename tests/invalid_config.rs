//! Bad plugin configs, end to end. Static mode: Envoy refuses the plugin
//! and exits non-zero, with the filter's own message naming the field in
//! its log. ECDS mode: the update is rejected and the last good config keeps
//! routing; with no good config yet, the filter fails closed (HTTP 500).

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;

use serde_json::json;
use support::{pay_release, plugin_config, EcdsOutcome, Envoy, Request};

const PREFIX: &str = "canary-filter: invalid plugin configuration: ";

/// Starts a static-mode Envoy with `config`, expects it to exit non-zero,
/// and returns the filter's error line from its log.
fn refused(builder: support::EnvoyBuilder) -> String {
    let exited = builder.start_expecting_exit();
    assert!(
        !exited.status.success(),
        "Envoy exited with {}",
        exited.status
    );
    let line = exited
        .log
        .lines()
        .find(|line| line.contains(PREFIX))
        .unwrap_or_else(|| panic!("no `{PREFIX}` line in Envoy's log:\n{}", exited.log));
    line.split_once(PREFIX)
        .map(|(_, message)| message.to_owned())
        .unwrap_or_default()
}

fn release_with(field: &str, value: serde_json::Value) -> String {
    let mut release = pay_release();
    release[field] = value;
    plugin_config([release])
}

#[test]
fn static_invalid_release_field_stops_envoy_with_its_path() {
    let message = refused(Envoy::builder(&release_with("canary", json!("pay-v1"))));
    assert_eq!(
        message,
        r#"releases[0].canary: must differ from baseline (both are "pay-v1")"#
    );
}

#[test]
fn static_out_of_range_weight_stops_envoy() {
    let message = refused(Envoy::builder(&release_with("weight", json!(101))));
    assert!(
        message.starts_with("releases[0].weight: 101 is out of range"),
        "{message}"
    );
}

#[test]
fn static_unknown_operator_stops_envoy() {
    let conditions = json!([{"header": "env", "op": "like", "value": "x"}]);
    let message = refused(Envoy::builder(&release_with("conditions", conditions)));
    assert!(
        message.starts_with(r#"releases[0].conditions[0].op: unknown operator "like""#),
        "{message}"
    );
}

#[test]
fn static_config_that_is_not_json_stops_envoy() {
    let message = refused(Envoy::builder("{releases: oops"));
    assert!(message.starts_with("not valid JSON"), "{message}");
}

#[test]
fn static_empty_configuration_stops_envoy() {
    let message = refused(Envoy::builder(""));
    assert!(
        message.starts_with("the plugin configuration is empty"),
        "{message}"
    );
}

#[test]
fn static_missing_configuration_stops_envoy() {
    let message = refused(Envoy::builder("ignored").without_configuration());
    assert!(
        message.starts_with("the plugin configuration is empty"),
        "{message}"
    );
}

#[test]
fn ecds_rejects_an_invalid_update_and_keeps_the_last_good_config() {
    let mut good = pay_release();
    good["conditions"] = json!([{"header": "env", "op": "equals", "value": "test"}]);
    let envoy = Envoy::start_ecds(&plugin_config([good]));
    let mut client = envoy.client();
    let rule_hit = Request::get("/").host("pay-service").header("env", "test");
    assert_eq!(client.send(&rule_hit).version(), "pay-v2");

    let outcome = envoy.apply_plugin_config(&release_with("weight", json!(-1)));
    assert_eq!(outcome, EcdsOutcome::Rejected);
    assert!(
        envoy
            .log()
            .contains(&format!("{PREFIX}releases[0].weight: -1 is out of range")),
        "the rejection should be explained in the log:\n{}",
        envoy.log_tail(20)
    );
    // Still the old rule: a fresh connection, so a new filter chain.
    let mut fresh = envoy.client();
    assert_eq!(fresh.send(&rule_hit).version(), "pay-v2");
    assert_eq!(client.send(&rule_hit).version(), "pay-v2");
}

#[test]
fn ecds_without_a_good_config_fails_closed() {
    // No default_config in the bootstrap: until a valid config arrives,
    // Envoy answers 500 rather than pass requests unfiltered (which would
    // let a client's own routing header choose the version).
    let envoy = Envoy::builder(r#"{"releases": []}"#).ecds().start();
    let response = envoy.send(
        &Request::get("/")
            .host("pay-service")
            .header("x-canary-cluster", "pay-v2"),
    );
    assert_eq!(response.status, 500, "{response:?}");

    assert_eq!(
        envoy.apply_plugin_config(&plugin_config([pay_release()])),
        EcdsOutcome::Applied
    );
    let response = envoy.send(
        &Request::get("/")
            .host("pay-service")
            .header("x-canary-cluster", "pay-v2"),
    );
    assert_eq!(
        (response.status, response.version().as_str()),
        (200, "pay-v1")
    );
}
