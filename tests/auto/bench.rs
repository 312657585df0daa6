//! The test bench of `canaryctl auto`: one Envoy whose canary filter comes
//! from an ECDS file (edited by the real canaryctl), with Envoy's fault
//! filter in front of the pay-v2 upstream (503s and delays on a share of
//! its requests), a bounded load client, and canaryctl's `--json` events.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::{json, Value};

use crate::support::release::{Canaryctl, Load, Tally};
use crate::support::render::{self, Mode, Ports};
use crate::support::{canary_wasm, pay_release, plugin_config, Envoy, Request, TempDir};

/// What the fault filter does to pay-v2's requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Percent answered 503.
    pub abort_percent: u32,
    pub delay_ms: u32,
    /// Percent delayed by `delay_ms`.
    pub delay_percent: u32,
}

impl Faults {
    fn filter(self) -> String {
        let mut fault = json!({
            "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
        });
        if self.abort_percent > 0 {
            fault["abort"] = json!({"http_status": 503,
                "percentage": {"numerator": self.abort_percent, "denominator": "HUNDRED"}});
        }
        if self.delay_ms > 0 {
            fault["delay"] = json!({"fixed_delay": format!("{}s", f64::from(self.delay_ms) / 1000.0),
                "percentage": {"numerator": self.delay_percent, "denominator": "HUNDRED"}});
        }
        format!("          - name: envoy.filters.http.fault\n            typed_config: {fault}\n")
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The envoy-test bootstrap in ECDS mode, with `faults` on pay-v2's
/// listener and histograms merged every second (so an interval of 1-2 s
/// sees its latencies).
pub fn bootstrap(ecds_file: &Path, faults: Faults) -> String {
    let ports = Ports {
        admin: 0,
        front: 0,
        pay_v1: free_port(),
        pay_v2: free_port(),
        pay_v3: free_port(),
    };
    let text = render::bootstrap(ports, Mode::Ecds, &canary_wasm(), None, ecds_file, false);
    let listener = text
        .find("stat_prefix: pay-v2")
        .expect("the pay-v2 listener");
    let filters = listener
        + text[listener..]
            .find("http_filters:\n")
            .expect("pay-v2's filters")
        + "http_filters:\n".len();
    format!(
        "stats_flush_interval: 1s\n{}{}{}",
        &text[..filters],
        faults.filter(),
        &text[filters..]
    )
}

/// Envoy, its ECDS file (release `pay`, weight 0) and a folder for the rest.
pub struct Bench {
    pub envoy: Envoy,
    pub ecds_file: PathBuf,
    /// Holds the ECDS file; removed on drop (kept if the test failed).
    _dir: TempDir,
}

impl Bench {
    pub fn start(faults: Faults) -> Bench {
        let dir = TempDir::new("auto");
        let ecds_file = dir.path().join("ecds").join("canary-filter.json");
        std::fs::create_dir_all(ecds_file.parent().unwrap()).unwrap();
        let plugin = plugin_config([pay_release()]);
        std::fs::write(
            &ecds_file,
            render::ecds_resource(&canary_wasm(), Some(&plugin), "auto-0"),
        )
        .unwrap();
        let envoy = Envoy::builder(&plugin)
            .bootstrap(bootstrap(&ecds_file, faults))
            .start();
        Bench {
            envoy,
            ecds_file,
            _dir: dir,
        }
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.envoy.admin)
    }

    pub fn file(&self) -> &str {
        self.ecds_file.to_str().unwrap()
    }

    /// The release's weight in the file now.
    pub fn weight(&self) -> Value {
        let document = canaryctl::Document::load(&self.ecds_file, None).unwrap();
        document.plugin_value().unwrap()["releases"][0]["weight"].clone()
    }

    /// `threads` clients sending to `host` until the returned guard drops.
    pub fn load(&self, host: &str, threads: usize) -> Loading {
        let load = Arc::new(Load::default());
        let request = Request::get("/").host(host);
        let handles = (0..threads)
            .map(|_| {
                let (load, front, request) = (load.clone(), self.envoy.front, request.clone());
                std::thread::spawn(move || load.run(front, &[request]))
            })
            .collect();
        Loading { load, handles }
    }
}

/// Running load; [`Loading::finish`] stops it and sums what it got.
pub struct Loading {
    load: Arc<Load>,
    handles: Vec<JoinHandle<std::collections::BTreeMap<usize, Tally>>>,
}

impl Loading {
    pub fn finish(mut self) -> Tally {
        self.load.stop();
        let mut total = Tally::default();
        for handle in self.handles.drain(..) {
            for tally in handle.join().expect("the load thread").values() {
                total.add(tally);
            }
        }
        total
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        self.load.stop();
    }
}

/// A finished `canaryctl auto --json`: its exit status, events, stderr.
#[derive(Debug)]
pub struct AutoRun {
    pub code: i32,
    pub events: Vec<Value>,
    pub stderr: String,
}

impl AutoRun {
    pub fn of(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }

