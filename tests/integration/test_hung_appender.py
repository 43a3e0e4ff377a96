"""An appender whose process stops mid-transaction (hung, swapped out, cut off) is ended after
5 s idle, so it neither holds back every later event's position nor keeps its locks for
the session's 60 s; a working appender's other transactions keep the session's bound."""

from __future__ import annotations

import asyncio

import asyncpg

from events import payloads as p
from ledger.rules.footprint import Footprint
from ledger.runtime import connect, running
from ledger.store import decisions
from ledger.tlog.keys import Signer
from tests.integration.domain.scenario import post
from tests.unit.rules.world import ADMIN


def _bank(institution_id: str) -> p.InstitutionRegistered:
    return p.InstitutionRegistered(institution_id=institution_id, name="Bank", kind="bank")


async def test_an_appender_hung_after_writing_is_ended_and_later_posts_get_positions(
    db_dsn: str, log_signer: Signer
) -> None:
    async with running(db_dsn, signer=log_signer) as rt:
        await post(rt, _bank("B-0"), ADMIN)
        hung = await connect(db_dsn)  # another instance's append, its process stopped
        try:
            await hung.execute("BEGIN")
            await decisions.prepare(hung, Footprint())
            await hung.fetchval("SELECT pg_current_xact_id()")  # it has written: an xid
            loop = asyncio.get_running_loop()
            started = loop.time()
            result = await post(rt, _bank("B-1"), ADMIN)  # sealed only once it has ended
            waited = loop.time() - started
            assert result.receipts[0].position == 2
            assert 4.0 < waited < 9.0
            gone = await rt.pool.fetchval(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)",
                hung.get_server_pid(),
            )
            assert gone
        finally:
            await hung.close()


async def test_the_appenders_bound_ends_with_its_transaction(db_dsn: str) -> None:
    conn = await connect(db_dsn)
    try:
        show = "SHOW idle_in_transaction_session_timeout"
        async with conn.transaction():
            before = await conn.fetchval(show)
            await decisions.prepare(conn, Footprint())
            during = await conn.fetchval(show)
        after = await conn.fetchval(show)
    finally:
        await conn.close()
    assert (before, during, after) == ("1min", "5s", "1min")


async def test_a_session_that_names_no_bound_keeps_its_own(db_dsn: str) -> None:
    """An import's session (no service settings) holds one long transaction across its
    chunks: ledger_prepare leaves its idle bound alone."""
    conn = await asyncpg.connect(db_dsn)
    try:
        show = "SHOW idle_in_transaction_session_timeout"
        async with conn.transaction():
            await decisions.prepare(conn, Footprint(), lock=False)
            during = await conn.fetchval(show)
    finally:
        await conn.close()
    assert during == "0"
