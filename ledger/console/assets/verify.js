// Verification in the browser: RFC 9162 Merkle proofs, C2SP signed notes, checkpoints and
// tlog proofs, with WebCrypto's SHA-256 and Ed25519. Pure functions over bytes and text:
// no fetching and no storage here (trust.js decides what to fetch and what to keep).

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** Thrown when a proof, note or checkpoint does not verify; `message` says what failed. */
export class VerifyError extends Error {}

function fail(message) {
  throw new VerifyError(message);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (RFC 4648 section 4, padded) to bytes; anything else is an error. */
export function fromBase64(text) {
  if (typeof text !== "string" || !B64.test(text)) fail("not standard base64: " + String(text).slice(0, 40));
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Bytes to standard base64. */
export function toBase64(bytes) {
  let raw = "";
  for (const b of bytes) raw += String.fromCharCode(b);
  return btoa(raw);
}

/** Bytes to lowercase hex. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function subtle() {
  if (!globalThis.crypto || !crypto.subtle) {
    fail("this page is not a secure context (https, or http on localhost), so WebCrypto is unavailable");
  }
  return crypto.subtle;
}

/** SHA-256 of bytes. */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

/** RFC 9162 leaf hash: SHA-256(0x00 || leaf bytes). */
export function leafHash(bytes) {
  return sha256(concat(Uint8Array.of(0), bytes));
}

function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function hash32(value, what) {
  const bytes = typeof value === "string" ? fromBase64(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) fail(`${what} is not a 32-byte hash`);
  return bytes;
}

// Sizes and indexes reach far past 2^31, so halving is done with arithmetic, not with >>.
const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

function powerOfTwo(n) {
  while (n > 1 && !odd(n)) n = half(n);
  return n === 1;
}

function wholeNumber(n, what) {
  if (!Number.isSafeInteger(n) || n < 0) fail(`${what} is not a whole number`);
}

/**
 * RFC 9162 section 2.1.3.2: check that `leaf` (a leaf hash) is at 0-based `index` in the
 * tree of `size` leaves whose root is `root`. Resolves true or throws VerifyError.
 */
export async function verifyInclusion(index, size, leaf, proof, root) {
  wholeNumber(index, "the leaf index");
  wholeNumber(size, "the tree size");
  if (index >= size) fail(`leaf index ${index} is not below tree size ${size}`);
  const path = (proof || []).map((h, i) => hash32(h, `inclusion hash ${i}`));
  const want = hash32(root, "the root");
  let r = hash32(leaf, "the leaf hash");
  let fn = index;
  let sn = size - 1;
  for (const p of path) {
    if (sn === 0) fail("the inclusion proof is longer than the tree is deep");
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail("the inclusion proof is shorter than the tree is deep");
  if (!equal(r, want)) fail(`leaf ${index} does not lead to the root of tree size ${size}`);
  return true;
}

/**
 * RFC 9162 section 2.1.4.2: check that the tree of `size1` leaves with root `root1` is a
 * prefix of the tree of `size2` leaves with root `root2`. Resolves true or throws.
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  wholeNumber(size1, "the first tree size");
  wholeNumber(size2, "the second tree size");
  const path = (proof || []).map((h, i) => hash32(h, `consistency hash ${i}`));
  if (size1 === 0) fail("a consistency proof from an empty tree proves nothing");
  if (size1 > size2) fail(`tree size ${size1} is larger than ${size2}`);
  if (size1 === size2) {
    // As RFC 9162 and the reference verifier: equal sizes need equal roots, byte for byte.
    if (path.length !== 0) fail("equal tree sizes need an empty consistency proof");
    const [a, b] = [root1, root2].map((r) => (typeof r === "string" ? fromBase64(r) : r));
    if (!equal(a, b)) fail(`two different roots for tree size ${size1}`);
    return true;
  }
  const first = hash32(root1, "the first root");
  const second = hash32(root2, "the second root");
  if (path.length === 0) fail("the consistency proof is empty");
  // When size1 is a power of two, the old root is itself a node of the new tree.
  if (powerOfTwo(size1)) path.unshift(first);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) fail("the consistency proof is longer than the tree is deep");
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail("the consistency proof is shorter than the tree is deep");
  if (!equal(fr, first)) fail(`the proof does not lead to the root of tree size ${size1}`);
  if (!equal(sr, second)) fail(`the proof does not lead to the root of tree size ${size2}`);
  return true;
}

const NAME = /^[^\s+]+$/u;

/**
 * A C2SP signed-note verifier key `<name>+<8 hex>+<base64(0x01 || key)>` (Ed25519 only),
 * with its key id checked against SHA-256(name || 0x0A || 0x01 || key)[:4].
 */
export async function parseVerifierKey(vkey) {
  const text = String(vkey).trim();
  // The name has no '+' and the id is hex, but the base64 key may hold '+' itself.
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first < 0 || second < 0) fail("a verifier key has three parts separated by '+'");
  const [name, idHex, keyB64] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  if (!NAME.test(name)) fail("the verifier key's name is empty or has spaces");
  if (!/^[0-9a-f]{8}$/.test(idHex)) fail("the verifier key's id is not 8 lowercase hex digits");
  const material = fromBase64(keyB64);
  if (material.length !== 33 || material[0] !== 1) fail("the verifier key is not an Ed25519 key");
  const pub = material.slice(1);
  const id = (await sha256(concat(enc.encode(name + "\n"), material))).slice(0, 4);
  if (toHex(id) !== idHex) fail("the verifier key's id does not match its name and key");
  const key = await subtle().importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
  return { name, id: idHex, text, key };
}

const SIG_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u;

/**
 * Split a signed note into its text and signature lines (C2SP signed-note), without
 * checking any signature: [{name, id (8 hex), sig (bytes after the id)}].
 */
export function splitNote(note) {
  if (typeof note !== "string" || !note.endsWith("\n")) fail("a signed note ends with a newline");
  if (/[\u0000-\u0009\u000b-\u001f]/u.test(note)) fail("the note has control characters");
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) fail("the note has no blank line before its signatures");
  const text = note.slice(0, cut + 1);
  const lines = note.slice(cut + 2, -1).split("\n");
  const signatures = lines.map((line) => {
    const m = SIG_LINE.exec(line);
    if (!m) fail("a signature line is malformed: " + line.slice(0, 60));
    const bytes = fromBase64(m[2]);
    if (bytes.length < 5) fail("a signature is too short");
    return { name: m[1], id: toHex(bytes.slice(0, 4)), sig: bytes.slice(4) };
  });
  if (signatures.length === 0) fail("the note has no signature");
  return { text, signatures };
}

/**
 * Open a signed note with a verifier (from parseVerifierKey): the known key's signature
 * must be there and verify; other signatures are returned unchecked, as `others`.
 */
export async function openNote(note, verifier) {
  const { text, signatures } = splitNote(note);
  const mine = signatures.filter((s) => s.name === verifier.name && s.id === verifier.id);
  const others = signatures.filter((s) => !(s.name === verifier.name && s.id === verifier.id));
  if (mine.length === 0) fail(`the note is not signed by ${verifier.name}`);
  for (const s of mine) {
    const ok = s.sig.length === 64 &&
      (await subtle().verify({ name: "Ed25519" }, verifier.key, s.sig, enc.encode(text)));
    if (!ok) fail(`the signature of ${verifier.name} does not verify`);
  }
  return { text, others };
}

/** The origin, tree size and root of a checkpoint's text (C2SP tlog-checkpoint). */
export function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") fail("a checkpoint has at least three lines");
  const [origin, sizeText, rootText] = lines;
  if (!origin) fail("the checkpoint has no origin");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail("the checkpoint's tree size is not a number");
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) fail("the checkpoint's tree size is too large");
  const root = hash32(rootText, "the checkpoint's root");
  return { origin, size, root, rootB64: rootText, extensions: lines.slice(3, -1) };
}

