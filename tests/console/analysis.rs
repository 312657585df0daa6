//! The console's Analysis API against a real Envoy: a run's state (written
//! with canaryctl's own `State` type) is shown with its steps, phase and
//! limits; Promote sets the control file's flag; Abort rolls the release
//! back in FILE and Envoy routes by it; a gate without the file's ETag, or
//! on a release with no run, changes nothing.

use canaryctl::auto::settings::Settings;
use canaryctl::auto::state::{default_path, Control};
use serde_json::json;

use super::server::{json, run_at_second_step, versions_reached, ConsoleServer};
use crate::support::release::leaves_alone;
use crate::support::{pay_release, plugin_config, Envoy};

// At 25%, 60 requests all reach one version with odds below 0.75^60 < 1e-7.
const REQUESTS: usize = 60;

#[test]
fn analysis_shows_the_run_and_its_gates_promote_and_abort() {
    let mut release = pay_release();
    release["weight"] = json!(25);
    let envoy = Envoy::start_ecds(&plugin_config([release.clone()]));
    let _log = envoy.log_on_failure();
    let file = envoy.dir().join("ecds").join("canary-filter.json");
    let admin = format!("http://{}", envoy.admin);
    let console = ConsoleServer::start(&file, &["--admin", &admin]);

    // No run yet: 404 with a JSON error.
    let none = console.get("/api/releases/pay/analysis");
    assert_eq!(none.status, 404, "{none:?}");
    assert!(json(&none)["error"].as_str().unwrap().contains("no run"));

    let state_path = default_path(&file, "pay");
    let settings = Settings {
        steps: vec![10.0, 25.0, 50.0, 100.0],
        failure_limit: 3,
        ..Settings::default()
    };
    run_at_second_step(&file, release, settings)
        .save(&state_path)
        .unwrap();

    let shown = console.get("/api/releases/pay/analysis");
    assert_eq!(shown.status, 200, "{shown:?}");
    let shown = json(&shown);
    assert_eq!(shown["phase_text"], "step 2");
    assert_eq!(shown["current_step"], 1);
    let weights: Vec<f64> = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["weight"].as_f64().unwrap())
        .collect();
    assert_eq!(weights, [10.0, 25.0, 50.0, 100.0]);
    let current: Vec<bool> = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, [false, true, false, false]);
    assert_eq!(shown["failures"], 1);
    assert_eq!(shown["failure_limit"], 3);
    assert_eq!(shown["limits"]["min_requests"], 100);
    assert_eq!(shown["limits"]["max_error_rate"], 1.0);
    assert_eq!(shown["limits"]["max_p99_ms"], 500.0);
    assert_eq!(shown["measurements"]["requests"], 140);
    assert_eq!(shown["measurements"]["error_rate"], 2.5);
    assert_eq!(shown["measurements"]["verdict"], "fail");

    // A gate without If-Match, or with a stale one, does nothing.
    let bare = leaves_alone(&file, "a gate without If-Match", || {
        console.write("POST", "/api/releases/pay/promote", None, "{}")
    });
    assert_eq!(bare.status, 428, "{bare:?}");
    let stale = console.write("POST", "/api/releases/pay/abort", Some("\"0\""), "{}");
    assert_eq!(stale.status, 412, "{stale:?}");
    assert_eq!(Control::load(&state_path).unwrap(), Control::default());
    // From another site: refused by the console's write guard.
    let etag = console.etag("pay");
    let foreign = console.send(
        &console
            .request("POST", "/api/releases/pay/promote")
            .header("content-type", "application/json")
            .header("origin", "http://evil.test")
            .header("if-match", &etag)
            .body("{}"),
    );
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert!(!Control::load(&state_path).unwrap().promote);

    // Promote: the control file says so.
    let promoted = console.write("POST", "/api/releases/pay/promote", Some(&etag), "{}");
    assert_eq!(promoted.status, 200, "{promoted:?}");
    assert!(Control::load(&state_path).unwrap().promote);
    assert_eq!(json(&promoted)["analysis"]["control"]["promote"], true);
    assert_eq!(
        versions_reached(&envoy, None, REQUESTS),
        ["pay-v1", "pay-v2"],
        "promote edits nothing"
    );

    // Abort: the release is rolled back in FILE, and Envoy routes by it.
    let etag = console.etag("pay");
    let aborted = console.write("POST", "/api/releases/pay/abort", Some(&etag), "{}");
    assert_eq!(aborted.status, 200, "{aborted:?}");
    assert!(Control::load(&state_path).unwrap().abort);
    let detail = json(&console.get("/api/releases/pay"));
    assert_eq!(detail["release"]["weight"].as_f64(), Some(0.0), "{detail}");
    assert_ne!(detail["etag"], json!(etag));
    let routed = (0..50).find_map(|_| {
        let seen = versions_reached(&envoy, None, REQUESTS);
        (seen == ["pay-v1"]).then_some(seen)
    });
    assert_eq!(routed, Some(vec!["pay-v1".to_string()]));

    // Another release with no run: 404, nothing written.
    let etag = console.etag("pay");
    let missing = console.write("POST", "/api/releases/shop/abort", Some(&etag), "{}");
    assert_eq!(missing.status, 404, "{missing:?}");
}
