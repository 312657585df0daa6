//! `canaryctl console --prometheus`: the live numbers of a release read
//! from Prometheus's query API, here a stand-in on loopback that answers
//! each query with a fixed vector and records what it was asked; and a
//! Prometheus that cannot be reached is a 502 with a message.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{json, Value};

use super::server::{json, ConsoleServer};
use crate::support::{pay_release, plugin_config};

/// Queries the stand-in answers before it stops (bounded: it never hangs a test).
const MAX_QUERIES: usize = 16;

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn vector(samples: &[(&str, &str, &str)]) -> Value {
    let result: Vec<Value> = samples
        .iter()
        .map(|(label, name, value)| json!({"metric": {*label: *name}, "value": [0, *value]}))
        .collect();
    json!({"status": "success", "data": {"resultType": "vector", "result": result}})
}

fn answer(query: &str) -> Value {
    if query.contains("__name__") {
        vector(&[
            ("__name__", "canary_pay_baseline_weight", "30"),
            ("__name__", "canary_pay_canary_rule", "5"),
            ("__name__", "canary_pay_canary_weight", "7"),
        ])
    } else if query.contains("upstream_rq_completed") {
        vector(&[
            ("envoy_cluster_name", "pay-v1", "30"),
            ("envoy_cluster_name", "pay-v2", "12"),
        ])
    } else if query.contains("upstream_rq_xx") {
        vector(&[("envoy_cluster_name", "pay-v2", "3")])
    } else if query.contains("histogram_quantile") {
        vector(&[
            ("envoy_cluster_name", "pay-v1", "4.5"),
            ("envoy_cluster_name", "pay-v2", "NaN"),
        ])
    } else {
        json!({"status": "error", "error": "unexpected query"})
    }
}

/// A Prometheus stand-in on a free loopback port; the queries it got.
fn stand_in() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    thread::spawn(move || {
        for stream in listener.incoming().take(MAX_QUERIES) {
            let Ok(mut stream) = stream else { return };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut line).unwrap();
            // The rest of the head, up to the blank line.
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let target = line.split(' ').nth(1).unwrap_or_default();
            let query = percent_decode(target.split_once("query=").map_or("", |(_, q)| q));
            let body = answer(&query).to_string();
            seen.lock().unwrap().push(query);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, queries)
}

#[test]
fn live_numbers_come_from_prometheus_queries() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.json");
    std::fs::write(&file, plugin_config([pay_release()])).unwrap();
    let (url, queries) = stand_in();
    let console = ConsoleServer::start(&file, &["--prometheus", &url]);
    let metrics = console.get("/api/releases/pay/metrics");
    assert_eq!(metrics.status, 200, "{metrics:?}");
    let metrics = json(&metrics);
    let versions = &metrics["versions"];
    assert_eq!(versions[0]["version"], "pay-v1");
    assert_eq!(versions[0]["routed"], 30);
    assert_eq!(versions[1]["routed"], 12, "rule 5 + weight 7");
    assert_eq!(versions[0]["completed"], 30);
    assert_eq!(versions[1]["errors_5xx"], 3);
    assert_eq!(versions[0]["errors_5xx"], Value::Null);
    assert_eq!(versions[0]["p99_ms"], 4.5);
    assert_eq!(versions[1]["p99_ms"], Value::Null, "NaN is no number");
    assert_eq!(versions[1]["endpoints"], Value::Null);
    let queries = queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 4, "{queries:?}");
    assert!(
        queries[0].contains("canary_pay_canary_sticky"),
        "{queries:?}"
    );
    assert!(
        queries[1].contains("envoy_cluster_name=~\"pay-v1|pay-v2\""),
        "{queries:?}"
    );

    // A Prometheus nobody answers at: 502 with a message, not a hang or a panic.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let console = ConsoleServer::start(&file, &["--prometheus", &format!("http://{closed}")]);
    let metrics = console.get("/api/releases/pay/metrics");
    assert_eq!(metrics.status, 502, "{metrics:?}");
    assert!(json(&metrics)["error"]
        .as_str()
        .unwrap()
        .contains("cannot reach Prometheus"));
}
