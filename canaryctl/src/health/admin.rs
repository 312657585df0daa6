//! Per-version health from Envoy's own cluster stats on its admin endpoint,
//! where the route picks a cluster per version (`cluster_header`):
//! `cluster.<name>.upstream_rq_completed`, `.upstream_rq_5xx` and the
//! `.upstream_rq_time` histogram (`histogram_buckets=cumulative`).
//!
//! Envoy merges histograms every `stats_flush_interval` (5 s by default),
//! so latency lags the counters by up to that much.

use serde_json::Value;

use crate::admin::Admin;
use crate::admin::{encode_query_value, regex_literal};
use crate::health::{Histogram, Sample, Source};

/// Reads one cluster per version from Envoy's admin.
#[derive(Debug, Clone)]
pub struct AdminSource {
    pub admin: Admin,
}

fn cluster_stats_path(cluster: &str) -> String {
    let pattern = format!(
        "^cluster\\.{}\\.(upstream_rq_completed|upstream_rq_5xx|upstream_rq_time)$",
        regex_literal(cluster)
    );
    format!(
        "/stats?format=json&histogram_buckets=cumulative&filter={}",
        encode_query_value(&pattern)
    )
}

/// Reads the answer of the stats query for `cluster`.
pub fn parse(cluster: &str, body: &str) -> Result<Sample, String> {
    let json: Value = serde_json::from_str(body)
        .map_err(|e| format!("Envoy's admin answered stats that are not JSON: {e}"))?;
    let prefix = format!("cluster.{cluster}.");
    let mut requests = None;
    let mut errors = 0;
    let mut latency = Histogram::default();
    let stats = json.get("stats").and_then(Value::as_array);
    for stat in stats.into_iter().flatten() {
        let name = stat.get("name").and_then(Value::as_str).unwrap_or("");
        let value = stat.get("value").and_then(Value::as_u64);
        match (name.strip_prefix(&prefix), value) {
            (Some("upstream_rq_completed"), Some(v)) => requests = Some(v),
            (Some("upstream_rq_5xx"), Some(v)) => errors = v,
            _ => {}
        }
        let histograms = stat.get("histograms").and_then(Value::as_array);
        for histogram in histograms.into_iter().flatten() {
            let name = histogram.get("name").and_then(Value::as_str).unwrap_or("");
            if name.strip_prefix(&prefix) != Some("upstream_rq_time") {
                continue;
            }
            let buckets = histogram.get("buckets").and_then(Value::as_array);
            latency.buckets = buckets
                .into_iter()
                .flatten()
                .filter_map(|b| {
                    let bound = b.get("upper_bound")?.as_f64()?;
                    Some((bound, b.get("cumulative")?.as_u64()?))
                })
                .collect();
        }
    }
    // Envoy makes upstream_rq_5xx at the first 5xx, but every cluster has
    // upstream_rq_completed: without it the name is not a cluster.
    let requests = requests.ok_or_else(|| {
        format!(
            "Envoy's admin lists no cluster.{cluster}.upstream_rq_completed: {cluster} is not one of its clusters (map a version to its cluster with --cluster VERSION=CLUSTER)"
        )
    })?;
    Ok(Sample {
        requests,
        errors,
        latency,
    })
}

impl Source for AdminSource {
    fn sample(&self, key: &str) -> Result<Sample, String> {
        let body = self.admin.get(&cluster_stats_path(key))?;
        parse(key, &body)
    }

    fn describe(&self) -> String {
        format!("Envoy's admin at {}", self.admin.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Envoy 1.40's answer, trimmed to two buckets.
    const BODY: &str = r#"{"stats":[{"name":"cluster.pay-v2.upstream_rq_5xx","value":12},
        {"name":"cluster.pay-v2.upstream_rq_completed","value":60},
        {"histograms":[{"name":"cluster.pay-v2.upstream_rq_time","buckets":[
          {"upper_bound":0.5,"interval":0,"cumulative":26},
          {"upper_bound":100,"interval":0,"cumulative":50}]}]}]}"#;

    #[test]
    fn reads_counters_and_buckets() {
        let sample = parse("pay-v2", BODY).unwrap();
        assert_eq!((sample.requests, sample.errors), (60, 12));
        assert_eq!(sample.latency.buckets, vec![(0.5, 26), (100.0, 50)]);
        // Before the first 5xx Envoy has no such counter: zero.
        let quiet = parse(
            "pay-v1",
            r#"{"stats":[{"name":"cluster.pay-v1.upstream_rq_completed","value":3}]}"#,
        )
        .unwrap();
        assert_eq!((quiet.requests, quiet.errors), (3, 0));
        assert!(quiet.latency.buckets.is_empty());
    }

    #[test]
    fn an_unknown_cluster_or_a_bad_answer_is_an_error() {
        let err = parse("pay-v3", BODY).unwrap_err();
        assert!(
            err.contains("no cluster.pay-v3.upstream_rq_completed"),
            "{err}"
        );
        assert!(parse("pay-v2", "<html>").unwrap_err().contains("not JSON"));
        assert!(cluster_stats_path("a.b").contains("a%5C.b"));
    }
}
