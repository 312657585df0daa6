//! Per-version health from a Prometheus server, by instant PromQL queries
//! of the cumulative counters (differences are taken here, as for Envoy's
//! admin, so both sources judge the same interval the same way). Two query
//! shapes ([`Shape`]):
//!
//! - `envoy`: Envoy's `/stats/prometheus` scraped, a version = a cluster:
//!   `sum(envoy_cluster_upstream_rq_completed{envoy_cluster_name="K"})`,
//!   `sum(envoy_cluster_upstream_rq_xx{envoy_cluster_name="K",envoy_response_code_class="5"})`,
//!   `sum by (le) (envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="K"})`;
//! - `istio`: Istio's standard metrics, a version = `destination_version`:
//!   `sum(istio_requests_total{destination_version="K"})`,
//!   `sum(istio_requests_total{destination_version="K",response_code=~"5.."})`,
//!   `sum by (le) (istio_request_duration_milliseconds_bucket{destination_version="K"})`.
//!
//! Extra label matchers (`--prometheus-match 'destination_service_name="pay-service"'`)
//! go inside every selector.

use std::time::Duration;

use serde_json::Value;

use crate::health::{Histogram, Sample, Source};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Which metrics the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Envoy,
    Istio,
}

/// The three metrics of a shape and the label that names a version.
struct Metrics {
    requests: &'static str,
    errors: &'static str,
    errors_matcher: &'static str,
    buckets: &'static str,
    label: &'static str,
}

impl Shape {
    fn metrics(self) -> Metrics {
        match self {
            Shape::Envoy => Metrics {
                requests: "envoy_cluster_upstream_rq_completed",
                errors: "envoy_cluster_upstream_rq_xx",
                errors_matcher: "envoy_response_code_class=\"5\"",
                buckets: "envoy_cluster_upstream_rq_time_bucket",
                label: "envoy_cluster_name",
            },
            Shape::Istio => Metrics {
                requests: "istio_requests_total",
                errors: "istio_requests_total",
                errors_matcher: "response_code=~\"5..\"",
                buckets: "istio_request_duration_milliseconds_bucket",
                label: "destination_version",
            },
        }
    }
}

/// The three PromQL queries of version `key`: requests, 5xx, buckets.
pub fn queries(shape: Shape, key: &str, extra: Option<&str>) -> [String; 3] {
    let m = shape.metrics();
    let value = key.replace('\\', "\\\\").replace('"', "\\\"");
    let mut selector = format!("{}=\"{value}\"", m.label);
    if let Some(extra) = extra.filter(|e| !e.trim().is_empty()) {
        selector.push(',');
        selector.push_str(extra.trim());
    }
    [
        format!("sum({}{{{selector}}})", m.requests),
        format!("sum({}{{{selector},{}}})", m.errors, m.errors_matcher),
        format!("sum by (le) ({}{{{selector}}})", m.buckets),
    ]
}

/// A Prometheus server's HTTP API.
#[derive(Debug, Clone)]
pub struct PrometheusSource {
    /// `http://host:port` (and a path prefix, if any), without a final `/`.
    pub base: String,
    pub shape: Shape,
    pub extra: Option<String>,
    agent: ureq::Agent,
}

impl PrometheusSource {
    pub fn new(url: &str, shape: Shape, extra: Option<String>) -> Result<Self, String> {
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(format!(
                "{url}: expected http://HOST:PORT of a Prometheus server (plain HTTP)"
            ));
        };
        if rest
            .split('/')
            .next()
            .map_or(true, |host| !host.contains(':'))
        {
            return Err(format!(
                "{url}: expected http://HOST:PORT, such as http://127.0.0.1:9090"
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .proxy(None)
            .user_agent("canaryctl")
            .build()
            .into();
        Ok(Self {
            base: url.trim_end_matches('/').to_string(),
            shape,
            extra,
            agent,
        })
    }

    /// The result vector of an instant query.
    fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base,
            crate::admin::encode_query_value(promql)
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
            .map_err(|e| format!("talking to Prometheus at {}: {e}", self.base))?;
        parse_vector(status, &body)
            .map_err(|e| format!("Prometheus at {}, {promql}: {e}", self.base))
    }
}

/// The `data.result` of an instant query's answer.
pub fn parse_vector(status: u16, body: &[u8]) -> Result<Vec<Value>, String> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| format!("answered {status} with a body that is not JSON"))?;
    if json.get("status").and_then(Value::as_str) != Some("success") {
        let error = json
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        return Err(format!("answered {status}: {error}"));
    }
    match json.pointer("/data/result") {
        Some(Value::Array(result)) => Ok(result.clone()),
        _ => Err("answered without a result vector".to_string()),
    }
}

