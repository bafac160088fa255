// The customer panel for the open session: their channels, every ticket (closed ones, and those filed
// from another channel with the same contact phone), each openable with its history, and their
// earlier sessions. Loaded when another session opens and on 刷新 (each load is in the access log).

import { $, el, clear, fmtTime, severityBadge, state, api, sessionPath, listOf } from "./core.js";
import { openTicket } from "./ticket_view.js";

var panel = $("customer-panel");
var channelsBox = $("customer-channels");
var ticketsList = $("customer-tickets");
var sessionsList = $("customer-sessions");
var loadedFor = null;

export function ticketLink(t) {
  var b = el("button", "ticket-link");
  b.type = "button";
  b.dataset.number = String(t.number);
  b.appendChild(el("span", "ticket-link__number", t.number));
  b.appendChild(el("span", "badge", t.status_label || t.status));
  b.appendChild(document.createTextNode(" "));
  b.appendChild(severityBadge(t));
  b.appendChild(el("span", "ticket-link__sub", (t.category_label || "") + " · " + fmtTime(t.created_at, true) + " · " + (t.description || "").slice(0, 40)));
  b.addEventListener("click", function () { openTicket(t.number); });
  return b;
}

function render(profile) {
  clear(channelsBox);
  listOf(profile, "channels").forEach(function (c) {
    channelsBox.appendChild(el("dt", null, c.channel_label || c.channel));
    channelsBox.appendChild(el("dd", null, c.customer));
  });
  clear(ticketsList);
  var tickets = listOf(profile, "tickets");
  if (!tickets.length) ticketsList.appendChild(el("li", "list__empty", "暂无工单"));
  tickets.forEach(function (t) { var li = el("li"); li.appendChild(ticketLink(t)); ticketsList.appendChild(li); });
  clear(sessionsList);
  var sessions = listOf(profile, "sessions");
  sessions.forEach(function (s) {
    var text = "#" + s.id + " · " + fmtTime(s.requested_at, true) + " · " + (s.status_label || s.status) + (s.agent_name ? " · " + s.agent_name : "");
    sessionsList.appendChild(el("li", "ticket-link__sub", text));
  });
}

function load(id) {
  api("GET", sessionPath(id, "/customer")).then(function (d) {
    if (state.open && String(state.open.id) === String(id) && d && d.customer) render(d.customer);
  }, function () { /* the panel keeps what it shows; 刷新 tries again */ });
}

export function renderCustomer() {
  var open = state.open;
  panel.hidden = !(open && open.session);
  if (!open || !open.session) { loadedFor = null; return; }
  if (loadedFor === open.id) return;
  loadedFor = open.id;
  clear(channelsBox); clear(ticketsList); clear(sessionsList);
  load(open.id);
}

// After a change to one of the customer's tickets (resolve, correction, note): show it in the panel too.
export function reloadCustomer() { if (state.open && !panel.hidden) load(state.open.id); }

$("customer-refresh").addEventListener("click", reloadCustomer);
