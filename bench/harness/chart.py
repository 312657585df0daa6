"""The results as an SVG bar chart, written by hand (no plotting library):
per-filter cost and the front Envoy's CPU per request, medians as bars,
min-max of the rounds as whiskers."""

from xml.sax.saxutils import escape

from envoy_config import STACK

COLOURS = {"native": "#8c8c8c", "noop": "#7fa7d9", "noop-sdk": "#b9cfe9",
           "canary": "#e07b24", "canary3": "#f2b27a",
           "canary-lanes": "#c45a12", "canary-vms": "#f5d0b0", "lua": "#8e6bb8"}
WIDTH, LABEL, RIGHT, ROW, BAR = 900, 330, 70, 28, 18


def _nice_step(top):
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100):
        if top / step <= 8:
            return step
    return 200


def _panel(out, y, title, entries, field):
    """entries: [(variant, spread)]; returns the y below the panel."""
    top = max(s["max"] for _, s in entries) * 1.08 or 1
    plot = WIDTH - LABEL - RIGHT
    scale = plot / top
    out.append(f'<text x="{LABEL}" y="{y}" class="title">{escape(title)}</text>')
    y += 12
    height = ROW * len(entries)
    step = _nice_step(top)
    tick = 0.0
    while tick <= top:
        x = LABEL + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + height}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{y + height + 14}" class="tick">{tick:g}</text>')
        tick += step
    for i, (variant, s) in enumerate(entries):
        row_y = y + i * ROW + (ROW - BAR) / 2
        mid = row_y + BAR / 2
        label = f"({variant['letter']}) {variant['label']}"
        out.append(f'<text x="{LABEL - 8}" y="{mid + 4:.1f}" class="label">{escape(label)}</text>')
        colour = COLOURS.get(variant["key"], "#999")
        out.append(f'<rect x="{LABEL}" y="{row_y:.1f}" width="{s["median"] * scale:.1f}" '
                   f'height="{BAR}" fill="{colour}"/>')
        lo, hi = LABEL + s["min"] * scale, LABEL + s["max"] * scale
        out.append(f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" class="whisker"/>')
        for x in (lo, hi):
            out.append(f'<line x1="{x:.1f}" y1="{mid - 5:.1f}" x2="{x:.1f}" y2="{mid + 5:.1f}" '
                       f'class="whisker"/>')
        out.append(f'<text x="{hi + 6:.1f}" y="{mid + 4:.1f}" class="value">'
                   f'{s["median"]:.{1 if field == "cpu_us" else 2}f}</text>')
    return y + height + 34


def svg(table, ratios, note):
    letters = {e["variant"]["key"]: e["variant"]["letter"] for e in table}
    per_filter = [(e["variant"], e["per_filter_us"]) for e in table if "per_filter_us" in e]
    cpu = [(e["variant"], e["cpu_us"]) for e in table]
    rounds = table[0]["rounds"] if table else 0
    out = []
    y = 28
    out.append(f'<text x="16" y="{y}" class="heading">Canary filter cost in Envoy 1.40, '
               f'front Envoy CPU per request</text>')
    y += 18
    out.append(f'<text x="16" y="{y}">bars: median of {rounds} paired rounds; whiskers: '
               f'min-max; every filter variant is a stack of {STACK} copies</text>')
    y += 30
    y = _panel(out, y, "One filter's cost, microseconds of CPU per request "
               f"((variant - native) / {STACK})", per_filter, "per_filter_us")
    y = _panel(out, y, f"Front Envoy CPU per request, microseconds (whole stack of {STACK})",
               cpu, "cpu_us")
    text = "  ·  ".join(f"({letters[r['top']]})/({letters[r['bottom']]}) {r['median']:.2f}"
                      for r in ratios)
    out.append(f'<text x="16" y="{y}" class="label-left">per-filter ratios: {escape(text)}</text>')
    y += 20
    if note:
        out.append(f'<text x="16" y="{y}" class="note">{escape(note)}</text>')
        y += 20
    style = ("<style>text{font-family:sans-serif;font-size:12px;fill:#222}"
             ".heading{font-size:15px;font-weight:bold}.title{font-weight:bold}"
             ".label{text-anchor:end}.tick{text-anchor:middle;fill:#666;font-size:11px}"
             ".value{font-size:11px}.note{fill:#b00;font-weight:bold}"
             ".grid{stroke:#e4e4e4}.whisker{stroke:#222;stroke-width:1.2}</style>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" '
            f'viewBox="0 0 {WIDTH} {y}">{style}'
            f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(out) + "</svg>\n")
