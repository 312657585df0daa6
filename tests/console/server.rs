//! A `canaryctl console` process on a free loopback port, and requests to it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::release::Canaryctl;
use canaryctl::auto::settings::Settings;
use canaryctl::auto::state::{Measured, Phase, State};

use crate::support::{Client, Envoy, Request, Response};

pub struct ConsoleServer {
    child: Child,
    pub addr: SocketAddr,
}

impl ConsoleServer {
    /// Starts `canaryctl console FILE --listen 127.0.0.1:0 ARGS...` and
    /// reads the URL it prints.
    pub fn start(file: &Path, args: &[&str]) -> Self {
        let ctl = Canaryctl::find();
        let mut child = Command::new(ctl.path())
            .arg("console")
            .arg(file)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start canaryctl console");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("reading the console's first line");
        let addr = line
            .strip_prefix("console: http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the console printed {line:?}, not its URL"));
        ConsoleServer { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A request with this console's Host.
    pub fn request(&self, method: &str, path: &str) -> Request {
        Request::new(method, path)
            .host(self.addr.to_string())
            .header("connection", "close")
    }

    pub fn send(&self, request: &Request) -> Response {
        Client::new(self.addr).send(request)
    }

    pub fn get(&self, path: &str) -> Response {
        self.send(&self.request("GET", path))
    }

    /// The file's ETag, as the page reads it.
    pub fn etag(&self, release: &str) -> String {
        let response = self.get(&format!("/api/releases/{release}"));
        assert_eq!(response.status, 200, "{response:?}");
        response.header("etag").expect("an ETag")
    }

    /// A JSON write with `If-Match: etag` (when given), as the page sends it.
    pub fn write(&self, method: &str, path: &str, etag: Option<&str>, body: &str) -> Response {
        let mut request = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body);
        if let Some(tag) = etag {
            request = request.header("if-match", tag);
        }
        self.send(&request)
    }
}

pub fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which versions `requests` requests for pay-service (with `header`, if
/// any) reached, sorted, each once.
pub fn versions_reached(
    envoy: &Envoy,
    header: Option<(&str, &str)>,
    requests: usize,
) -> Vec<String> {
    let mut client = envoy.client();
    let mut seen: Vec<String> = (0..requests)
        .map(|_| {
            let mut request = Request::get("/checkout").host("pay-service");
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            client.send(&request).version()
        })
        .collect();
    seen.sort();
    seen.dedup();
    seen
}

/// A `canaryctl auto` run of release `pay` of `file`, as its state file
/// holds it: at step 1 (25%) of `settings.steps`, applied, one failure,
/// its last interval judged a fail (140 requests, 2.5% errors, p99 80 ms).
pub fn run_at_second_step(file: &Path, release: Value, settings: Settings) -> State {
    State {
        file: file.display().to_string(),
        release: "pay".into(),
        settings,
        started_unix_ms: 1,
        deadline_unix_ms: u64::MAX,
        phase: Phase::Step {
            index: 1,
            applied: true,
        },
        failures: 1,
        expected_release: release,
        pending_release: None,
        canary: None,
        last_measurement: Some(Measured {
            step: 1,
            weight: 25.0,
            requests: 140,
            error_rate: Some(2.5),
            p99_ms: Some(80.0),
            verdict: "fail".into(),
        }),
    }
}
