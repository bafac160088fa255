// The lists in the left column every agent sees: the waiting queue (with its accept button), my
// sessions, all sessions (supervisors), progress updates due and deadline warnings; refreshLists()
// reloads them (and the supervisor panels) together, and tick() keeps the waiting times current.

import { CHANNELS, $, el, clear, fmtTime, duration, severityClass, severityBadge, statusBadge, state, isSupervisor, myName, agentName, api, sessionPath, listOf, notice, setConn } from "./core.js";
import { renderEscalations, renderOutbox, renderPrivacy, renderAccessLog, renderFailures } from "./supervisor.js";
import { openSession } from "./session.js";

var queueList = $("queue");
var myList = $("my-sessions");
var allList = $("all-sessions");
var progressList = $("progress-due");
var connLine = $("conn");

// ---------------------------------------------------------------- panels in their own files

// A panel (e.g. incidents.js) registers {refresh(current), reset()}: refreshed with the lists
// (`current()` is false once the console was logged out or restarted), reset on logout.
export var panels = [];
export function registerPanel(panel) { panels.push(panel); }

// ---------------------------------------------------------------- lists

export function refreshLists() {
  if (!state.me && !state.token) return;
  if (state.refreshing) { state.refreshAgain = true; return; }
  state.refreshing = true;
  var epoch = state.epoch;
  var jobs = [
    api("GET", "/queue").then(function (d) { if (epoch === state.epoch) { state.queue = listOf(d, "sessions"); renderQueue(); } }),
    api("GET", "/sessions?scope=mine").then(function (d) { if (epoch === state.epoch) { state.mine = listOf(d, "sessions"); renderMine(); } }),
    api("GET", "/progress-due").then(function (d) { if (epoch === state.epoch) { state.progress = listOf(d, "tickets"); renderProgress(); } }),
    api("GET", "/deadlines").then(function (d) { if (epoch === state.epoch) renderDeadlines(listOf(d, "tickets")); })
  ];
  if (isSupervisor()) {
    jobs.push(api("GET", "/sessions?scope=all").then(function (d) { if (epoch === state.epoch) { state.all = listOf(d, "sessions"); renderAll(); } }));
    jobs.push(api("GET", "/delivery-failures").then(function (d) { if (epoch === state.epoch) renderFailures(listOf(d, "failures")); }));
    jobs.push(api("GET", "/outbox").then(function (d) { if (epoch === state.epoch) renderOutbox(d || {}); }));
    jobs.push(api("GET", "/escalations").then(function (d) { if (epoch === state.epoch) renderEscalations(listOf(d, "escalations")); }));
    jobs.push(api("GET", "/privacy-requests?status=pending").then(function (d) { if (epoch === state.epoch) renderPrivacy(listOf(d, "requests")); }));
    jobs.push(api("GET", "/access-log?limit=30").then(function (d) { if (epoch === state.epoch) renderAccessLog(listOf(d, "entries")); }));
  }
  panels.forEach(function (p) { jobs.push(Promise.resolve().then(function () { return p.refresh(function () { return epoch === state.epoch; }); })); });
  Promise.allSettled(jobs).then(function (results) {
    if (epoch !== state.epoch) return;
    state.refreshing = false;
    var failed = results.some(function (r) { return r.status === "rejected" && r.reason && r.reason.status !== 401; });
    if (failed) setConn("部分数据刷新失败，稍后自动重试…");
    else if (connLine.textContent.indexOf("刷新失败") >= 0) setConn("");
    if (state.refreshAgain) { state.refreshAgain = false; refreshLists(); }
  });
}

export function renderCounts() {
  $("queue-count").textContent = String(state.queue.length);
  $("my-count").textContent = String(state.mine.length);
  $("all-count").textContent = String(state.all.length);
  $("progress-count").textContent = String(state.progress.length);
  $("queue-empty").hidden = state.queue.length > 0;
  $("my-empty").hidden = state.mine.length > 0;
  $("all-empty").hidden = state.all.length > 0;
  $("progress-empty").hidden = state.progress.length > 0;
}

function waitSpan(s) {
  var span = el("span", "wait");
  // Anchor on the server's own waiting_seconds so a skewed client clock does not matter.
  var base = typeof s.waiting_seconds === "number" ? Date.now() - s.waiting_seconds * 1000 : Date.parse(s.requested_at);
  if (!isNaN(base)) span.dataset.since = String(base);
  if (s.requested_at) span.title = "请求时间 " + fmtTime(s.requested_at);
  updateWait(span);
  return span;
}

function updateWait(span) {
  var since = Number(span.dataset.since);
  if (!since) { span.textContent = ""; return; }
  var seconds = (Date.now() - since) / 1000;
  var text = "等待 " + duration(seconds);
  if (span.textContent !== text) span.textContent = text;
  span.classList.toggle("wait--long", seconds >= 600);
}

