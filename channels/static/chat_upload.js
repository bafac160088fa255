// Web chat evidence: a screenshot, photo or PDF sent with the 📎 button, pasted, or dropped on the page.
// The file goes over HTTP (POST upload, the conversation id in X-Chat-Session), not the socket, with
// XMLHttpRequest for the progress bar. The checks here only spare the customer a useless upload: the
// server decides (type by content, size, re-encoding). Text is set with textContent only.
(function () {
  "use strict";
  var TYPES = { "image/jpeg": "image", "image/png": "image", "image/webp": "image", "application/pdf": "pdf" };
  var EXTENSIONS = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", pdf: "application/pdf" };
  var MAX_BYTES = 5 * 1024 * 1024;
  var WRONG_TYPE = "只能发送 JPEG、PNG、WebP 格式的图片或 PDF 文件。";
  var TOO_LARGE = "文件太大了，请发送 5 MB 以内的图片或 PDF 文件。";
  var EMPTY = "文件是空的，请重新选择。";
  var NOT_READY = "正在连接，请稍候再发送。";
  var FAILED = "文件没有发送成功，请检查网络后重试。";

  var chat = window.intakeChat;
  var button = document.getElementById("attach");
  var picker = document.getElementById("attach-input");
  var main = document.querySelector(".chat");
  var input = document.getElementById("input");
  if (!chat || !button || !picker) return;

  function typeOf(file) {
    if (TYPES[file.type]) return file.type;
    if (file.type) return null;
    // Some systems give no type for a file they do not know: go by the name's extension.
    var dot = (file.name || "").lastIndexOf(".");
    return dot >= 0 ? EXTENSIONS[file.name.slice(dot + 1).toLowerCase()] || null : null;
  }

  function say(text) { chat.add({ who: "system", text: text }); }

  function serverMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && typeof body.message === "string" && body.message) return body.message;
    } catch (e) { /* not ours (a proxy's page) */ }
    if (xhr.status === 413) return TOO_LARGE;
    return FAILED;
  }

  function send(file) {
    if (!file) return;
    var type = typeOf(file);
    if (!type) { say(WRONG_TYPE); return; }
    if (file.size > MAX_BYTES) { say(TOO_LARGE); return; }
    if (!file.size) { say(EMPTY); return; }
    var session = chat.session();
    if (!session) { say(NOT_READY); return; }
    var name = file.name || (TYPES[type] === "image" ? "截图" : "文件.pdf");
    var kind = TYPES[type];
    var item = chat.add({
      who: "user", text: "", file: { name: name, kind: kind },
      preview: kind === "image" ? URL.createObjectURL(file) : null
    });
    var bar = document.createElement("progress");
    bar.className = "msg__progress";
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "上传进度");
    var status = document.createElement("div");
    status.className = "msg__status";
    status.setAttribute("role", "status");
    status.textContent = "正在发送…";
    item.appendChild(bar);
    item.appendChild(status);
    chat.scrollDown();

    var xhr = new XMLHttpRequest();
    xhr.open("POST", "upload");
    xhr.setRequestHeader("Content-Type", type);
    xhr.setRequestHeader("X-Chat-Session", session);
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(name));
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(event.loaded / event.total * 100);
    });
    xhr.addEventListener("load", function () {
      bar.remove();
      if (xhr.status === 201) {
        item.classList.add("msg--sent");
        status.textContent = "已发送";
        var body = {};
        try { body = JSON.parse(xhr.responseText) || {}; } catch (e) { body = {}; }
        // During a live chat the bot stays silent: the page says where the file went. Otherwise
        // the bot's confirmation arrives over the socket.
        if (body.announced === "agent" && typeof body.text === "string") say(body.text);
        return;
      }
      item.classList.add("msg--failed");
      status.textContent = "发送失败";
      say(serverMessage(xhr));
    });
    xhr.addEventListener("error", function () {
      bar.remove();
      item.classList.add("msg--failed");
      status.textContent = "发送失败";
      say(FAILED);
    });
    xhr.send(file);
  }

  button.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    picker.value = "";  // the same file may be chosen again
    send(file);
  });

  // Desktop: paste a screenshot into the message box, or drop a file on the conversation.
  input.addEventListener("paste", function (event) {
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) { event.preventDefault(); send(files[0]); }
  });
  main.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      main.classList.add("chat--drop");
    }
  });
  main.addEventListener("dragleave", function (event) {
    if (event.target === main || !main.contains(event.relatedTarget)) main.classList.remove("chat--drop");
  });
  main.addEventListener("drop", function (event) {
    main.classList.remove("chat--drop");
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) { event.preventDefault(); send(files[0]); }
  });
})();
