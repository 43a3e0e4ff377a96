// Building the page: elements from data with text nodes only (never HTML strings), so
// nothing read from the ledger can inject markup; and the figures every page shows.

/** An element: h("td", {class: "num", "data-value": 5}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const svg = SVG_TAGS.has(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_TAGS = new Set(["svg", "g", "rect", "line", "path", "text", "title", "desc", "circle", "polyline"]);

/** Replace everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the console (navigated without reloading the page). */
export function link(path, ...children) {
  return h("a", { href: path, "data-nav": "" }, ...children);
}

/** A table with a caption, column heads and rows of cells (a cell may be an element). */
export function table(caption, heads, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs,
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, heads.map((x, i) => h("th", { scope: "col", class: numeric(rows, i) ? "num-head" : null }, x)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) =>
        i === 0 ? h("th", { scope: "row" }, cell) : cell instanceof Node && cell.tagName === "TD" ? cell : h("td", {}, cell))))),
    ),
  );
}

// A column is aligned as numbers when its first cell is one.
function numeric(rows, i) {
  const cell = rows.length ? rows[0][i] : null;
  return Boolean(cell instanceof Element && cell.classList.contains("num"));
}

/** A notice: kind is "info", "warn" or "error" (errors are announced to screen readers). */
export function notice(kind, ...children) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

/** A section with a heading. */
export function section(title, ...children) {
  const id = "s-" + title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
