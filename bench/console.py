"""The console's first byte: its pages and the API answers they are drawn from, timed with a
store of many guarantees (target: under 100 ms with 10^5 guarantees).

`python -m bench` runs this phase with the full store; `python -m bench.console
--guarantees N` runs it alone on a fresh store of N guarantees (try it small first).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg

from bench.payloads import GUARANTOR_ID, PROGRAM_ID, guarantee_issued, setup_events, sme_registered
from bench.phases import wait_settled
from ledger import aio

TARGET_MS = 100.0
"""Most milliseconds to the first byte of the programs page and of a guarantee page."""

BATCH = 100

_SOME_GUARANTEE = "SELECT guarantee_id FROM w_guarantees ORDER BY guarantee_id DESC LIMIT 1"


def first_byte_ms(url: str, path: str, key: str | None, repeats: int) -> dict[str, float]:
    """Milliseconds from sending GET `path` to reading its status line, over `repeats` tries
    on one kept-alive connection: median, 95th percentile and the slowest."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    times = []
    try:
        for _ in range(repeats):
            began = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            times.append((time.perf_counter() - began) * 1000)
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
    finally:
        conn.close()
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


def measure(url: str, key: str, guarantee_id: str, repeats: int = 50) -> dict[str, Any]:
    """First-byte times of the two pages and of every API answer each draws first."""
    paths = {
        "programs page": "/console/programs",
        "programs page data (GET /v1/programs)": "/v1/programs",
        "guarantee page": f"/console/guarantees/{guarantee_id}",
        "guarantee page data (GET /v1/guarantees/{id})": f"/v1/guarantees/{guarantee_id}",
        "guarantee page events (GET /v1/streams/guarantee-{id})": (
            f"/v1/streams/guarantee-{guarantee_id}"
        ),
    }
    timed = {name: first_byte_ms(url, path, key, repeats) for name, path in paths.items()}
    worst = max(t["p95_ms"] for t in timed.values())
    return {"timings": timed, "worst_p95_ms": worst, "target_ms": TARGET_MS}


async def _post_all(url: str, key: str, bodies: list[list[dict[str, Any]]], workers: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession() as http_session:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                async with http_session.post(f"{url}/v1/events", json=body, headers=headers) as r:
                    if r.status not in (200, 201):
                        raise RuntimeError(f"post refused: {r.status} {await r.text()}")

        await asyncio.gather(*(worker() for _ in range(workers)))


async def _count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM w_guarantees"))
    finally:
        await conn.close()


def fill(url: str, admin: str, guarantor: str, dsn: str, guarantees: int) -> int:
    """Issue guarantees (each to an SME of its own, registered first) until the store holds
    `guarantees` of them; returns how many it holds. Uses SME numbers from 10^8 up, clear of
    the ones the other benchmark phases register."""
    have = aio.run(_count(dsn))
    missing = max(0, guarantees - have)
    base = 100_000_000 + have
    numbers = list(range(base, base + missing))
    batches = [numbers[i : i + BATCH] for i in range(0, len(numbers), BATCH)]
    smes = [[sme_registered(n) for n in b] for b in batches]
    issued = [[guarantee_issued(n, "cons") for n in b] for b in batches]
    aio.run(_post_all(url, guarantor, smes, 4))
    aio.run(_post_all(url, guarantor, issued, 4))
    return int(aio.run(_count(dsn)))


def phase(url: str, admin: str, guarantor: str, dsn: str, guarantees: int) -> dict[str, Any]:
    """Fill to `guarantees`, let the read models catch up, and time the console."""
    held = fill(url, admin, guarantor, dsn, guarantees)
    wait_settled(dsn)
    # A guarantee deep in the index, not the first one written.
    found = measure(url, admin, str(aio.run(_sql(dsn, _SOME_GUARANTEE))))
    return {"guarantees": held, **found}


def render(figures: dict[str, Any]) -> str:
    """A Markdown table of the console's first-byte times."""
    lines = [
        f"Console first byte with {figures['guarantees']} guarantees stored "
        f"(target: under {figures['target_ms']:g} ms)",
        "",
        "| request | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, t in figures["timings"].items():
        lines.append(f"| {name} | {t['p50_ms']:.1f} | {t['p95_ms']:.1f} | {t['max_ms']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Time the console alone on a fresh store of `--guarantees` guarantees."""
    from bench.__main__ import server
    from bench.service import create_key, post, running_service
    from tests.pg import with_database

    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--guarantees", type=int, default=1000, help="guarantees stored")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp, server(Path(tmp)) as admin_dsn:
        name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        aio.run(_sql(admin_dsn, f'CREATE DATABASE "{name}"'))
        dsn = with_database(admin_dsn, name)
        try:
            admin = create_key(dsn, "--role", "admin")
            with running_service(dsn, Path(tmp) / "service.log") as ledger:
                post(ledger.url, admin, setup_events())
                guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
                print(f"issuing {args.guarantees} guarantees in {PROGRAM_ID}", file=sys.stderr)
                figures = phase(ledger.url, admin, guarantor, dsn, args.guarantees)
        finally:
            aio.run(_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(render(figures))
    return 0


async def _sql(dsn: str, statement: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
