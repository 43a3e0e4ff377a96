"""A rebuild's bulk: the log read once, every read model written by a connection of its own.

Applied one read model after another on one connection, a batch keeps either this
process or PostgreSQL busy, never both: Python applies a read model while its
backend waits, then waits while the backend upserts. A rebuild of a store of a
million events with a quarter of a million guarantees spent half its time so.
Here one task reads and decodes the log, and each read model has a task and a
connection of its own that applies and writes every batch in its own transaction,
so one read model's writes run in PostgreSQL while another's applies run here.

Nothing is shared but the decoded entries, which no apply changes. Nobody reads
the new generations before the swap, so each read model may stand at a different
position meanwhile; the swap (projections/rebuild.py) brings them all to one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from events.stored import LogEntry
from ledger.store.reads import read_log
from projections import store
from projections.base import Projection
from projections.runner import decode_rows

Connect = Callable[[], Awaitable[asyncpg.Connection]]
"""Opens a connection for one read model's writes (closed by the rebuild)."""

AHEAD = 2
"""Batches the reader may be ahead of the slowest read model: bounds what is held."""


async def build_beside(
    conn: asyncpg.Connection,
    connect: Connect,
    projections: Sequence[Projection],
    generations: dict[str, int],
    batch_size: int,
    report: Callable[[int], None],
) -> int:
    """Apply the whole log to the new `generations`; return the last position read.

    `conn` reads the log; `report` hears the position every read model has reached
    each time it moves. The first failure stops every task and is raised as itself.
    """
    queues: dict[str, asyncio.Queue[list[LogEntry] | None]] = {
        proj.name: asyncio.Queue(maxsize=AHEAD) for proj in projections
    }
    reached = dict.fromkeys(queues, 0)

    async def read() -> int:
        after = 0
        while rows := await read_log(conn, after, batch_size):
            entries = decode_rows(rows)
            for queue in queues.values():
                await queue.put(entries)
            after = entries[-1].position
        for queue in queues.values():
            await queue.put(None)
        return after

    async def write(proj: Projection) -> None:
        queue, generation = queues[proj.name], generations[proj.name]
        writer = await connect()
        try:
            while (entries := await queue.get()) is not None:
                async with writer.transaction():
                    await store.apply_batch(writer, proj, generation, entries)
                before = min(reached.values())
                reached[proj.name] = entries[-1].position
                if (everyone := min(reached.values())) > before:
                    report(everyone)
        finally:
            await writer.close()

    try:
        async with asyncio.TaskGroup() as group:
            reading = group.create_task(read())
            for proj in projections:
                group.create_task(write(proj))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return reading.result()
