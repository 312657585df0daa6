//! The lanes chain: gateway → order → pay → stock → ledger, each service a
//! small HTTP app (support/chain_app.py, one Python process for all) behind
//! its own sidecar Envoy, as a mesh runs them:
//!
//! ```text
//!  client ─▶ gateway ─▶ order v1|v2 ─▶ pay v1|v2 ─▶ stock v1 ─▶ ledger v1|v2
//!            (edge)      each pod: inbound listener ─▶ app ─▶ outbound listener
//! ```
//!
//! Every pod has its own Envoy (`--concurrency 2`), so its own shared data:
//! a lane remembered by one sidecar is not seen by another. A sidecar has an
//! INBOUND listener (to its app) and an OUTBOUND one (the app's calls to the
//! next service), both with the canary filter and the same plugin config, as
//! one `WasmPlugin` with `match.mode: CLIENT_AND_SERVER` gives them. The
//! outbound routes (and the gateway's) send `x-canary-version: v2` to the
//! next service's v2 pod, anything else to v1, after an early header strip
//! of the routing header (the gateway also strips the lane header).
//!
//! Apps forward only `traceparent` (a new span id, same trace id) in
//! [`Forward::TraceContext`], only the lane header in [`Forward::LaneHeader`],
//! and answer the path they took: one [`Hop`] per service.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::{json, Value};

use super::chain_bootstrap::{gateway_bootstrap, sidecar_bootstrap, Pod};
// Not every user of the harness names all three.
#[allow(unused_imports)]
pub use super::chain_bootstrap::{LANE_HEADER, SERVICES, VERSION_HEADER};
use super::envoy::{free_port, Envoy};
use super::http::{Request, Response};
use super::render::{self, OWN_ECDS_SOURCE};
use super::{canary_wasm, repo_root};

/// Sidecar worker threads (the issue's `--concurrency 2`).
const SIDECAR_WORKERS: u32 = 2;

/// What the apps forward on their calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Loose mode: only `traceparent`.
    TraceContext,
    /// Strict mode: only the lane header.
    LaneHeader,
}

impl Forward {
    fn headers(self) -> &'static [&'static str] {
        match self {
            Forward::TraceContext => &["traceparent"],
            Forward::LaneHeader => &[LANE_HEADER],
        }
    }
}

/// One service a request passed through, as its app saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub service: String,
    pub version: String,
    /// The lane header the app received, if any.
    pub lane: Option<String>,
}

/// How to start a chain.
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    forward: Forward,
    gateway_config: String,
    sidecar_config: String,
    ecds: bool,
    gateway_strip: bool,
}

impl ChainBuilder {
    /// Leaves out the gateway's early strip of the routing and lane headers,
    /// so a test sees what the filter itself does with a client's.
    pub fn without_gateway_strip(mut self) -> Self {
        self.gateway_strip = false;
        self
    }

    /// The sidecars load their plugin config through ECDS, so
    /// [`Chain::apply_sidecar_config`] can replace it while they run.
    pub fn ecds(mut self) -> Self {
        self.ecds = true;
        self
    }

    /// Starts the apps, then every Envoy at once; panics (with the failing
    /// Envoy's log) if one does not start.
    pub fn start(self) -> Chain {
        let pods: Vec<Pod> = SERVICES
            .iter()
            .enumerate()
            .flat_map(|(index, (service, versions))| {
                let next = SERVICES.get(index + 1).map(|(next, _)| *next);
                versions.iter().map(move |version| Pod {
                    service,
                    version,
                    next,
                    inbound: free_port(),
                    outbound: free_port(),
                })
            })
            .collect();
        let apps = Apps::start(&pods, self.forward);
        let filter = |config: &str, ecds: bool| -> Value {
            if ecds {
                // The quoted token is what the harness replaces.
                let token = OWN_ECDS_SOURCE.trim_matches('"');
                json!({"name": super::FILTER_NAME, "config_discovery": token})
            } else {
                static_filter(config)
            }
        };
        let gateway = Envoy::builder(&self.gateway_config).bootstrap(gateway_bootstrap(
            &pods,
            filter(&self.gateway_config, false),
            self.gateway_strip,
        ));
        let sidecars = pods.iter().map(|pod| {
            let app_port = apps.port(pod);
            let bootstrap = sidecar_bootstrap(
                pod,
                app_port,
                &pods,
                filter(&self.sidecar_config, self.ecds),
            );
            let builder = Envoy::builder(&self.sidecar_config)
                .bootstrap(bootstrap)
                .concurrency(SIDECAR_WORKERS);
            if self.ecds {
                builder.ecds()
            } else {
                builder
            }
        });
        let builders: Vec<_> = std::iter::once(gateway).chain(sidecars).collect();
        let mut envoys: Vec<Envoy> = std::thread::scope(|scope| {
            let starting: Vec<_> = builders
                .into_iter()
                .map(|builder| scope.spawn(move || builder.start()))
                .collect();
            starting
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e))
                })
                .collect()
        });
        let gateway = envoys.remove(0);
        let sidecars = pods.iter().map(Pod::name).zip(envoys).collect();
        Chain {
            gateway,
            sidecars,
            apps,
        }
    }
}

/// A running chain. Lives in a `static OnceLock` shared by a mode's tests;
/// the apps and Envoys stop when the test process ends.
pub struct Chain {
    /// The gateway, the chain's entry (its `front` listener).
    pub gateway: Envoy,
    /// Each pod's sidecar, by pod name (`pay-v2`).
    sidecars: Vec<(String, Envoy)>,
    apps: Apps,
}

