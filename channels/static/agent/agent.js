// Agent console: login, the waiting queue, my sessions, the open session (transcript, reply, actions),
// its tickets, and a long poll on /agent/api/events that keeps everything fresh.
// This is the entry module (index.html loads it as `<script type="module">`, served as written, no build
// step): login and logout, starting and stopping the console, the long poll, and the boot. The panels
// live in their own modules: core.js (helpers, state, api()), lists.js, session.js, actions.js,
// tickets.js, supervisor.js, dialog.js and incidents.js. Those modules import each other's functions
// where the panels call each other (e.g. lists.js opens a session, session.js refreshes the lists);
// only function declarations cross those cycles and no module calls another while it loads.
// All data is rendered with createElement + textContent: nothing a customer, agent or server sends is
// ever parsed as HTML. The page runs under `default-src 'self'`: no inline scripts, handlers or styles.

import { API, TOKEN_KEY, $, state, isSupervisor, loadToken, saveToken, ApiError, setSessionExpiredHandler, api, hideNotice, setConn } from "./core.js";
import { registerPanel, refreshLists, tick, clearLists, renderAgentStates } from "./lists.js";
import { closeSession, openSession, refreshOpen, loadCanned } from "./session.js";
import { loadAgents, renderAgents } from "./actions.js";
import { closeDialog } from "./dialog.js";
import { incidentsPanel } from "./incidents.js";
import { setupAttention, resetAttention, announce } from "./attention.js";
import { sessionFromHash, renderStatus, confirmLogout, forgetDrafts, showView, showPane } from "./shift.js";
import { forgetAttachments, closeViewer } from "./attachments.js";

var POLL_TIMEOUT = 20;          // seconds the server may hold an events request
var POLL_GRACE_MS = 15000;      // abort a long poll the server holds much longer than asked
var RETRY_MS = 2000;            // after a network error
var FALLBACK_REFRESH_MS = 30000; // lists and agents, in case an event was missed
var ROLES = { agent: "坐席", supervisor: "主管" };

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
var allSection = $("all-section");
var btnReassign = $("btn-reassign");

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
  // With live chats the agent is warned first and may hand them back to the queue (H4).
  confirmLogout(function (handBack) {
    var token = state.token;
    forgetDrafts();
    stopApp();
    saveToken(null);
    showLogin(handBack ? "正在交还会话…" : "");
    if (!token) return;
    // The token is forgotten already; tell the server so it is revoked too (and, with the hand-back,
    // wait for its answer: the agent should know their customers are back in the queue).
    var init = { method: "POST", headers: { Authorization: "Bearer " + token }, cache: "no-store" };
    if (handBack) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify({ hand_back: true });
    }
    var epoch = state.epoch;
    fetch(API + "/logout", init).then(function (response) {
      if (!handBack || epoch !== state.epoch) return;
      return response.json().then(function (data) {
        var n = data && Array.isArray(data.handed_back) ? data.handed_back.length : 0;
        loginError.textContent = "已将 " + n + " 个会话交还队列，客户已收到通知。您已退出。";
      });
    }).catch(function () {
      if (handBack && epoch === state.epoch) loginError.textContent = "退出时无法连接服务器，会话将在您离线几分钟后自动回到队列。";
    });
  });
});

// One login for every tab of this browser: a logout elsewhere logs this tab out, a login elsewhere
// logs it in.
window.addEventListener("storage", function (event) {
  if (event.key !== TOKEN_KEY) return;
  if (!event.newValue) {
    if (!state.token) return;
    stopApp();
    showLogin("您已在其他标签页退出登录。");
  } else if (event.newValue !== state.token) {
    state.token = event.newValue;
    var epoch = state.epoch;
    api("GET", "/me").then(function (me) { if (epoch === state.epoch) startApp(me); }, function () { /* stays on the login form */ });
  }
});

