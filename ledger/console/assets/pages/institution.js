// An institution: its position per program, its compensation rate by quarter against the
// program's limit, and its statements (CSV download, as filed against now) once the
// ledger serves them.

import { ApiError, get, maybe, path } from "../api.js";
import { facts, fill, h, link, notice, section, table } from "../dom.js";
import { explain } from "../app.js";
import { bpCell, countCell, fenCell, percent } from "../format.js";
import { rateAgainstLimits } from "../plots.js";

function positionTable(pos) {
  return table(
    `Position of ${pos.institution_id} per program`,
    ["Program", "Roles", "Guaranteed volume", "In-force balance", "Borne", "Recovered", "Net loss", "Cap", "Cap used"],
    pos.programs.map((p, i) => [
      link(path`/console/programs/${p.program_id}`, p.program_id),
      (p.roles || []).join(", "),
      fenCell(p.guaranteed_volume, `programs.${i}.guaranteed_volume`),
      fenCell(p.in_force_balance, `programs.${i}.in_force_balance`),
      fenCell(p.borne, `programs.${i}.borne`),
      fenCell(p.recovered, `programs.${i}.recovered`),
      fenCell(p.net_loss, `programs.${i}.net_loss`),
      p.cap === null ? h("td", {}, "no cap") : fenCell(p.cap, `programs.${i}.cap`),
      fenCell(p.cap_used, `programs.${i}.cap_used`),
    ]),
  );
}

function quarters(now = new Date()) {
  const shanghai = new Date(now.getTime() + 8 * 3600 * 1000);
  const year = shanghai.getUTCFullYear();
  const out = [];
  for (const y of [year - 1, year]) for (let q = 1; q <= 4; q++) out.push(`${y}-Q${q}`);
  return out;
}

async function rates(id, pos, box) {
  const programs = await get("/v1/programs");
  const limited = programs.programs.filter((p) => p.terms.compensation_rate_limit && pos.programs.some((x) => x.program_id === p.program_id));
  const periods = quarters();
  const statements = [];
  for (const period of periods) {
    const s = await maybe(path`/v1/statements/${id}` + `?period=${period}`);
    if (s === null) {
      box.append(notice("info", "This ledger does not serve statements, so the compensation rate by quarter cannot be shown."));
      return false;
    }
    statements.push(s);
  }
  const shown = limited.length ? limited : pos.programs.map((p) => ({ program_id: p.program_id, terms: {} }));
  for (const p of shown) {
    const limit = p.terms.compensation_rate_limit;
    const points = periods.map((label, i) => {
      const row = statements[i].programs.find((r) => r.program_id === p.program_id);
      return { label: label.replace("-", " "), value: row ? row.compensation_rate_bp : null, row };
    });
    const lines = limit ? [{ name: "warning", value: limit.warning_bp, cls: "warning" }, { name: "suspension", value: limit.suspend_bp, cls: "suspend" }] : [];
    box.append(rateAgainstLimits(
      "rate",
      `Compensation rate of ${id} in ${p.program_id} by quarter${limit ? ` against its limit (warning ${percent(limit.warning_bp)}, suspension ${percent(limit.suspend_bp)})` : ""}`,
      points,
      lines,
      ["Quarter", "Discharged", "Compensated", "Rate"],
      points.map((pt) => [pt.label, fenCell(pt.row ? pt.row.discharged : null), fenCell(pt.row ? pt.row.compensated.amount : null), bpCell(pt.value)]),
    ));
  }
  return true;
}

