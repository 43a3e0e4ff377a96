"""The sealing watermark: the oldest transaction id that may still append events.

Every append transaction takes APPEND_LOCK (shared, transaction-scoped)
before its first write, so it holds the lock for as long as it has a
transaction id. The sealer may therefore give positions to every visible
event below the oldest *appender* still running, and need not wait for
unrelated writers (projection batches, reports, other databases of the
cluster), which the plain snapshot xmin would make it wait for.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

APPEND_LOCK = 0x6C65646765720003
"""Held shared by every append transaction from before its first write until it ends."""

_EPOCH = 1 << 32


@dataclass(frozen=True)
class Appenders:
    """Who was appending when the sealer looked: their transaction ids, and the next id then.

    `xids` is None when some appender's transaction id was hidden from the
    sealer (no pg_read_all_stats): then every running transaction counts.
    """

    xids: frozenset[int] | None
    next_xid: int


async def appenders(conn: asyncpg.Connection) -> Appenders:
    """Transaction ids of sessions holding APPEND_LOCK, and the next transaction id before that.

    Run outside a transaction, before the sealing snapshot is taken. An
    appender takes the lock before it gets its transaction id, so an appender
    with an id below `next_xid` is in `xids`; one that got its id later has
    one at or above `next_xid`.
    """
    row = await conn.fetchrow(
        """SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid,
                  coalesce(array_agg(a.backend_xid::text)
                           FILTER (WHERE a.backend_xid IS NOT NULL), '{}') AS xids,
                  coalesce(bool_or(a.query = '<insufficient privilege>'), false) AS hidden
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1""",
        APPEND_LOCK >> 32,
        APPEND_LOCK & 0xFFFFFFFF,
    )
    assert row is not None
    next_xid = int(row["next_xid"])
    if row["hidden"]:
        return Appenders(None, next_xid)
    return Appenders(frozenset(_widen(int(x), next_xid) for x in row["xids"]), next_xid)


def _widen(xid32: int, near: int) -> int:
    """The 64-bit id of a 32-bit xid within 2^31 of the 64-bit id `near`.

    (Running ids can be at or above a snapshot's xmax, which is only the
    latest completed id plus one, so the nearest epoch is taken.)
    """
    full = (near & ~(_EPOCH - 1)) | xid32
    if full > near + _EPOCH // 2:
        return full - _EPOCH
    if full < near - _EPOCH // 2:
        return full + _EPOCH
    return full


def watermark(snapshot: str, seen: Appenders) -> int:
    """Events of transactions below the returned id can be sealed under `snapshot`.

    `snapshot` is pg_current_snapshot() as text ("xmin:xmax:xip,..."), taken
    after `seen`. In-progress transactions that were appenders when the
    sealer looked, or that got their id since, bound the watermark; every
    other in-progress transaction is known not to append.
    """
    _xmin, xmax, xip = snapshot.split(":")
    bound = int(xmax)
    for text in filter(None, xip.split(",")):
        xid = int(text)
        if seen.xids is None or xid in seen.xids or xid >= seen.next_xid:
            bound = min(bound, xid)
    return bound
