// The ticket search at the top of the right column: by number, by words of the description, or (for
// supervisors only) by contact phone. The server decides which tickets an agent may find and writes
// every search to the access log.

import { $, el, clear, state, api, listOf } from "./core.js";
import { ticketLink } from "./customer.js";
import { openTicket } from "./ticket_view.js";

var form = $("ticket-search");
var kind = $("ticket-search-kind");
var query = $("ticket-search-q");
var phoneOption = $("ticket-search-phone");
var results = $("ticket-search-results");
var summary = $("ticket-search-summary");
var list = $("ticket-search-list");
var asked = 0;

function allowPhone() {
  var sup = !!(state.me && state.me.role === "supervisor");
  phoneOption.hidden = phoneOption.disabled = !sup;
  if (!sup && kind.value === "phone") kind.value = "number";
}

form.addEventListener("submit", function (event) {
  event.preventDefault();
  allowPhone();
  var q = query.value.trim();
  if (!q) { query.focus(); return; }
  var mine = ++asked;
  results.hidden = false;
  summary.textContent = "搜索中…";
  clear(list);
  api("GET", "/tickets?kind=" + encodeURIComponent(kind.value) + "&q=" + encodeURIComponent(q)).then(function (d) {
    if (mine !== asked) return;
    var found = listOf(d, "tickets");
    summary.textContent = found.length ? "找到 " + found.length + " 个工单" : "没有找到您可查看的工单";
    found.forEach(function (t) { var li = el("li"); li.appendChild(ticketLink(t)); list.appendChild(li); });
    if (found.length === 1 && kind.value === "number") openTicket(found[0].number);
  }, function (error) {
    if (mine !== asked) return;
    summary.textContent = error.message;
  });
});

query.addEventListener("focus", allowPhone);
kind.addEventListener("focus", allowPhone);
// Login and logout show and hide the app (agent.js): the phone search follows the role.
new MutationObserver(allowPhone).observe($("app"), { attributes: true, attributeFilter: ["hidden"] });
