// The live feed: events as they are sealed, newest first. It reads the server-sent event
// stream where the ledger serves it, through fetch so the key stays in the
// Authorization header (EventSource cannot send one), and long-polls GET /v1/events where
// it does not.

import { ApiError, currentKey, get, path } from "../api.js";
import { h, link, notice } from "../dom.js";
import { explain } from "../app.js";
import { businessDate } from "../format.js";

const KEEP = 200;
const PAGES = { guarantee: "guarantees", sme: "smes", institution: "institutions", program: "programs" };

function row(e) {
  const [kind, ...rest] = e.stream_id.split("-");
  const id = rest.join("-");
  const where = PAGES[kind] ? link(`/console/${PAGES[kind]}/${encodeURIComponent(id)}`, e.stream_id) : e.stream_id;
  return h("tr", { "data-position": e.position },
    h("th", { scope: "row" }, String(e.position)),
    h("td", {}, businessDate(e.occurred_at)),
    h("td", {}, e.type),
    h("td", {}, where),
    h("td", {}, link(path`/console/events/${e.event_id}`, "proof")));
}

async function startAfter() {
  // The read models' position is near the head and cheap to read; start a little before.
  const body = await get("/v1/programs");
  return Math.max(0, body.position - 20);
}

async function* sse(after, signal, opened) {
  const response = await fetch(`/v1/events/stream?after=${after}`, {
    headers: { Authorization: `Bearer ${currentKey()}`, Accept: "text/event-stream" },
    signal, credentials: "omit", cache: "no-store",
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null), "/v1/events/stream");
  opened();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "ended";
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

/** The live feed page; returns the function that stops it. */
export async function render(el) {
  el.append(h("h1", {}, "Live feed"));
  const status = h("p", { class: "lede", role: "status", "aria-live": "polite" }, "Connecting…");
  const body = h("tbody", {});
  const tbl = h("div", { class: "table-wrap" }, h("table", { "data-table": "feed" },
    h("caption", {}, "Events as they are sealed, newest first"),
    h("thead", {}, h("tr", {}, ["Position", "Business date", "Type", "Stream", "Proof"].map((x) => h("th", { scope: "col" }, x)))),
    body));
  el.append(status, tbl);
  const stop = new AbortController();
  let after;
  try {
    after = await startAfter();
    await get(`/v1/events?after=${after}&limit=1`);
  } catch (e) {
    el.replaceChildren(h("h1", {}, "Live feed"), e instanceof ApiError && e.status === 403
      ? notice("info", "The live feed shows every event, so it needs an auditor's or admin's key. ", e.message)
      : explain(e));
    return () => stop.abort();
  }
  const show = (e) => {
    after = Math.max(after, e.position);
    body.prepend(row(e));
    while (body.children.length > KEEP) body.lastChild.remove();
  };
  (async () => {
    try {
      let streamed = false;
      const opened = () => {
        streamed = true;
        status.textContent = "Following the log through its server-sent event stream.";
      };
      for await (const e of sse(after, stop.signal, opened)) show(e);
      if (!streamed) status.textContent = "Following the log by long polling (the ledger serves no event stream yet).";
      while (!stop.signal.aborted) {
        const page = await get(`/v1/events?after=${after}&limit=100&wait=20`, { signal: stop.signal });
        for (const e of page.events) show(e);
        status.textContent = `Following the log by long polling; last position ${after}.`;
      }
    } catch (e) {
      if (!stop.signal.aborted) status.replaceWith(explain(e));
    }
  })();
  return () => stop.abort();
}
