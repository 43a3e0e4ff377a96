"""The consumer helper killed with SIGKILL again and again while events are posted: its
tables end exactly equal to a fold of the log, every event applied once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bench.payloads import PROGRAM_TERMS, sme_id
from examples.bank_balances import balances, fold
from ledger import client as lc
from tests import pg
from tests.e2e.live import Live, served
from tests.reliability.harness import report

BANKS = ("KB-1", "KB-2", "KB-3")
GUARANTOR = "KB-GUAR"
PROGRAM = "kill-test"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(pg_admin_dsn: str, pg_template: str, tmp_path: Path) -> Iterator[Live]:
    """A served ledger on a fresh database."""
    with served(pg_admin_dsn, pg_template, tmp_path / "service.log") as ledger:
        yield ledger


@pytest.fixture
def consumer_dsn(pg_admin_dsn: str) -> Iterator[str]:
    """An empty database of the consumer's own."""
    name = f"consumer_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = await asyncpg.connect(pg_admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    yield pg.with_database(pg_admin_dsn, name)
    asyncio.run(pg.drop_database(pg_admin_dsn, name))


def _event(type_: str, **data: object) -> lc.NewEvent:
    return lc.NewEvent(type=type_, data=data)


async def _set_up(live: Live) -> dict[str, lc.LedgerClient]:
    async with lc.LedgerClient(live.url, live.admin) as admin:
        await admin.post(
            [
                *(
                    _event("institution.registered", institution_id=b, name=b, kind="bank")
                    for b in BANKS
                ),
                _event(
                    "institution.registered", institution_id=GUARANTOR, name="G", kind="guarantor"
                ),
                _event("program.registered", program_id=PROGRAM, name="Kill", terms=PROGRAM_TERMS),
            ]
        )
    keys = {who: await live.key(institution=who) for who in (*BANKS, GUARANTOR)}
    return {who: lc.LedgerClient(live.url, key) for who, key in keys.items()}


async def _post_life(clients: dict[str, lc.LedgerClient], n: int, rng: random.Random) -> None:
    """Issue guarantee n, and move earlier ones: repayments, renewals, releases."""
    bank = BANKS[n % len(BANKS)]
    gid = f"G-{n}"
    await clients[GUARANTOR].post(
        [
            _event("sme.registered", sme_id=sme_id(n), name=f"SME {n}"),
            _event(
                "guarantee.issued",
                guarantee_id=gid,
                program_id=PROGRAM,
                sme_id=sme_id(n),
                bank_id=bank,
                guarantor_id=GUARANTOR,
                loan_amount=rng.randrange(1_000_000, 50_000_000),
                fee_rate_bp=80,
                start_date="2025-03-01",
                maturity_date="2027-03-01",
            ),
        ]
    )
    moves: list[tuple[str, lc.NewEvent]] = []
    if n >= 1:
        earlier = BANKS[(n - 1) % len(BANKS)]
        amount = rng.randrange(1, 2_000_000)
        moves.append((earlier, _event("loan.repaid", guarantee_id=f"G-{n - 1}", amount=amount)))
    if n >= 2 and n % 5 == 0:
        balance = rng.randrange(1, 1_000_000)
        renewal = _event(
            "guarantee.renewed",
            guarantee_id=f"G-{n - 2}",
            maturity_date="2028-03-01",
            balance=balance,
        )
        moves.append((GUARANTOR, renewal))
    if n >= 3 and n % 4 == 0:
        released = BANKS[(n - 3) % len(BANKS)]
        moves.append((released, _event("guarantee.released", guarantee_id=f"G-{n - 3}")))
    for who, event in moves:
        # E.g. moving a guarantee released meanwhile: refused, and nothing is stored.
        with contextlib.suppress(lc.ProblemError):
            await clients[who].post(event)


async def _await_transaction(dsn: str, within: float) -> bool:
    """Wait up to `within` s until the consumer is inside a transaction (a page being
    applied); return whether it is."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            if busy:
                return True
            await asyncio.sleep(0.002)
        return False
    finally:
        await conn.close()


async def _consumer(live: Live, key: str, dsn: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.bank_balances",
        "--url",
        live.url,
        "--key",
        key,
        "--dsn",
        dsn,
        *extra,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _run(live: Live, dsn: str, *, guarantees: int, kills: int) -> dict[str, object]:
    rng = random.Random(22)
    clients = await _set_up(live)
    auditor = await live.key(role="auditor")
    posting_done = asyncio.Event()

    async def poster() -> None:
        try:
            for n in range(guarantees):
                await _post_life(clients, n, rng)
        finally:
            posting_done.set()

    async def killer() -> tuple[int, int]:
        done = mid = 0
        while done < kills:
            proc = await _consumer(live, auditor, dsn)
            await asyncio.sleep(rng.uniform(0.3, 0.8))
            mid += await _await_transaction(dsn, within=1.0)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            done += 1
        return done, mid

    posting = asyncio.create_task(poster())
    done, mid = await killer()
    await posting
    for c in clients.values():
        await c.close()
    async with lc.LedgerClient(live.url, auditor) as reader:
        log: list[lc.Event] = []
        after = 0
        while page := (await reader.events(after, limit=1000)).events:
            log += page
            after = page[-1].position
    # A last run, left to finish: it stops once it has applied the head.
    final = await _consumer(live, auditor, dsn, "--until", str(after))
    assert await asyncio.wait_for(final.wait(), 60) == 0
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        kept = await balances(pool)
        position = await pool.fetchval(
            "SELECT position FROM ledger_consumer_positions WHERE consumer = 'bank-balances'"
        )
    finally:
        await pool.close()
    expected = fold(log)
    assert position == after
    assert kept == expected
    # And the example keeps what the ledger itself says each bank has in force.
    async with lc.LedgerClient(live.url, auditor) as reader:
        for bank, (in_force, _) in expected.items():
            standing = await reader.institution_position(bank, min_position=after)
            assert sum(p.in_force_balance for p in standing.programs) == in_force
    moved = sum(count for _, count in expected.values())
    return {"events": len(log), "moved_balances": moved, "kills": done, "mid_transaction": mid}


def test_a_consumer_killed_mid_page_ends_equal_to_a_fold_of_the_log(
    live: Live, consumer_dsn: str
) -> None:
    figures = asyncio.run(_run(live, consumer_dsn, guarantees=120, kills=6))
    report("consumer SIGKILL, short", **figures)
    assert figures["kills"] == 6


@pytest.mark.slow
def test_a_consumer_killed_forty_times_ends_equal_to_a_fold_of_the_log(
    live: Live, consumer_dsn: str
) -> None:
    figures = asyncio.run(_run(live, consumer_dsn, guarantees=600, kills=40))
    report("consumer SIGKILL, long", **figures)
    assert figures["kills"] == 40
