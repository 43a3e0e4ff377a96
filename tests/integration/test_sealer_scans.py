"""The sealer's scans stay on the (tx_id, seq) index, so sealing cost does not grow with the log."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.runtime import connect
from ledger.store.sealer import (
    ANY_UNSEALED,
    EMPTY_HEAD,
    NEXT_UNSEALED,
    SEALER_SETTINGS,
    read_head,
    seal_batch,
)

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


@pytest.mark.parametrize("analyze_first", [False, True], ids=["no-statistics", "stale-statistics"])
async def test_both_sealer_scans_use_the_tx_order_index_and_never_a_sequential_scan(
    db_dsn: str, analyze_first: bool
) -> None:
    await _store_events(db_dsn, STORED, analyze_first=analyze_first)
    conn = await connect(db_dsn, SEALER_SETTINGS)
    try:
        head = EMPTY_HEAD
        plans = [
            await _plan(conn, NEXT_UNSEALED, head.tx_id, head.seq, "999999999", 5000),
            await _plan(conn, ANY_UNSEALED, head.tx_id, head.seq),
        ]
    finally:
        await conn.close()
    for plan in plans:
        assert "events_tx_order" in plan
        assert "Seq Scan" not in plan


async def test_sealing_in_small_batches_gives_each_event_one_position_in_seq_order(
    db_dsn: str,
) -> None:
    await _store_events(db_dsn, 10, analyze_first=False)
    conn = await connect(db_dsn, SEALER_SETTINGS)
    try:
        head, sealed = await read_head(conn), {}
        for _ in range(5):
            head, batch = await seal_batch(conn, head, limit=3)
            sealed.update(batch)
        rows = await conn.fetch("SELECT seq, position FROM event_log ORDER BY position")
    finally:
        await conn.close()
    assert [r["position"] for r in rows] == list(range(1, 11))
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert sealed == {r["seq"]: r["position"] for r in rows}
