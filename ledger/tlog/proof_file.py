"""C2SP tlog-proof@v1: an offline proof that an entry is in a signed (and cosigned) checkpoint."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.tlog import b64
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.cosignature import distinct_witnesses
from ledger.tlog.errors import FormatError, NoteError
from ledger.tlog.hashing import HASH_SIZE, leaf_hash
from ledger.tlog.keys import Verifier
from ledger.tlog.note import open_note
from ledger.tlog.proofs import verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class ProofFile:
    """What a tlog-proof holds: extra data, the entry's index, its inclusion hashes, the note."""

    extra: bytes | None
    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str

    def encode(self) -> str:
        """The proof's text."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note


def _b64(text: str, what: str) -> bytes:
    return b64.decode(text, what, FormatError)


def parse_proof(text: str | bytes) -> ProofFile:
    """A tlog-proof from its text; FormatError naming the line that is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError("the proof is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise FormatError("the proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise FormatError(f"the proof's first line is not {HEADER}")
    at = 1
    extra = None
    if at < len(lines) and lines[at].startswith("extra "):
        extra = _b64(lines[at][len("extra ") :], "the extra line")
        at += 1
    match = _INDEX.fullmatch(lines[at]) if at < len(lines) else None
    if match is None:
        raise FormatError("the proof has no `index N` line where one is due")
    hashes = []
    for n, line in enumerate(lines[at + 1 :]):
        h = _b64(line, f"inclusion hash {n}")
        if len(h) != HASH_SIZE:
            raise FormatError(f"inclusion hash {n} is {len(h)} bytes, not {HASH_SIZE}")
        hashes.append(h)
    return ProofFile(extra, int(match[1]), tuple(hashes), note)


@dataclass(frozen=True)
class CheckedProof:
    """A proof that held: its content, the checkpoint, and the witnesses whose cosignatures held."""

    proof: ProofFile
    checkpoint: Checkpoint
    witnesses: tuple[str, ...]


def check_proof(
    text: str | bytes,
    log_key: Verifier,
    witness_keys: Sequence[Verifier] = (),
    min_witnesses: int = 0,
) -> CheckedProof:
    """Check a tlog-proof (leaf: SHA-256(0x00 || extra)); TlogError says what failed."""
    proof = parse_proof(text)
    if proof.extra is None:
        raise FormatError("the proof has no extra line holding the entry")
    note, verified = open_note(proof.checkpoint_note, [log_key, *witness_keys])
    if log_key not in verified:
        raise NoteError(f"the checkpoint is not signed by the log key {log_key.name}")
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != log_key.name:
        raise FormatError(f"the checkpoint's origin {checkpoint.origin!r} is not the log's")
    witnesses = distinct_witnesses(verified, log_key)
    if len(witnesses) < min_witnesses:
        raise NoteError(f"{len(witnesses)} known witnesses cosigned, {min_witnesses} are required")
    verify_inclusion(
        proof.index, checkpoint.size, leaf_hash(proof.extra), proof.hashes, checkpoint.root
    )
    return CheckedProof(proof, checkpoint, witnesses)
