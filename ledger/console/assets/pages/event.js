// An event with its proof: the ledger's tlog proof is checked here, in the browser: the
// checkpoint's signature with the pinned key, and the event's exact stored bytes as a leaf
// of that checkpoint's tree (RFC 9162 inclusion proof).

import { ApiError } from "../api.js";
import { facts, h, link, notice, section } from "../dom.js";
import { explain } from "../app.js";
import { businessDate } from "../format.js";
import * as trust from "../trust.js";
import { toBase64 } from "../verify.js";

function eventFacts(e, position) {
  const [kind, ...rest] = (e.stream_id || "").split("-");
  const id = rest.join("-");
  const pages = { guarantee: "guarantees", sme: "smes", institution: "institutions", program: "programs" };
  return facts([
    ["Event id", h("code", {}, e.event_id)],
    ["Type", e.type],
    ["Position", String(position)],
    ["Stream", pages[kind] ? link(`/console/${pages[kind]}/${encodeURIComponent(id)}`, e.stream_id) : e.stream_id],
    ["Stream version", String(e.stream_version)],
    ["Business date", businessDate(e.occurred_at)],
    ["Occurred at", e.occurred_at],
    ["Recorded at", e.recorded_at],
    ["Posted by", e.actor ? `${e.actor.role}${e.actor.institution_id ? " " + e.actor.institution_id : ""}` : "—"],
  ]);
}

/** One event's page. */
export async function render(el, { event_id }) {
  el.append(h("h1", {}, "Event and its proof"));
  let result;
  try {
    result = await trust.checkEvent(event_id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      el.append(notice("info", "No signed checkpoint covers this event yet; reload in a second."));
      return;
    }
    if (e instanceof ApiError && e.status === 404) {
      el.append(notice("info", "No proof is served for this event: either the event is unknown or this ledger does not serve proofs."));
      return;
    }
    el.append(explain(e));
    return;
  }
  if (result.ok === null) {
    el.append(notice("info", "This ledger does not serve proofs, so the event cannot be verified in the browser."));
    return;
  }
  if (!result.proof) {
    el.append(h("div", { "data-proof": "failed" }, notice("error", `The proof of event ${event_id} does not verify: ${result.error}`)));
    return;
  }
  const p = result.proof;
  const position = p.index + 1;
  if (!result.ok) {
    // Not shown: bytes under a checkpoint that raised the alarm are no more the event's
    // than any others the ledger might serve.
    el.append(h("div", { "data-proof": "failed" },
      notice("error", "The proof leads to a checkpoint that raised an alarm (see the banner above), so the event it carries is not shown."),
    ));
    return;
  }
  el.append(h("div", { "data-proof": "verified" },
    notice("info", `Verified in this browser: the event's exact stored bytes are leaf ${p.index} (position ${position}) of the log's tree of size ${p.checkpoint.size}, whose checkpoint is signed by the pinned log key.`),
  ));
  el.append(section("The event", eventFacts(p.event, position), h("pre", { class: "json" }, JSON.stringify(p.event.data, null, 2))));
  el.append(section("The proof",
    facts([
      ["Leaf hash", h("code", { class: "wrap" }, result.leaf)],
      ["Tree size", String(p.checkpoint.size)],
      ["Root hash", h("code", { class: "wrap" }, p.checkpoint.rootB64)],
      ["Inclusion hashes", String(p.hashes.length)],
    ]),
    h("ol", { class: "hashes" }, p.hashes.map((x) => h("li", {}, h("code", { class: "wrap" }, toBase64(x))))),
  ));
}
