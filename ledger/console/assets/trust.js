// What this browser trusts about the log: the log key it saw first (pinned), and
// the last checkpoint it verified. Both are public, not secrets, and are kept in
// localStorage so that the pin and the verified size outlive the tab: a later visit proves
// the new checkpoint consistent with the one verified before. A failure raises an alarm
// that names both tree sizes and is never cleared by the next answer.

import { ApiError, get, maybe } from "./api.js";
import { VerifyError, parseVerifierKey, toBase64, verifyCheckpoint, verifyConsistency, verifyTlogProof } from "./verify.js";

const PIN = "ledger.console.log-key";
const LAST = "ledger.console.checkpoint";
const ALARM = "ledger.console.alarm";

const listeners = new Set();

/** Call `fn(state)` whenever the trust state changes. */
export function onChange(fn) {
  listeners.add(fn);
}

function changed() {
  for (const fn of listeners) fn(state());
}

function read(storage, name) {
  try {
    return JSON.parse(storage.getItem(name) || "null");
  } catch {
    return null;
  }
}

/** What is pinned, verified and alarmed now. */
export function state() {
  return { pinned: read(localStorage, PIN), last: read(localStorage, LAST), alarm: read(localStorage, ALARM), available: availability };
}

let availability = "unknown";

function raise(message, sizes) {
  const alarm = { message, sizes, at: new Date().toISOString() };
  localStorage.setItem(ALARM, JSON.stringify(alarm));
  changed();
  return { ok: false, alarm };
}

function lastSizes() {
  const last = read(localStorage, LAST);
  return last === null ? [] : [last.size];
}

/** Forget the pin, the verified checkpoint and any alarm (a deliberate act on the audit page). */
export function forget() {
  for (const name of [PIN, LAST, ALARM]) localStorage.removeItem(name);
  changed();
}

/** The pinned verifier; pins the server's key on first sight. Null when the log is not served. */
export async function pinnedVerifier() {
  const served = await maybe("/v1/log/key");
  if (served === null) {
    const pinned = read(localStorage, PIN);
    if (pinned !== null) {
      // Once pinned, a log that stops being served can no longer prove what it proved.
      raise(`The ledger no longer serves its log key, which this browser pinned on ${pinned.at}: it can no longer prove the log this browser verified.`, lastSizes());
      return null;
    }
    availability = "unavailable";
    changed();
    return null;
  }
  availability = "available";
  const text = String(served).trim();
  let pinned = read(localStorage, PIN);
  if (pinned === null) {
    try {
      await parseVerifierKey(text);
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      raise(`The ledger presents a log key that is not a valid Ed25519 verifier key (${e.message}); nothing was pinned.`, []);
      return null;
    }
    pinned = { key: text, at: new Date().toISOString() };
    localStorage.setItem(PIN, JSON.stringify(pinned));
  } else if (pinned.key !== text) {
    raise(`The ledger now presents log key ${text}, not the key ${pinned.key} this browser pinned on ${pinned.at}.`, []);
  }
  return parseVerifierKey(pinned.key);
}

/**
 * Accept a signed checkpoint: check its signature with the pinned key, then prove it
 * consistent with the last verified one (either way round), and keep the larger.
 */
export async function accept(note, verifier) {
  const last = read(localStorage, LAST);
  let cp;
  try {
    cp = await verifyCheckpoint(note, verifier);
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    const size = /\n(\d+)\n/.exec(note || "")?.[1] ?? "unknown";
    const sizes = last ? [Number(size), last.size] : [Number(size)];
    const than = last ? ` (the last verified checkpoint has tree size ${last.size})` : "";
    return raise(`The checkpoint at tree size ${size} does not verify with the pinned log key: ${e.message}${than}.`, sizes);
  }
  const mine = { size: cp.size, root: cp.rootB64, note, at: new Date().toISOString() };
  if (last === null) {
    localStorage.setItem(LAST, JSON.stringify(mine));
    changed();
    return { ok: true, checkpoint: cp, proved: null };
  }
  const [small, large] = cp.size <= last.size ? [mine, last] : [last, mine];
  try {
    let hashes = [];
    if (small.size !== large.size) {
      const proof = await get(`/v1/log/proof/consistency?from=${small.size}&to=${large.size}`);
      if (proof.from !== small.size || proof.to !== large.size) throw new VerifyError("the proof is for other sizes");
      hashes = proof.hashes;
    }
    await verifyConsistency(small.size, large.size, small.root, large.root, hashes);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) {
      // The ledger asks a standby that is behind no more (the primary answers), so this
      // is the log's own tree lacking a size it signed: it went back, or signed ahead.
      const what = cp.size < last.size ? "The log went back: it now serves" : "The log serves";
      return raise(
        `${what} a checkpoint at tree size ${cp.size}, and cannot prove it consistent with the checkpoint at tree size ${last.size} this browser verified before (it answered: ${e.message}).`,
        [cp.size, last.size],
      );
    }
    if (!(e instanceof VerifyError)) throw e;
    return raise(
      `Fork: the checkpoint at tree size ${cp.size} is not consistent with the checkpoint at tree size ${last.size} this browser verified before (${e.message}).`,
      [cp.size, last.size],
    );
  }
  if (cp.size > last.size) localStorage.setItem(LAST, JSON.stringify(mine));
  changed();
  return { ok: true, checkpoint: cp, proved: { from: small.size, to: large.size } };
}

let lastCheck = 0;

/**
 * Fetch the latest checkpoint and accept it (at most every `minInterval` ms unless
 * forced). Resolves to {ok, checkpoint, ...}, or {ok: null} when the log is not served.
 */
export async function checkLatest({ force = false, minInterval = 10000 } = {}) {
  const now = Date.now();
  if (!force && now - lastCheck < minInterval) return { ok: null, skipped: true };
  lastCheck = now;
  const verifier = await pinnedVerifier();
  if (verifier === null) return { ok: null };
  const note = await maybe("/v1/log/checkpoint");
  if (note === null) {
    const last = read(localStorage, LAST);
    if (last !== null) {
      return raise(`The ledger serves no signed checkpoint, but this browser verified one at tree size ${last.size} on ${last.at}.`, [last.size]);
    }
    return { ok: null, none: true };
  }
  return accept(String(note), verifier);
}

/** Fetch an event's tlog proof and verify it; its checkpoint is accepted as any other. */
export async function checkEvent(eventId) {
  const verifier = await pinnedVerifier();
  if (verifier === null) return { ok: null };
  const text = await get(`/v1/events/${encodeURIComponent(eventId)}/proof`, { accept: "text/plain" });
  let proof;
  try {
    proof = await verifyTlogProof(String(text), verifier);
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    return { ok: false, error: e.message };
  }
  // A proof that holds, but of another event, proves nothing about the one asked for.
  const proven = String(proof.event?.event_id ?? "");
  if (proven.toLowerCase() !== String(eventId).toLowerCase()) {
    return { ok: false, error: `the ledger served the proof of event ${proven || "(none)"}, not of ${eventId}` };
  }
  const accepted = await accept(proof.checkpoint.note, verifier);
  return { ok: accepted.ok, proof, leaf: toBase64(proof.leaf), accepted };
}
