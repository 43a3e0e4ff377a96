// A guarantee: status, parties, fixed shares, balance over business time, its claims, and
// its events with their log positions and links to each event's proof.

import { ApiError, get, path } from "../api.js";
import { facts, h, link, notice, section, table } from "../dom.js";
import { explain } from "../app.js";
import { ROLES, ROLE_NAMES, bpCell, businessDate, countCell, fenCell, fenText, percent } from "../format.js";
import { overTime } from "../plots.js";

function party(id) {
  return id ? link(path`/console/institutions/${id}`, id) : "—";
}

function summary(g) {
  return facts([
    ["Status", h("span", { class: `status ${g.status}`, "data-field": "status", "data-value": g.status }, g.status)],
    ["Program", link(path`/console/programs/${g.program_id}`, g.program_id)],
    ["SME", link(path`/console/smes/${g.sme_id}`, g.sme_id)],
    ["Loan amount", fenText(g.loan_amount, "loan_amount")],
    ["In-force balance", fenText(g.balance, "balance")],
    ["Fee rate", percent(g.fee_rate_bp)],
    ["Term", `${g.start_date} to ${g.maturity_date}`],
    ["Bank", party(g.bank_id)],
    ["Guarantor", party(g.guarantor_id)],
    ["Re-guarantor", party(g.reguarantor_id)],
    ["Eligibility used", g.category || "—"],
    ["Default date", g.default_date || "—"],
  ]);
}

function shares(g) {
  const parties = { bank: g.bank_id, guarantor: g.guarantor_id, reguarantor: g.reguarantor_id, ...(g.parties || {}) };
  return table(
    "Loss shares, fixed when the guarantee was issued",
    ["Role", "Institution", "Share"],
    ROLES.map((r) => [ROLE_NAMES[r], party(parties[r]), bpCell(g.shares_bp[r], `shares_bp.${r}`)]),
  );
}

function balancePlot(g) {
  const points = g.balance_history || [];
  if (!points.length) return notice("info", "No balance history is kept for this guarantee yet (rebuild the read models: ledger projections rebuild guarantees).");
  return overTime(
    "balance",
    `In-force balance of ${g.guarantee_id} over business time`,
    points.map((p) => ({ date: p.business_date, value: p.balance })),
    ["Business date", "Event", "Position", "Balance"],
    points.map((p, i) => [p.business_date, p.type, countCell(p.position, `balance_history.${i}.position`), fenCell(p.balance, `balance_history.${i}.balance`)]),
  );
}

function describe(e) {
  const d = e.data;
  const bits = [];
  for (const name of ["loan_amount", "amount", "approved_amount", "overdue_principal", "balance"]) {
    if (typeof d[name] === "number") bits.push(`${name.replace(/_/g, " ")} ${fenText(d[name]).textContent}`);
  }
  if (d.claim_id) bits.push(`claim ${d.claim_id}`);
  if (d.maturity_date && e.type === "guarantee.renewed") bits.push(`to ${d.maturity_date}`);
  if (d.reason) bits.push(d.reason);
  return bits.join(", ");
}

async function events(g, box) {
  try {
    const stream = await get(path`/v1/streams/guarantee-${g.guarantee_id}`);
    box.append(table(
      `Events of guarantee ${g.guarantee_id}, in stream order`,
      ["Version", "Position", "Business date", "Type", "What", "Proof"],
      stream.events.map((e) => [
        String(e.stream_version),
        countCell(e.position),
        businessDate(e.occurred_at),
        e.type,
        describe(e),
        link(path`/console/events/${e.event_id}`, `proof of ${e.position}`),
      ]),
      { "data-table": "events" },
    ));
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      box.append(notice("info", "The events themselves need an auditor's or admin's key, or the key of a party to this guarantee. The balance history above comes from the read model."));
    } else box.append(explain(e));
  }
}

/** One guarantee's page. */
export async function render(el, { guarantee_id }) {
  const g = await get(path`/v1/guarantees/${guarantee_id}`);
  el.append(h("h1", {}, `Guarantee ${g.guarantee_id}`));
  el.append(h("p", { class: "lede" }, `As the read models stood at log position ${g.position} (stream version ${g.version}).`));
  const source = h("div", { "data-source": path`/v1/guarantees/${guarantee_id}` },
    h("div", { class: "columns" }, h("div", {}, summary(g)), h("div", {}, shares(g))),
    section("Balance over business time", balancePlot(g)),
  );
  el.append(source);
  el.append(section("Claims", g.claims.length
    ? h("ul", { class: "links" }, g.claims.map((c) => h("li", {}, link(path`/console/claims/${c}`, `Claim ${c}`), c === g.open_claim ? " (open)" : "")))
    : notice("info", "No claim was filed on this guarantee.")));
  const box = h("div", {});
  el.append(section("Events and proofs", box));
  await events(g, box);
}
