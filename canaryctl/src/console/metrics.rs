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
use crate::health::Source;
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

/// The table of `release`: every version's totals from `source` (one
/// read), with the requests `routed` to it and its `endpoints`.
pub fn table(
    source: &dyn Source,
    release: &Release,
    routed: impl Fn(&str) -> u64,
    endpoints: impl Fn(&str) -> Option<Vec<Endpoint>>,
) -> Result<ReleaseMetrics, String> {
    let versions = describe::versions(release);
    let values: Vec<&str> = versions.iter().map(|&(_, value)| value).collect();
    let totals = source.totals(&values)?;
    Ok(ReleaseMetrics {
        release: release.name.clone(),
        time_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        versions: versions
            .into_iter()
            .zip(totals)
            .map(|((role, value), totals)| VersionMetrics {
                role,
                version: value.to_string(),
                routed: routed(value),
                completed: totals.requests,
                errors_5xx: totals.errors,
                p99_ms: totals.recent_p99_ms,
                endpoints: endpoints(value),
            })
            .collect(),
    })
}

/// Everything from Envoy's admin.
pub fn read(admin: &Admin, release: &Release) -> Result<ReleaseMetrics, String> {
    let counters = status::fetch(admin).map_err(|e| e.to_string())?;
    let clusters_text = admin.get("/clusters?format=json")?;
    let clusters: Value = serde_json::from_str(&clusters_text)
        .map_err(|e| format!("Envoy's /clusters?format=json is not JSON: {e}"))?;
    let source = AdminSource {
        admin: admin.clone(),
    };
    table(
        &source,
        release,
        |value| counters.version(release, value).total(),
        |value| endpoints(&clusters, value),
    )
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
    use crate::health::Totals;
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

    /// A source that knows v1 and v3, and records what it was asked.
    struct Fixed(std::cell::RefCell<Vec<String>>);

    impl Source for Fixed {
        fn sample(&self, key: &str) -> Result<crate::health::Sample, String> {
            Err(format!("no sample of {key} here"))
        }
        fn describe(&self) -> String {
            "fixed".to_string()
        }
        fn totals(&self, keys: &[&str]) -> Result<Vec<Totals>, String> {
            self.0
                .borrow_mut()
                .extend(keys.iter().map(|k| k.to_string()));
            Ok(keys
                .iter()
                .map(|&k| Totals {
                    requests: (k != "v2").then_some(if k == "v1" { 40 } else { 9 }),
                    errors: (k == "v3").then_some(2),
                    recent_p99_ms: (k == "v1").then_some(12.5),
                })
                .collect())
        }
    }

    #[test]
    fn every_version_of_a_tagged_release_is_read_in_one_go() {
        let config = canary_core::Config::from_json(
            br#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1",
                "canaries":[{"value":"v2","weight":10},{"value":"v3","weight":5}]}]}"#,
        )
        .unwrap();
        let release = &config.releases[0];
        let source = Fixed(Default::default());
        let table = table(&source, release, |v| v.len() as u64, |_| None).unwrap();
        assert_eq!(*source.0.borrow(), ["v1", "v2", "v3"], "one read, in order");
        let row = |i: usize| {
            let v = &table.versions[i];
            (
                v.role,
                v.version.as_str(),
                v.routed,
                v.completed,
                v.errors_5xx,
                v.p99_ms,
            )
        };
        assert_eq!(row(0), ("baseline", "v1", 2, Some(40), None, Some(12.5)));
        assert_eq!(row(1), ("canary", "v2", 2, None, None, None));
        assert_eq!(row(2), ("canary", "v3", 2, Some(9), Some(2), None));
    }
}
