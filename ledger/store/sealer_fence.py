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

log = structlog.get_logger(__name__)

STALL = 5.0
"""Seconds of committed events left unsealed, and of an idle lock holder, before fencing."""

_FENCE = """
WITH holder AS (
    SELECT a.pid
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted
       AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
       AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND a.pid <> pg_backend_pid()
       AND a.state <> 'active'
       AND a.state_change < now() - make_interval(secs => $3)
),
waiting AS (
    SELECT EXISTS (
        SELECT 1 FROM events e
         WHERE e.tx_id >= coalesce(
                   (SELECT s.tx_id FROM event_log l JOIN events s USING (seq)
                     ORDER BY l.position DESC LIMIT 1),
                   '0'::xid8)
           AND e.recorded_at < now() - make_interval(secs => $3)
           AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = e.seq)
    ) AS stalled
)
SELECT h.pid, pg_terminate_backend(h.pid) AS ended
  FROM holder h, waiting w
 WHERE w.stalled
"""


async def fence_stalled(conn: asyncpg.Connection, lock: int, stall: float = STALL) -> int | None:
    """End the session of a sealer that holds `lock` and has left events unsealed for
    `stall` seconds; the backend pid ended, or None when the sealer is working."""
    try:
        async with conn.transaction():
            # As the login user every instance connects as, not the service role the
            # session acts as: PostgreSQL lets a user end its own sessions (and a
            # superuser any), where the service role owns none of them.
            await conn.execute("SET LOCAL ROLE NONE")
            row = await conn.fetchrow(_FENCE, lock >> 32, lock & 0xFFFFFFFF, stall)
    except asyncpg.InsufficientPrivilegeError as exc:
        log.error("sealer.fence_refused", error=str(exc))
        return None
    if row is None or not row["ended"]:
        return None
    pid = int(row["pid"])
    log.warning("sealer.fenced", backend_pid=pid, stalled_s=stall)
    return pid
