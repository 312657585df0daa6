// The console's page: plain JavaScript over the JSON API (see the README's
// "Console" section). Every write sends If-Match with the ETag it read.
"use strict";
const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const COLORS = { baseline: "#1f6fb5", canary: "#e07b00" };
let current = null; // {name, etag, detail}
let operators = [];
let samples = []; // [{t, share: {role: %}, errors: {role: %}}]
let lastSample = null;
let pollTimer = null;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) node.append(child);
  return node;
}

function notice(text, bad) {
  $("notice").textContent = text || "";
  $("notice").className = bad ? "bad" : "";
}

// Asks for the token once, however many requests were refused meanwhile.
let tokenAsked = null;
function askToken() {
  if (!tokenAsked) {
    tokenAsked = new Promise((resolve) => {
      const dialog = $("token-dialog");
      dialog.addEventListener("close", () => { tokenAsked = null; resolve($("token").value); }, { once: true });
      dialog.showModal();
    });
  }
  return tokenAsked;
}

// One API call; asks for the token once on 401 and retries.
async function api(method, path, body, retried) {
  const headers = {};
  const token = sessionStorage.getItem("console-token");
  if (token) headers.Authorization = "Bearer " + token;
  if (current && method !== "GET") headers["If-Match"] = current.etag;
  if (method !== "GET") headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && !retried) {
    sessionStorage.setItem("console-token", await askToken());
    return api(method, path, body, true);
  }
  let data = null;
  try { data = await response.json(); } catch (_) { data = { error: response.statusText }; }
  return { status: response.status, data, etag: response.headers.get("ETag") };
}

function percent(value) { return value === null || value === undefined || isNaN(value) ? "–" : (Math.round(value * 10) / 10) + "%"; }

async function showReleases() {
  stopPolling();
  current = null;
  $("release-view").hidden = true;
  $("releases-view").hidden = false;
  const { status, data } = await api("GET", "/api/releases");
  if (status !== 200) return notice(data.error, true);
  $("file").textContent = data.file;
  const body = $("releases").querySelector("tbody");
  body.replaceChildren();
  for (const { release, rule_text, live } of data.releases) {
    const open = el("a", { href: "#/release/" + encodeURIComponent(release.name), textContent: release.name });
    const split = live && live.canary_share !== null
      ? `${release.baseline} ${percent(100 - live.canary_share)} / ${release.canary} ${percent(live.canary_share)}` : t("noData");
    body.append(el("tr", {}, el("td", {}, open),
      el("td", { textContent: release.every_host ? t("everyHost") : release.hosts.join(", ") }),
      el("td", { textContent: `${release.baseline} → ${release.canary}` }),
      el("td", { textContent: release.weight + "%" }),
      el("td", { textContent: release.rule ? rule_text : t("noRule") }),
      el("td", { textContent: split })));
  }
}

function conditionRow(condition) {
  const body = $("conditions").querySelector("tbody");
  const n = body.children.length + 1;
  const label = (what) => t("conditionNames", { i: n }) + " " + t(what);
  const source = el("select");
  source.setAttribute("aria-label", label("source"));
  for (const s of ["header", "cookie", "query"]) source.append(el("option", { value: s, textContent: t(s) }));
  const key = el("input", { type: "text" });
  key.setAttribute("aria-label", label("key"));
  const op = el("select");
  op.setAttribute("aria-label", label("operator"));
  for (const o of operators) op.append(el("option", { value: o.name, textContent: o.name }));
  const value = el("input", { type: "text" });
  value.setAttribute("aria-label", label("value"));
  const error = el("span", { className: "error" });
  error.setAttribute("role", "alert");
  const remove = el("button", { type: "button", textContent: t("remove") });
  remove.setAttribute("aria-label", t("remove") + " " + t("conditionNames", { i: n }));
  const row = el("tr", {}, el("td", {}, source), el("td", {}, key), el("td", {}, op), el("td", {}, value, error), el("td", {}, remove));
  const sync = () => {
    const operand = (operators.find((o) => o.name === op.value) || {}).operand;
    value.hidden = operand === "none";
    value.placeholder = operand === "list" ? t("valueHintList") : "";
  };
  op.addEventListener("change", sync);
  remove.addEventListener("click", () => { row.remove(); $("add-condition").focus(); });
  if (condition) {
    const s = ["header", "cookie", "query"].find((k) => k in condition) || "header";
    source.value = s;
    key.value = condition[s];
    op.value = condition.op;
    const v = condition.values !== undefined ? condition.values : condition.value;
    value.value = Array.isArray(v) ? v.join(", ") : v === undefined ? "" : String(v);
  }
  sync();
  body.append(row);
  return row;
}

function fillRuleEditor(rule) {
  const path = rule.path || {};
  const kind = ["exact", "prefix", "regex"].find((k) => k in path) || "none";
  $("path-kind").value = kind;
  $("path-value").value = kind === "none" ? "" : path[kind];
  $("mode").value = rule.mode || "all";
  $("conditions").querySelector("tbody").replaceChildren();
  for (const c of rule.conditions || []) conditionRow(c);
}

