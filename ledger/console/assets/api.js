// The JSON API with the signed-in key. The key lives in sessionStorage only (gone when the
// tab closes) and travels only in the Authorization header: never in a URL, a cookie, a
// log line or localStorage.

const KEY = "ledger.console.key";

/** The signed-in key, or null. */
export function currentKey() {
  return sessionStorage.getItem(KEY);
}

/** Remember the key for this tab. */
export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

/** Forget the key. */
export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** An answer that was not 2xx: status, problem document (if any) and what to tell people. */
export class ApiError extends Error {
  constructor(status, problem, path) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.path = path;
  }
}

/** Called on a 401: the key is unknown or revoked (set by the app). */
export const hooks = { unauthorized: () => {} };

/**
 * GET `path` with the key: resolves to the parsed JSON (or text for text answers), or
 * rejects with ApiError. `accept` picks a representation (CSV for statements); a `probe`
 * (the sign-in's own check of a key) does not sign out on 401.
 */
export async function get(path, { accept = "application/json", signal, raw = false, probe = false } = {}) {
  const key = currentKey();
  const headers = { Accept: accept };
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { headers, signal, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok) {
    let problem = null;
    if (type.includes("json")) problem = await response.json().catch(() => null);
    if (response.status === 401 && !probe) hooks.unauthorized(problem);
    throw new ApiError(response.status, problem, path);
  }
  if (raw) return response;
  return type.includes("json") ? exactJson(await response.text()) : response.text();
}

/**
 * JSON with every integer kept exact: one past 2^53 (fen beyond 90 trillion yuan) becomes a
 * BigInt read from its own digits, where JSON.parse alone would round it to a float.
 */
export function exactJson(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value,
  );
}

/** GET that answers null on 404 (a route or record that is not there). */
export async function maybe(path, options) {
  try {
    return await get(path, options);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** A path with an id put in safely. */
export function path(strings, ...ids) {
  return strings.reduce((out, s, i) => out + s + (i < ids.length ? encodeURIComponent(ids[i]) : ""), "");
}
