"""The variants compared, each a listener of the front Envoy."""

import os


def variants(canary_wasm, modules, plugin_config, lua_source, plugin_config_three=None):
    """In table order. `key` names a variant in the CSVs; `letter` is the
    issue's naming: (a) native, (b) no-op floor, (c) ours, (c3) ours with
    three canaries, (d) Lua."""
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
    ] if plugin_config_three else []) + [
        {"key": "lua", "letter": "d", "label": "same logic in Lua",
         "kind": "lua", "routes": "header", "sticky": True, "lua": lua_source},
    ]


# Per-filter cost ratios reported, as (numerator, denominator, target).
RATIOS = [
    ("canary", "lua", "<= 0.9"),
    ("canary3", "lua", "<= 0.7"),
    ("canary3", "canary", None),
    # The "no-op SDK filter": the SDK's no-op as the SDK builds it.
    ("canary", "noop-sdk", "<= 1.6"),
    # The stricter floor: the same no-op with its exports trimmed to the
    # three per-request callbacks an SDK filter needs.
    ("canary", "noop", None),
    ("noop-sdk", "noop", None),
]
