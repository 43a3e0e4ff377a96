"""The audit commands on random histories with late business dates: an untouched ledger,
its read models applied in batches that end mid-post, shows no difference."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from ledger.audit.compare_row_tables import compare_row_tables
from ledger.audit.decisions import decide_again
from tests import pg
from tests.integration.business.posted_store import posted_store
from tests.integration.business.test_as_of_read_model import GAPS, OPS, dated
from tests.unit.projections.scenario import random_steps


@settings(max_examples=6)
@given(ops=OPS, gaps=GAPS)
async def test_row_tables_and_decision_state_equal_the_log_folded_again(
    pg_admin_dsn: str, pg_template: str, ops: list[tuple[int, int, int]], gaps: Any
) -> None:
    steps = dated(random_steps(ops).accepted, gaps)
    async with posted_store(pg_admin_dsn, pg_template, steps) as (conn, entries):
        dsn = pg.with_database(pg_admin_dsn, await conn.fetchval("SELECT current_database()"))
        positions, differences = await compare_row_tables(conn, dsn)
        decided = await decide_again(conn)
    assert differences == []
    assert set(positions.values()) == {len(entries)}
    assert (decided.fault, decided.differences, decided.events) == (None, [], len(entries))
