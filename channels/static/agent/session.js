// The open session in the middle: its head (customer, status, owner, transfer banner), which controls
// the viewer may use, the transcript (kept in message-id order, pinned to its end) and the reply
// composer with the canned replies.

import { CHANNELS, STATUSES, $, el, clear, fmtTime, timeEl, severityBadge, state, isSupervisor, myName, agentName, api, sessionPath, listOf, notice, setConn } from "./core.js";
import { markOpenInLists, refreshLists } from "./lists.js";
import { renderTickets } from "./tickets.js";
import { setHashSession, loadDraft, saveDraft } from "./shift.js";
import { markSeen } from "./attention.js";
import { placeInTranscript } from "./attachments.js";

var MAX_CHARS = 5000;
var SENDERS = { customer: "客户", bot: "机器人", agent: "坐席", system: "系统", note: "内部备注" };
var ESCALATION = { pending: ["升级审核中", "badge--escalated"], accepted: ["主管已同意升级", "badge--accepted"], declined: ["升级被驳回", "badge--declined"] };

var sessionEmpty = $("session-empty");
var sessionPanel = $("session");
var sessionTitle = $("session-title");
var sessionStatus = $("session-status");
var sessionMeta = $("session-meta");
var sessionReason = $("session-reason");
var transferBanner = $("transfer-banner");
var transferBannerText = $("transfer-banner-text");
var transcript = $("transcript");
var newBelow = $("new-below");

var replyForm = $("reply-form");
var replyText = $("reply-text");
var replySend = $("reply-send");
var replyHint = $("reply-hint");
var cannedSelect = $("canned");

// The session's action controls: their state is set here (updateControls), their clicks are
// handled in actions.js, which imports them from here.
export var btnRelease = $("btn-release");
export var btnClose = $("btn-close");
export var btnTransfer = $("btn-transfer");
export var btnReassign = $("btn-reassign");
export var btnEscalate = $("btn-escalate");
export var btnTransferAccept = $("btn-transfer-accept");
export var btnTransferDecline = $("btn-transfer-decline");
export var transferTo = $("transfer-to");

var ticketsBox = $("tickets");
var ticketsEmpty = $("tickets-empty");

// ---------------------------------------------------------------- the open session

export function openSession(id, summary, options) {
  options = options || {};
  if (state.open && String(state.open.id) === String(id)) {
    if (summary) { state.open.session = summary; renderSessionHead(); }
    refreshOpen();
    if (options.focusReply) focusReply();
    return;
  }
  keepDraft();
  state.open = { id: id, session: summary || null, tickets: [], ids: {}, maxId: -Infinity, loading: false, again: false };
  sessionPanel.dataset.sessionId = String(id);
  sessionPanel.hidden = false;
  sessionEmpty.hidden = true;
  clear(transcript);
  clear(ticketsBox);
  ticketsEmpty.hidden = false;
  replyText.value = loadDraft(id);
  newBelow.hidden = true;
  pinned = true;
  setHashSession(id);
  if (summary) renderSessionHead();
  else {
    sessionTitle.textContent = "会话 #" + id;
    sessionStatus.textContent = "加载中…";
    sessionStatus.className = "badge";
    clear(sessionMeta);
    sessionReason.textContent = "";
    transferBanner.hidden = true;
    updateControls();
  }
  markOpenInLists();
  refreshOpen();
  if (options.focusReply) focusReply();
}

// After 接入 or 接收转交 the agent types at once (L1).
function focusReply() {
  setTimeout(function () { if (!replyText.disabled) replyText.focus(); else replyText.dataset.focusWhenReady = "1"; }, 0);
}

function keepDraft() {
  if (state.open && state.me) saveDraft(state.open.id, replyText.value);
}

export function closeSession(keepHash) {
  keepDraft();
  if (!keepHash) setHashSession(null);
  state.open = null;
  sessionPanel.hidden = true;
  sessionPanel.removeAttribute("data-session-id");
  sessionEmpty.hidden = false;
  clear(transcript);
  clear(ticketsBox);
  ticketsEmpty.hidden = false;
  replyText.value = "";
  markOpenInLists();
}

