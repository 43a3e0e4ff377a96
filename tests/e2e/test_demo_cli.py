"""`ledger demo` against a served ledger leaves no usable key behind, run after run."""

from __future__ import annotations

import asyncpg

from bench.service import Service
from tests.e2e.ledger_cli import run_ledger


async def _active_keys(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"))
    finally:
        await conn.close()


async def test_the_keys_the_demo_makes_for_itself_are_revoked_when_it_ends(
    service: Service, db_dsn: str
) -> None:
    """Nobody is shown them: two runs leave exactly the keys there were before."""
    before = await _active_keys(db_dsn)
    for stored in ("new events", "0 new events"):
        ran = await run_ledger("demo", "--url", service.url, LEDGER_DATABASE_URL=db_dsn)
        assert ran.code == 0, ran.err
        assert stored in ran.out
    assert await _active_keys(db_dsn) == before
