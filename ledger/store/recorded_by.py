"""Where the sealed log holds every event recorded by a moment: the head a read "as known
at T" must reflect.

A post is recorded (its `recorded_at` stamped) once its append transaction holds
APPEND_LOCK, and gets its position only after it commits and the sealer's next round.
The head as a request finds it may therefore lack events recorded before T that are
still being stored, and a statement cut there would count them when asked again: "as
known at T" would not stay what it was once answered. So the read first lets every
append that may have been recorded by T end, then waits until what they stored is
sealed, and is cut at the head from then.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from ledger.store.watermark import APPEND_LOCK

CLOCK_MARGIN = dt.timedelta(milliseconds=250)
"""How far an instance's stamp may stray from the database's clock, which it stamps by
(ledger/db_clock.py: the offset is measured from a round trip's middle every 30 s)."""
_POLL = 0.01

# Transactions holding APPEND_LOCK now that began by the moment (plus the margin), each
# by its virtual transaction id (one per transaction, never reused while it runs). One
# that began later is recorded later. A start this role may not see (another role's
# session) counts as early.
_APPENDERS = """
SELECT l.virtualtransaction FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
   AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
   AND (a.xact_start IS NULL OR a.xact_start <= $3)
"""

# In one snapshot: the head, and whether an event recorded by the moment is committed
# but not sealed. Every event before the head in (tx_id, seq) order is sealed (the
# sealer walks that order), so only those after it are looked at, from the head on
# along events_tx_order; whether each is sealed is looked up row by row, as
# ledger_seal does (an anti join read both tables whole).
SEALED_THROUGH = """
WITH h AS (SELECT l.position, e.tx_id, e.seq FROM event_log l JOIN events e USING (seq)
            ORDER BY l.position DESC LIMIT 1)
SELECT coalesce((SELECT position FROM h), 0) AS head,
       EXISTS (SELECT 1 FROM events e
                WHERE (e.tx_id, e.seq) > (coalesce((SELECT tx_id FROM h), '0'::xid8),
                                          coalesce((SELECT seq FROM h), 0))
                  AND e.recorded_at <= $1
                  AND (SELECT true FROM event_log s WHERE s.seq = e.seq) IS NULL) AS waiting
"""


class StillStoring(Exception):
    """Events recorded by the moment were not all sealed before the deadline."""


async def sealed_through(conn: asyncpg.Connection, moment: dt.datetime, deadline: float) -> int:
    """The head once every event recorded at or before `moment` is sealed in it.

    Raises StillStoring once the event loop's clock passes `deadline`. Asked of the
    primary: a standby cannot see who is appending.
    """
    loop = asyncio.get_running_loop()

    def past_deadline(wait: float = 0.0) -> None:
        if loop.time() + wait > deadline:
            raise StillStoring(f"events recorded by {moment.isoformat()} are still being stored")

    # From the database's clock past the moment on, an append that takes the lock is
    # recorded after it.
    while (now := await conn.fetchval("SELECT clock_timestamp()")) < moment + CLOCK_MARGIN:
        wait = (moment + CLOCK_MARGIN - now).total_seconds()
        past_deadline(wait)
        await asyncio.sleep(wait)
    # The appends under way since before it may have been recorded by it: each must end.
    lock = (APPEND_LOCK >> 32, APPEND_LOCK & 0xFFFFFFFF)
    began_by = moment + CLOCK_MARGIN
    running = {r[0] for r in await conn.fetch(_APPENDERS, *lock, began_by)}
    while running:
        past_deadline()
        await asyncio.sleep(_POLL)
        running &= {r[0] for r in await conn.fetch(_APPENDERS, *lock, began_by)}
    # Every event recorded by it is committed now (or never will be): once sealed, the
    # head holds them all.
    while True:
        head, waiting = await conn.fetchrow(SEALED_THROUGH, moment) or (0, False)
        if not waiting:
            return int(head)
        past_deadline()
        await asyncio.sleep(_POLL)
