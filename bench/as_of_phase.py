"""The as-of phase of `make bench`: the guarantor's books at the end of last quarter through
GET /v1/audit/state?business_date=..., beside one fold of the log for the same answer."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.parse
import urllib.request
from typing import Any

import asyncpg

from ledger import aio
from ledger.audit.state import state_at

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _quarter_end(today: dt.date) -> dt.date:
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return first - dt.timedelta(days=1)


def _get(url: str, key: str, params: dict[str, str]) -> tuple[float, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/v1/audit/state?{urllib.parse.urlencode(params)}",
        headers={"Authorization": f"Bearer {key}"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as r:  # noqa: S310
        body = json.loads(r.read())
    return (time.perf_counter() - started) * 1000.0, body


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
    day = _quarter_end(dt.datetime.now(SHANGHAI).date())
    out: dict[str, Any] = {"business_date": day.isoformat()}
    for label, known_at in (("now", None), ("known_at_past", earlier)):
        params = {"business_date": day.isoformat(), "institution_id": institution}
        if known_at is not None:
            params["known_at"] = known_at.isoformat()
        _get(url, key, params)  # warm
        runs = []
        for _ in range(repeats):
            ms, _ = _get(url, key, params)
            runs.append(ms)
        out[label] = {"p50_ms": round(statistics.median(runs), 2), "max_ms": round(max(runs), 2)}
    now_body = _get(url, key, {"business_date": day.isoformat(), "institution_id": institution})
    fold_ms, folded = aio.run(_fold(dsn, day, institution))
    out["fold_ms"] = round(fold_ms, 1)
    out["same_as_fold"] = folded == now_body[1]
    return out
