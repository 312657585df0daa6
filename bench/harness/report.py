"""From the rounds' raw figures to what a reader needs: medians and ranges
per variant, the per-filter cost and its ratios (computed per round, then
the median taken), as a table, CSV files and an SVG chart."""

import csv
import os
import statistics

from envoy_config import STACK
from variants import RATIOS


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def per_round(rows):
    """{round: {variant: row}} with each row's per-filter cost added:
    (variant CPU - native CPU in the same round) / STACK."""
    rounds = {}
    for row in rows:
        rounds.setdefault(row["round"], {})[row["variant"]] = dict(row)
    for by_variant in rounds.values():
        native = by_variant["native"]["cpu_us"]
        for key, row in by_variant.items():
            row["per_filter_us"] = None if key == "native" else (row["cpu_us"] - native) / STACK
    return rounds


def summarise(rows, variants):
    rounds = per_round(rows)
    table = []
    for variant in variants:
        mine = [by_variant[variant["key"]] for by_variant in rounds.values()]
        entry = {"variant": variant, "rounds": len(mine)}
        for field in ("rps", "p50_ms", "p99_ms", "cpu_us"):
            entry[field] = spread([row[field] for row in mine])
        entry["busy"] = spread([row["rps"] * row["cpu_us"] / 1e6 for row in mine])
        entry["errors"] = sum(row["errors"] for row in mine)
        if variant["key"] != "native":
            entry["per_filter_us"] = spread([row["per_filter_us"] for row in mine])
        table.append(entry)
    ratios = []
    present = {v["key"] for v in variants}
    for top, bottom, target in RATIOS:
        if not {top, bottom} <= present:
            continue
        values = [by_variant[top]["per_filter_us"] / by_variant[bottom]["per_filter_us"]
                  for by_variant in rounds.values()
                  if by_variant[bottom]["per_filter_us"] > 0]
        if values:
            ratios.append({"top": top, "bottom": bottom, "target": target, **spread(values)})
    return rounds, table, ratios


def _range(s, digits):
    return f"{s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}]"


def text(table, ratios, startup, sizes, guest_calls, note):
    letters = {e["variant"]["key"]: e["variant"]["letter"] for e in table}
    rounds = table[0]["rounds"] if table else 0
    lines = []
    if note:
        lines.append(f"NOTE: {note}")
    lines.append(f"Per variant: median [min-max] over {rounds} paired rounds; front Envoy: 1 worker "
                 f"pinned to core 0; each filter variant is a stack of {STACK} copies.")
    lines.append(f"{'variant':<48}{'req/s':>22}{'p50 ms':>8}{'p99 ms':>8}"
                 f"{'CPU us/req':>22}{'per filter us':>22}{'busy':>6}")
    for e in table:
        v = e["variant"]
        per_filter = _range(e["per_filter_us"], 2) if "per_filter_us" in e else "-"
        lines.append(f"{'(' + v['letter'] + ') ' + v['label']:<48}{_range(e['rps'], 0):>22}"
                     f"{e['p50_ms']['median']:>8.3f}{e['p99_ms']['median']:>8.3f}"
                     f"{_range(e['cpu_us'], 1):>22}{per_filter:>22}"
                     f"{e['busy']['median']:>6.0%}")
        if e["errors"]:
            lines.append(f"    ! {e['errors']} socket errors or non-2xx responses")
    lines.append("")
    lines.append("Per-filter cost ratios (per round, then median [min-max]):")
    for r in ratios:
        name = f"({letters[r['top']]})/({letters[r['bottom']]}) {r['top']} / {r['bottom']}"
        target = f"   target {r['target']}" if r["target"] else ""
        lines.append(f"  {name:<32}{_range(r, 2):>22}{target}")
    if startup:
        lines.append("")
        lines.append("Start-up to ready (one listener, one copy), median [min-max] ms, and module size:")
        for key, s in startup.items():
            size = f"{sizes[key]:>9,} bytes" if key in sizes else "   (no module)"
            ms = {k: s[k] * 1000 for k in ("median", "min", "max")}
            lines.append(f"  {key:<10}{_range(ms, 0):>22}  {size}")
        for floor in ("noop", "noop-sdk"):
            if "canary" in startup and floor in startup:
                lines.append(f"  canary / {floor} start-up: "
                             f"{startup['canary']['median'] / startup[floor]['median']:.2f}x"
                             f"   (target <= 1.2x; module target <= 200 KB)")
    if guest_calls:
        lines.append("")
        lines.append("Calls per request observed with wasm:trace (guest = Envoy into the module):")
        for key, (guest, host) in guest_calls.items():
            total = sum(guest.values())
            listed = ", ".join(f"{name.removeprefix('proxy_on_')} {count:g}"
                               for name, count in guest.items())
            lines.append(f"  {key:<13} guest {total:g}: {listed}")
            if host:
                listed = ", ".join(f"{name.removeprefix('proxy_')} {count:g}"
                                   for name, count in host.items())
                lines.append(f"  {'':<13} host: {listed}")
        lines.append("  (log: the filters' debug line, emitted only because the probe runs at trace)")
    return "\n".join(lines) + "\n"


def write_csvs(results, rounds, table, ratios, startup, sizes):
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "rounds.csv"), "w", newline="", encoding="utf-8") as out:
        fields = ["round", "variant", "requests", "rps", "p50_ms", "p99_ms", "cpu_us",
                  "per_filter_us", "errors"]
        writer = csv.DictWriter(out, fields, extrasaction="ignore")
        writer.writeheader()
        for _, by_variant in sorted(rounds.items()):
            for row in by_variant.values():
                writer.writerow(row)
    with open(os.path.join(results, "results.csv"), "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        header = ["letter", "variant", "label", "rounds"]
        for field in ("rps", "p50_ms", "p99_ms", "cpu_us", "per_filter_us"):
            header += [f"{field}_median", f"{field}_min", f"{field}_max"]
        writer.writerow(header)
        for e in table:
            v = e["variant"]
            row = [v["letter"], v["key"], v["label"], e["rounds"]]
            for field in ("rps", "p50_ms", "p99_ms", "cpu_us", "per_filter_us"):
                s = e.get(field)
                digits = {"rps": 0, "p50_ms": 3, "p99_ms": 3}.get(field, 2)
                row += ([f"{s[k]:.{digits}f}" for k in ("median", "min", "max")] if s
                        else ["", "", ""])
            writer.writerow(row)
    with open(os.path.join(results, "ratios.csv"), "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["ratio", "median", "min", "max", "target"])
        for r in ratios:
            writer.writerow([f"{r['top']}/{r['bottom']}", f"{r['median']:.3f}", f"{r['min']:.3f}",
                             f"{r['max']:.3f}", r["target"] or ""])
    with open(os.path.join(results, "startup.csv"), "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["module", "size_bytes", "ready_ms_median", "ready_ms_min",
                         "ready_ms_max", "runs"])
        for key, s in startup.items():
            writer.writerow([key, sizes.get(key, ""), f"{s['median'] * 1000:.1f}",
                             f"{s['min'] * 1000:.1f}", f"{s['max'] * 1000:.1f}", s["runs"]])