function renderQueue() {
  clear(queueList);
  state.queue.forEach(function (s) {
    var li = el("li", "queue-item queue-item--" + severityClass(s.severity));
    li.dataset.sessionId = String(s.id);

    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", s.category_label || "未分类"));
    top.appendChild(severityBadge(s));
    if (s.callback_due) {
      var cb = el("span", "badge badge--callback", "回电");
      cb.title = "已承诺回电，最迟 " + fmtTime(s.callback_due);
      top.appendChild(cb);
    }
    if (s.escalated) top.appendChild(el("span", "badge badge--escalated", "已升级"));
    top.appendChild(el("span", "item__spacer"));
    top.appendChild(waitSpan(s));
    li.appendChild(top);

    var who = el("div", "item__row");
    who.appendChild(el("span", "item__sub", (s.customer || "客户") + " · " + (CHANNELS[s.channel] || s.channel || "")));
    if (s.owner) who.appendChild(el("span", "item__sub", "负责人：" + (s.owner_name || s.owner)));
    li.appendChild(who);
    // First-contact responsibility: the owner's own customer is flagged for them.
    if (s.owner && state.me && s.owner === state.me.username) {
      li.classList.add("queue-item--mine");
      li.appendChild(el("div", "item__row item__owner", "您负责的客户在等待"));
    }

    if (s.reason) li.appendChild(el("div", "item__row item__sub", s.reason));
    if (s.last_message) li.appendChild(el("div", "item__last", s.last_message));

    var row = el("div", "item__row");
    if (s.due) row.appendChild(el("span", "item__sub", "截止 " + fmtTime(s.due, true)));
    var accept = el("button", "btn btn--primary btn--small accept", "接入");
    accept.type = "button";
    accept.addEventListener("click", function () { acceptSession(s.id, accept); });
    row.appendChild(accept);
    li.appendChild(row);

    queueList.appendChild(li);
  });
  renderCounts();
  document.title = (state.queue.length ? "(" + state.queue.length + ") " : "") + "坐席工作台 · 在线客服";
}

function sessionItem(s) {
  var me = myName();
  var li = el("li", "session-item");
  li.dataset.sessionId = String(s.id);
  li.tabIndex = 0;
  if (state.open && String(state.open.id) === String(s.id)) li.classList.add("is-open");

  var top = el("div", "item__row");
  top.appendChild(el("span", "item__title", s.customer || "客户"));
  top.appendChild(severityBadge(s));
  top.appendChild(el("span", "item__spacer"));
  top.appendChild(statusBadge(s.status));
  li.appendChild(top);

  var sub = el("div", "item__row");
  sub.appendChild(el("span", "item__sub", (s.category_label || "未分类") + " · " + (CHANNELS[s.channel] || s.channel || "")));
  if (s.agent) sub.appendChild(el("span", "item__sub", "坐席：" + (s.agent === me ? "我" : (s.agent_name || s.agent))));
  if (s.owner && s.owner !== s.agent) sub.appendChild(el("span", "item__sub", "负责人：" + (s.owner === me ? "我" : (s.owner_name || s.owner))));
  li.appendChild(sub);

  var badges = el("div", "item__row");
  if (s.transfer_to && s.transfer_to === me) badges.appendChild(el("span", "badge badge--transfer", "待我接收转交"));
  else if (s.transfer_to) badges.appendChild(el("span", "badge badge--transfer", "转交中 → " + agentName(s.transfer_to)));
  if (s.escalated) badges.appendChild(el("span", "badge badge--escalated", "已升级"));
  if (s.callback_due) {
    var cb = el("span", "badge badge--callback", "回电");
    cb.title = "已承诺回电，最迟 " + fmtTime(s.callback_due);
    badges.appendChild(cb);
  }
  if (badges.firstChild) li.appendChild(badges);
  if (s.last_message) li.appendChild(el("div", "item__last", s.last_message));

  li.addEventListener("click", function () { openSession(s.id); });
  li.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openSession(s.id); }
  });
  return li;
}

function renderMine() {
  clear(myList);
  var me = myName();
  state.mine.forEach(function (s) {
    myList.appendChild(sessionItem(s));
    // Tell the agent once about every session someone wants to hand over.
    if (s.transfer_to === me && !state.seenTransfers[s.id]) {
      state.seenTransfers[s.id] = true;
      notice((s.agent_name || agentName(s.agent) || "同事") + " 请求将会话（" + (s.customer || "#" + s.id) + "）转交给你，请在“我的会话”中打开并接收或拒绝。", "info");
    }
  });
  renderCounts();
}

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
    li.appendChild(el("div", "item__row item__sub", (t.category_label || "") + " · 负责人：" + (t.responsible || "未指派")));
    li.appendChild(el("div", "item__row item__sub",
      (DEADLINES[t.deadline] || t.deadline) + (t.overdue ? " 已超时（应于 " : " 时限 ") + fmtTime(t.due, true) + (t.overdue ? " 前）" : "")));
    list.appendChild(li);
  });
  $("deadlines-count").textContent = String(tickets.length);
  $("deadlines-empty").hidden = tickets.length > 0;
}

function renderAll() {
  clear(allList);
  state.all.forEach(function (s) { allList.appendChild(sessionItem(s)); });
  renderCounts();
}

export function markOpenInLists() {
  var id = state.open ? String(state.open.id) : null;
  Array.prototype.forEach.call(document.querySelectorAll(".session-item"), function (li) {
    li.classList.toggle("is-open", li.dataset.sessionId === id);
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
    progressList.appendChild(li);
  });
  renderCounts();
}

var tickCount = 0;
export function tick() {
  Array.prototype.forEach.call(document.querySelectorAll(".wait"), updateWait);
  tickCount += 1;
  if (tickCount % 15 === 0) {
    // Overdue marks change with time alone.
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
  [queueList, myList, allList, progressList].forEach(clear);
  panels.forEach(function (p) { p.reset(); });
  renderCounts();
}

// ---------------------------------------------------------------- accepting from the queue

function acceptSession(id, button) {
  button.disabled = true;
  var epoch = state.epoch;
  api("POST", sessionPath(id, "/accept"), {}).then(function (d) {
    if (epoch !== state.epoch) return;
    openSession(id, d && d.session);
    refreshLists();
  }, function (error) {
    if (epoch !== state.epoch || error.status === 401) return;
    button.disabled = false;
    if (error.status === 409) {
      var who = error.body.agent_name || error.body.agent;
      notice(error.body.message || (who ? "该会话已由 " + who + " 接入。" : error.message), "error");
    } else {
      notice(error.message, "error");
    }
    refreshLists();
  });
}
