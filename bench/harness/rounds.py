"""The paired measurement: short wrk bursts, round-robin over the variants'
listeners, many rounds. Envoy's own cost drifts between runs by more than one
filter costs; bursts of every variant within one round see the same drift,
so per-round differences (and their medians) are stable."""

import re
import subprocess

from checks import TRACEPARENT

LINE = re.compile(r"BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                  r"socket_errors=(\d+) non2xx=(\d+)")


def burst(front, port, script, seconds, connections, core=1):
    """One wrk burst at a listener; the front Envoy's CPU over it."""
    args = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
            "--latency", "-s", script, f"http://127.0.0.1:{port}/", "--", TRACEPARENT]
    cpu_before = front.cpu_seconds()
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    cpu = front.cpu_seconds() - cpu_before
    match = LINE.search(done.stdout)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    requests, duration_us, p50, p99, socket_errors, non2xx = map(int, match.groups())
    if requests == 0:
        raise RuntimeError(f"wrk sent no request to port {port}:\n{done.stdout}")
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "cpu_us": cpu * 1e6 / requests,
        "errors": socket_errors + non2xx,
    }


def run(front, variants, ports, script, rounds, warmup, seconds, connections, progress):
    """Rows of (round, variant key, burst figures) for the measured rounds.
    Each round starts one variant later than the one before, so no variant
    always runs first (or right after the same neighbour)."""
    rows = []
    total = warmup + rounds
    for number in range(total):
        start = number % len(variants)
        order = variants[start:] + variants[:start]
        figures = {}
        for variant in order:
            figures[variant["key"]] = burst(front, ports[variant["key"]], script, seconds,
                                            connections)
        measured = number >= warmup
        progress(number - warmup + 1 if measured else None, rounds, figures)
        if measured:
            for variant in variants:
                rows.append({"round": number - warmup + 1, "variant": variant["key"],
                             **figures[variant["key"]]})
    return rows