function ruleBody() {
  const kind = $("path-kind").value;
  const conditions = [];
  for (const row of $("conditions").querySelector("tbody").children) {
    const [source, key, op, value] = row.querySelectorAll("select, input");
    const operand = (operators.find((o) => o.name === op.value) || {}).operand;
    const condition = { [source.value]: key.value, op: op.value };
    if (operand === "list") condition.values = value.value.split(",").map((v) => v.trim());
    else if (operand === "number" || operand === "percent") condition.value = value.value.trim() !== "" && !isNaN(Number(value.value)) ? Number(value.value) : value.value;
    else if (operand !== "none") condition.value = value.value;
    conditions.push(condition);
  }
  return { path: kind === "none" ? null : { [kind]: $("path-value").value }, mode: $("mode").value, conditions };
}

function clearErrors() {
  for (const e of document.querySelectorAll(".error")) e.textContent = "";
}

// Shows a refusal beside the field the core names (releases[0].conditions[1].value ...).
function showError(data, fallback) {
  const field = data.field || "";
  const message = data.message || data.error;
  const row = field.match(/conditions\[(\d+)\]/);
  if (row) {
    const tr = $("conditions").querySelector("tbody").children[Number(row[1])];
    if (tr) return (tr.querySelector(".error").textContent = message);
  }
  if (/\.path/.test(field)) return ($("path-error").textContent = message);
  if (/\.mode$/.test(field)) return ($("mode-error").textContent = message);
  if (/weight$/.test(field)) return ($("weight-error").textContent = message);
  $(fallback).textContent = data.error;
}

async function write(method, action, body, fallback) {
  clearErrors();
  notice("");
  const { status, data } = await api(method, `/api/releases/${encodeURIComponent(current.name)}/${action}`, body);
  if (status === 412) {
    await loadRelease(current.name);
    notice(t("stale"), true);
    return null;
  }
  if (status !== 200) {
    showError(data, fallback);
    return null;
  }
  current.etag = data.etag;
  const envoy = data.envoy;
  const verdict = !envoy ? "" : envoy.verdict === "applied" ? " " + t("applied") : envoy.verdict === "refused" ? " " + t("refused") + " " + envoy.message : " " + envoy.message;
  notice(t("saved") + verdict, envoy && envoy.verdict === "refused");
  await loadRelease(current.name, true);
  loadHistory();
  return data;
}

async function loadRelease(name, keepNotice) {
  const { status, data } = await api("GET", "/api/releases/" + encodeURIComponent(name));
  if (status !== 200) return notice(data.error, true);
  if (!keepNotice) notice("");
  if (!current || current.name !== name) { samples = []; lastSample = null; }
  current = { name, etag: data.etag, detail: data };
  operators = data.operators;
  const r = data.release;
  $("release-name").textContent = r.name;
  $("release-rule").textContent = t("ruleWord") + ": " + (r.rule ? data.rule_text : t("noRule"));
  $("weight").value = r.weight;
  fillRuleEditor(data.rule);
  renderInstances(null);
}

async function showRelease(name) {
  $("releases-view").hidden = true;
  $("release-view").hidden = false;
  $("next-steps").hidden = true;
  await loadRelease(name);
  stopPolling();
  poll();
  pollTimer = setInterval(poll, POLL_MS);
}

function stopPolling() { if (pollTimer) clearInterval(pollTimer); pollTimer = null; }

// Says so when FILE changed behind the page (its ETag moved); a Save
// would be refused (412) and reload it.
async function watchFile() {
  if (!current) return;
  const { status, data } = await api("GET", "/api/releases/" + encodeURIComponent(current.name));
  if (status === 200 && current && data.etag !== current.etag) notice(t("changedOutside"), true);
}

async function poll() {
  if (!current) return;
  watchFile();
  const { status, data } = await api("GET", `/api/releases/${encodeURIComponent(current.name)}/metrics`);
  if (status !== 200) return renderInstances(null, data.error);
  if (!data.available) return renderInstances(null, t("noAdmin"));
  renderInstances(data);
}

// Rates from two samples: the last interval's requests/s, error rate and share.
function rates(sample) {
  const out = {};
  const before = lastSample;
  const seconds = before ? (sample.time_ms - before.time_ms) / 1000 : 0;
  const routedNow = (s) => s.versions.reduce((sum, v) => sum + v.routed, 0);
  const routedDelta = before ? routedNow(sample) - routedNow(before) : 0;
  for (const v of sample.versions) {
    const old = before && before.versions.find((o) => o.version === v.version);
    const done = (x) => (x.completed === null ? x.routed : x.completed);
    const dDone = old ? done(v) - done(old) : 0;
    const dErr = old ? (v.errors_5xx || 0) - (old.errors_5xx || 0) : 0;
    const dRouted = old ? v.routed - old.routed : 0;
    const total = routedNow(sample);
    out[v.role] = {
      rps: old && seconds > 0 ? Math.max(dDone, 0) / seconds : null,
      errors: old ? (dDone > 0 ? (100 * Math.max(dErr, 0)) / dDone : 0) : (done(v) > 0 ? (100 * (v.errors_5xx || 0)) / done(v) : null),
      share: routedDelta > 0 ? (100 * dRouted) / routedDelta : total > 0 ? (100 * v.routed) / total : null,
    };
  }
  return out;
}