impl Chain {
    /// A chain whose apps forward `forward`, with the gateway's and the
    /// sidecars' plugin configs.
    pub fn builder(forward: Forward, gateway_config: &str, sidecar_config: &str) -> ChainBuilder {
        ChainBuilder {
            forward,
            gateway_config: gateway_config.to_owned(),
            sidecar_config: sidecar_config.to_owned(),
            ecds: false,
            gateway_strip: true,
        }
    }

    /// The sidecar of pod `name` (`order-v2`); panics on an unknown pod.
    pub fn sidecar(&self, name: &str) -> &Envoy {
        self.sidecars
            .iter()
            .find(|(pod, _)| pod == name)
            .map(|(_, envoy)| envoy)
            .unwrap_or_else(|| panic!("the chain has no pod {name}"))
    }

    /// Every sidecar, by pod name.
    pub fn sidecars(&self) -> impl Iterator<Item = (&str, &Envoy)> {
        self.sidecars
            .iter()
            .map(|(pod, envoy)| (pod.as_str(), envoy))
    }

    /// A request into the chain: `GET /` to host `order` at the gateway.
    pub fn request() -> Request {
        Request::get("/").host("order")
    }

    /// Sends `request` through the gateway on a fresh connection.
    pub fn send(&self, request: &Request) -> Response {
        self.gateway.send(request)
    }

    /// Every log of the chain's Envoys, for a failing test.
    pub fn logs_tail(&self) -> String {
        let mut text = self.gateway.log_tail(20);
        for (pod, envoy) in &self.sidecars {
            text.push_str(&format!("\n[{pod}]\n{}", envoy.log_tail(20)));
        }
        text
    }

    /// Whether the apps' process still runs.
    pub fn apps_alive(&self) -> bool {
        self.apps.alive()
    }
}

/// The canary filter as an HTTP filter of a bootstrap, with `config` inline.
pub fn static_filter(config: &str) -> Value {
    let typed: Value = serde_json::from_str(&render::wasm_filter(&canary_wasm(), Some(config)))
        .expect("the harness's Wasm filter renders to JSON");
    json!({"name": super::FILTER_NAME, "typed_config": typed})
}

/// The `pluginConfig` of the lanes kit's WasmPlugin in `file`
/// (filter-config/istio/lanes/), read as Kubernetes reads it: the chain
/// runs the very configuration the kit ships.
pub fn kit_plugin_config(file: &str) -> Value {
    let path = repo_root().join("filter-config/istio/lanes").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let documents = canaryctl::document::k8s_yaml::parse(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    documents
        .into_iter()
        .find(|doc| doc["kind"] == "WasmPlugin")
        .map(|doc| doc["spec"]["pluginConfig"].clone())
        .unwrap_or_else(|| panic!("no WasmPlugin in {}", path.display()))
}

/// The kit's sidecar and gateway plugin configs for a chain whose apps
/// forward `forward`: strict mode drops `trace_headers`.
pub fn kit_configs(forward: Forward) -> (Value, Value) {
    let mut sidecar = kit_plugin_config("wasmplugin-sidecars.yaml");
    let mut gateway = kit_plugin_config("wasmplugin-gateway.yaml");
    if forward == Forward::LaneHeader {
        for config in [&mut sidecar, &mut gateway] {
            if let Some(lanes) = config["lanes"].as_object_mut() {
                lanes.remove("trace_headers");
            }
        }
    }
    (sidecar, gateway)
}

/// The path a response reports; panics (with its body) if it is not one.
pub fn hops(response: &Response) -> Vec<Hop> {
    let body = response.body_text();
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| {
        panic!(
            "the chain answered {} with no path ({e}): {body}",
            response.status
        )
    });
    json["path"]
        .as_array()
        .unwrap_or_else(|| panic!("no path in {body}"))
        .iter()
        .map(|hop| {
            let text = |key: &str| hop[key].as_str().map(str::to_owned);
            Hop {
                service: text("service").unwrap_or_else(|| panic!("a hop failed: {hop} in {body}")),
                version: text("version").unwrap_or_default(),
                lane: text("lane"),
            }
        })
        .collect()
}

/// The path as `order:v2 pay:v2 stock:v1 ledger:v2`.
pub fn route(response: &Response) -> String {
    hops(response)
        .iter()
        .map(|hop| format!("{}:{}", hop.service, hop.version))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A W3C `traceparent` of trace `n` (never zero), sampled.
pub fn traceparent(n: u64) -> String {
    format!(
        "00-{:016x}{:016x}-00f067aa0ba902b7-01",
        0x4bf9_2f35_77b3_4da6_u64,
        n | 1 << 63
    )
}

/// The apps' Python process; it exits when our end of its stdin closes.
struct Apps {
    child: std::sync::Mutex<Child>,
    _lifeline: ChildStdin,
    ports: Value,
}

impl Apps {
    fn start(pods: &[Pod], forward: Forward) -> Apps {
        let script = repo_root().join("tests/support/chain_app.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
        let spec: Vec<Value> = pods
            .iter()
            .map(|pod| {
                json!({"service": pod.service, "version": pod.version, "next": pod.next,
                       "sidecar": pod.outbound, "forward": forward.headers()})
            })
            .collect();
        let mut stdin = child.stdin.take().expect("the apps' stdin is piped");
        writeln!(stdin, "{}", Value::Array(spec)).expect("send the apps their spec");
        let stdout = child.stdout.take().expect("the apps' stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the apps' ports");
        let ports: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the apps did not start ({e}): {line:?}"));
        Apps {
            child: std::sync::Mutex::new(child),
            _lifeline: stdin,
            ports,
        }
    }

    fn port(&self, pod: &Pod) -> u16 {
        self.ports[pod.name()]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("no port for app {} in {}", pod.name(), self.ports))
    }

    fn alive(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        matches!(child.try_wait(), Ok(None))
    }
}

impl Drop for Apps {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}
