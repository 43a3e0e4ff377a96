"""C2SP tlog-cosignature/v1: a witness's timestamped Ed25519 signature over a checkpoint."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ledger.tlog.errors import NoteError
from ledger.tlog.keys import COSIGNATURE_V1, Signer, Verifier
from ledger.tlog.note import Signature


def cosign(text: str, signer: Signer, timestamp: int) -> Signature:
    """The cosignature/v1 line of `signer` over checkpoint `text` at POSIX time `timestamp`."""
    if signer.alg != COSIGNATURE_V1:
        raise NoteError("a cosignature needs a key of type 0x04")
    if not 0 <= timestamp < 1 << 63:
        raise NoteError(f"timestamp {timestamp} is out of range")
    stamped = dataclasses.replace(signer, clock=lambda: float(timestamp))
    return Signature(signer.name, signer.key_id, stamped.sign(text))


def cosignature_time(signature: Signature) -> int:
    """The POSIX time a cosignature states it was made at."""
    if len(signature.signature) != 8 + 64:
        raise NoteError(f"the cosignature of {signature.name} is not 72 bytes")
    return int.from_bytes(signature.signature[:8], "big")


def verify_cosignature(text: str, signature: Signature, verifier: Verifier) -> int:
    """Check a cosignature over checkpoint `text`; return its time, or NoteError."""
    if verifier.alg != COSIGNATURE_V1:
        raise NoteError(f"{verifier.name} is not a cosigner key (type 0x04)")
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError(f"the cosignature is not by {verifier.name}")
    if len(signature.signature) == 8 + 64 and cosignature_time(signature) >= 1 << 63:
        raise NoteError(f"the cosignature of {verifier.name} states a time past 2^63 - 1")
    if not verifier.verify(text, signature.signature):
        raise NoteError(f"the cosignature of {verifier.name} does not verify")
    return cosignature_time(signature)


def distinct_witnesses(verified: Iterable[Verifier], log: Verifier) -> tuple[str, ...]:
    """The names of the witnesses among `verified`, one per public key, the log's excluded.

    The message a cosignature signs names no one (C2SP tlog-cosignature), so one
    public key under two names is one witness, whatever each name's key id says.
    """
    seen = {log.public}
    names: list[str] = []
    for v in verified:
        if v.public not in seen:
            seen.add(v.public)
            names.append(v.name)
    return tuple(names)
