"""The as-of phase of `make bench`: the guarantor's books as of today's business date through
GET /v1/audit/state?business_date=..., beside one fold of the log for the same answer.

Every event the benchmark posts happens on the day it runs, so today is the business date
that holds them all (an earlier one would find the guarantor not yet registered)."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

import asyncpg

from bench.statements import get_timed
from ledger import aio
from ledger.audit.state import state_at

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
_PATH = "/v1/audit/state"


async def _fold(dsn: str, day: dt.date, institution: str) -> tuple[float, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        body = await state_at(conn, business_date=day, institution_id=institution)
        return (time.perf_counter() - started) * 1000.0, body
    finally:
        await conn.close()


def measure(
    url: str, key: str, dsn: str, institution: str, earlier: dt.datetime, *, repeats: int = 5
) -> dict[str, Any]:
    """Median and worst milliseconds of the institution's as-of state, as known now and at
    `earlier`, and the milliseconds of one fold of the log giving the same body."""
    day = dt.datetime.now(SHANGHAI).date()
    out: dict[str, Any] = {"business_date": day.isoformat()}
    for label, known_at in (("now", None), ("known_at_past", earlier)):
        params = {"business_date": day.isoformat(), "institution_id": institution}
        if known_at is not None:
            params["known_at"] = known_at.isoformat()
        get_timed(url, key, _PATH, params)  # warm
        runs = []
        for _ in range(repeats):
            ms, _ = get_timed(url, key, _PATH, params)
            runs.append(ms)
        out[label] = {"p50_ms": round(statistics.median(runs), 2), "max_ms": round(max(runs), 2)}
    params = {"business_date": day.isoformat(), "institution_id": institution}
    now_body = get_timed(url, key, _PATH, params)
    fold_ms, folded = aio.run(_fold(dsn, day, institution))
    out["fold_ms"] = round(fold_ms, 1)
    out["same_as_fold"] = folded == now_body[1]
    return out
