"""Posting events: the append transaction that checks every rule and stores all or nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from events.envelope import Posted, posted_fingerprint
from events.payloads import GuaranteeIssued, Payload
from events.stored import Actor, StoredEvent, encode_stored
from ledger.rules.decide import decide
from ledger.rules.footprint import footprint, issued_guarantees, referenced_guarantees
from ledger.rules.refusal import Refusal
from ledger.rules.state import View
from ledger.store import decisions
from ledger.store.positions import PositionWaiter
from ledger.store.sealer import APPENDED_CHANNEL

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""Business time zone; China keeps +08:00 all year, so a fixed offset is exact."""

log = structlog.get_logger(__name__)


def shanghai_now() -> dt.datetime:
    """The current time in the business time zone."""
    return dt.datetime.now(SHANGHAI)


@dataclass(frozen=True)
class Receipt:
    """Where an accepted event was stored."""

    event_id: str
    stream_id: str
    stream_version: int
    position: int
    recorded_at: dt.datetime


@dataclass(frozen=True)
class PostResult:
    """The receipts of a post; `replayed` when it repeated an earlier identical post."""

    receipts: list[Receipt]
    replayed: bool


@dataclass(frozen=True)
class _Pending:
    event_id: str
    stream_id: str
    stream_version: int
    recorded_at: dt.datetime
    seq: int
    position: int | None


