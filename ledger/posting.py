"""Posting events: the append transaction that checks every rule and stores all or nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from events.envelope import Posted, posted_fingerprint
from events.stored import Actor, StoredEvent, encode_stored
from ledger.rules.decide import decide
from ledger.rules.footprint import footprint, referenced_guarantees
from ledger.rules.refusal import Refusal
from ledger.rules.state import View
from ledger.store import decisions
from ledger.store.positions import PositionWaiter
from ledger.store.sealer import APPENDED_CHANNEL
from ledger.store.watermark import APPEND_LOCK

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
                        self._waiter.forget(list(expected))
                        expected.clear()
                        if attempt == 2:
                            raise
        except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            if appended is None:
                self._waiter.forget(list(expected))
                raise
            # The append committed; only handing the connection back failed (it
            # died with the database). The pool drops it, the receipts stand.
            log.warning("posting.connection_lost_after_commit")
        except BaseException:
            if appended is None:
                self._waiter.forget(list(expected))
            raise
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
            # Marks this transaction as an appender for the sealer, before any write.
            await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", APPEND_LOCK)
            refs = await decisions.guarantee_refs(conn, referenced_guarantees(payloads))
            fp = footprint(payloads, refs)
            fp.exclusive.update(f"event:{p.envelope.event_id}" for p in events)
            # Every lock is taken before the first write: see Footprint.
            await decisions.lock(conn, fp)
            earlier = await _earlier(conn, events, batch)
            if earlier is not None:
                return earlier, True
            versions = await _stream_versions(conn, {p.payload.stream_id for p in events})
            view = await decisions.load(conn, fp)
            recorded_at = self._clock()
            stored: list[StoredEvent] = []
            for index, posted in enumerate(events):
                try:
                    stored.append(_decide_one(view, posted, actor, versions, recorded_at))
                except Refusal as refusal:
                    raise refusal.at(f"$[{index}]") if batch else refusal from None
            rows = await conn.fetch(
                """INSERT INTO events
                       (event_id, stream_id, stream_version, type, fingerprint, body, recorded_at)
                   SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[],
                                        $5::bytea[], $6::bytea[], $7::timestamptz[])
                   RETURNING seq, event_id""",
                [p.envelope.event_id for p in events],
                [s.stream_id for s in stored],
                [s.stream_version for s in stored],
                [s.type for s in stored],
                [posted_fingerprint(p) for p in events],
                [encode_stored(s) for s in stored],
                [recorded_at] * len(stored),
            )
            seq_of = {str(r["event_id"]): r["seq"] for r in rows}
            # Waited for from before the commit, so no sealing notice can be missed.
            expected.update(self._waiter.expect(list(seq_of.values())))
            await conn.executemany(
                """INSERT INTO streams (stream_id, version) VALUES ($1, $2)
                   ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version""",
                list(versions.items()),
            )
            await decisions.save(conn, view)
            await conn.execute("SELECT pg_notify($1, '')", APPENDED_CHANNEL)
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


async def _stream_versions(conn: asyncpg.Connection, streams: set[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT stream_id, version FROM streams WHERE stream_id = ANY($1)", list(streams)
    )
    return {r["stream_id"]: r["version"] for r in rows}


async def _earlier(
    conn: asyncpg.Connection, events: list[Posted], batch: bool
) -> list[_Pending] | None:
    """The original receipts when this post repeats an earlier one; conflict when it half does."""
    ids = [p.envelope.event_id for p in events]
    rows = await conn.fetch(
        """SELECT e.event_id, e.stream_id, e.stream_version, e.recorded_at, e.seq,
                  e.fingerprint, l.position
             FROM events e LEFT JOIN event_log l USING (seq)
            WHERE e.event_id = ANY($1::uuid[])""",
        ids,
    )
    if not rows:
        return None
    found = {r["event_id"]: r for r in rows}
    for index, posted in enumerate(events):
        row = found.get(posted.envelope.event_id)
        where = f"$[{index}]: " if batch else ""
        if row is None:
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}this post repeats some event ids of an earlier post but not all; "
                "repost the earlier post unchanged or use new event ids",
                extra={"event_id": str(posted.envelope.event_id)},
            )
        if bytes(row["fingerprint"]) != posted_fingerprint(posted):
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}event_id {posted.envelope.event_id} was already used "
                "for a different event",
                extra={"event_id": str(posted.envelope.event_id)},
            )
    return [
        _Pending(
            str(r["event_id"]),
            r["stream_id"],
            r["stream_version"],
            r["recorded_at"].astimezone(SHANGHAI),
            r["seq"],
            r["position"],
        )
        for r in (found[p.envelope.event_id] for p in events)
    ]
