// The console's base, imported by every other module and importing only dom.js: constants and labels, DOM
// helpers, the shared state, api() and the notice line.
// All data is rendered with createElement + textContent: nothing a customer, agent or server sends is
// ever parsed as HTML. The page runs under `default-src 'self'`: no inline scripts, handlers or styles.

import { $, el, clear } from "./dom.js";
export { $, el, clear };

export var API = "/agent/api";
export var TOKEN_KEY = "agent.token";
export var TZ = "Asia/Shanghai";

export var CHANNELS = { webchat: "网页", telegram: "Telegram", wechat: "微信", rest: "REST 接口" };
export var STATUSES = { waiting: "排队中", callback: "待回电", active: "进行中", released: "已交还机器人", closed: "已结束", cancelled: "客户已取消" };
export var TICKET_EVENTS = {
  created: "登记", dispatched: "派单", assigned: "指派", status_changed: "状态变更",
  severity_changed: "严重程度变更", customer_addition: "客户补充", human_requested: "转人工",
  human_cancelled: "取消转人工", callback_requested: "待回电", progress_update: "进度更新",
  escalated: "升级主管", resolved: "已解决", accepted: "坐席接入", transferred: "转交",
  reassigned: "重新指派", released: "交还机器人", closed: "结束会话", owner_notified: "通知负责人",
  evidence: "证据", delivery_failed: "未送达", deadline_breached: "超时"
};

// ---------------------------------------------------------------- formatting

export function fmtTime(iso, short) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  var opts = short
    ? { timeZone: TZ, hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }
    : { timeZone: TZ, hour12: false };
  return d.toLocaleString("zh-CN", opts);
}

export function timeEl(iso, short) {
  var t = el("time", null, fmtTime(iso, short));
  if (iso) t.setAttribute("datetime", String(iso));
  return t;
}

export function duration(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  if (seconds < 60) return seconds + " 秒";
  var minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " 分钟";
  var hours = Math.floor(minutes / 60);
  return hours + " 小时" + (minutes % 60 ? " " + (minutes % 60) + " 分钟" : "");
}

export function severityClass(sev) { return sev === "urgent" || sev === "major" ? sev : "general"; }

export function severityBadge(item) {
  return el("span", "badge sev sev--" + severityClass(item.severity), item.severity_label || "一般");
}

export function statusBadge(status) {
  var known = STATUSES[status] ? status : "closed";
  return el("span", "badge status status--" + known, STATUSES[status] || String(status || ""));
}

// ---------------------------------------------------------------- state

export var state = {
  token: null,
  me: null,
  epoch: 0,            // bumped on login/logout: answers for an older epoch are dropped
  cursor: 0,
  agents: [],
  queue: [],
  mine: [],
  all: [],
  progress: [],
  canned: [],
  open: null,          // {id, session, tickets, ids: {messageId: true}, maxId, loading, again}
  refreshing: false,
  refreshAgain: false,
  pollController: null,
  timers: [],
  seenTransfers: {}
};

export function isSupervisor() { return !!(state.me && state.me.role === "supervisor"); }
export function myName() { return state.me ? state.me.username : null; }

export function agentName(username) {
  if (!username) return "";
  for (var i = 0; i < state.agents.length; i++) {
    if (state.agents[i].username === username) return state.agents[i].display_name || username;
  }
  return username;
}

// The login lives in localStorage: every tab of this browser shares it (one token, so logging out
// in one tab logs out all of them, see the `storage` listener in agent.js).
export function loadToken() { return store(TOKEN_KEY); }
export function saveToken(token) { store(TOKEN_KEY, token || null); }

// localStorage get (one argument) or set (null removes); silent when storage is disabled.
export function store(key, value) {
  try {
    if (arguments.length < 2) return window.localStorage.getItem(key);
    if (value === null || value === undefined) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch (e) { /* storage disabled: memory only */ }
  return null;
}

// A key of the logged-in agent's own (drafts, what they have seen).
export function myKey(name) { return "agent." + name + "." + (state.me ? state.me.username : "-"); }

// ---------------------------------------------------------------- API

export function ApiError(status, body) {
  this.status = status;
  this.body = body && typeof body === "object" ? body : {};
  this.code = this.body.error || (status ? "http_" + status : "network");
  this.message = typeof this.body.message === "string" && this.body.message ? this.body.message : defaultMessage(status);
}

function defaultMessage(status) {
  if (!status) return "无法连接服务器，请检查网络后重试。";
  if (status === 401) return "登录已失效，请重新登录。";
  if (status === 403) return "没有权限执行此操作。";
  if (status === 404) return "会话或工单不存在。";
  if (status === 409) return "操作冲突，会话状态可能已经变化，请刷新后重试。";
  if (status === 413) return "内容太长了，请分几条发送。";
  if (status === 429) return "操作太频繁，请稍后再试。";
  if (status >= 500) return "服务器出错了，请稍后重试。";
  return "请求失败（HTTP " + status + "）。";
}

// What a 401 on an authenticated call does (agent.js ends the console session and shows the login form).
var onSessionExpired = function () {};
export function setSessionExpiredHandler(handler) { onSessionExpired = handler; }

// Resolves with the parsed body (null for 204); rejects with an ApiError. A 401 on an authenticated
// call ends the console session and shows the login form.
export function api(method, path, body, options) {
  options = options || {};
  var authed = options.auth !== false;
  var epoch = state.epoch;
  var headers = { "Accept": "application/json" };
  if (body !== undefined && body !== null) headers["Content-Type"] = "application/json";
  if (authed && state.token) headers.Authorization = "Bearer " + state.token;
  var init = { method: method, headers: headers, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined && body !== null) init.body = JSON.stringify(body);
  if (options.signal) init.signal = options.signal;
  return fetch(API + path, init).then(function (response) {
    return response.text().then(function (raw) {
      var data = null;
      if (raw) { try { data = JSON.parse(raw); } catch (e) { data = null; } }
      if (response.ok) return data;
      var error = new ApiError(response.status, data);
      if (response.status === 401 && authed && epoch === state.epoch && state.token) onSessionExpired(error.message);
      throw error;
    });
  }, function (failure) {
    var error = new ApiError(0, null);
    error.aborted = !!(failure && failure.name === "AbortError");
    throw error;
  });
}

export function sessionPath(id, tail) { return "/sessions/" + encodeURIComponent(id) + (tail || ""); }

export function listOf(data, key) { return data && Array.isArray(data[key]) ? data[key] : []; }

// ---------------------------------------------------------------- notices

var noticeBox = $("notice");
var noticeText = $("notice-text");
var connLine = $("conn");

var noticeTimer = null;

export function notice(text, kind) {
  if (!text) return;
  kind = kind || "error";
  noticeBox.className = "notice notice--" + kind;
  noticeText.textContent = text;
  noticeBox.hidden = false;
  if (noticeTimer) { clearTimeout(noticeTimer); noticeTimer = null; }
  // One slot that never piles up: a newer notice replaces the old one, and errors go away too.
  noticeTimer = setTimeout(hideNotice, kind === "info" ? 8000 : 15000);
}

export function hideNotice() {
  if (noticeTimer) { clearTimeout(noticeTimer); noticeTimer = null; }
  noticeBox.hidden = true;
  noticeText.textContent = "";
}

export function setConn(text) { connLine.textContent = text || ""; }

$("notice-close").addEventListener("click", hideNotice);
