"""Trusting the ledger's answers without trusting its operator: the log's signed checkpoints
and an event's proof, checked in the client with the keys its user pinned.

A `TrustedCheckpoint` is one the pinned log key signed (and at least `min_witnesses`
of the pinned witnesses cosigned; one they have not cosigned yet is NotWitnessed, not a
failure). Given the last one a client trusted, a newer one is trusted only once a
consistency proof shows the older tree is a prefix of it, so a log that rewrote or
forked its history is caught; one that went back to a smaller size is refused
outright. An event's proof (C2SP tlog-proof) is trusted when its checkpoint is, when
its exact stored bytes hash into that checkpoint's tree, and when they are the event
asked for (its id, and its position when a receipt gave one).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ledger.client.errors import NotWitnessed, ProofFailed
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.cosignature import distinct_witnesses
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import COSIGNATURE_V1, ED25519, Verifier, parse_verifier
from ledger.tlog.note import open_note
from ledger.tlog.proof_file import check_proof
from ledger.tlog.proofs import verify_consistency


class LogKeys:
    """The keys a client pins: the log's, and the witnesses' it counts on."""

    def __init__(
        self, log_key: str, witness_keys: Sequence[str] = (), min_witnesses: int = 0
    ) -> None:
        """`log_key` as `GET /v1/log/key` (or `ledger log-key`) gives it, learnt out of band;
        ValueError for a key that is not one, before anything is asked."""
        self.log = _verifier(log_key, ED25519, "the log key")
        self.witnesses = tuple(_verifier(k, COSIGNATURE_V1, "a witness key") for k in witness_keys)
        # One public key is one witness, whatever names it is given under.
        distinct = len(distinct_witnesses(self.witnesses, self.log))
        if not 0 <= min_witnesses <= distinct:
            raise ValueError(
                f"min_witnesses {min_witnesses} is not between 0 and the "
                f"{distinct} distinct witness keys given"
            )
        self.min_witnesses = min_witnesses


def _verifier(text: str, alg: int, what: str) -> Verifier:
    try:
        key = parse_verifier(text)
    except TlogError as exc:
        raise ValueError(f"{what} is not a verifier key: {exc}") from None
    if key.alg != alg:
        raise ValueError(f"{what} is not of type 0x{alg:02x}")
    return key


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint of the log whose signatures held: keep `note` to trust it again later
    (`trusted_checkpoint(note, keys)`)."""

    origin: str
    size: int
    root: bytes
    note: str
    """The signed note as served, cosignatures included."""
    witnesses: tuple[str, ...]
    """The names of the pinned witnesses whose cosignatures held."""


def trusted_checkpoint(note: str, keys: LogKeys) -> TrustedCheckpoint:
    """The checkpoint `note` holds, once its signatures hold; ProofFailed otherwise, and
    NotWitnessed when it holds but too few of the pinned witnesses cosigned it yet."""
    try:
        opened, verified = open_note(note, [keys.log, *keys.witnesses])
        if keys.log not in verified:
            raise ProofFailed(f"the checkpoint is not signed by the log key {keys.log.name}")
        checkpoint = parse_checkpoint(opened.text)
    except TlogError as exc:
        raise ProofFailed(f"the checkpoint does not hold: {exc}") from None
    return _trusted(checkpoint, note, distinct_witnesses(verified, keys.log), keys)


def _trusted(
    checkpoint: Checkpoint, note: str, witnesses: tuple[str, ...], keys: LogKeys
) -> TrustedCheckpoint:
    if checkpoint.origin != keys.log.name:
        raise ProofFailed(f"the checkpoint's origin {checkpoint.origin!r} is not the log's")
    if len(witnesses) < keys.min_witnesses:
        raise NotWitnessed(
            f"{len(witnesses)} of the pinned witnesses cosigned the checkpoint, "
            f"{keys.min_witnesses} are required"
        )
    return TrustedCheckpoint(checkpoint.origin, checkpoint.size, checkpoint.root, note, witnesses)


class ConsistencyProof(msgspec.Struct):
    """`GET /v1/log/proof/consistency`'s answer."""

    hashes: list[str]


def needed_proof(old: TrustedCheckpoint, new: TrustedCheckpoint) -> tuple[int, int] | None:
    """The consistency proof (from, to) that shows `new` extends `old`, or None when they
    must simply be equal (the same size) or nothing links them (`old` an empty tree).

    A log only grows: a checkpoint smaller than one already trusted is refused, whatever
    it says, since trusting it would move the client's anchor back.
    """
    if new.size < old.size:
        raise ProofFailed(f"the log went back from size {old.size}, already trusted, to {new.size}")
    if old.size == new.size:
        if old.root != new.root:
            raise ProofFailed(f"two checkpoints of size {old.size} state different roots")
        return None
    return None if old.size == 0 else (old.size, new.size)


def check_consistency(
    old: TrustedCheckpoint, new: TrustedCheckpoint, proof: ConsistencyProof
) -> None:
    """That the older trusted checkpoint's tree is a prefix of the newer's."""
    first, second = old, new
    try:
        hashes = [base64.b64decode(h, validate=True) for h in proof.hashes]
        verify_consistency(first.size, second.size, first.root, second.root, hashes)
    except (TlogError, ValueError) as exc:
        raise ProofFailed(
            f"the log at size {second.size} is not an extension of the log at size "
            f"{first.size}: {exc}"
        ) from None


class _Head(msgspec.Struct):
    event_id: str
    type: str
    stream_id: str
    occurred_at: str


@dataclass(frozen=True)
class ProvedEvent:
    """An event the log's tree holds, at a position, under a trusted checkpoint."""

    event_id: str
    type: str
    stream_id: str
    occurred_at: str
    position: int
    body: bytes
    """The event's exact stored bytes, as hashed into the tree."""
    checkpoint: TrustedCheckpoint


def proved_event(
    text: bytes, keys: LogKeys, event_id: str, position: int | None = None
) -> ProvedEvent:
    """The event a tlog-proof proves, once it holds and is the event asked for."""
    try:
        checked = check_proof(text, keys.log, keys.witnesses)
    except TlogError as exc:
        raise ProofFailed(f"the proof of event {event_id} does not hold: {exc}") from None
    assert checked.proof.extra is not None  # check_proof refuses a proof without one
    body = checked.proof.extra
    try:
        head = msgspec.json.decode(body, type=_Head)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProofFailed(f"the proven bytes are not a stored event: {exc}") from None
    at = checked.proof.index + 1
    if head.event_id.lower() != event_id.lower():
        raise ProofFailed(f"the proof is of event {head.event_id}, not {event_id}")
    if position is not None and at != position:
        raise ProofFailed(f"the proof puts event {event_id} at position {at}, not {position}")
    note = checked.proof.checkpoint_note
    trusted = _trusted(checked.checkpoint, note, checked.witnesses, keys)
    return ProvedEvent(
        head.event_id, head.type, head.stream_id, head.occurred_at, at, body, trusted
    )
