//! Envoy's own RE2 as an oracle for the filter's `regex` operator: one Envoy
//! whose route config has, per pattern, a virtual host `p<N>.test` with a
//! route that matches header `x-v` with `safe_regex` (body `Y`, else `N`),
//! and whose canary filter has, per pattern, a release on the same host
//! whose only condition is `x-v regex <pattern>`. The route echoes the
//! filter's verdict (the routing header it wrote) in `x-filter`, so one
//! request yields both answers. A custom bootstrap, not envoy-test's: the
//! demo one routes on the filter's header, not on Envoy's regex.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{Client, Request};
use super::render::wasm_filter;
use super::{canary_wasm, envoy_binary, plugin_config, TempDir};

const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);
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

/// The running Envoy; dropping it kills Envoy.
pub struct RegexRoutes {
    child: Child,
    front: SocketAddr,
    client: Client,
    filtered: Vec<bool>,
    log: std::path::PathBuf,
    /// Last, so the folder goes after the process.
    _dir: TempDir,
}

impl RegexRoutes {
    /// Starts Envoy with a route per pattern and a release per pattern that
    /// is `Some` (a pattern the filter refuses is routed by Envoy only).
    pub fn start(routed: &[&str], filtered: &[Option<&str>]) -> RegexRoutes {
        assert_eq!(routed.len(), filtered.len());
        let dir = TempDir::new("regex-routes");
        let path = dir.path().join("envoy.json");
        let admin_path = dir.path().join("admin-address");
        let log = dir.path().join("envoy.log");
        let wasm: Value =
            serde_json::from_str(&wasm_filter(&canary_wasm(), Some(&releases(filtered))))
                .expect("the wasm filter config is JSON");
        let filter = json!({"name": "canary-filter", "typed_config": wasm});
        write(
            &path,
            &bootstrap(route_config(routed), vec![filter]).to_string(),
        );
        let log_file = fs::File::create(&log).expect("create the Envoy log");
        let child = Command::new(envoy_binary())
            .args([
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "-l",
                "warning",
                "-c",
            ])
            .arg(&path)
            .arg("--admin-address-path")
            .arg(&admin_path)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Envoy: {e}"));
        let mut routes = RegexRoutes {
            child,
            front: SocketAddr::from(([127, 0, 0, 1], 0)),
            client: Client::new(SocketAddr::from(([127, 0, 0, 1], 0))),
            filtered: filtered.iter().map(Option::is_some).collect(),
            log,
            _dir: dir,
        };
        routes.front = routes.wait_ready(&admin_path);
        routes.client = Client::new(routes.front);
        routes
    }

    fn wait_ready(&mut self, admin_path: &Path) -> SocketAddr {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Envoy exited during start-up ({status}):\n{}", self.log());
            }
            let admin: Option<SocketAddr> = fs::read_to_string(admin_path)
                .ok()
                .and_then(|text| text.trim().parse().ok());
            if let Some(admin) = admin {
                let mut client = Client::new(admin);
                let ready = client
                    .try_send(&Request::get("/ready").host("admin"))
                    .is_ok_and(|r| r.status == 200 && r.body_text().trim() == "LIVE");
                if ready {
                    let listeners = client
                        .send(&Request::get("/listeners?format=json").host("admin"))
                        .body_text();
                    let json: Value = serde_json::from_str(&listeners).expect("listeners JSON");
                    let socket = &json["listener_statuses"][0]["local_address"]["socket_address"];
                    let port = socket["port_value"].as_u64().expect("the front port");
                    return SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).unwrap()));
                }
            }
            sleep(POLL);
        }
        panic!(
            "Envoy was not ready within {START_TIMEOUT:?}:\n{}",
            self.log()
        );
    }

    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
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

impl Drop for RegexRoutes {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- Envoy log tail ----");
            for line in tail.iter().rev() {
                eprintln!("{}", line.get(..300).unwrap_or(line));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
