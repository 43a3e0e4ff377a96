"""The event store on a real PostgreSQL: versions, idempotency, atomicity, order, immutability."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime, connect
from ledger.store.reads import LogFollower, read_log, read_stream
from tests.factory import ADMIN, envelope, institution, posted


async def test_first_event_of_a_stream_gets_version_one_and_position_one(runtime: Runtime) -> None:
    result = await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    receipt = result.receipts[0]
    assert (receipt.stream_id, receipt.stream_version, receipt.position) == (
        "institution-B-1",
        1,
        1,
    )
    assert result.replayed is False


async def test_expected_version_mismatch_is_a_version_conflict_naming_the_current_version(
    runtime: Runtime,
) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    with pytest.raises(Refusal) as refused:
        await runtime.ledger.post(posted(institution("B-1", expected_version=0)), ADMIN)
    assert refused.value.slug == "version-conflict"
    assert refused.value.extra["current_version"] == 1


def _net_assets(expected_version: int) -> dict[str, object]:
    data = {"institution_id": "B-1", "net_assets": 10**12, "as_of": "2025-12-31"}
    return envelope("institution.net_assets_recorded", data, expected_version=expected_version)


async def test_expected_version_ahead_of_the_stream_is_a_version_conflict(
    runtime: Runtime,
) -> None:
    """At version 1, `expected_version` 2 is one ahead: refused, naming 1; 1 is accepted."""
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    with pytest.raises(Refusal) as refused:
        await runtime.ledger.post(posted(_net_assets(2)), ADMIN)
    assert refused.value.slug == "version-conflict"
    assert refused.value.extra["current_version"] == 1
    result = await runtime.ledger.post(posted(_net_assets(1)), ADMIN)
    assert (result.receipts[0].stream_id, result.receipts[0].stream_version) == (
        "institution-B-1",
        2,
    )


async def test_expected_version_zero_on_a_new_stream_is_accepted(runtime: Runtime) -> None:
    result = await runtime.ledger.post(posted(institution("B-1", expected_version=0)), ADMIN)
    assert result.receipts[0].stream_version == 1


async def test_identical_repost_returns_the_original_receipt_and_stores_nothing(
    runtime: Runtime,
) -> None:
    event = institution("B-1")
    first = await runtime.ledger.post(posted(event), ADMIN)
    again = await runtime.ledger.post(posted(event), ADMIN)
    assert again.replayed is True
    assert again.receipts == first.receipts
    assert len(await read_log(runtime.pool, 0, 10)) == 1


async def test_event_id_reused_with_other_content_is_an_idempotency_conflict(
    runtime: Runtime,
) -> None:
    event_id = uuid.uuid4()
    await runtime.ledger.post(posted(institution("B-1", event_id=event_id)), ADMIN)
    with pytest.raises(Refusal) as refused:
        await runtime.ledger.post(posted(institution("B-2", event_id=event_id)), ADMIN)
    assert refused.value.slug == "idempotency-conflict"


async def test_twenty_concurrent_posts_of_one_event_id_store_exactly_one(runtime: Runtime) -> None:
    event = institution("B-1")
    results = await asyncio.gather(*(runtime.ledger.post(posted(event), ADMIN) for _ in range(20)))
    assert sum(not r.replayed for r in results) == 1
    assert {r.receipts[0].position for r in results} == {1}
    assert await runtime.pool.fetchval("SELECT count(*) FROM events") == 1


async def test_a_batch_with_one_refused_event_stores_none_of_it(runtime: Runtime) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    batch = posted(institution("B-2"), institution("B-3"), institution("B-1"))
    with pytest.raises(Refusal) as refused:
        await runtime.ledger.post(batch, ADMIN, batch=True)
    assert refused.value.slug == "invalid-state"
    assert refused.value.detail.startswith("$[2]")
    assert await runtime.pool.fetchval("SELECT count(*) FROM events") == 1


async def test_a_batch_is_stored_in_order_with_consecutive_positions(runtime: Runtime) -> None:
    result = await runtime.ledger.post(
        posted(institution("B-1"), institution("B-2"), institution("B-3")), ADMIN, batch=True
    )
    assert [r.position for r in result.receipts] == [1, 2, 3]


async def test_stream_reads_return_the_stream_in_version_order(runtime: Runtime) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    await runtime.ledger.post(posted(institution("B-2")), ADMIN)
    rows = await read_stream(runtime.pool, "institution-B-2")
    assert [r.position for r in rows] == [2]


async def test_follower_sees_every_position_once_in_order_while_eight_writers_append(
    runtime: Runtime,
) -> None:
    """Eight concurrent writers on different streams; a follower reads the global log meanwhile."""
    stop_at = time.monotonic() + 3.0
    acknowledged: list[int] = []

    async def writer(w: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            result = await runtime.ledger.post(posted(institution(f"W{w}-{n}")), ADMIN)
            acknowledged.append(result.receipts[0].position)
            n += 1

    seen: list[int] = []

    async def follower() -> None:
        listener = await connect(runtime.dsn)
        try:
            async with LogFollower(runtime.pool, listener) as follow:
                after = 0
                while time.monotonic() < stop_at + 2.0:
                    rows = await follow.wait_batch(after, 100, 0.2)
                    seen.extend(r.position for r in rows)
                    if rows:
                        after = rows[-1].position
        finally:
            await listener.close()

    await asyncio.gather(follower(), *(writer(w) for w in range(8)))
    assert len(acknowledged) > 50
    assert seen == list(range(1, len(seen) + 1))
    assert sorted(acknowledged) == seen


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events CASCADE"],
)
async def test_the_service_role_cannot_rewrite_history(runtime: Runtime, statement: str) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    conn = await connect(runtime.dsn)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'x'",
        "DELETE FROM events",
        "UPDATE event_log SET position = position + 100",
        "DELETE FROM event_log",
        "TRUNCATE events, event_log",
    ],
)
async def test_even_the_schema_owner_is_refused_by_the_append_only_trigger(
    runtime: Runtime, db_dsn: str, statement: str
) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    owner = await asyncpg.connect(db_dsn)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
    finally:
        await owner.close()


async def test_an_unrelated_open_transaction_does_not_hold_back_positions(
    runtime: Runtime, db_dsn: str
) -> None:
    """A long writer that is not an append (a report, a projection batch) delays no post."""
    other = await asyncpg.connect(db_dsn)
    try:
        async with other.transaction():
            await other.execute("SELECT pg_current_xact_id()")  # holds a transaction id
            result = await asyncio.wait_for(
                runtime.ledger.post(posted(institution("B-1")), ADMIN), timeout=3
            )
            assert result.receipts[0].position == 1
    finally:
        await other.close()
