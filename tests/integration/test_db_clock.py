"""Posts are recorded by the database server's clock, so instances whose own clocks
disagree still keep every stream in business order."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import asyncpg
import pytest
import structlog

from events import payloads as p
from ledger.db_clock import DatabaseClock
from ledger.posting import SHANGHAI
from ledger.rules.refusal import Refusal
from ledger.runtime import running
from tests.integration.domain.scenario import post
from tests.unit.rules.world import ADMIN

AHEAD_S = 3.0
"""How far the skewed machine's clock runs ahead."""


def _ahead() -> float:
    return time.time() + AHEAD_S


async def test_a_clock_ahead_is_read_as_the_databases_and_said(owner_pool: asyncpg.Pool) -> None:
    clock = DatabaseClock(owner_pool, local=_ahead)
    with structlog.testing.capture_logs() as logs:
        await clock.measure()
    server: dt.datetime = await owner_pool.fetchval("SELECT clock_timestamp()")
    assert abs((clock.now() - server).total_seconds()) < 0.5
    assert [line["event"] for line in logs] == ["clock.skew"]


async def _second_post_through_the_other(db_dsn: str, ahead: Callable[[], dt.datetime]) -> None:
    """An institution registered through an instance whose clock is `ahead`, then its net
    assets recorded at once through one with the database's clock, neither giving
    occurred_at."""
    bank = p.InstitutionRegistered(institution_id="B-1", name="Bank", kind="bank")
    assets = p.InstitutionNetAssetsRecorded(
        institution_id="B-1", net_assets=10**12, as_of=dt.date(2025, 12, 31)
    )
    async with running(db_dsn, clock=ahead) as fast, running(db_dsn) as right:
        await post(fast, bank, ADMIN)
        await post(right, assets, ADMIN)


async def test_instances_with_clocks_apart_keep_a_stream_in_order(
    db_dsn: str, owner_pool: asyncpg.Pool
) -> None:
    clock = DatabaseClock(owner_pool, local=_ahead)
    await clock.measure()
    await _second_post_through_the_other(db_dsn, clock.now)
    times = await owner_pool.fetch(
        "SELECT recorded_at FROM events WHERE stream_id = 'institution-B-1' ORDER BY seq"
    )
    assert len(times) == 2
    assert times[0]["recorded_at"] <= times[1]["recorded_at"]


async def test_an_instance_stamping_by_its_own_clock_ahead_would_refuse_the_other(
    db_dsn: str,
) -> None:
    """What the database's clock prevents: the same posts with the machine's clock."""
    with pytest.raises(Refusal, match="is earlier than"):
        await _second_post_through_the_other(
            db_dsn, lambda: dt.datetime.fromtimestamp(_ahead(), SHANGHAI)
        )


async def test_a_service_stamps_posts_by_the_database_clock_unless_given_one(
    db_dsn: str, owner_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = dt.datetime(2026, 1, 1, 9, 30, tzinfo=SHANGHAI)
    monkeypatch.setattr(DatabaseClock, "now", lambda _self: marked)
    async with running(db_dsn) as rt:
        await post(rt, p.InstitutionRegistered(institution_id="B-2", name="B", kind="bank"), ADMIN)
    recorded = await owner_pool.fetchval(
        "SELECT recorded_at FROM events WHERE stream_id = 'institution-B-2'"
    )
    assert recorded == marked
