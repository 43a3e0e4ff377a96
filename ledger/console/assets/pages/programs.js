// Programs: terms, totals, what each role bore and recovered, and how much of each capped
// role's compensation cap is used.

import { get, path } from "../api.js";
import { facts, h, link, notice, section, table } from "../dom.js";
import { ROLES, ROLE_NAMES, bpCell, countCell, fenCell, fenText, percent } from "../format.js";
import { againstLimit, perRole } from "../plots.js";

const COUNTS = [
  ["guarantees_issued", "Guarantees issued"],
  ["active_guarantees", "Active guarantees"],
  ["claims_filed", "Claims filed"],
  ["claims_approved", "Claims approved"],
  ["claims_rejected", "Claims rejected"],
  ["compensations_paid", "Compensations paid"],
];
const AMOUNTS = [
  ["guaranteed_volume", "Guaranteed volume"],
  ["in_force_balance", "In-force balance"],
  ["compensated_amount", "Compensated"],
  ["recovered_amount", "Recovered"],
];

function terms(p) {
  const t = p.terms;
  const parties = Object.entries(t.parties || {});
  return [
    facts([
      ["Per-SME cap", fenText(t.per_sme_cap, "terms.per_sme_cap")],
      ["Loan amount", [fenText(t.loan_amount_min, "terms.loan_amount_min"), " to ", fenText(t.loan_amount_max, "terms.loan_amount_max")]],
      ["Longest term", `${t.max_term_months} months`],
      ["Highest fee rate", percent(t.fee_rate_bp_max)],
      ["Eligible categories", t.eligible_categories.length ? t.eligible_categories.join(", ") : "any SME"],
      ["Program-wide parties", parties.length ? parties.map(([role, id], i) => [i ? ", " : "", `${ROLE_NAMES[role] || role}: `, link(path`/console/institutions/${id}`, id)]) : "none"],
      ["Terms version", String(p.version)],
    ]),
    table(
      "Loss shares fixed at issue, and compensation caps",
      ["Role", "Share", "Cap (rate on volume)"],
      ROLES.map((r) => [
        byCategory(t).length && CATEGORY_ROLES.has(r) ? `${ROLE_NAMES[r]} (an SME of no category below)` : ROLE_NAMES[r],
        bpCell(t.shares_bp[r] ?? (r === "guarantor" ? guarantorShare(t.shares_bp) : 0)),
        t.compensation_caps_bp[r] !== undefined ? bpCell(t.compensation_caps_bp[r], `terms.compensation_caps_bp.${r}`) : "no cap",
      ]),
    ),
    byCategory(t).length
      ? table(
          "National fund's and guarantor's shares by the SME's category (its highest on the start date)",
          ["SME category", "National fund", "Guarantor"],
          byCategory(t).map(([category, bp]) => [
            category,
            bpCell(bp, `terms.national_fund_bp_by_category.${category}`),
            bpCell(guarantorShare(t.shares_bp) + (t.shares_bp.national_fund || 0) - bp),
          ]),
          { "data-table": "shares-by-category" },
        )
      : null,
  ];
}

// Where the program sets the national fund's share by SME category, the guarantor takes
// what that leaves (docs/rules.md): both differ from the program-wide shares.
const CATEGORY_ROLES = new Set(["national_fund", "guarantor"]);

function byCategory(t) {
  return Object.entries(t.national_fund_bp_by_category || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function guarantorShare(shares) {
  return 10000 - ["bank", "reguarantor", "national_fund", "compensation_pool"].reduce((n, r) => n + (shares[r] || 0), 0);
}

function totals(p) {
  const t = p.totals;
  return table(
    "Totals",
    ["Figure", "Value"],
    [...COUNTS.map(([k, name]) => [name, countCell(t[k], `totals.${k}`)]), ...AMOUNTS.map(([k, name]) => [name, fenCell(t[k], `totals.${k}`)])],
  );
}

function losses(p) {
  const t = p.totals;
  const label = `Loss per role in ${p.program_id}: borne, recovered and net`;
  return perRole(
    "loss-split",
    label,
    ROLES,
    ROLE_NAMES,
    [
      { name: "Borne", cls: "borne", values: t.borne },
      { name: "Recovered", cls: "recovered", values: t.recovered },
      { name: "Net loss", cls: "net", values: t.net_loss },
    ],
    ["Role", "Borne", "Recovered", "Net loss"],
    ROLES.map((r) => [ROLE_NAMES[r], fenCell(t.borne[r], `totals.borne.${r}`), fenCell(t.recovered[r], `totals.recovered.${r}`), fenCell(t.net_loss[r], `totals.net_loss.${r}`)]),
  );
}

function caps(p) {
  const entries = Object.entries(p.totals.caps);
  if (!entries.length) return notice("info", "No role's compensation is capped in this program.");
  return againstLimit(
    "cap-use",
    `Compensation cap used per capped role in ${p.program_id}`,
    entries.map(([role, c]) => ({ label: ROLE_NAMES[role] || role, value: c.used, limit: c.cap })),
    ["Role", "Rate", "Volume", "Cap", "Used"],
    entries.map(([role, c]) => [ROLE_NAMES[role] || role, bpCell(c.rate_bp, `totals.caps.${role}.rate_bp`), fenCell(c.volume, `totals.caps.${role}.volume`), fenCell(c.cap, `totals.caps.${role}.cap`), fenCell(c.used, `totals.caps.${role}.used`)]),
  );
}

/** The programs page (all programs, or one). */
export async function render(el, { program_id }) {
  const body = await get("/v1/programs");
  const shown = program_id ? body.programs.filter((p) => p.program_id === program_id) : body.programs;
  el.append(h("h1", {}, program_id ? `Program ${program_id}` : "Programs"));
  el.append(h("p", { class: "lede" }, `As the read models stood at log position ${body.position}. Amounts in yuan (¥), shares and rates in percent.`));
  if (!shown.length) el.append(notice("warn", program_id ? `No program ${program_id}.` : "No program is registered yet. Load the demo with `ledger demo`."));
  for (const p of shown) {
    el.append(
      h("article", { class: "card", id: `program-${p.program_id}`, "data-source": path`/v1/programs/${p.program_id}` },
        h("h2", {}, link(path`/console/programs/${p.program_id}`, p.name), " ", h("span", { class: "muted" }, p.program_id)),
        h("div", { class: "columns" }, h("div", {}, terms(p)), h("div", {}, totals(p))),
        section(`What each role bore in ${p.program_id}`, losses(p)),
        section(`Cap use in ${p.program_id}`, caps(p)),
      ),
    );
  }
}
