"""Timing statements on the full store: an institution's quarter, now and as known
at an earlier moment, through the HTTP API."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.parse
import urllib.request
from typing import Any

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def get_timed(url: str, key: str, path: str, params: dict[str, str]) -> tuple[float, Any]:
    """Milliseconds and JSON body of one GET of the ledger's API."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}{path}?{urllib.parse.urlencode(params)}",
        headers={"Authorization": f"Bearer {key}"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as r:  # noqa: S310
        body = json.loads(r.read())
    return (time.perf_counter() - started) * 1000.0, body


def measure(
    url: str, key: str, institution: str, earlier: dt.datetime, *, repeats: int = 5
) -> dict[str, Any]:
    """Median and worst milliseconds of the institution's statement for this quarter, as known
    now and as known at `earlier` (both sum the same read model, by index ranges)."""
    now = dt.datetime.now(SHANGHAI)
    path = f"/v1/statements/{institution}"
    figures: dict[str, Any] = {}
    for label, known_at in (("now", None), ("known_at_past", earlier)):
        params = {"period": _quarter(now.date())}
        if known_at is not None:
            params["known_at"] = known_at.isoformat(timespec="seconds")
        get_timed(url, key, path, params)  # warm: the first read loads the index into memory
        runs = []
        body: Any = None
        for _ in range(repeats):
            ms, body = get_timed(url, key, path, params)
            runs.append(ms)
        figures[label] = {
            "p50_ms": round(statistics.median(runs), 2),
            "max_ms": round(max(runs), 2),
            "guarantees": sum(
                p["issued"]["count"] + (1 if p["opening_in_force"] else 0) for p in body["programs"]
            ),
            "position": body["position"],
        }
    return figures


SYNTHETIC = "BENCH-SYNTHETIC"
"""The institution whose rows `synthetic` makes up (taken back afterwards)."""


async def synthetic(dsn: str, guarantees: int, *, repeats: int = 5) -> dict[str, Any]:
    """The statement query over `guarantees` guarantees of one institution (three movements
    each: issued, repaid, released, over a year), timed inside a transaction that is rolled
    back: the read model is left as the events made it."""
    import asyncpg

    from projections.statements import STATEMENT_SQL

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO proj_movement_rows
                   SELECT c.generation, $1, 'bench-program-' || (g % 3),
                          date '2025-01-01' + ((g + k * 120) % 365), g * 3 + k, now(),
                          'BG-' || g, (ARRAY['issued', 'repaid', 'released'])[k + 1],
                          (ARRAY[1000000, 200000, 800000])[k + 1],
                          (ARRAY[1000000, -200000, -800000])[k + 1], 0
                     FROM projection_checkpoints c, generate_series(1, $2) g,
                          generate_series(0, 2) k
                    WHERE c.name = 'movements'""",
                SYNTHETIC,
                guarantees,
            )
            await conn.execute("ANALYZE proj_movement_rows")
            runs = []
            first, last = dt.date(2025, 4, 1), dt.date(2025, 6, 30)
            for _ in range(repeats + 1):
                started = time.perf_counter()
                await conn.fetch(STATEMENT_SQL, SYNTHETIC, first, last, None, None)
                runs.append((time.perf_counter() - started) * 1000.0)
            raise _RollBack(runs[1:])
    except _RollBack as done:
        runs = done.runs
    finally:
        await conn.close()
    return {
        "guarantees": guarantees,
        "rows": guarantees * 3,
        "p50_ms": round(statistics.median(runs), 2),
        "max_ms": round(max(runs), 2),
    }


class _RollBack(Exception):
    """Leaves the transaction (rolling it back) with the timings."""

    def __init__(self, runs: list[float]) -> None:
        super().__init__("rolled back")
        self.runs = runs
