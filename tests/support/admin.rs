//! What a test reads from or hands to a running Envoy through its admin
//! interface and its ECDS file: stats, Prometheus metrics, new plugin configs.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::envoy::{write_renamed, Envoy, FILTER_NAME, POLL, TAIL_LINES};
use super::http::{Client, Request};
use super::render::{self, Mode};

/// Bound on waiting for Envoy to apply or reject an ECDS update.
const ECDS_TIMEOUT: Duration = Duration::from_secs(30);

/// What Envoy did with a new ECDS config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdsOutcome {
    /// In force for requests from now on.
    Applied,
    /// Refused (e.g. the filter's `on_configure` failed); the last good
    /// config stays in force.
    Rejected,
}

impl Envoy {
    /// GET `path_and_query` from the admin interface; panics unless 200.
    pub fn admin_get(&self, path_and_query: &str) -> String {
        let response = Client::new(self.admin).send(
            &Request::get(path_and_query)
                .host("admin")
                .header("connection", "close"),
        );
        assert_eq!(
            response.status,
            200,
            "admin GET {path_and_query}: {}",
            response.body_text()
        );
        response.body_text()
    }

    /// Every stat whose name matches the regex `filter` whose value is an
    /// integer (counters and gauges), by name.
    pub fn stats(&self, filter: &str) -> BTreeMap<String, u64> {
        let body = self.admin_get(&format!("/stats?filter={}", url_encode(filter)));
        body.lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(": ")?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect()
    }

    /// The value of counter (or gauge) `name`, exactly; panics if Envoy has
    /// no such stat.
    pub fn counter(&self, name: &str) -> u64 {
        let stats = self.stats(&format!("^{}$", regex_escape(name)));
        *stats
            .get(name)
            .unwrap_or_else(|| panic!("Envoy has no stat {name}"))
    }

    /// The filter's counters (`wasmcustom.canary.*`), by full name.
    pub fn canary_counters(&self) -> BTreeMap<String, u64> {
        self.stats(r"^wasmcustom\.canary\.")
    }

    /// `/stats/prometheus`, whole.
    pub fn prometheus(&self) -> String {
        self.admin_get("/stats/prometheus")
    }

    /// The value of Prometheus metric `name` (with no or empty labels).
    pub fn prometheus_value(&self, name: &str) -> Option<f64> {
        prometheus_value(&self.prometheus(), name)
    }

    /// ECDS mode only: replaces the plugin config the way a release tool
    /// would (the file written whole in a sibling folder, then renamed into
    /// the watched one) and waits (bounded) until Envoy applies or rejects
    /// it. Once this returns `Applied`, new requests see the new config.
    pub fn apply_plugin_config(&self, plugin_config: &str) -> EcdsOutcome {
        assert_eq!(
            self.mode,
            Mode::Ecds,
            "apply_plugin_config needs an Envoy started in ECDS mode"
        );
        let success = ecds_stat("update_success");
        let rejected = ecds_stat("update_rejected");
        // `update_success` rises when the main thread accepts the config;
        // `config_reload` once every worker holds it. Requests are only sure
        // to see the new config after both.
        let reloaded = ecds_stat("config_reload");
        let before = (
            self.counter(&success),
            self.counter(&rejected),
            self.counter(&reloaded),
        );
        let version = self.ecds_version.fetch_add(1, Ordering::SeqCst) + 1;
        write_renamed(
            &self.ecds_file,
            &render::ecds_resource(
                &self.wasm,
                Some(plugin_config),
                &format!("harness-{version}"),
            ),
        );
        let deadline = Instant::now() + ECDS_TIMEOUT;
        while Instant::now() < deadline {
            if self.counter(&success) > before.0 && self.counter(&reloaded) > before.2 {
                return EcdsOutcome::Applied;
            }
            if self.counter(&rejected) > before.1 {
                return EcdsOutcome::Rejected;
            }
            sleep(POLL);
        }
        panic!(
            "Envoy neither applied nor rejected the new ECDS config within {ECDS_TIMEOUT:?}\n{}",
            self.log_tail(TAIL_LINES)
        )
    }
}

/// The ECDS subscription's stat `name` for the canary filter.
pub fn ecds_stat(name: &str) -> String {
    format!("extension_config_discovery.http_filter.{FILTER_NAME}.{name}")
}

/// The value of a Prometheus sample `name` or `name{}` in `text`.
pub fn prometheus_value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (metric, value) = line.rsplit_once(' ')?;
        let bare = metric.strip_suffix("{}").unwrap_or(metric);
        (bare == name).then(|| value.parse().ok()).flatten()
    })
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
