"""The runner's document loads stay on the whole primary key as its read models grow."""

from __future__ import annotations

import asyncpg

from projections.runner import runner_connection
from projections.store import LOAD_DOCS

TABLE = "proj_sme_exposure"


async def _store_docs(dsn: str, first: int, count: int, *, analyze: bool = False) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"""INSERT INTO {TABLE} (generation, key, doc)
                SELECT 1, 'sme:' || n, '{{}}'::jsonb FROM generate_series($1::int, $2::int) AS n""",
            first,
            first + count - 1,
        )
        if analyze:
            await conn.execute(f"ANALYZE {TABLE}")
    finally:
        await conn.close()


async def test_a_load_planned_on_a_small_table_looks_keys_up_once_the_table_is_large(
    db_dsn: str,
) -> None:
    await _store_docs(db_dsn, 1, 100)
    conn = await runner_connection(db_dsn)
    try:
        await conn.execute(f"PREPARE load(int, text[]) AS {LOAD_DOCS.format(table=TABLE)}")
        for _ in range(10):  # enough executions for a cached generic plan to take over
            await conn.fetch("EXECUTE load(1, '{sme:1,sme:2}')")
        await _store_docs(db_dsn, 101, 20_000)
        rows = await conn.fetch("EXPLAIN EXECUTE load(1, '{sme:1,sme:2}')")
    finally:
        await conn.close()
    plan = "\n".join(r[0] for r in rows)
    # The key is an index condition, not a filter run on every row of the generation.
    assert "key = ANY" in plan
    assert "Filter" not in plan
