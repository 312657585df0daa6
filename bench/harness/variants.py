"""The variants compared, each a listener of the front Envoy."""

import os


def variants(canary_wasm, modules, plugin_config, lua_source, plugin_config_three=None,
             plugin_config_lanes=None):
    """In table order. `key` names a variant in the CSVs; `letter` is the
    issue's naming: (a) native, (b) no-op floor, (c) ours, (c3) ours with
    three canaries, (cl) ours with lanes, (d) Lua."""
    return [
        {"key": "native", "letter": "a", "label": "native routing (no filter)",
         "kind": "native", "routes": "native", "sticky": False},
        {"key": "noop", "letter": "b", "label": "no-op proxy-wasm SDK (slimmed)",
         "kind": "wasm", "routes": "native", "sticky": False,
         "module": os.path.join(modules, "noop-slim.wasm")},
        {"key": "noop-sdk", "letter": "b'", "label": "no-op proxy-wasm SDK (all exports)",
         "kind": "wasm", "routes": "native", "sticky": False,
         "module": os.path.join(modules, "noop-sdk.wasm")},
        {"key": "canary", "letter": "c", "label": "canary filter",
         "kind": "wasm", "routes": "header", "sticky": True,
         "module": canary_wasm, "plugin_config": plugin_config},
    ] + ([
        # The same rule on the first of three canaries; the other two (one
        # with a rule of two conditions, one with none) at weight 0, so the
        # routing checks are the two-version filter's while every request
        # that misses the first rule also tests the second.
        {"key": "canary3", "letter": "c3", "label": "canary filter, three canaries",
         "kind": "wasm", "routes": "header", "sticky": True,
         "module": canary_wasm, "plugin_config": plugin_config_three, "vm_id": "three"},
    ] if plugin_config_three else []) + ([
        # (c)'s release with its canary in lane gray and loose-mode lanes,
        # on an OUTBOUND listener. The load's traceparent is recorded in
        # lane gray first (through `lane_recorder`, an INBOUND listener with
        # the same VMs), so every timed request is a lane look-up hit: the
        # lane decides (reason lane) and the filter writes the lane header.
        # Each copy has its own lane header and VM (envoy_config.copy_settings)
        # so that every copy looks the trace up.
        {"key": "canary-lanes", "letter": "cl", "label": "canary filter, lanes (outbound hit)",
         "kind": "wasm", "routes": "header", "sticky": True,
         "module": canary_wasm, "plugin_config": plugin_config_lanes, "vm_id": "lanes",
         "direction": "OUTBOUND", "lane_recorder": True,
         "lane_header_per_copy": "x-canary-lane"},
        # The control for (cl)'s eight VMs: (c) exactly, but a VM per copy.
        {"key": "canary-vms", "letter": "c8", "label": "canary filter, a VM per copy",
         "kind": "wasm", "routes": "header", "sticky": True,
         "module": canary_wasm, "plugin_config": plugin_config, "vm_id": "per-copy",
         "vm_per_copy": True},
    ] if plugin_config_lanes else []) + [
        {"key": "lua", "letter": "d", "label": "same logic in Lua",
         "kind": "lua", "routes": "header", "sticky": True, "lua": lua_source},
    ]


# Per-filter cost ratios reported, as (numerator, denominator, target).
RATIOS = [
    ("canary", "lua", "<= 0.9"),
    ("canary3", "lua", "<= 0.7"),
    ("canary3", "canary", None),
    ("canary-lanes", "canary", None),
    # The same without the cost of eight VMs rather than one.
    ("canary-lanes", "canary-vms", None),
    ("canary-vms", "canary", None),
    # The "no-op SDK filter": the SDK's no-op as the SDK builds it.
    ("canary", "noop-sdk", "<= 1.6"),
    # The stricter floor: the same no-op with its exports trimmed to the
    # three per-request callbacks an SDK filter needs.
    ("canary", "noop", None),
    ("noop-sdk", "noop", None),
]