function renderInstances(sample, problem) {
  if (!current) return;
  const r = current.detail.release;
  const live = sample ? rates(sample) : {};
  if (sample) {
    lastSample = sample;
    samples.push({ t: sample.time_ms, live });
    samples = samples.filter((s) => s.t >= sample.time_ms - WINDOW_MS);
  }
  const w = Number(r.weight);
  const ratio = {
    canary: r.rule ? t("ruleRequests", { w }) : w + "%",
    baseline: r.rule ? t("restShare", { w: Math.round((100 - w) * 100) / 100 }) : Math.round((100 - w) * 100) / 100 + "%",
  };
  const body = $("instances").querySelector("tbody");
  body.replaceChildren();
  for (const role of ["baseline", "canary"]) {
    const version = sample ? sample.versions.find((v) => v.role === role) : null;
    const l = live[role] || {};
    const endpoints = el("td");
    if (version && version.endpoints) {
      for (const e of version.endpoints) endpoints.append(el("div", { className: e.health, textContent: `${e.address} ${t(e.health)}` }));
    } else endpoints.textContent = problem || "–";
    body.append(el("tr", {}, el("td", { textContent: t(role) }), el("td", { textContent: r[role] }),
      el("td", { textContent: ratio[role] }), el("td", { textContent: percent(l.share) }),
      el("td", { textContent: l.rps === null || l.rps === undefined ? "–" : l.rps.toFixed(1) }),
      el("td", { textContent: percent(l.errors) }),
      el("td", { textContent: version && version.p99_ms !== null ? version.p99_ms.toFixed(2) + " ms" : "–" }), endpoints));
  }
  drawChart();
}

function drawChart() {
  const svg = $("chart");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const now = samples.length ? samples[samples.length - 1].t : 0;
  const x = (time) => 600 - ((now - time) / WINDOW_MS) * 600;
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
  label(500, 14, t("baseline"), COLORS.baseline);
  label(550, 14, t("canary"), COLORS.canary);
  for (const role of ["baseline", "canary"]) {
    for (const [measure, dash] of [["share", ""], ["errors", "4 3"]]) {
      const points = samples.filter((s) => s.live[role] && s.live[role][measure] !== null && s.live[role][measure] !== undefined)
        .map((s) => `${x(s.t).toFixed(1)},${y(s.live[role][measure]).toFixed(1)}`);
      if (!points.length) continue;
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", COLORS[role]);
      line.setAttribute("stroke-width", "2");
      if (dash) line.setAttribute("stroke-dasharray", dash);
      svg.append(line);
    }
  }
}

async function loadHistory() {
  const { status, data } = await api("GET", "/api/history");
  if (status !== 200) return;
  const body = $("history").querySelector("tbody");
  body.replaceChildren();
  for (const e of data.entries.slice(0, 50)) {
    const what = e.changes.map((c) => `${c.field}: ${c.from} → ${c.to}`);
    if (e.note) what.push(e.note);
    body.append(el("tr", {}, el("td", { textContent: e.time }), el("td", { textContent: t(e.source) }),
      el("td", { textContent: e.release || "" }), el("td", { textContent: what.join("; ") })));
  }
}

function confirmStep(action) {
  const r = current.detail.release;
  $("confirm-title").textContent = t(action + "Title", { name: r.name });
  $("confirm-text").textContent = t(action + "Text", r);
  const dialog = $("confirm-dialog");
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm") return;
    const data = await write("POST", action, {}, "rule-error");
    if (data && data.report.next_steps) {
      $("next-steps").textContent = data.report.next_steps;
      $("next-steps").hidden = false;
    }
  }, { once: true });
  dialog.showModal();
  $("confirm").focus();
}

function route() {
  const match = location.hash.match(/^#\/release\/(.+)$/);
  if (match) showRelease(decodeURIComponent(match[1]));
  else showReleases();
  loadHistory();
}

$("weight-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("weight").value;
  write("PUT", "weight", { weight: text === "" || isNaN(Number(text)) ? text : Number(text) }, "weight-error");
});
$("rule-form").addEventListener("submit", (event) => {
  event.preventDefault();
  write("PUT", "rule", ruleBody(), "rule-error");
});
$("add-condition").addEventListener("click", () => conditionRow(null).querySelector("input").focus());
$("complete").addEventListener("click", () => confirmStep("complete"));
$("rollback").addEventListener("click", () => confirmStep("rollback"));
$("lang").addEventListener("change", () => {
  LANG = $("lang").value;
  localStorage.setItem("console-lang", LANG);
  translatePage();
  route();
});
window.addEventListener("hashchange", route);
setInterval(loadHistory, 5000);
translatePage();
route();
