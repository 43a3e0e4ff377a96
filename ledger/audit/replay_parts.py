"""`ledger audit replay` in two processes: half the read models folded here, half in a second.

A replay is pure Python folding, one event at a time, so one process uses one core.
The read models are independent of one another, so two processes can each fold
some of them from the same log, on two cores. Both read one snapshot of the
database (the second imports the first's with SET TRANSACTION SNAPSHOT), so they
see the same log; both recompute every link, so each folds verified history only;
and both stop at the same event (the same `to_position`, `as_of` and business date
rules, ChainFold). The second folds the read models that come last in the state file
and writes each as the file holds it; the first writes its own while the second
finishes, then copies those bytes in: the file is byte for byte the one a single
process writes. Each keeps half the documents in memory (Fold's budget) that one
process would, so the two together hold about what one did.

A second process costs about half a second to start, so a short log is folded in
one (PARTS_FROM). The second process is `python -m ledger.audit.replay_part`. It stops
at once if the first ends before it (killed, say): the first holds its standard input
open until it has read its answer, and nothing else closes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import msgspec

from ledger.audit.child_process import finish, last_line, refusal, start, stop
from ledger.audit.replay import ChainFold, ReplayError, fold_through, last_position
from ledger.audit.scan import snapshot
from projections.fold import HELD_BYTES, Fold
from projections.registry import REPLAYED

PARTS_FROM = 200_000
"""Events from which a replay is folded in two processes (when two cores are there)."""

SECOND_PART = ("programs", "sme_exposure")
"""The read models the second process folds: the last in the state file's order, so the
first process writes the others while it waits. On a store of a million events (800 000
SMEs, 300 000 guarantees) these took 13.7 s to fold and write and the other four 14.5 s,
beside the 4.4 s that each process pays to read, decode and check the log."""
assert tuple(sorted(REPLAYED))[-len(SECOND_PART) :] == SECOND_PART


PART_MODULE = "ledger.audit.replay_part"
"""The second process, as `python -m PART_MODULE`."""

IMPORTED = b"imported\n"
"""The second process's first line: it has taken the snapshot."""


class Job(msgspec.Struct, frozen=True):
    """What the second process is asked to fold, sent on its standard input."""

    dsn: str
    snapshot: str
    end: int
    names: list[str]
    directory: str
    budget: int
    as_of: dt.datetime | None = None
    business_date: dt.date | None = None


class Outcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """What the second process answers on its standard output: its position, or why not."""

    position: int = 0
    error: str | None = None
    """'replay', 'lookup' or 'spill': which error the first process raises in turn."""
    message: str = ""


@dataclass
class Parted:
    """A replay's read models: those folded here, and the second process folding the rest
    (None when the replay ran in one process). Call `rest`, or `abandon` on failure."""

    fold: Fold
    second: asyncio.subprocess.Process | None = None
    directory: Path | None = None
    said: bytes = b""
    """What the second process wrote before the fold here ended, but for 'imported'."""

    @property
    def later(self) -> tuple[str, ...]:
        """The read models the second process folds."""
        return SECOND_PART if self.second is not None else ()

    async def rest(self) -> dict[str, Path]:
        """Once the second process is done, the files of its read models; raises what its
        fold raised."""
        if self.second is None or self.directory is None:
            return {}
        outcome = await _outcome(self.second, self.said)
        if outcome.position != self.fold.position:
            raise ReplayError(
                f"the two processes of the replay stopped at positions {self.fold.position} "
                f"and {outcome.position}"
            )
        return {name: self.directory / name for name in SECOND_PART}

    async def abandon(self) -> None:
        """Stop the second process if it still runs."""
        if self.second is not None:
            await stop(self.second)


def cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


async def replay_parted(
    conn: asyncpg.Connection,
    dsn: str,
    directory: Path,
    *,
    to_position: int | None = None,
    as_of: dt.datetime | None = None,
    business_date: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    parts_from: int | None = None,
) -> Parted:
    """Every replayed read model through `to_position` (default the head), as `replay`
    folds them, in two processes when the log is long enough and two cores are there.

    The second process's read models are written under `directory`. Raises what `replay`
    raises (ReplayError, LookupError, SpillError), from this fold here and from the
    second's in `Parted.rest`.
    """
    async with snapshot(conn):
        end = await last_position(conn, to_position)
        if end < (PARTS_FROM if parts_from is None else parts_from) or cores() < 2:
            folder = ChainFold(Fold(), as_of, None, business_date)
            return Parted(await fold_through(conn, folder, end, progress))
        budget = HELD_BYTES // 2
        exported = await _exported_snapshot(conn)
        job = Job(
            dsn, exported, end, list(SECOND_PART), str(directory), budget, as_of, business_date
        )
        first = [proj for name, proj in REPLAYED.items() if name not in SECOND_PART]
        second = await start(PART_MODULE, job)
        parted = Parted(Fold(first, budget=budget), second, directory)
        try:
            folder = ChainFold(parted.fold, as_of, None, business_date)
            await fold_through(conn, folder, end, progress)
            # The snapshot lives as long as this transaction: the second must have taken
            # it before it ends (it says so at once; nothing on a failure).
            assert second.stdout is not None
            said = await second.stdout.readline()
            parted.said = b"" if said == IMPORTED else said
        except BaseException:
            await parted.abandon()
            raise
    return parted


async def _exported_snapshot(conn: asyncpg.Connection) -> str:
    # Not in a savepoint: PostgreSQL exports no snapshot from a subtransaction. Standbys
    # export them too, since PostgreSQL 10.
    exported: str = await conn.fetchval("SELECT pg_export_snapshot()")
    return exported


async def _outcome(second: asyncio.subprocess.Process, said: bytes) -> Outcome:
    out, err = await finish(second)
    lines = (said + out).strip().splitlines()
    try:
        outcome = msgspec.json.decode(lines[-1], type=Outcome) if lines else None
    except msgspec.DecodeError:  # not JSON, or not an Outcome
        outcome = None
    if outcome is None or second.returncode != 0:
        # What it died of: the last line of its traceback.
        died = last_line(err)
        raise ReplayError(f"the replay's second process failed (exit {second.returncode}): {died}")
    if outcome.error is not None:
        raise refusal(outcome.error, outcome.message)
    return outcome
