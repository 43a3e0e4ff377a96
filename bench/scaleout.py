"""Figures for docs/scaling.md: WAL written per event, and what a two-phase commit costs.

`python -m bench.scaleout` makes a private primary with a streaming standby
(tests/streaming.py, fsync on), then measures:

- the WAL the ledger writes per event, for single posts and for batches of
  100 (what every standby must receive and replay, and what bounds how many
  standbys one primary can feed);
- a one-row commit in one database, two independent commits in two
  databases, and the same two rows committed atomically with two-phase
  commit (PREPARE TRANSACTION / COMMIT PREPARED, what Citus does for a
  transaction that writes on two shards), at concurrency 1 and 8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.payloads import GUARANTOR_ID, guarantee_issued, setup_events, sme_registered
from bench.service import create_key, post, running_service
from bench.stats import Run
from ledger import aio
from tests import pg
from tests.streaming import streaming_pair

_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"


def _say(message: str) -> None:
    print(f"[scaleout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _lsn(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        value: int = await conn.fetchval(_LSN)
        return value
    finally:
        await conn.close()


async def _replay_lsn(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        value: int = await conn.fetchval(
            "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
        )
        return value
    finally:
        await conn.close()


def _replay_rate(dsn: str, standby_dsn: str, url: str, key: str, first: int) -> dict[str, Any]:
    """How fast the standby replays: WAL piled up while its replay is paused, then timed."""
    aio.run(_exec(standby_dsn, "SELECT pg_wal_replay_pause()"))
    events = 6000
    for start in range(first, first + events, 100):
        post(url, key, [guarantee_issued(n, "wr") for n in range(start, start + 100)])
    time.sleep(2.0)  # the read models' writes to these events are part of the pile
    target = aio.run(_lsn(dsn))
    behind = target - aio.run(_replay_lsn(standby_dsn))
    started = time.perf_counter()
    aio.run(_exec(standby_dsn, "SELECT pg_wal_replay_resume()"))
    while aio.run(_replay_lsn(standby_dsn)) < target:
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    return {
        "wal_bytes": behind,
        "seconds": round(seconds, 3),
        "mb_per_s": round(behind / seconds / 1e6, 1),
        "events_per_s": round(events / seconds),
    }


def _wal_per_event(dsn: str, standby_dsn: str, workdir: Path, posts: int) -> dict[str, Any]:
    """WAL bytes per event stored (read models' writes included), single and batched;
    then how fast the standby replays that WAL."""
    out: dict[str, Any] = {}
    with running_service(dsn, workdir / "scaleout.log") as served:
        admin = create_key(dsn, "--role", "admin")
        post(served.url, admin, setup_events())
        guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
        total = posts + 7000
        for start in range(0, total, 100):
            post(served.url, guarantor, [sme_registered(n) for n in range(start, start + 100)])
        time.sleep(2.0)  # let the read models take the registrations in before measuring
        before = aio.run(_lsn(dsn))
        for n in range(posts):
            post(served.url, guarantor, guarantee_issued(n, "w1"))
        time.sleep(2.0)
        single = aio.run(_lsn(dsn)) - before
        before = aio.run(_lsn(dsn))
        for start in range(posts, posts + 1000, 100):
            post(
                served.url,
                guarantor,
                [guarantee_issued(n, "wb") for n in range(start, start + 100)],
            )
        time.sleep(2.0)
        batched = aio.run(_lsn(dsn)) - before
        _say("standby replay: 6000 events piled up behind a paused replay, then resumed")
        out["standby_replay"] = _replay_rate(dsn, standby_dsn, served.url, guarantor, posts + 1000)
    out["single_post_bytes_per_event"] = round(single / posts)
    out["batch100_bytes_per_event"] = round(batched / 1000)
    return out


_TABLE = "CREATE TABLE IF NOT EXISTS shard_rows (id bigserial PRIMARY KEY, body bytea NOT NULL)"
_INSERT = "INSERT INTO shard_rows (body) VALUES ($1)"
_BODY = b"x" * 400  # about a stored event's size


async def _one(a: asyncpg.Connection, b: asyncpg.Connection, mode: str) -> None:
    if mode == "one_database":
        async with a.transaction():
            await a.execute(_INSERT, _BODY)
        return
    if mode == "two_databases_independent":
        async with a.transaction():
            await a.execute(_INSERT, _BODY)
        async with b.transaction():
            await b.execute(_INSERT, _BODY)
        return
    gid = uuid.uuid4().hex
    for conn in (a, b):
        await conn.execute("BEGIN")
        await conn.execute(_INSERT, _BODY)
    # Prepared transaction ids are per server: each shard's part gets its own.
    for part, conn in (("a", a), ("b", b)):
        await conn.execute(f"PREPARE TRANSACTION '{gid}-{part}'")
    for part, conn in (("a", a), ("b", b)):
        await conn.execute(f"COMMIT PREPARED '{gid}-{part}'")


async def _commits(dsn_a: str, dsn_b: str, mode: str, concurrency: int, seconds: float) -> Any:
    latencies: list[float] = []

    async def worker(until: float) -> None:
        a, b = await asyncpg.connect(dsn_a), await asyncpg.connect(dsn_b)
        try:
            while time.monotonic() < until:
                started = time.perf_counter()
                await _one(a, b, mode)
                latencies.append(time.perf_counter() - started)
        finally:
            await a.close()
            await b.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    figures = Run.of(latencies, len(latencies), time.monotonic() - started).as_dict()
    figures["transactions_per_s"] = figures.pop("events_per_s")
    del figures["events"]
    return figures


def _two_phase(admin_dsn: str, seconds: float) -> dict[str, Any]:
    names = [f"shard_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    out: dict[str, Any] = {}
    for name in names:
        aio.run(_exec(admin_dsn, f'CREATE DATABASE "{name}"'))
        aio.run(_exec(pg.with_database(admin_dsn, name), _TABLE))
    a, b = (pg.with_database(admin_dsn, n) for n in names)
    for mode in ("one_database", "two_databases_independent", "two_phase_commit"):
        for concurrency in (1, 8):
            _say(f"{mode}, concurrency {concurrency}")
            out[f"{mode}_c{concurrency}"] = aio.run(_commits(a, b, mode, concurrency, seconds))
    return out


async def _exec(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def measure(workdir: Path, *, seconds: float, posts: int) -> dict[str, Any]:
    """Both figures on a private primary with one streaming standby, fsync on."""
    with streaming_pair(fsync="on", max_prepared_transactions="32") as pair:
        template = aio.run(pg.create_template(pair.primary_dsn()))
        name = aio.run(pg.create_database(pair.primary_dsn(), template))
        _say(f"WAL per event: {posts} single posts, then 10 batches of 100")
        wal = _wal_per_event(pair.primary_dsn(name), pair.standby_dsn(name), workdir, posts)
        return {"wal": wal, "commits": _two_phase(pair.primary_dsn(), seconds)}


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures as JSON (and write them to --out if given)."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each commit load")
    parser.add_argument("--posts", type=int, default=300, help="single posts for WAL per event")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-scaleout-") as tmp:
        figures = measure(Path(tmp), seconds=args.seconds, posts=args.posts)
    text = json.dumps(figures, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
