"""The sealer's scans stay on the (tx_id, seq) index, so sealing cost does not grow with the log."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.rules.footprint import Footprint
from ledger.runtime import connect
from ledger.store import decisions
from ledger.store.sealer import EMPTY_HEAD, NEXT_UNSEALED, Head, read_head, seal_batch
from ledger.store.watermark import APPEND_LOCK

STORED = 20_000


async def _store_events(dsn: str, count: int, *, analyze_first: bool) -> None:
    """Append `count` unsealed events straight into the table (stale statistics if asked)."""
    conn = await asyncpg.connect(dsn)
    try:
        if analyze_first:
            await conn.execute("ANALYZE events")
        await conn.execute(
            """INSERT INTO events
                   (event_id, stream_id, stream_version, type, fingerprint, body, recorded_at)
               SELECT gen_random_uuid(), 'sme-' || n, 1, 'sme.registered',
                      '\\x00'::bytea, convert_to('{"n":' || n || '}', 'UTF8'), now()
                 FROM generate_series(1, $1) AS n""",
            count,
        )
    finally:
        await conn.close()


async def _plan(conn: asyncpg.Connection, query: str, *args: object) -> str:
    rows = await conn.fetch("EXPLAIN " + query, *args)
    return "\n".join(r[0] for r in rows)


async def _generic_plan(conn: asyncpg.Connection, head: Head) -> str:
    """The plan a prepared statement settles on after its first executions."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE scan(text, bigint, text[], text, bigint) AS " + NEXT_UNSEALED)
    rows = await conn.fetch(
        f"EXPLAIN EXECUTE scan('{head.tx_id}', {head.seq}, '{{}}', '999999999', 5000)"
    )
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("analyze_first", [False, True], ids=["no-statistics", "stale-statistics"])
async def test_the_sealing_scan_stays_on_indexes_and_never_reads_a_whole_table(
    db_dsn: str, analyze_first: bool
) -> None:
    await _store_events(db_dsn, STORED, analyze_first=analyze_first)
    conn = await connect(db_dsn)
    try:
        half = (await seal_batch(conn, await read_head(conn), limit=STORED // 2)).head
        plans = [
            await _plan(conn, NEXT_UNSEALED, half.tx_id, half.seq, [], "999999999", 5000),
            await _generic_plan(conn, half),
        ]
    finally:
        await conn.close()
    for plan in plans:
        assert "events_tx_order" in plan
        assert "Seq Scan" not in plan
        assert "Hash" not in plan  # no hash of a whole table, whatever its size


async def test_sealing_in_small_batches_gives_each_event_one_position_in_seq_order(
    db_dsn: str,
) -> None:
    await _store_events(db_dsn, 10, analyze_first=False)
    conn = await connect(db_dsn)
    try:
        head, sealed = await read_head(conn), {}
        for _ in range(5):
            sealing = await seal_batch(conn, head, limit=3)
            head = sealing.head
            sealed.update(sealing.sealed)
        rows = await conn.fetch("SELECT seq, position FROM event_log ORDER BY position")
    finally:
        await conn.close()
    assert [r["position"] for r in rows] == list(range(1, 11))
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert sealed == {r["seq"]: r["position"] for r in rows}


async def _append_one(conn: asyncpg.Connection, n: int) -> None:
    """Insert one event as an appender does: the append lock before the first write."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", APPEND_LOCK)
    await conn.execute(
        """INSERT INTO events
               (event_id, stream_id, stream_version, type, fingerprint, body, recorded_at)
           VALUES (gen_random_uuid(), $1, 1, 'sme.registered', '\\x00', '{}', now())""",
        f"sme-{n}",
    )


async def test_an_append_in_flight_holds_back_later_commits_until_it_ends(db_dsn: str) -> None:
    early, late, sealer = [await connect(db_dsn) for _ in range(3)]
    try:
        tx = early.transaction()
        await tx.start()
        await _append_one(early, 1)
        async with late.transaction():
            await _append_one(late, 2)
        held_back = await seal_batch(sealer, EMPTY_HEAD)
        await tx.commit()
        released = await seal_batch(sealer, held_back.head)
        order = await sealer.fetch("SELECT e.stream_id FROM event_log l JOIN events e USING (seq)")
    finally:
        for conn in (early, late, sealer):
            await conn.close()
    assert (held_back.sealed, held_back.held) == ({}, True)
    assert (len(released.sealed), released.held) == (2, False)
    assert [r["stream_id"] for r in order] == ["sme-1", "sme-2"]


async def _grow_streams(db_dsn: str, first: int, last: int) -> None:
    owner = await asyncpg.connect(db_dsn)
    try:
        await owner.execute(
            """INSERT INTO streams (stream_id, version)
               SELECT 'sme-' || n, 1 FROM generate_series($1::int, $2::int) AS n""",
            first,
            last,
        )
    finally:
        await owner.close()


async def _stream_scans_after_growth(db_dsn: str) -> int:
    """Sequential scans of `streams` by one ledger_prepare call, in a session whose plans
    were cached while the table was small and which has grown since (with no ANALYZE,
    as on a server without autovacuum)."""
    await _grow_streams(db_dsn, 1, 50)
    conn = await connect(db_dsn)
    streams = [f"sme-{n}" for n in range(1, 101)]  # a batch post names a hundred

    async def prepare() -> int:
        async with conn.transaction():
            await decisions.prepare(conn, Footprint(), streams=streams, lock=False)
            return int(
                await conn.fetchval(
                    "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'streams'"
                )
            )

    try:
        for _ in range(6):  # past the custom plans: generic plans are cached now
            await prepare()
        await _grow_streams(db_dsn, 51, 100_000)
        return await prepare()
    finally:
        await conn.close()


async def test_a_service_session_never_keeps_a_table_scan_for_a_key_lookup(db_dsn: str) -> None:
    assert await _stream_scans_after_growth(db_dsn) == 0
