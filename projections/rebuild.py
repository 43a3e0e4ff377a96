"""Rebuilding projections from position 1 beside the live ones, then swapping them in."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from ledger.store.reads import head_position, read_log
from projections import store
from projections.base import Projection
from projections.rebuild_writers import Connect, build_beside
from projections.runner import REBUILD_LOCK_SPACE, decode_rows, lock_key


class RebuildBusy(RuntimeError):
    """Another rebuild of the same projection is running."""


@dataclass(frozen=True)
class Progress:
    """How far a rebuild is: position reached, the head when it started, events per second."""

    position: int
    head: int
    rate: float


ProgressCallback = Callable[[Progress], None]


def _tables(proj: Projection) -> list[str]:
    """The tables holding a projection's generations: documents, and rows if it has them."""
    return [proj.table] if proj.rows is None else [proj.table, proj.rows.table]


async def _build(
    conn: asyncpg.Connection,
    projections: Sequence[Projection],
    generations: dict[str, int],
    after: int,
    batch_size: int,
    report: Callable[[int], None],
) -> int:
    # Applies everything after `after` to the new generations; returns the last position.
    while rows := await read_log(conn, after, batch_size):
        entries = decode_rows(rows)
        async with conn.transaction():
            for proj in projections:
                await store.apply_batch(conn, proj, generations[proj.name], entries)
        after = entries[-1].position
        report(after)
    return after


async def rebuild(
    conn: asyncpg.Connection,
    projections: Sequence[Projection],
    *,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
    connect: Connect | None = None,
) -> int:
    """Rebuild `projections` from position 1 and swap them in; return the position reached.

    The new documents go into the next generation of each table while the runner keeps
    the live one current. The swap locks the checkpoint rows (the runner waits), applies
    whatever was sealed meanwhile, and points the checkpoints at the new generation in
    the same transaction: readers see the old model, then the new one, never a partial one.
    With `connect`, each read model is written through a connection of its own until
    the swap (projections/rebuild_writers.py); without, all of it goes through `conn`.
    """
    names = [proj.name for proj in projections]
    keys = [lock_key(name) for name in names]
    try_lock = "SELECT pg_try_advisory_lock($1::int, $2::int)"
    taken = [k for k in keys if await conn.fetchval(try_lock, REBUILD_LOCK_SPACE, k)]
    try:
        if len(taken) < len(keys):
            raise RebuildBusy(f"a rebuild of {', '.join(names)} is already running")
        await store.ensure_checkpoints(conn, names)
        live = await store.checkpoints(conn, names)
        generations = {name: live[name].generation + 1 for name in names}
        for proj in projections:
            # Leftovers of an interrupted rebuild, and generations swapped out before.
            for table in _tables(proj):
                await conn.execute(
                    f"DELETE FROM {table} WHERE generation <> $1",  # noqa: S608 - table names are fixed in the registry
                    live[proj.name].generation,
                )
        head = await head_position(conn)
        started = time.monotonic()

        def report(position: int) -> None:
            if progress is not None:
                elapsed = max(time.monotonic() - started, 1e-6)
                progress(Progress(position, max(head, position), position / elapsed))

        if connect is None:
            position = await _build(conn, projections, generations, 0, batch_size, report)
        else:
            position = await build_beside(
                conn, connect, projections, generations, batch_size, report
            )
        async with conn.transaction():
            current = await store.checkpoints(conn, names, lock=True)
            position = await _build(conn, projections, generations, position, batch_size, report)
            for name in names:
                if current[name].position > position:
                    raise RuntimeError(f"projection {name} is past the log head {position}")
            await store.set_checkpoints(
                conn, [store.Checkpoint(name, generations[name], position) for name in names]
            )
        for proj in projections:
            for table in _tables(proj):
                await conn.execute(
                    f"DELETE FROM {table} WHERE generation <> $1",  # noqa: S608 - table names are fixed in the registry
                    generations[proj.name],
                )
        report(position)
        return position
    finally:
        for k in taken:
            await conn.execute("SELECT pg_advisory_unlock($1::int, $2::int)", REBUILD_LOCK_SPACE, k)
