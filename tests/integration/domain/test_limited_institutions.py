"""An institution's own decision-state row says whether it has limits (migration 0022)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from events import payloads as p
from ledger.runtime import Runtime
from ledger.store.migrate import migrate
from tests import pg
from tests.integration.domain.scenario import post, seed
from tests.unit.rules.world import ADMIN, BANK, GUAR, issued, key

LIMITED = 22


async def _limited(rt: Runtime) -> dict[str, bool]:
    rows = await rt.pool.fetch("SELECT institution_id, limited FROM w_institutions")
    return {r["institution_id"]: r["limited"] for r in rows}


async def test_recording_net_assets_marks_only_that_institution_limited(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1"), key(GUAR))
    assert not any((await _limited(runtime)).values())
    recorded = p.InstitutionNetAssetsRecorded(
        institution_id=GUAR, net_assets=10_000_000_000, as_of=dt.date(2024, 12, 31)
    )
    await post(runtime, recorded, ADMIN)
    limited = await _limited(runtime)
    assert BANK in limited
    assert [i for i, flag in limited.items() if flag] == [GUAR]


async def test_the_upgrade_marks_the_institutions_that_already_have_limits(
    pg_admin_dsn: str,
) -> None:
    name = await pg.create_database(pg_admin_dsn, "template0")
    conn = await asyncpg.connect(pg.with_database(pg_admin_dsn, name))
    try:
        await migrate(conn, through=LIMITED - 1)
        await conn.execute(
            """INSERT INTO w_institutions (institution_id, kind, doc)
               SELECT 'I-' || n, 'guarantor', '\\x00'::bytea FROM generate_series(1, 20) AS n"""
        )
        await conn.execute(
            """INSERT INTO w_guarantor_limits (institution_id, doc)
               SELECT 'I-' || n, '\\x00'::bytea FROM generate_series(1, 20, 7) AS n"""
        )
        assert LIMITED in await migrate(conn)  # the upgrade to this release
        marked = await conn.fetch(
            "SELECT institution_id FROM w_institutions WHERE limited ORDER BY institution_id"
        )
    finally:
        await conn.close()
        await pg.drop_database(pg_admin_dsn, name)
    assert [r["institution_id"] for r in marked] == ["I-1", "I-15", "I-8"]
