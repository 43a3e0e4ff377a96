"""sealed_through: the head once every event recorded by a moment is sealed in it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from ledger.rules.footprint import Footprint
from ledger.runtime import connect, running
from ledger.store import decisions
from ledger.store.recorded_by import SEALED_THROUGH, StillStoring, sealed_through
from ledger.tlog.keys import Signer


@contextlib.asynccontextmanager
async def _appending(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding the append lock, as a post being stored does."""
    conn = await connect(db_dsn)
    try:
        await conn.execute("BEGIN")
        await decisions.prepare(conn, Footprint())
        yield conn
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _beside_an_append(
    db_dsn: str, signer: Signer
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
    """A connection holding the append lock, and a running ledger's pooled connection."""
    async with (
        running(db_dsn, signer=signer) as rt,
        _appending(db_dsn) as appending,
        rt.pool.acquire() as conn,
    ):
        yield appending, conn


def _in(seconds: float) -> float:
    """The deadline `seconds` from now, on the event loop's clock."""
    return asyncio.get_running_loop().time() + seconds


async def test_an_append_under_way_at_the_moment_is_waited_for(
    db_dsn: str, log_signer: Signer
) -> None:
    async with _beside_an_append(db_dsn, log_signer) as (appending, conn):
        moment = await appending.fetchval("SELECT clock_timestamp()")
        read = asyncio.create_task(sealed_through(conn, moment, _in(10)))
        await asyncio.sleep(0.5)
        assert not read.done()
        await appending.execute("ROLLBACK")
        assert await asyncio.wait_for(read, 5) == 0


async def test_an_append_that_does_not_end_in_time_is_said(
    db_dsn: str, log_signer: Signer
) -> None:
    async with _beside_an_append(db_dsn, log_signer) as (appending, conn):
        moment = await appending.fetchval("SELECT clock_timestamp()")
        with pytest.raises(StillStoring):
            await sealed_through(conn, moment, _in(0.5))


async def test_an_append_begun_after_the_moment_is_not_waited_for(
    db_dsn: str, log_signer: Signer
) -> None:
    async with _beside_an_append(db_dsn, log_signer) as (appending, conn):
        moment = await appending.fetchval("SELECT now() - interval '1 minute'")
        assert await sealed_through(conn, moment, _in(0.5)) == 0


async def test_the_check_walks_the_log_from_its_head_not_whole_tables(
    owner_conn: asyncpg.Connection,
) -> None:
    # As the service's sessions run: a query no index serves shows as a sequential scan.
    await owner_conn.execute("SET enable_seqscan = off")
    await owner_conn.execute("SET plan_cache_mode = force_generic_plan")
    await owner_conn.execute(f"PREPARE q (timestamptz) AS {SEALED_THROUGH}")
    plan = json.loads(
        await owner_conn.fetchval("EXPLAIN (FORMAT JSON) EXECUTE q ('2026-07-01T00:00:00Z')")
    )
    scans = _scans(plan)
    assert ("events_tx_order", True) in scans
    # Every other scan is a lookup by key, but the head's: the last position, read
    # backwards along event_log's key and stopped at the first row.
    assert [index for index, bounded in scans if not bounded] == ["event_log_pkey"]


def _scans(plan: Any) -> list[tuple[str, bool]]:
    """Each index scan of a plan (EXPLAIN's JSON): its index, and whether it has a bound."""
    found: list[tuple[str, bool]] = []
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.append((str(plan["Index Name"]), "Index Cond" in plan))
        for value in plan.values():
            found += _scans(value)
    elif isinstance(plan, list):
        for value in plan:
            found += _scans(value)
    return found
