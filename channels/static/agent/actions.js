// What an agent does to the open session from the buttons under it: hand back to the bot, close,
// transfer (and accept or decline a transfer), reassign (supervisors) and escalate; and the list of
// agents those buttons pick from.

import { el, clear, state, myName, agentName, api, sessionPath, listOf, notice } from "./core.js";
import { refreshLists, renderAgentStates } from "./lists.js";
import {
  refreshOpen, renderSessionHead, updateControls,
  btnRelease, btnClose, btnTransfer, btnReassign, btnEscalate, btnTransferAccept, btnTransferDecline, transferTo,
} from "./session.js";
import { askReason } from "./dialog.js";


// ---------------------------------------------------------------- agents

export function loadAgents() {
  var epoch = state.epoch;
  return api("GET", "/agents").then(function (d) {
    if (epoch !== state.epoch) return;
    state.agents = listOf(d, "agents");
    renderAgents();
    renderAgentStates();
  }, function () { /* keep the last list */ });
}

export function renderAgents() {
  var previous = transferTo.value;
  var me = myName();
  var others = state.agents.filter(function (a) { return a.username !== me; });
  // Available first, then busy or on a break, then offline.
  var rank = function (a) { return !a.online ? 2 : (a.status && a.status !== "online" ? 1 : 0); };
  var sorted = others.slice().sort(function (a, b) { return rank(a) - rank(b); });
  clear(transferTo);
  var placeholder = el("option", null, sorted.length ? "选择坐席…" : "暂无其他坐席");
  placeholder.value = "";
  transferTo.appendChild(placeholder);
  sorted.forEach(function (a) {
    var away = { busy: "（示忙）", "break": "（小休）" }[a.status] || "";
    var label = (a.display_name || a.username) + (a.role === "supervisor" ? "（主管）" : "") + (a.online ? away : "（离线）");
    var option = el("option", a.online ? null : "offline", label);
    option.value = a.username;
    transferTo.appendChild(option);
  });
  if (previous && sorted.some(function (a) { return a.username === previous; })) transferTo.value = previous;
  if (state.open && state.open.session) renderSessionHead();
}

// ---------------------------------------------------------------- session actions

// Runs POST path on the open session and takes the returned summary.
function sessionAction(tail, body, done) {
  var open = state.open;
  if (!open) return Promise.resolve();
  return api("POST", sessionPath(open.id, tail), body || {}).then(function (d) {
    if (state.open === open && d && d.session) {
      open.session = d.session;
      renderSessionHead();
    }
    if (done) notice(done, "info");
    refreshLists();
    if (state.open === open) refreshOpen();
  });
}

function simpleAction(button, tail, done) {
  button.addEventListener("click", function () {
    if (button.disabled) return;
    button.disabled = true;
    sessionAction(tail, {}, done).catch(function (error) {
      if (error.status !== 401) notice(error.message, "error");
      refreshOpen();
    }).then(updateControls);
  });
}

simpleAction(btnRelease, "/release", "已交还机器人，客户将继续由机器人接待。");
simpleAction(btnClose, "/close", "会话已结束。");
simpleAction(btnTransferAccept, "/transfer/accept", "已接收转交，你现在负责接待该客户。");
simpleAction(btnTransferDecline, "/transfer/decline", "已拒绝转交。");

btnTransfer.addEventListener("click", function () {
  var to = transferTo.value;
  if (!to) { notice("请先在下拉框中选择要转交的坐席。", "error"); transferTo.focus(); return; }
  var name = agentName(to);
  askReason({
    title: "转交会话给 " + name,
    label: "转交原因（写入工单记录）",
    required: true,
    submit: function (reason) {
      return sessionAction("/transfer", { to: to, reason: reason }, "已发起转交，等待 " + name + " 接收。");
    }
  });
});

btnReassign.addEventListener("click", function () {
  var to = transferTo.value;
  if (!to) { notice("请先在下拉框中选择要指派的坐席。", "error"); transferTo.focus(); return; }
  var name = agentName(to);
  askReason({
    title: "重新指派给 " + name,
    label: "指派原因",
    required: true,
    submit: function (reason) {
      return sessionAction("/reassign", { to: to, reason: reason }, "已重新指派给 " + name + "。");
    }
  });
});

btnEscalate.addEventListener("click", function () {
  askReason({
    title: "升级主管",
    label: "升级原因（你仍是该客户的负责人）",
    required: true,
    submit: function (reason) {
      return sessionAction("/escalate", { reason: reason }, "已升级主管。");
    }
  });
});
