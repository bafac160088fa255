// Outage incidents (故障聚合) for supervisors: a banner while suspected area faults are open, the list
// with linked ticket counts, and the actions: update the expected recovery (telling the customers) and
// close with a resolution (every linked customer is told and their tickets resolved).
// Rendered with textContent only, like the rest of the console. agent.js registers the panel with
// lists.js, which refreshes it with the lists and resets it on logout.

import { el, clear, fmtTime, isSupervisor, api, notice } from "./core.js";
import { askReason } from "./dialog.js";

var section = document.getElementById("incidents-section");
var list = document.getElementById("incidents");
var count = document.getElementById("incidents-count");
var empty = document.getElementById("incidents-empty");
var banner = document.getElementById("incident-banner");
var announced = {};

function bare(title) { return String(title || "").replace(/^\s*疑似区域故障[:：]\s*/, ""); }

banner.addEventListener("click", function () {
  var view = document.getElementById("view-supervisor");
  if (view) view.click();
  section.scrollIntoView({ block: "start" });
});

function path(number, tail) { return "/incidents/" + encodeURIComponent(number) + (tail || ""); }

function refresh(current) {
  if (!isSupervisor()) { reset(); return null; }
  section.hidden = false;
  return api("GET", "/incidents").then(function (data) {
    if (current()) render(data && Array.isArray(data.incidents) ? data.incidents : []);
  });
}

function reset() {
  announced = {};
  clear(list);
  section.hidden = true;
  banner.hidden = true;
  banner.textContent = "";
  count.textContent = "0";
}

function render(items) {
  var open = items.filter(function (i) { return i.status === "open"; });
  count.textContent = String(open.length);
  empty.hidden = items.length > 0;
  banner.hidden = open.length === 0;
  // The banner alone says it (no second notice), and titles that already start with the words
  // "疑似区域故障" are not prefixed again (M10). A click opens the panel on the supervisor view.
  banner.textContent = open.length
    ? "疑似区域故障 " + open.length + " 起：" + open.map(function (i) { return bare(i.title) + "（已关联 " + i.linked + " 张工单）"; }).join("；")
    : "";
  open.forEach(function (i) { announced[i.number] = true; });
  clear(list);
  items.forEach(function (i) { list.appendChild(item(i)); });
}

function item(i) {
  var li = el("li", "progress-item incident-item" + (i.status === "open" ? "" : " closed"));
  li.dataset.incident = i.number;
  var top = el("div", "item__row");
  top.appendChild(el("span", "item__title", i.number));
  top.appendChild(el("span", "badge" + (i.status === "open" ? " badge--escalated" : ""), i.status === "open" ? "处理中" : "已恢复"));
  li.appendChild(top);
  li.appendChild(el("div", "item__last", i.title));
  li.appendChild(el("div", "item__row item__sub incident-counts",
    "已关联 " + i.linked + " 张工单（未结 " + i.linked_open + "）· 客户 " + i.customers + " 位"));
  if (i.status === "open") {
    li.appendChild(el("div", "item__row item__sub", "预计恢复：" + (i.eta_label || "未定") + (i.note ? " · " + i.note : "")));
    var row = el("div", "item__row");
    var eta = el("button", "btn btn--small incident-eta", "更新预计恢复");
    eta.type = "button";
    eta.addEventListener("click", function () { askEta(i); });
    var close = el("button", "btn btn--small btn--primary incident-close", "已修复，关闭");
    close.type = "button";
    close.addEventListener("click", function () { askClose(i); });
    row.appendChild(eta);
    row.appendChild(close);
    li.appendChild(row);
  } else {
    li.appendChild(el("div", "item__row item__sub", "恢复于 " + fmtTime(i.closed_at, true) + " · " + (i.resolution || "")));
  }
  return li;
}

function askEta(i) {
  askReason({
    title: "更新预计恢复时间：" + i.number,
    label: "还需几小时恢复（数字），可在空格后附说明；会通知关联客户",
    required: true,
    submit: function (text) {
      var match = /^\s*(\d+(?:\.\d+)?)\s*(?:小时|h)?\s*(.*)$/.exec(text);
      if (!match) return Promise.reject({ message: "请先写小时数，例如：3 光缆熔接中" });
      var body = { eta_hours: Number(match[1]), notify: true };
      if (match[2]) body.note = match[2];
      return api("POST", path(i.number, "/update"), body).then(function (data) {
        notice("已更新，已通知 " + (data ? data.notified : 0) + " 位客户。", "info");
      });
    }
  });
}

function askClose(i) {
  askReason({
    title: "故障已修复：" + i.number + "（关联 " + i.linked + " 张工单）",
    label: "修复说明（会通知所有关联客户，工单随之办结并发送满意度调查）",
    required: true,
    submit: function (resolution) {
      return api("POST", path(i.number, "/close"), { resolution: resolution }).then(function (data) {
        notice("故障已关闭，已通知 " + (data ? data.notified : 0) + " 位客户。", "info");
      });
    }
  });
}

// The panel lists.js refreshes with the lists (`current()` is false once the console was logged out or
// restarted) and resets on logout.
export var incidentsPanel = { refresh: refresh, reset: reset };
