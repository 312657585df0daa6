//! Live numbers of one release per version, as the console's table shows
//! them: the filter's counters (requests routed), the version's cluster
//! totals (requests completed, 5xx, recent p99) from a health source
//! ([`crate::health::Source::totals`], Envoy's admin or Prometheus), and,
//! from Envoy's admin, its endpoints with their health (`/clusters`).
//! Counts are totals; the page turns two samples into rates.

use std::time::{SystemTime, UNIX_EPOCH};

use canary_core::Release;
use serde::Serialize;
use serde_json::Value;

use crate::admin::Admin;
use crate::describe;
use crate::health::admin::AdminSource;
use crate::health::{Source, Totals};
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
    /// `None`: Envoy has no cluster of this name (or the source has no endpoints).
    pub endpoints: Option<Vec<Endpoint>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseMetrics {
    pub release: String,
    /// Milliseconds since the epoch at the sample.
    pub time_ms: u128,
    pub versions: Vec<VersionMetrics>,
}

/// One version's numbers in the sources' words.
pub struct Live<'a> {
    /// `baseline` or `canary`.
    pub role: &'static str,
    /// Its routing value, which is its cluster.
    pub value: &'a str,
    pub routed: u64,
    pub totals: Totals,
    pub endpoints: Option<Vec<Endpoint>>,
}

/// The totals of every version of `release` from `source`, in the order
/// of [`describe::versions`].
pub fn totals(source: &dyn Source, release: &Release) -> Result<Vec<Totals>, String> {
    let values: Vec<&str> = describe::versions(release)
        .iter()
        .map(|&(_, value)| value)
        .collect();
    source.totals(&values)
}

/// The table of `release` from its versions' numbers.
pub fn assemble(release: &Release, versions: Vec<Live>) -> ReleaseMetrics {
    ReleaseMetrics {
        release: release.name.clone(),
        time_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        versions: versions
            .into_iter()
            .map(|live| VersionMetrics {
                role: live.role,
                version: live.value.to_string(),
                routed: live.routed,
                completed: live.totals.requests,
                errors_5xx: live.totals.errors,
                p99_ms: live.totals.recent_p99_ms,
                endpoints: live.endpoints,
            })
            .collect(),
    }
}

/// Everything from Envoy's admin.
pub fn read(admin: &Admin, release: &Release) -> Result<ReleaseMetrics, String> {
    let counters = status::fetch(admin).map_err(|e| e.to_string())?;
    let source = AdminSource {
        admin: admin.clone(),
    };
    let totals = totals(&source, release)?;
    let clusters_text = admin.get("/clusters?format=json")?;
    let clusters: Value = serde_json::from_str(&clusters_text)
        .map_err(|e| format!("Envoy's /clusters?format=json is not JSON: {e}"))?;
    let versions = describe::versions(release)
        .into_iter()
        .zip(totals)
        .map(|((role, value), totals)| Live {
            role,
            value,
            routed: counters.version(release, value).total(),
            totals,
            endpoints: endpoints(&clusters, value),
        })
        .collect();
    Ok(assemble(release, versions))
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
    fn endpoints_and_their_health_are_read() {
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
