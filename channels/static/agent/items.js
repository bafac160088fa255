// The pieces of the left column's lists: a list rebuilt only when its data changed (keeping the
// focused control and the scroll position), the waiting-time label, the last-message preview and a
// session card with its unread badge and "客户等待回复 N 分钟".

import { CHANNELS, el, clear, fmtTime, duration, severityBadge, statusBadge, state, myName, agentName } from "./core.js";
import { unreadOf } from "./attention.js";

var SENDERS = { customer: "客户", bot: "机器人", agent: "我方", system: "系统" };
var ESCALATION = { pending: ["升级审核中", "badge--escalated"], accepted: ["主管已同意升级", "badge--accepted"], declined: ["升级被驳回", "badge--declined"] };

// Rebuilds `list` from `items` only when they (or `extra`) changed; the focused card or button and
// the scroll position survive the rebuild, so a keyboard user is never thrown back to <body>.
export function renderKeyed(list, items, build, extra) {
  // The waiting time is counted on by tick(); it alone changes nothing to rebuild.
  var signature = JSON.stringify(items, function (key, value) { return key === "waiting_seconds" ? undefined : value; }) + "|" + (extra || "");
  if (list._signature === signature) return false;
  list._signature = signature;
  var active = document.activeElement;
  var focusId = null, focusClass = null;
  if (active && list.contains(active)) {
    var card = active.closest("[data-session-id]");
    focusId = card ? card.dataset.sessionId : null;
    focusClass = active === card ? null : (active.className || "").split(" ").pop();
  }
  var scroller = list.closest(".pane, .panel") || list;
  var top = scroller.scrollTop;
  clear(list);
  items.forEach(function (item) { list.appendChild(build(item)); });
  scroller.scrollTop = top;
  if (focusId) {
    var again = list.querySelector('[data-session-id="' + focusId + '"]');
    var target = again && focusClass ? again.querySelector("." + focusClass) : again;
    if (target && target.focus) target.focus();
  }
  return true;
}

export function forgetRender(list) { list._signature = null; }

// ---------------------------------------------------------------- small parts

export function waitSpan(s) {
  var span = el("span", "wait");
  // Anchor on the server's own waiting_seconds so a skewed client clock does not matter.
  var base = typeof s.waiting_seconds === "number" ? Date.now() - s.waiting_seconds * 1000 : Date.parse(s.requested_at);
  if (!isNaN(base)) span.dataset.since = String(base);
  span.dataset.prefix = "等待 ";
  if (s.requested_at) span.title = "请求时间 " + fmtTime(s.requested_at);
  updateWait(span);
  return span;
}

export function updateWait(span) {
  var since = Number(span.dataset.since);
  if (!since) { span.textContent = ""; return; }
  var seconds = (Date.now() - since) / 1000;
  var text = (span.dataset.prefix || "") + duration(seconds);
  if (span.dataset.suffix) text += span.dataset.suffix;
  if (span.textContent !== text) span.textContent = text;
  span.classList.toggle("wait--long", seconds >= 600);
}

export function lastLine(s) {
  var m = s.last_message;
  if (!m || !m.text) return null;
  var line = el("div", "item__last", (SENDERS[m.sender] || "") + "：" + m.text);
  if (m.at) line.title = fmtTime(m.at);
  return line;
}

// ---------------------------------------------------------------- session cards

export function sessionItem(s, open) {
  var me = myName();
  var li = el("li", "session-item");
  li.dataset.sessionId = String(s.id);
  li.tabIndex = 0;
  if (state.open && String(state.open.id) === String(s.id)) li.classList.add("is-open");
  var unread = unreadOf(s);
  if (unread) li.classList.add("has-unread");

  var top = el("div", "item__row");
  top.appendChild(el("span", "item__title", s.customer || "客户"));
  top.appendChild(severityBadge(s));
  top.appendChild(el("span", "item__spacer"));
  if (unread) {
    var badge = el("span", "unread", String(unread));
    badge.title = unread + " 条未读消息";
    top.appendChild(badge);
  }
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
  var esc = ESCALATION[s.escalation] || (s.escalated ? ESCALATION.pending : null);
  if (esc) badges.appendChild(el("span", "badge " + esc[1], esc[0]));
  if (s.callback_due) {
    var cb = el("span", "badge badge--callback", "回电");
    cb.title = "已承诺回电，最迟 " + fmtTime(s.callback_due);
    badges.appendChild(cb);
  }
  if (badges.firstChild) li.appendChild(badges);
  var last = lastLine(s);
  if (last) li.appendChild(last);
  if (s.unanswered && s.waiting_reply_since && s.status === "active") {
    var waiting = el("span", "wait item__waiting");
    var since = Date.parse(s.waiting_reply_since);
    if (!isNaN(since)) {
      waiting.dataset.since = String(since);
      waiting.dataset.prefix = "客户等待回复 ";
      updateWait(waiting);
      var row = el("div", "item__row");
      row.appendChild(waiting);
      li.appendChild(row);
    }
  }

  li.addEventListener("click", function () { open(s.id); });
  li.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(s.id); }
  });
  return li;
}
