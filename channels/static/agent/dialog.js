// The small dialog that asks for a reason or a note (transfer, escalate, reassign, resolve, and the
// supervisor and incident actions) and runs the action with it.

import { $, state } from "./core.js";
import { refreshOpen } from "./session.js";

var dialog = $("reason-dialog");
var dialogForm = $("reason-form");
var dialogTitle = $("reason-title");
var dialogLabel = $("reason-label");
var dialogText = $("reason-text");
var dialogError = $("reason-error");
var dialogSubmit = $("reason-submit");

// ---------------------------------------------------------------- reason / note dialog

var dialogJob = null;
var dialogBusy = false;

// options: {title, label, required, submit(text) -> Promise}. The dialog stays open until submit
// succeeds; a failure is shown inside it.
export function askReason(options) {
  dialogJob = options;
  dialogBusy = false;
  dialogTitle.textContent = options.title;
  dialogLabel.textContent = options.label;
  dialogText.value = "";
  dialogText.setAttribute("aria-required", options.required ? "true" : "false");
  dialogError.textContent = "";
  dialogSubmit.disabled = false;
  if (typeof dialog.showModal === "function") { if (!dialog.open) dialog.showModal(); } else dialog.setAttribute("open", "");
  dialogText.focus();
}

export function closeDialog() {
  dialogJob = null;
  dialogBusy = false;
  if (dialog.open) { if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open"); }
}

dialogForm.addEventListener("submit", function (event) {
  event.preventDefault();
  var job = dialogJob;
  if (!job || dialogBusy) return;
  var text = dialogText.value.trim();
  if (job.required && !text) { dialogError.textContent = "请填写" + job.label.replace(/（.*）$/, "") + "。"; dialogText.focus(); return; }
  dialogBusy = true;
  dialogSubmit.disabled = true;
  dialogError.textContent = "";
  Promise.resolve().then(function () { return job.submit(text); }).then(function () {
    if (dialogJob === job) closeDialog();
  }, function (error) {
    if (dialogJob !== job) return;
    dialogBusy = false;
    dialogSubmit.disabled = false;
    dialogError.textContent = (error && error.message) || "操作失败，请重试。";
    if (error && error.status !== 401 && state.open) refreshOpen();
  });
});

$("reason-cancel").addEventListener("click", closeDialog);
dialog.addEventListener("cancel", function () { dialogJob = null; dialogBusy = false; });
dialogText.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    if (dialogForm.requestSubmit) dialogForm.requestSubmit(); else dialogSubmit.click();
  }
});
