// An SME: its exposure against the per-SME cap in each program, and its guarantees.

import { get, path } from "../api.js";
import { h, link, notice, section, table } from "../dom.js";
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
  try {
    const body = await get(path`/v1/smes/${sme_id}/guarantees?limit=1000`);
    if (!body.guarantees.length) list.append(notice("info", "No guarantee of this SME that your key may read."));
    else {
      list.append(table(
        `Guarantees of ${sme_id} (those your key may read)`,
        ["Guarantee", "Program", "Status", "Loan", "Balance", "Start", "Maturity"],
        body.guarantees.map((g) => [
          link(path`/console/guarantees/${g.guarantee_id}`, g.guarantee_id),
          link(path`/console/programs/${g.program_id}`, g.program_id),
          h("span", { class: `status ${g.status}` }, g.status),
          fenCell(g.loan_amount),
          fenCell(g.balance),
          g.start_date,
          g.maturity_date,
        ]),
      ));
    }
  } catch (e) {
    list.append(explain(e));
  }
}
