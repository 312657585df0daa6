// The page's words in English and Chinese; the browser's preferred
// language picks one, the Language switch another (kept in localStorage).
"use strict";
const WORDS = {
  en: {
    title: "Canary console", language: "Language", releases: "Releases", name: "Name", hosts: "Hosts",
    versions: "Versions", weight: "Weight", rule: "Rule", liveSplit: "Live split", instances: "Instances",
    role: "Role", routingValue: "Routing value", ratio: "Traffic ratio", liveShare: "Live share",
    rps: "Requests/s", errorRate: "Error rate", p99: "p99", endpoints: "Endpoints",
    chartCaption: "Share (solid) and error rate (dashed) per version, last 5 minutes",
    weightHeading: "Weight", weightLabel: "Weight (%)", save: "Save", ruleHeading: "Traffic rule",
    pathMatch: "Path", pathValue: "Path value", none: "none", exact: "exact", prefix: "prefix", regex: "regex",
    mode: "Condition mode", all: "all", any: "any", source: "Source", key: "Key", operator: "Operator",
    value: "Value", addCondition: "Add condition", saveRule: "Save rule", remove: "Remove",
    finish: "Finish the release", complete: "Complete", rollback: "Rollback", history: "History",
    time: "Time", release: "Release", changed: "What changed", cancel: "Cancel", confirm: "Confirm",
    tokenTitle: "This console needs its token", token: "Token", ok: "OK",
    baseline: "baseline", canary: "canary", header: "header", cookie: "cookie", query: "query",
    console: "console", canaryctl: "canaryctl", file: "file (outside)",
    ruleWord: "Rule", noRule: "no rule", everyHost: "every host", noData: "no data",
    noAdmin: "no live numbers: start the console with --admin",
    ruleRequests: "rule requests + {w}% of the rest", restShare: "{w}% of the rest",
    saved: "Saved.", applied: "Envoy applied it.", refused: "Envoy refused it:",
    stale: "The file changed since this page read it (another browser or canaryctl). Reloaded: check and save again.",
    completeTitle: "Complete {name}?", rollbackTitle: "Roll back {name}?",
    completeText: "Every request will go to {canary}, and the rule is cleared.",
    rollbackText: "Every request will go to {baseline}; {canary} gets none, and the rule is cleared.",
    conditionNames: "Condition {i}", valueHintList: "comma-separated", open: "Open",
    changedOutside: "The file was changed elsewhere (canaryctl, another browser or an editor): reload the page to see it; a Save now would be refused.",
    healthy: "healthy", unhealthy: "unhealthy", degraded: "degraded", unknown: "unknown",
    canaryLabel: "Canary", canaryHint: "Weight, rule, Complete and Rollback act on this canary.",
    rollbackAll: "Roll back all canaries",
    completeOneTitle: "Complete {name} with {canary}?",
    completeOneText: "Every request will go to {canary}: it becomes the only canary ({others} removed), and its rule is cleared.",
    rollbackOneTitle: "Roll back {canary} of {name}?",
    rollbackOneText: "{canary} gets no requests and its rule is cleared; {others} keep their weights and rules.",
    rollbackAllTitle: "Roll back every canary of {name}?",
    rollbackAllText: "Every request will go to {baseline}; {canaries} get none, and their rules are cleared.",
    analysisHeading: "Analysis", measurement: "Measurement", measuredValue: "Value", limit: "Limit",
    verdict: "Verdict", promote: "Promote", abort: "Abort", step: "Step {i}: {w}%",
    phaseWord: "Phase", failuresWord: "failed intervals {f} of {l}", pass: "pass", fail: "fail",
    requestsMeasure: "Canary requests", errorRateMeasure: "Error rate", p99Measure: "p99 latency",
    minimum: "at least {v}", maximum: "at most {v}", notMeasured: "not measured yet",
    abortTitle: "Abort the run on {name}?",
    abortText: "The canary takes 0% and its rule is cleared now; the run ends rolled back.",
    promoted: "Promote sent: the run completes the release.",
  },
  zh: {
    title: "灰度发布控制台", language: "语言", releases: "发布", name: "名称", hosts: "主机",
    versions: "版本", weight: "权重", rule: "规则", liveSplit: "实时分流", instances: "实例",
    role: "角色", routingValue: "路由值", ratio: "流量比例", liveShare: "实时占比",
    rps: "每秒请求", errorRate: "错误率", p99: "p99", endpoints: "端点",
    chartCaption: "各版本的流量占比（实线）与错误率（虚线），最近 5 分钟",
    weightHeading: "权重", weightLabel: "权重 (%)", save: "保存", ruleHeading: "流量规则",
    pathMatch: "路径", pathValue: "路径值", none: "无", exact: "精确", prefix: "前缀", regex: "正则",
    mode: "条件模式", all: "全部满足", any: "任一满足", source: "来源", key: "键", operator: "运算符",
    value: "值", addCondition: "添加条件", saveRule: "保存规则", remove: "删除",
    finish: "结束发布", complete: "完成", rollback: "回滚", history: "历史",
    time: "时间", release: "发布", changed: "变更内容", cancel: "取消", confirm: "确认",
    tokenTitle: "此控制台需要令牌", token: "令牌", ok: "确定",
    baseline: "基线", canary: "灰度", header: "请求头", cookie: "Cookie", query: "查询参数",
    console: "控制台", canaryctl: "canaryctl", file: "文件（外部修改）",
    ruleWord: "规则", noRule: "无规则", everyHost: "所有主机", noData: "暂无数据",
    noAdmin: "没有实时数据：请用 --admin 启动控制台",
    ruleRequests: "命中规则的请求 + 其余的 {w}%", restShare: "其余的 {w}%",
    saved: "已保存。", applied: "Envoy 已生效。", refused: "Envoy 拒绝了：",
    stale: "此页面读取后文件已被修改（另一个浏览器或 canaryctl）。已重新加载：请检查后再保存。",
    completeTitle: "完成 {name}？", rollbackTitle: "回滚 {name}？",
    completeText: "所有请求将发往 {canary}，并清除规则。",
    rollbackText: "所有请求将发往 {baseline}；{canary} 不再接收请求，并清除规则。",
    conditionNames: "条件 {i}", valueHintList: "用逗号分隔", open: "打开",
    changedOutside: "文件已在别处被修改（canaryctl、另一个浏览器或编辑器）：请刷新页面查看；现在保存会被拒绝。",
    healthy: "健康", unhealthy: "不健康", degraded: "降级", unknown: "未知",
    canaryLabel: "灰度版本", canaryHint: "权重、规则、完成和回滚都作用于此灰度版本。",
    rollbackAll: "回滚所有灰度版本",
    completeOneTitle: "以 {canary} 完成 {name}？",
    completeOneText: "所有请求将发往 {canary}：它成为唯一的灰度版本（移除 {others}），并清除其规则。",
    rollbackOneTitle: "回滚 {name} 的 {canary}？",
    rollbackOneText: "{canary} 不再接收请求，并清除其规则；{others} 保留各自的权重和规则。",
    rollbackAllTitle: "回滚 {name} 的所有灰度版本？",
    rollbackAllText: "所有请求将发往 {baseline}；{canaries} 不再接收请求，并清除它们的规则。",
    analysisHeading: "自动分析", measurement: "指标", measuredValue: "数值", limit: "阈值",
    verdict: "结论", promote: "推进", abort: "中止", step: "第 {i} 步：{w}%",
    phaseWord: "阶段", failuresWord: "失败的区间 {f} / {l}", pass: "通过", fail: "未通过",
    requestsMeasure: "灰度请求数", errorRateMeasure: "错误率", p99Measure: "p99 延迟",
    minimum: "至少 {v}", maximum: "至多 {v}", notMeasured: "尚未测量",
    abortTitle: "中止 {name} 的自动发布？",
    abortText: "灰度版本立即降为 0% 并清除其规则；本次运行以回滚结束。",
    promoted: "已发送推进：运行将完成此发布。",
  },
};

function pickLanguage() {
  const chosen = localStorage.getItem("console-lang");
  if (chosen && WORDS[chosen]) return chosen;
  const preferred = navigator.languages || [navigator.language || "en"];
  return preferred.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

let LANG = pickLanguage();

function t(key, values) {
  let text = (WORDS[LANG] && WORDS[LANG][key]) || WORDS.en[key] || key;
  for (const [k, v] of Object.entries(values || {})) text = text.split("{" + k + "}").join(String(v));
  return text;
}

function translatePage() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  document.getElementById("lang").value = LANG;
}
