//! Invalid configs of the `canaries` form in a real Envoy: each rejected
//! (ECDS) with the filter's own message in the log, and the last good
//! config routing on.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::support;
use crate::tags::{expected, routed, sticky_config, tagged};

use serde_json::{json, Value};
use support::{plugin_config, EcdsOutcome, Envoy, Request};

#[test]
fn invalid_tagged_configs_are_rejected_with_their_message() {
    let good = sticky_config(&[1000, 500]);
    let envoy = Envoy::start_ecds(&good);
    let _log = envoy.log_on_failure();
    let release = |canaries: Value| plugin_config([tagged("raise", canaries, true)]);
    let nine: Vec<Value> = (2..=10)
        .map(|i| json!({"value": format!("v{i}")}))
        .collect();
    let mut both = tagged("raise", json!([{"value": "v2"}]), true);
    both["canary"] = json!("v9");
    let cases = [
        (
            plugin_config([both]),
            "releases[0]: set either \"canary\" (one canary, with the release's rule and weight) or \"canaries\" (a list), not both",
        ),
        (
            release(json!([{"value": "v2"}, {"value": "v3"}, {"value": "v2"}])),
            "releases[0].canaries[2].value: \"v2\" is used twice",
        ),
        (
            release(json!([{"value": "v1"}])),
            "releases[0].canaries[0].value: must differ from baseline (both are \"v1\")",
        ),
        (
            release(json!([{"value": "v2", "weight": 70}, {"value": "v3", "weight": 30.01}])),
            "releases[0].canaries: the weights sum to 100.01%; they may sum to at most 100%",
        ),
        (
            release(json!(nine)),
            "releases[0].canaries: 9 canaries; the limit is 8",
        ),
    ];
    for (config, message) in cases {
        assert_eq!(
            envoy.apply_plugin_config(&config),
            EcdsOutcome::Rejected,
            "{message}"
        );
        let log = envoy.log();
        assert!(
            log.lines()
                .any(|l| l.contains("invalid plugin configuration: ") && l.contains(message)),
            "no log line with {message:?}"
        );
        // The last good config keeps routing.
        let request = Request::get("/")
            .host("raise.test")
            .header("x-user-id", "k1");
        assert_eq!(
            routed(&envoy, &request),
            expected("raise", "k1", &[1000, 500])
        );
    }
}
