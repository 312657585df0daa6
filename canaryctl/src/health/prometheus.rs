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

use crate::admin::{encode_query_value, regex_literal};
use crate::health::{Histogram, Sample, Source, Totals};

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

/// `text` inside a PromQL double-quoted string.
pub fn string_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `a|b`, each name a literal, as the inside of a PromQL regex string.
pub fn alternatives(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| regex_literal(n)).collect();
    string_literal(&names.join("|"))
}

/// The matchers of versions `keys` (one: `=`, several: `=~`) and `extra`.
fn selector(label: &str, keys: &[&str], extra: Option<&str>) -> String {
    let mut selector = match keys {
        [key] => format!("{label}=\"{}\"", string_literal(key)),
        _ => format!("{label}=~\"{}\"", alternatives(keys)),
    };
    if let Some(extra) = extra.filter(|e| !e.trim().is_empty()) {
        selector.push(',');
        selector.push_str(extra.trim());
    }
    selector
}

/// The three PromQL queries of version `key`: requests, 5xx, buckets.
pub fn queries(shape: Shape, key: &str, extra: Option<&str>) -> [String; 3] {
    let m = shape.metrics();
    let selector = selector(m.label, &[key], extra);
    [
        format!("sum({}{{{selector}}})", m.requests),
        format!("sum({}{{{selector},{}}})", m.errors, m.errors_matcher),
        format!("sum by (le) ({}{{{selector}}})", m.buckets),
    ]
}

/// The three PromQL queries of [`Source::totals`], by version: requests,
/// 5xx, and the p99 over the last minute.
pub fn totals_queries(shape: Shape, keys: &[&str], extra: Option<&str>) -> [String; 3] {
    let m = shape.metrics();
    let (label, selector) = (m.label, selector(m.label, keys, extra));
    [
        format!("sum by ({label}) ({}{{{selector}}})", m.requests),
        format!(
            "sum by ({label}) ({}{{{selector},{}}})",
            m.errors, m.errors_matcher
        ),
        format!(
            "histogram_quantile(0.99, sum by ({label}, le) (rate({}{{{selector}}}[1m])))",
            m.buckets
        ),
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
    pub fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
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

/// The value of the element of `result` whose `label` is `value`.
pub fn value_by_label(result: &[Value], label: &str, value: &str) -> Option<f64> {
    result
        .iter()
        .find(|e| {
            e.pointer(&format!("/metric/{label}"))
                .and_then(Value::as_str)
                == Some(value)
        })
        .and_then(element_value)
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

    fn totals(&self, keys: &[&str]) -> Result<Vec<Totals>, String> {
        let [requests_q, errors_q, p99_q] = totals_queries(self.shape, keys, self.extra.as_deref());
        let (requests, errors) = (self.query(&requests_q)?, self.query(&errors_q)?);
        let p99 = self.query(&p99_q)?;
        let label = self.shape.metrics().label;
        keys.iter()
            .map(|key| {
                let count_of = |result: &[Value]| value_by_label(result, label, key).map(count);
                Ok(Totals {
                    requests: count_of(&requests).transpose()?,
                    errors: count_of(&errors).transpose()?,
                    // No request in the last minute: NaN, no latency.
                    recent_p99_ms: value_by_label(&p99, label, key).filter(|v| v.is_finite()),
                })
            })
            .collect()
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

    #[test]
    fn totals_ask_for_every_version_at_once() {
        let [r, e, p] = totals_queries(Shape::Envoy, &["pay-v1", "a.b"], None);
        assert_eq!(
            r,
            r#"sum by (envoy_cluster_name) (envoy_cluster_upstream_rq_completed{envoy_cluster_name=~"pay-v1|a\\.b"})"#
        );
        assert!(e.contains(r#"envoy_response_code_class="5""#), "{e}");
        assert!(p.starts_with("histogram_quantile(0.99, sum by (envoy_cluster_name, le) (rate("));
        let result = parse_vector(
            200,
            br#"{"status":"success","data":{"result":[
                {"metric":{"envoy_cluster_name":"pay-v2"},"value":[1,"3"]}]}}"#,
        )
        .unwrap();
        assert_eq!(
            value_by_label(&result, "envoy_cluster_name", "pay-v2"),
            Some(3.0)
        );
        assert_eq!(
            value_by_label(&result, "envoy_cluster_name", "pay-v1"),
            None
        );
    }
}
