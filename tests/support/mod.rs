//! The end-to-end harness shared by every test file in `tests/`: a real
//! Envoy 1.40 running the shipped `target/canary-filter.wasm` in front of two
//! demo upstreams (`pay-v1`, `pay-v2`), as `envoy-test/` sets it up for
//! `make run`, plus a raw HTTP/1.1 client and readers for Envoy's stats.
//!
//! Use it from a test file with `mod support;`:
//!
//! ```ignore
//! mod support;
//! use support::{plugin_config, pay_release, Envoy, Request};
//!
//! let envoy = Envoy::start(&plugin_config([pay_release()]));
//! let mut client = envoy.client();
//! let response = client.send(&Request::get("/").host("pay-service").header("env", "test"));
//! assert_eq!(response.version(), "pay-v2");
//! ```
//!
//! The demo upstreams answer their name (`pay-v1\n`) and echo the routing
//! header they received in `x-echo-canary-cluster` ([`Response::upstream_routing_header`]).
//! The front routes on `x-canary-cluster` when present, else to `pay-v1`.
//!
//! Envoy is found through `ENVOY` and the filter through `CANARY_WASM`
//! (default `<repo>/target/canary-filter.wasm`); `make test` sets both. A
//! missing one fails the test, naming the command that provides it.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin;
pub mod chain;
mod chain_bootstrap;
mod envoy;
mod http;
pub mod regex_routes;
pub mod release;
pub mod render;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

// Each test file uses some of these; the rest would warn.
#[allow(unused_imports)]
pub use admin::{ecds_stat, prometheus_value, EcdsOutcome};
#[allow(unused_imports)]
pub use envoy::{Envoy, EnvoyBuilder, Exited, FILTER_NAME};
#[allow(unused_imports)]
pub use http::{Client, Request, Response, ECHOED_HEADERS, ECHO_HEADER};
#[allow(unused_imports)]
pub use render::Mode;

/// A `/stats` name of the filter's counters, as the core defines it
/// (canary_core::CounterName): the filter, canaryctl and these tests share it.
pub fn stat(counter: canary_core::CounterName<'_>) -> String {
    counter.stats_name()
}

/// The `/stats` name of a release's routed-requests counter.
pub fn routed_stat(
    release: &str,
    version: canary_core::Version,
    reason: canary_core::Reason,
) -> String {
    stat(canary_core::CounterName::routed(release, version, reason))
}

/// The repository root (the folder above this crate's `tests/`).
pub fn repo_root() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().unwrap_or(tests).to_path_buf()
}

/// The Envoy binary from `ENVOY`; panics with how to get one if unset.
pub fn envoy_binary() -> PathBuf {
    let Some(path) = std::env::var_os("ENVOY").filter(|p| !p.is_empty()) else {
        panic!(
            "ENVOY is not set. The end-to-end tests need Envoy 1.40: run them with `make test`, \
             or `ENVOY=$(envoy-test/install-envoy.sh) CANARY_WASM=$PWD/target/canary-filter.wasm cargo test -p canary-e2e --test e2e <module>::` (or `make e2e T=<module>::`)"
        );
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "ENVOY={} is not a file; `envoy-test/install-envoy.sh` prints a working one (make test uses it)",
        path.display()
    );
    path
}

/// The filter module from `CANARY_WASM`, else `<repo>/target/canary-filter.wasm`;
/// panics with how to build it if missing.
pub fn canary_wasm() -> PathBuf {
    let path = std::env::var_os("CANARY_WASM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("canary-filter.wasm"));
    assert!(
        path.is_file(),
        "the filter module {} does not exist: run `make build` (or `make test`, which builds it first)",
        path.display()
    );
    path
}

/// The demo service's release: hosts `pay-service` and `localhost`, routing
/// header `x-canary-cluster`, baseline `pay-v1`, canary `pay-v2`, weight 0,
/// no rule, not sticky. Tests add what they exercise:
/// `let mut r = pay_release(); r["weight"] = json!(20);`.
pub fn pay_release() -> Value {
    json!({
        "name": "pay",
        "hosts": ["pay-service", "localhost"],
        "header": "x-canary-cluster",
        "baseline": "pay-v1",
        "canary": "pay-v2",
        "weight": 0
    })
}

/// A release named `name` on host `<name>.test` at `weight`, with a rule
/// (`env: test`) and a sticky key (`x-user-id`) that plain requests lack, so
/// those fall to the weight. Several of them share one Envoy without sharing
/// counters.
#[allow(dead_code)] // not every test file weighs releases
pub fn weighted_release(name: &str, weight: f64) -> Value {
    let mut release = pay_release();
    release["name"] = json!(name);
    release["hosts"] = json!([format!("{name}.test")]);
    release["weight"] = json!(weight);
    release["conditions"] = json!([{"header": "env", "op": "equals", "value": "test"}]);
    release["sticky"] = json!({"header": "x-user-id"});
    release
}

/// A plugin config JSON document holding `releases`.
pub fn plugin_config(releases: impl IntoIterator<Item = Value>) -> String {
    json!({ "releases": releases.into_iter().collect::<Vec<_>>() }).to_string()
}

/// The two-sided range of a binomial count (n trials, success chance p)
/// within `sigmas` standard deviations of its mean, clamped to 0..=n.
pub fn binomial_bounds(n: u64, p: f64, sigmas: f64) -> std::ops::RangeInclusive<u64> {
    let n_f = n as f64;
    let mean = n_f * p;
    let spread = sigmas * (n_f * p * (1.0 - p)).sqrt();
    let low = (mean - spread).floor().max(0.0) as u64;
    let high = ((mean + spread).ceil() as u64).min(n);
    low..=high
}

/// A folder under `<tmp>/canary-e2e/` (made by `tempfile`), removed on
/// drop unless the test failed. Its name starts with the test process's id:
/// a shared `static` Envoy is never dropped, so folders of processes that
/// are gone are swept when the next one is made.
pub struct TempDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> Self {
        let parent = std::env::temp_dir().join("canary-e2e");
        sweep_dead_processes_dirs(&parent);
        std::fs::create_dir_all(&parent)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-{label}-", std::process::id()))
            .tempdir_in(&parent)
            .unwrap_or_else(|e| panic!("cannot create a folder in {}: {e}", parent.display()));
        let path = dir.path().to_path_buf();
        Self {
            dir: Some(dir),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Kept when the test failed, for a look at the config and the log.
        if std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
        }
    }
}

fn sweep_dead_processes_dirs(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('-').next() else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
