//! Live numbers of one release per version, from Envoy's admin: the
//! filter's counters (requests routed, via [`status::fetch`]), the version's
//! cluster stats (`cluster.<value>.upstream_rq_completed`, `_5xx`, p99 of
//! `upstream_rq_time`) and its endpoints with their health (`/clusters`).
//! Counts are totals; the page turns two samples into rates. Minimal and
//! self-contained on purpose: the automated analysis brings its own
//! per-version health reading, to be unified with this one.

use std::time::{SystemTime, UNIX_EPOCH};

use canary_core::Release;
use serde::Serialize;
use serde_json::Value;

use crate::admin::Admin;
use crate::admin::{encode_query_value, regex_literal};
use crate::describe;
use crate::status;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub address: String,
    /// `healthy`, `unhealthy`, `degraded`, ... as Envoy says it, lower case.
    pub health: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionMetrics {
    /// `baseline` or `canary`.
    pub role: &'static str,
    /// The routing value: the version's label, which is its cluster.
    pub version: String,
    /// Requests the filter sent to this version.
    pub routed: u64,
    pub completed: Option<u64>,
    pub errors_5xx: Option<u64>,
    pub p99_ms: Option<f64>,
    /// `None`: Envoy has no cluster of this name.
    pub endpoints: Option<Vec<Endpoint>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseMetrics {
    pub release: String,
    /// Milliseconds since the epoch at the sample.
    pub time_ms: u128,
    pub versions: Vec<VersionMetrics>,
}

pub fn read(admin: &Admin, release: &Release) -> Result<ReleaseMetrics, String> {
    let counters = status::fetch(admin).map_err(|e| e.to_string())?;
    let versions = describe::versions(release);
    let names: Vec<&str> = versions.iter().map(|(_, value)| *value).collect();
    let alternatives: Vec<String> = names.iter().map(|n| regex_literal(n)).collect();
    let pattern = format!(
        "^cluster\\.({})\\.upstream_rq_(completed|5xx|time)$",
        alternatives.join("|")
    );
    let stats_text = admin.get(&format!(
        "/stats?format=json&filter={}",
        encode_query_value(&pattern)
    ))?;
    let stats: Value = serde_json::from_str(&stats_text)
        .map_err(|e| format!("Envoy's /stats?format=json is not JSON: {e}"))?;
    let clusters_text = admin.get("/clusters?format=json")?;
    let clusters: Value = serde_json::from_str(&clusters_text)
        .map_err(|e| format!("Envoy's /clusters?format=json is not JSON: {e}"))?;
    let version = |role, name: &str, routed: u64| VersionMetrics {
        role,
        version: name.to_string(),
        routed,
        completed: counter(&stats, &format!("cluster.{name}.upstream_rq_completed")),
        errors_5xx: counter(&stats, &format!("cluster.{name}.upstream_rq_5xx")),
        p99_ms: p99(&stats, &format!("cluster.{name}.upstream_rq_time")),
        endpoints: endpoints(&clusters, name),
    };
    Ok(ReleaseMetrics {
        release: release.name.clone(),
        time_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        versions: versions
            .iter()
            .map(|&(role, value)| version(role, value, counters.version(release, value).total()))
            .collect(),
    })
}

fn stat_entries(stats: &Value) -> impl Iterator<Item = &Value> {
    stats
        .get("stats")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn counter(stats: &Value, name: &str) -> Option<u64> {
    stat_entries(stats)
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|s| s.get("value"))
        .and_then(Value::as_u64)
}

/// The 99th percentile of histogram `name`: the last interval's, else the
/// whole run's; `None` before the first sample.
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

fn endpoints(clusters: &Value, name: &str) -> Option<Vec<Endpoint>> {
    let cluster = clusters
        .get("cluster_statuses")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))?;
    let hosts = cluster.get("host_statuses").and_then(Value::as_array);
    Some(hosts.into_iter().flatten().map(endpoint).collect())
}

fn endpoint(host: &Value) -> Endpoint {
    let socket = host.get("address").and_then(|a| a.get("socket_address"));
    let address = match socket {
        Some(s) => format!(
            "{}:{}",
            s.get("address").and_then(Value::as_str).unwrap_or("?"),
            s.get("port_value").and_then(Value::as_u64).unwrap_or(0)
        ),
        None => "?".to_string(),
    };
    let status = host.get("health_status");
    let failed = status.and_then(Value::as_object).is_some_and(|s| {
        s.iter()
            .any(|(key, value)| key.starts_with("failed") && value.as_bool() == Some(true))
    });
    let health = if failed {
        "unhealthy".to_string()
    } else {
        status
            .and_then(|s| s.get("eds_health_status"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_ascii_lowercase()
    };
    Endpoint { address, health }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envoy_json_is_read() {
        let stats = json!({"stats": [
            {"name": "cluster.v1.upstream_rq_completed", "value": 7},
            {"histograms": {"supported_quantiles": [0, 50, 99, 100], "computed_quantiles": [
                {"name": "cluster.v1.upstream_rq_time", "values": [
                    {"interval": null, "cumulative": 1}, {"interval": null, "cumulative": 2},
                    {"interval": null, "cumulative": 4.5}, {"interval": null, "cumulative": 9}]}]}}]});
        assert_eq!(counter(&stats, "cluster.v1.upstream_rq_completed"), Some(7));
        assert_eq!(counter(&stats, "cluster.v1.upstream_rq_5xx"), None);
        assert_eq!(p99(&stats, "cluster.v1.upstream_rq_time"), Some(4.5));
        let clusters = json!({"cluster_statuses": [{"name": "v1", "host_statuses": [
            {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 10001}},
             "health_status": {"eds_health_status": "HEALTHY"}},
            {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 10003}},
             "health_status": {"eds_health_status": "HEALTHY", "failed_active_health_check": true}}]}]});
        let list = endpoints(&clusters, "v1").unwrap();
        assert_eq!(
            list[0],
            Endpoint {
                address: "127.0.0.1:10001".into(),
                health: "healthy".into()
            }
        );
        assert_eq!(list[1].health, "unhealthy");
        assert_eq!(endpoints(&clusters, "v2"), None);
    }
}
