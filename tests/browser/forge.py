"""A log made up in the test: RFC 9162 trees and proofs, and checkpoints signed in the browser
with the C2SP signed-note vector's key, to serve the console forged or honest answers."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

# The signed-note vector's key pair (golang.org/x/mod sumdb/note tests).
NAME = "PeterNeumann"
KEY_ID = bytes.fromhex("c74f20a3")
VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
_PUBLIC = base64.b64decode(VERIFIER_KEY.split("+")[2])[1:]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: list[bytes]) -> bytes:
    """MTH of the leaves' data (RFC 9162 section 2.1.1)."""
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node(root(leaves[:k]), root(leaves[k:]))


def inclusion(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(index, leaves) (RFC 9162 section 2.1.3.1)."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion(index - k, leaves[k:]), root(leaves[:k])]


def consistency(size: int, leaves: list[bytes], whole: bool = True) -> list[bytes]:
    """SUBPROOF(size, leaves, true) (RFC 9162 section 2.1.4.1)."""
    n = len(leaves)
    if size == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if size <= k:
        return [*consistency(size, leaves[:k], whole), root(leaves[k:])]
    return [*consistency(size - k, leaves[k:], False), root(leaves[:k])]


def b64(data: bytes) -> str:
    """Standard base64."""
    return base64.b64encode(data).decode()


def checkpoint_text(leaves: list[bytes]) -> str:
    """The checkpoint body of a tree (origin = the key's name, as the ledger's)."""
    return f"{NAME}\n{len(leaves)}\n{b64(root(leaves))}\n"


_SIGN = """async ({seed, pub, text}) => {
  const u = (s) => s.replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const jwk = {kty: 'OKP', crv: 'Ed25519', d: u(seed), x: u(pub)};
  const key = await crypto.subtle.importKey('jwk', jwk, {name: 'Ed25519'}, false, ['sign']);
  const bytes = new TextEncoder().encode(text);
  const sig = new Uint8Array(await crypto.subtle.sign({name: 'Ed25519'}, key, bytes));
  return btoa(String.fromCharCode(...sig));
}"""


async def sign(page: Any, text: str) -> str:
    """The signed note of `text` with the vector key (Ed25519 through the browser's WebCrypto)."""
    signature = await page.evaluate(_SIGN, {"seed": b64(_SEED), "pub": b64(_PUBLIC), "text": text})
    line = b64(KEY_ID + base64.b64decode(signature))
    return f"{text}\n\u2014 {NAME} {line}\n"


def consistency_body(m: int, leaves: list[bytes]) -> str:
    """The JSON of GET /v1/log/proof/consistency?from=m&to=len(leaves) for this tree."""
    import json

    hashes = [b64(h) for h in consistency(m, leaves)]
    return json.dumps({"from": m, "to": len(leaves), "hashes": hashes})
