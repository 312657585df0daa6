//! An Envoy configured like the caller's Istio sidecar for the kit
//! (envoy-test/istio/sidecar-outbound.yaml.tmpl), changed per test: the
//! kit's header strip or the canary filter left out, or the filter as the
//! EnvoyFilter alternative adds it.
//!
//! The shared harness (tests/support) starts Envoy with the demo bootstrap
//! only; this reuses its HTTP client, temporary folders and binary lookup,
//! and starts its own Envoy the same careful way: a watchdog shell stops
//! Envoy when the test process ends, and start-up is bounded.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{canary_wasm, envoy_binary, repo_root, Client, Request, Response, TempDir};

const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

/// Envoy runs under a shell holding our pipe: when the test process ends,
/// the pipe closes and the shell stops Envoy.
const WATCHDOG: &str = r#"
exec 3<&0
"$0" "$@" </dev/null &
envoy=$!
( read -r _ <&3; kill -TERM "$envoy" 2>/dev/null ) &
exec 3<&-
wait "$envoy"
"#;

/// Where the kit's strip sits in the connection manager.
#[allow(dead_code)] // tests/tenancy.rs keeps the strip
pub const STRIP: &str = "early_header_mutation_extensions";
pub const WASM_FILTER: &str = "default.pay-canary";
pub const OUTBOUND_LISTENER: &str = "0.0.0.0_80";

/// The bootstrap of the template, with `plugin_config` for the filter.
pub fn bootstrap(plugin_config: &str, v1_port: u16, v2_port: u16) -> Value {
    let path = repo_root().join("envoy-test/istio/sidecar-outbound.yaml.tmpl");
    let text = std::fs::read_to_string(&path).unwrap();
    let known = [
        "@OUTBOUND_PORT@",
        "@V1_PORT@",
        "@V2_PORT@",
        "@CANARY_WASM@",
        "@PLUGIN_CONFIG@",
    ];
    for (at, _) in text.match_indices('@') {
        let token: String = text[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if !token.is_empty() && text[at + 1 + token.len()..].starts_with('@') {
            assert!(
                known.contains(&format!("@{token}@").as_str()),
                "@{token}@ in {path:?} is not filled"
            );
        }
    }
    let json = |s: &str| Value::String(s.to_string()).to_string();
    let text = text
        .replace("@OUTBOUND_PORT@", "0")
        .replace("@V1_PORT@", &v1_port.to_string())
        .replace("@V2_PORT@", &v2_port.to_string())
        .replace("@CANARY_WASM@", &json(&canary_wasm().to_string_lossy()))
        .replace("@PLUGIN_CONFIG@", &json(plugin_config));
    serde_norway::from_str(&text).unwrap()
}

/// The outbound listener's connection manager config in `bootstrap`.
pub fn connection_manager(bootstrap: &mut Value) -> &mut Value {
    let listeners = bootstrap["static_resources"]["listeners"]
        .as_array_mut()
        .unwrap();
    let outbound = listeners
        .iter_mut()
        .find(|l| l["name"] == OUTBOUND_LISTENER)
        .unwrap();
    &mut outbound["filter_chains"][0]["filters"][0]["typed_config"]
}

/// Its HTTP filters.
pub fn http_filters(manager: &mut Value) -> &mut Vec<Value> {
    manager["http_filters"].as_array_mut().unwrap()
}

pub struct Sidecar {
    child: Child,
    lifeline: Option<ChildStdin>,
    pub admin: SocketAddr,
    pub outbound: SocketAddr,
    dir: TempDir,
}

impl Sidecar {
    /// Starts Envoy with the template's connection manager changed by `edit`.
    pub fn start(plugin_config: &str, edit: impl Fn(&mut Value)) -> Sidecar {
        // The upstream ports are picked free, then bound by Envoy a moment
        // later; another process may take one meanwhile, so retry.
        for _attempt in 0..3 {
            let (v1, v2) = (free_port(), free_port());
            let mut config = bootstrap(plugin_config, v1, v2);
            edit(connection_manager(&mut config));
            let mut sidecar = Self::spawn(&config);
            match sidecar.wait_ready() {
                Ok(()) => return sidecar,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("Envoy did not start:\n{log}"),
            }
        }
        panic!("Envoy could not bind its ports in 3 attempts");
    }

    fn spawn(config: &Value) -> Sidecar {
        let dir = TempDir::new("istio-sidecar");
        let config_path = dir.path().join("envoy.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = File::create(dir.path().join("envoy.log")).unwrap();
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(envoy_binary())
            .args([
                "-c",
                &config_path.to_string_lossy(),
                "--disable-hot-restart",
            ])
            .args([
                "--concurrency",
                "1",
                "-l",
                "warning",
                "--component-log-level",
                "wasm:info",
            ])
            .arg("--admin-address-path")
            .arg(dir.path().join("admin-address"))
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let lifeline = child.stdin.take();
        Sidecar {
            child,
            lifeline,
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            outbound: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
        }
    }

    /// Waits for Envoy's /ready; Err(log) if it exits or takes too long.
    fn wait_ready(&mut self) -> Result<(), String> {
        let admin_path = self.dir.path().join("admin-address");
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}):\n{}", self.log()));
            }
            if self.admin.port() == 0 {
                let text = std::fs::read_to_string(&admin_path).unwrap_or_default();
                if let Ok(addr) = text.trim().parse() {
                    self.admin = addr;
                }
            } else if self
                .admin_get("/ready")
                .is_some_and(|body| body.trim() == "LIVE")
            {
                self.outbound = self.listener(OUTBOUND_LISTENER);
                return Ok(());
            }
            sleep(POLL);
        }
        Err(format!(
            "not ready within {START_TIMEOUT:?}:\n{}",
            self.log()
        ))
    }

    fn admin_get(&self, path: &str) -> Option<String> {
        let request = Request::get(path)
            .host("admin")
            .header("connection", "close");
        let response = Client::new(self.admin).try_send(&request).ok()?;
        (response.status == 200).then(|| response.body_text())
    }

    fn listener(&self, name: &str) -> SocketAddr {
        let body = self.admin_get("/listeners?format=json").unwrap();
        let json: Value = serde_json::from_str(&body).unwrap();
        let statuses = json["listener_statuses"].as_array().unwrap();
        let listener = statuses.iter().find(|l| l["name"] == name).unwrap();
        let socket = &listener["local_address"]["socket_address"];
        let port = u16::try_from(socket["port_value"].as_u64().unwrap()).unwrap();
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A request to pay-service through the sidecar's outbound listener.
    pub fn send(&self, request: &Request) -> Response {
        Client::new(self.outbound).send(request)
    }

    /// A counter from Envoy's stats (0 when absent).
    pub fn counter(&self, name: &str) -> u64 {
        let body = self
            .admin_get(&format!("/stats?filter=^{}$", name.replace('.', "\\.")))
            .unwrap();
        body.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .map_or(0, |v| v.trim().parse().unwrap())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("envoy.log")).unwrap_or_default()
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "---- Envoy log tail ----\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        self.lifeline = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            sleep(POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
