"""Upgrading to migration 0009 starts the running volume totals from the guarantees stored."""

from __future__ import annotations

import asyncpg

from ledger.store.migrate import migrate
from tests import pg

TOTALS = 9


async def test_the_volume_totals_start_from_every_guarantee_stored_before(
    pg_admin_dsn: str,
) -> None:
    name = await pg.create_database(pg_admin_dsn, "template0")
    conn = await asyncpg.connect(pg.with_database(pg_admin_dsn, name))
    try:
        await migrate(conn, through=TOTALS - 1)
        await conn.execute(
            """INSERT INTO w_guarantees
                   (guarantee_id, program_id, sme_id, loan_amount, balance, volume_roles, doc)
               SELECT 'G-' || n, 'P-' || n % 2, 'SME-' || n % 7, 1000 + n, 0,
                      CASE WHEN n % 3 = 0 THEN '{bank,guarantor}'
                           ELSE '{bank,guarantor,national_fund}' END::text[],
                      '\\x00'::bytea
                 FROM generate_series(1, 500) AS n"""
        )
        summed = await conn.fetch(
            """SELECT g.program_id, r.role, sum(g.loan_amount) AS v
                 FROM w_guarantees g, unnest(g.volume_roles) AS r(role) GROUP BY 1, 2"""
        )
        assert TOTALS in await migrate(conn)  # the upgrade to this release
        totals = await conn.fetch(
            "SELECT program_id, role, sum(volume) AS v FROM w_program_volume GROUP BY 1, 2"
        )
        shards = await conn.fetchval("SELECT count(DISTINCT shard) FROM w_program_volume")
    finally:
        await conn.close()
        await pg.drop_database(pg_admin_dsn, name)
    as_dict = [
        {(r["program_id"], r["role"]): int(r["v"]) for r in rows} for rows in (summed, totals)
    ]
    assert as_dict[1] == as_dict[0]
    assert len(as_dict[0]) == 6  # two programs, three roles
    assert shards == 7  # one per SME here: an SME's loans always add to one shard
