"""The read models' row tables (movements, as-of) against the rows a replay emits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from ledger.audit.compare import MISSING, Difference
from ledger.audit.compare_row_tables import compare_row_tables
from ledger.runtime import Runtime
from projections.runner import ProjectionRunner
from tests.integration.audit.scenario import play, play_all


async def _follow(runtime: Runtime, names: list[str] | None = None) -> int:
    runner = ProjectionRunner(runtime.dsn, names)
    try:
        return await runner.catch_up()
    finally:
        await runner.close()


@pytest.fixture
async def conn(runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the database's owner, who can change the read models' rows."""
    connection = await asyncpg.connect(runtime.dsn)
    yield connection
    await connection.close()


async def _compare(
    runtime: Runtime, conn: asyncpg.Connection
) -> tuple[dict[str, int], list[Difference]]:
    return await compare_row_tables(conn, runtime.dsn)


async def test_untouched_row_tables_equal_the_replay(
    runtime: Runtime, conn: asyncpg.Connection
) -> None:
    head = await play_all(runtime.ledger)
    await _follow(runtime)
    positions, differences = await _compare(runtime, conn)
    assert differences == []
    assert positions == {"proj_as_of_rows": head, "proj_movement_rows": head}
    for table in positions:
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") > head // 2, table


async def test_each_row_table_is_compared_through_its_own_checkpoint(
    runtime: Runtime, conn: asyncpg.Connection
) -> None:
    half = 0
    async for position in play(runtime.ledger):
        if not half and position >= 12:
            half = await _follow(runtime)
    end = await _follow(runtime, ["movements"])
    positions, differences = await _compare(runtime, conn)
    assert (positions, differences) == (
        {"proj_as_of_rows": half, "proj_movement_rows": end},
        [],
    )


async def test_a_changed_movement_amount_is_named_at_its_position(
    runtime: Runtime, conn: asyncpg.Connection
) -> None:
    await play_all(runtime.ledger)
    await _follow(runtime)
    position = await conn.fetchval(
        "SELECT min(position) FROM proj_movement_rows WHERE kind = 'compensated'"
    )
    changed = await conn.fetch(
        """UPDATE proj_movement_rows SET amount = amount + 1
            WHERE position = $1 AND institution_id = (
                SELECT min(institution_id) FROM proj_movement_rows WHERE position = $1)
        RETURNING amount""",
        position,
    )
    _, differences = await _compare(runtime, conn)
    assert [(d.projection, d.key) for d in differences] == [
        ("proj_movement_rows", f"position {position}")
    ] * 2
    live, replayed = differences[0].live, differences[1].replayed
    assert live[7] == changed[0]["amount"] == replayed[7] + 1
    assert live[:7] == replayed[:7]


async def test_removed_as_of_rows_are_named(runtime: Runtime, conn: asyncpg.Connection) -> None:
    await play_all(runtime.ledger)
    await _follow(runtime)
    removed = await conn.fetch("DELETE FROM proj_as_of_rows WHERE position = 7 RETURNING kind")
    _, differences = await _compare(runtime, conn)
    assert removed
    assert [(d.projection, d.key, d.live) for d in differences] == [
        ("proj_as_of_rows", "position 7", MISSING)
    ] * len(removed)
    assert sorted(d.replayed[6] for d in differences) == sorted(r["kind"] for r in removed)


async def test_a_row_at_a_position_the_log_does_not_have_is_named(
    runtime: Runtime, conn: asyncpg.Connection
) -> None:
    await play_all(runtime.ledger)
    await _follow(runtime)
    await conn.execute(
        """INSERT INTO proj_movement_rows
           SELECT generation, institution_id, program_id, business_date, 0, recorded_at,
                  guarantee_id, kind, amount, in_force, share
             FROM proj_movement_rows ORDER BY position LIMIT 1"""
    )
    _, differences = await _compare(runtime, conn)
    assert [(d.projection, d.key, d.replayed) for d in differences] == [
        ("proj_movement_rows", "position 0", differences[0].replayed)
    ]
    assert differences[0].live[3] == 0
