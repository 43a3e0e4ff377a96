"""sealed_through: the head once every event recorded by a moment is sealed in it."""

from __future__ import annotations

import asyncio

import pytest

from events import payloads as p
from ledger.rules.footprint import Footprint
from ledger.runtime import connect, running
from ledger.store import decisions
from ledger.store.recorded_by import StillStoring, sealed_through
from ledger.tlog.keys import Signer
from tests.integration.domain.scenario import post
from tests.unit.rules.world import ADMIN


def _bank(institution_id: str) -> p.InstitutionRegistered:
    return p.InstitutionRegistered(institution_id=institution_id, name="Bank", kind="bank")


async def test_an_append_under_way_at_the_moment_is_waited_for(
    db_dsn: str, log_signer: Signer
) -> None:
    async with running(db_dsn, signer=log_signer) as rt:
        await post(rt, _bank("B-0"), ADMIN)
        appending = await connect(db_dsn)  # holds the append lock, as a post being stored
        try:
            await appending.execute("BEGIN")
            await decisions.prepare(appending, Footprint())
            moment = await appending.fetchval("SELECT clock_timestamp()")
            loop = asyncio.get_running_loop()
            async with rt.pool.acquire() as conn:
                read = asyncio.create_task(sealed_through(conn, moment, loop.time() + 10))
                await asyncio.sleep(0.5)
                assert not read.done()
                await appending.execute("ROLLBACK")
                assert await asyncio.wait_for(read, 5) == 1
        finally:
            await appending.close()


async def test_an_append_that_does_not_end_in_time_is_said(
    db_dsn: str, log_signer: Signer
) -> None:
    async with running(db_dsn, signer=log_signer) as rt:
        appending = await connect(db_dsn)
        try:
            await appending.execute("BEGIN")
            await decisions.prepare(appending, Footprint())
            moment = await appending.fetchval("SELECT clock_timestamp()")
            loop = asyncio.get_running_loop()
            async with rt.pool.acquire() as conn:
                with pytest.raises(StillStoring):
                    await sealed_through(conn, moment, loop.time() + 0.5)
        finally:
            await appending.close()
