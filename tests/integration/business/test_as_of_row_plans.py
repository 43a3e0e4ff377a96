"""The as-of queries that read entities' rows read them through the by-date index, which
holds no '*' rows (migration 0026): each says so, so the planner may use it."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from ledger.audit import as_of_sums
from ledger.audit.as_of_institutions import BREAKER_SQL
from ledger.audit.as_of_rows import ROWS_SQL
from projections import as_of


@pytest.fixture
async def conn(owner_conn: asyncpg.Connection) -> asyncpg.Connection:
    # As the service's sessions run (ledger/runtime.py): a query no index serves
    # shows as a sequential scan. A generic plan, as a prepared statement comes to
    # use: with the entities known, the planner could see for itself that none is '*'.
    await owner_conn.execute("SET enable_seqscan = off")
    await owner_conn.execute("SET plan_cache_mode = force_generic_plan")
    return owner_conn


def _values(plan: Any, name: str) -> list[str]:
    """Every value of a field named `name` in a plan (EXPLAIN's JSON)."""
    found: list[str] = []
    if isinstance(plan, dict):
        if name in plan:
            found.append(str(plan[name]))
        for value in plan.values():
            found += _values(value, name)
    elif isinstance(plan, list):
        for value in plan:
            found += _values(value, name)
    return found


def _indexes(plan: Any) -> set[str]:
    """Every index a plan (EXPLAIN's JSON) reads."""
    return set(_values(plan, "Index Name"))


async def _plan(conn: asyncpg.Connection, sql: str, types: str, args: str) -> Any:
    """The generic plan a prepared `sql` comes to use (EXPLAIN's JSON)."""
    await conn.execute(f"PREPARE q ({types}) AS {sql}")
    return json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE q ({args})"))


@pytest.mark.parametrize(
    ("sql", "types", "args"),
    [
        (
            ROWS_SQL,
            "int, text[], date, bigint, timestamptz",
            "1, '{sme:S-1,guarantee:G-1}', '2026-06-30', 10, '2026-07-01T00:00:00Z'",
        ),
        (
            BREAKER_SQL,
            "int, text[], date, bigint, text[], bigint, timestamptz",
            "1, '{breaker:I-1}', '2026-06-30', 10, '{P-1}', 2026, NULL",
        ),
        (
            as_of_sums.late_sql(len(as_of.SUMS_I)),
            "int, text[], date, bigint",
            "1, '{institution:I-1}', '2026-06-30', 10",
        ),
        (
            as_of_sums.late_sql(len(as_of.SUMS_I), known_at=True),
            "int, text[], date, bigint, timestamptz",
            "1, '{institution:I-1}', '2026-06-30', 10, '2026-07-01T00:00:00Z'",
        ),
    ],
    ids=["rows", "breakers", "late sums", "late sums known at"],
)
async def test_entity_rows_are_read_through_the_by_date_index(
    conn: asyncpg.Connection, sql: str, types: str, args: str
) -> None:
    assert "proj_as_of_rows_by_date" in _indexes(await _plan(conn, sql, types, args))


async def test_late_sums_with_no_moment_bound_the_position_in_the_index(
    conn: asyncpg.Connection,
) -> None:
    """Only the rows placed after the cut are read: not every row dated up to the day."""
    sql = as_of_sums.late_sql(len(as_of.SUMS_I))
    plan = await _plan(
        conn, sql, "int, text[], date, bigint", "1, '{institution:I-1}', '2026-06-30', 10"
    )
    conditions = _values(plan, "Index Cond")
    assert any('"position" > $4' in c for c in conditions), conditions


async def test_star_rows_are_not_held_by_the_by_date_index(conn: asyncpg.Connection) -> None:
    predicate = await conn.fetchval(
        """SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i
            WHERE i.indexrelid = 'proj_as_of_rows_by_date'::regclass"""
    )
    assert predicate == "(entity <> '*'::text)"
