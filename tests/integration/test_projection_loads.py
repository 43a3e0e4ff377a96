"""Loading read-model documents stays a key lookup however far the table outgrew its statistics."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.runtime import connect
from ledger.store.packed_texts import pack
from projections import sme_exposure
from projections.queries import READ_DOCS
from projections.store import LOAD_DOCS, load_docs

TABLE = "proj_sme_exposure"


async def _store_docs(dsn: str, first: int, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"""INSERT INTO {TABLE} (generation, key, doc)
                SELECT 1, 'sme:' || n, '{{}}'::jsonb FROM generate_series($1::int, $2::int) AS n""",
            first,
            first + count - 1,
        )
    finally:
        await conn.close()


async def _plan_once_grown(dsn: str, plan_mode: str, prepare: str, execute: str) -> str:
    """The plan of a statement prepared and run while the table is young (100 documents,
    never analyzed), asked for again once it holds 20 100."""
    await _store_docs(dsn, 1, 100)
    conn = await connect(dsn)
    try:
        await conn.execute(f"SET plan_cache_mode = {plan_mode}")
        await conn.execute(prepare)
        for _ in range(10):  # enough executions for a cached plan to take over
            await conn.fetch(execute)
        await _store_docs(dsn, 101, 20_000)
        rows = await conn.fetch("EXPLAIN " + execute)
    finally:
        await conn.close()
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_a_load_looks_each_key_up_on_the_whole_primary_key(
    db_dsn: str, plan_mode: str
) -> None:
    plan = await _plan_once_grown(
        db_dsn,
        plan_mode,
        f"PREPARE load(int, text) AS {LOAD_DOCS.format(table=TABLE)}",
        f"EXECUTE load(1, '{pack(['sme:1', 'sme:2'])}')",
    )
    # Both key columns are index conditions; nothing reads the generation row by row.
    assert "Index Cond: ((generation = " in plan
    assert "(key = k.key)" in plan
    assert "Filter" not in plan


async def test_a_load_answers_the_documents_stored_and_leaves_out_missing_keys(
    db_dsn: str,
) -> None:
    await _store_docs(db_dsn, 1, 3)
    conn = await connect(db_dsn)
    try:
        docs = await load_docs(conn, sme_exposure.PROJECTION, 1, {"sme:2", "sme:9", "sme:3"})
    finally:
        await conn.close()
    assert docs == {"sme:2": {}, "sme:3": {}}


@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_a_read_model_read_looks_each_key_up_on_the_whole_primary_key(
    db_dsn: str, plan_mode: str
) -> None:
    plan = await _plan_once_grown(
        db_dsn,
        plan_mode,
        f"PREPARE read(text, text[]) AS {READ_DOCS.format(table=TABLE)}",
        "EXECUTE read('sme_exposure', '{sme:1}')",
    )
    assert "(key = k.key)" in plan
    assert "Filter" not in plan
