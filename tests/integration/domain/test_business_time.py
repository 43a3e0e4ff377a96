"""Business time (docs/statements.md): occurred_at not far ahead of the clock, streams in order."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from events import payloads as p
from ledger.posting import PostResult
from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime, running
from tests.factory import posted
from tests.integration.domain.scenario import as_posted, event_count, post, seed
from tests.unit.rules.world import BANK, GUAR, issued, key

SH = dt.timezone(dt.timedelta(hours=8))


def _at(text: str) -> str:
    return dt.datetime.fromisoformat(text).isoformat()


async def _issued(rt: Runtime, occurred_at: str) -> None:
    await seed(rt, "little_giant")
    await post(rt, issued("G-1"), key(GUAR), occurred_at=occurred_at)


async def test_occurred_at_more_than_five_minutes_ahead_is_refused_with_its_path(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    ahead = (dt.datetime.now(SH) + dt.timedelta(minutes=6)).isoformat()
    before = await event_count(runtime)
    with pytest.raises(Refusal) as refused:
        await post(runtime, issued("G-1"), key(GUAR), occurred_at=ahead)
    assert (refused.value.status, refused.value.path) == (422, "$.occurred_at")
    assert await event_count(runtime) == before


async def test_occurred_at_a_little_ahead_is_accepted(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    ahead = (dt.datetime.now(SH) + dt.timedelta(minutes=4)).isoformat()
    result = await post(runtime, issued("G-1"), key(GUAR), occurred_at=ahead)
    assert result.receipts[0].stream_version == 1


async def test_an_event_earlier_than_its_stream_is_invalid_state_naming_both_times(
    runtime: Runtime,
) -> None:
    await _issued(runtime, "2025-06-01T10:00:00+08:00")
    before = await event_count(runtime)
    repaid = p.LoanRepaid(guarantee_id="G-1", amount=1)
    with pytest.raises(Refusal) as refused:
        await post(runtime, repaid, key(BANK), occurred_at="2025-05-31T10:00:00+08:00")
    assert (refused.value.status, refused.value.slug) == (409, "invalid-state")
    assert _at("2025-05-31T10:00:00+08:00") in refused.value.detail
    assert _at("2025-06-01T10:00:00+08:00") in refused.value.detail
    assert await event_count(runtime) == before


async def test_an_event_at_the_same_business_time_as_its_stream_is_accepted(
    runtime: Runtime,
) -> None:
    await _issued(runtime, "2025-06-01T10:00:00+08:00")
    repaid = p.LoanRepaid(guarantee_id="G-1", amount=1)
    # The same instant in another offset is not earlier.
    result = await post(runtime, repaid, key(BANK), occurred_at="2025-06-01T02:00:00+00:00")
    [receipt] = result.receipts
    assert (receipt.stream_id, receipt.stream_version) == ("guarantee-G-1", 2)
    assert receipt.position == await event_count(runtime)


async def test_an_event_without_occurred_at_takes_the_recording_time_as_its_business_time(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1"), key(GUAR))
    repaid = p.LoanRepaid(guarantee_id="G-1", amount=1)
    with pytest.raises(Refusal) as refused:
        await post(runtime, repaid, key(BANK), occurred_at="2025-06-01T10:00:00+08:00")
    assert refused.value.slug == "invalid-state"


async def test_a_refused_batch_event_leaves_the_stream_time_as_it_was(runtime: Runtime) -> None:
    """The batch's first event would have moved the stream on; the second is refused."""
    await _issued(runtime, "2025-06-01T10:00:00+08:00")
    repay = p.LoanRepaid(guarantee_id="G-1", amount=1)
    batch = posted(
        as_posted(repay, occurred_at="2025-08-01T10:00:00+08:00"),
        as_posted(repay, occurred_at="2025-07-01T10:00:00+08:00"),
    )
    with pytest.raises(Refusal) as refused:
        await runtime.ledger.post(batch, key(BANK), batch=True)
    assert (refused.value.status, refused.value.slug) == (409, "invalid-state")
    # An invalid-state refusal names no field: the batch index leads its detail.
    assert refused.value.detail.startswith("$[1]: ")
    assert refused.value.extra["latest_occurred_at"] == _at("2025-08-01T10:00:00+08:00")
    repaid = p.LoanRepaid(guarantee_id="G-1", amount=1)
    result = await post(runtime, repaid, key(BANK), occurred_at="2025-07-01T10:00:00+08:00")
    assert result.receipts[0].stream_version == 2


