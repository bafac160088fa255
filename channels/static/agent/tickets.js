// The right column: the open customer's tickets with their fields and history, and resolving one.

import { TICKET_EVENTS, $, el, clear, fmtTime, timeEl, severityBadge, state, api, notice } from "./core.js";
import { refreshLists } from "./lists.js";
import { refreshOpen } from "./session.js";
import { askReason } from "./dialog.js";

var CLOSED_TICKET = { resolved: true, closed: true };

var ticketsBox = $("tickets");
var ticketsEmpty = $("tickets-empty");

// ---------------------------------------------------------------- tickets

function field(list, label, value, className) {
  list.appendChild(el("dt", null, label));
  var dd = el("dd", className || null, value === null || value === undefined || value === "" ? "—" : value);
  list.appendChild(dd);
}

export function renderTickets() {
  var open = state.open;
  clear(ticketsBox);
  var tickets = open ? open.tickets : [];
  ticketsEmpty.hidden = tickets.length > 0;
  tickets.forEach(function (t) {
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
    field(fields, "责任人", t.responsible || "未指派");
    field(fields, "联系电话", t.contact_phone || "未提供");
    field(fields, "受理时间", fmtTime(t.created_at, true));
    field(fields, "响应时限", fmtTime(t.response_due, true));
    field(fields, "解决时限", fmtTime(t.resolve_due, true));
    if (t.progress_due) {
      var late = Date.parse(t.progress_due) < Date.now() && !CLOSED_TICKET[t.status];
      field(fields, "下次进度更新", fmtTime(t.progress_due, true) + (late ? "（已超时）" : ""), late ? "ticket__overdue" : null);
    }
    section.appendChild(fields);

    if (t.description) section.appendChild(el("p", "ticket__desc", t.description));

    var events = Array.isArray(t.events) ? t.events : [];
    if (events.length) {
      var ol = el("ol", "ticket__events");
      events.forEach(function (e) {
        var li = el("li");
        li.appendChild(timeEl(e.at, true));
        li.appendChild(el("span", "ticket__event-actor", e.actor === "customer" ? "客户" : e.actor === "bot" ? "机器人" : e.actor));
        li.appendChild(el("strong", null, TICKET_EVENTS[e.kind] || e.kind));
        if (e.detail) {
          li.appendChild(document.createTextNode("："));
          li.appendChild(el("span", "ticket__event-detail", e.detail));
        }
        ol.appendChild(li);
      });
      section.appendChild(ol);
    }

    if (!CLOSED_TICKET[t.status]) {
      var resolve = el("button", "btn btn--small resolve", "解决");
      resolve.type = "button";
      resolve.addEventListener("click", function () { resolveTicket(t.number); });
      section.appendChild(resolve);
    }
    ticketsBox.appendChild(section);
  });
}

function resolveTicket(number) {
  var open = state.open;
  askReason({
    title: "解决工单 " + number,
    label: "处理结果（记入工单历史）",
    required: true,
    submit: function (note) {
      return api("POST", "/tickets/" + encodeURIComponent(number) + "/resolve", { note: note }).then(function (d) {
        if (state.open === open && open && d && d.ticket) {
          open.tickets = open.tickets.map(function (t) { return t.number === d.ticket.number ? d.ticket : t; });
          renderTickets();
        }
        notice("工单 " + number + " 已标记为解决。", "info");
        refreshLists();
        if (state.open === open) refreshOpen();
      });
    }
  });
}
