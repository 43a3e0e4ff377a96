"""The limit the ledger is measured against: raw asyncpg INSERTs of the same payloads."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from bench.payloads import guarantee_issued, sme_registered
from bench.stats import Run

TABLE = """CREATE TABLE IF NOT EXISTS bench_raw_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    stream_id   text NOT NULL,
    type        text NOT NULL,
    body        bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now())"""

INSERT = """INSERT INTO bench_raw_events (event_id, stream_id, type, body)
            VALUES ($1, $2, $3, $4)"""

INSERT_MANY = """INSERT INTO bench_raw_events (event_id, stream_id, type, body)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])"""


def stream_of(data: dict[str, Any]) -> str:
    """The raw table's stream of an event's data: its guarantee's, else its SME's."""
    return f"s-{data.get('guarantee_id') or data.get('sme_id')}"


def _row(event: dict[str, object]) -> tuple[uuid.UUID, str, str, bytes]:
    data = event["data"]
    assert isinstance(data, dict)
    return (
        uuid.UUID(str(event["event_id"])),
        stream_of(data),
        str(event["type"]),
        json.dumps(event).encode(),
    )


async def _timed(
    dsn: str, concurrency: int, seconds: float, statement: str, args: Callable[[int], Sequence[Any]]
) -> tuple[list[float], float]:
    """Run `statement` with `args(n)` on `concurrency` connections for `seconds`.

    Returns the latencies and the elapsed time of the load alone (not the pool's set-up).
    """
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    counter = itertools.count()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                values = args(next(counter))
                began = time.perf_counter()
                await conn.execute(statement, *values)
                latencies.append(time.perf_counter() - began)

    try:
        await pool.execute(TABLE)
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    finally:
        await pool.close()
    return latencies, elapsed


async def single_inserts(dsn: str, concurrency: int, seconds: float, tag: str = "") -> Run:
    """One row per transaction (autocommit), `concurrency` connections, for `seconds`
    (events of their own for each `tag`)."""
    latencies, elapsed = await _timed(
        dsn,
        concurrency,
        seconds,
        INSERT,
        lambda n: _row(guarantee_issued(n, f"raw{concurrency}{tag}")),
    )
    return Run.of(latencies, len(latencies), elapsed)


async def batch_inserts(dsn: str, concurrency: int, seconds: float, size: int) -> Run:
    """`size` rows per INSERT statement (one transaction each), `concurrency` connections."""

    def columns(n: int) -> list[list[Any]]:
        rows = [_row(sme_registered(n * size + i)) for i in range(size)]
        return [list(c) for c in zip(*rows, strict=True)]

    latencies, elapsed = await _timed(dsn, concurrency, seconds, INSERT_MANY, columns)
    return Run.of(latencies, len(latencies) * size, elapsed)
