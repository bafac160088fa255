// Agent console: login, the waiting queue, my sessions, the open session (transcript, reply, actions),
// its tickets, and a long poll on /agent/api/events that keeps everything fresh.
// All data is rendered with createElement + textContent: nothing a customer, agent or server sends is
// ever parsed as HTML. The page runs under `default-src 'self'`: no inline scripts, handlers or styles.
(function () {
  "use strict";

  var API = "/agent/api";
  var TOKEN_KEY = "agent.token";
  var MAX_CHARS = 5000;
  var POLL_TIMEOUT = 20;          // seconds the server may hold an events request
  var POLL_GRACE_MS = 15000;      // abort a long poll the server holds much longer than asked
  var RETRY_MS = 2000;            // after a network error
  var FALLBACK_REFRESH_MS = 30000; // lists and agents, in case an event was missed
  var TZ = "Asia/Shanghai";

  var CHANNELS = { webchat: "网页", telegram: "Telegram", rest: "REST 接口" };
  var STATUSES = { waiting: "排队中", callback: "待回电", active: "进行中", released: "已交还机器人", closed: "已结束", cancelled: "客户已取消" };
  var ROLES = { agent: "坐席", supervisor: "主管" };
  var SENDERS = { customer: "客户", bot: "机器人", agent: "坐席", system: "系统" };
  var CLOSED_TICKET = { resolved: true, closed: true };
  var TICKET_EVENTS = {
    created: "登记", dispatched: "派单", assigned: "指派", status_changed: "状态变更",
    severity_changed: "严重程度变更", customer_addition: "客户补充", human_requested: "转人工",
    human_cancelled: "取消转人工", callback_requested: "待回电", progress_update: "进度更新",
    escalated: "升级主管", resolved: "已解决", accepted: "坐席接入", transferred: "转交",
    reassigned: "重新指派", released: "交还机器人", closed: "结束会话", owner_notified: "通知负责人",
    evidence: "证据", delivery_failed: "未送达", deadline_breached: "超时"
  };

  // ---------------------------------------------------------------- DOM helpers

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmtTime(iso, short) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var opts = short
      ? { timeZone: TZ, hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }
      : { timeZone: TZ, hour12: false };
    return d.toLocaleString("zh-CN", opts);
  }

  function timeEl(iso, short) {
    var t = el("time", null, fmtTime(iso, short));
    if (iso) t.setAttribute("datetime", String(iso));
    return t;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " 秒";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " 分钟";
    var hours = Math.floor(minutes / 60);
    return hours + " 小时" + (minutes % 60 ? " " + (minutes % 60) + " 分钟" : "");
  }

  function severityClass(sev) { return sev === "urgent" || sev === "major" ? sev : "general"; }

  function severityBadge(item) {
    return el("span", "badge sev sev--" + severityClass(item.severity), item.severity_label || "一般");
  }

  function statusBadge(status) {
    var known = STATUSES[status] ? status : "closed";
    return el("span", "badge status status--" + known, STATUSES[status] || String(status || ""));
  }

  // ---------------------------------------------------------------- elements

  var loginView = $("login");
  var loginForm = $("login-form");
  var usernameInput = $("username");
  var passwordInput = $("password");
  var loginSubmit = $("login-submit");
  var loginError = $("login-error");

  var appView = $("app");
  var meName = $("me");
  var meRole = $("me-role");
  var connLine = $("conn");
  var noticeBox = $("notice");
  var noticeText = $("notice-text");

  var queueList = $("queue");
  var myList = $("my-sessions");
  var allList = $("all-sessions");
  var allSection = $("all-section");
  var progressList = $("progress-due");

  var sessionEmpty = $("session-empty");
  var sessionPanel = $("session");
  var sessionTitle = $("session-title");
  var sessionStatus = $("session-status");
  var sessionMeta = $("session-meta");
  var sessionReason = $("session-reason");
  var transferBanner = $("transfer-banner");
  var transferBannerText = $("transfer-banner-text");
  var transcript = $("transcript");

  var replyForm = $("reply-form");
  var replyText = $("reply-text");
  var replySend = $("reply-send");
  var replyHint = $("reply-hint");
  var cannedSelect = $("canned");

  var btnRelease = $("btn-release");
  var btnClose = $("btn-close");
  var btnTransfer = $("btn-transfer");
  var btnReassign = $("btn-reassign");
  var btnEscalate = $("btn-escalate");
  var btnTransferAccept = $("btn-transfer-accept");
  var btnTransferDecline = $("btn-transfer-decline");
  var transferTo = $("transfer-to");

  var ticketsBox = $("tickets");
  var ticketsEmpty = $("tickets-empty");

  var dialog = $("reason-dialog");
  var dialogForm = $("reason-form");
  var dialogTitle = $("reason-title");
  var dialogLabel = $("reason-label");
  var dialogText = $("reason-text");
  var dialogError = $("reason-error");
  var dialogSubmit = $("reason-submit");

  // ---------------------------------------------------------------- state

  var state = {
    token: null,
    me: null,
    epoch: 0,            // bumped on login/logout: answers for an older epoch are dropped
    cursor: 0,
    agents: [],
    queue: [],
    mine: [],
    all: [],
    progress: [],
    canned: [],
    open: null,          // {id, session, tickets, ids: {messageId: true}, maxId, loading, again}
    refreshing: false,
    refreshAgain: false,
    pollController: null,
    timers: [],
    seenTransfers: {}
  };

  function isSupervisor() { return !!(state.me && state.me.role === "supervisor"); }
  function myName() { return state.me ? state.me.username : null; }

  function agentName(username) {
    if (!username) return "";
    for (var i = 0; i < state.agents.length; i++) {
      if (state.agents[i].username === username) return state.agents[i].display_name || username;
    }
    return username;
  }

  function loadToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function saveToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives in memory only */ }
  }

  // ---------------------------------------------------------------- API

  function ApiError(status, body) {
    this.status = status;
    this.body = body && typeof body === "object" ? body : {};
    this.code = this.body.error || (status ? "http_" + status : "network");
    this.message = typeof this.body.message === "string" && this.body.message ? this.body.message : defaultMessage(status);
  }

  function defaultMessage(status) {
    if (!status) return "无法连接服务器，请检查网络后重试。";
    if (status === 401) return "登录已失效，请重新登录。";
    if (status === 403) return "没有权限执行此操作。";
    if (status === 404) return "会话或工单不存在。";
    if (status === 409) return "操作冲突，会话状态可能已经变化，请刷新后重试。";
    if (status === 413) return "内容太长了，请分几条发送。";
    if (status === 429) return "操作太频繁，请稍后再试。";
    if (status >= 500) return "服务器出错了，请稍后重试。";
    return "请求失败（HTTP " + status + "）。";
  }

  // Resolves with the parsed body (null for 204); rejects with an ApiError. A 401 on an authenticated
  // call ends the console session and shows the login form.
  function api(method, path, body, options) {
    options = options || {};
    var authed = options.auth !== false;
    var epoch = state.epoch;
    var headers = { "Accept": "application/json" };
    if (body !== undefined && body !== null) headers["Content-Type"] = "application/json";
    if (authed && state.token) headers.Authorization = "Bearer " + state.token;
    var init = { method: method, headers: headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined && body !== null) init.body = JSON.stringify(body);
    if (options.signal) init.signal = options.signal;
    return fetch(API + path, init).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        if (raw) { try { data = JSON.parse(raw); } catch (e) { data = null; } }
        if (response.ok) return data;
        var error = new ApiError(response.status, data);
        if (response.status === 401 && authed && epoch === state.epoch && state.token) sessionExpired(error.message);
        throw error;
      });
    }, function (failure) {
      var error = new ApiError(0, null);
      error.aborted = !!(failure && failure.name === "AbortError");
      throw error;
    });
  }

  function sessionPath(id, tail) { return "/sessions/" + encodeURIComponent(id) + (tail || ""); }

  // ---------------------------------------------------------------- notices

  var noticeTimer = null;

  function notice(text, kind) {
    if (!text) return;
    kind = kind || "error";
    noticeBox.className = "notice notice--" + kind;
    noticeText.textContent = text;
    noticeBox.hidden = false;
    if (noticeTimer) { clearTimeout(noticeTimer); noticeTimer = null; }
    if (kind === "info") noticeTimer = setTimeout(hideNotice, 8000);
  }

  function hideNotice() {
    if (noticeTimer) { clearTimeout(noticeTimer); noticeTimer = null; }
    noticeBox.hidden = true;
    noticeText.textContent = "";
  }

  function setConn(text) { connLine.textContent = text || ""; }

  $("notice-close").addEventListener("click", hideNotice);

  // ---------------------------------------------------------------- login / logout

  var loginBusy = false;
  var lockedUntil = 0;
  var lockTimer = null;
  var lockMessage = "";

  function showLogin(message) {
    appView.hidden = true;
    loginView.hidden = false;
    loginError.textContent = message || "";
    if (!loginBusy && Date.now() >= lockedUntil) loginSubmit.disabled = false;
    (usernameInput.value ? passwordInput : usernameInput).focus();
  }

  function lockLogin(seconds, message) {
    seconds = Math.max(1, Math.ceil(Number(seconds) || 60));
    lockedUntil = Date.now() + seconds * 1000;
    lockMessage = message;
    loginSubmit.disabled = true;
    if (lockTimer) clearInterval(lockTimer);
    var update = function () {
      var left = Math.ceil((lockedUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(lockTimer);
        lockTimer = null;
        loginSubmit.disabled = loginBusy;
        loginError.textContent = "";
        return;
      }
      loginError.textContent = lockMessage + "（" + left + " 秒后可重试）";
    };
    update();
    lockTimer = setInterval(update, 1000);
  }

  loginForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (loginBusy || Date.now() < lockedUntil) return;
    var username = usernameInput.value.trim();
    var password = passwordInput.value;
    if (!username || !password) { loginError.textContent = "请输入账号和密码。"; return; }
    loginBusy = true;
    loginSubmit.disabled = true;
    loginError.textContent = "";
    api("POST", "/login", { username: username, password: password }, { auth: false })
      .then(function (data) {
        if (!data || !data.token) throw new ApiError(500, null);
        passwordInput.value = "";
        state.token = data.token;
        saveToken(data.token);
        startApp(data.agent);
      })
      .catch(function (error) {
        if (error.status === 429) lockLogin(error.body.retry_after, error.message);
        else if (error.status === 401) loginError.textContent = error.body.message || "账号或密码错误。";
        else loginError.textContent = error.message;
        passwordInput.select();
      })
      .then(function () {
        loginBusy = false;
        if (Date.now() >= lockedUntil) loginSubmit.disabled = false;
      });
  });

  $("logout").addEventListener("click", function () {
    var token = state.token;
    stopApp();
    saveToken(null);
    showLogin("");
    if (token) {
      // The token is forgotten already; tell the server so it is revoked too.
      fetch(API + "/logout", { method: "POST", headers: { Authorization: "Bearer " + token }, cache: "no-store" })
        .catch(function () { /* offline: the token expires on its own */ });
    }
  });

  function sessionExpired(message) {
    stopApp();
    saveToken(null);
    showLogin(message || "登录已失效，请重新登录。");
  }

  // ---------------------------------------------------------------- app lifecycle

  function startApp(me) {
    state.epoch += 1;
    state.me = me || null;
    state.cursor = 0;
    state.seenTransfers = {};
    loginView.hidden = true;
    appView.hidden = false;
    loginError.textContent = "";
    hideNotice();
    setConn("");
    renderMe();
    var epoch = state.epoch;
    if (!state.me) {
      api("GET", "/me").then(function (agent) {
        if (epoch !== state.epoch) return;
        state.me = agent;
        renderMe();
        refreshLists();
      }, function () { /* 401 is handled; other errors show in the lists' refresh */ });
    }
    loadCanned();
    loadAgents();
    refreshLists();
    poll(epoch);
    state.timers.push(setInterval(tick, 1000));
    state.timers.push(setInterval(function () { refreshLists(); loadAgents(); }, FALLBACK_REFRESH_MS));
  }

  function stopApp() {
    state.epoch += 1;
    if (state.pollController) { state.pollController.abort(); state.pollController = null; }
    state.timers.forEach(function (t) { clearInterval(t); clearTimeout(t); });
    state.timers = [];
    state.token = null;
    state.me = null;
    state.agents = [];
    state.queue = [];
    state.mine = [];
    state.all = [];
    state.progress = [];
    state.refreshing = false;
    state.refreshAgain = false;
    closeSession();
    closeDialog();
    hideNotice();
    [queueList, myList, allList, progressList].forEach(clear);
    panels.forEach(function (p) { p.reset(); });
    renderCounts();
    document.title = "坐席工作台 · 在线客服";
  }

  function renderMe() {
    var me = state.me;
    meName.textContent = me ? (me.display_name || me.username) : "";
    meRole.textContent = me ? (ROLES[me.role] || me.role || "") : "";
    allSection.hidden = !isSupervisor();
    $("failures-section").hidden = !isSupervisor();
    $("outbox-section").hidden = !isSupervisor();
    $("escalations-section").hidden = !isSupervisor();
    $("privacy-section").hidden = !isSupervisor();
    $("access-section").hidden = !isSupervisor();
    $("dashboard-link").hidden = !isSupervisor();
    btnReassign.hidden = !isSupervisor();
    renderAgents();
  }

  // ---------------------------------------------------------------- long poll

  function poll(epoch) {
    if (epoch !== state.epoch) return;
    var controller = new AbortController();
    state.pollController = controller;
    var started = Date.now();
    var guard = setTimeout(function () { controller.abort(); }, POLL_TIMEOUT * 1000 + POLL_GRACE_MS);
    api("GET", "/events?after=" + encodeURIComponent(state.cursor) + "&timeout=" + POLL_TIMEOUT, null, { signal: controller.signal })
      .then(function (data) {
        clearTimeout(guard);
        if (epoch !== state.epoch) return;
        setConn("");
        var events = data && Array.isArray(data.events) ? data.events : [];
        if (data && data.cursor !== undefined && data.cursor !== null) {
          state.cursor = data.cursor;
        } else if (events.length) {
          state.cursor = Math.max.apply(null, events.map(function (e) { return Number(e.id) || 0; }));
        }
        if (events.length) handleEvents(events);
        // Never spin: an empty answer that came back at once is followed by a short pause.
        var wait = !events.length && Date.now() - started < 500 ? 500 : 0;
        later(function () { poll(epoch); }, wait);
      }, function (error) {
        clearTimeout(guard);
        if (epoch !== state.epoch || error.status === 401) return;
        setConn("与服务器的连接中断，正在重试…");
        later(function () { poll(epoch); }, RETRY_MS);
      });
  }

  function later(fn, ms) {
    var t = setTimeout(function () {
      var i = state.timers.indexOf(t);
      if (i >= 0) state.timers.splice(i, 1);
      fn();
    }, ms);
    state.timers.push(t);
  }

  function handleEvents(events) {
    refreshLists();
    var open = state.open;
    if (!open) return;
    var mine = events.filter(function (e) { return e && e.session_id !== null && e.session_id !== undefined && String(e.session_id) === String(open.id); });
    if (mine.length) refreshOpen();
  }

  // ---------------------------------------------------------------- lists

  function refreshLists() {
    if (!state.me && !state.token) return;
    if (state.refreshing) { state.refreshAgain = true; return; }
    state.refreshing = true;
    var epoch = state.epoch;
    var jobs = [
      api("GET", "/queue").then(function (d) { if (epoch === state.epoch) { state.queue = listOf(d, "sessions"); renderQueue(); } }),
      api("GET", "/sessions?scope=mine").then(function (d) { if (epoch === state.epoch) { state.mine = listOf(d, "sessions"); renderMine(); } }),
      api("GET", "/progress-due").then(function (d) { if (epoch === state.epoch) { state.progress = listOf(d, "tickets"); renderProgress(); } }),
      api("GET", "/deadlines").then(function (d) { if (epoch === state.epoch) renderDeadlines(listOf(d, "tickets")); })
    ];
    if (isSupervisor()) {
      jobs.push(api("GET", "/sessions?scope=all").then(function (d) { if (epoch === state.epoch) { state.all = listOf(d, "sessions"); renderAll(); } }));
      jobs.push(api("GET", "/delivery-failures").then(function (d) { if (epoch === state.epoch) renderFailures(listOf(d, "failures")); }));
      jobs.push(api("GET", "/outbox").then(function (d) { if (epoch === state.epoch) renderOutbox(d || {}); }));
      jobs.push(api("GET", "/escalations").then(function (d) { if (epoch === state.epoch) renderEscalations(listOf(d, "escalations")); }));
      jobs.push(api("GET", "/privacy-requests?status=pending").then(function (d) { if (epoch === state.epoch) renderPrivacy(listOf(d, "requests")); }));
      jobs.push(api("GET", "/access-log?limit=30").then(function (d) { if (epoch === state.epoch) renderAccessLog(listOf(d, "entries")); }));
    }
    panels.forEach(function (p) { jobs.push(Promise.resolve().then(function () { return p.refresh(function () { return epoch === state.epoch; }); })); });
    Promise.allSettled(jobs).then(function (results) {
      if (epoch !== state.epoch) return;
      state.refreshing = false;
      var failed = results.some(function (r) { return r.status === "rejected" && r.reason && r.reason.status !== 401; });
      if (failed) setConn("部分数据刷新失败，稍后自动重试…");
      else if (connLine.textContent.indexOf("刷新失败") >= 0) setConn("");
      if (state.refreshAgain) { state.refreshAgain = false; refreshLists(); }
    });
  }

  function listOf(data, key) { return data && Array.isArray(data[key]) ? data[key] : []; }

  function renderCounts() {
    $("queue-count").textContent = String(state.queue.length);
    $("my-count").textContent = String(state.mine.length);
    $("all-count").textContent = String(state.all.length);
    $("progress-count").textContent = String(state.progress.length);
    $("queue-empty").hidden = state.queue.length > 0;
    $("my-empty").hidden = state.mine.length > 0;
    $("all-empty").hidden = state.all.length > 0;
    $("progress-empty").hidden = state.progress.length > 0;
  }

  function waitSpan(s) {
    var span = el("span", "wait");
    // Anchor on the server's own waiting_seconds so a skewed client clock does not matter.
    var base = typeof s.waiting_seconds === "number" ? Date.now() - s.waiting_seconds * 1000 : Date.parse(s.requested_at);
    if (!isNaN(base)) span.dataset.since = String(base);
    if (s.requested_at) span.title = "请求时间 " + fmtTime(s.requested_at);
    updateWait(span);
    return span;
  }

  function updateWait(span) {
    var since = Number(span.dataset.since);
    if (!since) { span.textContent = ""; return; }
    var seconds = (Date.now() - since) / 1000;
    var text = "等待 " + duration(seconds);
    if (span.textContent !== text) span.textContent = text;
    span.classList.toggle("wait--long", seconds >= 600);
  }

  function renderQueue() {
    clear(queueList);
    state.queue.forEach(function (s) {
      var li = el("li", "queue-item queue-item--" + severityClass(s.severity));
      li.dataset.sessionId = String(s.id);

      var top = el("div", "item__row");
      top.appendChild(el("span", "item__title", s.category_label || "未分类"));
      top.appendChild(severityBadge(s));
      if (s.callback_due) {
        var cb = el("span", "badge badge--callback", "回电");
        cb.title = "已承诺回电，最迟 " + fmtTime(s.callback_due);
        top.appendChild(cb);
      }
      if (s.escalated) top.appendChild(el("span", "badge badge--escalated", "已升级"));
      top.appendChild(el("span", "item__spacer"));
      top.appendChild(waitSpan(s));
      li.appendChild(top);

      var who = el("div", "item__row");
      who.appendChild(el("span", "item__sub", (s.customer || "客户") + " · " + (CHANNELS[s.channel] || s.channel || "")));
      if (s.owner) who.appendChild(el("span", "item__sub", "负责人：" + (s.owner_name || s.owner)));
      li.appendChild(who);
      // First-contact responsibility: the owner's own customer is flagged for them.
      if (s.owner && state.me && s.owner === state.me.username) {
        li.classList.add("queue-item--mine");
        li.appendChild(el("div", "item__row item__owner", "您负责的客户在等待"));
      }

      if (s.reason) li.appendChild(el("div", "item__row item__sub", s.reason));
      if (s.last_message) li.appendChild(el("div", "item__last", s.last_message));

      var row = el("div", "item__row");
      if (s.due) row.appendChild(el("span", "item__sub", "截止 " + fmtTime(s.due, true)));
      var accept = el("button", "btn btn--primary btn--small accept", "接入");
      accept.type = "button";
      accept.addEventListener("click", function () { acceptSession(s.id, accept); });
      row.appendChild(accept);
      li.appendChild(row);

      queueList.appendChild(li);
    });
    renderCounts();
    document.title = (state.queue.length ? "(" + state.queue.length + ") " : "") + "坐席工作台 · 在线客服";
  }

  function sessionItem(s) {
    var me = myName();
    var li = el("li", "session-item");
    li.dataset.sessionId = String(s.id);
    li.tabIndex = 0;
    if (state.open && String(state.open.id) === String(s.id)) li.classList.add("is-open");

    var top = el("div", "item__row");
    top.appendChild(el("span", "item__title", s.customer || "客户"));
    top.appendChild(severityBadge(s));
    top.appendChild(el("span", "item__spacer"));
    top.appendChild(statusBadge(s.status));
    li.appendChild(top);

    var sub = el("div", "item__row");
    sub.appendChild(el("span", "item__sub", (s.category_label || "未分类") + " · " + (CHANNELS[s.channel] || s.channel || "")));
    if (s.agent) sub.appendChild(el("span", "item__sub", "坐席：" + (s.agent === me ? "我" : (s.agent_name || s.agent))));
    if (s.owner && s.owner !== s.agent) sub.appendChild(el("span", "item__sub", "负责人：" + (s.owner === me ? "我" : (s.owner_name || s.owner))));
    li.appendChild(sub);

    var badges = el("div", "item__row");
    if (s.transfer_to && s.transfer_to === me) badges.appendChild(el("span", "badge badge--transfer", "待我接收转交"));
    else if (s.transfer_to) badges.appendChild(el("span", "badge badge--transfer", "转交中 → " + agentName(s.transfer_to)));
    if (s.escalated) badges.appendChild(el("span", "badge badge--escalated", "已升级"));
    if (s.callback_due) {
      var cb = el("span", "badge badge--callback", "回电");
      cb.title = "已承诺回电，最迟 " + fmtTime(s.callback_due);
      badges.appendChild(cb);
    }
    if (badges.firstChild) li.appendChild(badges);
    if (s.last_message) li.appendChild(el("div", "item__last", s.last_message));

    li.addEventListener("click", function () { openSession(s.id); });
    li.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openSession(s.id); }
    });
    return li;
  }

  function renderMine() {
    clear(myList);
    var me = myName();
    state.mine.forEach(function (s) {
      myList.appendChild(sessionItem(s));
      // Tell the agent once about every session someone wants to hand over.
      if (s.transfer_to === me && !state.seenTransfers[s.id]) {
        state.seenTransfers[s.id] = true;
        notice((s.agent_name || agentName(s.agent) || "同事") + " 请求将会话（" + (s.customer || "#" + s.id) + "）转交给你，请在“我的会话”中打开并接收或拒绝。", "info");
      }
    });
    renderCounts();
  }

  var DEADLINES = { response: "首次响应", resolve: "处理完成", progress: "进度更新" };

  function renderDeadlines(tickets) {
    var list = $("deadlines");
    clear(list);
    tickets.forEach(function (t) {
      var li = el("li", "progress-item" + (t.overdue ? " overdue" : ""));
      var top = el("div", "item__row");
      top.appendChild(el("span", "item__title ticket__number", t.number));
      top.appendChild(severityBadge(t));
      li.appendChild(top);
      li.appendChild(el("div", "item__row item__sub", (t.category_label || "") + " · 负责人：" + (t.responsible || "未指派")));
      li.appendChild(el("div", "item__row item__sub",
        (DEADLINES[t.deadline] || t.deadline) + (t.overdue ? " 已超时（应于 " : " 时限 ") + fmtTime(t.due, true) + (t.overdue ? " 前）" : "")));
      list.appendChild(li);
    });
    $("deadlines-count").textContent = String(tickets.length);
    $("deadlines-empty").hidden = tickets.length > 0;
  }

  function renderEscalations(items) {
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

  function renderOutbox(d) {
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

  function renderPrivacy(items) {
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

  function renderAccessLog(entries) {
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

  function renderFailures(failures) {
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

  function renderAll() {
    clear(allList);
    state.all.forEach(function (s) { allList.appendChild(sessionItem(s)); });
    renderCounts();
  }

  function markOpenInLists() {
    var id = state.open ? String(state.open.id) : null;
    Array.prototype.forEach.call(document.querySelectorAll(".session-item"), function (li) {
      li.classList.toggle("is-open", li.dataset.sessionId === id);
    });
  }

  function isOverdue(t) {
    if (t.overdue) return true;
    var due = Date.parse(t.progress_due);
    return !isNaN(due) && due < Date.now();
  }

  function renderProgress() {
    clear(progressList);
    state.progress.forEach(function (t) {
      var overdue = isOverdue(t);
      var li = el("li", "progress-item" + (overdue ? " overdue" : ""));
      li.dataset.number = String(t.number);
      var top = el("div", "item__row");
      top.appendChild(el("span", "item__title ticket__number", t.number));
      top.appendChild(severityBadge(t));
      li.appendChild(top);
      li.appendChild(el("div", "item__row item__sub", (t.category_label || "") + (t.status_label ? " · " + t.status_label : "")));
      li.appendChild(el("div", "item__row item__sub",
        overdue ? "进度更新已超时（应于 " + fmtTime(t.progress_due, true) + " 前）"
                : "请于 " + fmtTime(t.progress_due, true) + " 前向客户更新进度"));
      progressList.appendChild(li);
    });
    renderCounts();
  }

  var tickCount = 0;
  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll(".wait"), updateWait);
    tickCount += 1;
    if (tickCount % 15 === 0) {
      // Overdue marks change with time alone.
      var changed = state.progress.some(function (t) {
        var li = progressList.querySelector('[data-number="' + cssEscape(t.number) + '"]');
        return li && li.classList.contains("overdue") !== isOverdue(t);
      });
      if (changed) renderProgress();
    }
  }

  function cssEscape(value) { return window.CSS && CSS.escape ? CSS.escape(String(value)) : String(value).replace(/["\\]/g, "\\$&"); }

  // ---------------------------------------------------------------- agents and canned replies

  function loadAgents() {
    var epoch = state.epoch;
    return api("GET", "/agents").then(function (d) {
      if (epoch !== state.epoch) return;
      state.agents = listOf(d, "agents");
      renderAgents();
    }, function () { /* keep the last list */ });
  }

  function renderAgents() {
    var previous = transferTo.value;
    var me = myName();
    var others = state.agents.filter(function (a) { return a.username !== me; });
    // Online first, otherwise in the server's order.
    var sorted = others.filter(function (a) { return a.online; }).concat(others.filter(function (a) { return !a.online; }));
    clear(transferTo);
    var placeholder = el("option", null, sorted.length ? "选择坐席…" : "暂无其他坐席");
    placeholder.value = "";
    transferTo.appendChild(placeholder);
    sorted.forEach(function (a) {
      var label = (a.display_name || a.username) + (a.role === "supervisor" ? "（主管）" : "") + (a.online ? "" : "（离线）");
      var option = el("option", a.online ? null : "offline", label);
      option.value = a.username;
      transferTo.appendChild(option);
    });
    if (previous && sorted.some(function (a) { return a.username === previous; })) transferTo.value = previous;
    if (state.open && state.open.session) renderSessionHead();
  }

  function loadCanned() {
    var epoch = state.epoch;
    api("GET", "/canned-replies").then(function (d) {
      if (epoch !== state.epoch) return;
      state.canned = listOf(d, "replies");
      clear(cannedSelect);
      var placeholder = el("option", null, state.canned.length ? "常用回复…" : "暂无常用回复");
      placeholder.value = "";
      cannedSelect.appendChild(placeholder);
      state.canned.forEach(function (r, i) {
        var option = el("option", null, r.title || ("回复 " + (i + 1)));
        option.value = String(i);
        option.title = r.text || "";
        cannedSelect.appendChild(option);
      });
    }, function () { /* the picker stays empty */ });
  }

  cannedSelect.addEventListener("change", function () {
    var reply = state.canned[Number(cannedSelect.value)];
    cannedSelect.value = "";
    if (!reply || replyText.disabled) return;
    var text = String(reply.text || "");
    var start = replyText.selectionStart, end = replyText.selectionEnd;
    if (typeof start === "number" && document.activeElement === replyText) {
      replyText.setRangeText(text, start, end, "end");
    } else if (replyText.value && !/\s$/.test(replyText.value)) {
      replyText.value += "\n" + text;
    } else {
      replyText.value += text;
    }
    replyText.focus();
    replyText.setSelectionRange(replyText.value.length, replyText.value.length);
  });

  // ---------------------------------------------------------------- accepting from the queue

  function acceptSession(id, button) {
    button.disabled = true;
    var epoch = state.epoch;
    api("POST", sessionPath(id, "/accept"), {}).then(function (d) {
      if (epoch !== state.epoch) return;
      openSession(id, d && d.session);
      refreshLists();
    }, function (error) {
      if (epoch !== state.epoch || error.status === 401) return;
      button.disabled = false;
      if (error.status === 409) {
        var who = error.body.agent_name || error.body.agent;
        notice(error.body.message || (who ? "该会话已由 " + who + " 接入。" : error.message), "error");
      } else {
        notice(error.message, "error");
      }
      refreshLists();
    });
  }

  // ---------------------------------------------------------------- the open session

  function openSession(id, summary) {
    if (state.open && String(state.open.id) === String(id)) {
      if (summary) { state.open.session = summary; renderSessionHead(); }
      refreshOpen();
      return;
    }
    state.open = { id: id, session: summary || null, tickets: [], ids: {}, maxId: -Infinity, loading: false, again: false };
    sessionPanel.dataset.sessionId = String(id);
    sessionPanel.hidden = false;
    sessionEmpty.hidden = true;
    clear(transcript);
    clear(ticketsBox);
    ticketsEmpty.hidden = false;
    replyText.value = "";
    if (summary) renderSessionHead();
    else {
      sessionTitle.textContent = "会话 #" + id;
      sessionStatus.textContent = "加载中…";
      sessionStatus.className = "badge";
      clear(sessionMeta);
      sessionReason.textContent = "";
      transferBanner.hidden = true;
      updateControls();
    }
    markOpenInLists();
    refreshOpen();
  }

  function closeSession() {
    state.open = null;
    sessionPanel.hidden = true;
    sessionPanel.removeAttribute("data-session-id");
    sessionEmpty.hidden = false;
    clear(transcript);
    clear(ticketsBox);
    ticketsEmpty.hidden = false;
    replyText.value = "";
    markOpenInLists();
  }

  function refreshOpen() {
    var open = state.open;
    if (!open) return;
    if (open.loading) { open.again = true; return; }
    open.loading = true;
    Promise.allSettled([
      api("GET", sessionPath(open.id)),
      api("GET", sessionPath(open.id, "/transcript"))
    ]).then(function (results) {
      open.loading = false;
      if (state.open !== open) return;
      var details = results[0], messages = results[1];
      if (details.status === "fulfilled") {
        var d = details.value || {};
        var before = open.session;
        if (d.session) open.session = d.session;
        open.tickets = Array.isArray(d.tickets) ? d.tickets : [];
        if (before && before.status === "active" && open.session && open.session.status !== "active") {
          notice("会话状态已变为：" + (STATUSES[open.session.status] || open.session.status), "info");
        }
        renderSessionHead();
        renderTickets();
      } else {
        var error = details.reason;
        if (error.status === 401) return;
        if (error.status === 403 || error.status === 404) {
          notice(error.message, "error");
          closeSession();
          return;
        }
        setConn("会话详情刷新失败，稍后自动重试…");
      }
      if (messages.status === "fulfilled") {
        appendMessages(listOf(messages.value, "messages"));
        markFailed(listOf(messages.value, "messages"));
      }
      if (open.again) { open.again = false; refreshOpen(); }
    });
  }

  function meta(label, value) {
    var wrap = el("div");
    wrap.appendChild(el("dt", null, label));
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
    wrap.appendChild(dd);
    return wrap;
  }

  function renderSessionHead() {
    var open = state.open;
    if (!open || !open.session) { updateControls(); return; }
    var s = open.session;
    var me = myName();
    sessionTitle.textContent = (s.customer || "客户") + " · 会话 #" + s.id;
    sessionStatus.className = "badge status status--" + (STATUSES[s.status] ? s.status : "closed");
    sessionStatus.textContent = STATUSES[s.status] || String(s.status || "");

    clear(sessionMeta);
    sessionMeta.appendChild(meta("渠道", CHANNELS[s.channel] || s.channel));
    var kind = el("span");
    kind.appendChild(document.createTextNode((s.category_label || "未分类") + " "));
    kind.appendChild(severityBadge(s));
    sessionMeta.appendChild(meta("类别", kind));
    sessionMeta.appendChild(meta("负责人", s.owner ? (s.owner === me ? "我" : (s.owner_name || s.owner)) : "—"));
    sessionMeta.appendChild(meta("当前坐席", s.agent ? (s.agent === me ? "我" : (s.agent_name || s.agent)) : "—"));
    sessionMeta.appendChild(meta("请求时间", fmtTime(s.requested_at, true)));
    if (s.due) sessionMeta.appendChild(meta("截止", fmtTime(s.due, true)));
    if (s.ticket_numbers && s.ticket_numbers.length) sessionMeta.appendChild(meta("工单", s.ticket_numbers.join("、")));
    if (s.escalated) sessionMeta.appendChild(meta("升级", el("span", "badge badge--escalated", "已升级主管")));
    if (s.callback_due) sessionMeta.appendChild(meta("回电", el("span", "badge badge--callback", "最迟 " + fmtTime(s.callback_due, true))));
    sessionReason.textContent = s.reason ? "转人工原因：" + s.reason : "";

    if (s.transfer_to) {
      transferBanner.hidden = false;
      if (s.transfer_to === me) {
        transferBannerText.textContent = (s.agent_name || agentName(s.agent) || "同事") + " 请求将此会话转交给你。";
      } else {
        transferBannerText.textContent = "正在转交给 " + agentName(s.transfer_to) + "，等待对方接收。";
      }
    } else {
      transferBanner.hidden = true;
      transferBannerText.textContent = "";
    }
    updateControls();
  }

  // Which controls the current viewer may use on the open session.
  function updateControls() {
    var open = state.open;
    var s = open && open.session;
    var me = myName();
    var sup = isSupervisor();
    var active = !!(s && s.status === "active");
    var holder = !!(s && me && s.agent === me);
    var canAct = active && (holder || sup);
    var canReply = canAct;

    replyText.disabled = !canReply;
    replySend.disabled = !canReply || sending;
    cannedSelect.disabled = !canReply;
    replyForm.classList.toggle("is-disabled", !canReply);
    if (!s) replyHint.textContent = "";
    else if (!active) replyHint.textContent = "会话" + (STATUSES[s.status] || "未进行") + "，不能回复。";
    else if (!canReply) replyHint.textContent = "你不是当前接待坐席，不能回复。";
    else replyHint.textContent = "";

    var pending = !!(s && s.transfer_to);
    var escalated = !!(s && s.escalated);
    var canReassign = !!(sup && s && (s.status === "active" || s.status === "waiting" || s.status === "callback"));

    btnRelease.disabled = !canAct;
    btnClose.disabled = !canAct;
    btnTransfer.disabled = !canAct || pending;
    transferTo.disabled = !(canAct || canReassign);
    btnEscalate.disabled = !(active && (holder || s.owner === me || sup)) || escalated;  // as the API allows
    btnEscalate.textContent = escalated ? "已升级主管" : "升级主管";
    btnReassign.hidden = !sup;
    btnReassign.disabled = !canReassign;

    var target = !!(s && me && s.transfer_to === me);
    btnTransferAccept.hidden = !target;
    btnTransferDecline.hidden = !target;
    btnTransferAccept.disabled = !target;
    btnTransferDecline.disabled = !target;
  }

  function messageItem(m) {
    var sender = SENDERS[m.sender] ? m.sender : "system";
    var li = el("li", "msg msg--" + sender);
    if (m.id !== undefined && m.id !== null) li.dataset.messageId = String(m.id);
    var head = el("div", "msg__meta");
    if (sender === "agent") head.appendChild(el("span", "msg__who", m.agent_name || m.agent || "坐席"));
    else head.appendChild(el("span", "msg__sender", SENDERS[sender]));
    head.appendChild(timeEl(m.at, true));
    li.appendChild(head);
    li.appendChild(el("div", "msg__text", m.text === null || m.text === undefined ? "" : m.text));
    if (m.delivery_failed) {
      li.classList.add("msg--failed");
      li.appendChild(el("div", "msg__failed", "未送达客户（对方渠道拒收或长时间不可用）"));
    }
    return li;
  }

  function markFailed(messages) {
    // A message already shown may be reported undeliverable later: mark it in place.
    messages.forEach(function (m) {
      if (!m.delivery_failed) return;
      var li = transcript.querySelector("li[data-message-id='" + String(Number(m.id)) + "']");
      if (li && !li.classList.contains("msg--failed")) {
        li.classList.add("msg--failed");
        li.appendChild(el("div", "msg__failed", "未送达客户（对方渠道拒收或长时间不可用）"));
      }
    });
  }

  function appendMessages(messages) {
    var open = state.open;
    if (!open || !messages.length) return;
    var fresh = messages.filter(function (m) { return !open.ids[m.id]; });
    if (!fresh.length) return;
    var outOfOrder = fresh.some(function (m) { return Number(m.id) < open.maxId; });
    if (outOfOrder) {
      // Rare (a late answer raced a newer one): rebuild from everything known, in id order.
      var all = Array.prototype.map.call(transcript.querySelectorAll(".msg"), function (li) { return li._message; }).concat(fresh);
      all.sort(function (a, b) { return Number(a.id) - Number(b.id); });
      clear(transcript);
      open.ids = {};
      open.maxId = -Infinity;
      fresh = all;
    }
    fresh.forEach(function (m) {
      if (open.ids[m.id]) return;
      open.ids[m.id] = true;
      open.maxId = Math.max(open.maxId, Number(m.id) || 0);
      var li = messageItem(m);
      li._message = m;
      transcript.appendChild(li);
    });
    transcript.scrollTop = transcript.scrollHeight;
    pinned = true;
  }

  // Keep the transcript pinned to its end while the agent has not scrolled up, also when the panel
  // around it changes height (a notice, a transfer banner).
  var pinned = true;
  transcript.addEventListener("scroll", function () {
    pinned = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
  });
  if (window.ResizeObserver) {
    new ResizeObserver(function () { if (pinned) transcript.scrollTop = transcript.scrollHeight; }).observe(transcript);
  }

  // ---------------------------------------------------------------- reply

  var sending = false;

  replyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var open = state.open;
    if (!open || sending || replyText.disabled) return;
    var text = replyText.value.trim();
    if (!text) { replyText.focus(); return; }
    if (text.length > MAX_CHARS) { notice("回复太长了（超过 " + MAX_CHARS + " 字），请分几条发送。", "error"); return; }
    sending = true;
    replySend.disabled = true;
    api("POST", sessionPath(open.id, "/messages"), { text: text }).then(function (d) {
      if (state.open !== open) return;
      if (replyText.value.trim() === text) replyText.value = "";
      if (d && d.message) appendMessages([d.message]);
    }, function (error) {
      if (error.status !== 401) notice(error.message, "error");
      if (state.open === open && (error.status === 403 || error.status === 409)) refreshOpen();
    }).then(function () {
      sending = false;
      updateControls();
      if (!replyText.disabled) replyText.focus();
    });
  });

  replyText.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      if (replyForm.requestSubmit) replyForm.requestSubmit(); else replySend.click();
    }
  });

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

  // ---------------------------------------------------------------- tickets

  function field(list, label, value, className) {
    list.appendChild(el("dt", null, label));
    var dd = el("dd", className || null, value === null || value === undefined || value === "" ? "—" : value);
    list.appendChild(dd);
  }

  function renderTickets() {
    var open = state.open;
    clear(ticketsBox);
    var tickets = open ? open.tickets : [];
    ticketsEmpty.hidden = tickets.length > 0;
    tickets.forEach(function (t) {
      var section = el("section", "ticket");
      section.dataset.number = String(t.number);

      var head = el("div", "ticket__head");
      head.appendChild(el("span", "ticket__number", t.number));
      head.appendChild(el("span", "badge", t.status_label || t.status));
      head.appendChild(severityBadge(t));
      section.appendChild(head);

      var fields = el("dl", "ticket__fields");
      field(fields, "类别", t.category_label);
      field(fields, "处理部门", t.department_label);
      field(fields, "责任人", t.responsible || "未指派");
      field(fields, "联系电话", t.contact_phone || "未提供");
      field(fields, "受理时间", fmtTime(t.created_at, true));
      field(fields, "响应时限", fmtTime(t.response_due, true));
      field(fields, "解决时限", fmtTime(t.resolve_due, true));
      if (t.progress_due) {
        var late = Date.parse(t.progress_due) < Date.now() && !CLOSED_TICKET[t.status];
        field(fields, "下次进度更新", fmtTime(t.progress_due, true) + (late ? "（已超时）" : ""), late ? "ticket__overdue" : null);
      }
      section.appendChild(fields);

      if (t.description) section.appendChild(el("p", "ticket__desc", t.description));

      var events = Array.isArray(t.events) ? t.events : [];
      if (events.length) {
        var ol = el("ol", "ticket__events");
        events.forEach(function (e) {
          var li = el("li");
          li.appendChild(timeEl(e.at, true));
          li.appendChild(el("span", "ticket__event-actor", e.actor === "customer" ? "客户" : e.actor === "bot" ? "机器人" : e.actor));
          li.appendChild(el("strong", null, TICKET_EVENTS[e.kind] || e.kind));
          if (e.detail) {
            li.appendChild(document.createTextNode("："));
            li.appendChild(el("span", "ticket__event-detail", e.detail));
          }
          ol.appendChild(li);
        });
        section.appendChild(ol);
      }

      if (!CLOSED_TICKET[t.status]) {
        var resolve = el("button", "btn btn--small resolve", "解决");
        resolve.type = "button";
        resolve.addEventListener("click", function () { resolveTicket(t.number); });
        section.appendChild(resolve);
      }
      ticketsBox.appendChild(section);
    });
  }

  function resolveTicket(number) {
    var open = state.open;
    askReason({
      title: "解决工单 " + number,
      label: "处理结果（记入工单历史）",
      required: true,
      submit: function (note) {
        return api("POST", "/tickets/" + encodeURIComponent(number) + "/resolve", { note: note }).then(function (d) {
          if (state.open === open && open && d && d.ticket) {
            open.tickets = open.tickets.map(function (t) { return t.number === d.ticket.number ? d.ticket : t; });
            renderTickets();
          }
          notice("工单 " + number + " 已标记为解决。", "info");
          refreshLists();
          if (state.open === open) refreshOpen();
        });
      }
    });
  }

  // ---------------------------------------------------------------- reason / note dialog

  var dialogJob = null;
  var dialogBusy = false;

  // options: {title, label, required, submit(text) -> Promise}. The dialog stays open until submit
  // succeeds; a failure is shown inside it.
  function askReason(options) {
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

  function closeDialog() {
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

  // ---------------------------------------------------------------- panels in their own files

  // A panel (e.g. incidents.js) registers {refresh(current), reset()}: refreshed with the lists
  // (`current()` is false once the console was logged out or restarted), reset on logout.
  var panels = [];
  window.AgentConsole = {
    register: function (panel) { panels.push(panel); },
    api: api, el: el, clear: clear, fmtTime: fmtTime, notice: notice, askReason: askReason, isSupervisor: isSupervisor
  };

  // ---------------------------------------------------------------- boot

  var saved = loadToken();
  if (saved) {
    state.token = saved;
    loginView.hidden = true;
    var bootEpoch = state.epoch;
    api("GET", "/me").then(function (me) {
      if (bootEpoch === state.epoch) startApp(me);
    }, function (error) {
      if (bootEpoch !== state.epoch) return;
      if (error.status === 401) return; // sessionExpired() showed the login form
      state.token = null;
      showLogin(error.message);
    });
  } else {
    showLogin("");
  }
})();
