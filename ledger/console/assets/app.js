// The console's shell: sign-in, navigation by path (history API), the trust badge and the
// fork alarm. Pages live in pages/*.js, each `render(main, params)` over the JSON API.

import { ApiError, currentKey, get, hooks, signIn, signOut } from "./api.js";
import { fill, h, notice } from "./dom.js";
import * as trust from "./trust.js";

const PAGES = [
  [/^\/(?:console\/?)?$/, "programs", []],
  [/^\/console\/programs\/?$/, "programs", []],
  [/^\/console\/programs\/([^/]+)$/, "programs", ["program_id"]],
  [/^\/console\/smes\/?$/, "smes", []],
  [/^\/console\/smes\/([^/]+)$/, "sme", ["sme_id"]],
  [/^\/console\/guarantees\/([^/]+)$/, "guarantee", ["guarantee_id"]],
  [/^\/console\/claims\/([^/]+)$/, "claim", ["claim_id"]],
  [/^\/console\/institutions\/?$/, "institutions", []],
  [/^\/console\/institutions\/([^/]+)$/, "institution", ["institution_id"]],
  [/^\/console\/events\/([^/]+)$/, "event", ["event_id"]],
  [/^\/console\/audit\/?$/, "audit", []],
  [/^\/console\/feed\/?$/, "feed", []],
];

const main = document.getElementById("main");
let leave = null;
let generation = 0;

function route(pathname) {
  for (const [pattern, page, names] of PAGES) {
    const m = pattern.exec(pathname);
    if (m) {
      const params = {};
      try {
        names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      } catch (e) {
        if (e instanceof URIError) return null; // a %-escape that decodes to nothing: no page
        throw e;
      }
      return { page, params };
    }
  }
  return null;
}

/** Go to a console path without reloading (links carry data-nav). */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  moved = true;
  show();
}

function signInForm(message) {
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "key-help" });
  const error = h("div", { id: "sign-in-error" });
  const form = h(
    "form",
    { class: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("p", { id: "key-help", class: "help" },
      "Your key stays in this tab only (session storage) and is sent to this ledger as the Authorization header, never in an address, a cookie or a log. ",
      "Make one with ", h("code", {}, "ledger keys create --role reader"), "."),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  if (message) error.append(notice("error", message));
  // The input has no name: even a form submitted without this script sends no key.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    if (!/^[\x21-\x7e]+$/.test(key)) {
      // A browser sends no header holding other characters: the ledger would never be asked.
      fill(error, notice("error", "An API key is letters, digits and _ only (it starts with lk_); check what was pasted."));
      return;
    }
    signIn(key);
    input.value = "";
    try {
      await get("/v1/programs", { probe: true });
    } catch (e) {
      signOut();
      const why = e instanceof ApiError && e.status === 401 ? "The ledger does not know this key (or it was revoked)." : `The ledger did not answer: ${e.message}`;
      fill(error, notice("error", why));
      return;
    }
    show();
  });
  return form;
}

function chrome(signedIn) {
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("session").hidden = !signedIn;
}

function badge(s) {
  const el = document.getElementById("trust");
  if (s.alarm) {
    el.className = "trust alarm-badge";
    el.textContent = "Log alarm";
  } else if (s.available === "unavailable") {
    el.className = "trust";
    el.textContent = "Log proofs not served";
  } else if (s.last) {
    el.className = "trust ok";
    el.textContent = `Log verified to size ${s.last.size}`;
  } else {
    el.className = "trust";
    el.textContent = "";
  }
  const alarm = document.getElementById("alarm");
  alarm.hidden = !s.alarm;
  if (s.alarm) fill(alarm, h("strong", {}, "Verification alarm. "), s.alarm.message, " ", h("a", { href: "/console/audit", "data-nav": "" }, "See the audit page."));
}

let moved = false;

async function show() {
  const mine = ++generation;
  if (leave) {
    leave();
    leave = null;
  }
  const key = currentKey();
  chrome(Boolean(key));
  if (!key) {
    fill(main, signInForm());
    document.title = "Sign in · Guarantee ledger";
    return;
  }
  const found = route(location.pathname);
  if (!found) {
    fill(main, h("h1", {}, "No such page"), notice("error", "The console has no page at this address."));
    return;
  }
  for (const a of document.querySelectorAll("#nav a")) {
    const here = location.pathname.startsWith(a.getAttribute("href")) || (found.page === "programs" && a.getAttribute("href") === "/console/programs");
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  fill(main, h("p", { class: "loading", role: "status" }, "Loading…"));
  try {
    const module = await import(`./pages/${found.page}.js`);
    if (mine !== generation) return;
    const body = h("div", { class: "page", "data-page": found.page });
    const cleanup = await module.render(body, found.params);
    if (mine !== generation) {
      if (typeof cleanup === "function") cleanup();
      return;
    }
    leave = typeof cleanup === "function" ? cleanup : null;
    fill(main, body);
    // After a navigation, screen readers start at the new page, not at the link followed.
    if (moved) main.focus({ preventScroll: true });
    const title = body.querySelector("h1");
    document.title = `${title ? title.textContent : "Console"} · Guarantee ledger`;
  } catch (e) {
    if (mine !== generation) return;
    fill(main, h("h1", {}, "This page could not be shown"), explain(e));
  }
  trust.checkLatest().catch(() => {});
}

/** What to tell people about a failed API call. */
export function explain(e) {
  if (e instanceof ApiError) {
    if (e.status === 403) return notice("warn", "Your key may not read this. ", e.message);
    if (e.status === 404) return notice("warn", "Not found: ", e.message);
    if (e.status === 503) return notice("error", "The ledger is busy or its database is unreachable; try again shortly. ", e.message);
    return notice("error", `The ledger answered ${e.status}: `, e.message);
  }
  return notice("error", "Something went wrong: ", String(e && e.message ? e.message : e));
}

hooks.unauthorized = () => {
  // The page being drawn is abandoned: its own error must not cover the sign-in form.
  generation += 1;
  if (leave) {
    leave();
    leave = null;
  }
  signOut();
  chrome(false);
  fill(main, signInForm("The ledger no longer accepts this key; sign in again."));
};

document.addEventListener("click", (event) => {
  const a = event.target.closest && event.target.closest("a[data-nav]");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute("href"));
});

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  navigate("/console/programs");
});

window.addEventListener("popstate", show);
trust.onChange(badge);
badge(trust.state());
show();
