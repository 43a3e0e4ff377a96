"""A fresh database holding a history posted through the ledger, read models caught up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from events.stored import LogEntry
from ledger.runtime import running
from projections.runner import ProjectionRunner
from tests import pg
from tests.integration.projections.support import log_entries, post_steps


@contextlib.asynccontextmanager
async def posted_store(
    admin_dsn: str, template: str, steps: list[Any]
) -> AsyncIterator[tuple[asyncpg.Connection, list[LogEntry]]]:
    """A connection to a new database where `steps` were posted and every read model has
    applied them (in batches of 7, so a batch often ends mid-post), and the whole log;
    the database is dropped afterwards."""
    name = await pg.create_database(admin_dsn, template)
    dsn = pg.with_database(admin_dsn, name)
    try:
        async with running(dsn, pool_size=2) as runtime:
            await post_steps(runtime, steps)
            runner = ProjectionRunner(dsn, batch_size=7)
            try:
                await runner.catch_up()
            finally:
                await runner.close()
            entries = await log_entries(runtime.pool)
            async with runtime.pool.acquire() as conn:
                yield conn, entries
    finally:
        await pg.drop_database(admin_dsn, name)
