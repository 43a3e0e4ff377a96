"""Hot standbys for the read-only routes: one pool each, and a monitor of their replay lag.

A standby is used for reads while it is up, still in recovery (not promoted),
replaying (not paused) and at most `max_lag` seconds behind the primary.
Lag is measured against the primary's WAL, not the standby's clock: the
monitor notes when the primary's WAL position first went past each value,
so a standby whose replay stands at LSN x lags by the time since the primary
first wrote past x (zero when it has replayed everything the primary wrote).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import math
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog

log = structlog.get_logger(__name__)

READ_APPLICATION = "ledger-read"
"""application_name of the service's standby connections (seen in pg_stat_activity)."""

PROBE_INTERVAL = 0.25
"""Seconds between two measures of every standby's lag."""

_HISTORY_S = 600.0
"""How far back primary WAL positions are kept; a standby further behind lags 'at least' this."""

# A promoted standby answers pg_last_wal_replay_lsn() still, but pg_is_wal_replay_paused()
# raises outside recovery: the CASE asks it only while in recovery.
_PROBE = """SELECT pg_is_in_recovery() AS recovery,
                   pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint AS replayed,
                   CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END
                       AS paused,
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
                       AS replay_age"""
_PRIMARY = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"


def display_name(dsn: str) -> str:
    """The standby as host:port/database, for logs and metrics (never its password)."""
    parts = urllib.parse.urlsplit(dsn)
    query = urllib.parse.parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or ["localhost"])[0]
    port = parts.port or int((query.get("port") or ["5432"])[0])
    return f"{host}:{port}{parts.path or '/'}"


@dataclass
class Standby:
    """One hot standby: its pool and what the last probe found."""

    name: str
    dsn: str = field(repr=False)
    pool: asyncpg.Pool = field(repr=False)
    up: bool = False
    in_recovery: bool = False
    paused: bool = False
    replayed_lsn: int | None = None
    lag_bytes: int | None = None
    lag_s: float | None = None
    replay_age_s: float | None = None
    usable: bool = False
    probed: bool = False
    """Whether a probe has ended yet: the first one says what it found, either way."""
    reads: int = 0
    fallbacks: int = 0


