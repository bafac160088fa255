// The right column: the open customer's tickets with their fields and Chinese history, and what staff
// do to a ticket: resolve it (a message to the customer apart from an internal note), send a progress
// update to the customer's channel, add an internal note, correct its category, severity or phone.
// The same ticket card is used in the ticket dialog (ticket_view.js) for tickets without a live chat.

import { $, el, clear, fmtTime, timeEl, severityBadge, state, api, notice } from "./core.js";
import { refreshLists } from "./lists.js";
import { refreshOpen } from "./session.js";
import { askReason } from "./dialog.js";
import { openResolve, openCorrect } from "./ticket_forms.js";
import { renderCustomer, reloadCustomer } from "./customer.js";
import { renderNoteForm } from "./notes.js";
import { renderCallback } from "./callback.js";
import "./search.js";
import "./confirm.js";
import { attachmentStrip } from "./attachments.js";

var CLOSED_TICKET = { resolved: true, closed: true };

var ticketsBox = $("tickets");
var ticketsEmpty = $("tickets-empty");

// ---------------------------------------------------------------- one ticket

function field(list, label, value, className) {
  list.appendChild(el("dt", null, label));
  list.appendChild(el("dd", className || null, value === null || value === undefined || value === "" ? "—" : value));
}

// A ticket as a card. `changed(ticket)` is called with the ticket after an action on it.
export function ticketCard(t, changed) {
  var section = el("section", "ticket");
  section.dataset.number = String(t.number);

  var head = el("div", "ticket__head");
  head.appendChild(el("span", "ticket__number", t.number));
  head.appendChild(el("span", "badge", t.status_label || t.status));
  head.appendChild(severityBadge(t));
  section.appendChild(head);

  var fields = el("dl", "ticket__fields");
  field(fields, "类别", t.category_label);
  field(fields, "处理部门", t.department_label);
  field(fields, "责任人", t.responsible ? (t.responsible_name || t.responsible) : "未指派");
  field(fields, "联系电话", t.has_contact_phone === false ? "未提供" : (t.contact_phone || "未提供"));
  field(fields, "受理时间", fmtTime(t.created_at, true));
  field(fields, "响应时限", fmtTime(t.response_due, true));
  field(fields, "解决时限", fmtTime(t.resolve_due, true));
  if (t.progress_due) {
    var late = Date.parse(t.progress_due) < Date.now() && !CLOSED_TICKET[t.status];
    field(fields, "下次进度更新", fmtTime(t.progress_due, true) + (late ? "（已超时）" : ""), late ? "ticket__overdue" : null);
  }
  section.appendChild(fields);

  if (t.description) section.appendChild(el("p", "ticket__desc", t.description));
  if (Array.isArray(t.attachments) && t.attachments.length) section.appendChild(attachmentStrip(t.attachments));

  var events = Array.isArray(t.events) ? t.events : [];
  if (events.length) {
    var ol = el("ol", "ticket__events");
    events.forEach(function (e) {
      // The server renders every line in Chinese (label, text, actor_name); kind/detail stay raw for other systems.
      var li = el("li", e.kind === "internal_note" ? "is-note" : null);
      li.dataset.kind = String(e.kind || "");
      li.appendChild(timeEl(e.at, true));
      li.appendChild(el("span", "ticket__event-actor", e.actor_name || e.actor));
      li.appendChild(el("strong", "ticket__event-label", e.label || "其他记录"));
      var text = e.text !== undefined ? e.text : e.detail;
      if (text) {
        li.appendChild(document.createTextNode("："));
        li.appendChild(el("span", "ticket__event-detail", text));
      }
      ol.appendChild(li);
    });
    section.appendChild(ol);
  }

  var actions = el("div", "ticket__actions");
  if (!CLOSED_TICKET[t.status]) {
    actions.appendChild(button("解决", "btn btn--small btn--primary resolve", function () { openResolve(t, changed); }));
    actions.appendChild(button("发送进度", "btn btn--small progress", function () { sendProgress(t, changed); }));
  }
  actions.appendChild(button("内部备注", "btn btn--small ticket-note", function () { addNote(t, changed); }));
  actions.appendChild(button("更正", "btn btn--small correct", function () { openCorrect(t, changed); }));
  section.appendChild(actions);
  return section;
}

function button(text, className, onClick) {
  var b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function sendProgress(t, changed) {
  askReason({
    title: "向客户发送进度 · 工单 " + t.number,
    label: "进度说明（发送到客户的渠道，计为24小时进度更新）",
    required: true,
    submit: function (text) {
      return api("POST", "/tickets/" + encodeURIComponent(t.number) + "/progress", { text: text }).then(function (d) {
        notice("已向客户发送工单 " + t.number + " 的进度。", "info");
        if (d && d.ticket) changed(d.ticket);
      });
    }
  });
}

function addNote(t, changed) {
  askReason({
    title: "工单内部备注 · " + t.number,
    label: "内部备注（只记入工单历史，不发送给客户）",
    required: true,
    submit: function (text) {
      return api("POST", "/tickets/" + encodeURIComponent(t.number) + "/notes", { text: text }).then(function (d) {
        if (d && d.ticket) changed(d.ticket);
      });
    }
  });
}

// ---------------------------------------------------------------- the open session's tickets

function changedInOpen(ticket) {
  var open = state.open;
  if (open && ticket) {
    open.tickets = open.tickets.map(function (t) { return t.number === ticket.number ? ticket : t; });
    renderTickets();
  }
  reloadCustomer();
  refreshLists();
  if (open && state.open === open) refreshOpen();
}

export function renderTickets() {
  var open = state.open;
  clear(ticketsBox);
  var tickets = open ? open.tickets : [];
  ticketsEmpty.hidden = tickets.length > 0;
  tickets.forEach(function (t) { ticketsBox.appendChild(ticketCard(t, changedInOpen)); });
  renderNoteForm();
  renderCallback();
  renderCustomer();
}

// The open session closed (session.js hides the panel without re-rendering the column): the note
// form, the call-back box and the customer panel follow.
new MutationObserver(function () { if (!state.open) { renderNoteForm(); renderCallback(); renderCustomer(); } })
  .observe($("session"), { attributes: true, attributeFilter: ["data-session-id", "hidden"] });
