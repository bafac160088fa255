// Web chat client: socket.io protocol of Rasa's SocketIOInput (session_request / user_uttered / bot_uttered).
// All text is rendered with textContent: nothing a customer or the bot sends is ever parsed as HTML.
(function () {
  "use strict";
  var SESSION_KEY = "intake.session";
  var HISTORY_KEY = "intake.history";
  var MAX_HISTORY = 200;
  var MAX_CHARS = 5000;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");

  function load(key, fallback) {
    try { var v = window.localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: keep going */ }
  }

  var history = load(HISTORY_KEY, []);

  function render(entry, live) {
    var item = document.createElement("li");
    item.className = "msg msg--" + entry.who;
    if (entry.name) {
      var who = document.createElement("div");
      who.className = "msg__who";
      who.textContent = "客服 " + entry.name;
      item.appendChild(who);
    }
    if (entry.file) {
      item.classList.add("msg--file");
      item.appendChild(fileBlock(entry));
    } else {
      var text = document.createElement("div");
      text.textContent = entry.text;
      item.appendChild(text);
    }
    if (entry.replies && entry.replies.length) {
      var box = document.createElement("div");
      box.className = "replies";
      entry.replies.forEach(function (reply) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = reply.title;
        b.disabled = !live;
        b.addEventListener("click", function () {
          Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
          send(reply.payload, reply.title);
        });
        box.appendChild(b);
      });
      item.appendChild(box);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // A file the customer sent: the picture itself while the page has it (a local object URL, freed
  // once shown), else a chip with its name (PDFs, and pictures after a reload).
  function fileBlock(entry) {
    if (entry.file.kind === "image" && entry.preview) {
      var img = document.createElement("img");
      img.className = "msg__thumb";
      img.alt = "图片：" + entry.file.name;
      img.addEventListener("load", function () { URL.revokeObjectURL(entry.preview); }, { once: true });
      img.src = entry.preview;
      return img;
    }
    var chip = document.createElement("div");
    chip.className = "msg__chip";
    chip.textContent = (entry.file.kind === "image" ? "🖼 图片：" : "📄 文件：") + entry.file.name;
    return chip;
  }

  function remember(entry) {
    history.push({ who: entry.who, text: entry.text, replies: entry.replies || [], name: entry.name || null, mid: entry.mid || null,
                   file: entry.file || null });
    if (history.length > MAX_HISTORY) history = history.slice(-MAX_HISTORY);
    save(HISTORY_KEY, history);
  }

  function add(entry) { remember(entry); return render(entry, true); }

  history.forEach(function (entry) { render(entry, false); });

  // Messages from agents carry ids: the page asks for what came after the last one it shows, and
  // drops any it already has (a message may arrive both live and in that replay).
  function lastMessageId() {
    return history.reduce(function (max, e) { return typeof e.mid === "number" && e.mid > max ? e.mid : max; }, 0);
  }
  function seen(mid) {
    return history.some(function (e) { return e.mid === mid; });
  }

  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });
  var sessionId = load(SESSION_KEY, null);
  var ready = false;

  function setStatus(text) { statusLine.textContent = text; }

  socket.on("connect", function () {
    // "已连接" only once the conversation is confirmed: before that a message cannot be sent.
    setStatus("正在连接…");
    socket.emit("session_request", { session_id: sessionId, last_message_id: lastMessageId() });
  });
  socket.on("disconnect", function () { ready = false; setStatus("连接中断，正在重连…"); });
  socket.on("connect_error", function () { setStatus("无法连接服务器，正在重试…"); });

  socket.on("session_confirm", function (id) {
    var fresh = id !== sessionId;
    sessionId = id;
    save(SESSION_KEY, id);
    ready = true;
    setStatus("已连接");
    if (fresh && history.length === 0) {
      add({ who: "bot", text: "您好，我是在线客服助手。可以咨询话费、流量、套餐、宽带等问题，也可以直接告诉我遇到的故障或不满，我帮您登记投诉并跟进。" });
    }
  });

  socket.on("bot_uttered", function (message) {
    if (!message) return;
    var mid = typeof message.message_id === "number" ? message.message_id : null;
    if (mid !== null && seen(mid)) return;
    var replies = (message.quick_replies || message.buttons || []).map(function (b) {
      return { title: String(b.title), payload: String(b.payload) };
    });
    if (typeof message.text === "string" && message.text) {
      var agent = typeof message.agent === "string" && message.agent ? message.agent : null;
      add({ who: agent ? "agent" : "bot", text: message.text, replies: replies, name: agent, mid: mid });
    }
  });
  socket.on("error_message", function (message) { add({ who: "system", text: String(message && message.text || "出错了") }); });

  function send(payload, shown) {
    if (!ready) { add({ who: "system", text: "正在连接，请稍候再发送。" }); return false; }
    add({ who: "user", text: shown });
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
    return true;
  }

  // What chat_upload.js (the attach button, paste and drop) needs of the conversation.
  window.intakeChat = {
    add: add,
    session: function () { return ready ? sessionId : null; },
    scrollDown: function () { log.scrollTop = log.scrollHeight; }
  };

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (text.length > MAX_CHARS) { add({ who: "system", text: "消息太长了，请分几条发送。" }); return; }
    if (send(text, text)) input.value = "";
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : sendButton.click();
    }
  });

  document.getElementById("new-session").addEventListener("click", function () {
    var ended = sessionId;
    history = [];
    save(HISTORY_KEY, history);
    sessionId = null;
    save(SESSION_KEY, null);
    log.textContent = "";
    // The old conversation is ended on the server too: its id no longer opens anything.
    socket.emit("session_request", { session_id: null, end: ended });
  });
})();
