// The dashboard's drawing kit: DOM and SVG element helpers, metric tiles, inline SVG bar charts (vertical,
// optionally stacked, and horizontal), their legends and the "查看数据" tables under them.
// Everything is built with createElement(NS) + textContent; no library, no inline script or style.

import { $, el, clear } from "./dom.js";
export { $, el, clear };

var SVG = "http://www.w3.org/2000/svg";


function svg(tag, attrs, text) {
  var node = document.createElementNS(SVG, tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}


// ---------------------------------------------------------------- tiles

export function tiles(container, items) {
  clear(container);
  items.forEach(function (item) {
    var tile = el("div", "tile" + (item.tone ? " tile--" + item.tone : ""));
    tile.setAttribute("data-metric", item.metric);
    tile.appendChild(el("div", "tile__label", item.label));
    tile.appendChild(el("div", "tile__value", item.value));
    tile.appendChild(el("div", "tile__sub", item.sub || ""));
    if (item.title) tile.title = item.title;
    container.appendChild(tile);
  });
}

// ---------------------------------------------------------------- charts

// The top of a count axis with four whole-number steps (1, 2, 5 x 10^n per step).
function niceMax(value) {
  var raw = Math.max(1, Math.ceil(value / 4));
  var power = Math.pow(10, Math.floor(Math.log10(raw)));
  var steps = [1, 2, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * power >= raw) return steps[i] * power * 4;
  return 40 * power;
}

// Charts are drawn at the width of their box, so text keeps its size at any window width.
function widthOf(box, fallback) { return Math.max(300, Math.floor(box.clientWidth || fallback)); }

export function figure(id, caption) {
  var box = $(id);
  clear(box);
  box.appendChild(el("figcaption", null, caption));
  return box;
}

export function dataTable(box, headers, rows) {
  var details = el("details");
  details.appendChild(el("summary", null, "查看数据"));
  var table = el("table", "table table--small");
  var head = el("tr");
  headers.forEach(function (h, i) { var th = el("th", i ? "num" : null, h); th.scope = "col"; head.appendChild(th); });
  table.appendChild(el("thead")).appendChild(head);
  var body = table.appendChild(el("tbody"));
  rows.forEach(function (row) {
    var tr = el("tr");
    row.forEach(function (cell, i) { tr.appendChild(el("td", i ? "num" : null, cell)); });
    body.appendChild(tr);
  });
  details.appendChild(table);
  box.appendChild(details);
}

function chartSvg(box, width, height, label) {
  var node = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img", "aria-label": label });
  node.appendChild(svg("title", {}, label));
  box.appendChild(node);
  return node;
}

export function legend(box, series) {
  var list = el("ul", "legend");
  series.forEach(function (s) {
    var item = el("li");
    item.appendChild(el("span", "legend__swatch " + s.cls));
    item.appendChild(document.createTextNode(s.label));
    list.appendChild(item);
  });
  box.appendChild(list);
}

// Vertical bars, optionally stacked: groups = [{label, title, parts: [{value, cls, name}]}].
export function columns(box, groups, label) {
  var width = widthOf(box, 900), height = 230, left = 40, right = 10, top = 16, bottom = 26;
  var totals = groups.map(function (g) { return g.parts.reduce(function (a, p) { return a + p.value; }, 0); });
  var max = niceMax(Math.max.apply(null, totals.concat([0])));
  var node = chartSvg(box, width, height, label);
  var plotW = width - left - right, plotH = height - top - bottom;
  for (var i = 0; i <= 4; i++) {
    var y = top + plotH - (plotH * i) / 4;
    node.appendChild(svg("line", { x1: left, x2: width - right, y1: y, y2: y, "class": i ? "grid" : "axis" }));
    node.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, (max * i) / 4));
  }
  var band = plotW / Math.max(1, groups.length);
  var barW = Math.max(2, Math.min(56, band * 0.68));
  var every = Math.max(1, Math.ceil(groups.length / 16));
  groups.forEach(function (g, index) {
    var x = left + band * index + (band - barW) / 2;
    var base = top + plotH;
    g.parts.forEach(function (p) {
      if (!p.value) return;
      var h = (plotH * p.value) / max;
      base -= h;
      var rect = svg("rect", { x: x.toFixed(1), y: base.toFixed(1), width: barW.toFixed(1), height: h.toFixed(1), "class": p.cls, rx: 1.5 });
      rect.appendChild(svg("title", {}, g.title + (p.name ? " · " + p.name : "") + "：" + p.value));
      node.appendChild(rect);
    });
    if (totals[index] && groups.length <= 40) {
      node.appendChild(svg("text", { x: (x + barW / 2).toFixed(1), y: (base - 4).toFixed(1), "text-anchor": "middle", "class": "value" }, totals[index]));
    }
    if (index % every === 0) {
      node.appendChild(svg("text", { x: (x + barW / 2).toFixed(1), y: height - 8, "text-anchor": "middle" }, g.label));
    }
  });
  return node;
}

// Horizontal bars: items = [{label, value, cls, text}].
export function bars(box, items, label) {
  if (!items.length) {
    box.appendChild(el("p", "chart__empty", "暂无数据"));
    return null;
  }
  var width = Math.min(widthOf(box, 440), 640), row = 24, left = 128, right = 60, top = 4;
  var height = top + row * items.length + 4;
  var max = Math.max.apply(null, items.map(function (i) { return i.value; }).concat([1]));
  var node = chartSvg(box, width, height, label);
  items.forEach(function (item, index) {
    var y = top + index * row;
    var w = ((width - left - right) * item.value) / max;
    var name = svg("text", { x: left - 8, y: y + 15, "text-anchor": "end" }, shorten(item.label, 11));
    name.appendChild(svg("title", {}, item.label));
    node.appendChild(name);
    node.appendChild(svg("rect", { x: left, y: y + 4, width: Math.max(item.value ? 2 : 0, w).toFixed(1), height: row - 8, rx: 2, "class": item.cls || "c-bar" }));
    node.appendChild(svg("text", { x: (left + w + 6).toFixed(1), y: y + 15, "class": "value" }, item.text !== undefined ? item.text : item.value));
  });
  return node;
}

function shorten(text, n) { text = String(text); return text.length > n ? text.slice(0, n - 1) + "…" : text; }
