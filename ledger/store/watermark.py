"""Who is appending: what the sealer needs to know before it may give positions.

Every append transaction takes APPEND_LOCK (shared, transaction-scoped)
before its first write, so it holds the lock for as long as it has a
transaction id. The sealer may therefore give positions to every visible
event below the oldest *appender* still running, and need not wait for
unrelated writers (projection batches, reports, other databases of the
cluster), which the plain snapshot xmin would make it wait for. The
sealer reads who holds it (pg_locks, where a transaction also holds an
exclusive lock on its own id) before it takes the snapshot of its scan, and
computes the watermark in that scan: an appender takes the lock before it
gets its transaction id, so one with an id below the snapshot's next id was
seen holding it. Both are in ledger_seal (migration 0010).
"""

from __future__ import annotations

APPEND_LOCK = 0x6C65646765720003
"""Held shared by every append transaction from before its first write until it ends."""
