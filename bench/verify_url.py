"""`ledger audit verify --url` over the benchmark's whole log: an auditor's events/s.

Run against the service the benchmark started, as a separate process (as an auditor
would), timed from its start to its end: start-up included.
"""

from __future__ import annotations

import time
import urllib.request
from typing import Any

from bench.service import timed_command


def _get(url: str, key: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - loopback
        return str(r.read().decode())


def _checkpoint_size(url: str, key: str) -> int:
    return int(_get(url + "/v1/log/checkpoint", key).split("\n")[1])


def measure(url: str, auditor: str, dsn: str, head: int) -> dict[str, Any]:
    """Verify the whole log over HTTP once the checkpoint covers `head`; its events/s."""
    deadline = time.monotonic() + 30
    while _checkpoint_size(url, auditor) < head and time.monotonic() < deadline:
        time.sleep(0.2)
    log_key = _get(url + "/v1/log/key", auditor).strip()
    size = _checkpoint_size(url, auditor)
    args = ["audit", "verify", "--url", url, "--api-key", auditor, "--log-key", log_key]
    seconds, peak = timed_command(args, dsn)
    return {
        "events": size,
        "seconds": round(seconds, 3),
        "events_per_s": size / seconds,
        "peak_rss_mb": peak / 2**20,
    }
