"""Helpers for projection integration tests: post scenarios, read tables, compare with the fold."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from events.stored import LogEntry
from ledger.runtime import Runtime
from ledger.store.reads import head_position, read_log
from projections import queries
from projections.base import Docs
from projections.fold import Fold
from projections.registry import PROJECTIONS
from projections.runner import decode_rows
from projections.store import decode_doc
from tests.factory import posted
from tests.unit.projections.scenario import Step


async def post_steps(runtime: Runtime, steps: list[Step]) -> None:
    """Post steps through the real ledger, runs of one actor as one batch; all must be accepted."""
    i = 0
    while i < len(steps):
        who = steps[i][1]
        j = i
        while j < len(steps) and steps[j][1] == who:
            j += 1
        bodies = [body for body, _ in steps[i:j]]
        await runtime.ledger.post(posted(*bodies), who, batch=len(bodies) > 1)
        i = j


async def log_entries(conn: asyncpg.Connection | asyncpg.Pool) -> list[LogEntry]:
    """The whole sealed log."""
    entries: list[LogEntry] = []
    while rows := await read_log(conn, entries[-1].position if entries else 0, 5000):
        entries.extend(decode_rows(rows))
    return entries


async def fold_of_log(conn: asyncpg.Connection | asyncpg.Pool) -> Fold:
    """The pure fold of everything sealed so far."""
    return Fold().apply_all(await log_entries(conn))


async def table_docs(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> dict[str, Any]:
    """The documents readers see in a projection's table (its current generation)."""
    table = PROJECTIONS[name].table
    rows = await conn.fetch(
        f"""SELECT d.key, d.doc::text AS doc FROM {table} d
              JOIN projection_checkpoints c ON c.name = $1 AND c.generation = d.generation""",
        name,
    )
    return {r["key"]: decode_doc(r["doc"]) for r in rows}


async def wait_caught_up(conn: asyncpg.Connection | asyncpg.Pool, seconds: float = 20.0) -> int:
    """Wait until every projection reflects the head of the log; return that position."""
    async with asyncio.timeout(seconds):
        while True:
            head = await head_position(conn)
            if await queries.reflected_position(conn) == head:
                return head
            await asyncio.sleep(0.05)


async def table_rows(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> list[tuple[Any, ...]]:
    """The rows readers see in a projection's row table (its current generation), sorted."""
    rows_table = PROJECTIONS[name].rows
    assert rows_table is not None
    columns = ", ".join(f"r.{c}" for c in rows_table.columns)
    rows = await conn.fetch(
        f"""SELECT {columns} FROM {rows_table.table} r
              JOIN projection_checkpoints c ON c.name = $1 AND c.generation = r.generation
             ORDER BY r.position""",
        name,
    )
    return sorted(tuple(r) for r in rows)


def pure_rows(name: str, entries: list[LogEntry]) -> list[tuple[Any, ...]]:
    """The rows a projection's pure apply emits for `entries`, sorted."""
    proj = PROJECTIONS[name]
    docs = Docs()
    for entry in entries:
        if entry.type in proj.handles:
            proj.apply(docs, entry)
    return sorted(docs.take_rows())


async def assert_tables_equal_fold(conn: asyncpg.Connection | asyncpg.Pool) -> Fold:
    """Every projection's table holds exactly the documents of the fold of the log,
    and every row table exactly the rows its apply emits for the log."""
    entries = await log_entries(conn)
    fold = Fold(PROJECTIONS.values()).apply_all(entries)
    checkpoints = await queries.projection_positions(conn)
    for name, proj in PROJECTIONS.items():
        assert checkpoints[name] == fold.position, name
        assert await table_docs(conn, name) == fold.documents(name), name
        if proj.rows is not None:
            assert await table_rows(conn, name) == pure_rows(name, entries), name
    return fold


def _ids(fold: Fold, name: str, prefix: str) -> list[str]:
    return [key.removeprefix(prefix) for key in fold.documents(name) if key.startswith(prefix)]


async def assert_bodies_equal_fold(pool: asyncpg.Pool, fold: Fold) -> int:
    """Every read-model body the queries answer equals the fold's; returns how many compared."""
    checks = [
        (queries.sme_exposure, fold.sme_exposure, _ids(fold, "sme_exposure", "sme:")),
        (queries.guarantee_summary, fold.guarantee_summary, _ids(fold, "guarantees", "guarantee:")),
        (queries.claim_shares, fold.claim_shares, _ids(fold, "claims", "claim:")),
        (
            queries.institution_position,
            fold.institution_position,
            _ids(fold, "institutions", "institution:"),
        ),
        (queries.program_summary, fold.program_summary, _ids(fold, "programs", "program:")),
    ]
    compared = 0
    for query, pure, ids in checks:
        for one in ids:
            assert await query(pool, one) == pure(one), one
            compared += 1
    return compared
