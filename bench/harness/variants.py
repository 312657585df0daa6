"""The variants compared, each a listener of the front Envoy."""

import os


def variants(canary_wasm, modules, plugin_config, lua_source):
    """In table order. `key` names a variant in the CSVs; `letter` is the
    issue's naming: (a) native, (b) no-op floor, (c) ours, (d) Lua, (e) the
    prototype."""
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
        {"key": "lua", "letter": "d", "label": "same logic in Lua",
         "kind": "lua", "routes": "header", "sticky": True, "lua": lua_source},
        {"key": "lean", "letter": "e", "label": "lean-ABI prototype",
         "kind": "wasm", "routes": "header", "sticky": True,
         "module": os.path.join(modules, "lean.wasm"), "plugin_config": plugin_config},
    ]


# The prototype stopped after each step (BENCH_BREAKDOWN=1): the difference
# between two neighbours is what that step costs. The full prototype (e) is
# the last step (+ the counter).
BREAKDOWN = [
    ("call", "lean: the guest call alone"),
    ("fetch", "lean: + read all request headers"),
    ("decide", "lean: + decide"),
    ("write", "lean: + write the routing header"),
]


def breakdown(modules, plugin_config):
    return [{"key": f"lean-{stage}", "letter": f"e{i}", "label": label, "kind": "wasm",
             "routes": "header", "sticky": True, "check": False,
             "module": os.path.join(modules, f"lean-{stage}.wasm"),
             "plugin_config": plugin_config}
            for i, (stage, label) in enumerate(BREAKDOWN)]


# Per-filter cost ratios reported, as (numerator, denominator, target).
RATIOS = [
    ("canary", "lua", "<= 0.9"),
    ("canary", "noop", "<= 1.6"),
    # The "no-op SDK filter" may mean the SDK as shipped, all exports.
    ("canary", "noop-sdk", "<= 1.6"),
    ("lean", "lua", "aim 0.6"),
    ("lean", "noop", None),
    ("lean", "noop-sdk", None),
    ("lean", "canary", None),
    ("noop-sdk", "noop", None),
]
