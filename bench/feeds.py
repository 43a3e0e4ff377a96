"""Downstream feeds: catching up through follow() and through the stream, and how long a
posted event takes from its post's answer to its arrival on the stream.

Part of `python -m bench`; alone, at a small size: `python -m bench.feeds --events 20000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.payloads import setup_events, sme_registered
from bench.service import create_key, post, run_load, running_service
from bench.stats import percentile
from ledger import aio
from ledger.client import LedgerClient
from tests.pg import with_database

TARGETS = {
    "follow_events_per_s": ("catch-up through follow(), events/s", ">=", 20_000.0),
    "stream_events_per_s": ("catch-up through the stream, events/s", ">=", 20_000.0),
    "stream_delay_p99_ms": ("post answered -> on the stream, concurrency 8, p99 ms", "<", 100.0),
}

CATCH_UP_EVENTS = 200_000
"""Most events each catch-up reads in `python -m bench` (the store holds a million)."""

LATENCY_START = 700_000_000
"""First SME number the delay phase registers (clear of the other phases' SMEs)."""


async def _catch_up(url: str, key: str, events: int, how: str) -> dict[str, Any]:
    """Read the first `events` events through follow() or stream(); the rate."""
    async with LedgerClient(url, key) as client:
        feed = client.follow(0) if how == "follow" else client.stream(0)
        started = time.perf_counter()
        got = 0
        async for event in feed:
            got += 1
            if event.position >= events:
                break
        seconds = time.perf_counter() - started
        await feed.aclose()  # type: ignore[attr-defined]
    return {"events": got, "seconds": round(seconds, 3), "events_per_s": round(got / seconds, 1)}


async def _delays(url: str, key: str, poster_key: str, seconds: float) -> dict[str, Any]:
    """8 posters for `seconds`; per event, its arrival on the stream minus its post's answer."""
    answered: dict[str, float] = {}
    arrived: dict[str, float] = {}
    stop = asyncio.Event()
    async with LedgerClient(url, key) as reader, LedgerClient(url, poster_key) as poster:
        head = (await reader.events(0, limit=1)).next_after
        after = head
        while page := (await reader.events(after, limit=1000)).events:
            after = page[-1].position

        caught_up, posting_over = asyncio.Event(), asyncio.Event()

        async def listen() -> None:
            async for event in reader.stream(after):
                arrived[event.event_id] = time.perf_counter()
                # Every event after the head is one of these posts: once posting is over
                # and as many arrived as were answered, all have.
                if posting_over.is_set() and len(arrived) >= len(answered):
                    caught_up.set()

        async def post_until(w: int) -> None:
            n = LATENCY_START + w * 1_000_000
            while not stop.is_set():
                event = sme_registered(n)
                n += 1
                await poster.post(event)
                answered[event["event_id"]] = time.perf_counter()

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.5)  # connected and waiting at the head
        posters = [asyncio.create_task(post_until(w)) for w in range(8)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*posters)
        posting_over.set()
        if len(arrived) < len(answered):
            await asyncio.wait_for(caught_up.wait(), 30)
        listener.cancel()
    delays = sorted(max(0.0, arrived[e] - t) * 1000 for e, t in answered.items())
    return {
        "events": len(delays),
        "p50_ms": round(percentile(delays, 0.50), 2),
        "p99_ms": round(percentile(delays, 0.99), 2),
        "max_ms": round(delays[-1], 2) if delays else None,
    }


def measure(url: str, auditor: str, poster: str, seconds: float, events: int) -> dict[str, Any]:
    """Every feed figure against the running ledger at `url` (the log holds `events` or more)."""
    return {
        "follow": aio.run(_catch_up(url, auditor, events, "follow")),
        "stream": aio.run(_catch_up(url, auditor, events, "stream")),
        "stream_delay_c8": aio.run(_delays(url, auditor, poster, seconds)),
    }


def evaluate(feeds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each feed target with its measured value and whether it is met."""
    values = {
        "follow_events_per_s": feeds["follow"]["events_per_s"],
        "stream_events_per_s": feeds["stream"]["events_per_s"],
        "stream_delay_p99_ms": feeds["stream_delay_c8"]["p99_ms"],
    }
    out = {}
    for key, value in values.items():
        label, op, limit = TARGETS[key]
        met = value >= limit if op == ">=" else value < limit
        out[key] = {"label": label, "value": value, "target": f"{op} {limit:g}", "met": met}
    return out


def render(feeds: dict[str, Any]) -> str:
    """A Markdown table of the feed figures."""
    delay = feeds["stream_delay_c8"]
    return "\n".join(
        [
            "| downstream feed | events | events/s | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|",
            f"| catch-up through follow() | {feeds['follow']['events']} | "
            f"{feeds['follow']['events_per_s']:.0f} | | |",
            f"| catch-up through the stream | {feeds['stream']['events']} | "
            f"{feeds['stream']['events_per_s']:.0f} | | |",
            f"| post answered -> on the stream, 8 posters | {delay['events']} | | "
            f"{delay['p50_ms']:.1f} | {delay['p99_ms']:.1f} |",
        ]
    )


async def _sql(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    """Measure the feeds alone on a new database of the PostgreSQL at LEDGER_BENCH_DSN."""
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events to catch up over")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the delay phase")
    args = parser.parse_args(argv)
    admin_dsn = os.environ.get("LEDGER_BENCH_DSN") or os.environ.get("LEDGER_TEST_DSN")
    if not admin_dsn:
        parser.error("set LEDGER_BENCH_DSN to a PostgreSQL admin DSN")
    name = f"ledger_feeds_{uuid.uuid4().hex[:8]}"
    aio.run(_sql(admin_dsn, f'CREATE DATABASE "{name}"'))
    dsn = with_database(admin_dsn, name)
    try:
        with tempfile.TemporaryDirectory() as tmp, running_service(dsn, Path(tmp) / "l") as ledger:
            admin = create_key(dsn, "--role", "admin")
            post(ledger.url, admin, setup_events())
            from bench.payloads import GUARANTOR_ID

            guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
            batches = (args.events + 99) // 100
            print(f"storing {batches * 100} events", file=sys.stderr)
            run_load(
                {
                    "url": ledger.url,
                    "key": guarantor,
                    "mode": "batch",
                    "batch": 100,
                    "concurrency": 4,
                    "seconds": 600,
                    "start": 0,
                    "max_operations": batches,
                }
            )
            auditor = create_key(dsn, "--role", "auditor")
            feeds = measure(ledger.url, auditor, guarantor, args.seconds, args.events)
    finally:
        aio.run(_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(render(feeds))
    print(json.dumps({"feeds": feeds, "targets": evaluate(feeds)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
