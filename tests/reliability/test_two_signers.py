"""Two `ledger serve` instances sharing one key: the active sealer's holder killed under load."""

from __future__ import annotations

import asyncio
import itertools
import signal
from pathlib import Path

import asyncpg
import pytest

from ledger.audit.verify import verify_chain
from ledger.store import tree
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.keys import generate_signer, parse_verifier
from ledger.tlog.note import open_note
from ledger.tlog.proofs import verify_consistency
from tests.reliability.harness import Service, Tally, post_until, prepare, report
from tests.reliability.test_two_instances import two_services

__all__ = ["two_services"]


async def _signed_size(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(size), 0) FROM log_checkpoints"))


def _holder(first: Service, second: Service) -> tuple[Service, Service]:
    """The instance whose sealer is active (it logged so), and the other."""
    if "sealer.active" in first.log.read_text():
        return first, second
    return second, first


async def test_signing_continues_when_the_sealers_holder_is_killed(
    two_services: tuple[Service, Service], db_dsn: str, tmp_path: Path
) -> None:
    """Checkpoints go on from the survivor; one per size; each consistent with every later."""
    first, second = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    holder, survivor = _holder(first, second)
    conn = await asyncpg.connect(db_dsn)
    try:
        tally, stop = Tally(), asyncio.Event()
        urls = [first.url, second.url]
        load = asyncio.create_task(post_until(urls, guarantor, tally, stop, workers=8, start=5_000))
        await asyncio.sleep(2.0)
        before = await _signed_size(conn)
        await asyncio.to_thread(holder.kill)
        await asyncio.sleep(3.0)
        stop.set()
        await load
        size = int(await conn.fetchval("SELECT size FROM log_tree"))
        for _ in range(100):
            if await _signed_size(conn) == size:
                break
            await asyncio.sleep(0.05)
        after = await _signed_size(conn)
        vkey = parse_verifier(await conn.fetchval("SELECT verifier_key FROM log_identity"))
        rows = await conn.fetch("SELECT size, root, note FROM log_checkpoints ORDER BY size")
        signed = []
        for row in rows:
            note, _ = open_note(row["note"], [vkey])
            body = parse_checkpoint(note.text)
            assert (body.size, body.root) == (row["size"], bytes(row["root"]))
            signed.append(body)
        for old, new in itertools.combinations(signed, 2):
            proof = await tree.consistency_proof(conn, old.size, new.size)
            verify_consistency(old.size, new.size, old.root, new.root, proof)
        verified = await verify_chain(conn)
    finally:
        await conn.close()
    report(
        "two signers, holder killed",
        acknowledged=len(tally.acknowledged),
        checkpoints=len(signed),
        signed_before_kill=before,
        signed_at_end=after,
        log_size=size,
    )
    assert before > 0
    assert after == size > before
    assert "sealer.active" in survivor.log.read_text()
    assert verified.ok


def test_an_instance_without_the_stores_key_refuses_to_start(db_dsn: str, tmp_path: Path) -> None:
    """Another key, or none, for a store whose key is recorded: one clear line, no service."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Service(db_dsn, tmp_path / "a" / "serve.log")
    first.start()
    first.stop()
    other = Service(db_dsn, tmp_path / "b" / "serve.log")
    with pytest.raises(RuntimeError, match="does not exist"):
        other.start()
    other.stop()
    other.key_file.write_text(generate_signer("guarantee-ledger/other").encode() + "\n")
    with pytest.raises(RuntimeError, match="is not this store's log key"):
        other.start()
    other.stop()
    errors = [
        line for line in other.log.read_text().splitlines() if line.startswith("ledger: error:")
    ]
    assert len(errors) == 2
    assert "refusing to start" in errors[-1]


async def test_a_hung_sealers_instance_is_fenced_and_the_other_seals_on(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """The active sealer's process stopped (SIGSTOP) keeps its session and the lock; the
    other instance ends that session and seals, and posts to it go on being answered."""
    first, second = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    holder, survivor = _holder(first, second)
    assert holder.proc is not None
    tally, stop = Tally(), asyncio.Event()
    holder.proc.send_signal(signal.SIGSTOP)
    try:
        load = asyncio.create_task(
            post_until([survivor.url], guarantor, tally, stop, workers=4, start=7_000)
        )
        await asyncio.sleep(12.0)
        stop.set()
        await load
        holding = await _sealing_lock_holders(db_dsn)  # for the report, while still stopped
    finally:
        holder.proc.send_signal(signal.SIGCONT)
    conn = await asyncpg.connect(db_dsn)
    try:
        stored = {
            str(r["event_id"])
            for r in await conn.fetch(
                "SELECT e.event_id FROM events e JOIN event_log l USING (seq)"
            )
        }
        verified = await verify_chain(conn)
    finally:
        await conn.close()
    log = survivor.log.read_text()
    report(
        "hung sealer fenced",
        acknowledged=len(tally.acknowledged),
        statuses=tally.statuses,
        lock_holders=holding,
    )
    sealing = [line for line in log.splitlines() if '"sealer.' in line]
    assert '"sealer.fenced"' in log, sealing
    assert '"sealer.active"' in log
    assert len(tally.acknowledged) > 20
    assert tally.acknowledged <= stored  # every acknowledged post has its position
    assert verified.ok
    await asyncio.sleep(1.0)
    assert await asyncio.to_thread(holder.ready)  # woken, it answers again (and stands by)


async def _sealing_lock_holders(dsn: str) -> list[tuple[object, ...]]:
    """Who holds the sealing lock, in what state since when (what the fence looks at)."""
    from ledger.store.sealer import SEALER_LOCK

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT a.pid, a.state, now() - a.state_change AS idle_for, a.wait_event
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.classid::bigint = $1 AND l.objid::bigint = $2
                  AND l.database = (SELECT oid FROM pg_database
                                     WHERE datname = current_database())""",
            SEALER_LOCK >> 32,
            SEALER_LOCK & 0xFFFFFFFF,
        )
    finally:
        await conn.close()
    return [tuple(r.values()) for r in rows]
