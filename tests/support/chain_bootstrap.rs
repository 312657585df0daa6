//! The Envoy bootstraps of the lanes chain (support/chain.rs): the
//! gateway's, and each pod's sidecar with its inbound and outbound
//! listeners, as JSON.

use serde_json::{json, Value};

/// The header the gateway's and sidecars' routes match on.
pub const VERSION_HEADER: &str = "x-canary-version";
/// The lane header of the chain's plugin configs.
pub const LANE_HEADER: &str = "x-canary-lane";
/// The services in call order, with their deployed versions.
pub const SERVICES: [(&str, &[&str]); 4] = [
    ("order", &["v1", "v2"]),
    ("pay", &["v1", "v2"]),
    ("stock", &["v1"]),
    ("ledger", &["v1", "v2"]),
];
/// One service version: its app and its sidecar's two listeners.
pub(super) struct Pod {
    pub(super) service: &'static str,
    pub(super) version: &'static str,
    pub(super) next: Option<&'static str>,
    pub(super) inbound: u16,
    pub(super) outbound: u16,
}

impl Pod {
    pub(super) fn name(&self) -> String {
        format!("{}-{}", self.service, self.version)
    }
}

fn loopback(port: u16) -> Value {
    json!({"socket_address": {"address": "127.0.0.1", "port_value": port}})
}

fn cluster(name: &str, port: u16) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": loopback(port)}}
        ]}]}
    })
}

/// An HTTP listener: the connection manager with the early strip of
/// `strip`, the canary `filter` and the router.
fn listener(
    name: &str,
    port: u16,
    direction: &str,
    routes: Value,
    strip: &[&str],
    filter: Value,
) -> Value {
    let mutations: Vec<Value> = strip.iter().map(|h| json!({"remove": h})).collect();
    let mut manager = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": name,
        "route_config": routes,
        "http_filters": [filter, {"name": "envoy.filters.http.router", "typed_config":
            {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]
    });
    if !mutations.is_empty() {
        manager["early_header_mutation_extensions"] = json!([{
            "name": "envoy.http.early_header_mutation.header_mutation",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
                "mutations": mutations
            }
        }]);
    }
    json!({
        "name": name,
        "address": loopback(port),
        // A port taken by another process fails the start rather than being
        // shared through SO_REUSEPORT (Envoy's default on Linux).
        "enable_reuse_port": false,
        "traffic_direction": direction,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": manager
        }]}]
    })
}

/// Routes host `service` by the version header to its pods' clusters
/// (`<service>-<version>`): v2 when named and deployed, else v1.
fn routes_to(service: &str, pods: &[Pod]) -> Value {
    let mut routes: Vec<Value> = pods
        .iter()
        .filter(|pod| pod.service == service)
        .map(|pod| {
            json!({"match": {"prefix": "/", "headers": [{"name": VERSION_HEADER,
                    "string_match": {"exact": pod.version}}]},
                   "route": {"cluster": pod.name(), "timeout": "10s"}})
        })
        .collect();
    routes.push(json!({"match": {"prefix": "/"},
        "route": {"cluster": format!("{service}-v1"), "timeout": "10s"}}));
    json!({"name": service, "virtual_hosts": [{
        "name": service, "domains": [service, format!("{service}:*")], "routes": routes
    }]})
}

fn clusters_of(service: &str, pods: &[Pod]) -> Vec<Value> {
    pods.iter()
        .filter(|pod| pod.service == service)
        .map(|pod| cluster(&pod.name(), pod.inbound))
        .collect()
}

pub(super) fn gateway_bootstrap(pods: &[Pod], filter: Value, strip: bool) -> String {
    let (first, _) = SERVICES[0];
    let stripped: &[&str] = if strip {
        &[VERSION_HEADER, LANE_HEADER]
    } else {
        &[]
    };
    json!({
        "node": {"id": "gateway", "cluster": "gateway"},
        "admin": {"address": loopback(0)},
        "static_resources": {
            "listeners": [listener("front", 0, "UNSPECIFIED", routes_to(first, pods),
                stripped, filter)],
            "clusters": clusters_of(first, pods)
        }
    })
    .to_string()
}

pub(super) fn sidecar_bootstrap(pod: &Pod, app_port: u16, pods: &[Pod], filter: Value) -> String {
    let app = json!({"name": "app", "virtual_hosts": [{"name": "app", "domains": ["*"],
        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app", "timeout": "10s"}}]}]});
    let mut listeners = vec![listener(
        "inbound",
        pod.inbound,
        "INBOUND",
        app,
        &[],
        filter.clone(),
    )];
    let mut clusters = vec![cluster("app", app_port)];
    // The harness finds a listener named `front`: the outbound one. The
    // last service calls nobody, but keeps it so every sidecar is alike.
    let next = pod.next.unwrap_or("nowhere");
    listeners.push(listener(
        "front",
        pod.outbound,
        "OUTBOUND",
        routes_to(next, pods),
        &[VERSION_HEADER],
        filter,
    ));
    clusters.extend(clusters_of(next, pods));
    if pod.next.is_none() {
        clusters.push(cluster("nowhere-v1", app_port));
    }
    json!({
        "node": {"id": format!("sidecar~{}", pod.name()), "cluster": pod.service},
        "admin": {"address": loopback(0)},
        "static_resources": {"listeners": listeners, "clusters": clusters}
    })
    .to_string()
}
