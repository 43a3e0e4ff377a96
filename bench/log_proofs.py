"""The verifiable log's costs: proof latency, checkpoint lag under load, the tree's share of a post.

`measure(...)` runs against a ledger the benchmark started (bench/measure.py) and
returns plain figures. The tree's cost is measured in the same run by switching it
off and on (ledger_seal without the lines that grow the tree, then as its file
has it, the tree caught up in between), alternating, so both sides see the same machine.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import threading
import time
from importlib import resources
from typing import Any

import aiohttp
import asyncpg

from bench.service import run_load
from bench.stats import percentile
from ledger import aio


def _switch_sql(on: bool) -> str:
    """ledger_seal as its file has it, or without the lines that grow the tree."""
    text = resources.files("ledger.store").joinpath("functions", "ledger_seal.sql")
    sql = text.read_text("utf-8")
    if on:
        return sql
    return "\n".join(line for line in sql.splitlines() if "leaves" not in line) + "\n"


async def switch_tree(dsn: str, on: bool) -> None:
    """Keep the tree in the sealing transaction, or not (as the release before it)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            # The sealer waits here, so the tree is whole when it seals with it again.
            await conn.execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
            await conn.execute(_switch_sql(on))
            if on:
                await _catch_up(conn)
        # A round that began before the switch may have sealed without the tree.
        if on:
            await _catch_up(conn)
    finally:
        await conn.close()


async def _catch_up(conn: asyncpg.Connection) -> None:
    while await conn.fetchval("SELECT ledger_tree_catch_up(65536)"):
        pass


def tree_cost(spec: dict[str, Any], dsn: str, rounds: int = 4) -> dict[str, Any]:
    """Single posts at concurrency 1 and 32 with the tree on and off, alternating.

    The side that goes first flips every round (on-off, off-on, ...), so a machine that
    slows down or speeds up over the phase weighs on both sides alike. With two rounds,
    one slow moment at the phase's ends made the tree look 25 % dearer at 10^6 events; in
    ten windows of 6 s on the same store it was 3 % (docs/performance.md).
    """
    out: dict[str, Any] = {}
    for c in (1, 32):
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for r in range(rounds):
            for state in ("off", "on") if r % 2 else ("on", "off"):
                aio.run(switch_tree(dsn, state == "on"))
                figures = run_load(
                    {**spec, "mode": "issue", "tag": f"t{state}{c}r{r}", "concurrency": c}
                )
                rates[state].append(figures["events_per_s"])
        on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
        out[f"single_c{c}"] = {
            "tree_on_events_per_s": on,
            "tree_off_events_per_s": off,
            "slower_pct": round(100 * (1 - on / off), 2) if off else None,
            "runs": rates,
        }
    aio.run(switch_tree(dsn, True))
    return out


async def proof_latency(url: str, key: str, samples: int = 300) -> dict[str, Any]:
    """p50/p99 of inclusion and consistency proofs at random positions of the signed log."""
    headers = {"Authorization": f"Bearer {key}"}
    timings: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(url + "/v1/log/checkpoint") as r:
            size = int((await r.text()).split("\n")[1])
        rng = random.Random(7)  # noqa: S311 - positions to sample, not secrets
        for _ in range(samples):
            position = rng.randint(1, size)
            for kind, path in (
                ("inclusion", f"/v1/log/proof/inclusion?position={position}&size={size}"),
                ("consistency", f"/v1/log/proof/consistency?from={position}&to={size}"),
            ):
                began = time.perf_counter()
                async with session.get(url + path) as r:
                    await r.read()
                    assert r.status == 200, (path, r.status)
                timings[kind].append(time.perf_counter() - began)
    out: dict[str, Any] = {"size": size, "samples": samples}
    for kind, values in timings.items():
        values.sort()
        out[kind] = {
            "p50_ms": round(percentile(values, 0.5) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        }
    return out


async def _watch(
    dsn: str, stop: threading.Event, heads: list[tuple[float, int]], signed: list[tuple[float, int]]
) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            now = time.monotonic()
            row = await conn.fetchrow(
                """SELECT (SELECT size FROM log_tree) AS head,
                          (SELECT coalesce(max(size), 0) FROM log_checkpoints) AS signed"""
            )
            assert row is not None
            heads.append((now, row["head"]))
            signed.append((now, row["signed"]))
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


def checkpoint_lag(spec: dict[str, Any], dsn: str) -> dict[str, Any]:
    """How long after the log reached a size a checkpoint covered it, under load at 32."""
    heads: list[tuple[float, int]] = []
    signed: list[tuple[float, int]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=lambda: aio.run(_watch(dsn, stop, heads, signed)))
    watcher.start()
    try:
        load = run_load({**spec, "mode": "issue", "tag": "lag", "concurrency": 32})
        time.sleep(1.5)  # the last sizes get their checkpoint too
    finally:
        stop.set()
        watcher.join(30)
    lags: list[float] = []
    at = 0
    for t, head in heads:
        while at < len(signed) and (signed[at][0] < t or signed[at][1] < head):
            at += 1
        if at == len(signed):
            break
        lags.append(signed[at][0] - t)
    lags.sort()
    return {
        "events_per_s": load["events_per_s"],
        "samples": len(lags),
        "p50_s": round(percentile(lags, 0.5), 3) if lags else None,
        "p99_s": round(percentile(lags, 0.99), 3) if lags else None,
        "max_s": round(lags[-1], 3) if lags else None,
    }


def measure(spec: dict[str, Any], dsn: str, auditor_key: str) -> dict[str, Any]:
    """Every figure of the verifiable log, against the running ledger of `spec`."""
    return {
        "tree_cost": tree_cost(spec, dsn),
        "checkpoint_lag_c32": checkpoint_lag(spec, dsn),
        "proofs": aio.run(proof_latency(spec["url"], auditor_key)),
    }
