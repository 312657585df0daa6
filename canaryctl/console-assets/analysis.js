// The release page's Analysis section: the run of `canaryctl auto` on the
// release (hidden when there is none), its steps with the current one
// marked, its limits and the gates Promote and Abort. Uses app.js's
// helpers ($, el, api, current, loadRelease, loadHistory, notice).
"use strict";
function analysisRows(data) {
  const l = data.limits;
  const m = data.measurements; // the last judged interval; null before the first
  const known = (key) => m && m[key] !== undefined && m[key] !== null;
  const value = (key, fmt) => (known(key) ? fmt(m[key]) : t("notMeasured"));
  const verdict = (key, ok) => (known(key) ? t(ok(m[key]) ? "pass" : "fail") : "–");
  const round = (v) => Math.round(v * 100) / 100;
  return [
    [t("requestsMeasure"), value("requests", String), t("minimum", { v: l.min_requests }), verdict("requests", (v) => v >= l.min_requests)],
    [t("errorRateMeasure"), value("error_rate", (v) => round(v) + "%"), t("maximum", { v: l.max_error_rate + "%" }), verdict("error_rate", (v) => v <= l.max_error_rate)],
    [t("p99Measure"), value("p99_ms", (v) => round(v) + " ms"), t("maximum", { v: l.max_p99_ms + " ms" }), verdict("p99_ms", (v) => v <= l.max_p99_ms)],
  ];
}

function renderAnalysis(data) {
  $("analysis-phase").textContent = t("phaseWord") + ": " + data.phase_text + " · " +
    t("failuresWord", { f: data.failures, l: data.failure_limit });
  $("analysis-steps").replaceChildren(...data.steps.map((s) => {
    const item = el("li", { textContent: t("step", { i: s.index + 1, w: s.weight }) });
    if (s.current) item.setAttribute("aria-current", "step");
    return item;
  }));
  $("analysis-measurements").querySelector("tbody").replaceChildren(...analysisRows(data).map((cells) =>
    el("tr", {}, ...cells.map((c) => el("td", { textContent: c })))));
  $("analysis-promote").disabled = data.final;
  $("analysis-abort").disabled = data.final;
}

async function loadAnalysis() {
  if (!current || $("release-view").hidden) return;
  const { status, data } = await api("GET", `/api/releases/${encodeURIComponent(current.name)}/analysis`);
  $("analysis").hidden = status !== 200;
  if (status === 200) renderAnalysis(data);
}

async function gate(action) {
  $("analysis-error").textContent = "";
  const { status, data } = await api("POST", `/api/releases/${encodeURIComponent(current.name)}/${action}`, {});
  if (status === 412) {
    await loadRelease(current.name);
    return notice(t("stale"), true);
  }
  if (status !== 200) return ($("analysis-error").textContent = data.error);
  notice(action === "promote" ? t("promoted") : data.text);
  await loadRelease(current.name, true);
  loadHistory();
  renderAnalysis(data.analysis);
}

$("analysis-promote").addEventListener("click", () => gate("promote"));
$("analysis-abort").addEventListener("click", () => {
  $("confirm-title").textContent = t("abortTitle", { name: current.name });
  $("confirm-text").textContent = t("abortText");
  const dialog = $("confirm-dialog");
  dialog.returnValue = "";
  dialog.addEventListener("close", () => { if (dialog.returnValue === "confirm") gate("abort"); }, { once: true });
  dialog.showModal();
  $("confirm").focus();
});
window.addEventListener("hashchange", () => { $("analysis").hidden = true; setTimeout(loadAnalysis, 200); });
setInterval(loadAnalysis, POLL_MS);
setTimeout(loadAnalysis, 200);