class ReadRouter:
    """Picks a standby for a read (round robin over the usable ones) and keeps their lag."""

    def __init__(
        self,
        primary: asyncpg.Pool,
        standbys: Sequence[Standby],
        *,
        max_lag: float,
        interval: float = PROBE_INTERVAL,
    ) -> None:
        """`primary` answers the WAL position; standbys are probed every `interval` s."""
        self.primary = primary
        self.standbys = list(standbys)
        self.max_lag = max_lag
        self.interval = interval
        self.primary_reads = 0
        self._turn = itertools.count()
        # (monotonic time, primary LSN) each time the primary's LSN was seen to move.
        self._history: deque[tuple[float, int]] = deque()
        self._probes: dict[str, asyncpg.Connection] = {}
        self.measured = asyncio.Event()
        self._primary_measured = True
        self._latest_primary: int | None = None

    def pick(self) -> Standby | None:
        """A usable standby, taking turns; None sends the read to the primary."""
        usable = [s for s in self.standbys if s.usable]
        if not usable:
            return None
        return usable[next(self._turn) % len(usable)]

    def failed(self, standby: Standby, exc: BaseException) -> None:
        """A read on `standby` failed for want of the database: skip it until a probe finds it."""
        standby.fallbacks += 1
        if standby.usable:
            log.warning("standby.read_failed", standby=standby.name, error=str(exc)[:200])
        standby.usable = False
        standby.up = False

    def lag_of(self, replayed: int, now: float, replay_age: float | None = None) -> float:
        """Seconds since the primary first wrote WAL past `replayed` (0 when caught up).

        A standby behind everything the monitor has seen of the primary (just after
        start-up, or further back than the history kept) lags at least since the first
        of it, and by as much as the age of the last transaction it replayed, which
        is then the better bound; with neither known, its lag is unknown: infinite.
        """
        if not self._history or replayed >= self._history[-1][1]:
            return 0.0
        first_at, first_lsn = self._history[0]
        if replayed < first_lsn:
            if replay_age is None:
                return math.inf
            return max(now - first_at, replay_age)
        for seen_at, lsn in self._history:
            if lsn > replayed:
                return max(0.0, now - seen_at)
        return 0.0  # not reached: the last entry is past `replayed`

    async def _primary_lsn(self) -> int:
        async with self.primary.acquire(timeout=self.interval * 8) as conn:
            value: int = await conn.fetchval(_PRIMARY, timeout=self.interval * 8)
        return value

    def _note_primary(self, lsn: int, now: float) -> None:
        if not self._history or lsn > self._history[-1][1]:
            self._history.append((now, lsn))
        while len(self._history) > 1 and now - self._history[0][0] > _HISTORY_S:
            self._history.popleft()

    async def _probe_conn(self, standby: Standby) -> asyncpg.Connection:
        conn = self._probes.get(standby.name)
        if conn is None or conn.is_closed():
            conn = await asyncpg.connect(
                standby.dsn,
                timeout=max(1.0, self.interval * 8),
                server_settings={"application_name": READ_APPLICATION + "-probe"},
            )
            self._probes[standby.name] = conn
        return conn

    async def _probe(self, standby: Standby, primary_lsn: int | None, now: float) -> None:
        try:
            conn = await self._probe_conn(standby)
            row = await conn.fetchrow(_PROBE, timeout=max(1.0, self.interval * 8))
        except Exception as exc:
            # Whatever the reason (away, refusing us, the database not replayed there
            # yet), a standby that cannot answer its probe is not used.
            await self._drop_probe(standby)
            if standby.up or not standby.probed:
                log.warning("standby.down", standby=standby.name, error=str(exc)[:200])
            standby.probed = True
            standby.up = standby.usable = False
            standby.lag_s = standby.lag_bytes = None
            return
        assert row is not None
        standby.up = True
        standby.in_recovery = bool(row["recovery"])
        standby.paused = bool(row["paused"])
        standby.replayed_lsn = row["replayed"]
        standby.replay_age_s = row["replay_age"]
        if primary_lsn is None or standby.replayed_lsn is None:
            standby.lag_bytes = standby.lag_s = None
        else:
            standby.lag_bytes = max(0, primary_lsn - standby.replayed_lsn)
            standby.lag_s = self.lag_of(standby.replayed_lsn, now, standby.replay_age_s)
        usable = (
            standby.in_recovery
            and not standby.paused
            and standby.lag_s is not None
            and standby.lag_s <= self.max_lag
        )
        if usable != standby.usable or not standby.probed:
            log.info(
                "standby.in_use" if usable else "standby.skipped",
                standby=standby.name,
                lag_s=standby.lag_s,
                paused=standby.paused,
                in_recovery=standby.in_recovery,
            )
        standby.usable = usable
        standby.probed = True

    async def _drop_probe(self, standby: Standby) -> None:
        conn = self._probes.pop(standby.name, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1.0)

    async def _sample_primary(self) -> int | None:
        """The primary's WAL position now, noted in the history (None: not measured)."""
        try:
            primary_lsn: int | None = await self._primary_lsn()
        except Exception as exc:
            # Without the primary no lag can be measured: no standby counts as in bounds.
            if self._primary_measured:
                log.warning("standby.primary_unmeasured", error=str(exc)[:200])
            primary_lsn = None
        self._primary_measured = primary_lsn is not None
        self._latest_primary = primary_lsn
        if primary_lsn is not None:
            self._note_primary(primary_lsn, time.monotonic())
        return primary_lsn

    async def probe_all(self) -> None:
        """Measure the primary's WAL position, then every standby's replay against it."""
        primary_lsn = await self._sample_primary()
        now = time.monotonic()
        await asyncio.gather(*(self._probe(s, primary_lsn, now) for s in self.standbys))
        self.measured.set()

    async def _every_interval(self, work: Callable[[], Awaitable[object]]) -> None:
        while True:
            await work()
            await asyncio.sleep(self.interval)

    async def _probe_now(self, standby: Standby) -> None:
        await self._probe(standby, self._latest_primary, time.monotonic())

    async def run(self) -> None:
        """Probe every `interval` seconds until cancelled: the primary and each standby on
        a timer of its own, so that one standby slow to answer (hung, cut off: its probe
        waits up to 2 s) neither delays the others' probes, which keep each one's lag
        bound, nor the primary's samples its lag is measured against."""
        loops: list[asyncio.Task[None]] = []
        try:
            await self.probe_all()
            loops.append(asyncio.create_task(self._every_interval(self._sample_primary)))
            for standby in self.standbys:
                probe = functools.partial(self._probe_now, standby)
                loops.append(asyncio.create_task(self._every_interval(probe)))
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            for standby in self.standbys:
                await self._drop_probe(standby)


async def open_standbys(
    dsns: Sequence[str],
    server_settings: dict[str, str],
    *,
    pool_size: int,
    connect_timeout: float,
    reset: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> list[Standby]:
    """One lazily connecting pool per DSN: a standby down at start-up is simply not used yet.

    Connections act as the primary's do (`server_settings`, `reset`), named READ_APPLICATION.
    """
    settings = {**server_settings, "application_name": READ_APPLICATION}
    standbys = []
    for dsn in dsns:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=pool_size,
            server_settings=settings,
            timeout=connect_timeout,
            reset=reset,
        )
        standbys.append(Standby(name=display_name(dsn), dsn=dsn, pool=pool))
    return standbys


async def first_answering(
    dsns: Sequence[str], refused: list[str] | None = None
) -> tuple[str, bool] | None:
    """The first DSN whose server lets us in, and whether it is in recovery (a standby).

    Those passed over are named in `refused`, if given, with why: away, or answering
    but refusing us (no such database, an unknown role, a bad option).
    """
    for dsn in dsns:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if refused is not None:
                refused.append(f"{display_name(dsn)}: {str(exc) or type(exc).__name__}")
            continue
        try:
            return dsn, bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
        finally:
            await conn.close()
    return None
