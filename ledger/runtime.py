"""The running ledger: connection pool, sealer, position waiter and the posting service."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from ledger.config import DEFAULT_READ_MAX_LAG_S
from ledger.db_clock import DatabaseClock
from ledger.posting import Ledger
from ledger.standbys import ReadRouter, open_standbys
from ledger.store.checkpoints import Checkpointer
from ledger.store.positions import PositionWaiter
from ledger.store.sealer import Sealer
from ledger.store.signed_memory import SignedMemory
from ledger.store.tree import TileCache
from ledger.tlog.keys import Signer

SERVICE_ROLE = "ledger_service"
"""The database role the service acts as: it can append events but never change them."""


APPEND_IDLE_TIMEOUT = "5s"
"""How long an append transaction may sit idle between its statements before PostgreSQL
ends its session: as long as a hung sealer is given before it is fenced off."""


def service_settings() -> dict[str, str]:
    """Connection settings for the service's connections (role set at connect, kept on reset)."""
    # Bounded waits: a post stuck behind a lock answers 503 instead of hanging.
    return {
        "role": SERVICE_ROLE,
        "application_name": "ledger",
        "lock_timeout": "10s",
        "statement_timeout": "30s",
        "idle_in_transaction_session_timeout": "60s",
        # An append transaction (from ledger_prepare on) is ended sooner: a hung one
        # holds back every instance's positions (ledger_prepare.sql).
        "ledger.append_idle_timeout": APPEND_IDLE_TIMEOUT,
        # Every service query is a short indexed read or write: starting parallel
        # workers or compiling with JIT only adds milliseconds to each.
        "max_parallel_workers_per_gather": "0",
        "jit": "off",
        # Prepared statements (and ledger_prepare's) keep a generic plan once
        # chosen, often while the tables are still small, when a sequential scan
        # is cheapest; with a million rows that plan made one lookup take a
        # second. Every key lookup here has an index, so plans never scan whole
        # tables; the sealer's scans rely on this too (stale tx_id statistics).
        "enable_seqscan": "off",
    }


CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection: an unreachable database is reported, not waited for."""


async def connect(dsn: str, **settings: str) -> asyncpg.Connection:
    """One connection acting as the service role (with `settings` on top of its own)."""
    return await asyncpg.connect(
        dsn, server_settings={**service_settings(), **settings}, timeout=CONNECT_TIMEOUT
    )


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Hand a pooled connection back as it is (asyncpg rolls back any open transaction).

    Pooled connections never change session state: locks are transaction
    scoped, settings are fixed at connect and nothing listens. The default
    reset (RESET ALL, UNLISTEN *, ...) would cost a round trip per request.
    """


@dataclass
class Runtime:
    """Everything a service instance runs against one database."""

    dsn: str
    pool: asyncpg.Pool
    ledger: Ledger
    sealer: Sealer
    waiter: PositionWaiter
    reads: ReadRouter
    """Where the read-only routes read: a usable hot standby, or else the primary."""
    signer: Signer | None = None
    """The log's signing key; without it the sealer keeps the tree but signs no checkpoint."""
    tiles: TileCache = field(default_factory=TileCache.sized)
    """Hash tiles read for proofs, kept hashed (this database's only)."""


def _checkpointer(signer: Signer, signed_memory: Path | None) -> Checkpointer:
    """The sealer's signer, remembering what it signs in `signed_memory` (beside the key
    file: ledger.store.signed_memory) when given."""
    memory = None if signed_memory is None else SignedMemory(signed_memory, signer.name)
    return Checkpointer(signer, memory=memory)


@contextlib.asynccontextmanager
async def running(
    dsn: str,
    *,
    pool_size: int = 10,
    seal_timeout: float = 10.0,
    signer: Signer | None = None,
    signed_memory: Path | None = None,
    read_dsns: Sequence[str] = (),
    read_max_lag: float = DEFAULT_READ_MAX_LAG_S,
    clock: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[Runtime]:
    """Start the pool, the sealer and the waiter; stop them all on exit.

    With `read_dsns` (hot standbys), a pool per standby and the monitor of
    their lag run too; everything that writes keeps to the primary at `dsn`. `clock`
    gives each post its recorded_at (tests set it to record posts out of log order, as
    overlapping posts are); by default the database server's (ledger/db_clock.py).
    """
    async with contextlib.AsyncExitStack() as opened:
        # Whatever was opened is closed again, in reverse, if a later step of the start
        # fails: no connection is left for the garbage collector to find.
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            server_settings=service_settings(),
            timeout=CONNECT_TIMEOUT,
            reset=_keep_session,
        )
        opened.push_async_callback(pool.close)
        database_clock = None
        if clock is None:
            database_clock = DatabaseClock(pool)
            await database_clock.measure()
            clock = database_clock.now
        waiter = PositionWaiter(pool)
        opened.push_async_callback(waiter.close)
        await waiter.start(lambda: connect(dsn))
        # A sealing round commits without waiting for its WAL to reach the disk: what it
        # writes follows from the appends it seals, whose commits are durable, so a round
        # lost in a crash is redone identically on restart (same positions, same hashes;
        # tests/reliability/test_seal_crash.py). The next durable commit of anyone flushes
        # it in passing, and the WAL writer within a fraction of a second in any case.
        sealer = Sealer(
            lambda: connect(dsn, synchronous_commit="off"),
            waiter.resolve,
            on_active=waiter.sealing_here,
            checkpointer=None if signer is None else _checkpointer(signer, signed_memory),
        )
        ledger = Ledger(
            pool,
            waiter,
            on_appended=sealer.wake,
            sealing_here=lambda: sealer.active,
            seal_timeout=seal_timeout,
            clock=clock,
        )
        standbys = await open_standbys(
            read_dsns,
            service_settings(),
            pool_size=pool_size,
            connect_timeout=CONNECT_TIMEOUT,
            reset=_keep_session,
        )
        for standby in standbys:
            opened.push_async_callback(standby.pool.close)
        reads = ReadRouter(pool, standbys, max_lag=read_max_lag)
        tasks = [
            asyncio.create_task(sealer.run(), name="sealer"),
            asyncio.create_task(waiter.run(), name="position-waiter"),
        ]
        if standbys:
            tasks.append(asyncio.create_task(reads.run(), name="standby-monitor"))
        if database_clock is not None:
            tasks.append(asyncio.create_task(database_clock.run(), name="database-clock"))
        opened.push_async_callback(_stop, waiter, tasks)
        yield Runtime(dsn, pool, ledger, sealer, waiter, reads, signer)


async def _stop(waiter: PositionWaiter, tasks: list[asyncio.Task[None]]) -> None:
    """Stop the runtime's tasks, then let the waiter settle what it still holds."""
    # Stopping: the sealer, as it stops, must not set the waiter listening again on
    # a connection about to close (a warning at every shutdown otherwise).
    waiter.stop_listening()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await waiter.settled()