async def test_concurrent_posts_to_one_stream_from_two_instances_keep_business_order(
    db_dsn: str,
) -> None:
    """Each post is decided against the time its predecessors left: the stored stream
    never goes back in business time, whichever of them win."""
    async with running(db_dsn) as first, running(db_dsn) as second:
        await _issued(first, "2025-01-01T10:00:00+08:00")
        days = list(range(2, 30))
        results = await asyncio.gather(
            *(
                post(
                    (first, second)[d % 2],
                    p.LoanRepaid(guarantee_id="G-1", amount=1),
                    key(BANK),
                    occurred_at=f"2025-01-{d:02d}T10:00:00+08:00",
                )
                for d in days
            ),
            return_exceptions=True,
        )
        assert all(isinstance(r, PostResult | Refusal) for r in results), results
        refused = [r for r in results if isinstance(r, Refusal)]
        assert all(r.slug == "invalid-state" for r in refused)
        rows = await first.pool.fetch(
            """SELECT ledger_occurred_at(body) AS t FROM events
                WHERE stream_id = 'guarantee-G-1' ORDER BY stream_version"""
        )
        times = [r["t"] for r in rows]
        assert times == sorted(times)
        assert len(times) == 1 + len(days) - len(refused)


_STREAM_TIMES = """SELECT s.stream_id, s.occurred_at AS kept, ledger_occurred_at(e.body) AS stored
                     FROM streams s
                     JOIN events e ON e.stream_id = s.stream_id AND e.stream_version = s.version"""


async def test_every_stream_keeps_the_business_time_of_the_event_at_its_version(
    runtime: Runtime,
) -> None:
    """The append hands each stream's time with its version (singles, batches, times
    given and taken from the clock); it is the one the stored event carries."""
    await _issued(runtime, "2025-06-01T10:00:00+08:00")
    repay = p.LoanRepaid(guarantee_id="G-1", amount=1)
    await post(runtime, repay, key(BANK), occurred_at="2025-06-02T01:00:00+00:00")
    batch = posted(
        as_posted(repay, occurred_at="2025-06-03T10:00:00+08:00"),
        as_posted(repay, occurred_at="2025-06-04T10:00:00.250000+08:00"),
    )
    await runtime.ledger.post(batch, key(BANK), batch=True)
    await post(runtime, repay, key(BANK))
    rows = await runtime.pool.fetch(_STREAM_TIMES)
    assert len(rows) == await runtime.pool.fetchval("SELECT count(*) FROM streams")
    assert [(r["stream_id"], r["kept"]) for r in rows] == [
        (r["stream_id"], r["stored"]) for r in rows
    ]
    kept = {r["stream_id"]: r["kept"] for r in rows}
    assert kept["guarantee-G-1"] > dt.datetime(2025, 6, 4, 2, tzinfo=dt.UTC)


async def test_a_version_moved_without_a_time_takes_it_from_the_stored_event(
    runtime: Runtime, db_dsn: str
) -> None:
    """As `ledger audit import` moves versions (as the schema's owner): the trigger reads
    the event back."""
    await _issued(runtime, "2025-06-01T10:00:00+08:00")
    await post(
        runtime,
        p.LoanRepaid(guarantee_id="G-1", amount=1),
        key(BANK),
        occurred_at="2025-06-05T10:00:00+08:00",
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("DELETE FROM streams WHERE stream_id = 'guarantee-G-1'")
        await conn.execute("INSERT INTO streams (stream_id, version) VALUES ('guarantee-G-1', 1)")
        inserted = await conn.fetchval(
            "SELECT occurred_at FROM streams WHERE stream_id = 'guarantee-G-1'"
        )
        await conn.execute(
            """INSERT INTO streams (stream_id, version) VALUES ('guarantee-G-1', 2)
               ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version"""
        )
        moved = await conn.fetchval(
            "SELECT occurred_at FROM streams WHERE stream_id = 'guarantee-G-1'"
        )
    finally:
        await conn.close()
    assert inserted == dt.datetime(2025, 6, 1, 2, tzinfo=dt.UTC)
    assert moved == dt.datetime(2025, 6, 5, 2, tzinfo=dt.UTC)
