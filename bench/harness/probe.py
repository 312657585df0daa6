"""Which guest calls Envoy makes per request, observed rather than assumed:
with the `wasm` log component at trace, proxy-wasm-cpp-host logs every call
into the module (`[host->vm] proxy_on_...`) and every host call out of it
(`[vm->host] env.proxy_...`). One Envoy, one listener per module with one
copy of it, a few requests each, the log lines counted per request."""

import collections
import os
import re
import time

import envoy_config
from checks import TRACEPARENT, Client
from envoy import Envoy, free_ports

GUEST = re.compile(r"\[host->vm\] (\w+)\(")
HOST = re.compile(r"\[vm->host\] (?:env\.)?([\w.]+)\(")


def _calls(log, start):
    with open(log, encoding="utf-8", errors="replace") as text:
        text.seek(start)
        chunk = text.read()
    return (collections.Counter(GUEST.findall(chunk)), collections.Counter(HOST.findall(chunk)),
            os.path.getsize(log))


def observe(binary, work, variants, requests=20):
    """{key: (guest calls per request {name: n}, host calls per request)}."""
    admin, v1, v2, *ports = free_ports(3 + len(variants))
    listeners = [envoy_config.variant_listener(v, p, copies=1) for v, p in zip(variants, ports)]
    config = os.path.join(work, "probe.json")
    envoy_config.write(config, envoy_config.front(admin, listeners, (v1, v2)))
    log = os.path.join(work, "probe.log")
    upstream_admin = free_ports(1)[0]
    upstream_config = os.path.join(work, "probe-upstream.json")
    envoy_config.write(upstream_config, envoy_config.upstream(upstream_admin, (v1, v2)))
    upstream = Envoy(binary, upstream_config, os.path.join(work, "probe-upstream.log"),
                     upstream_admin, core=1)
    front = Envoy(binary, config, log, admin, core=0,
                  extra_args=("--component-log-level", "wasm:trace"))
    found = {}
    try:
        upstream.wait_ready()
        front.wait_ready()
        time.sleep(0.5)
        offset = os.path.getsize(log)
        for variant, port in zip(variants, ports):
            client = Client(port)
            try:
                for n in range(requests):
                    # The load's traceparent: (c) must make no call for it;
                    # (cl) looks it up (a miss here: nothing is recorded).
                    client.served_by(X_User_Id=f"user-{n}", traceparent=TRACEPARENT)
            finally:
                client.close()
            time.sleep(0.5)  # let the log catch up
            guest, host, offset = _calls(log, offset)
            found[variant["key"]] = (
                {name: count / requests for name, count in sorted(guest.items())},
                {name: count / requests for name, count in sorted(host.items())},
            )
    finally:
        front.stop()
        upstream.stop()
    return found
