"""Bodies the HTTP API answers with, as msgspec Structs: encoded from, and documented by."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from events.stored import LogEntry
from ledger.audit.verify import Problem as ChainProblem
from ledger.http.readmodel_schemas import ReadBody
from ledger.receipts import Receipt

_encode = msgspec.json.Encoder().encode


def json_response_body(value: Any) -> bytes:
    """JSON bytes of a Struct, list or builtins."""
    return _encode(value)


class ReceiptBody(msgspec.Struct, kw_only=True):
    """Where an accepted event was stored."""

    event_id: str
    stream_id: str
    stream_version: int
    position: int
    recorded_at: dt.datetime

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptBody:
        """The body of one receipt."""
        return cls(
            event_id=receipt.event_id,
            stream_id=receipt.stream_id,
            stream_version=receipt.stream_version,
            position=receipt.position,
            recorded_at=receipt.recorded_at,
        )


class EventPage(msgspec.Struct, kw_only=True):
    """Events in position order; ask again with after=next_after for the next ones."""

    events: list[LogEntry]
    next_after: int
    """The last position in `events`, or the `after` asked for when there are none."""


class StreamPage(msgspec.Struct, kw_only=True):
    """One stream's events in version order, from the version asked for."""

    stream_id: str
    version: int
    """The version of the stream's last event a reader can be given: the answer's last event
    when it starts at or before it."""
    events: list[LogEntry]


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Liveness or readiness."""

    status: str
    detail: str | None = None
    pending_migrations: list[int] | None = None


class ChainCheck(ReadBody):
    """The result of recomputing the hash chain."""

    ok: bool
    verified_through: int
    head_hash: str
    first_bad_position: int | None
    problem: ChainProblem | None = None
    """What was wrong at the first bad position."""
    reason: str | None = None


class InclusionProof(msgspec.Struct, kw_only=True):
    """GET /v1/log/proof/inclusion: base64 hashes, in RFC 9162 order."""

    position: int
    size: int
    leaf_hash: str
    root: str
    hashes: list[str]


ConsistencyProof = msgspec.defstruct(
    "ConsistencyProof",
    [("from", int), ("to", int), ("hashes", list[str])],
    kw_only=True,
    module=__name__,
)
"""GET /v1/log/proof/consistency: base64 hashes, in RFC 9162 order."""


class CosignatureResult(msgspec.Struct, frozen=True):
    """One witness's cosignature of the note: its time, and whether it was new."""

    witness_id: str
    time: int
    new: bool


class CosignaturesAccepted(msgspec.Struct, frozen=True):
    """What POST /v1/log/cosignatures kept, for the checkpoint of `size`."""

    size: int
    cosignatures: list[CosignatureResult]
