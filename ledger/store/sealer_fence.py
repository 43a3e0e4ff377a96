"""Fencing off a sealer that holds the sealing lock but no longer seals.

One sealer seals for every instance, the one whose session holds SEALER_LOCK. A sealer
whose process hangs (stopped, swapped out, cut off mid-conversation) keeps its session
and so the lock, and every instance's posts wait for positions that never come. A
standby that finds committed events left unsealed for `stall` seconds while the lock's
holder has sat idle as long (a working sealer looks at least every second, and its
session is busy while it seals) ends that session with pg_terminate_backend. Its
transaction, if any, rolls back and the lock is released: the standby takes it on its
next try, and the old sealer, should it wake, finds its connection gone and stands by.
Nothing is sealed twice or out of order: every round is one transaction holding the
lock, and the head is read from the database when the lock is taken.
"""

from __future__ import annotations

import asyncpg
import structlog

from ledger.store.head import read_head

log = structlog.get_logger(__name__)

STALL = 5.0
"""Seconds of committed events left unsealed, and of an idle lock holder, before fencing."""

_IDLE_HOLDER = """
SELECT a.pid
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
   AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
   AND a.pid <> pg_backend_pid()
   AND a.state <> 'active'
   AND a.state_change < now() - make_interval(secs => $3)
"""
# A working sealer's session is never idle that long: the usual answer, and the only
# one asked every second on each standing-by instance, whatever the log's length.

# The events of the last sealed transaction and after it only, in the sealer's order
# (events_tx_order): with a sub-select in place of the transaction and no order asked,
# the planner had no range to scan, and read the whole table.
_STALLED = """
SELECT true FROM events e
 WHERE e.tx_id >= $1::text::xid8
   AND e.recorded_at < now() - make_interval(secs => $2)
   AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = e.seq)
 ORDER BY e.tx_id, e.seq
 LIMIT 1
"""

# Still the same holder, still idle: it did not seal meanwhile. (Built from the
# constant above only; no value is ever placed in the text.)
_END_IF_STILL_IDLE = (
    "SELECT pg_terminate_backend(h.pid) AS ended FROM ("  # noqa: S608
    + _IDLE_HOLDER
    + ") h WHERE h.pid = $4"
)


async def fence_stalled(conn: asyncpg.Connection, lock: int, stall: float = STALL) -> int | None:
    """End the session of a sealer that holds `lock` and has left events unsealed for
    `stall` seconds; the backend pid ended, or None when the sealer is working."""
    try:
        async with conn.transaction():
            # As the login user every instance connects as, not the service role the
            # session acts as: PostgreSQL lets a user end its own sessions (and a
            # superuser any), where the service role owns none of them.
            await conn.execute("SET LOCAL ROLE NONE")
            key = (lock >> 32, lock & 0xFFFFFFFF, stall)
            holder = await conn.fetchval(_IDLE_HOLDER, *key)
            if holder is None:
                return None
            head = await read_head(conn)
            if not await conn.fetchval(_STALLED, head.tx_id, stall):
                return None
            ended = await conn.fetchval(_END_IF_STILL_IDLE, *key, holder)
    except asyncpg.InsufficientPrivilegeError as exc:
        log.error("sealer.fence_refused", error=str(exc))
        return None
    if not ended:
        return None
    pid = int(holder)
    log.warning("sealer.fenced", backend_pid=pid, stalled_s=stall)
    return pid