function sessionExpired(message) {
  if (!state.token) return;
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
  state.mine = [];
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
  setupAttention();
  // Supervisors start on their own view; agents on their chats.
  showView(me && me.role === "supervisor" ? "supervisor" : "agent");
  showPane("pane-mine");
  loadCanned();
  loadAgents();
  refreshLists();
  // The chat that was open before a reload (or in the link) opens again.
  var wanted = sessionFromHash();
  if (wanted) { showView("agent"); openSession(wanted); }
  poll(epoch);
  state.timers.push(setInterval(tick, 1000));
  state.timers.push(setInterval(function () { refreshLists(); loadAgents(); }, FALLBACK_REFRESH_MS));
}

function stopApp() {
  state.epoch += 1;
  forgetAttachments();  // the next login must not see this one's pictures
  closeViewer();
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
  closeSession(true);
  closeDialog();
  hideNotice();
  clearLists();
  resetAttention();
}

function renderMe() {
  var me = state.me;
  meName.textContent = me ? (me.display_name || me.username) : "";
  meRole.textContent = me ? (ROLES[me.role] || me.role || "") : "";
  allSection.hidden = !isSupervisor();
  $("viewswitch").hidden = !isSupervisor();
  // Supervisors see everyone's deadline warnings on their own view; agents theirs under 待更新进度.
  (isSupervisor() ? $("sup-deadlines") : $("pane-progress")).appendChild($("deadlines-section"));
  renderStatus();
  $("failures-section").hidden = !isSupervisor();
  $("outbox-section").hidden = !isSupervisor();
  $("escalations-section").hidden = !isSupervisor();
  $("privacy-section").hidden = !isSupervisor();
  $("access-section").hidden = !isSupervisor();
  $("dashboard-link").hidden = !isSupervisor();
  btnReassign.hidden = !isSupervisor();
  renderAgents();
  renderAgentStates();
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

// What each kind of feed event can change, so an event reloads only those lists (M8).
var QUEUE_KINDS = { requested: 1, accepted: 1, cancelled: 1, requeued: 1, to_callback: 1, reassigned: 1, owner_notified: 1 };
var MINE_KINDS = { accepted: 1, message: 1, transfer_requested: 1, transferred: 1, transfer_declined: 1, reassigned: 1,
  released: 1, closed: 1, cancelled: 1, requeued: 1, escalated: 1, escalation_accepted: 1, escalation_declined: 1 };
var DECISIONS = { escalation_accepted: "主管已同意升级", escalation_declined: "主管驳回了升级申请" };

function handleEvents(events) {
  var parts = {};
  var agentsChanged = false;
  events.forEach(function (e) {
    if (!e) return;
    var mineSession = e.session_id !== null && e.session_id !== undefined &&
      state.mine.some(function (s) { return String(s.id) === String(e.session_id); });
    if (QUEUE_KINDS[e.kind]) { parts.live = true; parts.callback = true; parts.mine = true; }
    if (MINE_KINDS[e.kind] && (mineSession || e.kind === "transfer_requested" || e.kind === "reassigned")) parts.mine = true;
    if (e.kind === "message" && !mineSession && state.queue.some(function (s) { return String(s.id) === String(e.session_id); })) parts.live = true;
    if (e.kind !== "message") { parts.progress = true; parts.supervisor = true; }
    if (e.kind === "agent_status") agentsChanged = true;
    if (DECISIONS[e.kind] && mineSession) announce(DECISIONS[e.kind], "会话 #" + e.session_id, "esc-" + e.id);
  });
  if (Object.keys(parts).length) refreshLists(parts);
  if (agentsChanged) loadAgents();
  var open = state.open;
  if (!open) return;
  var mine = events.filter(function (e) { return e && e.session_id !== null && e.session_id !== undefined && String(e.session_id) === String(open.id); });
  if (mine.length) refreshOpen();
}

// ---------------------------------------------------------------- boot

setSessionExpiredHandler(sessionExpired);
registerPanel(incidentsPanel);

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
