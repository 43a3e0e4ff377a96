// Audit: the log's head and chain check, the latest signed checkpoint with its witnesses,
// and what this browser has pinned and verified.

import { ApiError, get } from "../api.js";
import { facts, fill, h, notice, section, table } from "../dom.js";
import { explain } from "../app.js";
import { countCell } from "../format.js";
import * as trust from "../trust.js";

function trustFacts(s) {
  return facts([
    ["Pinned log key", s.pinned ? h("code", { class: "wrap" }, s.pinned.key) : "none yet"],
    ["Pinned on", s.pinned ? s.pinned.at : "—"],
    ["Last verified checkpoint", s.last ? h("span", { "data-verified-size": s.last.size }, `tree size ${s.last.size}, root ${s.last.root}`) : "none yet"],
    ["Verified on", s.last ? s.last.at : "—"],
  ]);
}

async function checkpoint(box, mine) {
  const result = await trust.checkLatest({ force: true });
  if (result.ok === null) {
    fill(box, notice("info", result.none ? "The log has no signed checkpoint yet." : "This ledger does not serve signed checkpoints, so nothing can be verified in the browser."));
    return;
  }
  if (!result.ok) {
    fill(box, notice("error", result.alarm.message));
    return;
  }
  const cp = result.checkpoint;
  fill(box,
    notice("info", result.proved && result.proved.from !== result.proved.to
      ? `Signature verified with the pinned key, and proved consistent with tree size ${result.proved.from}.`
      : "Signature verified with the pinned key."),
    facts([
      ["Origin", cp.origin],
      ["Tree size", countCell(cp.size).textContent],
      ["Root hash", h("code", { class: "wrap" }, cp.rootB64)],
    ]),
    ...(cp.cosignatures.length
      ? [
        table("Cosignatures served with this checkpoint, not checked here", ["Witness (as named)", "Key id", "Cosigned at"],
          cp.cosignatures.map((c) => [c.name, c.id, c.time === null ? "—" : new Date(c.time * 1000).toISOString()])),
        notice("info", "This browser pins no witness key, so these lines are what the ledger serves, not cosignatures it checked: check them with the witnesses' keys (`ledger audit check-proof --witness-key`, or the client's `min_witnesses`)."),
      ]
      : [notice("info", "No witness cosignature is served with this checkpoint.")]),
    h("pre", { class: "note" }, cp.note),
  );
  fill(mine, trustFacts(trust.state()));
}

async function verify(box) {
  fill(box, h("p", { role: "status" }, "Recomputing the hash chain…"));
  try {
    const v = await get("/v1/audit/verify");
    fill(box, h("div", { "data-source": "/v1/audit/verify" },
      notice(v.ok ? "info" : "error", v.ok ? "The hash chain verifies from the first event to the head." : `The chain breaks at position ${v.first_bad_position}.`),
      facts([
        ["Verified through position", h("span", { class: "num", "data-field": "verified_through", "data-value": v.verified_through }, String(v.verified_through))],
        ["Head hash", h("code", { class: "wrap" }, v.head_hash || "—")],
        ["First bad position", v.first_bad_position === null ? "none" : String(v.first_bad_position)],
      ])));
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) fill(box, notice("info", "Recomputing the chain needs an auditor's or admin's key."));
    else fill(box, explain(e));
  }
}

/** The audit page. */
export async function render(el) {
  el.append(h("h1", {}, "Audit"));
  const cpBox = h("div", {}, h("p", { role: "status" }, "Fetching the latest checkpoint…"));
  const mine = h("div", {}, trustFacts(trust.state()));
  const chain = h("div", {});
  const again = h("button", { type: "button" }, "Verify the chain");
  again.addEventListener("click", () => verify(chain));
  const forget = h("button", { type: "button", class: "danger" }, "Forget the pinned key and verified checkpoint");
  forget.addEventListener("click", () => {
    trust.forget();
    fill(mine, trustFacts(trust.state()));
  });
  el.append(
    section("Latest signed checkpoint", cpBox),
    section("What this browser trusts", h("p", { class: "help" }, "The console pins the log key it first saw and keeps the last checkpoint it verified, in this browser's local storage; each new checkpoint must be signed by that key and provably consistent with it."), mine, forget),
    section("Log head and hash chain", again, chain),
  );
  await Promise.all([checkpoint(cpBox, mine), verify(chain)]);
}
