// The two queues of the left column: 排队中 (live chats, status waiting, in exactly the order the
// customers were told their place) and 回电 (call-back requests, filtered and paged so hundreds of
// them are never rendered at once), their accept buttons, and the announcement of a new live chat.

import { CHANNELS, $, el, fmtTime, severityClass, severityBadge, state, api, sessionPath, listOf, notice } from "./core.js";
import { renderKeyed, waitSpan, lastLine } from "./items.js";
import { openSession } from "./session.js";
import { refreshLists } from "./lists.js";
import { announce } from "./attention.js";
import { showPane, openDrawer } from "./shift.js";
import { openCallback } from "./callback.js";

var LIVE_LIMIT = 100;
var PAGE = 20;

var liveList = $("queue");
var callbackList = $("callbacks");
var known = null;          // ids of live chats already announced (null before the first load)
var page = 0;

// ---------------------------------------------------------------- loading

export function loadLive(epoch) {
  return api("GET", "/queue?kind=live&limit=" + LIVE_LIMIT).then(function (d) {
    if (epoch !== state.epoch) return;
    state.queue = listOf(d, "sessions");
    state.liveTotal = d && typeof d.total === "number" ? d.total : state.queue.length;
    announceNew();
    renderLive();
  });
}

export function loadCallbacks(epoch) {
  var query = "/queue?kind=callback&limit=" + PAGE + "&offset=" + page * PAGE;
  if ($("callback-overdue").checked) query += "&overdue=1";
  if ($("callback-severity").value) query += "&severity=" + encodeURIComponent($("callback-severity").value);
  return api("GET", query).then(function (d) {
    if (epoch !== state.epoch) return;
    state.callbacks = listOf(d, "sessions");
    state.callbackTotal = d && typeof d.total === "number" ? d.total : state.callbacks.length;
    if (!state.callbacks.length && page > 0 && state.callbackTotal) { page = 0; loadCallbacks(epoch); return; }
    renderCallbacks();
  });
}

export function resetQueues() {
  known = null;
  page = 0;
  state.queue = [];
  state.callbacks = [];
  state.liveTotal = 0;
  state.callbackTotal = 0;
  renderLive();
  renderCallbacks();
}

function announceNew() {
  var ids = {};
  var fresh = [];
  state.queue.forEach(function (s) {
    ids[s.id] = true;
    if (known && !known[s.id]) fresh.push(s);
  });
  known = ids;
  if (!fresh.length) return;
  var s = fresh[0];
  var text = (s.customer || "客户") + " · " + (s.category_label || "未分类") + (s.reason ? " · " + s.reason : "");
  announce(fresh.length > 1 ? fresh.length + " 位新客户在排队" : "新客户在排队", text, "queue-" + s.id);
}

// ---------------------------------------------------------------- rendering

function queueItem(s) {
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
  if (s.owner && state.me && s.owner === state.me.username) {
    li.classList.add("queue-item--mine");
    li.appendChild(el("div", "item__row item__owner", "您负责的客户在等待"));
  }
  if (s.reason) li.appendChild(el("div", "item__row item__sub", s.reason));
  var last = lastLine(s);
  if (last) li.appendChild(last);

  var row = el("div", "item__row");
  if (s.callback_due) row.appendChild(el("span", "item__sub", "最迟回电 " + fmtTime(s.callback_due, true)));
  else if (s.due) row.appendChild(el("span", "item__sub", "截止 " + fmtTime(s.due, true)));
  if (s.status === "callback") {
    // A call-back is a phone call: handled from the call-back box without opening a chat.
    var call = el("button", "btn btn--primary btn--small call", "回电");
    call.type = "button";
    call.title = "显示号码并记录回电结果（不会给客户发送接入消息）";
    call.addEventListener("click", function () { openDrawer(); openCallback(s); });
    row.appendChild(call);
  }
  var accept = el("button", "btn btn--small accept" + (s.status === "callback" ? "" : " btn--primary"), "接入");
  accept.type = "button";
  accept.addEventListener("click", function () { acceptSession(s.id, accept); });
  row.appendChild(accept);
  li.appendChild(row);
  return li;
}

export function renderLive() {
  renderKeyed(liveList, state.queue, queueItem);
  $("queue-count").textContent = String(state.liveTotal || 0);
  $("queue-empty").hidden = state.queue.length > 0;
  var more = $("queue-more");
  more.hidden = !(state.liveTotal > state.queue.length);
  more.textContent = "另有 " + (state.liveTotal - state.queue.length) + " 位客户在排队，接入上面的客户后依次显示。";
}

function renderCallbacks() {
  renderKeyed(callbackList, state.callbacks, queueItem);
  var total = state.callbackTotal || 0;
  $("callback-count").textContent = String(total);
  $("callbacks-empty").hidden = state.callbacks.length > 0;
  var pages = Math.max(1, Math.ceil(total / PAGE));
  $("callback-pager").hidden = total <= PAGE;
  $("callback-page").textContent = "第 " + (page + 1) + " / " + pages + " 页，共 " + total + " 条";
  $("callback-prev").disabled = page === 0;
  $("callback-next").disabled = page + 1 >= pages;
}

function reloadCallbacks() { loadCallbacks(state.epoch).catch(function (e) { if (e.status !== 401) notice(e.message, "error"); }); }
$("callback-overdue").addEventListener("change", function () { page = 0; reloadCallbacks(); });
$("callback-severity").addEventListener("change", function () { page = 0; reloadCallbacks(); });
$("callback-prev").addEventListener("click", function () { if (page > 0) { page -= 1; reloadCallbacks(); } });
$("callback-next").addEventListener("click", function () { page += 1; reloadCallbacks(); });

// ---------------------------------------------------------------- accepting

function acceptSession(id, button) {
  button.disabled = true;
  var epoch = state.epoch;
  api("POST", sessionPath(id, "/accept"), {}).then(function (d) {
    if (epoch !== state.epoch) return;
    showPane("pane-mine");
    openSession(id, d && d.session, { focusReply: true });
    refreshLists({ mine: true, live: true, callback: true });
  }, function (error) {
    if (epoch !== state.epoch || error.status === 401) return;
    button.disabled = false;
    if (error.status === 409) {
      var who = error.body.agent_name || error.body.agent;
      notice(error.body.message || (who ? "该会话已由 " + who + " 接入。" : error.message), "error");
    } else {
      notice(error.message, "error");
    }
    refreshLists({ live: true, callback: true });
  });
}
