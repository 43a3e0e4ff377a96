"""An event's tlog-proof@v1: built by the ledger, checked by anyone with the log's key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from ledger.store import checkpoints, tree
from ledger.tlog.errors import FormatError
from ledger.tlog.keys import Verifier
from ledger.tlog.proof_file import CheckedProof, ProofFile, check_proof


class EventHead(msgspec.Struct, frozen=True):
    """What a proof shows a person about its event, read from the exact stored bytes."""

    event_id: str
    type: str
    stream_id: str
    occurred_at: str


_head = msgspec.json.Decoder(EventHead)


def event_head(stored: bytes) -> EventHead:
    """The event id, type, stream and time in stored bytes; FormatError if they are not there."""
    try:
        return _head.decode(stored)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FormatError(f"the extra bytes are not a stored event: {exc}") from None


@dataclass(frozen=True)
class StoredEvent:
    """An event's exact stored bytes and its position (None while unsealed)."""

    body: bytes
    position: int | None


async def find_event(conn: asyncpg.Connection, event_id: str) -> StoredEvent | None:
    """The stored bytes and position of the event with this id, if stored."""
    row = await conn.fetchrow(
        """SELECT e.body, l.position FROM events e LEFT JOIN event_log l USING (seq)
            WHERE e.event_id = $1::uuid""",
        event_id,
    )
    return None if row is None else StoredEvent(bytes(row["body"]), row["position"])


async def build_proof(
    conn: asyncpg.Connection,
    event: StoredEvent,
    signed: checkpoints.Signed,
    cache: tree.TileCache | None = None,
    note: str | None = None,
) -> str:
    """The tlog-proof of a sealed `event` in the checkpoint `signed` (which covers it);
    `note` is that checkpoint with its cosignatures, when already read elsewhere."""
    assert event.position is not None
    index = event.position - 1
    hashes = await tree.inclusion_proof(conn, index, signed.size, cache)
    if note is None:
        note = await checkpoints.with_cosignatures(conn, signed)
    return ProofFile(event.body, index, tuple(hashes), note).encode()


@dataclass(frozen=True)
class ProvedEvent:
    """What a proof that held proves: the event, where it is, and who vouched for the tree."""

    head: EventHead
    position: int
    checked: CheckedProof


def check_event_proof(
    text: str | bytes,
    log_key: Verifier,
    witness_keys: Sequence[Verifier] = (),
    min_witnesses: int = 0,
) -> ProvedEvent:
    """Check a ledger event's tlog-proof offline; TlogError says what failed."""
    checked = check_proof(text, log_key, witness_keys, min_witnesses)
    assert checked.proof.extra is not None
    return ProvedEvent(event_head(checked.proof.extra), checked.proof.index + 1, checked)
