// The chart of each version's share (solid) and error rate (dashed) over
// the last minutes, from the page's samples: [{t, live: {version: {share, errors}}}].
"use strict";
const COLORS = { baseline: "#1f6fb5", canary: "#e07b00" };
const PALETTE = ["#1f6fb5", "#e07b00", "#2a9d3f", "#8e44ad", "#c0392b", "#16a5a5", "#7f6000", "#d63384", "#555"];

function drawChart(release, samples, windowMs) {
  const svg = document.getElementById("chart");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const now = samples.length ? samples[samples.length - 1].t : 0;
  const x = (time) => 600 - ((now - time) / windowMs) * 600;
  const y = (value) => 135 - (Math.min(Math.max(value, 0), 100) / 100) * 130;
  const label = (x0, y0, text, color) => {
    const node = document.createElementNS(ns, "text");
    node.setAttribute("x", x0);
    node.setAttribute("y", y0);
    node.setAttribute("font-size", "11");
    node.setAttribute("fill", color);
    node.textContent = text;
    svg.append(node);
  };
  label(4, 14, "100%", "#666");
  label(4, 134, "0%", "#666");
  for (const { key, name, color, at } of chartSeries(release)) {
    label(at, 14, name, color);
    for (const [measure, dash] of [["share", ""], ["errors", "4 3"]]) {
      const points = samples.filter((s) => s.live[key] && s.live[key][measure] !== null && s.live[key][measure] !== undefined)
        .map((s) => `${x(s.t).toFixed(1)},${y(s.live[key][measure]).toFixed(1)}`);
      if (!points.length) continue;
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", color);
      line.setAttribute("stroke-width", "2");
      if (dash) line.setAttribute("stroke-dasharray", dash);
      svg.append(line);
    }
  }
}

// One line per version: by role for two versions, by value (a colour each) for more.
function chartSeries(release) {
  const all = [release.baseline, ...release.canaries.map((c) => c.value)];
  if (all.length === 2) {
    return [{ key: all[0], name: t("baseline"), color: COLORS.baseline, at: 500 }, { key: all[1], name: t("canary"), color: COLORS.canary, at: 550 }];
  }
  return all.map((v, i) => ({ key: v, name: v, color: PALETTE[i % PALETTE.length], at: 600 - 62 * (all.length - i) }));
}

