"""The sealer's scans stay on the (tx_id, seq) index, so sealing cost does not grow with the log."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.rules.footprint import Footprint
from ledger.runtime import connect
from ledger.store import decisions
from ledger.store.head import EMPTY_HEAD, Head, read_head
from ledger.store.sealer import seal_batch
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


_READ = """SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS read
             FROM pg_stat_xact_user_tables WHERE relname IN ('events', 'event_log')"""


async def _rows_read(conn: asyncpg.Connection, head: Head, limit: int) -> dict[str, int]:
    """Rows one sealing round reads from each event table, by any scan."""
    # Index-only scans read no table rows, so they would escape the count: a whole
    # index read to hash it must show, so this session makes every scan visit rows.
    await conn.execute("SET enable_indexonlyscan = off")
    # The counters of this session that are not yet reported, so compared within one
    # transaction (nothing is reported before it ends).
    async with conn.transaction():
        before = {r["relname"]: int(r["read"]) for r in await conn.fetch(_READ)}
        await seal_batch(conn, head, limit)
        after = {r["relname"]: int(r["read"]) for r in await conn.fetch(_READ)}
    return {name: after[name] - before.get(name, 0) for name in after}


@pytest.mark.parametrize("analyze_first", [False, True], ids=["no-statistics", "stale-statistics"])
@pytest.mark.parametrize("plans", ["force_custom_plan", "force_generic_plan"])
async def test_a_sealing_round_reads_what_it_seals_not_the_whole_log(
    db_dsn: str, analyze_first: bool, plans: str
) -> None:
    await _store_events(db_dsn, STORED, analyze_first=analyze_first)
    conn = await connect(db_dsn)
    try:
        await conn.execute(f"SET plan_cache_mode = {plans}")
        head = await read_head(conn)
        for _ in range(6):  # past the first custom plans; 50 events are left unsealed
            head = (await seal_batch(conn, head, limit=(STORED - 50) // 6)).head
        read = await _rows_read(conn, head, 100)
    finally:
        await conn.close()
    # The 50 left, their bodies, whether each is sealed: a few hundred rows at most,
    # where a scan or hash of either table would read thousands.
    assert 0 < read["events"] <= 300, read
    assert read["event_log"] <= 300, read


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


async def test_a_round_behind_a_long_backlog_reads_only_what_it_seals(db_dsn: str) -> None:
    await _store_events(db_dsn, 2_000, analyze_first=False)
    conn = await connect(db_dsn)
    try:
        read = await _rows_read(conn, EMPTY_HEAD, 10)
    finally:
        await conn.close()
    # Ten candidates and their bodies; whether anything waits above the watermark is
    # one index probe, not a walk through the 1 990 events still to seal.
    assert read["events"] <= 40, read


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