/// The value of one element of a result vector (`"value": [time, "12"]`).
pub fn element_value(element: &Value) -> Option<f64> {
    let text = element.pointer("/value/1")?.as_str()?;
    match text {
        "+Inf" => Some(f64::INFINITY),
        _ => text.parse().ok(),
    }
}

/// A sum as a count: rounded (Prometheus sends floats), never negative.
fn count(value: f64) -> Result<u64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value.round() as u64)
    } else {
        Err(format!("a count of {value}"))
    }
}

/// `sum by (le) (...)` as a histogram, bounds rising.
pub fn histogram(result: &[Value]) -> Result<Histogram, String> {
    let mut buckets = Vec::new();
    for element in result {
        let le = element.pointer("/metric/le").and_then(Value::as_str);
        let bound = match le {
            Some("+Inf") => f64::INFINITY,
            Some(text) => text
                .parse()
                .map_err(|_| format!("a bucket le=\"{text}\""))?,
            None => return Err("a bucket without le".to_string()),
        };
        let value = element_value(element).ok_or("a bucket without a value")?;
        buckets.push((bound, count(value)?));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Histogram { buckets })
}

impl Source for PrometheusSource {
    fn sample(&self, key: &str) -> Result<Sample, String> {
        let [requests_q, errors_q, buckets_q] = queries(self.shape, key, self.extra.as_deref());
        let first = |result: Vec<Value>| result.first().and_then(element_value);
        let requests = match first(self.query(&requests_q)?) {
            Some(value) => count(value)?,
            // No series: an unknown name is an error, never a silent zero;
            // Istio has no series for a version before its first request.
            None if self.shape == Shape::Istio
                && first(self.query(&format!("count({})", self.shape.metrics().requests))?)
                    .is_some() =>
            {
                0
            }
            None => {
                return Err(format!(
                    "Prometheus at {} has no series for {requests_q}: is {key} the right name, and does it scrape that Envoy?",
                    self.base
                ))
            }
        };
        let errors = first(self.query(&errors_q)?).map_or(Ok(0), count)?;
        let latency = histogram(&self.query(&buckets_q)?)?;
        Ok(Sample {
            requests,
            errors,
            latency,
        })
    }

    fn describe(&self) -> String {
        format!("Prometheus at {}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_shapes() {
        let [r, e, b] = queries(Shape::Envoy, "pay-v2", None);
        assert_eq!(
            r,
            r#"sum(envoy_cluster_upstream_rq_completed{envoy_cluster_name="pay-v2"})"#
        );
        assert_eq!(
            e,
            r#"sum(envoy_cluster_upstream_rq_xx{envoy_cluster_name="pay-v2",envoy_response_code_class="5"})"#
        );
        assert_eq!(
            b,
            r#"sum by (le) (envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="pay-v2"})"#
        );
        let [r, e, _] = queries(Shape::Istio, "v\"2", Some("reporter=\"destination\""));
        assert_eq!(
            r,
            r#"sum(istio_requests_total{destination_version="v\"2",reporter="destination"})"#
        );
        assert!(
            e.ends_with(r#"reporter="destination",response_code=~"5.."})"#),
            "{e}"
        );
    }

    #[test]
    fn answers() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"le":"+Inf"},"value":[1,"10"]},{"metric":{"le":"50"},"value":[1,"9"]},
            {"metric":{"le":"0.5"},"value":[1,"2"]}]}}"#;
        let result = parse_vector(200, body).unwrap();
        let h = histogram(&result).unwrap();
        assert_eq!(h.buckets, vec![(0.5, 2), (50.0, 9), (f64::INFINITY, 10)]);
        let err = parse_vector(400, br#"{"status":"error","error":"parse error"}"#).unwrap_err();
        assert!(err.contains("parse error"), "{err}");
        assert!(parse_vector(502, b"<html>")
            .unwrap_err()
            .contains("not JSON"));
        assert!(count(f64::NAN).is_err());
        assert!(PrometheusSource::new("https://x:1", Shape::Envoy, None).is_err());
        assert!(PrometheusSource::new("http://x", Shape::Envoy, None).is_err());
    }
}
