// A claim: amounts, and per role who bore what, what was recovered, and the net loss.

import { get, path } from "../api.js";
import { facts, h, link, section } from "../dom.js";
import { ROLES, ROLE_NAMES, fenCell, fenText } from "../format.js";
import { perRole } from "../plots.js";

/** One claim's page. */
export async function render(el, { claim_id }) {
  const c = await get(path`/v1/claims/${claim_id}`);
  el.append(h("h1", {}, `Claim ${c.claim_id}`));
  el.append(h("p", { class: "lede" }, `As the read models stood at log position ${c.position}.`));
  const s = c.shares;
  const box = h("div", { "data-source": path`/v1/claims/${claim_id}` },
    facts([
      ["Guarantee", link(path`/console/guarantees/${c.guarantee_id}`, c.guarantee_id)],
      ["Status", h("span", { class: `status ${c.status}`, "data-field": "status", "data-value": c.status }, c.status)],
      ["Filed amount", fenText(c.amount, "amount")],
      ["Approved amount", fenText(c.approved_amount, "approved_amount")],
      ["Recovered", fenText(c.recovered, "recovered")],
    ]),
    section("Loss split per role",
      perRole(
        "loss-split",
        `Loss of claim ${c.claim_id} per role: borne, recovered and net`,
        ROLES,
        ROLE_NAMES,
        [
          { name: "Borne", cls: "borne", values: Object.fromEntries(ROLES.map((r) => [r, s[r].borne])) },
          { name: "Recovered", cls: "recovered", values: Object.fromEntries(ROLES.map((r) => [r, s[r].recovered])) },
          { name: "Net loss", cls: "net", values: Object.fromEntries(ROLES.map((r) => [r, s[r].net])) },
        ],
        ["Role", "Institution", "Borne", "Recovered", "Net"],
        ROLES.map((r) => [
          ROLE_NAMES[r],
          s[r].institution_id ? link(path`/console/institutions/${s[r].institution_id}`, s[r].institution_id) : "—",
          fenCell(s[r].borne, `shares.${r}.borne`),
          fenCell(s[r].recovered, `shares.${r}.recovered`),
          fenCell(s[r].net, `shares.${r}.net`),
        ]),
      ),
    ),
  );
  el.append(box);
}
