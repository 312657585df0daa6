//! Per-version health from Envoy's own cluster stats on its admin endpoint,
//! where the route picks a cluster per version (`cluster_header`):
//! `cluster.<name>.upstream_rq_completed`, `.upstream_rq_5xx` and the
//! `.upstream_rq_time` histogram (`histogram_buckets=cumulative`).
//!
//! Envoy merges histograms every `stats_flush_interval` (5 s by default),
//! so latency lags the counters by up to that much.

use serde_json::Value;

use crate::admin::Admin;
use crate::admin::{regex_literal, stats_path};
use crate::health::{Histogram, Sample, Source, Totals};

/// Reads one cluster per version from Envoy's admin.
#[derive(Debug, Clone)]
pub struct AdminSource {
    pub admin: Admin,
}

/// The JSON stats of `clusters`: with cumulative histogram buckets, or
/// (`buckets` false) with Envoy's computed quantiles instead.
fn clusters_stats_path(clusters: &[&str], buckets: bool) -> String {
    let names: Vec<String> = clusters.iter().map(|c| regex_literal(c)).collect();
    let pattern = format!(
        "^cluster\\.({})\\.(upstream_rq_completed|upstream_rq_5xx|upstream_rq_time)$",
        names.join("|")
    );
    let histograms = if buckets {
        "&histogram_buckets=cumulative"
    } else {
        ""
    };
    format!("{}&format=json{histograms}", stats_path(&pattern))
}

fn cluster_stats_path(cluster: &str) -> String {
    clusters_stats_path(&[cluster], true)
}

fn json(body: &str) -> Result<Value, String> {
    serde_json::from_str(body)
        .map_err(|e| format!("Envoy's admin answered stats that are not JSON: {e}"))
}

fn stat_entries(stats: &Value) -> impl Iterator<Item = &Value> {
    stats
        .get("stats")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The counter or gauge `name`; `None` when Envoy does not list it.
fn counter(stats: &Value, name: &str) -> Option<u64> {
    stat_entries(stats)
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|s| s.get("value"))
        .and_then(Value::as_u64)
}

/// Histogram `name`'s cumulative buckets (`histogram_buckets=cumulative`).
fn buckets(stats: &Value, name: &str) -> Histogram {
    let histograms = stat_entries(stats)
        .filter_map(|s| s.get("histograms").and_then(Value::as_array))
        .flatten();
    let found = histograms
        .filter(|h| h.get("name").and_then(Value::as_str) == Some(name))
        .find_map(|h| h.get("buckets").and_then(Value::as_array));
    let buckets = found
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let bound = b.get("upper_bound")?.as_f64()?;
            Some((bound, b.get("cumulative")?.as_u64()?))
        })
        .collect();
    Histogram { buckets }
}

/// Envoy's 99th percentile of histogram `name` (computed quantiles): the
/// last flush interval's, else the whole run's; `None` before the first.
fn p99(stats: &Value, name: &str) -> Option<f64> {
    let histograms = stat_entries(stats).find_map(|s| s.get("histograms"))?;
    let quantiles = histograms.get("supported_quantiles")?.as_array()?;
    let index = quantiles
        .iter()
        .position(|q| q.as_f64().is_some_and(|q| (q - 99.0).abs() < 1e-9))?;
    let computed = histograms
        .get("computed_quantiles")?
        .as_array()?
        .iter()
        .find(|h| h.get("name").and_then(Value::as_str) == Some(name))?;
    let value = computed.get("values")?.as_array()?.get(index)?;
    value
        .get("interval")
        .and_then(Value::as_f64)
        .or_else(|| value.get("cumulative").and_then(Value::as_f64))
}

/// Reads the answer of the stats query for `cluster`.
pub fn parse(cluster: &str, body: &str) -> Result<Sample, String> {
    let stats = json(body)?;
    // Envoy makes upstream_rq_5xx at the first 5xx, but every cluster has
    // upstream_rq_completed: without it the name is not a cluster.
    let requests = counter(&stats, &format!("cluster.{cluster}.upstream_rq_completed"))
        .ok_or_else(|| {
            format!(
                "Envoy's admin lists no cluster.{cluster}.upstream_rq_completed: {cluster} is not one of its clusters (map a version to its cluster with --cluster VERSION=CLUSTER)"
            )
        })?;
    Ok(Sample {
        requests,
        errors: counter(&stats, &format!("cluster.{cluster}.upstream_rq_5xx")).unwrap_or(0),
        latency: buckets(&stats, &format!("cluster.{cluster}.upstream_rq_time")),
    })
}

/// Reads the answer of the totals query for `clusters`.
pub fn parse_totals(clusters: &[&str], body: &str) -> Result<Vec<Totals>, String> {
    let stats = json(body)?;
    Ok(clusters
        .iter()
        .map(|cluster| Totals {
            requests: counter(&stats, &format!("cluster.{cluster}.upstream_rq_completed")),
            errors: counter(&stats, &format!("cluster.{cluster}.upstream_rq_5xx")),
            recent_p99_ms: p99(&stats, &format!("cluster.{cluster}.upstream_rq_time")),
        })
        .collect())
}

impl Source for AdminSource {
    fn sample(&self, key: &str) -> Result<Sample, String> {
        let body = self.admin.get(&cluster_stats_path(key))?;
        parse(key, &body)
    }

    fn describe(&self) -> String {
        format!("Envoy's admin at {}", self.admin.authority)
    }

    fn totals(&self, keys: &[&str]) -> Result<Vec<Totals>, String> {
        let body = self.admin.get(&clusters_stats_path(keys, false))?;
        parse_totals(keys, &body)
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

    #[test]
    fn totals_read_counters_and_envoys_p99() {
        let body = r#"{"stats":[{"name":"cluster.v1.upstream_rq_completed","value":7},
            {"histograms":{"supported_quantiles":[0,50,99,100],"computed_quantiles":[
              {"name":"cluster.v1.upstream_rq_time","values":[
                {"interval":null,"cumulative":1},{"interval":null,"cumulative":2},
                {"interval":null,"cumulative":4.5},{"interval":null,"cumulative":9}]}]}}]}"#;
        let totals = parse_totals(&["v1", "v2"], body).unwrap();
        assert_eq!(
            totals[0],
            Totals {
                requests: Some(7),
                errors: None,
                recent_p99_ms: Some(4.5)
            }
        );
        // A name Envoy does not know: no numbers, not an error.
        assert_eq!(totals[1], Totals::default());
        assert!(parse_totals(&["v1"], "<html>").is_err());
        let path = clusters_stats_path(&["a.b", "c"], false);
        assert!(path.contains("a%5C.b%7Cc"), "{path}");
        assert!(!path.contains("histogram_buckets"), "{path}");
    }
}
