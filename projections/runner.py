"""The projection runner: follows the sealed log and keeps the read models, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Sequence

import asyncpg
import structlog

from events.stored import LogEntry, read_log_entry
from ledger.aio import wait_event
from ledger.runtime import connect
from ledger.store.reads import LogRow, read_log
from ledger.store.sealer import SEALED_CHANNEL
from projections import store
from projections.base import Projection
from projections.registry import select

log = structlog.get_logger(__name__)

# Advisory lock space of projections ("ledP"); the second key is the CRC of the name.
RUNNER_LOCK_SPACE = 0x6C656450
REBUILD_LOCK_SPACE = 0x6C656452

READ_WAITING_CHANNEL = "ledger_read_waiting"
"""Notified by a read that waits for its `min_position`: the runner then applies at once."""


IDLE_LIMIT = 10.0
"""Seconds a runner's connection may sit idle before PostgreSQL ends it, and with it the
runner's hold on its read models. A working runner looks at the log every second."""


def lock_key(name: str) -> int:
    """The second advisory lock key of a projection (a stable 31-bit hash of its name)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def decode_rows(rows: Sequence[LogRow]) -> list[LogEntry]:
    """Log rows decoded into entries."""
    return [read_log_entry(row.body, row.position, row.hash.hex()) for row in rows]


async def apply_entries(
    conn: asyncpg.Connection, projections: Sequence[Projection], entries: list[LogEntry]
) -> dict[str, int]:
    """In one transaction, apply entries past each projection's checkpoint and advance it.

    The checkpoint rows are locked first: whoever else writes a projection (a second
    runner, a rebuild swapping generations) waits, and then sees the new checkpoint and
    skips what is already applied. That is the exactly-once effect. Returns the
    checkpoints after the batch.
    """
    names = [proj.name for proj in projections]
    async with conn.transaction():
        current = await store.checkpoints(conn, names, lock=True)
        done: dict[str, int] = {}
        moved: list[store.Checkpoint] = []
        for proj in projections:
            cp = current[proj.name]
            todo = [e for e in entries if e.position > cp.position]
            if not todo:
                done[proj.name] = cp.position
                continue
            if todo[0].position != cp.position + 1:
                raise RuntimeError(
                    f"projection {proj.name} is at {cp.position} but the batch starts at "
                    f"{todo[0].position}"
                )
            await store.apply_batch(conn, proj, cp.generation, todo)
            moved.append(store.Checkpoint(proj.name, cp.generation, todo[-1].position))
            done[proj.name] = todo[-1].position
        # One statement for every checkpoint the batch moved, in the same transaction.
        await store.set_checkpoints(conn, moved)
    return done


class ProjectionRunner:
    """Keeps the named projections (all by default) up to date with the sealed log.

    One connection, acting as the service role, holds a session advisory lock for each
    projection it runs; a projection locked by another runner is left to it and taken
    over when that runner's connection ends.
    """

    def __init__(
        self,
        dsn: str,
        names: list[str] | None = None,
        *,
        projections: Sequence[Projection] | None = None,
        batch_size: int = 1000,
        idle_wait: float = 1.0,
        retry_wait: float = 1.0,
        settle: float = 0.1,
        idle_limit: float = IDLE_LIMIT,
    ) -> None:
        """Run `names` (or the `projections` given, for tests) in batches of `batch_size`.

        Once caught up, each seal notice is followed by up to `settle` seconds before
        the next batch, so that posts arriving one at a time are applied a few dozen
        at once rather than one per batch (each batch is a transaction, its commit
        and several round trips). The wait ends at once when a read is waiting for
        its `min_position` (READ_WAITING_CHANNEL), so a read that asks for its own
        writes is not held up by it. Seal notices are not listened to during that
        wait: the next batch reads whatever was sealed meanwhile, and each notice
        heard cost this process and its backend a wake-up, once per post when posts
        come one at a time.

        The connection that holds the projections' locks is ended by PostgreSQL once
        idle for `idle_limit` seconds (at least three rounds of waiting): a runner
        that has stopped working (hung, swapped out, stopped) would otherwise hold
        every read model still for good, with no other runner free to take them.
        """
        self._dsn = dsn
        self._projections = list(projections) if projections is not None else select(names)
        self._batch = batch_size
        self._idle_wait = idle_wait
        self._retry_wait = retry_wait
        self._settle = settle
        self._conn: asyncpg.Connection | None = None
        self._held: list[Projection] = []
        self._positions: dict[str, int] = {}
        self._sealed = asyncio.Event()
        self._hurry = asyncio.Event()
        self._hearing_seals = False
        self._last_try = 0.0
        idle = max(idle_limit, 3 * (idle_wait + settle))
        self._idle_setting = f"{round(idle * 1000)}ms"

    @property
    def held(self) -> list[str]:
        """Names of the projections this runner holds now."""
        return [proj.name for proj in self._held]

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._held = []
            self._conn = await connect(self._dsn, idle_session_timeout=self._idle_setting)
            await store.ensure_checkpoints(self._conn, [p.name for p in self._projections])
            self._hearing_seals = False  # `step` listens, before it reads the log
            await self._conn.add_listener(READ_WAITING_CHANNEL, self._read_waiting)
        return self._conn

    async def _hear_seals(self, hear: bool) -> None:
        """LISTEN to seal notices, or UNLISTEN (one round trip, only when it changes)."""
        if self._conn is None or hear == self._hearing_seals:
            return
        if hear:
            await self._conn.add_listener(SEALED_CHANNEL, self._notified)
        else:
            await self._conn.remove_listener(SEALED_CHANNEL, self._notified)
        self._hearing_seals = hear

    def _notified(self, *_args: object) -> None:
        self._sealed.set()

    def _read_waiting(self, *_args: object) -> None:
        self._hurry.set()

    async def _take_locks(self, conn: asyncpg.Connection) -> None:
        self._last_try = time.monotonic()
        for proj in self._projections:
            if proj in self._held:
                continue
            if await conn.fetchval(
                "SELECT pg_try_advisory_lock($1::int, $2::int)",
                RUNNER_LOCK_SPACE,
                lock_key(proj.name),
            ):
                self._held.append(proj)
                log.info("projection.held", projection=proj.name)
        cps = await store.checkpoints(conn, self.held)
        self._positions = {name: cp.position for name, cp in cps.items()}

    async def step(self) -> int:
        """Apply one batch (or none); return how many log entries were read."""
        conn = await self._connection()
        if len(self._held) < len(self._projections) and (
            not self._held or time.monotonic() - self._last_try >= self._retry_wait
        ):
            await self._take_locks(conn)
        if not self._held:
            # Another runner holds every read model: no notice is of use here, and one
            # left set would wake `run` at once for good (it then tries again later).
            await self._hear_seals(False)
            self._sealed.clear()
            self._hurry.clear()
            return 0
        # Listening again before the log is read: a seal after this read is heard.
        await self._hear_seals(True)
        after = min(self._positions.values())
        # Cleared before reading: a notice that comes later is about events this
        # batch may not hold, and wakes the next one.
        self._sealed.clear()
        self._hurry.clear()
        rows = await read_log(conn, after, self._batch)
        if not rows:
            return 0
        self._positions = await apply_entries(conn, self._held, decode_rows(rows))
        return len(rows)

    async def catch_up(self) -> int:
        """Apply batches until the log has nothing more; return the lowest held checkpoint."""
        while await self.step():
            pass
        return min(self._positions.values(), default=0)

    async def run(self) -> None:
        """Follow the log forever, waking on seals; reconnect after failures."""
        try:
            while True:
                try:
                    # Caught up: wait for the next seal, then let a few more land,
                    # so a busy log is applied in batches rather than seal by seal,
                    # unless a read is waiting for them.
                    read = await self.step()
                    if not self._held:
                        await asyncio.sleep(self._retry_wait)  # for the locks, not the log
                    elif (
                        read < self._batch
                        and await wait_event(self._sealed, self._idle_wait)
                        and self._settle
                    ):
                        await self._hear_seals(False)
                        await wait_event(self._hurry, self._settle)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # keep following after any failure
                    log.error("projection.failed", error=repr(exc), held=self.held)
                    await self.close()
                    await asyncio.sleep(self._retry_wait)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the connection, which releases this runner's projection locks."""
        conn, self._conn, self._held = self._conn, None, []
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
