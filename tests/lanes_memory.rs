//! The lane table stays bounded: 400,000 distinct trace ids recorded through
//! one sidecar Envoy (loose mode, `--concurrency 2`) grow its RSS by at most
//! 20 MB, and lookups keep working afterwards. The sidecar answers itself
//! (direct responses), so the requests cost Envoy only; they go pipelined,
//! a batch per write on a few keep-alive connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use serde_json::{json, Value};

use crate::support::chain::{
    kit_configs, static_filter, traceparent, Forward, LANE_HEADER, VERSION_HEADER,
};
use crate::support::{Envoy, Request};

const TRACES: u64 = 400_000;
const MAX_GROWTH_BYTES: u64 = 20 * 1024 * 1024;
const CONNECTIONS: u64 = 8;

/// A listener answering 200 itself, echoing the routing and lane headers the
/// filter left on the request.
fn listener(name: &str, direction: &str, filter: &Value) -> Value {
    let echo = |header: &str| json!({"header": {"key": format!("x-echo-{header}"), "value": format!("%REQ({header})%")}});
    json!({
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "traffic_direction": direction,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": name,
                "route_config": {"name": name, "virtual_hosts": [{"name": "any", "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"},
                        "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}],
                    "response_headers_to_add": [echo(VERSION_HEADER), echo(LANE_HEADER)]}]},
                "http_filters": [filter, {"name": "envoy.filters.http.router", "typed_config":
                    {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]
            }
        }]}]
    })
}

fn sidecar() -> Envoy {
    let (config, _) = kit_configs(Forward::TraceContext);
    let config = config.to_string();
    let filter = static_filter(&config);
    let bootstrap = json!({
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {"listeners": [
            listener("front", "OUTBOUND", &filter),
            listener("inbound", "INBOUND", &filter)
        ]}
    });
    Envoy::builder(&config)
        .bootstrap(bootstrap.to_string())
        .concurrency(2)
        .start()
}

/// The Envoy process's resident set, from /proc (found by its bootstrap).
fn rss_bytes(envoy: &Envoy) -> u64 {
    let bootstrap = envoy.dir().join("envoy.yaml");
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let text = String::from_utf8_lossy(&cmdline);
            text.contains(&*bootstrap.to_string_lossy()) && !text.starts_with("bash")
        })
        .map(|entry| entry.path())
        .unwrap_or_else(|| panic!("no Envoy process runs {}", bootstrap.display()));
    vm_rss(&pid.join("status"))
}

fn vm_rss(status: &Path) -> u64 {
    let text = std::fs::read_to_string(status).unwrap();
    let line = text.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Records traces `from..to` through `inbound`, one request at a time on
/// one keep-alive connection (Envoy does not take pipelined requests);
/// panics unless each is answered 200.
fn record(inbound: SocketAddr, from: u64, to: u64) {
    const END_OF_ANSWER: &[u8] = b"\r\n\r\nok";
    let mut stream = TcpStream::connect(inbound).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let mut request = Vec::with_capacity(256);
    for trace in from..to {
        request.clear();
        write!(
            request,
            "GET / HTTP/1.1\r\nhost: pay\r\n{LANE_HEADER}: gray\r\ntraceparent: {}\r\n\r\n",
            traceparent(trace)
        )
        .unwrap();
        stream.write_all(&request).unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(END_OF_ANSWER) {
            let read = stream.read(&mut buffer).unwrap();
            assert!(
                read > 0,
                "the sidecar closed the connection at trace {trace}"
            );
            answer.extend_from_slice(&buffer[..read]);
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
}

/// Whether the outbound listener finds trace `n`'s lane (routes pay to v2).
fn finds(envoy: &Envoy, n: u64) -> bool {
    let response = envoy.send(
        &Request::get("/")
            .host("pay")
            .header("traceparent", traceparent(n)),
    );
    response
        .header(&format!("x-echo-{VERSION_HEADER}"))
        .as_deref()
        == Some("v2")
}

#[test]
fn four_hundred_thousand_traces_grow_rss_by_at_most_20_mb_and_lookups_still_work() {
    let envoy = sidecar();
    let inbound = envoy_listener(&envoy, "inbound");
    // Warm up: connections, the VMs, the first slots.
    record(inbound, 1, 2_001);
    assert!(finds(&envoy, 2_000));
    let before = rss_bytes(&envoy);
    let started = std::time::Instant::now();
    let per_connection = TRACES / CONNECTIONS;
    std::thread::scope(|scope| {
        for c in 0..CONNECTIONS {
            let from = 10_000 + c * per_connection;
            scope.spawn(move || record(inbound, from, from + per_connection));
        }
    });
    let elapsed = started.elapsed();
    let after = rss_bytes(&envoy);
    let growth = after.saturating_sub(before);
    // Lookups afterwards: the newest traces, recorded now one after the
    // other, are found (a few may lose a slot to a later one of them).
    let newest = 900_000_000;
    record(inbound, newest, newest + 1_000);
    let recent = (newest..newest + 1_000)
        .filter(|&n| finds(&envoy, n))
        .count();
    let fresh = 1_000_000_000;
    record(inbound, fresh, fresh + 1);
    println!(
        "{TRACES} traces recorded in {elapsed:.1?}: RSS {:.1} MB -> {:.1} MB (+{:.1} MB); \
         {recent} of the 1000 traces recorded next found",
        before as f64 / 1e6,
        after as f64 / 1e6,
        growth as f64 / 1e6
    );
    assert!(growth <= MAX_GROWTH_BYTES, "RSS grew by {growth} bytes");
    assert!(finds(&envoy, fresh), "a trace recorded now is found");
    assert!(
        recent >= 950,
        "only {recent} of the 1000 newest traces found"
    );
    assert!(
        !finds(&envoy, fresh + 1),
        "a trace never recorded has no lane"
    );
}

fn envoy_listener(envoy: &Envoy, name: &str) -> SocketAddr {
    let body = envoy.admin_get("/listeners?format=json");
    let json: Value = serde_json::from_str(&body).unwrap();
    let listener = json["listener_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no listener {name}: {body}"));
    let socket = &listener["local_address"]["socket_address"];
    let ip: std::net::IpAddr = socket["address"].as_str().unwrap().parse().unwrap();
    SocketAddr::new(ip, socket["port_value"].as_u64().unwrap() as u16)
}
