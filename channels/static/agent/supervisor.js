// The supervisors' panels in the left column: escalation requests to decide, the push to the backend
// ticketing system (backlog and dead events to retry), customers' personal-data requests, the access
// log and undelivered messages. refreshLists() in lists.js loads them; each render replaces its list.

import { CHANNELS, TICKET_EVENTS, $, el, clear, timeEl, severityBadge, state, agentName, api, notice } from "./core.js";
import { refreshLists } from "./lists.js";
import { askReason } from "./dialog.js";

export function renderEscalations(items) {
  var list = $("escalations");
  clear(list);
  items.forEach(function (e) {
    var li = el("li", "progress-item escalation-item");
    li.dataset.escalationId = String(e.id);
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title ticket__number", e.ticket_number));
    top.appendChild(severityBadge(e));
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub", "申请人：" + e.requested_by + " · 负责人：" + (e.responsible || "未指派")));
    li.appendChild(el("div", "item__last", e.reason || ""));
    var row = el("div", "item__row");
    var pick = el("select", "escalation-handler");
    state.agents.forEach(function (a) {
      var option = el("option", null, (a.display_name || a.username) + (a.online ? "" : "（离线）"));
      option.value = a.username;
      pick.appendChild(option);
    });
    row.appendChild(pick);
    var accept = el("button", "btn btn--small btn--primary escalation-accept", "升级");
    accept.type = "button";
    accept.addEventListener("click", function () {
      var handler = pick.value;
      askReason({
        title: "升级工单 " + e.ticket_number + "，处理人：" + agentName(handler),
        label: "升级原因（告知客户并记入工单）",
        required: true,
        submit: function (reason) {
          return api("POST", "/escalations/" + encodeURIComponent(e.id) + "/accept", { handler: handler, reason: reason })
            .then(function () { notice("已升级，客户会收到通知。", "info"); refreshLists(); });
        }
      });
    });
    var decline = el("button", "btn btn--small escalation-decline", "驳回");
    decline.type = "button";
    decline.addEventListener("click", function () {
      askReason({
        title: "驳回升级申请 " + e.ticket_number,
        label: "驳回原因（会告知客户）",
        required: true,
        submit: function (reason) {
          return api("POST", "/escalations/" + encodeURIComponent(e.id) + "/decline", { reason: reason })
            .then(function () { notice("已驳回，客户会收到通知。", "info"); refreshLists(); });
        }
      });
    });
    row.appendChild(accept);
    row.appendChild(decline);
    li.appendChild(row);
    list.appendChild(li);
  });
  $("escalations-count").textContent = String(items.length);
  $("escalations-empty").hidden = items.length > 0;
}

export function renderOutbox(d) {
  // The push to the backend ticketing system: the backlog, and dead events a supervisor may retry.
  var dead = Array.isArray(d.dead_events) ? d.dead_events : [];
  $("outbox-count").textContent = String(dead.length);
  $("outbox-backlog").textContent = "待推送 " + (d.pending || 0) + " 条，推送失败 " + (d.dead || 0) + " 条";
  var list = $("outbox-dead");
  clear(list);
  dead.slice(0, 20).forEach(function (e) {
    var li = el("li", "progress-item overdue");
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", e.ticket_number + " · " + (TICKET_EVENTS[e.kind] || e.kind)));
    top.appendChild(el("span", "item__spacer"));
    var retry = el("button", "btn btn--small", "重试");
    retry.type = "button";
    retry.addEventListener("click", function () {
      retry.disabled = true;
      api("POST", "/outbox/" + encodeURIComponent(e.id) + "/retry", {}).then(function () {
        notice("已重新推送该事件。", "info");
        refreshLists();
      }, function (error) { retry.disabled = false; notice(error.message, "error"); });
    });
    top.appendChild(retry);
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub", "已尝试 " + e.attempts + " 次：" + (e.last_error || "")));
    list.appendChild(li);
  });
}

export function renderPrivacy(items) {
  // Customers' requests to see or delete their personal data (个人信息保护法), verified in chat.
  var list = $("privacy-requests");
  clear(list);
  items.forEach(function (r) {
    var li = el("li", "progress-item privacy-item");
    li.dataset.requestId = String(r.id);
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", "#" + r.id + " " + (r.kind_label || r.kind)));
    top.appendChild(el("span", "item__spacer"));
    top.appendChild(timeEl(r.requested_at, true));
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub",
      (r.customer || "客户") + " · " + (CHANNELS[r.channel] || r.channel || "") + " · " +
      (r.verified_by === "phone" ? "已核对登记电话" : "以渠道账号核实（无登记电话）")));
    var row = el("div", "item__row");
    var run = el("button", "btn btn--small btn--primary privacy-execute", r.kind === "delete" ? "执行删除" : "发送信息");
    run.type = "button";
    run.addEventListener("click", function () {
      askReason({
        title: (r.kind === "delete" ? "删除该客户的个人信息（不可恢复）" : "把该客户的个人信息摘要发给客户") + "，申请 #" + r.id,
        label: "备注（可不填，记入申请）",
        required: false,
        submit: function (note) {
          return api("POST", "/privacy-requests/" + encodeURIComponent(r.id) + "/execute", { note: note })
            .then(function () { notice(r.kind === "delete" ? "已删除，客户会收到通知。" : "已发送给客户。", "info"); refreshLists(); });
        }
      });
    });
    var reject = el("button", "btn btn--small privacy-reject", "拒绝");
    reject.type = "button";
    reject.addEventListener("click", function () {
      askReason({
        title: "拒绝申请 #" + r.id,
        label: "拒绝原因（会告知客户）",
        required: true,
        submit: function (reason) {
          return api("POST", "/privacy-requests/" + encodeURIComponent(r.id) + "/reject", { reason: reason })
            .then(function () { notice("已拒绝，客户会收到通知。", "info"); refreshLists(); });
        }
      });
    });
    row.appendChild(run);
    row.appendChild(reject);
    li.appendChild(row);
    list.appendChild(li);
  });
  $("privacy-count").textContent = String(items.length);
  $("privacy-empty").hidden = items.length > 0;
}

export function renderAccessLog(entries) {
  var list = $("access-log");
  clear(list);
  entries.forEach(function (a) {
    var li = el("li", "progress-item access-item");
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", a.actor + " · " + (a.action_label || a.action)));
    top.appendChild(el("span", "item__spacer"));
    top.appendChild(timeEl(a.at, true));
    li.appendChild(top);
    li.appendChild(el("div", "item__row item__sub", [a.customer, a.target ? "#" + a.target : "", a.client].filter(Boolean).join(" · ")));
    list.appendChild(li);
  });
  $("access-count").textContent = String(entries.length);
}

export function renderFailures(failures) {
  var list = $("delivery-failures");
  clear(list);
  failures.slice(0, 20).forEach(function (f) {
    var li = el("li", "progress-item overdue");
    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", (f.customer || "客户") + " · " + (CHANNELS[f.channel] || f.channel || "")));
    top.appendChild(el("span", "item__spacer"));
    top.appendChild(timeEl(f.at, true));
    li.appendChild(top);
    li.appendChild(el("div", "item__last", f.text || ""));
    li.appendChild(el("div", "item__row item__sub", f.error || ""));
    list.appendChild(li);
  });
  $("failures-count").textContent = String(failures.length);
  $("failures-empty").hidden = failures.length > 0;
}
