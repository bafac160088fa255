// Never miss a message: what the agent has seen of each chat (kept per session in localStorage, so
// unread badges survive a reload), the page title with the unread count (blinking while the tab is
// hidden), an optional beep (WebAudio, no sound file) and desktop notifications (asked for with a
// button, never on load) for a new live chat, a new message in my chats, a transfer offer and an
// escalation decision.

import { $, state, store, myKey } from "./core.js";

var BASE_TITLE = "坐席工作台 · 在线客服";
var SOUND_KEY = "agent.sound";
var soundToggle = $("sound-toggle");
var notifyButton = $("btn-notify");

// ---------------------------------------------------------------- seen / unread

function seenMap() {
  try { return JSON.parse(store(myKey("seen")) || "{}") || {}; } catch (e) { return {}; }
}

// Unread = customer messages the agent has not seen. The server counts the customer's messages since
// the agent's last reply (`unanswered`, first at `waiting_reply_since`); the browser remembers how
// many of those it had shown when the agent last looked.
export function unreadOf(s) {
  var n = Number(s && s.unanswered) || 0;
  if (!n) return 0;
  if (state.open && String(state.open.id) === String(s.id) && !document.hidden) return 0;
  var seen = seenMap()[s.id];
  if (!seen) return n;
  var since = Date.parse(s.waiting_reply_since);
  if (!isNaN(since) && since > Number(seen.at || 0)) return n;
  return Math.max(0, n - (Number(seen.n) || 0));
}

export function markSeen(s) {
  if (!s || !state.me) return;
  var map = seenMap();
  map[s.id] = { at: Date.now(), n: Number(s.unanswered) || 0 };
  var ids = Object.keys(map);
  if (ids.length > 200) ids.slice(0, ids.length - 200).forEach(function (id) { delete map[id]; });
  store(myKey("seen"), JSON.stringify(map));
}

// ---------------------------------------------------------------- title

var blinkTimer = null;
var blinkOn = false;
var pendingAlert = "";

export function updateTitle() {
  var unread = state.mine.reduce(function (sum, s) { return sum + unreadOf(s); }, 0);
  var waiting = state.liveTotal || 0;
  var base = (unread ? "(" + unread + " 条未读) " : "") + (waiting ? "[排队 " + waiting + "] " : "") + BASE_TITLE;
  var badge = $("my-unread");
  badge.hidden = !unread;
  badge.textContent = String(unread);
  if (document.hidden && (unread || pendingAlert)) {
    if (!blinkTimer) {
      blinkTimer = setInterval(function () {
        blinkOn = !blinkOn;
        document.title = blinkOn ? "【" + (pendingAlert || unread + " 条新消息") + "】" : titleBase;
      }, 1000);
    }
  } else stopBlink();
  titleBase = base;
  if (!blinkTimer) document.title = base;
}
var titleBase = BASE_TITLE;

function stopBlink() {
  if (blinkTimer) { clearInterval(blinkTimer); blinkTimer = null; }
  blinkOn = false;
}

document.addEventListener("visibilitychange", function () {
  if (!document.hidden) { pendingAlert = ""; stopBlink(); }
  updateTitle();
});

export function resetAttention() {
  stopBlink();
  pendingAlert = "";
  document.title = BASE_TITLE;
}

// ---------------------------------------------------------------- announcing

// Something the agent must not miss: the title says it (blinking while hidden), a beep when the
// agent turned sound on, and a desktop notification when they allowed them.
export function announce(title, body, tag) {
  pendingAlert = title;
  document.title = "【" + title + "】" + BASE_TITLE;
  setTimeout(function () { if (!document.hidden) { pendingAlert = ""; updateTitle(); } }, 4000);
  if (document.hidden) updateTitle();
  beep();
  if (window.Notification && Notification.permission === "granted") {
    try {
      var n = new Notification(title, { body: body || "", tag: tag || title, lang: "zh-CN", icon: "static/favicon.svg" });
      n.onclick = function () { window.focus(); n.close(); };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }
}

var audio = null;
function beep() {
  if (!soundToggle.checked) return;
  try {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.35);
  } catch (e) { /* no audio on this machine */ }
}

// ---------------------------------------------------------------- controls

export function setupAttention() {
  soundToggle.checked = store(SOUND_KEY) === "on";
  notifyButton.hidden = !window.Notification || Notification.permission !== "default";
}

soundToggle.addEventListener("change", function () {
  store(SOUND_KEY, soundToggle.checked ? "on" : "off");
  if (soundToggle.checked) beep();
});

notifyButton.addEventListener("click", function () {
  if (!window.Notification) return;
  Promise.resolve(Notification.requestPermission()).then(function () {
    notifyButton.hidden = Notification.permission !== "default";
  });
});
