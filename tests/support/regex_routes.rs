//! Envoy's own RE2 as an oracle for the filter's `regex` operator: one Envoy
//! whose route config has, per pattern, a virtual host `p<N>.test` with a
//! route that matches header `x-v` with `safe_regex` (body `Y`, else `N`),
//! and whose canary filter has, per pattern, a release on the same host
//! whose only condition is `x-v regex <pattern>`. The route echoes the
//! filter's verdict (the routing header it wrote) in `x-filter`, so one
//! request yields both answers. A custom bootstrap, not envoy-test's: the
//! demo one routes on the filter's header, not on Envoy's regex.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use super::envoy::Envoy;
use super::http::{Client, Request};
use super::render::wasm_filter;
use super::{canary_wasm, envoy_binary, plugin_config, TempDir};

/// The header both matchers read.
pub const PROBED_HEADER: &str = "x-v";
/// RE2's program-size limit for the test's Envoy. Envoy's default (100)
/// refuses `a{100}`, and deployments raise it; set high so that size
/// limits do not hide the comparison of syntax and matching.
const RE2_MAX_PROGRAM_SIZE: u32 = 100_000;

/// The virtual host (and release host) of pattern `index`.
pub fn probe_host(index: usize) -> String {
    format!("p{index}.test")
}

/// A route config with one virtual host per pattern (see the module doc).
fn route_config(patterns: &[&str]) -> Value {
    let direct = |body: &str| json!({"status": 200, "body": {"inline_string": body}});
    let hosts: Vec<Value> = patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            json!({
                "name": format!("p{index}"),
                "domains": [probe_host(index)],
                "routes": [
                    {"match": {"prefix": "/", "headers": [{"name": PROBED_HEADER,
                        "string_match": {"safe_regex": {"regex": pattern}}}]},
                     "direct_response": direct("Y")},
                    {"match": {"prefix": "/"}, "direct_response": direct("N")}
                ],
                "response_headers_to_add": [{"header":
                    {"key": "x-filter", "value": "%REQ(x-canary-cluster)%"}}]
            })
        })
        .collect();
    json!({"name": "probe", "virtual_hosts": hosts})
}

/// The canary releases: pattern `index` (when `Some`) on host `p<index>.test`.
fn releases(patterns: &[Option<&str>]) -> String {
    plugin_config(patterns.iter().enumerate().filter_map(|(index, pattern)| {
        let pattern = (*pattern)?;
        Some(json!({
            "name": format!("p{index}"),
            "hosts": [probe_host(index)],
            "header": "x-canary-cluster",
            "baseline": "N",
            "canary": "Y",
            "weight": 0,
            "conditions": [{"header": PROBED_HEADER, "op": "regex", "value": pattern}]
        }))
    }))
}

fn bootstrap(routes: Value, http_filters: Vec<Value>) -> Value {
    let loopback =
        |port: u16| json!({"socket_address": {"address": "127.0.0.1", "port_value": port}});
    let mut filters = http_filters;
    filters.push(json!({"name": "envoy.filters.http.router", "typed_config":
        {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}));
    json!({
        "admin": {"address": loopback(0)},
        "layered_runtime": {"layers": [{"name": "re2", "static_layer":
            {"re2.max_program_size.error_level": RE2_MAX_PROGRAM_SIZE}}]},
        "static_resources": {"listeners": [{
            "name": "front",
            "address": loopback(0),
            "filter_chains": [{"filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": "front",
                    "route_config": routes,
                    "http_filters": filters
                }
            }]}]
        }]}
    })
}

/// Whether Envoy accepts `pattern` as a `safe_regex` (`envoy --mode
/// validate` on a route config holding it alone).
pub fn envoy_accepts(pattern: &str) -> bool {
    let dir = TempDir::new("regex-validate");
    let path = dir.path().join("envoy.json");
    write(
        &path,
        &bootstrap(route_config(&[pattern]), Vec::new()).to_string(),
    );
    let output = Command::new(envoy_binary())
        .args(["--mode", "validate", "-l", "critical", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run Envoy to validate {pattern:?}: {e}"));
    output.status.success()
}

/// Envoy and the filter's answers for one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdicts {
    pub envoy: bool,
    pub filter: bool,
}

/// The running Envoy (the harness's [`Envoy`], so its watchdog, readiness
/// wait and log-on-failure apply); dropping it stops Envoy.
pub struct RegexRoutes {
    envoy: Envoy,
    client: Client,
    filtered: Vec<bool>,
}

impl RegexRoutes {
    /// Starts Envoy with a route per pattern and a release per pattern that
    /// is `Some` (a pattern the filter refuses is routed by Envoy only).
    pub fn start(routed: &[&str], filtered: &[Option<&str>]) -> RegexRoutes {
        assert_eq!(routed.len(), filtered.len());
        let plugin_config = releases(filtered);
        let wasm: Value = serde_json::from_str(&wasm_filter(&canary_wasm(), Some(&plugin_config)))
            .expect("the wasm filter config is JSON");
        let filter = json!({"name": "canary-filter", "typed_config": wasm});
        let envoy = Envoy::builder(&plugin_config)
            .bootstrap(bootstrap(route_config(routed), vec![filter]).to_string())
            .start();
        let client = envoy.client();
        RegexRoutes {
            envoy,
            client,
            filtered: filtered.iter().map(Option::is_some).collect(),
        }
    }

    /// Both verdicts on `value` for pattern `index` (the filter's is
    /// `false` for a pattern it was not given).
    pub fn ask(&mut self, index: usize, value: &str) -> Verdicts {
        let request = Request::get("/")
            .host(probe_host(index))
            .header(PROBED_HEADER, value);
        let response = self.client.send(&request);
        assert_eq!(response.status, 200, "{response:?}");
        let envoy = match response.body_text().as_str() {
            "Y" => true,
            "N" => false,
            other => panic!("pattern {index}: unexpected body {other:?}"),
        };
        let filter = match (self.filtered.get(index), response.header("x-filter")) {
            (Some(true), Some(v)) if v == "Y" => true,
            (Some(true), Some(v)) if v == "N" => false,
            (Some(false), _) => false,
            (_, other) => panic!("pattern {index}: the filter wrote {other:?}"),
        };
        Verdicts { envoy, filter }
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
