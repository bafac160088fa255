// Transfer offers: a persistent banner per session a colleague wants to hand me, with who offers it,
// why, and accept / decline, until I answer (a click on the text opens the chat). Announced once.

import { $, el, clear, state, myName, agentName, api, sessionPath, notice } from "./core.js";
import { announce } from "./attention.js";
import { openSession } from "./session.js";
import { refreshLists } from "./lists.js";
import { showPane, showView } from "./shift.js";

var box = $("offers");

export function renderOffers() {
  var me = myName();
  var offers = me ? state.mine.filter(function (s) { return s.transfer_to === me && s.status === "active"; }) : [];
  var signature = offers.map(function (s) { return s.id + ":" + (s.transfer_reason || ""); }).join("|");
  if (box._signature === signature) return;
  box._signature = signature;
  clear(box);
  offers.forEach(function (s) {
    var from = s.agent_name || agentName(s.agent) || "同事";
    if (!state.seenTransfers[s.id]) {
      state.seenTransfers[s.id] = true;
      announce("转交请求：" + from, (s.customer || "客户") + (s.transfer_reason ? "，原因：" + s.transfer_reason : ""), "offer-" + s.id);
    }
    var banner = el("div", "offer");
    banner.dataset.sessionId = String(s.id);
    banner.setAttribute("role", "alert");
    var text = el("span", "offer__text",
      from + " 请求将会话（" + (s.customer || "#" + s.id) + " · " + (s.category_label || "未分类") + "）转交给你" +
      "，原因：" + (s.transfer_reason || "未填写"));
    text.title = "打开该会话";
    banner.appendChild(text);
    var accept = el("button", "btn btn--primary btn--small offer__accept", "接收");
    accept.type = "button";
    var decline = el("button", "btn btn--small offer__decline", "拒绝");
    decline.type = "button";
    banner.appendChild(accept);
    banner.appendChild(decline);
    text.addEventListener("click", function () { showView("agent"); showPane("pane-mine"); openSession(s.id); });
    accept.addEventListener("click", function () { answer(s, "/transfer/accept", "已接收转交，你现在负责接待该客户。", [accept, decline]); });
    decline.addEventListener("click", function () { answer(s, "/transfer/decline", "已拒绝转交。", [accept, decline]); });
    box.appendChild(banner);
  });
}

function answer(s, tail, done, buttons) {
  buttons.forEach(function (b) { b.disabled = true; });
  api("POST", sessionPath(s.id, tail), {}).then(function () {
    notice(done, "info");
    if (tail === "/transfer/accept") { showView("agent"); showPane("pane-mine"); openSession(s.id, null, { focusReply: true }); }
    refreshLists({ mine: true });
  }, function (error) {
    buttons.forEach(function (b) { b.disabled = false; });
    if (error.status !== 401) notice(error.message, "error");
    refreshLists({ mine: true });
  });
}
