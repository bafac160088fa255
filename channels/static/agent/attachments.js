// Customers' screenshots, photos and PDFs in the console: thumbnails on a ticket and in the transcript
// (at their time in the conversation), full size in a viewer dialog (Esc closes), PDFs as a download.
//
// The files need the bearer token, which an <img src> cannot carry: they are fetched as blobs and shown
// through object URLs. Thumbnails are kept per attachment id while the agent is logged in (a refresh
// re-renders the tickets and must not fetch, and log, every thumbnail again); they are revoked when
// the cache is full and at logout. A full-size picture's URL is revoked when the viewer closes, a
// PDF's once its download started. Every fetch is written to the access log by the server.

import { $, el, state, API, fmtTime, timeEl, notice } from "./core.js";

var MAX_CACHED = 200;
var thumbs = {};        // attachment id -> Promise of an object URL
var thumbOrder = [];
var cacheEpoch = null;

var viewer = $("attachment-viewer");
var viewerImg = $("attachment-viewer-img");
var viewerTitle = $("attachment-viewer-title");
var viewerError = $("attachment-viewer-error");
var viewerUrl = null;
var viewing = null;

function fetchBlob(path) {
  var headers = { "Accept": "*/*" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  return fetch(API + path, { headers: headers, cache: "no-store", credentials: "same-origin" }).then(function (response) {
    if (!response.ok) {
      var error = new Error(response.status === 404 || response.status === 403 ? "附件不存在，或您无权查看。" : "附件加载失败，请稍后重试。");
      error.status = response.status;
      throw error;
    }
    return response.blob();
  });
}

// Forget every cached thumbnail (logout, or another agent logging in on this page).
export function forgetAttachments() {
  Object.keys(thumbs).forEach(function (id) {
    thumbs[id].then(function (url) { URL.revokeObjectURL(url); }, function () {});
  });
  thumbs = {};
  thumbOrder = [];
}

function thumbnailUrl(a) {
  if (cacheEpoch !== state.epoch) { forgetAttachments(); cacheEpoch = state.epoch; }
  if (!thumbs[a.id]) {
    thumbs[a.id] = fetchBlob(a.thumbnail_url).then(function (blob) { return URL.createObjectURL(blob); });
    thumbs[a.id].catch(function () { delete thumbs[a.id]; });  // a failed one is tried again next time
    thumbOrder.push(a.id);
    while (thumbOrder.length > MAX_CACHED) {
      var old = thumbOrder.shift();
      if (thumbs[old]) thumbs[old].then(function (url) { URL.revokeObjectURL(url); }, function () {});
      delete thumbs[old];
    }
  }
  return thumbs[a.id];
}

function sizeText(bytes) {
  if (!(bytes > 0)) return "";
  return bytes >= 1024 * 1024 ? (bytes / 1024 / 1024).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
}

var SOURCES = { webchat: "网页", telegram: "Telegram", wechat: "微信" };

function label(a) {
  var what = a.kind === "pdf" ? "PDF 文件" : "图片";
  return what + (SOURCES[a.source] ? "（" + SOURCES[a.source] + "）" : "") + " " + fmtTime(a.created_at, true);
}

// A thumbnail button for one attachment: a picture opens the viewer, a PDF downloads.
export function attachmentButton(a) {
  var b = el("button", "attachment attachment--" + (a.kind === "pdf" ? "pdf" : "image"));
  b.type = "button";
  b.dataset.attachmentId = String(a.id);
  b.setAttribute("aria-label", (a.kind === "pdf" ? "下载 " : "查看大图：") + label(a));
  b.title = label(a) + (a.caption ? "：" + a.caption : "");
  if (a.kind === "pdf" || !a.thumbnail_url) {
    b.appendChild(el("span", "attachment__icon", "📄"));
    b.appendChild(el("span", "attachment__name", "PDF " + sizeText(a.size)));
    b.addEventListener("click", function () { download(a); });
    return b;
  }
  var img = el("img", "attachment__thumb");
  img.alt = label(a);
  b.appendChild(img);
  thumbnailUrl(a).then(function (url) { img.src = url; }, function (error) {
    b.classList.add("attachment--broken");
    b.appendChild(el("span", "attachment__name", error.status === 404 ? "无权查看" : "加载失败"));
  });
  b.addEventListener("click", function () { openViewer(a); });
  return b;
}

// The attachments of a ticket, for its card (tickets.js).
export function attachmentStrip(list) {
  var box = el("div", "attachments");
  box.appendChild(el("span", "attachments__label", "附件（" + list.length + "）"));
  list.forEach(function (a) { box.appendChild(attachmentButton(a)); });
  return box;
}

// Put the customer's attachments into the transcript at their time (after the last message sent
// before them); each once. `open` is state.open (its `attachmentIds` says which are shown).
export function placeInTranscript(transcript, open, list) {
  open.attachmentIds = open.attachmentIds || {};
  list.forEach(function (a) {
    if (open.attachmentIds[a.id]) return;
    open.attachmentIds[a.id] = true;
    var li = el("li", "msg msg--customer msg--attachment");
    li.dataset.attachmentId = String(a.id);
    li._attachment = a;
    var head = el("div", "msg__meta");
    head.appendChild(el("span", "msg__sender", a.kind === "pdf" ? "客户 · 文件" : "客户 · 图片"));
    head.appendChild(timeEl(a.created_at, true));
    li.appendChild(head);
    li.appendChild(attachmentButton(a));
    if (a.caption) li.appendChild(el("div", "msg__text", a.caption));
    var at = Date.parse(a.created_at);
    var before = Array.prototype.find.call(transcript.children, function (other) {
      var when = other._message ? other._message.at : other._attachment ? other._attachment.created_at : null;
      return when && Date.parse(when) > at;
    });
    transcript.insertBefore(li, before || null);
  });
}

function download(a) {
  fetchBlob(a.url).then(function (blob) {
    var url = URL.createObjectURL(blob);
    var link = el("a");
    link.href = url;
    link.download = String(a.id) + ".pdf";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }, function (error) { notice(error.message, "error"); });
}

function releaseViewer() {
  viewing = null;
  viewerImg.removeAttribute("src");
  if (viewerUrl) { URL.revokeObjectURL(viewerUrl); viewerUrl = null; }
}

export function openViewer(a) {
  releaseViewer();
  viewing = a.id;
  viewerTitle.textContent = label(a);
  viewerError.textContent = "";
  viewerImg.alt = label(a);
  if (typeof viewer.showModal === "function") { if (!viewer.open) viewer.showModal(); } else viewer.setAttribute("open", "");
  var asked = a.id;
  fetchBlob(a.url).then(function (blob) {
    if (viewing !== asked) return;
    viewerUrl = URL.createObjectURL(blob);
    viewerImg.src = viewerUrl;
  }, function (error) {
    if (viewing === asked) viewerError.textContent = error.message;
  });
}

export function closeViewer() {
  if (viewer.open) { if (typeof viewer.close === "function") viewer.close(); else viewer.removeAttribute("open"); }
}

$("attachment-viewer-close").addEventListener("click", closeViewer);
viewer.addEventListener("close", releaseViewer);  // Esc (the dialog's cancel) closes it too
