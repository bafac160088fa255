// The three DOM helpers every page of the console uses (agent page and dashboard). Text only ever
// goes in through textContent, so customer words are never parsed as HTML.

export function $(id) { return document.getElementById(id); }

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
