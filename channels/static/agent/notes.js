// Internal notes on the open session: written in the right column, shown in the transcript styled as
// 内部备注 (session.js), and never delivered to the customer (the server stores them for staff only).

import { $, state, api, notice, sessionPath } from "./core.js";
import { appendMessages } from "./session.js";

var form = $("note-form");
var text = $("note-text");
var add = $("note-add");
var busy = false;

export function renderNoteForm() {
  var open = state.open;
  var s = open && open.session;
  var me = state.me && state.me.username;
  var allowed = !!(s && state.me && (state.me.role === "supervisor" || s.agent === me || s.owner === me || s.transfer_to === me));
  form.hidden = !open;
  text.disabled = add.disabled = !allowed || busy;
}

form.addEventListener("submit", function (event) {
  event.preventDefault();
  var open = state.open;
  var value = text.value.trim();
  if (!open || busy || !value) { text.focus(); return; }
  busy = true;
  add.disabled = true;
  api("POST", sessionPath(open.id, "/notes"), { text: value }).then(function (d) {
    if (text.value.trim() === value) text.value = "";
    if (state.open === open && d && d.message) appendMessages([d.message]);
  }, function (error) {
    if (error.status !== 401) notice(error.message, "error");
  }).then(function () {
    busy = false;
    renderNoteForm();
  });
});
