"""Property: for random valid histories, the SQL read models equal the pure in-memory fold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.runtime import running
from projections.runner import ProjectionRunner
from tests import pg
from tests.integration.projections.support import (
    assert_bodies_equal_fold,
    assert_tables_equal_fold,
    post_steps,
)
from tests.unit.projections.scenario import OP_KINDS, random_steps

OPS = st.lists(
    st.tuples(st.integers(0, OP_KINDS - 1), st.integers(0, 50), st.integers(1, 100)),
    min_size=5,
    max_size=25,
)


@settings(max_examples=5, deadline=None)
@given(ops=OPS, batch_size=st.integers(1, 40))
async def test_sql_read_models_equal_the_fold_of_the_same_events(
    pg_admin_dsn: str, pg_template: str, ops: list[tuple[int, int, int]], batch_size: int
) -> None:
    """Posted through the real ledger, projected in batches of any size: same as the fold."""
    steps = random_steps(ops).accepted
    name = await pg.create_database(pg_admin_dsn, pg_template)
    dsn = pg.with_database(pg_admin_dsn, name)
    try:
        async with running(dsn, pool_size=2) as runtime:
            await post_steps(runtime, steps)
            runner = ProjectionRunner(dsn, batch_size=batch_size)
            try:
                await runner.catch_up()
            finally:
                await runner.close()
            fold = await assert_tables_equal_fold(runtime.pool)
            assert await assert_bodies_equal_fold(runtime.pool, fold) > 0
    finally:
        await pg.drop_database(pg_admin_dsn, name)