    /// Every `verdict` event's verdict, in order.
    pub fn verdicts(&self) -> Vec<(u64, String)> {
        self.of("verdict")
            .iter()
            .map(|e| {
                (
                    e["step"].as_u64().unwrap(),
                    e["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The step indexes whose weight was set, in order.
    pub fn steps_set(&self) -> Vec<u64> {
        self.of("weight_set")
            .iter()
            .map(|e| e["step"].as_u64().unwrap())
            .collect()
    }

    /// Milliseconds from setting the weight of the first step that failed to
    /// the rollback event.
    pub fn first_bad_step_to_rollback_ms(&self) -> u64 {
        let (bad_step, _) = self
            .verdicts()
            .into_iter()
            .find(|(_, v)| v == "fail")
            .expect("a failed step");
        let set = self
            .of("weight_set")
            .into_iter()
            .rev()
            .find(|e| e["step"].as_u64() == Some(bad_step))
            .expect("the bad step's weight was set")["at_unix_ms"]
            .as_u64()
            .unwrap();
        let rolled = self.of("rolled_back")[0]["at_unix_ms"].as_u64().unwrap();
        rolled - set
    }

    pub fn print(&self, what: &str) {
        eprintln!("---- canaryctl auto ({what}): exit {} ----", self.code);
        for event in &self.events {
            eprintln!("{event}");
        }
        eprintln!("{}", self.stderr);
    }
}

/// `canaryctl auto FILE pay --json ARGS...` as a child process.
pub fn spawn_auto(file: &str, args: &[&str]) -> Child {
    let ctl = Canaryctl::find();
    Command::new(ctl.path())
        .args(["auto", file, "pay", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start canaryctl auto")
}

/// Reads `child`'s events until `stop` says so (then kills it with
/// SIGKILL) or it exits.
pub fn follow(mut child: Child, stop: impl Fn(&Value) -> bool) -> AutoRun {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut events = Vec::new();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("canaryctl's stdout");
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON event: {line}: {e}"));
        let done = stop(&event);
        events.push(event);
        if done {
            child.kill().expect("SIGKILL canaryctl");
            killed = true;
            break;
        }
    }
    let output = child.wait_with_output().expect("wait for canaryctl");
    AutoRun {
        code: if killed {
            -9
        } else {
            output.status.code().unwrap_or(-1)
        },
        events,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `canaryctl auto` to its end.
pub fn run_auto(file: &str, args: &[&str]) -> AutoRun {
    follow(spawn_auto(file, args), |_| false)
}

/// Short intervals for tests: 1.5 s, steps 20,50,100.
pub const FAST: &[&str] = &[
    "--steps",
    "20,50,100",
    "--interval",
    "1.5s",
    "--min-requests",
    "30",
    "--failure-limit",
    "2",
    "--deadline",
    "40s",
];
