//! Live numbers from Prometheus instead of Envoy's admin (`--prometheus`),
//! for Envoys that Prometheus scrapes (`/stats/prometheus`): the filter's
//! counters by their Prometheus names (the core's [`CounterName`]), and per
//! version the cluster totals of the health source
//! ([`PrometheusSource`], shape `envoy`). Prometheus does not know
//! endpoints, so there are none.

use canary_core::{CounterName, Release};

use crate::console::metrics::{self, ReleaseMetrics};
use crate::describe;
use crate::health::prometheus::{alternatives, value_by_label, PrometheusSource, Shape};

/// The console's Prometheus: Envoy's metrics, a version = a cluster.
pub fn source(url: &str) -> Result<PrometheusSource, String> {
    PrometheusSource::new(url, Shape::Envoy, None).map_err(|e| format!("--prometheus {e}"))
}

pub fn read(prometheus: &PrometheusSource, release: &Release) -> Result<ReleaseMetrics, String> {
    let versions = describe::versions(release);
    let routed_names = |value: &str| -> Vec<String> {
        describe::version_counters(release, value)
            .iter()
            .map(CounterName::prometheus_name)
            .collect()
    };
    let all: Vec<String> = versions
        .iter()
        .flat_map(|&(_, value)| routed_names(value))
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let routed = prometheus.query(&format!(
        "sum by (__name__) ({{__name__=~\"{}\"}})",
        alternatives(&all)
    ))?;
    let routed_to = |value: &str| {
        routed_names(value)
            .iter()
            .filter_map(|n| value_by_label(&routed, "__name__", n))
            .filter(|v| v.is_finite() && *v >= 0.0)
            .sum::<f64>()
            .round() as u64
    };
    metrics::table(prometheus, release, routed_to, |_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(source("http://127.0.0.1:9090/").is_ok());
        assert!(source("https://p:9090").unwrap_err().contains("plain HTTP"));
        assert!(source("http://").is_err());
    }
}
