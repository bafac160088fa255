// The left column's lists and the supervisor view's panels: refreshLists(parts) reloads only the
// parts an event can affect (my sessions, the live queue, call-backs, progress, the supervisor
// panels), each list is rebuilt only when its data changed (items.js), and tick() keeps the waiting
// times current. The queues themselves are in queue.js.

import { $, el, clear, fmtTime, severityBadge, state, isSupervisor, agentName, api, listOf, notice, setConn } from "./core.js";
import { renderEscalations, renderOutbox, renderPrivacy, renderAccessLog, renderFailures } from "./supervisor.js";
import { openSession } from "./session.js";
import { renderKeyed, sessionItem, updateWait } from "./items.js";
import { openTicket } from "./ticket_view.js";
import { loadLive, loadCallbacks, resetQueues } from "./queue.js";
import { unreadOf, updateTitle, announce } from "./attention.js";
import { renderOffers } from "./offers.js";
import { showView } from "./shift.js";

var myList = $("my-sessions");
var allList = $("all-sessions");
var progressList = $("progress-due");
var connLine = $("conn");

// A panel (e.g. incidents.js) registers {refresh(current), reset()}: refreshed with the supervisor
// panels (`current()` is false once the console was logged out or restarted), reset on logout.
export var panels = [];
export function registerPanel(panel) { panels.push(panel); }

var ALL = { mine: true, live: true, callback: true, progress: true, supervisor: true };
var wanted = {};

// Reloads the given parts ({mine, live, callback, progress, supervisor}); all of them when none given.
export function refreshLists(parts) {
  if (!state.me && !state.token) return;
  Object.keys(parts || ALL).forEach(function (k) { if ((parts || ALL)[k]) wanted[k] = true; });
  if (state.refreshing) { state.refreshAgain = true; return; }
  var now = wanted;
  wanted = {};
  state.refreshing = true;
  var epoch = state.epoch;
  var current = function () { return epoch === state.epoch; };
  var jobs = [];
  if (now.mine) jobs.push(api("GET", "/sessions?scope=mine").then(function (d) { if (current()) { state.mine = listOf(d, "sessions"); renderMine(); } }));
  if (now.live) jobs.push(loadLive(epoch));
  if (now.callback) jobs.push(loadCallbacks(epoch));
  if (now.progress) {
    jobs.push(api("GET", "/progress-due").then(function (d) { if (current()) { state.progress = listOf(d, "tickets"); renderProgress(); } }));
    jobs.push(api("GET", "/deadlines").then(function (d) { if (current()) renderDeadlines(listOf(d, "tickets")); }));
  }
  if (now.supervisor && isSupervisor()) {
    jobs.push(api("GET", "/sessions?scope=all").then(function (d) { if (current()) { state.all = listOf(d, "sessions"); renderAll(); } }));
    jobs.push(api("GET", "/delivery-failures").then(function (d) { if (current()) renderFailures(listOf(d, "failures")); }));
    jobs.push(api("GET", "/outbox").then(function (d) { if (current()) renderOutbox(d || {}); }));
    jobs.push(api("GET", "/escalations").then(function (d) { if (current()) { state.escalationCount = listOf(d, "escalations").length; renderEscalations(listOf(d, "escalations")); supervisorCount(); } }));
    jobs.push(api("GET", "/privacy-requests?status=pending").then(function (d) { if (current()) renderPrivacy(listOf(d, "requests")); }));
    jobs.push(api("GET", "/access-log?limit=30").then(function (d) { if (current()) renderAccessLog(listOf(d, "entries")); }));
    panels.forEach(function (p) { jobs.push(Promise.resolve().then(function () { return p.refresh(current); })); });
  }
  Promise.allSettled(jobs).then(function (results) {
    if (!current()) return;
    state.refreshing = false;
    var failed = results.some(function (r) { return r.status === "rejected" && r.reason && r.reason.status !== 401; });
    if (failed) setConn("部分数据刷新失败，稍后自动重试…");
    else if (connLine.textContent.indexOf("刷新失败") >= 0) setConn("");
    updateTitle();
    if (state.refreshAgain || Object.keys(wanted).length) { state.refreshAgain = false; refreshLists(wanted); }
  });
}

function supervisorCount() {
  $("supervisor-count").textContent = String((state.escalationCount || 0) + (state.deadlineCount || 0));
}

// ---------------------------------------------------------------- my sessions

var lastUnread = {};
var offered = {};

// Chats with unread messages first, then the longest-waiting customer, then the rest by deadline.
function ordered(list) {
  return list.slice().sort(function (a, b) {
    var ua = unreadOf(a) ? 1 : 0, ub = unreadOf(b) ? 1 : 0;
    if (ua !== ub) return ub - ua;
    var wa = Date.parse(a.waiting_reply_since) || Infinity, wb = Date.parse(b.waiting_reply_since) || Infinity;
    if (wa !== wb) return wa - wb;
    return 0;
  });
}

export function renderMine() {
  var sessions = ordered(state.mine);
  var extra = (state.open ? state.open.id : "") + ":" + sessions.map(unreadOf).join(",");
  renderKeyed(myList, sessions, function (s) { return sessionItem(s, openSession); }, extra);
  $("my-count").textContent = String(state.mine.length);
  $("my-empty").hidden = state.mine.length > 0;
  // A new message in one of my chats that I am not looking at: tell the agent.
  var now = {};
  state.mine.forEach(function (s) {
    var n = unreadOf(s);
    now[s.id] = n;
    if (n > (lastUnread[s.id] || 0) && state.mineLoaded && s.last_message) {
      announce("新消息：" + (s.customer || "客户"), s.last_message.text, "msg-" + s.id);
    }
  });
  lastUnread = now;
  // A chat I offered that left my list was taken by the colleague: say so (never as an error).
  var me = state.me ? state.me.username : null;
  Object.keys(offered).forEach(function (id) {
    if (!state.mine.some(function (s) { return String(s.id) === id; })) notice("已转交给 " + agentName(offered[id]), "info");
  });
  offered = {};
  state.mine.forEach(function (s) { if (s.transfer_to && s.transfer_to !== me && s.agent === me) offered[s.id] = s.transfer_to; });
  state.mineLoaded = true;
  renderOffers();
  updateTitle();
}