function download(id, period, status) {
  return async () => {
    try {
      const response = await get(path`/v1/statements/${id}` + `?period=${encodeURIComponent(period)}`, { accept: "text/csv", raw: true });
      const blob = await response.blob();
      const a = h("a", { href: URL.createObjectURL(blob), download: `statement-${id}-${period}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      fill(status, notice("info", `Downloaded statement-${id}-${period}.csv.`));
    } catch (e) {
      fill(status, explain(e));
    }
  };
}

// A statement field's value as people read it: counts as counts, the rate in percent,
// everything else (amounts) in yuan.
function figure(field, value) {
  if (typeof value !== "number") return h("td", {}, value === null ? "—" : String(value));
  if (field.endsWith("count")) return countCell(value);
  if (field.endsWith("_bp")) return bpCell(value);
  return fenCell(value);
}

function comparison(period, c) {
  return [
    facts([["Filed at", c.filed.filed_at || "—"], ["Digest", h("code", { class: "wrap" }, c.filed.digest || "—")], ["Events counted now, not then", c.late_events.length ? c.late_events.join(", ") : "none"]]),
    c.changes.length
      ? table(`What changed in ${period} since it was filed`, ["Program", "Field", "As filed", "Now"], c.changes.map((x) => [x.program_id, x.field, figure(x.field, x.filed), figure(x.field, x.now)]))
      : notice("info", `Nothing in ${period} changed since the statement was filed.`),
  ];
}

async function filedStatements(id, periods, box) {
  // Which periods were filed is learnt by asking each for its filed statement (404: none).
  const found = [];
  for (const period of periods) {
    const c = await maybe(path`/v1/statements/${id}` + `?period=${period}&compare=filed`);
    if (c) found.push([period, c]);
  }
  if (!found.length) box.append(notice("info", `No statement of ${periods[0]} to ${periods[periods.length - 1]} was filed.`));
  for (const [period, c] of found) box.append(h("div", { "data-filed": period }, h("h3", {}, `Filed statement for ${period}, as filed against now`), comparison(period, c)));
  return found.map(([period]) => period);
}

async function compare(id, period, out) {
  try {
    const c = await get(path`/v1/statements/${id}` + `?period=${encodeURIComponent(period)}&compare=filed`);
    fill(out, comparison(period, c));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) fill(out, notice("info", `No statement for ${period} was filed (or statements are not served yet).`));
    else fill(out, explain(e));
  }
}

function statementTools(id, period) {
  const input = h("input", { id: "period", value: period, size: 8, pattern: "[0-9]{4}(-Q[1-4]|-[0-9]{2})?", "aria-describedby": "period-help" });
  const status = h("div", {});
  const out = h("div", {});
  const csv = h("button", { type: "button" }, "Download CSV");
  const cmp = h("button", { type: "button" }, "As filed against now");
  csv.addEventListener("click", () => download(id, input.value.trim(), status)());
  cmp.addEventListener("click", () => compare(id, input.value.trim(), out));
  return h("div", {},
    h("div", { class: "inline-form" }, h("label", { for: "period" }, "Period"), input, csv, cmp),
    h("p", { id: "period-help", class: "help" }, "A year (2025), a quarter (2025-Q2) or a month (2025-06), in business dates."),
    status, out);
}

/** One institution's page. */
export async function render(el, { institution_id }) {
  el.append(h("h1", {}, `Institution ${institution_id}`));
  const pos = await get(path`/v1/institutions/${institution_id}/position`);
  el.append(h("p", { class: "lede" }, `${pos.name || ""} (${pos.kind}). As the read models stood at log position ${pos.position}.`));
  const box = h("div", { "data-source": path`/v1/institutions/${institution_id}/position` });
  box.append(pos.programs.length ? positionTable(pos) : notice("info", "No guarantee involves this institution yet."));
  const limited = pos.programs.map((p, i) => [p, i]).filter(([p]) => p.limit);
  if (limited.length) {
    box.append(table(
      "Compensation-rate limit this year",
      ["Program", "Year", "Rate", "Discharged", "Warning at", "Suspended at", "Status"],
      limited.map(([p, i]) => [
        link(path`/console/programs/${p.program_id}`, p.program_id),
        String(p.limit.year),
        bpCell(p.limit.rate_bp, `programs.${i}.limit.rate_bp`),
        fenCell(p.limit.discharged, `programs.${i}.limit.discharged`),
        bpCell(p.limit.warning_bp, `programs.${i}.limit.warning_bp`),
        bpCell(p.limit.suspend_bp, `programs.${i}.limit.suspend_bp`),
        h("td", { class: `status ${p.limit.status}`, "data-field": `programs.${i}.limit.status`, "data-value": p.limit.status }, p.limit.status),
      ]),
    ));
  }
  el.append(section("Position", box));
  const rateBox = h("div", {});
  el.append(section("Compensation rate by quarter", rateBox));
  let served = false;
  try {
    served = await rates(institution_id, pos, rateBox);
  } catch (e) {
    rateBox.append(explain(e));
  }
  if (!served) {
    el.append(section("Statements", notice("info", "This ledger does not serve statements.")));
    return;
  }
  const filedBox = h("div", {});
  const periods = quarters();
  const years = [...new Set(periods.map((p) => p.slice(0, 4)))];
  let filed = [];
  try {
    filed = await filedStatements(institution_id, [...years, ...periods], filedBox);
  } catch (e) {
    filedBox.append(explain(e));
  }
  el.append(section("Statements", statementTools(institution_id, filed[0] || years[0]), filedBox));
}