/**
 * Verify a signed checkpoint note with the log's verifier: its signature, then its
 * fields; the origin must be the key's name (the ledger names its key after its origin).
 */
export async function verifyCheckpoint(note, verifier) {
  const { text, others } = await openNote(note, verifier);
  const cp = parseCheckpoint(text);
  if (cp.origin !== verifier.name) fail(`the checkpoint's origin ${cp.origin} is not the log's`);
  return { ...cp, note, cosignatures: others.map(cosignature) };
}

function cosignature(s) {
  // tlog-cosignature: 8-byte big-endian timestamp, then the 64-byte Ed25519 signature.
  let time = null;
  if (s.sig.length === 72) {
    time = 0;
    for (let i = 0; i < 8; i++) time = time * 256 + s.sig[i];
  }
  return { name: s.name, id: s.id, time };
}

/** A C2SP tlog-proof@v1: extra bytes, leaf index, inclusion hashes and the checkpoint note. */
export function parseTlogProof(text) {
  if (typeof text !== "string") fail("the proof is not text");
  const cut = text.indexOf("\n\n");
  if (cut < 0) fail("the proof has no blank line before its checkpoint");
  const head = text.slice(0, cut).split("\n");
  const note = text.slice(cut + 2);
  if (head[0] !== "c2sp.org/tlog-proof@v1") fail("the proof does not start with c2sp.org/tlog-proof@v1");
  let at = 1;
  let extra = null;
  if (head[at] && head[at].startsWith("extra ")) extra = fromBase64(head[at++].slice(6));
  const m = /^index (0|[1-9][0-9]*)$/.exec(head[at++] || "");
  if (!m) fail("the proof has no index line");
  const index = Number(m[1]);
  const hashes = head.slice(at).map((h, i) => hash32(h, `inclusion hash ${i}`));
  return { extra, index, hashes, note };
}

/**
 * Verify a tlog proof for an event: the checkpoint is signed by the log, and the event's
 * exact stored bytes (the `extra` line) are leaf `index` of that checkpoint's tree.
 */
export async function verifyTlogProof(text, verifier) {
  const proof = parseTlogProof(text);
  if (proof.extra === null) fail("the proof carries no event bytes");
  const checkpoint = await verifyCheckpoint(proof.note, verifier);
  const leaf = await leafHash(proof.extra);
  await verifyInclusion(proof.index, checkpoint.size, leaf, proof.hashes, checkpoint.root);
  return { ...proof, checkpoint, leaf, event: JSON.parse(dec.decode(proof.extra)) };
}
