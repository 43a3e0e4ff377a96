"""Who spends the machine's CPU in a timed phase: CPU seconds per process, from /proc.

The service, its read-model runner, PostgreSQL and the load generator share
the same cores, so a rate is only half the story: the CPU each of them spends
per event says where the time goes, and what rate the cores allow at all
(cores x 1 s over the CPU of one event). Linux only; elsewhere, and for a
PostgreSQL on another machine, the parts that cannot be read are left out.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


@dataclass
class CpuSplit:
    """CPU spent between `start` and `stop`, split by process.

    With a `server` (an HTTP service's pid): that process, its children (the
    ledger's read-model runner) and the load generator, which is this
    process's children that finished in between (each load runs to its end
    inside the phase). Without one: this process itself, the client of the
    raw INSERTs. PostgreSQL in both cases, where its processes can be seen.
    """

    server: int | None = None
    _begin: dict[str, float | None] = field(default_factory=dict)
    _runners: list[int] = field(default_factory=list)

    def _read(self) -> dict[str, float | None]:
        readings: dict[str, float | None] = {}
        if self.server is None:
            readings["client"] = _own_seconds(resource.RUSAGE_SELF)
        else:
            readings["service"] = process_seconds(self.server)
            if self._runners:
                readings["runner"] = sum(process_seconds(p) for p in self._runners)
            readings["load_generator"] = _own_seconds(resource.RUSAGE_CHILDREN)
        readings["postgresql"] = postgres_seconds()
        return readings

    def start(self) -> None:
        """Take the first readings."""
        if self.server is not None:
            self._runners = children(self.server)
        self._begin = self._read()

    def stop(self, events: int) -> dict[str, float]:
        """Microseconds of CPU per event since `start`, by part, and their total."""
        end = self._read()
        split: dict[str, float] = {}
        for part, began in self._begin.items():
            ended = end.get(part)
            if began is not None and ended is not None and events > 0:
                split[part] = round((ended - began) / events * 1e6, 1)
        split["total"] = round(sum(split.values()), 1)
        return split
