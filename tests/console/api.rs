//! The console's API against a running console and a real Envoy (ECDS):
//! every write path, each followed by Envoy routing by it; a stale ETag
//! (another browser, or canaryctl in between) is 412 and changes nothing; a
//! config the core refuses is 422 with its message and field; the token;
//! writes from another site; bad bodies. Each refusal leaves FILE as it was.

use std::fs;
use std::path::Path;

use serde_json::json;

use super::server::{json, versions_reached, ConsoleServer};
use crate::support::release::{leaves_alone, Canaryctl};
use crate::support::{pay_release, plugin_config, Envoy, Request};

const REQUESTS: usize = 20;

fn ecds_file(envoy: &Envoy) -> std::path::PathBuf {
    envoy.dir().join("ecds").join("canary-filter.json")
}

fn history_sources(console: &ConsoleServer) -> Vec<String> {
    let history = json(&console.get("/api/history"));
    history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_write_path_reaches_envoy_and_stale_etags_change_nothing() {
    let envoy = Envoy::start_ecds(&plugin_config([pay_release()]));
    let _log = envoy.log_on_failure();
    let file = ecds_file(&envoy);
    let admin = format!("http://{}", envoy.admin);
    let console = ConsoleServer::start(&file, &["--admin", &admin]);

    let list = json(&console.get("/api/releases"));
    assert_eq!(list["releases"][0]["release"]["name"], "pay");
    let detail = console.get("/api/releases/pay");
    let etag = detail.header("etag").unwrap();
    assert_eq!(json(&detail)["etag"], etag.as_str());

    // Weight: applied by Envoy, and every request follows it.
    let done = console.write(
        "PUT",
        "/api/releases/pay/weight",
        Some(&etag),
        r#"{"weight": 100}"#,
    );
    assert_eq!(done.status, 200, "{done:?}");
    let done = json(&done);
    assert_eq!(done["envoy"]["verdict"], "applied", "{done}");
    assert_eq!(done["report"]["changes"][0]["to"], "100%");
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v2"]);

    // The ETag read before that write is stale now: 412, nothing written.
    let stale = leaves_alone(&file, "a stale write", || {
        console.write(
            "PUT",
            "/api/releases/pay/weight",
            Some(&etag),
            r#"{"weight": 5}"#,
        )
    });
    assert_eq!(stale.status, 412, "{stale:?}");
    assert_eq!(json(&stale)["etag"], done["etag"]);

    // canaryctl writes in between: the page's ETag goes stale too.
    let page_etag = console.etag("pay");
    let run = Canaryctl::find().run(&["set-weight", file.to_str().unwrap(), "pay", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stale = leaves_alone(&file, "a write after canaryctl's", || {
        console.write(
            "PUT",
            "/api/releases/pay/weight",
            Some(&page_etag),
            r#"{"weight": 50}"#,
        )
    });
    assert_eq!(stale.status, 412);
    assert_eq!(versions_reached(&envoy, None, REQUESTS), ["pay-v1"]);

    // A write without If-Match is refused too.
    let bare = console.write("PUT", "/api/releases/pay/weight", None, r#"{"weight": 50}"#);
    assert_eq!(bare.status, 428, "{bare:?}");

    // The rule: a header condition sends matching requests to the canary.
    let rule = json!({"path": null, "mode": "all",
        "conditions": [{"header": "env", "op": "equals", "value": "test"}]});
    let done = console.write(
        "PUT",
        "/api/releases/pay/rule",
        Some(&console.etag("pay")),
        &rule.to_string(),
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(json(&done)["envoy"]["verdict"], "applied");
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v2"]
    );
    assert_eq!(
        versions_reached(&envoy, Some(("env", "prod")), REQUESTS),
        ["pay-v1"]
    );

    // Configs the core refuses: 422 with its message and field; untouched.
    let etag = console.etag("pay");
    let bad_regex = json!({"conditions": [{"header": "v", "op": "regex", "value": "(a"}]});
    let refused = leaves_alone(&file, "a bad regex", || {
        console.write(
            "PUT",
            "/api/releases/pay/rule",
            Some(&etag),
            &bad_regex.to_string(),
        )
    });
    assert_eq!(refused.status, 422, "{refused:?}");
    let body = json(&refused);
    assert_eq!(body["field"], "releases[0].conditions[0].value");
    assert!(
        body["message"].as_str().unwrap().contains("invalid regex"),
        "{body}"
    );
    let refused = leaves_alone(&file, "weight 101", || {
        console.write(
            "PUT",
            "/api/releases/pay/weight",
            Some(&etag),
            r#"{"weight": 101}"#,
        )
    });
    assert_eq!(refused.status, 422);
    assert_eq!(json(&refused)["field"], "releases[0].weight");
    let other_canary = console.write(
        "PUT",
        "/api/releases/pay/weight",
        Some(&etag),
        r#"{"weight": 10, "canary": "pay-v9"}"#,
    );
    assert_eq!(other_canary.status, 422);
    assert_eq!(json(&other_canary)["field"], "canary");

    // Complete, then rollback: all to the canary, then all to the baseline.
    let done = console.write("POST", "/api/releases/pay/complete", Some(&etag), "");
    assert_eq!(done.status, 200, "{done:?}");
    let done = json(&done);
    assert_eq!(done["envoy"]["verdict"], "applied");
    assert!(done["report"]["next_steps"]
        .as_str()
        .unwrap()
        .contains("canaryctl start"));
    assert_eq!(
        versions_reached(&envoy, Some(("env", "prod")), REQUESTS),
        ["pay-v2"]
    );
    let done = console.write(
        "POST",
        "/api/releases/pay/rollback",
        Some(&console.etag("pay")),
        "{}",
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(json(&done)["envoy"]["verdict"], "applied");
    assert_eq!(
        versions_reached(&envoy, Some(("env", "test")), REQUESTS),
        ["pay-v1"]
    );

    // A change from outside shows in the history as such.
    let mut outside = pay_release();
    outside["weight"] = json!(7);
    envoy.apply_plugin_config(&plugin_config([outside]));
    let sources = history_sources(&console);
    assert_eq!(
        sources,
        [
            "file",
            "console",
            "console",
            "console",
            "canaryctl",
            "console"
        ],
        "newest first"
    );

    // Live numbers per version, from Envoy's counters and clusters.
    let metrics = json(&console.get("/api/releases/pay/metrics"));
    assert_eq!(metrics["available"], true, "{metrics}");
    let versions = metrics["versions"].as_array().unwrap();
    assert_eq!(versions[0]["version"], "pay-v1");
    assert!(
        versions[0]["routed"].as_u64().unwrap() >= 2 * REQUESTS as u64,
        "{metrics}"
    );
    assert!(
        versions[1]["completed"].as_u64().unwrap() >= 3 * REQUESTS as u64,
        "{metrics}"
    );
    assert_eq!(
        versions[1]["endpoints"][0]["health"], "healthy",
        "{metrics}"
    );
}

fn plugin_file(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("canary.json");
    fs::write(&file, plugin_config([pay_release()])).unwrap();
    file
}

#[test]
fn writes_from_other_sites_and_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = plugin_file(dir.path());
    let console = ConsoleServer::start(&file, &[]);
    let etag = console.etag("pay");
    let weight = |extra: &[(&str, &str)], content_type: &str, body: &str| {
        let mut request = console
            .request("PUT", "/api/releases/pay/weight")
            .header("if-match", &etag)
            .header("content-type", content_type)
            .body(body);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        console.send(&request)
    };
    let ok_body = r#"{"weight": 35}"#;
    leaves_alone(&file, "refused writes", || {
        let cross = weight(
            &[("origin", "http://evil.test")],
            "application/json",
            ok_body,
        );
        assert_eq!(cross.status, 403, "{cross:?}");
        assert!(json(&cross)["error"]
            .as_str()
            .unwrap()
            .contains("another site"));
        let fetch_site = weight(
            &[("sec-fetch-site", "cross-site")],
            "application/json",
            ok_body,
        );
        assert_eq!(fetch_site.status, 403);
        assert_eq!(weight(&[], "text/plain", ok_body).status, 415);
        let malformed = weight(&[], "application/json", r#"{"weight": "#);
        assert_eq!(malformed.status, 400);
        assert!(json(&malformed)["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"));
        let huge = format!(r#"{{"weight": 35, "pad": "{}"}}"#, "x".repeat(100_000));
        assert_eq!(weight(&[], "application/json", &huge).status, 413);
        let wrong_type = weight(&[], "application/json", r#"{"weight": "35"}"#);
        assert_eq!(wrong_type.status, 422);
        let unknown = console.write("PUT", "/api/releases/..%2Fetc/weight", Some(&etag), ok_body);
        assert_eq!(unknown.status, 404, "{unknown:?}");
        assert_eq!(
            console
                .send(&console.request("DELETE", "/api/releases/pay"))
                .status,
            405
        );
        assert_eq!(console.get("/api/nothing").status, 404);
        let rebinding = Request::get("/api/releases")
            .host("evil.test")
            .header("connection", "close");
        assert_eq!(console.send(&rebinding).status, 403);
    });
    // The page's own origin, and a script with no Origin, may write.
    let own = format!("http://{}", console.addr);
    assert_eq!(
        weight(
            &[("origin", &own), ("sec-fetch-site", "same-origin")],
            "application/json",
            ok_body
        )
        .status,
        200
    );
    let script = console.write(
        "PUT",
        "/api/releases/pay/weight",
        Some(&console.etag("pay")),
        r#"{"weight": 40}"#,
    );
    assert_eq!(script.status, 200, "{script:?}");
    assert!(fs::read_to_string(&file).unwrap().contains("\"weight\":40"));
    // The page and its assets are embedded, and framing is refused.
    let page = console.get("/");
    assert_eq!(page.status, 200);
    assert!(page.body_text().contains("Weight (%)"));
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(console.get("/app.js").status, 200);
}

#[test]
fn a_token_guards_every_api_request_and_other_addresses_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = plugin_file(dir.path());
    // Refused before it listens: any address but loopback needs a token.
    let run = Canaryctl::find().run(&["console", file.to_str().unwrap(), "--listen", "0.0.0.0:0"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("not a loopback address"),
        "{}",
        run.stderr
    );

    let console = ConsoleServer::start(&file, &["--token", "s3cret"]);
    let with = |token: Option<&str>| {
        let mut request = console.request("GET", "/api/releases");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        console.send(&request)
    };
    let none = with(None);
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate").as_deref(), Some("Bearer"));
    assert_eq!(with(Some("s3cre")).status, 401);
    assert_eq!(with(Some("s3cret")).status, 200);
    // The page itself loads, to ask for the token.
    assert_eq!(console.get("/").status, 200);
    let write = leaves_alone(&file, "a write without the token", || {
        console.write(
            "PUT",
            "/api/releases/pay/weight",
            Some("\"x\""),
            r#"{"weight": 35}"#,
        )
    });
    assert_eq!(write.status, 401);

    // The token from a file (its first line) works the same.
    let token_file = dir.path().join("token");
    fs::write(&token_file, "from-a-file\n").unwrap();
    let console = ConsoleServer::start(&file, &["--token-file", token_file.to_str().unwrap()]);
    let request = console
        .request("GET", "/api/history")
        .header("authorization", "Bearer from-a-file");
    assert_eq!(console.send(&request).status, 200);
    assert_eq!(console.get("/api/history").status, 401);
}
