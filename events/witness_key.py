"""The shape of a witness's verifier key: a C2SP signed-note vkey for a cosignature/v1 key.

Checked with the standard library alone (events/ does no cryptography): the key
id must be the one its name and key give, so a key copied with a typo is
refused when it is registered rather than when its witness first cosigns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

COSIGNATURE_V1 = 0x04
"""Signature type of C2SP tlog-cosignature/v1 (timestamped Ed25519) keys."""

_NAME = re.compile(r"^[^\s+]+$")
_HEX_ID = re.compile(r"^[0-9a-f]{8}$")


def witness_key_problem(key: str) -> str | None:
    """What is wrong with `key` as a witness's Ed25519 cosignature verifier key, or None."""
    fields = key.split("+", 2)
    if len(fields) != 3:
        return "is not a verifier key <name>+<8 hex>+<base64> (see `ledger witness keygen`)"
    name, hex_id, material = fields
    if not _NAME.fullmatch(name):
        return "the key name is empty or holds a space or a plus"
    if not _HEX_ID.fullmatch(hex_id):
        return "the key id is not 8 lowercase hex digits"
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        return "the key material is not base64"
    if len(raw) != 33 or raw[0] != COSIGNATURE_V1:
        return "is not an Ed25519 cosignature key (type 0x04, 32 bytes)"
    digest = hashlib.sha256(name.encode() + b"\n" + raw).digest()
    if digest[:4].hex() != hex_id:
        return "the key id does not match the key's name and material"
    return None
