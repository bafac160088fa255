// A robust shift: the open chat in the URL (#session=123, restored on reload), each chat's draft kept
// in localStorage (restored on reload or switch, cleared on send), the agent's status (在线 / 示忙 /
// 小休) in the top bar, the left column's tabs and the agent / supervisor views, and the warning
// before logging out with live chats (with a clean hand-back to the queue).

import { $, el, clear, state, api, notice, store, myKey, myName } from "./core.js";

// ---------------------------------------------------------------- the open chat in the URL

export function sessionFromHash() {
  var m = /(?:^#|&)session=(\d+)/.exec(window.location.hash || "");
  return m ? Number(m[1]) : null;
}

export function setHashSession(id) {
  var hash = id ? "#session=" + id : "";
  if ((window.location.hash || "") === hash) return;
  window.history.replaceState(null, "", window.location.pathname + window.location.search + hash);
}

// ---------------------------------------------------------------- drafts

export function loadDraft(id) { return store(myKey("draft." + id)) || ""; }
export function saveDraft(id, text) { store(myKey("draft." + id), text ? text : null); }

// An explicit logout forgets the agent's drafts: on a shared desk PC the next person must not find
// what was typed to a customer (an expired login keeps them, the same agent logs in again).
export function forgetDrafts() {
  var me = myName();
  if (!me) return;
  try {
    var mine = [];
    for (var i = 0; i < window.localStorage.length; i++) {
      var key = window.localStorage.key(i);
      if (key && key.indexOf("agent.draft.") === 0 && key.slice(-(me.length + 1)) === "." + me) mine.push(key);
    }
    mine.forEach(function (key) { window.localStorage.removeItem(key); });
  } catch (e) { /* storage disabled: nothing was kept */ }
}

// ---------------------------------------------------------------- status

var STATUS_TEXT = { online: "在线", busy: "示忙", "break": "小休" };
var statusSelect = $("my-status");

export function renderStatus() {
  var status = (state.me && state.me.status) || "online";
  statusSelect.value = status;
  statusSelect.classList.toggle("is-away", status !== "online");
}

statusSelect.addEventListener("change", function () {
  var wanted = statusSelect.value;
  api("POST", "/me/status", { status: wanted }).then(function (me) {
    if (me && state.me) state.me.status = me.status;
    renderStatus();
    notice(wanted === "online" ? "已切换为在线，可以接入新的客户。"
      : "已切换为" + STATUS_TEXT[wanted] + "：不再为您分配新的客户，已接入的会话不受影响。", "info");
  }, function (error) {
    renderStatus();
    if (error.status !== 401) notice(error.message, "error");
  });
});

// ---------------------------------------------------------------- tabs and views

var tabs = Array.prototype.slice.call(document.querySelectorAll(".tab"));

export function showPane(paneId) {
  tabs.forEach(function (tab) {
    var on = tab.dataset.pane === paneId;
    tab.classList.toggle("is-active", on);
    tab.setAttribute("aria-selected", on ? "true" : "false");
    $(tab.dataset.pane).hidden = !on;
  });
}
tabs.forEach(function (tab) { tab.addEventListener("click", function () { showPane(tab.dataset.pane); }); });

var viewAgent = $("view-agent");
var viewSupervisor = $("view-supervisor");

export function showView(name) {
  var sup = name === "supervisor";
  $("agent-view").hidden = sup;
  $("supervisor-view").hidden = !sup;
  viewAgent.classList.toggle("is-active", !sup);
  viewSupervisor.classList.toggle("is-active", sup);
  viewAgent.setAttribute("aria-selected", sup ? "false" : "true");
  viewSupervisor.setAttribute("aria-selected", sup ? "true" : "false");
}
viewAgent.addEventListener("click", function () { showView("agent"); });
viewSupervisor.addEventListener("click", function () { showView("supervisor"); });

// The ticket column is a drawer on laptop screens (agent.css): this button opens and closes it.
var drawer = $("tickets-drawer");
var drawerButton = $("btn-tickets");
function setDrawer(open) {
  drawer.classList.toggle("is-open", open);
  drawerButton.setAttribute("aria-expanded", open ? "true" : "false");
}
drawerButton.addEventListener("click", function () { setDrawer(!drawer.classList.contains("is-open")); });

// Opens the ticket column (a drawer on laptop screens), e.g. for the call-back box.
export function openDrawer() { setDrawer(true); }

// ---------------------------------------------------------------- logging out

var dialog = $("logout-dialog");
var dialogList = $("logout-sessions");
var onChoice = null;

export function liveChats() {
  var me = myName();
  return state.mine.filter(function (s) { return s.status === "active" && s.agent === me; });
}

// Calls choose(handBack) once the agent decided; not at all when they cancel.
export function confirmLogout(choose) {
  var chats = liveChats();
  if (!chats.length) { choose(false); return; }
  clear(dialogList);
  chats.forEach(function (s) {
    dialogList.appendChild(el("li", null, (s.customer || "客户") + " · " + (s.category_label || "未分类") + " · 会话 #" + s.id));
  });
  onChoice = choose;
  if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  $("logout-handback").focus();
}

function decide(handBack) {
  var choose = onChoice;
  onChoice = null;
  if (dialog.open) dialog.close();
  if (choose && handBack !== null) choose(handBack);
}
$("logout-handback").addEventListener("click", function () { decide(true); });
$("logout-anyway").addEventListener("click", function () { decide(false); });
$("logout-cancel").addEventListener("click", function () { decide(null); });
dialog.addEventListener("cancel", function () { onChoice = null; });
