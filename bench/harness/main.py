"""bench/run.sh's second half: sizes, the paired rounds, start-up, guest
calls, then the table, CSVs and chart. See bench/README.md."""

import argparse
import os
import sys
import time

import chart
import checks
import envoy_config
import probe
import report
import rounds
import startup
from envoy import Envoy, free_ports
from variants import variants
from wasm_exports import exports

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def say(message):
    print(f"bench: {message}", flush=True)


def parse():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envoy", required=True)
    parser.add_argument("--canary", required=True, help="the shipped module")
    parser.add_argument("--modules", required=True, help="folder of the bench-only modules")
    parser.add_argument("--work", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--note", default=os.environ.get("BENCH_NOTE", ""),
                        help="a line printed on the table and chart (e.g. 'trial run')")
    return parser.parse_args()


def read(path):
    with open(path, encoding="utf-8") as source:
        return source.read()


def module_sizes(the_variants, modules):
    sizes = {v["key"]: os.path.getsize(v["module"]) for v in the_variants if "module" in v}
    sizes["noop-raw"] = os.path.getsize(os.path.join(modules, "noop-raw.wasm"))
    for v in the_variants:
        if "module" in v:
            say(f"  {v['key']:<13}{sizes[v['key']]:>9,} bytes, {len(exports(v['module']))} exports")
    say(f"  {'noop-raw':<13}{sizes['noop-raw']:>9,} bytes (cargo's output, before wasm-opt)")
    return sizes


def paired_rounds(args, the_variants):
    recorders = [v for v in the_variants if v.get("lane_recorder")]
    ports = free_ports(4 + len(the_variants) + len(recorders))
    admin, upstream_admin, v1, v2 = ports[:4]
    listener_ports = {v["key"]: p for v, p in zip(the_variants, ports[4:])}
    recorder_ports = {v["key"]: p for v, p in zip(recorders, ports[4 + len(the_variants):])}
    listeners = [envoy_config.variant_listener(v, listener_ports[v["key"]]) for v in the_variants]
    listeners += [envoy_config.lane_recorder_listener(v, recorder_ports[v["key"]])
                  for v in recorders]
    front_config = os.path.join(args.work, "front.json")
    upstream_config = os.path.join(args.work, "upstream.json")
    envoy_config.write(front_config, envoy_config.front(admin, listeners, (v1, v2)))
    envoy_config.write(upstream_config, envoy_config.upstream(upstream_admin, (v1, v2)))
    # The upstream is a second Envoy on the load generator's core, so the
    # front's CPU is the proxy hop alone and its one worker serves only it.
    upstream = Envoy(args.envoy, upstream_config, os.path.join(args.work, "upstream.log"),
                     upstream_admin, core=1)
    front = Envoy(args.envoy, front_config, os.path.join(args.work, "front.log"), admin, core=0)
    try:
        upstream.wait_ready()
        front.wait_ready()
        say("checking that every variant routes as the rule says")
        failed = False
        for v in the_variants:
            for problem in checks.check(v, listener_ports[v["key"]]):
                say(f"  ({v['letter']}) {v['key']}: {problem}")
                failed = True
        for v in recorders:
            for problem in checks.record_lane(recorder_ports[v["key"]], listener_ports[v["key"]],
                                              envoy_config.lane_headers(v)):
                say(f"  ({v['letter']}) {v['key']}: lane record: {problem}")
                failed = True
        if failed:
            raise RuntimeError("a variant does not route correctly; not measuring it")

        def progress(number, total, figures):
            line = "  ".join(f"{key} {f['cpu_us']:.1f}" for key, f in figures.items())
            say(f"  {'warm-up' if number is None else f'round {number}/{total}'}: "
                f"CPU us/req {line}")

        say(f"{args.warmup} warm-up + {args.rounds} rounds of {args.seconds} s bursts, "
            f"{args.connections} connections, over {len(the_variants)} listeners")
        rows = rounds.run(front, the_variants, listener_ports,
                          os.path.join(HERE, "wrk", "requests.lua"), args.rounds, args.warmup,
                          args.seconds, args.connections, progress)
    finally:
        front.stop()
        upstream.stop()
    return rows


def main():
    args = parse()
    os.makedirs(args.work, exist_ok=True)
    the_variants = variants(args.canary, args.modules, read(os.path.join(HERE, "plugin-config.json")),
                            read(os.path.join(HERE, "lua", "canary.lua")),
                            read(os.path.join(HERE, "plugin-config-three.json")),
                            read(os.path.join(HERE, "plugin-config-lanes.json")))
    by_key = {v["key"]: v for v in the_variants}
    started = time.monotonic()
    say("modules:")
    sizes = module_sizes(the_variants, args.modules)
    rows = paired_rounds(args, the_variants)

    say(f"start-up: {args.startup_runs} runs each, interleaved")
    cases = [("none", None)] + [(key, by_key[key]) for key in ("noop", "noop-sdk", "canary")]
    times = startup.measure(args.envoy, args.work, cases, args.startup_runs,
                            lambda run, runs: say(f"  start-up run {run}/{runs}"))
    say("guest calls per request (wasm:trace)")
    calls = probe.observe(args.envoy, args.work,
                          [v for v in the_variants if v["kind"] == "wasm"])

    per_round, table, ratios = report.summarise(rows, the_variants)
    startup_summary = startup.summary(times)
    summary = report.text(table, ratios, startup_summary, sizes, calls, args.note)
    report.write_csvs(args.results, per_round, table, ratios, startup_summary, sizes)
    with open(os.path.join(args.results, "summary.txt"), "w", encoding="utf-8") as out:
        out.write(summary)
    with open(os.path.join(args.results, "chart.svg"), "w", encoding="utf-8") as out:
        out.write(chart.svg(table, ratios, args.note))
    print()
    print(summary)
    say(f"done in {time.monotonic() - started:.0f} s; results in {args.results}/ "
        "(summary.txt, results.csv, ratios.csv, rounds.csv, startup.csv, chart.svg)")


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError) as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
