// One ticket in a dialog, with its actions, for tickets without a live chat: opened from 待更新进度
// (lists.js), the search results and the customer panel. Other modules call `openTicket(number)`.

import { $, el, clear, api } from "./core.js";
import { ticketCard } from "./tickets.js";
import { refreshLists } from "./lists.js";
import { refreshOpen } from "./session.js";
import { reloadCustomer } from "./customer.js";

var dialog = $("ticket-dialog");
var title = $("ticket-dialog-title");
var body = $("ticket-dialog-body");
var error = $("ticket-dialog-error");
var showing = null;

function render(ticket) {
  clear(body);
  title.textContent = "工单 " + ticket.number;
  body.appendChild(ticketCard(ticket, function (changed) {
    if (showing === changed.number) render(changed);
    refreshLists();
    reloadCustomer();
    refreshOpen();  // the open chat's tickets may include this one
  }));
}

// Show the ticket `number` (any spelling the server accepts) with its history and actions.
export function openTicket(number) {
  showing = String(number || "").toUpperCase();
  clear(body);
  error.textContent = "";
  title.textContent = "工单 " + showing;
  body.appendChild(el("p", "list__empty", "加载中…"));
  if (typeof dialog.showModal === "function") { if (!dialog.open) dialog.showModal(); } else dialog.setAttribute("open", "");
  var asked = showing;
  return api("GET", "/tickets/" + encodeURIComponent(asked)).then(function (d) {
    if (showing !== asked || !d || !d.ticket) return;
    showing = d.ticket.number;
    render(d.ticket);
  }, function (failure) {
    if (showing !== asked) return;
    clear(body);
    error.textContent = failure.status === 404 ? "没有找到这个工单，或您无权查看。" : failure.message;
  });
}

export function closeTicket() {
  showing = null;
  if (dialog.open) { if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open"); }
}

$("ticket-dialog-close").addEventListener("click", closeTicket);
dialog.addEventListener("cancel", function () { showing = null; });
