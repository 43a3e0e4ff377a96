"""A sealer that holds the sealing lock but has stopped sealing (its process hung) is fenced
off by a standby, and posts go on; a working sealer is never fenced."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
import structlog

from events import payloads as p
from ledger.runtime import connect, running
from ledger.store import sealer_fence
from ledger.store.head import read_head
from ledger.store.sealer import SEALER_LOCK
from ledger.tlog.keys import Signer
from tests.integration.domain.scenario import post, post_batch
from tests.unit.rules.world import ADMIN


def _bank(institution_id: str) -> p.InstitutionRegistered:
    return p.InstitutionRegistered(institution_id=institution_id, name="Bank", kind="bank")


async def test_a_lock_holder_that_stopped_sealing_is_fenced_and_posts_get_positions(
    db_dsn: str, log_signer: Signer
) -> None:
    hung = await connect(db_dsn)  # an instance's sealer session that holds the lock, hung
    await hung.execute("SELECT pg_advisory_lock($1)", SEALER_LOCK)
    try:
        async with running(db_dsn, signer=log_signer) as rt:
            rt.sealer.stall = 1.0
            with structlog.testing.capture_logs() as logs:
                result = await post(rt, _bank("B-1"), ADMIN)
            assert result.receipts[0].position == 1
            assert rt.sealer.active
        fenced = [e for e in logs if e["event"] == "sealer.fenced"]
        assert len(fenced) == 1
        assert fenced[0]["log_level"] == "warning"
        with pytest.raises((asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError)):
            await hung.fetchval("SELECT 1")  # its session was ended: it can seal nothing
    finally:
        await hung.close()


async def test_a_working_sealer_is_never_fenced_by_a_standby(
    db_dsn: str, log_signer: Signer
) -> None:
    """Two instances; the standby, quick to fence, posts for 3 s through the active one's
    sealing, with pauses longer than its patience between bursts."""
    async with running(db_dsn, signer=log_signer) as first:
        await post(first, _bank("B-0"), ADMIN)  # the first instance's sealer is the active one
        async with running(db_dsn, signer=log_signer) as second:
            second.sealer.stall = 0.3
            with structlog.testing.capture_logs() as logs:
                for i in range(6):
                    await asyncio.gather(
                        *(post(second, _bank(f"B-{i}-{j}"), ADMIN) for j in range(5))
                    )
                    await asyncio.sleep(0.5)
            assert first.sealer.active
            assert not second.sealer.active
    assert [e for e in logs if e["event"].startswith("sealer.fence")] == []


def _scans_of_events(plan: dict[str, object]) -> list[dict[str, object]]:
    found = [plan] if plan.get("Relation Name") == "events" else []
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        found += _scans_of_events(child)
    return found


async def test_the_stalled_check_reads_from_the_last_sealed_transaction_not_the_log(
    db_dsn: str, log_signer: Signer
) -> None:
    """What a standing-by instance may ask once a second reads the events of the last
    sealed transaction and after, however long the log: its sub-select in place of a value
    left the planner no range, and a soak saw it read all 405 000 events each time."""
    async with running(db_dsn, signer=log_signer) as rt:
        for n in range(20):
            await post_batch(rt, [_bank(f"B-{n}-{i}") for i in range(50)], ADMIN)
    conn = await connect(db_dsn)
    try:
        last = (await read_head(conn)).tx_id
        [explained] = json.loads(
            await conn.fetchval(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + sealer_fence._STALLED, last, 5.0
            )
        )
    finally:
        await conn.close()
    [scan] = _scans_of_events(explained["Plan"])
    assert scan["Index Name"] == "events_tx_order"
    read = int(scan["Actual Rows"]) + int(scan.get("Rows Removed by Filter", 0))  # type: ignore[call-overload]
    assert read <= 50  # one transaction's events of 1 000
