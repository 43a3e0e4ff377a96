"""Holding the log still for a command that rewrites what follows from it (an import, a
rebuild of the decision state): no service may be sealing, and no post may land."""

from __future__ import annotations

import asyncpg

from ledger.store.sealer import SEALER_LOCK

SERVICE_RUNNING = (
    "a `ledger serve` is running on this database (it holds the sealing lock): "
    "stop every instance first"
)
"""Why the log cannot be held: what the command refuses with."""


async def hold_the_log(conn: asyncpg.Connection) -> bool:
    """In the transaction open on `conn`, take the sealing lock and keep posts and the
    sealer off the log until it ends; False, with nothing taken, while a service holds it.

    A running service seals (and signs) from its own idea of the head, and decides posts
    against the state: work under it would leave it failing, or deciding against rows
    being rewritten.
    """
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEALER_LOCK):
        return False
    # Posts and the sealer wait until the transaction has committed or failed.
    await conn.execute("LOCK TABLE events, event_log, streams IN EXCLUSIVE MODE")
    return True
