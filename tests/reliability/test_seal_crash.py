"""PostgreSQL crashing just after a seal: the seal is redone identically, receipts stand.

Sealing rounds commit without waiting for the WAL flush (ledger/runtime.py): what a
round writes follows from the durable appends it seals, so a round lost in a crash
must come back, on restart, with the same positions and hashes the posters were given.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg

from bench.payloads import sme_registered
from ledger.audit.verify import verify_chain
from ledger.embedded import EmbeddedPostgres
from tests.reliability.harness import Service, prepare, report, wait_sealed

ROUNDS = 4
MAX_ROUNDS = 10
"""At least ROUNDS crashes; more (up to MAX_ROUNDS) while none has taken a seal with it
(on a slow machine the runner's own commit can flush a seal before the crash)."""
POSTS = 5


async def _post(url: str, key: str, n: int) -> tuple[str, int]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/v1/events", json=sme_registered(n), headers=headers) as r,
    ):
        assert r.status == 201, await r.text()
        receipt = await r.json()
        return str(receipt["event_id"]), int(receipt["position"])


def _crash(pgdata: Path) -> None:
    """SIGQUIT to the postmaster: PostgreSQL's immediate shutdown, which writes nothing
    more (WAL still in its buffers is lost, as in a crash) and recovers on next start."""
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 30
    while (pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


async def _admin(dsn: str, statement: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def _positions(dsn: str, ids: list[str]) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT e.event_id::text AS id, l.position FROM events e
                 JOIN event_log l USING (seq) WHERE e.event_id = ANY($1::uuid[])""",
            ids,
        )
        return {r["id"]: r["position"] for r in rows}
    finally:
        await conn.close()


async def test_a_seal_lost_in_a_crash_is_redone_with_the_positions_given(tmp_path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="ledger-seal-crash-"))
    home.chmod(0o755)  # the embedded server runs as its own user (see test_database_restart)
    cluster = EmbeddedPostgres(home / "cluster")
    admin_dsn = cluster.start()
    # Only commits that wait for their flush write the WAL out now, not the WAL writer
    # within a fraction of a second: what a seal wrote stays in memory until the crash.
    await _admin(admin_dsn, "ALTER SYSTEM SET wal_writer_delay = '10s'")
    await _admin(admin_dsn, "SELECT pg_reload_conf()")
    await _admin(admin_dsn, "CREATE DATABASE ledger_seal_crash")
    dsn = admin_dsn.replace("/postgres?", "/ledger_seal_crash?")
    service = Service(dsn, tmp_path / "service.log")
    receipts: dict[str, int] = {}
    lost_seals = 0
    try:
        service.start()
        key = await asyncio.to_thread(prepare, dsn, service)
        for round_ in range(MAX_ROUNDS):
            if round_ >= ROUNDS and lost_seals > 0:
                break
            for i in range(POSTS):
                event_id, position = await _post(service.url, key, round_ * POSTS + i)
                receipts[event_id] = position
            # The last post's answer came after its seal committed: crash right away,
            # the service first, so no commit of its own flushes that seal meanwhile.
            service.kill()
            await asyncio.to_thread(_crash, cluster.pgdata)
            await asyncio.to_thread(cluster.stop)
            await asyncio.to_thread(cluster.start)
            head = await _admin(dsn, "SELECT coalesce(max(position), 0) FROM event_log")
            assert isinstance(head, int)
            lost_seals += sum(1 for p in receipts.values() if p > head)
            service.start()
            assert await wait_sealed(dsn, 15) == 0
            assert await _positions(dsn, list(receipts)) == receipts
        conn = await asyncpg.connect(dsn)
        try:
            chain = await verify_chain(conn)
        finally:
            await conn.close()
        report("seal crash", receipts=len(receipts), seals_lost_and_redone=lost_seals)
        assert chain.ok, f"hash chain broken at position {chain.first_bad_position}"
        # The test is only worth its name if some crash did take a seal with it.
        assert lost_seals > 0, "no crash lost a seal: sealing commits waited for the flush"
    finally:
        service.stop()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
