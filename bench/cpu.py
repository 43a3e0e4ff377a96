"""Who spends the machine's CPU in a timed phase: CPU seconds per process, from /proc.

The service, its read-model runner, PostgreSQL and the load generator share
the same cores, so a rate is only half the story: the CPU each of them spends
per event says where the time goes, and what rate the cores allow at all
(cores x 1 s over the CPU of one event). Linux only; elsewhere, and for a
PostgreSQL on another machine, the parts that cannot be read are left out.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SAMPLE_S = 0.1
"""How often the backends of the measured database are looked up (bench/cpu.py Backends)."""


def process_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds (user and system) a running process has spent, 0.0 once it is gone;
    with `reaped`, also those of its children that have ended and been waited for."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process that can be read."""
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        found.append((int(entry.name), int(rest.split()[1]), head.partition("(")[2]))
    return found


def children(pid: int) -> list[int]:
    """The processes `pid` started (the service's read-model runner)."""
    return [p for p, parent, _ in _processes() if parent == pid]


def postgres_seconds() -> float | None:
    """CPU seconds of every PostgreSQL process on this machine; None when none is seen.

    Backends that served a closed connection count too: the server's main process has
    waited for them, and their time is its children's.
    """
    pids = [p for p, _, name in _processes() if name == "postgres"]
    return sum(process_seconds(p, reaped=True) for p in pids) if pids else None


def _own_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# What a backend of the ledger's database does, told by the statements it was seen
# running: the sealer's round, the read-model runner's, else the service's appends,
# reads and key checks. Backends of other databases (the peer's, the raw table's)
# are all "backend". (Both the sealer and the runner take advisory locks, so those
# statements tell nothing.)
# "ledger_seal(", not the runner's LISTEN "ledger_sealed".
_ROLES = (("ledger_seal(", "sealer"), ("proj", "runner"))


def _role(query: str) -> str | None:
    return next((role for word, role in _ROLES if word in query), None)


class Backends:
    """CPU of the PostgreSQL backends serving one database, sampled from another thread.

    PostgreSQL's total on this machine counts every other database too (tests of other
    work running beside the benchmark), so each backend connected to the measured
    database is looked up in pg_stat_activity every SAMPLE_S and its CPU read from
    /proc: a backend seen at the start counts from its reading then, a new one from
    zero. A backend that ends between two looks loses at most its last SAMPLE_S.
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._role: dict[int, str] = {}
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.own_cpu_s = 0.0
        """CPU the sampling thread itself spent (taken off the raw client's figure)."""

    def start(self) -> None:
        """Take the first look and go on looking until `stop`."""
        self._thread.start()
        self._started.wait(30)

    def stop(self) -> dict[str, float]:
        """CPU seconds since `start` by what each backend does."""
        self._stop.set()
        self._thread.join(30)
        out: dict[str, float] = {}
        for pid, last in self._last.items():
            role = self._role.get(pid, "appender" if self._role else "backend")
            out[role] = out.get(role, 0.0) + last - self._first.get(pid, 0.0)
        return out

    def _run(self) -> None:
        began = time.thread_time()
        try:
            asyncio.run(self._sample())
        finally:
            self._started.set()
            self.own_cpu_s = time.thread_time() - began

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            first = True
            while True:
                rows = await conn.fetch(
                    """SELECT pid, query FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()"""
                )
                for pid, query in rows:
                    seconds = process_seconds(pid)
                    if first:
                        self._first[pid] = seconds
                    self._last[pid] = seconds
                    role = _role(query or "")
                    if role is not None:
                        self._role[pid] = role
                if first:
                    first = False
                    self._started.set()
                if self._stop.is_set():
                    return
                await asyncio.sleep(SAMPLE_S)
        finally:
            await conn.close()


@dataclass
class CpuSplit:
    """CPU spent between `start` and `stop`, split by process.

    With a `server` (an HTTP service's pid): that process, its children (the
    ledger's read-model runner) and the load generator, which is this
    process's children that finished in between (each load runs to its end
    inside the phase). Without one: this process itself, the client of the
    raw INSERTs. PostgreSQL: with `database` (a DSN), the backends serving
    that database (Backends), split by what they do; else every PostgreSQL
    process on the machine.
    """

    server: int | None = None
    database: str | None = None
    _begin: dict[str, float | None] = field(default_factory=dict)
    _runners: list[int] = field(default_factory=list)
    _backends: Backends | None = None

    def _read(self) -> dict[str, float | None]:
        readings: dict[str, float | None] = {}
        if self.server is None:
            readings["client"] = _own_seconds(resource.RUSAGE_SELF)
        else:
            readings["service"] = process_seconds(self.server)
            if self._runners:
                readings["runner"] = sum(process_seconds(p) for p in self._runners)
            readings["load_generator"] = _own_seconds(resource.RUSAGE_CHILDREN)
        if self.database is None:
            readings["postgresql"] = postgres_seconds()
        return readings

    def start(self) -> None:
        """Take the first readings."""
        if self.server is not None:
            self._runners = children(self.server)
        if self.database is not None:
            self._backends = Backends(self.database)
            self._backends.start()
        self._begin = self._read()

    def stop(self, events: int) -> dict[str, float]:
        """Microseconds of CPU per event since `start`, by part, and their total."""
        end = self._read()
        spent: dict[str, float] = {}
        for part, began in self._begin.items():
            ended = end.get(part)
            if began is not None and ended is not None:
                spent[part] = ended - began
        if self._backends is not None:
            backends = self._backends.stop()
            spent["postgresql"] = sum(backends.values())
            if "client" in spent:
                spent["client"] -= self._backends.own_cpu_s
            if len(backends) > 1:
                spent.update({f"pg_{role}": s for role, s in backends.items()})
        if events <= 0:
            return {"total": 0.0}
        split = {part: round(s / events * 1e6, 1) for part, s in spent.items()}
        split["total"] = round(sum(v for part, v in split.items() if not part.startswith("pg_")), 1)
        return split
