"""Which cosignatures of a posted note the ledger accepts: pure checks, no IO.

A posted note is the checkpoint text the log signed, followed by signature
lines: the log's own (ignored: the text is compared with the stored note
instead) and one or more witnesses' cosignatures. Every other line must be a
registered witness's key and verify as C2SP tlog-cosignature/v1 over that text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events.errors import FieldError
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.cosignature import verify_cosignature
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Verifier, parse_verifier
from ledger.tlog.note import Note, parse


class Refused(Exception):
    """The note is refused; `errors` say what is wrong, one {path, message} each."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Witness:
    """A registered witness and its parsed key."""

    witness_id: str
    verifier: Verifier


@dataclass(frozen=True)
class Cosigned:
    """One accepted cosignature: whose, when it says it was made, and its line."""

    witness_id: str
    time: int
    line: str


def read_note(body: bytes) -> tuple[Note, Checkpoint]:
    """The posted note and its checkpoint; Refused when either is malformed."""
    try:
        note = parse(body)
        return note, parse_checkpoint(note.text)
    except TlogError as exc:
        raise Refused([FieldError(path="body", message=f"malformed note: {exc}")]) from None


def witnesses_of(registered: Sequence[tuple[str, str]]) -> list[Witness]:
    """Witnesses from (witness_id, key text) pairs; keys that do not parse are skipped."""
    found: list[Witness] = []
    for witness_id, key in registered:
        try:
            found.append(Witness(witness_id, parse_verifier(key)))
        except TlogError:
            continue  # refused when registered; only a rewritten event gets here
    return found


def _keys_of(
    witnesses: Sequence[Witness], log: Verifier
) -> tuple[dict[tuple[str, int], Witness], dict[tuple[str, int], str]]:
    """The witness each (name, key id) cosigns for, and why the others cosign for no one.

    The message a cosignature signs names no one (C2SP tlog-cosignature), so anyone
    could copy one witness's cosignature under another name of the same public key:
    a public key cosigns for the witness that registered it first, and for the log
    never.
    """
    first: dict[bytes, Witness] = {}
    by_key: dict[tuple[str, int], Witness] = {}
    aliases: dict[tuple[str, int], str] = {}
    for w in witnesses:
        named = (w.verifier.name, w.verifier.key_id)
        if w.verifier.public == log.public:
            aliases[named] = "the log's own public key cannot witness the log"
        elif w.verifier.public in first and named not in by_key:
            earlier = first[w.verifier.public]
            aliases[named] = (
                f"this public key cosigns as {earlier.verifier.name} for witness "
                f"{earlier.witness_id}, registered first: a public key cosigns for one "
                "witness only"
            )
        else:
            first.setdefault(w.verifier.public, w)
            by_key.setdefault(named, w)  # the earliest registration of this name and key
    return by_key, aliases


FUTURE_SLACK = 300
"""Seconds a cosignature's time may run ahead of the ledger's clock (a witness's clock
may be a little fast; one far ahead would be kept, as the witness's first, for good)."""


def _untimely(stamp: int, now: int) -> str | None:
    """Why a cosignature's stated time is refused, if it is."""
    if stamp == 0:
        return (
            "the cosignature states no time (0): a witness cosigns with the time it "
            "saw the checkpoint (C2SP tlog-witness)"
        )
    if stamp > now + FUTURE_SLACK:
        return (
            f"the cosignature states time {stamp}, {stamp - now} s after this ledger's "
            "clock: check the witness's clock, then cosign again"
        )
    return None


def accept(
    note: Note,
    signed_text: str | None,
    log: Verifier,
    witnesses: Sequence[Witness],
    now: int | None = None,
) -> list[Cosigned]:
    """The cosignatures of `note` to store, or Refused naming every line that is wrong.

    `signed_text` is the text of the checkpoint the log signed at the note's size
    (None when it signed none). With `now` (POSIX seconds), a cosignature must state a
    time, and one no later than FUTURE_SLACK after it; without, the times are taken as
    kept (an import of cosignatures another ledger accepted).
    """
    if signed_text is None or signed_text != note.text:
        raise Refused(
            [
                FieldError(
                    path="body",
                    message="checkpoint never signed: the log signed no "
                    "checkpoint with exactly this text; cosign one from GET /v1/log/checkpoint",
                )
            ]
        )
    by_key, aliases = _keys_of(witnesses, log)
    errors: list[FieldError] = []
    accepted: list[Cosigned] = []
    for i, sig in enumerate(note.signatures):
        if (sig.name, sig.key_id) == (log.name, log.key_id):
            continue
        path = f"body.signatures[{i}]"
        witness = by_key.get((sig.name, sig.key_id))
        if (sig.name, sig.key_id) in aliases:
            errors.append(FieldError(path=path, message=aliases[(sig.name, sig.key_id)]))
            continue
        if witness is None:
            errors.append(
                FieldError(
                    path=path,
                    message=(
                        f"unknown witness: no registered witness has the key {sig.name}+"
                        f"{sig.key_id:08x}; an admin registers it with witness.registered"
                    ),
                )
            )
            continue
        try:
            stamp = verify_cosignature(note.text, sig, witness.verifier)
        except TlogError as exc:
            errors.append(FieldError(path=path, message=f"bad signature: {exc}"))
            continue
        untimely = None if now is None else _untimely(stamp, now)
        if untimely is not None:
            errors.append(FieldError(path=path, message=untimely))
            continue
        if all(c.witness_id != witness.witness_id for c in accepted):
            accepted.append(Cosigned(witness.witness_id, stamp, sig.line()))
    if errors:
        raise Refused(errors)
    if not accepted:
        raise Refused(
            [FieldError(path="body", message="the note carries no witness's cosignature")]
        )
    return accepted