export function refreshOpen() {
  var open = state.open;
  if (!open) return;
  if (open.loading) { open.again = true; return; }
  open.loading = true;
  Promise.allSettled([
    api("GET", sessionPath(open.id)),
    api("GET", sessionPath(open.id, "/transcript"))
  ]).then(function (results) {
    open.loading = false;
    if (state.open !== open) return;
    var details = results[0], messages = results[1];
    if (details.status === "fulfilled") {
      var d = details.value || {};
      var before = open.session;
      if (d.session) open.session = d.session;
      open.tickets = Array.isArray(d.tickets) ? d.tickets : [];
      if (before && before.status === "active" && open.session && open.session.status !== "active") {
        notice("会话状态已变为：" + (STATUSES[open.session.status] || open.session.status), "info");
      }
      if (!document.hidden && open.session) { markSeen(open.session); markOpenInLists(); }
      renderSessionHead();
      renderTickets();
    } else {
      var error = details.reason;
      if (error.status === 401) return;
      if (error.status === 403 || error.status === 404) {
        // A chat I offered to a colleague and they took: that is a success, not an error (H5).
        var offered = open.session && open.session.transfer_to && open.session.transfer_to !== myName();
        if (offered && error.status === 403) notice("已转交给 " + agentName(open.session.transfer_to), "info");
        else notice(error.message, "error");
        closeSession();
        refreshLists({ mine: true });
        return;
      }
      setConn("会话详情刷新失败，稍后自动重试…");
    }
    if (messages.status === "fulfilled") {
      appendMessages(listOf(messages.value, "messages"));
      markFailed(listOf(messages.value, "messages"));
      open.attachments = listOf(messages.value, "attachments");
      placeInTranscript(transcript, open, open.attachments);
    }
    if (open.again) { open.again = false; refreshOpen(); }
  });
}

function meta(label, value) {
  var wrap = el("div");
  wrap.appendChild(el("dt", null, label));
  var dd = el("dd");
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  wrap.appendChild(dd);
  return wrap;
}

export function renderSessionHead() {
  var open = state.open;
  if (!open || !open.session) { updateControls(); return; }
  var s = open.session;
  var me = myName();
  sessionTitle.textContent = (s.customer || "客户") + " · 会话 #" + s.id;
  sessionStatus.className = "badge status status--" + (STATUSES[s.status] ? s.status : "closed");
  sessionStatus.textContent = STATUSES[s.status] || String(s.status || "");

  clear(sessionMeta);
  sessionMeta.appendChild(meta("渠道", CHANNELS[s.channel] || s.channel));
  var kind = el("span");
  kind.appendChild(document.createTextNode((s.category_label || "未分类") + " "));
  kind.appendChild(severityBadge(s));
  sessionMeta.appendChild(meta("类别", kind));
  sessionMeta.appendChild(meta("负责人", s.owner ? (s.owner === me ? "我" : (s.owner_name || s.owner)) : "—"));
  sessionMeta.appendChild(meta("当前坐席", s.agent ? (s.agent === me ? "我" : (s.agent_name || s.agent)) : "—"));
  sessionMeta.appendChild(meta("请求时间", fmtTime(s.requested_at, true)));
  if (s.due) sessionMeta.appendChild(meta("截止", fmtTime(s.due, true)));
  if (s.ticket_numbers && s.ticket_numbers.length) sessionMeta.appendChild(meta("工单", s.ticket_numbers.join("、")));
  if (s.callback_due) sessionMeta.appendChild(meta("回电", el("span", "badge badge--callback", "最迟 " + fmtTime(s.callback_due, true))));
  var esc = ESCALATION[s.escalation] || (s.escalated ? ESCALATION.pending : null);
  if (esc) sessionMeta.appendChild(meta("升级", el("span", "badge " + esc[1], esc[0])));
  sessionReason.textContent = s.reason ? "转人工原因：" + s.reason : "";

  if (s.transfer_to) {
    transferBanner.hidden = false;
    if (s.transfer_to === me) {
      transferBannerText.textContent = (s.agent_name || agentName(s.agent) || "同事") + " 请求将此会话转交给你，原因：" + (s.transfer_reason || "未填写");
    } else {
      transferBannerText.textContent = "正在转交给 " + agentName(s.transfer_to) + "，等待对方接收。";
    }
  } else {
    transferBanner.hidden = true;
    transferBannerText.textContent = "";
  }
  updateControls();
}

