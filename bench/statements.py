"""Timing statements (SPEC 9) on the full store: an institution's quarter, now and as known
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


def _get(url: str, key: str, path: str, params: dict[str, str]) -> tuple[float, Any]:
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
        _get(url, key, path, params)  # warm: the first read loads the index into memory
        runs = []
        body: Any = None
        for _ in range(repeats):
            ms, body = _get(url, key, path, params)
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
