// Hand-made SVG plots. Each is a <figure> holding the drawing (role="img" with a label that
// says what it shows) and a <table> with every number drawn, so the figures can be read
// with a keyboard and a screen reader, copied, and checked. Colours come from classes in
// console.css (the Content-Security-Policy allows no inline style).

import { h, table } from "./dom.js";
import { percent, yuan } from "./format.js";

const W = 640;

function frame(kind, label, height, marks, tableEl, note) {
  const svg = h(
    "svg",
    { viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": label, class: "plot-svg", "data-marks": marks.length, focusable: "false" },
    h("title", {}, label),
    marks,
  );
  return h("figure", { class: "plot", "data-plot": kind }, h("div", { class: "plot-drawing" }, svg, note ? h("p", { class: "plot-note" }, note) : null), tableEl);
}

/**
 * The table rows with a last column naming each one over its limit, when any is: the bars'
 * colour alone says nothing to a screen reader or a colour-blind reader.
 */
function namedOver(heads, tableRows, overs, head, say) {
  if (!overs.some(Boolean)) return [heads, tableRows];
  return [[...heads, head], tableRows.map((cells, i) => [...cells, overs[i] ? h("strong", { class: "over-text", "data-over": "" }, say(i)) : "—"])];
}

function scale(max, width) {
  return (v) => (max > 0 ? Math.max(0, (Number(v) / max) * width) : 0);
}

/**
 * Horizontal bars, each a value against its limit (exposure against the cap, cap used
 * against the cap): rows [{label, value, limit}] in fen.
 */
export function againstLimit(kind, label, rows, heads, tableRows) {
  const left = 170, width = W - left - 20, rowH = 44;
  const height = Math.max(60, rows.length * rowH + 30);
  const max = Math.max(1, ...rows.map((r) => Math.max(Number(r.value), Number(r.limit ?? 0))));
  const x = scale(max, width);
  const marks = [];
  const overs = rows.map((r) => r.limit !== null && r.limit !== undefined && BigInt(r.value) > BigInt(r.limit));
  rows.forEach((r, i) => {
    const y = 20 + i * rowH;
    const over = overs[i];
    marks.push(h("text", { x: left - 8, y: y + 17, "text-anchor": "end", class: "plot-label" }, r.label.length > 24 ? r.label.slice(0, 23) + "…" : r.label));
    if (r.limit !== null && r.limit !== undefined) marks.push(h("rect", { x: left, y, width: x(r.limit), height: 24, class: "plot-track" }));
    marks.push(h("rect", { x: left, y: y + 4, width: x(r.value), height: 16, class: over ? "plot-bar over" : "plot-bar", "data-value": r.value }));
    if (r.limit !== null && r.limit !== undefined) marks.push(h("line", { x1: left + x(r.limit), x2: left + x(r.limit), y1: y - 3, y2: y + 27, class: "plot-limit" }));
    marks.push(h("text", { x: left + 4, y: y + 38, class: "plot-small" }, `${yuan(r.value)} of ${r.limit === null || r.limit === undefined ? "no limit" : yuan(r.limit)}`));
  });
  const [named, namedRows] = namedOver(heads, tableRows, overs, "Over the limit", (i) => `over by ${yuan(BigInt(rows[i].value) - BigInt(rows[i].limit))}`);
  return frame(kind, label, height, marks, table(label, named, namedRows, { "data-table": kind }));
}

/** Grouped horizontal bars per role: series [{name, cls, values: {role: fen}}]. */
export function perRole(kind, label, roles, names, series, heads, tableRows) {
  const left = 140, width = W - left - 20, barH = 12, groupH = series.length * (barH + 3) + 16;
  const height = roles.length * groupH + 40;
  const max = Math.max(1, ...series.flatMap((s) => roles.map((r) => Math.abs(Number(s.values[r] || 0)))));
  const x = scale(max, width);
  const marks = [];
  roles.forEach((role, i) => {
    const y = 10 + i * groupH;
    marks.push(h("text", { x: left - 8, y: y + (series.length * (barH + 3)) / 2 + 4, "text-anchor": "end", class: "plot-label" }, names[role]));
    series.forEach((s, j) => {
      const v = Number(s.values[role] || 0);
      marks.push(h("rect", { x: left, y: y + j * (barH + 3), width: x(Math.abs(v)), height: barH, class: `plot-bar ${s.cls}`, "data-value": v }, h("title", {}, `${names[role]}, ${s.name}: ${yuan(v)}`)));
    });
  });
  const ly = height - 16;
  series.forEach((s, j) => {
    marks.push(h("rect", { x: left + j * 150, y: ly - 10, width: 12, height: 12, class: `plot-bar ${s.cls}` }));
    marks.push(h("text", { x: left + j * 150 + 18, y: ly, class: "plot-small" }, s.name));
  });
  return frame(kind, label, height, marks, table(label, heads, tableRows, { "data-table": kind }));
}

/** A step line over business dates: points [{date, value}] in fen, in time order. */
export function overTime(kind, label, points, heads, tableRows) {
  const left = 110, right = 20, top = 20, bottom = 40, height = 240;
  const plotW = W - left - right, plotH = height - top - bottom;
  const days = points.map((p) => Date.parse(p.date + "T00:00:00Z") / 86400000);
  const d0 = Math.min(...days), d1 = Math.max(...days);
  const span = Math.max(1, d1 - d0);
  const max = Math.max(1, ...points.map((p) => Number(p.value)));
  // Events on one day are spread a little so each stays visible.
  const xs = days.map((d, i) => left + (d1 === d0 ? (plotW * (i + 1)) / (points.length + 1) : ((d - d0) / span) * plotW));
  const y = (v) => top + plotH - (Number(v) / max) * plotH;
  let path = "";
  points.forEach((p, i) => {
    path += i === 0 ? `M${xs[i]},${y(p.value)}` : `H${xs[i]}V${y(p.value)}`;
  });
  if (points.length) path += `H${left + plotW}`;
  const marks = [
    h("line", { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: "plot-axis" }),
    h("line", { x1: left, x2: left, y1: top, y2: top + plotH, class: "plot-axis" }),
    h("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "plot-small" }, yuan(max)),
    h("text", { x: left - 6, y: top + plotH, "text-anchor": "end", class: "plot-small" }, yuan(0)),
    h("path", { d: path, class: "plot-line" }),
  ];
  points.forEach((p, i) => marks.push(h("circle", { cx: xs[i], cy: y(p.value), r: 4, class: "plot-dot", "data-value": p.value }, h("title", {}, `${p.date}: ${yuan(p.value)}`))));
  if (points.length) {
    marks.push(h("text", { x: left, y: height - 14, class: "plot-small" }, points[0].date));
    marks.push(h("text", { x: left + plotW, y: height - 14, "text-anchor": "end", class: "plot-small" }, points[points.length - 1].date));
  }
  return frame(kind, label, height, marks, table(label, heads, tableRows, { "data-table": kind }));
}

/**
 * Rates per period as columns against horizontal limit lines: periods [{label, value}] in
 * basis points (value null when nothing was discharged), limits [{name, value, cls}].
 */
export function rateAgainstLimits(kind, label, periods, limits, heads, tableRows) {
  const left = 70, right = 20, top = 20, bottom = 40, height = 240;
  const plotW = W - left - right, plotH = height - top - bottom;
  const max = Math.max(100, ...periods.map((p) => Number(p.value || 0)), ...limits.map((l) => Number(l.value) * 1.2));
  const y = (v) => top + plotH - (Number(v) / max) * plotH;
  const slot = plotW / Math.max(1, periods.length);
  const marks = [
    h("line", { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: "plot-axis" }),
    h("text", { x: left - 6, y: top + plotH, "text-anchor": "end", class: "plot-small" }, "0%"),
  ];
  const suspends = limits.filter((l) => l.cls === "suspend");
  const overs = periods.map((p) => p.value !== null && p.value !== undefined && suspends.some((l) => Number(p.value) >= Number(l.value)));
  periods.forEach((p, i) => {
    const x = left + i * slot + slot * 0.2;
    if (p.value !== null && p.value !== undefined) {
      const over = overs[i];
      marks.push(h("rect", { x, y: y(p.value), width: slot * 0.6, height: top + plotH - y(p.value), class: over ? "plot-bar over" : "plot-bar", "data-value": p.value }, h("title", {}, `${p.label}: ${percent(p.value)}`)));
    }
    marks.push(h("text", { x: x + slot * 0.3, y: height - 20, "text-anchor": "middle", class: "plot-small" }, p.label));
  });
  limits.forEach((l) => {
    marks.push(h("line", { x1: left, x2: left + plotW, y1: y(l.value), y2: y(l.value), class: `plot-limit ${l.cls}` }));
    marks.push(h("text", { x: left - 6, y: y(l.value) + 4, "text-anchor": "end", class: "plot-small" }, percent(l.value)));
    marks.push(h("text", { x: left + plotW, y: y(l.value) - 4, "text-anchor": "end", class: "plot-small" }, l.name));
  });
  const [named, namedRows] = namedOver(heads, tableRows, overs, "At the suspension line", () => `at or over ${suspends.map((l) => percent(l.value)).join(", ")}`);
  return frame(kind, label, height, marks, table(label, named, namedRows, { "data-table": kind }));
}
