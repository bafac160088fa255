// The two ticket forms that need more than one field: resolving (告知客户的处理结果, with a preview of
// exactly what the customer gets, apart from the 内部备注 that only goes into the history) and
// correcting a ticket's category, severity (reason required) or contact phone.

import { $, api, notice } from "./core.js";

// What the customer gets (the server's texts in bot/tickets/resolution.py: RESULT_TEXT, STANDARD_RESULT_TEXT).
var RESULT_TEXT = "您的工单 {number} 已处理完成。处理结果：{message}";
var STANDARD_TEXT = "您的工单 {number} 已处理完成。如仍有问题，请直接回复我们。";
var MESSAGE_TEMPLATE = "经核查，您反映的问题已经处理完毕。";

// ---------------------------------------------------------------- shared dialog plumbing

function show(dialog) {
  if (typeof dialog.showModal === "function") { if (!dialog.open) dialog.showModal(); } else dialog.setAttribute("open", "");
}
function hide(dialog) {
  if (dialog.open) { if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open"); }
}

// Runs `job()` (a Promise) with the submit button disabled; the dialog closes on success and shows the
// (Chinese) error message of a failure inside it.
function run(dialog, submit, error, job) {
  submit.disabled = true;
  error.textContent = "";
  return job().then(function () { hide(dialog); }, function (failure) {
    error.textContent = (failure && failure.message) || "操作失败，请重试。";
  }).then(function () { submit.disabled = false; });
}

// ---------------------------------------------------------------- resolve

var resolveDialog = $("resolve-dialog");
var resolveForm = $("resolve-form");
var resolveTitle = $("resolve-title");
var resolveMessage = $("resolve-message");
var resolvePreview = $("resolve-preview");
var resolveNote = $("resolve-note");
var resolveError = $("resolve-error");
var resolveSubmit = $("resolve-submit");
var resolving = null;  // {ticket, changed}

function preview() {
  if (!resolving) return;
  var message = resolveMessage.value.trim();
  var text = message ? RESULT_TEXT.replace("{message}", message) : STANDARD_TEXT;
  resolvePreview.textContent = text.replace("{number}", resolving.ticket.number);
}

export function openResolve(ticket, changed) {
  resolving = { ticket: ticket, changed: changed };
  resolveTitle.textContent = "解决工单 " + ticket.number;
  resolveMessage.value = MESSAGE_TEMPLATE;
  resolveNote.value = "";
  resolveError.textContent = "";
  resolveSubmit.disabled = false;
  preview();
  show(resolveDialog);
  resolveMessage.focus();
}

resolveMessage.addEventListener("input", preview);
$("resolve-cancel").addEventListener("click", function () { resolving = null; hide(resolveDialog); });
resolveForm.addEventListener("submit", function (event) {
  event.preventDefault();
  var job = resolving;
  if (!job || resolveSubmit.disabled) return;
  var message = resolveMessage.value.trim();
  var note = resolveNote.value.trim();
  if (!message && !note) { resolveError.textContent = "请填写告知客户的处理结果或内部备注。"; return; }
  run(resolveDialog, resolveSubmit, resolveError, function () {
    return api("POST", "/tickets/" + encodeURIComponent(job.ticket.number) + "/resolve", { message: message, note: note }).then(function (d) {
      notice("工单 " + job.ticket.number + " 已标记为解决，处理结果已发送给客户。", "info");
      if (d && d.ticket) job.changed(d.ticket);
    });
  });
});

// ---------------------------------------------------------------- correct

var correctDialog = $("correct-dialog");
var correctForm = $("correct-form");
var correctField = $("correct-field");
var correctReason = $("correct-reason");
var correctReasonLabel = $("correct-reason-label");
var correctError = $("correct-error");
var correctSubmit = $("correct-submit");
var INPUTS = {
  category: [$("correct-category"), $("correct-category-label")],
  severity: [$("correct-severity"), $("correct-severity-label")],
  contact_phone: [$("correct-phone"), $("correct-phone-label")]
};
var correcting = null;

function showField() {
  Object.keys(INPUTS).forEach(function (key) {
    INPUTS[key].forEach(function (node) { node.hidden = key !== correctField.value; });
  });
  correctReasonLabel.textContent = correctField.value === "severity" ? "原因（必填）" : "原因（可选）";
}

export function openCorrect(ticket, changed) {
  correcting = { ticket: ticket, changed: changed };
  $("correct-title").textContent = "更正工单 " + ticket.number;
  correctField.value = "category";
  if (ticket.category) INPUTS.category[0].value = ticket.category;
  INPUTS.severity[0].value = ticket.severity || "general";
  INPUTS.contact_phone[0].value = "";
  correctReason.value = "";
  correctError.textContent = "";
  correctSubmit.disabled = false;
  showField();
  show(correctDialog);
  correctField.focus();
}

correctField.addEventListener("change", showField);
$("correct-cancel").addEventListener("click", function () { correcting = null; hide(correctDialog); });
correctForm.addEventListener("submit", function (event) {
  event.preventDefault();
  var job = correcting;
  if (!job || correctSubmit.disabled) return;
  var key = correctField.value;
  var value = INPUTS[key][0].value.trim();
  var reason = correctReason.value.trim();
  if (!value) { correctError.textContent = "请填写新的值。"; return; }
  if (key === "severity" && !reason) { correctError.textContent = "更正严重程度须填写原因。"; correctReason.focus(); return; }
  run(correctDialog, correctSubmit, correctError, function () {
    return api("POST", "/tickets/" + encodeURIComponent(job.ticket.number) + "/corrections", { field: key, value: value, reason: reason }).then(function (d) {
      notice("工单 " + job.ticket.number + " 已更正，已记入工单历史。", "info");
      if (d && d.ticket) job.changed(d.ticket);
    });
  });
});
