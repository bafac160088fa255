// Supervisors' dashboard: the figures of GET /agent/api/stats drawn as tiles, inline SVG charts and
// tables, and the same numbers as a CSV download. The console's login token is in localStorage (shared by its tabs).
// Everything is built with createElement(NS) + textContent; no library, no inline script or style.
// An ES module (`<script type="module">`, served as written): the filters, loading the figures and the
// sections built from them; the charts are drawn by charts.js.

import { $, el, clear, tiles, figure, dataTable, legend, columns, bars } from "./charts.js";

var API = "/agent/api";
var TOKEN_KEY = "agent.token";
var TZ = "Asia/Shanghai";

var CATEGORIES = [
  { key: "network", label: "网络" }, { key: "billing", label: "资费账单" },
  { key: "business", label: "业务办理" }, { key: "other", label: "其他" }
];
var CHANNELS = { webchat: "网页", telegram: "Telegram", wechat: "微信", rest: "REST 接口" };
var ROLES = { agent: "坐席", supervisor: "主管" };
var INTENTS = {
  consult: "咨询", complain_network: "网络投诉", complain_billing: "资费账单投诉", complain_business: "业务办理投诉",
  complain_other: "其他投诉", escalate: "转人工/升级", check_ticket_status: "进度查询", add_ticket_info: "补充工单",
  greet: "问候", goodbye: "告别", thank: "感谢", affirm: "肯定", deny: "否定", out_of_scope: "超出范围",
  privacy_access: "查看个人信息", privacy_delete: "删除个人信息",
  nlu_fallback: "未识别"
};

// ---------------------------------------------------------------- formats

function pct(rate) {
  if (!rate || rate.share === null || rate.share === undefined) return "—";
  return (rate.share * 100).toFixed(1) + "%";
}

function ratio(rate) { return rate ? rate.count + " / " + rate.total : ""; }

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  var s = Number(seconds);
  if (s < 60) return Math.round(s) + " 秒";
  if (s < 3600) return trim(s / 60) + " 分钟";
  if (s < 86400) return trim(s / 3600) + " 小时";
  return trim(s / 86400) + " 天";
}

function trim(x) { return x >= 10 ? String(Math.round(x)) : String(Math.round(x * 10) / 10); }

function intentLabel(name) { return INTENTS[name] ? INTENTS[name] + "（" + name + "）" : String(name || "—"); }