class Ledger:
    """The application service: posts events through the rules into the store."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        waiter: PositionWaiter,
        *,
        on_appended: Callable[[], None] | None = None,
        clock: Callable[[], dt.datetime] = shanghai_now,
        seal_timeout: float = 10.0,
        acquire_timeout: float = 5.0,
    ) -> None:
        self._pool = pool
        self._waiter = waiter
        self._on_appended = on_appended
        self._clock = clock
        self._seal_timeout = seal_timeout
        self._acquire_timeout = acquire_timeout

    async def post(self, events: list[Posted], actor: Actor, *, batch: bool = False) -> PostResult:
        """Check and store `events` atomically; return their receipts or raise Refusal."""
        appended: tuple[list[_Pending], bool] | None = None
        expected: dict[int, asyncio.Future[int]] = {}
        try:
            # Bounded: with every connection busy, a post fails fast (503) instead of piling up.
            async with self._pool.acquire(timeout=self._acquire_timeout) as proxy:
                conn: asyncpg.Connection = proxy  # type: ignore[assignment]
                for attempt in range(3):
                    try:
                        appended = await self._append(conn, events, actor, batch, expected)
                        break
                    except asyncpg.UniqueViolationError:
                        # A concurrent post stored one of these ids first: look again.
                        if attempt == 2:
                            raise
        except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            if appended is None:
                raise
            # The append committed; only handing the connection back failed (it
            # died with the database). The pool drops it, the receipts stand.
            log.warning("posting.connection_lost_after_commit")
        finally:
            if appended is None:
                # Nothing committed: stop waiting for seqs the rollback took back.
                self._waiter.forget(list(expected))
        assert appended is not None
        pending, replayed = appended
        if not replayed and self._on_appended is not None:
            self._on_appended()
        return PostResult(await self._receipts(pending, expected), replayed)

    async def _append(
        self,
        conn: asyncpg.Connection,
        events: list[Posted],
        actor: Actor,
        batch: bool,
        expected: dict[int, asyncio.Future[int]],
    ) -> tuple[list[_Pending], bool]:
        payloads = [p.payload for p in events]
        async with conn.transaction():
            refs = await decisions.guarantee_refs(conn, _looked_up(payloads))
            # No lock per event id: a repost of an event names the same stream, whose
            # lock it waits for; a different event under a used id fails on the unique
            # event_id and is looked at again (`post`).
            fp = footprint(payloads, refs)
            prepared = await decisions.prepare(
                conn,
                fp,
                [p.envelope.event_id for p in events],
                sorted({p.payload.stream_id for p in events}),
            )
            if prepared.earlier:
                return _earlier(prepared.earlier, events, batch), True
            view, versions = prepared.view, prepared.versions
            recorded_at = self._clock()
            stored: list[StoredEvent] = []
            for index, posted in enumerate(events):
                try:
                    stored.append(_decide_one(view, posted, actor, versions, recorded_at))
                except Refusal as refusal:
                    raise refusal.at(f"$[{index}]") if batch else refusal from None
            new_events = [
                decisions.NewEvent(
                    p.envelope.event_id,
                    s.stream_id,
                    s.stream_version,
                    s.type,
                    posted_fingerprint(p),
                    encode_stored(s),
                )
                for p, s in zip(events, stored, strict=True)
            ]
            seq_of = await decisions.append(
                conn,
                new_events,
                recorded_at,
                versions,
                view,
                issued=issued_guarantees(payloads),
                notify=APPENDED_CHANNEL,
            )
            # Waited for from before the commit, so no sealing notice can be missed.
            expected.update(self._waiter.expect(list(seq_of.values())))
        return [
            _Pending(
                s.event_id, s.stream_id, s.stream_version, recorded_at, seq_of[s.event_id], None
            )
            for s in stored
        ], False

    async def _receipts(
        self, pending: list[_Pending], expected: dict[int, asyncio.Future[int]]
    ) -> list[Receipt]:
        if expected:
            positions = await self._waiter.settle(expected, self._seal_timeout)
        else:
            # A repost: its events were stored earlier and may be sealed already.
            waiting = [p.seq for p in pending if p.position is None]
            positions = await self._waiter.wait(waiting, self._seal_timeout) if waiting else {}
        return [
            Receipt(
                p.event_id,
                p.stream_id,
                p.stream_version,
                p.position if p.position is not None else positions[p.seq],
                p.recorded_at,
            )
            for p in pending
        ]


def _decide_one(
    view: View,
    posted: Posted,
    actor: Actor,
    versions: dict[str, int],
    recorded_at: dt.datetime,
) -> StoredEvent:
    envelope, payload = posted.envelope, posted.payload
    stream_id = payload.stream_id
    current = versions.get(stream_id, 0)
    expected = envelope.expected_version
    if expected is not None and expected != current:
        raise Refusal(
            409,
            "version-conflict",
            f"stream {stream_id} is at version {current}, not {expected}",
            extra={
                "stream_id": stream_id,
                "current_version": current,
                "expected_version": expected,
            },
        )
    derived = decide(view, payload.TYPE, payload, actor)
    versions[stream_id] = current + 1
    return StoredEvent(
        event_id=str(envelope.event_id),
        type=payload.TYPE,
        occurred_at=envelope.occurred_at or recorded_at,
        expected_version=expected,
        data=payload,
        derived=derived,
        stream_id=stream_id,
        stream_version=current + 1,
        recorded_at=recorded_at,
        actor=actor,
    )


def _looked_up(payloads: list[Payload]) -> set[str]:
    """Guarantees whose program and SME the footprint needs from storage.

    An issuance carries its own, so a guarantee first named by its issuance
    in this post is not looked up (a single issuance needs no lookup at all).
    """
    first_issued: set[str] = set()
    seen: set[str] = set()
    for event in payloads:
        gid = getattr(event, "guarantee_id", None)
        if gid is None or gid in seen:
            continue
        seen.add(gid)
        if isinstance(event, GuaranteeIssued):
            first_issued.add(gid)
    return referenced_guarantees(payloads) - first_issued


def _earlier(
    found: dict[str, decisions.Earlier], events: list[Posted], batch: bool
) -> list[_Pending]:
    """The original receipts when this post repeats an earlier one; conflict when it half does."""
    for index, posted in enumerate(events):
        earlier = found.get(str(posted.envelope.event_id))
        where = f"$[{index}]: " if batch else ""
        if earlier is None:
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}this post repeats some event ids of an earlier post but not all; "
                "repost the earlier post unchanged or use new event ids",
                extra={"event_id": str(posted.envelope.event_id)},
            )
        if earlier.fingerprint != posted_fingerprint(posted):
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}event_id {posted.envelope.event_id} was already used "
                "for a different event",
                extra={"event_id": str(posted.envelope.event_id)},
            )
    return [
        _Pending(
            e.event_id,
            e.stream_id,
            e.stream_version,
            e.recorded_at.astimezone(SHANGHAI),
            e.seq,
            e.position,
        )
        for e in (found[str(p.envelope.event_id)] for p in events)
    ]
