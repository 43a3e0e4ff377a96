"""Timing the books as of a business date (GET /v1/audit/state?business_date=...) on a large
store: the as-of read model beside the fold of the log it replaced, in the same run.

`python -m bench.as_of [--guarantees N] [--others M]` builds a store in a database of its
own: one guarantor with N guarantees and another with M, each guarantee's SME registered,
issued and (four in five) repaid 45 days later, on business dates that follow recording
order over 600 days (one guarantee in ten reported up to 20 days late): about 2.8 (N + M)
events. Then it keeps only the as-of read model (timed: what a rebuild of it costs), and
times, for an institution, a program, a guarantee and an SME, with and without known_at,
the work the route does (wait for the read model, then read it), and the fold for the
institution and the guarantee. The two answers must be equal.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from bench.payloads import BANK_ID, GUARANTOR_ID, PROGRAM_ID, envelope, setup_events, sme_id
from events.envelope import decode_posted
from events.stored import Actor
from ledger.audit.as_of import state_as_of
from ledger.audit.state import state_at
from ledger.http.as_of import as_of_cut
from ledger.runtime import running
from ledger.store.migrate import migrate
from ledger.store.reads import head_position
from projections.runner import ProjectionRunner

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OTHER = "BENCH-GUAR2"
START = dt.date(2025, 1, 1)
SPAN = 600
"""Business days the issuances are spread over, from START."""
TOTAL = [1]
"""How many guarantees the store is built with (set by `build`)."""
BATCH = 250


def _at(day: dt.date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


def _issued(n: int, guarantor: str, day: dt.date) -> dict[str, Any]:
    data = {
        "guarantee_id": f"G-{n}",
        "program_id": PROGRAM_ID,
        "sme_id": sme_id(n),
        "bank_id": BANK_ID,
        "guarantor_id": guarantor,
        "loan_amount": 100_000_000,
        "fee_rate_bp": 80,
        "start_date": day.isoformat(),
        "maturity_date": (day + dt.timedelta(days=730)).isoformat(),
    }
    return {**envelope("guarantee.issued", data), "occurred_at": _at(day)}


def _sme(n: int) -> dict[str, Any]:
    data = {"sme_id": sme_id(n), "name": f"SME {n}"}
    return {**envelope("sme.registered", data), "occurred_at": _at(_day(n))}


def _day(n: int) -> dt.date:
    # Business dates follow recording order, as they do in a ledger fed as business
    # happens; one guarantee in ten is reported up to 20 days late.
    late = (n * 7919) % 21 if n % 10 == 0 else 0
    return max(START, START + dt.timedelta(days=n * SPAN // TOTAL[0] - late))


async def _post(rt: Any, bodies: list[dict[str, Any]], actor: Actor) -> None:
    events = decode_posted(msgspec.json.encode(bodies)).events
    await rt.ledger.post(events, actor, batch=True)


async def build(dsn: str, main: int, others: int) -> tuple[dt.datetime, float]:
    """Post the store; return a moment half-way through and the seconds it took."""
    started = time.perf_counter()
    admin, bank = Actor(role="admin"), Actor(role="bank", institution_id=BANK_ID)
    other = {"institution_id": OTHER, "name": "Bench Guarantee Co. 2", "kind": "guarantor"}
    setup = [*setup_events(), envelope("institution.registered", other)]
    midway = dt.datetime.now(dt.UTC)
    async with running(dsn, pool_size=4) as rt:
        await _post(rt, [{**b, "occurred_at": _at(START)} for b in setup], admin)
        total = TOTAL[0] = main + others
        for first in range(0, total, BATCH):
            ns = range(first, min(first + BATCH, total))
            guarantor = [GUARANTOR_ID if n < main else OTHER for n in ns]
            for who in (GUARANTOR_ID, OTHER):
                mine = [n for n, g in zip(ns, guarantor, strict=True) if g == who]
                if not mine:
                    continue
                actor = Actor(role="guarantor", institution_id=who)
                await _post(rt, [_sme(n) for n in mine], actor)
                await _post(rt, [_issued(n, who, _day(n)) for n in mine], actor)
            repaid = [
                {
                    **envelope("loan.repaid", {"guarantee_id": f"G-{n}", "amount": 30_000_000}),
                    "occurred_at": _at(_day(n) + dt.timedelta(days=45)),
                }
                for n in ns
                if n % 5
            ]
            await _post(rt, repaid, bank)
            if first < total // 2 <= first + BATCH:
                midway = dt.datetime.now(dt.UTC)
            if first % 20_000 < BATCH:
                print(f"  posted {first + len(ns)} of {total} guarantees", file=sys.stderr)
    return midway, time.perf_counter() - started


async def _timed(run: Callable[[], Awaitable[Any]], repeats: int) -> tuple[dict[str, float], Any]:
    await run()  # warm
    runs, body = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        body = await run()
        runs.append((time.perf_counter() - began) * 1000.0)
    runs.sort()
    p99 = runs[min(len(runs) - 1, round(0.99 * (len(runs) - 1)))]
    return {"p50_ms": round(statistics.median(runs), 2), "p99_ms": round(p99, 2)}, body


async def measure(dsn: str, known_at: dt.datetime, repeats: int, fold_repeats: int) -> Any:
    """Per id kind and known_at: the read model's timing, and the fold's for two kinds."""
    # The quarter ended before the moment half-way: what an auditor asks of that moment.
    day = dt.date(2025, 9, 30)
    ids = {
        "institution_id": GUARANTOR_ID,
        "program_id": PROGRAM_ID,
        "guarantee_id": "G-7",
        "sme_id": sme_id(7),
    }
    conn = await asyncpg.connect(dsn)
    out: dict[str, Any] = {"business_date": day.isoformat()}
    try:
        for label, moment in (("now", None), ("known_at_past", known_at)):
            for name, ident in ids.items():

                async def read(name: str = name, ident: str = ident, m: Any = moment) -> Any:
                    deadline = asyncio.get_running_loop().time() + 5
                    head = await head_position(conn)
                    cut = await as_of_cut(conn, None, day, m, deadline, head)
                    return await state_as_of(conn, cut, name, ident)

                async def fold(name: str = name, ident: str = ident, m: Any = moment) -> Any:
                    given: dict[str, Any] = {name: ident}
                    return await state_at(conn, business_date=day, known_at=m, **given)

                figures, body = await _timed(read, repeats)
                entry = out.setdefault(label, {})[name] = {"read_model": figures}
                if name in ("institution_id", "guarantee_id"):
                    entry["fold"], folded = await _timed(fold, fold_repeats)
                    assert folded == body, (label, name)
                print(f"  {label} {name}: {entry}", file=sys.stderr)
    finally:
        await conn.close()
    return out


async def _sizes(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        size = await conn.fetchval(
            "SELECT pg_total_relation_size('proj_as_of_rows')"
            " + pg_total_relation_size('proj_as_of')"
        )
        rows = await conn.fetchval("SELECT count(*) FROM proj_as_of_rows")
        events = await conn.fetchval("SELECT max(position) FROM event_log")
    finally:
        await conn.close()
    return {"events": events, "rows": rows, "bytes": size, "bytes_per_event": size // events}


async def run(admin_dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build, keep the as-of read model, measure; the database is dropped afterwards."""
    name = f"ledger_asof_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        conn = await asyncpg.connect(dsn)
        await migrate(conn)
        await conn.close()
        known_at, posting = await build(dsn, args.guarantees, args.others)
        print(f"  posted in {posting:.0f} s; building the as-of read model", file=sys.stderr)
        began = time.perf_counter()
        runner = ProjectionRunner(dsn, names=["as_of"], batch_size=2000)
        try:
            await runner.catch_up()
        finally:
            await runner.close()
        built = time.perf_counter() - began
        sizes = await _sizes(dsn)
        figures = await measure(dsn, known_at, args.repeats, args.fold_repeats)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "guarantees": {"institution": args.guarantees, "other": args.others},
        "store": sizes,
        "as_of_build_s": round(built, 1),
        **figures,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print (and write) the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.as_of", description=__doc__)
    parser.add_argument("--guarantees", type=int, default=150_000)
    parser.add_argument("--others", type=int, default=180_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--fold-repeats", type=int, default=2)
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    admin_dsn = (
        os.environ.get("LEDGER_BENCH_DSN") or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    figures = asyncio.run(run(admin_dsn, args))
    text = json.dumps(figures, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
