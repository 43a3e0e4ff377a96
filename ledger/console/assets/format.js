// Figures as people read them. Money is integer fen and stays an integer: yuan are shown
// by splitting the fen, never by dividing into a float. Each figure's element carries the
// exact number in data-value, so what is shown can be checked against the API.

import { h } from "./dom.js";

function grouped(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "¥1,234,567.89" for 123456789 fen. */
export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  const n = BigInt(fen);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  return `${sign}¥${grouped((abs / 100n).toString())}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** "40.00%" for 4000 bp. */
export function percent(bp) {
  if (bp === null || bp === undefined) return "—";
  const n = Math.trunc(bp);
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}%`;
}

/** A table cell with an amount in fen. */
export function fenCell(fen, field) {
  return h("td", { class: "num", "data-value": fen ?? "", "data-field": field || null }, yuan(fen));
}

/** A table cell with a rate in basis points. */
export function bpCell(bp, field) {
  return h("td", { class: "num", "data-value": bp ?? "", "data-field": field || null }, percent(bp));
}

/** A table cell with a count or a position. */
export function countCell(n, field) {
  return h("td", { class: "num", "data-value": n ?? "", "data-field": field || null }, n === null || n === undefined ? "—" : grouped(String(n)));
}

/** An inline amount (for definition lists). */
export function fenText(fen, field) {
  return h("span", { class: "num", "data-value": fen ?? "", "data-field": field || null }, yuan(fen));
}

/** Role names as people say them. */
export const ROLE_NAMES = {
  bank: "Bank",
  guarantor: "Guarantor",
  reguarantor: "Re-guarantor",
  national_fund: "National fund",
  compensation_pool: "Compensation pool",
};

export const ROLES = Object.keys(ROLE_NAMES);

/** The business date (Asia/Shanghai, UTC+8 all year) of an RFC 3339 timestamp. */
export function businessDate(timestamp) {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "—";
  return new Date(t + 8 * 3600 * 1000).toISOString().slice(0, 10);
}
