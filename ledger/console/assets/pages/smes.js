// SMEs: find one by its credit code, or page through them.

import { ApiError, get, path } from "../api.js";
import { h, link, notice, table } from "../dom.js";
import { explain, navigate } from "../app.js";

/** The SME list, with a search by unified social credit code. */
export async function render(el) {
  el.append(h("h1", {}, "SMEs"));
  el.append(h("p", { class: "lede" }, "Find an SME, a guarantee or a claim by its id."));
  const input = h("input", { id: "sme-search", type: "search", maxlength: 18, autocomplete: "off", spellcheck: "false", pattern: "[0-9A-Z]{18}" });
  const form = h("form", { class: "inline-form", role: "search" },
    h("label", { for: "sme-search" }, "Unified social credit code"), input, h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) navigate(path`/console/smes/${input.value.trim().toUpperCase()}`);
  });
  el.append(form);
  for (const [kind, label, base] of [["guarantee", "Guarantee id", "/console/guarantees/"], ["claim", "Claim id", "/console/claims/"]]) {
    const box = h("input", { id: `${kind}-search`, type: "search", maxlength: 64, autocomplete: "off", spellcheck: "false" });
    const find = h("form", { class: "inline-form", role: "search" }, h("label", { for: `${kind}-search` }, label), box, h("button", { type: "submit" }, "Show"));
    find.addEventListener("submit", (event) => {
      event.preventDefault();
      if (box.value.trim()) navigate(base + encodeURIComponent(box.value.trim()));
    });
    el.append(find);
  }
  const list = h("div", {});
  el.append(list);
  let after = "";
  const more = h("button", { type: "button", class: "more" }, "More SMEs");
  async function page() {
    const body = await get(`/v1/smes?limit=50${after ? "&after=" + encodeURIComponent(after) : ""}`);
    if (!body.smes.length && !after) list.append(notice("info", "No SME is registered yet."));
    if (body.smes.length) list.append(table("Registered SMEs", ["Credit code", "Name"], body.smes.map((s) => [link(path`/console/smes/${s.sme_id}`, s.sme_id), s.name])));
    after = body.next_after;
    more.hidden = !after;
  }
  more.addEventListener("click", async () => {
    try {
      await page();
    } catch (e) {
      // A revoked key is taken back to the sign-in form by the api module's hook.
      if (!(e instanceof ApiError && e.status === 401)) list.append(explain(e));
    }
  });
  await page();
  el.append(more);
}