function fmtTime(iso) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso || "");
  return d.toLocaleString("zh-CN", { timeZone: TZ, hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function shortDay(day) { return String(day).slice(5); }

// Dates are Beijing calendar days as "YYYY-MM-DD".
function today() { return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date()); }
function addDays(day, n) {
  var d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- API

var token = null;
try { token = window.localStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }

function toLogin() { window.location.replace("./"); }

function request(path) {
  return fetch(API + path, { headers: { Authorization: "Bearer " + token }, cache: "no-store", credentials: "same-origin" })
    .then(function (response) {
      if (response.status === 401) {
        try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
        toLogin();
        throw new Error("登录已失效，请重新登录。");
      }
      if (!response.ok) {
        return response.json().then(function (body) { throw new Error(body && body.message ? body.message : "请求失败（HTTP " + response.status + "）"); },
          function () { throw new Error("请求失败（HTTP " + response.status + "）"); });
      }
      return response;
    }, function () { throw new Error("无法连接服务器，请检查网络后重试。"); });
}

function notice(text) {
  $("notice-text").textContent = text || "";
  $("notice").hidden = !text;
}

// ---------------------------------------------------------------- filters

var fromInput = $("from"), toInput = $("to"), channelSelect = $("channel");

function query() {
  var parts = ["from=" + encodeURIComponent(fromInput.value), "to=" + encodeURIComponent(toInput.value)];
  if (channelSelect.value) parts.push("channel=" + encodeURIComponent(channelSelect.value));
  return "?" + parts.join("&");
}

function initFilters() {
  var params = new URLSearchParams(window.location.search);
  var last = params.get("to") || today();
  toInput.value = last;
  fromInput.value = params.get("from") || addDays(last, -6);
  var channel = params.get("channel");
  if (channel && CHANNELS[channel]) channelSelect.value = channel;
}

$("filters").addEventListener("submit", function (event) { event.preventDefault(); load(); });
Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (button) {
  button.addEventListener("click", function () {
    var days = Number(button.getAttribute("data-days"));
    toInput.value = today();
    fromInput.value = addDays(toInput.value, 1 - days);
    load();
  });
});
channelSelect.addEventListener("change", load);

$("csv").addEventListener("click", function () {
  var button = $("csv");
  button.disabled = true;
  request("/stats.csv" + query()).then(function (response) {
    var disposition = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(disposition);
    return response.blob().then(function (blob) {
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      link.href = url;
      link.download = match ? match[1] : "service-figures.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
  }).catch(function (error) { notice(error.message); }).then(function () { button.disabled = false; });
});

// ---------------------------------------------------------------- loading

var loading = 0;

function load() {
  var mine = ++loading;
  var q = query();
  window.history.replaceState(null, "", window.location.pathname + q);
  $("dash").setAttribute("aria-busy", "true");
  $("status").textContent = "正在计算…";
  request("/stats" + q).then(function (response) { return response.json(); }).then(function (data) {
    if (mine !== loading) return;
    notice("");
    render(data);
    var p = data.period || {};
    $("status").textContent = p.from + " 至 " + p.to + "（" + (p.channel ? CHANNELS[p.channel] || p.channel : "全部渠道") + "） · 生成于 " + fmtTime(data.generated_at);
  }).catch(function (error) {
    if (mine !== loading) return;
    notice(error.message);
    $("status").textContent = "";
  }).then(function () {
    if (mine === loading) $("dash").setAttribute("aria-busy", "false");
  });
}

// ---------------------------------------------------------------- tiles

function rateTile(metric, label, rate, title, tone) {
  return { metric: metric, label: label, value: pct(rate), sub: rate && rate.total ? ratio(rate) : "暂无数据", title: title, tone: tone };
}

// ---------------------------------------------------------------- sections

var shown = null;
var resizeTimer = null;

window.addEventListener("resize", function () {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(function () { if (shown) render(shown); }, 200);
});

function render(d) {
  shown = d;
  renderTickets(d.tickets);
  renderDeadlines(d.deadlines);
  renderSatisfaction(d.satisfaction);
  renderBot(d.bot);
  renderAgents(d.agents || []);
}

function renderTickets(t) {
  var sev = t.by_severity || {};
  tiles($("tiles-tickets"), [
    { metric: "tickets.filed", label: "受理工单", value: t.filed, sub: "重大 " + (sev.major || 0) + " · 紧急 " + (sev.urgent || 0) },
    { metric: "tickets.open", label: "本期工单未办结", value: t.open, sub: "其中已超时 " + t.overdue },
    { metric: "tickets.overdue", label: "本期工单已超时", value: t.overdue, tone: t.overdue ? "warn" : null, sub: "超过首次响应或处理时限" },
    { metric: "tickets.backlog_open", label: "当前全部未办结", value: t.backlog_open, sub: "其中已超时 " + t.backlog_overdue, title: "不限受理日期的全部未办结工单" }
  ]);

  var days = t.by_day || [];
  var box = figure("chart-days", "每日受理工单（按类别）");
  columns(box, days.map(function (day) {
    return {
      label: shortDay(day.day), title: day.day,
      parts: CATEGORIES.map(function (c) { return { value: (day.by_category || {})[c.key] || 0, cls: "c-" + c.key, name: c.label }; })
    };
  }), "每日受理工单数，按类别堆叠；共 " + t.filed + " 件");
  legend(box, CATEGORIES.map(function (c) { return { label: c.label, cls: "c-" + c.key }; }));
  dataTable(box, ["日期", "合计"].concat(CATEGORIES.map(function (c) { return c.label; })), days.map(function (day) {
    return [day.day, day.total].concat(CATEGORIES.map(function (c) { return (day.by_category || {})[c.key] || 0; }));
  }));

  var cats = figure("chart-categories", "按类别");
  bars(cats, CATEGORIES.map(function (c) { return { label: c.label, value: (t.by_category || {})[c.key] || 0, cls: "c-" + c.key }; }), "各类别受理工单数");

  var areas = figure("chart-areas", "地区热点（前十）");
  bars(areas, (t.areas || []).map(function (a) { return { label: a[0], value: a[1], cls: "c-warn" }; }), "受理工单最多的地区");
}

function renderDeadlines(d) {
  var fr = d.first_response || {};
  tiles($("tiles-deadlines"), [
    rateTile("deadlines.response_on_time", "首次响应及时率", d.response_on_time, "已到期或已响应的工单中，按时首次响应的比例"),
    rateTile("deadlines.resolution_on_time", "处理及时率", d.resolution_on_time, "已解决或已超期的工单中，未错过处理时限的比例"),
    { metric: "deadlines.first_response.p50", label: "首次响应时长 中位数", value: duration(fr.p50), sub: fr.count ? fr.count + " 件已响应" : "暂无数据" },
    { metric: "deadlines.first_response.p90", label: "首次响应时长 P90", value: duration(fr.p90), sub: "90% 的工单在此时长内响应" },
    { metric: "deadlines.not_responded", label: "尚未响应", value: d.not_responded, sub: "本期受理、还没有人接手" }
  ]);
  var buckets = d.first_response_buckets || [];
  var box = figure("chart-response", "首次响应时长分布");
  columns(box, buckets.map(function (b, i) {
    return { label: b.label, title: b.label, parts: [{ value: b.count, cls: i >= 4 ? "c-warn" : "c-bar" }] };
  }), "首次响应时长分布（工单数）");
  dataTable(box, ["时长", "工单数"], buckets.map(function (b) { return [b.label, b.count]; }));
}

function renderSatisfaction(s) {
  tiles($("tiles-satisfaction"), [
    { metric: "satisfaction.average", label: "平均满意度", value: s.average === null || s.average === undefined ? "—" : s.average.toFixed(2) + " 分", sub: (s.rated ? s.rated.count : 0) + " 条评价（1–5分）" },
    rateTile("satisfaction.satisfied", "满意率（4–5分）", s.satisfied, "评价为4分或5分的比例"),
    rateTile("satisfaction.rated", "评价率", s.rated, "发出满意度调查后客户作答的比例"),
    rateTile("satisfaction.repeat", "重复投诉率", s.repeat, "30天内同一客户同类问题再次投诉", s.repeat && s.repeat.count ? "warn" : null),
    rateTile("satisfaction.first_contact_resolution", "一次解决率", s.first_contact_resolution, "已解决的工单中：未重开、未转交或升级、之后没有重复投诉")
  ]);
  var scores = s.scores || {};
  var box = figure("chart-scores", "评分分布");
  bars(box, [5, 4, 3, 2, 1].map(function (n) {
    return { label: n + " 分", value: scores[n] || 0, cls: n >= 4 ? "c-network" : n === 3 ? "c-muted" : "c-warn" };
  }), "满意度评分分布");
}

function renderBot(b) {
  $("bot-unavailable").hidden = !!b.available;
  var qw = b.queue_wait || {};
  tiles($("tiles-bot"), [
    { metric: "bot.conversations", label: "机器人会话", value: b.conversations, sub: b.messages + " 条客户消息" },
    rateTile("bot.containment", "独立完成率", b.containment, "会话中没有转人工（机器人独立完成）的比例", "good"),
    rateTile("bot.handoff", "转人工率", b.handoff, "会话中请求或触发了人工服务的比例"),
    { metric: "bot.queue_wait.p50", label: "排队等待 中位数", value: duration(qw.p50), sub: qw.count ? qw.count + " 次接入" : "暂无接入" },
    { metric: "bot.queue_wait.p90", label: "排队等待 P90", value: duration(qw.p90), sub: "请求到坐席接入" },
    rateTile("bot.fallback", "未识别率", b.fallback, "意图为 nlu_fallback 的客户消息比例"),
    { metric: "bot.low_confidence_count", label: "低置信度消息", value: b.low_confidence_count, sub: "待复核，用于改进训练数据" }
  ]);
  var intents = figure("chart-intents", "意图分布");
  bars(intents, (b.intents || []).slice(0, 15).map(function (i) {
    return { label: INTENTS[i[0]] || i[0], value: i[1], cls: i[0] === "nlu_fallback" ? "c-warn" : "c-bar" };
  }), "客户消息的意图分布");
  dataTable(intents, ["意图", "消息数"], (b.intents || []).map(function (i) { return [intentLabel(i[0]), i[1]]; }));

  var handoff = figure("chart-handoff", "转人工请求（" + b.handoff_requested + " 次）");
  bars(handoff, [
    { label: "坐席已接入", value: b.handoff_accepted, cls: "c-network" },
    { label: "客户取消排队", value: b.handoff_cancelled, cls: "c-muted" },
    { label: "仍在排队/待回电", value: b.handoff_waiting, cls: "c-warn" }
  ], "转人工请求的去向");

  $("low-count").textContent = b.low_confidence_count;
  $("low-hint").textContent = "置信度低于 0.6 的客户消息（含全部未识别消息），最新的 50 条；手机号和身份证号已脱敏。";
  var body = $("low-table").tBodies[0];
  clear(body);
  var rows = b.low_confidence || [];
  if (!rows.length) {
    var tr = el("tr");
    var td = el("td", "muted", "没有低置信度消息");
    td.colSpan = 6;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  rows.forEach(function (m) {
    var tr = el("tr");
    tr.appendChild(el("td", null, fmtTime(m.at)));
    tr.appendChild(el("td", null, CHANNELS[m.channel] || m.channel || "—"));
    tr.appendChild(el("td", "text", m.text));
    tr.appendChild(el("td", null, intentLabel(m.intent)));
    tr.appendChild(el("td", "num", Number(m.confidence).toFixed(2)));
    var guess = m.guess && m.guess !== m.intent ? intentLabel(m.guess) + " " + Number(m.guess_confidence).toFixed(2) : "—";
    tr.appendChild(el("td", null, guess));
    body.appendChild(tr);
  });
}

function renderAgents(agents) {
  var body = $("agents-table").tBodies[0];
  clear(body);
  if (!agents.length) {
    var tr = el("tr");
    var td = el("td", "muted", "暂无坐席数据");
    td.colSpan = 8;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  agents.forEach(function (a) {
    var tr = el("tr");
    tr.setAttribute("data-agent", a.username);
    var name = el("td", null, a.display_name + "（" + a.username + "）");
    if (a.role) name.appendChild(el("span", "badge", ROLES[a.role] || a.role));
    if (!a.active) name.appendChild(el("span", "badge badge--offline", "已停用"));
    tr.appendChild(name);
    tr.appendChild(el("td", "num", a.sessions));
    tr.appendChild(el("td", "num", a.tickets));
    tr.appendChild(el("td", "num", a.response_on_time.total ? pct(a.response_on_time) + "（" + ratio(a.response_on_time) + "）" : "—"));
    tr.appendChild(el("td", "num", a.resolution_on_time.total ? pct(a.resolution_on_time) + "（" + ratio(a.resolution_on_time) + "）" : "—"));
    tr.appendChild(el("td", "num", a.rated));
    tr.appendChild(el("td", "num", a.average_rating === null ? "—" : a.average_rating.toFixed(2)));
    tr.appendChild(el("td", "num", a.satisfied.total ? pct(a.satisfied) : "—"));
    body.appendChild(tr);
  });
}

// ---------------------------------------------------------------- boot

if (!token) {
  toLogin();
} else {
  initFilters();
  request("/me").then(function (r) { return r.json(); }).then(function (me) {
    $("me").textContent = me.display_name || me.username;
    $("me-role").textContent = ROLES[me.role] || me.role || "";
    if (me.role !== "supervisor") {
      notice("服务指标只对主管开放。");
      $("dash").hidden = true;
      $("filters").hidden = true;
      return;
    }
    load();
  }).catch(function (error) { notice(error.message); });
}
