// Ending a chat asks first (结束会话, 交还机器人): one stray click no longer ends a customer's chat, and
// handing back with an open ticket reminds the agent that the ticket stays theirs to resolve.
// A capturing listener stops the click before actions.js sees it and lets it through once confirmed,
// so the actions themselves stay where they are.

import { $, state } from "./core.js";

var dialog = $("confirm-dialog");
var title = $("confirm-title");
var text = $("confirm-text");
var ok = $("confirm-ok");
var asking = null;     // the button waiting for an answer
var confirmed = null;  // the button whose next click goes through

var OPEN_TICKET = { new: true, assigned: true, in_progress: true, reopened: true };

function openTickets() {
  var tickets = state.open && Array.isArray(state.open.tickets) ? state.open.tickets : [];
  return tickets.filter(function (t) { return OPEN_TICKET[t.status]; });
}

function ask(button) {
  asking = button;
  var open = openTickets();
  var pending = open.length ? "该客户还有 " + open.length + " 个未解决的工单（" + open.map(function (t) { return t.number; }).join("、") + "），仍由您负责跟进；如已处理完毕，请先在右侧点“解决”。" : "";
  if (button.id === "btn-release") {
    title.textContent = "交还机器人？";
    text.textContent = "客户之后的消息将由机器人回答。" + pending;
    ok.textContent = "交还机器人";
  } else {
    title.textContent = "结束会话？";
    text.textContent = "客户将收到人工服务结束的通知。" + pending;
    ok.textContent = "结束会话";
  }
  if (typeof dialog.showModal === "function") { if (!dialog.open) dialog.showModal(); } else dialog.setAttribute("open", "");
  ok.focus();
}

function close() {
  if (dialog.open) { if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open"); }
}

document.addEventListener("click", function (event) {
  var button = event.target && event.target.closest ? event.target.closest("#btn-close, #btn-release") : null;
  if (!button || button.disabled) return;
  if (confirmed === button) { confirmed = null; return; }
  event.preventDefault();
  event.stopImmediatePropagation();
  ask(button);
}, true);

ok.addEventListener("click", function () {
  var button = asking;
  asking = null;
  close();
  if (button && !button.disabled) { confirmed = button; button.click(); }
});
$("confirm-cancel").addEventListener("click", function () { asking = null; close(); });
dialog.addEventListener("cancel", function () { asking = null; });