// Which controls the current viewer may use on the open session.
export function updateControls() {
  var open = state.open;
  var s = open && open.session;
  var me = myName();
  var sup = isSupervisor();
  var active = !!(s && s.status === "active");
  var holder = !!(s && me && s.agent === me);
  var canAct = active && (holder || sup);
  var canReply = canAct;

  replyText.disabled = !canReply;
  replySend.disabled = !canReply || sending;
  cannedSelect.disabled = !canReply;
  replyForm.classList.toggle("is-disabled", !canReply);
  if (!s) replyHint.textContent = "";
  else if (!active) replyHint.textContent = "会话" + (STATUSES[s.status] || "未进行") + "，不能回复。";
  else if (!canReply) replyHint.textContent = "你不是当前接待坐席，不能回复。";
  else replyHint.textContent = "";

  var pending = !!(s && s.transfer_to);
  var escalated = !!(s && s.escalated);
  var canReassign = !!(sup && s && (s.status === "active" || s.status === "waiting" || s.status === "callback"));

  btnRelease.disabled = !canAct;
  btnClose.disabled = !canAct;
  btnTransfer.disabled = !canAct || pending;
  transferTo.disabled = !(canAct || canReassign);
  btnEscalate.disabled = !(active && (holder || s.owner === me || sup)) || escalated;  // as the API allows
  btnEscalate.textContent = !escalated ? "升级主管" : (ESCALATION[s.escalation] || ESCALATION.pending)[0];
  btnReassign.hidden = !sup;
  btnReassign.disabled = !canReassign;

  var target = !!(s && me && s.transfer_to === me);
  btnTransferAccept.hidden = !target;
  btnTransferDecline.hidden = !target;
  btnTransferAccept.disabled = !target;
  btnTransferDecline.disabled = !target;
  if (canReply && replyText.dataset.focusWhenReady) { delete replyText.dataset.focusWhenReady; replyText.focus(); }
}

function messageItem(m) {
  var sender = SENDERS[m.sender] ? m.sender : "system";
  var li = el("li", "msg msg--" + sender);
  if (m.id !== undefined && m.id !== null) li.dataset.messageId = String(m.id);
  var head = el("div", "msg__meta");
  if (sender === "agent") head.appendChild(el("span", "msg__who", m.agent_name || m.agent || "坐席"));
  else if (sender === "note") {
    // Staff only: never delivered to the customer (the server stores it as not for the customer).
    head.appendChild(el("span", "msg__sender", "内部备注 · 仅坐席可见"));
    head.appendChild(el("span", "msg__who", m.agent_name || m.agent || "坐席"));
  } else head.appendChild(el("span", "msg__sender", SENDERS[sender]));
  head.appendChild(timeEl(m.at, true));
  li.appendChild(head);
  li.appendChild(el("div", "msg__text", m.text === null || m.text === undefined ? "" : m.text));
  if (m.delivery_failed) {
    li.classList.add("msg--failed");
    li.appendChild(el("div", "msg__failed", "未送达客户（对方渠道拒收或长时间不可用）"));
  }
  return li;
}

function markFailed(messages) {
  // A message already shown may be reported undeliverable later: mark it in place.
  messages.forEach(function (m) {
    if (!m.delivery_failed) return;
    var li = transcript.querySelector("li[data-message-id='" + String(Number(m.id)) + "']");
    if (li && !li.classList.contains("msg--failed")) {
      li.classList.add("msg--failed");
      li.appendChild(el("div", "msg__failed", "未送达客户（对方渠道拒收或长时间不可用）"));
    }
  });
}

export function appendMessages(messages) {
  var open = state.open;
  if (!open || !messages.length) return;
  var fresh = messages.filter(function (m) { return !open.ids[m.id]; });
  if (!fresh.length) return;
  var outOfOrder = fresh.some(function (m) { return Number(m.id) < open.maxId; });
  if (outOfOrder) {
    // Rare (a late answer raced a newer one): rebuild from everything known, in id order.
    var all = Array.prototype.map.call(transcript.querySelectorAll(".msg:not(.msg--attachment)"), function (li) { return li._message; }).concat(fresh);
    all.sort(function (a, b) { return Number(a.id) - Number(b.id); });
    clear(transcript);
    open.ids = {};
    open.attachmentIds = {};  // placed again below, between the rebuilt messages
    open.maxId = -Infinity;
    fresh = all;
  }
  fresh.forEach(function (m) {
    if (open.ids[m.id]) return;
    open.ids[m.id] = true;
    open.maxId = Math.max(open.maxId, Number(m.id) || 0);
    var li = messageItem(m);
    li._message = m;
    transcript.appendChild(li);
  });
  // Follow the conversation only when the agent is at its end; while they read the history, a
  // "新消息" hint appears instead of a jump (L5).
  if (outOfOrder && open.attachments) placeInTranscript(transcript, open, open.attachments);
  if (pinned || outOfOrder) transcript.scrollTop = transcript.scrollHeight;
  else newBelow.hidden = false;
}

