// An SME: its exposure against the per-SME cap in each program, and its guarantees.

import { get, path } from "../api.js";
import { fill, h, link, notice, section } from "../dom.js";
import { explain } from "../app.js";
import { countCell, fenCell } from "../format.js";
import { againstLimit } from "../plots.js";

/** One SME's page. */
export async function render(el, { sme_id }) {
  el.append(h("h1", {}, `SME ${sme_id}`));
  const exposure = await get(path`/v1/smes/${sme_id}/exposure`);
  const box = h("div", { "data-source": path`/v1/smes/${sme_id}/exposure` });
  el.append(h("p", { class: "lede" }, `Exposure as the read models stood at log position ${exposure.position}.`));
  if (!exposure.programs.length) box.append(notice("info", "This SME has no guarantee in any program yet."));
  else {
    box.append(
      againstLimit(
        "exposure",
        `In-force balance of ${sme_id} against each program's per-SME cap`,
        exposure.programs.map((p) => ({ label: p.program_id, value: p.balance, limit: p.cap })),
        ["Program", "Balance", "Cap", "Headroom", "Active guarantees"],
        exposure.programs.map((p, i) => [
          link(path`/console/programs/${p.program_id}`, p.program_id),
          fenCell(p.balance, `programs.${i}.balance`),
          fenCell(p.cap, `programs.${i}.cap`),
          fenCell(p.headroom, `programs.${i}.headroom`),
          countCell(p.active_guarantees, `programs.${i}.active_guarantees`),
        ]),
      ),
    );
  }
  el.append(section("Exposure against the cap", box));
  const list = h("div", {});
  el.append(section("Guarantees", list));
  await guarantees(list, sme_id);
}

const PAGE = 200;

/**
 * The SME's guarantees the key may read, a page at a time. The API pages through all of
 * them and leaves out those the key may not read, so a page may hold none of its own:
 * pages are read on until one has something to show or the list ends.
 */
async function guarantees(list, sme_id) {
  const rows = h("tbody", {});
  const more = h("button", { type: "button", class: "more" }, "More guarantees");
  let after = "";
  let shown = 0;
  async function next() {
    more.disabled = true;
    try {
      let found = [];
      do {
        const body = await get(path`/v1/smes/${sme_id}/guarantees` + `?limit=${PAGE}${after ? "&after=" + encodeURIComponent(after) : ""}`);
        found = body.guarantees;
        after = body.next_after;
      } while (!found.length && after);
      for (const g of found) rows.append(row(g));
      shown += found.length;
      if (!shown) fill(list, notice("info", "No guarantee of this SME that your key may read."));
      more.hidden = !after;
    } catch (e) {
      list.append(explain(e));
      more.hidden = true;
    }
    more.disabled = false;
  }
  more.addEventListener("click", () => next());
  const heads = ["Guarantee", "Program", "Status", "Loan", "Balance", "Start", "Maturity"];
  list.append(
    h("div", { class: "table-wrap" },
      h("table", { "data-table": "guarantees" },
        h("caption", {}, `Guarantees of ${sme_id} (those your key may read)`),
        h("thead", {}, h("tr", {}, heads.map((t, i) => h("th", { scope: "col", class: i === 3 || i === 4 ? "num-head" : null }, t)))),
        rows)),
    more,
  );
  await next();
}

function row(g) {
  return h("tr", {},
    h("th", { scope: "row" }, link(path`/console/guarantees/${g.guarantee_id}`, g.guarantee_id)),
    h("td", {}, link(path`/console/programs/${g.program_id}`, g.program_id)),
    h("td", {}, h("span", { class: `status ${g.status}` }, g.status)),
    fenCell(g.loan_amount),
    fenCell(g.balance),
    h("td", {}, g.start_date),
    h("td", {}, g.maturity_date),
  );
}