// The open chat changed, or the agent saw it: redraw the badges without asking the server.
export function markOpenInLists() {
  renderMine();
  var id = state.open ? String(state.open.id) : null;
  Array.prototype.forEach.call(document.querySelectorAll(".session-item"), function (li) {
    li.classList.toggle("is-open", li.dataset.sessionId === id);
  });
}

function renderAll() {
  renderKeyed(allList, state.all, function (s) {
    return sessionItem(s, function (id) { showView("agent"); openSession(id); });
  }, state.open ? state.open.id : "");
  $("all-count").textContent = String(state.all.length);
  $("all-empty").hidden = state.all.length > 0;
}

// ---------------------------------------------------------------- agents (supervisor view)

var AWAY = { busy: "示忙", "break": "小休" };

export function renderAgentStates() {
  var list = $("agent-states");
  clear(list);
  state.agents.forEach(function (a) {
    var li = el("li", "agent-state");
    li.dataset.agent = a.username;
    li.appendChild(el("span", "item__title", a.display_name || a.username));
    if (!a.online) li.appendChild(el("span", "badge badge--offline", "离线"));
    else if (AWAY[a.status]) li.appendChild(el("span", "badge badge--away", AWAY[a.status]));
    else li.appendChild(el("span", "badge status--active", "在线"));
    list.appendChild(li);
  });
  $("agents-count").textContent = String(state.agents.filter(function (a) { return a.online; }).length);
}

// ---------------------------------------------------------------- progress and deadlines

var DEADLINES = { response: "首次响应", resolve: "处理完成", progress: "进度更新" };

function renderDeadlines(tickets) {
  var list = $("deadlines");
  clear(list);
  tickets.forEach(function (t) {
    var li = el("li", "progress-item" + (t.overdue ? " overdue" : ""));
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title ticket__number", t.number));
    top.appendChild(severityBadge(t));
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub", (t.category_label || "") + " · 负责人：" + (t.responsible ? agentName(t.responsible) : "未指派")));
    li.appendChild(el("div", "item__row item__sub",
      (DEADLINES[t.deadline] || t.deadline) + (t.overdue ? " 已超时（应于 " : " 时限 ") + fmtTime(t.due, true) + (t.overdue ? " 前）" : "")));
    opensTicket(li, t.number);
    list.appendChild(li);
  });
  $("deadlines-count").textContent = String(tickets.length);
  $("deadlines-empty").hidden = tickets.length > 0;
  state.deadlineCount = tickets.length;
  if (isSupervisor()) supervisorCount();
  else $("progress-count").textContent = String(state.progress.length + tickets.length);
}

// A ticket row that opens the ticket (history, 发送进度, corrections) on click or Enter.
function opensTicket(li, number) {
  li.classList.add("is-clickable");
  li.tabIndex = 0;
  li.title = "打开工单 " + number;
  li.addEventListener("click", function () { openTicket(number); });
  li.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openTicket(number); }
  });
}

function isOverdue(t) {
  if (t.overdue) return true;
  var due = Date.parse(t.progress_due);
  return !isNaN(due) && due < Date.now();
}

function renderProgress() {
  clear(progressList);
  state.progress.forEach(function (t) {
    var overdue = isOverdue(t);
    var li = el("li", "progress-item" + (overdue ? " overdue" : ""));
    li.dataset.number = String(t.number);
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title ticket__number", t.number));
    top.appendChild(severityBadge(t));
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub", (t.category_label || "") + (t.status_label ? " · " + t.status_label : "")));
    li.appendChild(el("div", "item__row item__sub",
      overdue ? "进度更新已超时（应于 " + fmtTime(t.progress_due, true) + " 前）"
              : "请于 " + fmtTime(t.progress_due, true) + " 前向客户更新进度"));
    opensTicket(li, t.number);
    progressList.appendChild(li);
  });
  $("progress-count").textContent = String(state.progress.length + (isSupervisor() ? 0 : state.deadlineCount || 0));
  $("progress-empty").hidden = state.progress.length > 0;
}

// ---------------------------------------------------------------- time

var tickCount = 0;
export function tick() {
  Array.prototype.forEach.call(document.querySelectorAll(".wait"), updateWait);
  tickCount += 1;
  if (tickCount % 15 === 0) {
    var changed = state.progress.some(function (t) {
      var li = progressList.querySelector('[data-number="' + cssEscape(t.number) + '"]');
      return li && li.classList.contains("overdue") !== isOverdue(t);
    });
    if (changed) renderProgress();
  }
}

function cssEscape(value) { return window.CSS && CSS.escape ? CSS.escape(String(value)) : String(value).replace(/["\\]/g, "\\$&"); }

// Empties the lists on logout.
export function clearLists() {
  [myList, allList, progressList, $("deadlines"), $("agent-states")].forEach(function (list) { clear(list); list._signature = null; });
  panels.forEach(function (p) { p.reset(); });
  resetQueues();
  lastUnread = {};
  offered = {};
  state.mineLoaded = false;
  state.deadlineCount = 0;
  state.escalationCount = 0;
  $("my-count").textContent = "0";
  $("progress-count").textContent = "0";
  renderOffers();
}