// Keep the transcript pinned to its end while the agent has not scrolled up, also when the panel
// around it changes height (a notice, a transfer banner).
var pinned = true;
transcript.addEventListener("scroll", function () {
  pinned = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
  if (pinned) newBelow.hidden = true;
});
newBelow.addEventListener("click", function () {
  transcript.scrollTop = transcript.scrollHeight;
  pinned = true;
  newBelow.hidden = true;
});
document.addEventListener("visibilitychange", function () {
  if (!document.hidden && state.open && state.open.session) { markSeen(state.open.session); markOpenInLists(); }
});
if (window.ResizeObserver) {
  new ResizeObserver(function () { if (pinned) transcript.scrollTop = transcript.scrollHeight; }).observe(transcript);
}

// ---------------------------------------------------------------- reply

var sending = false;

replyForm.addEventListener("submit", function (event) {
  event.preventDefault();
  var open = state.open;
  if (!open || sending || replyText.disabled) return;
  var text = replyText.value.trim();
  if (!text) { replyText.focus(); return; }
  if (text.length > MAX_CHARS) { notice("回复太长了（超过 " + MAX_CHARS + " 字），请分几条发送。", "error"); return; }
  sending = true;
  replySend.disabled = true;
  api("POST", sessionPath(open.id, "/messages"), { text: text }).then(function (d) {
    if (state.open !== open) return;
    if (replyText.value.trim() === text) { replyText.value = ""; saveDraft(open.id, ""); }
    pinned = true;
    if (d && d.message) appendMessages([d.message]);
  }, function (error) {
    if (error.status !== 401) notice(error.message, "error");
    if (state.open === open && (error.status === 403 || error.status === 409)) refreshOpen();
  }).then(function () {
    sending = false;
    updateControls();
    if (!replyText.disabled) replyText.focus();
  });
});

replyText.addEventListener("input", function () {
  if (state.open) saveDraft(state.open.id, replyText.value);
});

replyText.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    if (replyForm.requestSubmit) replyForm.requestSubmit(); else replySend.click();
  }
});

// ---------------------------------------------------------------- canned replies

export function loadCanned() {
  var epoch = state.epoch;
  api("GET", "/canned-replies").then(function (d) {
    if (epoch !== state.epoch) return;
    state.canned = listOf(d, "replies");
    clear(cannedSelect);
    var placeholder = el("option", null, state.canned.length ? "常用回复…" : "暂无常用回复");
    placeholder.value = "";
    cannedSelect.appendChild(placeholder);
    state.canned.forEach(function (r, i) {
      var option = el("option", null, r.title || ("回复 " + (i + 1)));
      option.value = String(i);
      option.title = r.text || "";
      cannedSelect.appendChild(option);
    });
  }, function () { /* the picker stays empty */ });
}

// A canned reply's variables: {坐席姓名} (the agent's display name) and {工单号} (the customer's first
// open ticket; the phrase around it reads well without one).
function fillCanned(text) {
  var me = state.me || {};
  var s = state.open && state.open.session;
  var number = s && s.ticket_numbers && s.ticket_numbers.length ? s.ticket_numbers[0] : "";
  return text
    .replace(/\{坐席姓名\}/g, me.display_name || me.username || "")
    .replace(/\{工单号\}/g, number ? " " + number + " " : "");
}

cannedSelect.addEventListener("change", function () {
  var reply = state.canned[Number(cannedSelect.value)];
  cannedSelect.value = "";
  if (!reply || replyText.disabled) return;
  var text = fillCanned(String(reply.text || ""));
  var start = replyText.selectionStart, end = replyText.selectionEnd;
  if (typeof start === "number" && document.activeElement === replyText) {
    replyText.setRangeText(text, start, end, "end");
  } else if (replyText.value && !/\s$/.test(replyText.value)) {
    replyText.value += "\n" + text;
  } else {
    replyText.value += text;
  }
  replyText.focus();
  replyText.setSelectionRange(replyText.value.length, replyText.value.length);
});
