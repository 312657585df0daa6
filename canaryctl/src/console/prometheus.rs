//! Live numbers from Prometheus instead of Envoy's admin (`--prometheus`),
//! for Envoys that Prometheus scrapes (`/stats/prometheus`): the filter's
//! counters by their Prometheus names (the core's [`CounterName`]), and per
//! version `envoy_cluster_upstream_rq_completed`, `_rq_xx` (class 5) and the
//! p99 of `envoy_cluster_upstream_rq_time` over the last minute. Prometheus
//! does not know endpoints, so there are none. Instant queries over plain
//! HTTP (`/api/v1/query`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use canary_core::{CounterName, Release};
use serde_json::Value;

use crate::admin::encode_query_value;
use crate::console::metrics::{ReleaseMetrics, VersionMetrics};
use crate::describe;

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Prometheus {
    /// `http://host:port[/prefix]`, without a trailing '/'.
    base: String,
    agent: ureq::Agent,
}

/// One sample of an instant vector: its labels and value.
type Sample = (serde_json::Map<String, Value>, Option<f64>);

impl Prometheus {
    pub fn parse(url: &str) -> Result<Self, String> {
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(format!(
                "--prometheus {url}: expected http://HOST:PORT (plain HTTP, such as http://127.0.0.1:9090)"
            ));
        };
        if rest.split('/').next().map_or(true, str::is_empty) {
            return Err(format!("--prometheus {url}: no host"));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .user_agent("canaryctl")
            .build()
            .into();
        Ok(Prometheus {
            base: url.trim_end_matches('/').to_string(),
            agent,
        })
    }

    fn query(&self, promql: &str) -> Result<Vec<Sample>, String> {
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base,
            encode_query_value(promql)
        );
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("cannot reach Prometheus at {}: {e}", self.base))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| format!("reading Prometheus at {}: {e}", self.base))?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| {
            format!(
                "Prometheus at {} answered {status}, not JSON: {e}",
                self.base
            )
        })?;
        if answer.get("status").and_then(Value::as_str) != Some("success") {
            let error = answer
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(format!(
                "Prometheus at {} refused {promql}: {error}",
                self.base
            ));
        }
        let result = answer
            .pointer("/data/result")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(result
            .iter()
            .map(|sample| {
                let labels = sample
                    .get("metric")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let value = sample
                    .pointer("/value/1")
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite());
                (labels, value)
            })
            .collect())
    }
}

/// `a|b` with each as a literal inside a PromQL regex.
fn alternatives(names: &[&str]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| regex_literal(n)).collect();
    escaped.join("|")
}

fn regex_literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            // A PromQL string holds the regex: its backslash is doubled.
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// The value of the sample whose `label` is `value`.
fn by_label(samples: &[Sample], label: &str, value: &str) -> Option<f64> {
    samples
        .iter()
        .find(|(labels, _)| labels.get(label).and_then(Value::as_str) == Some(value))
        .and_then(|(_, v)| *v)
}

pub fn read(prometheus: &Prometheus, release: &Release) -> Result<ReleaseMetrics, String> {
    let versions = describe::versions(release);
    let routed_names = |value: &str| -> Vec<String> {
        describe::version_counters(release, value)
            .iter()
            .map(CounterName::prometheus_name)
            .collect()
    };
    let routed = prometheus.query(&format!(
        "sum by (__name__) ({{__name__=~\"{}\"}})",
        alternatives(
            &versions
                .iter()
                .flat_map(|&(_, value)| routed_names(value))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        )
    ))?;
    let clusters = alternatives(&versions.iter().map(|&(_, value)| value).collect::<Vec<_>>());
    let completed = prometheus.query(&format!(
        "sum by (envoy_cluster_name) (envoy_cluster_upstream_rq_completed{{envoy_cluster_name=~\"{clusters}\"}})"
    ))?;
    let errors = prometheus.query(&format!(
        "sum by (envoy_cluster_name) (envoy_cluster_upstream_rq_xx{{envoy_response_code_class=\"5\",envoy_cluster_name=~\"{clusters}\"}})"
    ))?;
    let p99 = prometheus.query(&format!(
        "histogram_quantile(0.99, sum by (envoy_cluster_name, le) (rate(envoy_cluster_upstream_rq_time_bucket{{envoy_cluster_name=~\"{clusters}\"}}[1m])))"
    ))?;
    let version = |role, name: &str| VersionMetrics {
        role,
        version: name.to_string(),
        routed: routed_names(name)
            .iter()
            .filter_map(|n| by_label(&routed, "__name__", n))
            .sum::<f64>() as u64,
        completed: by_label(&completed, "envoy_cluster_name", name).map(|v| v as u64),
        errors_5xx: by_label(&errors, "envoy_cluster_name", name).map(|v| v as u64),
        p99_ms: by_label(&p99, "envoy_cluster_name", name),
        endpoints: None,
    };
    Ok(ReleaseMetrics {
        release: release.name.clone(),
        time_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        versions: versions
            .iter()
            .map(|&(role, value)| version(role, value))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_regex_literals() {
        assert!(Prometheus::parse("http://127.0.0.1:9090/").is_ok());
        assert!(Prometheus::parse("https://p:9090")
            .unwrap_err()
            .contains("plain HTTP"));
        assert!(Prometheus::parse("http://").is_err());
        assert_eq!(alternatives(&["pay-v1", "a.b"]), "pay-v1|a\\\\.b");
    }
}
