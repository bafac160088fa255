// Call-backs by phone (回电): reveal the full number (a logged 显示完整号码) and record what the call
// came to: 已联系 closes it, 未接通 keeps it in the queue, 再次回电 sets a new deadline; each with an
// optional note that goes into the tickets' history. The customer is not sent "客服已接入".
//
// The box in the right column shows for the open session when it is a call-back, or for a queued
// call-back passed to `openCallback(session)` (a queue item's 回电 button: agents may handle a
// call-back without opening it as a chat).

import { $, el, clear, fmtTime, state, api, notice, sessionPath } from "./core.js";
import { refreshLists } from "./lists.js";
import { refreshOpen } from "./session.js";

var box = $("callback-box");
var title = $("callback-title");
var phone = $("callback-phone");
var reveal = $("callback-reveal");
var note = $("callback-note");
var retryAt = $("callback-retry-at");
var buttons = [reveal, $("callback-reached"), $("callback-no-answer"), $("callback-retry")];
var picked = null;   // a call-back chosen from the queue: {id, customer, callback_due}
var shownFor = null;
var busy = false;

function current() {
  var s = state.open && state.open.session;
  if (s && s.status === "callback") return s;
  return picked;
}

export function openCallback(session) {
  picked = session;
  renderCallback();
  box.scrollIntoView({ block: "nearest" });
}

export function renderCallback() {
  var s = current();
  box.hidden = !s;
  if (!s) { shownFor = null; return; }
  if (shownFor !== s.id) {
    shownFor = s.id;
    clear(phone);
    phone.textContent = "已隐藏";
    note.value = "";
    retryAt.value = "";
  }
  title.textContent = "回电 · " + (s.customer || "客户") + (s.callback_due ? "（最迟 " + fmtTime(s.callback_due, true) + "）" : "");
  buttons.forEach(function (b) { b.disabled = busy; });
}

reveal.addEventListener("click", function () {
  var s = current();
  if (!s || busy) return;
  busy = true;
  renderCallback();
  api("POST", sessionPath(s.id, "/callback/phone")).then(function (d) {
    clear(phone);
    if (d && d.phone) {
      var link = el("a", "callback-box__tel", d.phone);
      link.href = "tel:" + String(d.phone).replace(/[^0-9+]/g, "");
      phone.appendChild(link);
    } else phone.textContent = "未提供";
  }, function (error) {
    if (error.status !== 401) notice(error.message, "error");
  }).then(function () { busy = false; renderCallback(); });
});

function record(outcome) {
  var s = current();
  if (!s || busy) return;
  var body = { outcome: outcome, note: note.value.trim() };
  if (outcome === "retry") {
    var when = retryAt.value ? new Date(retryAt.value) : null;
    if (!when || isNaN(when.getTime())) { notice("请先选择再次回电的时间。", "error"); retryAt.focus(); return; }
    body.retry_at = when.toISOString();
  }
  busy = true;
  renderCallback();
  api("POST", sessionPath(s.id, "/callback/outcome"), body).then(function () {
    notice({ reached: "已记录：已联系客户，回电已完成。", no_answer: "已记录：未接通，回电仍在队列中。", retry: "已记录：约定再次回电。" }[outcome], "info");
    note.value = "";
    if (outcome === "reached" || picked) picked = null;
    refreshLists();
    if (state.open && state.open.id === s.id) refreshOpen();
  }, function (error) {
    if (error.status !== 401) notice(error.message, "error");
  }).then(function () { busy = false; renderCallback(); });
}

$("callback-reached").addEventListener("click", function () { record("reached"); });
$("callback-no-answer").addEventListener("click", function () { record("no_answer"); });
$("callback-retry").addEventListener("click", function () { record("retry"); });
