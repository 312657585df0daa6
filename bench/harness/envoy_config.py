"""Envoy bootstraps for the benchmark, as plain dicts (written as JSON, which
Envoy reads as YAML).

The front Envoy has one listener per variant; each variant is a stack of
STACK copies of its filter before the router, so that a filter's cost stands
out of the run-to-run drift of Envoy's own cost. The upstream Envoy answers
from two listeners (pay-v1, pay-v2) with a direct response naming itself, so
a check can see where a request was routed.
"""

import json

STACK = 8
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
BASELINE, CANARY = "pay-v1", "pay-v2"
ROUTING_HEADER = "x-canary-cluster"


def _address(port):
    return {"socket_address": {"address": "127.0.0.1", "port_value": port}}


def _listener(name, port, routes, http_filters, direction=None):
    listener = {
        "name": name,
        "address": _address(port),
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": HCM,
                "stat_prefix": name,
                "route_config": {
                    "name": name,
                    "virtual_hosts": [{"name": name, "domains": ["*"], "routes": routes}],
                },
                "http_filters": http_filters + [ROUTER],
            },
        }]}],
    }
    if direction:
        # What the filter reads as `xds.listener_direction` (lanes).
        listener["traffic_direction"] = direction
    return listener


def _to(cluster):
    return {"cluster": cluster}


def native_routes():
    """What an Istio VirtualService makes of the benchmark's rule: one route
    per match (header, query, regex header) to the canary, then a weighted
    split. Native routing has no sticky assignment."""
    regex = r"2\.[0-9]+\.[0-9]+-beta"
    return [
        {"match": {"prefix": "/", "headers": [
            {"name": "env", "string_match": {"exact": "test"}}]}, "route": _to(CANARY)},
        {"match": {"prefix": "/", "query_parameters": [
            {"name": "uid", "string_match": {"safe_regex": {"regex": "1001|1002"}}}]},
         "route": _to(CANARY)},
        {"match": {"prefix": "/", "headers": [
            {"name": "x-app-version", "string_match": {"safe_regex": {"regex": regex}}}]},
         "route": _to(CANARY)},
        {"match": {"prefix": "/"}, "route": {"weighted_clusters": {"clusters": [
            {"name": BASELINE, "weight": 80}, {"name": CANARY, "weight": 20}]}}},
    ]


def header_routes():
    """The routes behind a canary filter: the routing header it wrote names
    the cluster (as in envoy-test/envoy.yaml.tmpl)."""
    return [
        {"match": {"prefix": "/", "headers": [{"name": ROUTING_HEADER, "present_match": True}]},
         "route": {"cluster_header": ROUTING_HEADER}},
        {"match": {"prefix": "/"}, "route": _to(BASELINE)},
    ]


def wasm_filter(name, module, plugin_config, vm_id=""):
    """Every copy names the same module with the same vm_config, so the
    copies share one VM per worker, each with its own root context. A
    variant with other settings of the same module has its own `vm_id`
    (the filter runs one configuration per VM: README)."""
    return {"name": name, "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {
            "name": name,
            "vm_config": {"runtime": "envoy.wasm.runtime.v8", "vm_id": vm_id,
                          "code": {"local": {"filename": module}}},
            "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                              "value": plugin_config},
        },
    }}


def lua_filter(name, source):
    return {"name": name, "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
        "default_source_code": {"inline_string": source},
    }}


def variant_listener(variant, port, copies=STACK):
    """variant: {"key", "kind": native|wasm|lua, "module", "plugin_config",
    "lua", "routes": native|header, "direction" (optional)}."""
    filters = []
    for i in range(1, copies + 1 if variant["kind"] != "native" else 1):
        name = f"{variant['key']}-{i}"
        if variant["kind"] == "wasm":
            filters.append(wasm_filter(name, variant["module"], *copy_settings(variant, i)))
        elif variant["kind"] == "lua":
            filters.append(lua_filter(name, variant["lua"]))
    routes = native_routes() if variant["routes"] == "native" else header_routes()
    return _listener(variant["key"], port, routes, filters, variant.get("direction"))


def copy_settings(variant, i):
    """(plugin config, vm_id) of copy i of a wasm variant's stack. With
    `lane_header_per_copy`, copy i has its own lane header (`<header>-i`),
    hence its own config and VM (one configuration per VM): the lane header
    one copy writes must not reach the next, or only the first copy would
    look the trace up and the other seven would follow its header. With
    `vm_per_copy` alone, copy i has its own VM and the same config: the
    control that shows what eight VMs rather than one cost."""
    config, vm_id = variant.get("plugin_config", ""), variant.get("vm_id", "")
    header = variant.get("lane_header_per_copy")
    if header:
        config = config.replace(f'"{header}"', f'"{header}-{i}"')
    if header or variant.get("vm_per_copy"):
        vm_id = f"{vm_id}-{i}"
    return config, vm_id


def lane_headers(variant, copies=STACK):
    """The lane header of each copy of the variant's stack."""
    header = variant["lane_header_per_copy"]
    return [f"{header}-{i}" for i in range(1, copies + 1)]


def lane_recorder_listener(variant, port, copies=STACK):
    """An INBOUND listener with the variant's stack (same module, configs
    and vm_ids, so the same VMs and shared data): a request with the lane
    headers and a trace header there records trace -> lane in each VM, as a
    sidecar's inbound listener does."""
    filters = []
    for i in range(1, copies + 1):
        name = f"{variant['key']}-inbound-{i}"
        filters.append(wasm_filter(name, variant["module"], *copy_settings(variant, i)))
    return _listener(f"{variant['key']}-inbound", port, header_routes(), filters, "INBOUND")


def front(admin_port, listeners, upstream_ports):
    clusters = []
    for cluster, port in zip((BASELINE, CANARY), upstream_ports):
        clusters.append({
            "name": cluster,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {"cluster_name": cluster, "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": _address(port)}}]}]},
        })
    return {
        "node": {"id": "bench-front", "cluster": "bench"},
        "admin": {"address": _address(admin_port)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


def upstream(admin_port, upstream_ports):
    listeners = []
    for cluster, port in zip((BASELINE, CANARY), upstream_ports):
        routes = [{"match": {"prefix": "/"},
                   "direct_response": {"status": 200, "body": {"inline_string": cluster + "\n"}}}]
        listeners.append(_listener(cluster, port, routes, []))
    return {
        "node": {"id": "bench-upstream", "cluster": "bench"},
        "admin": {"address": _address(admin_port)},
        "static_resources": {"listeners": listeners},
    }


def write(path, bootstrap):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(bootstrap, out, indent=1)
