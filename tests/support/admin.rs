//! What a test reads from or hands to a running Envoy through its admin
//! interface and its ECDS file: stats, Prometheus metrics, new plugin configs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use canaryctl::admin::{regex_literal, stats_path};
use canaryctl::applied::{self, Verdict, Watch};
use canaryctl::document::EcdsFilter;

use super::envoy::{write_renamed, Envoy, FILTER_NAME, TAIL_LINES};
use super::http::{Client, Request};
use super::render::{self, Mode};

/// Bound on waiting for Envoy to apply or reject an ECDS update.
pub const ECDS_TIMEOUT: Duration = Duration::from_secs(30);

/// What Envoy did with a new ECDS config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdsOutcome {
    /// In force for requests from now on.
    Applied,
    /// Refused (e.g. the filter's `on_configure` failed); the last good
    /// config stays in force.
    Rejected,
}

impl From<Verdict> for EcdsOutcome {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Applied => EcdsOutcome::Applied,
            Verdict::Refused => EcdsOutcome::Rejected,
        }
    }
}

/// The Wasm filter the ECDS file at `file` delivers, as canaryctl reads it.
pub fn ecds_filter(file: &Path) -> EcdsFilter {
    canaryctl::wait::ecds_filter(file).unwrap_or_else(|e| panic!("cannot read the ECDS file: {e}"))
}

impl Envoy {
    /// Starts watching the canary filter's ECDS counters, before a change;
    /// the verdict comes from canaryctl's library, as `canaryctl --wait`'s.
    pub fn ecds_watch(&self) -> Watch {
        let admin = canaryctl::Admin::parse(&format!("http://{}", self.admin))
            .unwrap_or_else(|e| panic!("{e}"));
        Watch::begin(&admin, FILTER_NAME).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits (bounded) for Envoy's verdict on the change since `watch`
    /// began; panics with the log's tail when there is none.
    pub fn ecds_verdict(&self, watch: &Watch, filter_changed: bool) -> EcdsOutcome {
        match watch.wait(filter_changed, ECDS_TIMEOUT) {
            Ok(verdict) => verdict.into(),
            Err(error) => panic!("{error}\n{}", self.log_tail(TAIL_LINES)),
        }
    }

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
        let body = self.admin_get(&stats_path(filter));
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
        let stats = self.stats(&format!("^{}$", regex_literal(name)));
        *stats
            .get(name)
            .unwrap_or_else(|| panic!("Envoy has no stat {name}"))
    }

    /// The filter's counters (`wasmcustom.canary.*`), by full name.
    pub fn canary_counters(&self) -> BTreeMap<String, u64> {
        self.stats(&format!(
            "^{}",
            canary_core::STATS_PREFIX.replace('.', r"\.")
        ))
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
        let before = ecds_filter(&self.ecds_file);
        let watch = self.ecds_watch();
        let version = self.ecds_version.fetch_add(1, Ordering::SeqCst) + 1;
        write_renamed(
            &self.ecds_file,
            &render::ecds_resource(
                &self.wasm,
                Some(plugin_config),
                &format!("harness-{version}"),
            ),
        );
        let changed = ecds_filter(&self.ecds_file) != before;
        self.ecds_verdict(&watch, changed)
    }
}

/// The ECDS subscription's stat `name` for the canary filter.
pub fn ecds_stat(name: &str) -> String {
    applied::stat_name(FILTER_NAME, name)
}

/// The value of a Prometheus sample `name` or `name{}` in `text`.
pub fn prometheus_value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (metric, value) = line.rsplit_once(' ')?;
        let bare = metric.strip_suffix("{}").unwrap_or(metric);
        (bare == name).then(|| value.parse().ok()).flatten()
    })
}
