"""Comparing the read models' row tables with the rows a replay emits.

Two read models keep rows beside their documents: the movements (what statements sum)
and the as-of read model (what `GET /v1/audit/state?business_date=` reads). A replay
folds documents only, so `replay --compare` alone never looked at those rows: one
rewritten would change a statement or an as-of answer unnoticed.

Here the log is folded once more, through those read models alone, keeping the rows
their applies emit (and the documents of the as-of read model, which a replay does not
fold: its daily totals are compared at its checkpoint's position, as compare_live
compares the others' documents); after each batch of events, the live rows of the same positions
are read in position order beside it and compared position by position, as multisets
(rows of one event have no order of their own). The live rows are read on a second
connection that shares the fold's snapshot, since the fold's connection always has
the next batch in flight. Neither side is ever held whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from ledger.audit.compare import (
    MISSING,
    SLICE,
    Aside,
    Difference,
    live_rows,
    merged_differences,
    packed_rows,
)
from ledger.audit.replay import ChainFold
from ledger.audit.scan import READ_ONLY_SETTINGS, scan_bodies, snapshot
from projections.base import Projection, RowTable
from projections.fold import Fold
from projections.packed import PackedDocs
from projections.registry import PROJECTIONS, REPLAYED

Row = tuple[Any, ...]


@dataclass
class _Side:
    """One read model's row table: the live rows (a cursor, by position) and the fold's."""

    table: RowTable
    through: int
    docs: PackedDocs
    live: AsyncIterator[asyncpg.Record]
    pending: asyncpg.Record | None = None
    done: bool = False

    async def live_through(self, last: int) -> dict[int, list[Row]]:
        """The live rows up to position `last` not read yet, by position (the cursor is
        read in position order, once)."""
        at = self.table.columns.index("position")
        rows: dict[int, list[Row]] = {}
        while not self.done:
            if self.pending is None:
                self.pending = await anext(self.live, None)
                if self.pending is None:
                    self.done = True
                    break
            row = tuple(self.pending)
            if row[at] > last:
                break
            rows.setdefault(row[at], []).append(row)
            self.pending = None
        return rows


def _row_projections() -> list[Projection]:
    return [proj for proj in PROJECTIONS.values() if proj.rows is not None]


def _describe(table: str, position: int, live: list[Row], replayed: list[Row]) -> list[Difference]:
    """Each row on one side only, at its position: the rows of one event have no order of
    their own, so they compare as multisets (moments compare by instant, in any zone)."""
    out: list[Difference] = []
    rest = list(replayed)
    for row in live:
        if row in rest:
            rest.remove(row)
        else:
            out.append(Difference(table, f"position {position}", "row", row, MISSING))
    out.extend(Difference(table, f"position {position}", "row", MISSING, r) for r in rest)
    return out


async def _compare_batch(sides: list[_Side], last: int) -> list[Difference]:
    """Compare the rows of the positions folded since the last call, through `last` (a
    live row at a position the log does not have, such as 0, comes with the first)."""
    found: list[Difference] = []
    for side in sides:
        at = side.table.columns.index("position")
        emitted: dict[int, list[Row]] = {}
        for row in side.docs.take_rows():
            emitted.setdefault(row[at], []).append(row)
        end = min(last, side.through)
        live = await side.live_through(end)
        for position in sorted(live.keys() | emitted.keys()):
            if position > end:
                continue  # past the read model's checkpoint: not in its table yet
            mine, theirs = live.get(position, []), emitted.get(position, [])
            if mine != theirs:
                found.extend(_describe(side.table.table, position, mine, theirs))
    return found


async def compare_row_tables(
    conn: asyncpg.Connection,
    dsn: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, int], list[Difference]]:
    """Fold the log through the read models that keep rows and compare their row tables
    with the live ones, each through the position its checkpoint reflects; return those
    positions (by row table) and every row on one side only."""
    async with snapshot(conn):
        checkpoints = {
            r["name"]: (int(r["generation"]), int(r["position"]))
            for r in await conn.fetch(
                "SELECT name, generation, position FROM projection_checkpoints"
            )
        }
        chosen = [p for p in _row_projections() if checkpoints.get(p.name, (0, 0))[1] > 0]
        if not chosen:
            return {}, []
        exported: str = await conn.fetchval("SELECT pg_export_snapshot()")
        reader = await asyncpg.connect(dsn, timeout=10, server_settings=READ_ONLY_SETTINGS)
        try:
            async with reader.transaction(isolation="repeatable_read", readonly=True):
                await reader.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
                return await _fold_and_compare(conn, reader, chosen, checkpoints, progress)
        finally:
            await reader.close()


async def _fold_and_compare(
    conn: asyncpg.Connection,
    reader: asyncpg.Connection,
    chosen: list[Projection],
    checkpoints: dict[str, tuple[int, int]],
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, int], list[Difference]]:
    fold = Fold(chosen)
    sides: list[_Side] = []
    for proj in chosen:
        assert proj.rows is not None
        generation, through = checkpoints[proj.name]
        docs = fold.docs[proj.name]
        docs.keep_rows = True
        query = (
            f"SELECT {', '.join(proj.rows.columns)} FROM {proj.rows.table} "  # noqa: S608
            "WHERE generation = $1 AND position <= $2 ORDER BY position"
        )
        live = reader.cursor(query, generation, through, prefetch=2000).__aiter__()
        sides.append(_Side(proj.rows, through, docs, live))
    end = max(side.through for side in sides)
    # The documents of a read model a replay does not fold (the as-of one's daily totals),
    # compared here as compare_live compares the others': at its checkpoint's position.
    documented = {p.name: checkpoints[p.name] for p in chosen if p.name not in REPLAYED}
    pending: dict[int, list[str]] = {}
    for name, (_, through) in documented.items():
        if through < end:
            pending.setdefault(through, []).append(name)
    aside = Aside()
    folder = ChainFold(fold)
    found: list[Difference] = []
    async with contextlib.aclosing(scan_bodies(conn, through=end)) as batches:
        async for batch in batches:
            for position, stored_hash, body in batch:
                folder.take(position, stored_hash, body)
                for name in pending.pop(position, []):
                    aside.keep(fold, name)
            found.extend(await _compare_batch(sides, folder.reached))
            if progress is not None:
                progress(folder.reached, end)
    fold.settle()
    for name, (generation, through) in sorted(documented.items()):
        replayed = (
            packed_rows(fold.docs[name].packed(SLICE)) if through == end else aside.rows(name)
        )
        stored = live_rows(reader, PROJECTIONS[name].table, generation)
        found.extend([d async for d in merged_differences(name, stored, replayed)])
    return {side.table.table: side.through for side in sides}, found
