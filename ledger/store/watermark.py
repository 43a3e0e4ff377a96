"""Who is appending: what the sealer needs to know before it may give positions.

Every append transaction takes APPEND_LOCK (shared, transaction-scoped)
before its first write, so it holds the lock for as long as it has a
transaction id. The sealer may therefore give positions to every visible
event below the oldest *appender* still running, and need not wait for
unrelated writers (projection batches, reports, other databases of the
cluster), which the plain snapshot xmin would make it wait for. The
watermark itself is computed in the sealing scan (sealer.NEXT_UNSEALED),
from that scan's own snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

APPEND_LOCK = 0x6C65646765720003
"""Held shared by every append transaction from before its first write until it ends."""

# A transaction holds an exclusive lock on its own transaction id for as long as
# it runs, so pg_locks alone pairs each APPEND_LOCK holder with its id. One scan
# of pg_locks, grouped by backend: every read of the view copies the whole lock
# table, which holds hundreds of advisory locks per batch post in flight.
_APPENDERS = """
    WITH holders AS (
        SELECT array_agg(transactionid::text) FILTER (WHERE locktype = 'transactionid') AS xids
          FROM pg_locks
         WHERE granted
           AND ((locktype = 'transactionid' AND mode = 'ExclusiveLock')
                OR (locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2
                    AND objsubid = 1
                    AND database = (SELECT oid FROM pg_database
                                     WHERE datname = current_database())))
         GROUP BY pid
        HAVING bool_or(locktype = 'advisory'))
    SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid,
           coalesce((SELECT array_agg(x) FROM holders, unnest(holders.xids) AS x
                      WHERE x IS NOT NULL), '{}') AS xids"""


@dataclass(frozen=True)
class Appenders:
    """Who was appending when the sealer looked: their transaction ids, and the next id then.

    `xids` are 32-bit ids (as pg_locks shows them); running transactions are
    always within 2^31 of each other, so they compare unambiguously as xid.
    """

    xids: list[str]
    next_xid: str


async def appenders(conn: asyncpg.Connection) -> Appenders:
    """Transaction ids of sessions holding APPEND_LOCK, and the next transaction id before that.

    Run before the sealing snapshot is taken, in its own statement. An
    appender takes the lock before it gets its transaction id, so an appender
    with an id below `next_xid` is in `xids`; one that got its id later has
    one at or above `next_xid`.
    """
    row = await conn.fetchrow(_APPENDERS, APPEND_LOCK >> 32, APPEND_LOCK & 0xFFFFFFFF)
    assert row is not None
    return Appenders(list(row["xids"]), row["next_xid"])
