"""Reading the sealed log in bounded batches from one consistent snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncGenerator, AsyncIterator

import asyncpg
import msgspec

READ_ONLY_SETTINGS = {"default_transaction_read_only": "on", "application_name": "ledger-audit"}
"""Settings of the reading commands' connections: they never write, so a hot standby
(which refuses every write) serves them as well as the primary does."""

BATCH = 1000
"""Events read per round trip: large enough to be fast, small enough to bound memory."""

# LEFT JOIN so a log row whose event row was deleted still shows up (with no body).
_SCAN = """SELECT l.position, l.hash, l.seq, e.tx_id::text AS tx_id, e.body,
                  e.fingerprint, e.stream_id, e.stream_version,
                  e.event_id::text AS event_id, e.type, e.recorded_at
             FROM event_log l LEFT JOIN events e USING (seq)
            WHERE l.position > $1 AND l.position <= $2
            ORDER BY l.position
            LIMIT $3"""

# Only what the chain and the read models need, for replay.
_BODIES = """SELECT l.position, l.hash, e.body
               FROM event_log l LEFT JOIN events e USING (seq)
              WHERE l.position > $1 AND l.position <= $2
              ORDER BY l.position
              LIMIT $3"""

_NO_END = 2**62


class ScannedEvent(msgspec.Struct, frozen=True):
    """One log row as stored: position, stored link, and its event row (None if missing)."""

    # A Struct, not a dataclass: verify and export build one per event of the log,
    # and a frozen dataclass of this size costs four times as much to build.

    position: int
    hash: bytes
    seq: int
    tx_id: int | None
    body: bytes | None
    fingerprint: bytes | None
    stream_id: str | None
    stream_version: int | None
    event_id: str | None
    type: str | None
    recorded_at: datetime.datetime | None


def _scanned(r: asyncpg.Record) -> ScannedEvent:
    body = r["body"]
    return ScannedEvent(
        position=r["position"],
        hash=bytes(r["hash"]),
        seq=r["seq"],
        tx_id=None if r["tx_id"] is None else int(r["tx_id"]),
        body=None if body is None else bytes(body),
        fingerprint=None if r["fingerprint"] is None else bytes(r["fingerprint"]),
        stream_id=r["stream_id"],
        stream_version=r["stream_version"],
        event_id=r["event_id"],
        type=r["type"],
        recorded_at=r["recorded_at"],
    )


@contextlib.asynccontextmanager
async def snapshot(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Read everything inside from one snapshot, so a long scan sees one fixed log.

    When the caller already has a transaction open, its snapshot is used as is.
    """
    if conn.is_in_transaction():
        yield
        return
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        yield


async def scan_log(
    conn: asyncpg.Connection,
    *,
    after: int = 0,
    through: int | None = None,
    batch: int = BATCH,
) -> AsyncIterator[list[ScannedEvent]]:
    """Yield the log after `after` (through `through`, if given) in position order, in batches."""
    end = _NO_END if through is None else through
    while after < end:
        rows = await conn.fetch(_SCAN, after, end, batch)
        if not rows:
            return
        scanned = [_scanned(r) for r in rows]
        yield scanned
        after = scanned[-1].position


async def scan_ahead(
    conn: asyncpg.Connection, *, through: int, batch: int = BATCH
) -> AsyncGenerator[list[ScannedEvent], None]:
    """`scan_log` through `through`, the next batch asked for before one is handed out.

    The database reads a batch while the caller checks the one before. Use it
    under `contextlib.aclosing`, and leave the connection alone until it is closed:
    a query is in flight on it.
    """
    async with contextlib.aclosing(_ahead(conn, _SCAN, through, batch)) as batches:
        async for rows in batches:
            yield [_scanned(r) for r in rows]


async def scan_bodies(
    conn: asyncpg.Connection, *, through: int, batch: int = BATCH
) -> AsyncGenerator[list[asyncpg.Record], None]:
    """Yield (position, hash, body) rows through `through` in position order, in batches.

    The next batch is asked for before one is handed out, so the database reads it
    while the caller works. Use it under `contextlib.aclosing`: the connection is
    busy until the generator is done.
    """
    async with contextlib.aclosing(_ahead(conn, _BODIES, through, batch)) as batches:
        async for rows in batches:
            yield rows


async def _ahead(
    conn: asyncpg.Connection, query: str, through: int, batch: int
) -> AsyncGenerator[list[asyncpg.Record], None]:
    # `query` takes (after, through, limit) and gives rows with their `position`.
    pending: asyncio.Future[list[asyncpg.Record]] | None = None
    try:
        pending = asyncio.ensure_future(conn.fetch(query, 0, through, batch))
        while pending is not None:
            rows = await pending
            pending = None
            if not rows:
                return
            after = rows[-1]["position"]
            if after < through:
                pending = asyncio.ensure_future(conn.fetch(query, after, through, batch))
                await asyncio.sleep(0)  # let it send the query
            yield rows
    finally:
        if pending is not None:
            await pending


async def head(conn: asyncpg.Connection) -> tuple[int, bytes | None]:
    """The last sealed position and its stored hash ((0, None) for an empty ledger)."""
    row = await conn.fetchrow("SELECT position, hash FROM event_log ORDER BY position DESC LIMIT 1")
    if row is None:
        return 0, None
    return int(row["position"]), bytes(row["hash"])
