"""Start-up: seconds from exec to the admin's /ready saying LIVE, for an
Envoy with one listener running one copy of a module. V8 compiles the module
on the main thread before Envoy is ready, so a bigger or more complex module
delays every Envoy start (and every config push that brings a new module)."""

import os
import statistics

import envoy_config
from envoy import Envoy, free_ports


def measure(binary, work, cases, runs, progress):
    """cases: [(key, variant)] (variant None: no filter). Runs interleave the
    cases so that machine drift hits them alike. {key: [seconds...]}."""
    times = {key: [] for key, _ in cases}
    for run in range(runs):
        for key, variant in cases:
            admin, listener, v1, v2 = free_ports(4)
            listeners = []
            if variant is not None:
                listeners.append(envoy_config.variant_listener(variant, listener, copies=1))
            config = os.path.join(work, f"startup-{key}.json")
            envoy_config.write(config, envoy_config.front(admin, listeners, (v1, v2)))
            envoy = Envoy(binary, config, os.path.join(work, f"startup-{key}.log"), admin, core=0)
            try:
                times[key].append(envoy.wait_ready(poll=0.002))
            finally:
                envoy.stop()
        progress(run + 1, runs)
    return times


def summary(times):
    return {key: {"median": statistics.median(values), "min": min(values), "max": max(values),
                  "runs": len(values)} for key, values in times.items()}
