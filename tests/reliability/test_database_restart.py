"""PostgreSQL restarting under load: 503 during the outage, recovery by itself, nothing lost."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg

from ledger.embedded import EmbeddedPostgres
from tests.reliability.harness import Service, Tally, post_until, prepare, report, stored_event_ids


async def test_database_restart_gives_503_then_recovers_without_loss(tmp_path: Path) -> None:
    # The embedded server runs as its own system user, which must be able to enter the
    # directory: pytest's temporary directories are private to root.
    home = Path(tempfile.mkdtemp(prefix="ledger-restart-"))
    home.chmod(0o755)
    cluster = EmbeddedPostgres(home / "cluster")
    admin_dsn = cluster.start()
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute("CREATE DATABASE ledger_restart")
    await conn.close()
    dsn = admin_dsn.replace("/postgres?", "/ledger_restart?")
    service = Service(dsn, tmp_path / "service.log")
    service.start()
    try:
        key = await asyncio.to_thread(prepare, dsn, service)
        tally = Tally()
        stop = asyncio.Event()
        load = asyncio.create_task(post_until([service.url], key, tally, stop, workers=8, start=1))
        await asyncio.sleep(1.5)
        before = dict(tally.statuses)
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(2.0)
        during = {s: n - before.get(s, 0) for s, n in tally.statuses.items()}
        await asyncio.to_thread(cluster.start)
        down_until = time.monotonic()
        acknowledged_at_restart = len(tally.acknowledged)
        while len(tally.acknowledged) == acknowledged_at_restart:
            assert time.monotonic() - down_until < 20, "the service did not recover by itself"
            await asyncio.sleep(0.1)
        recovered_in = time.monotonic() - down_until
        await asyncio.sleep(1.0)
        stop.set()
        await load
        stored = set(await stored_event_ids(dsn))
        lost = tally.acknowledged - stored
        report(
            "database restart",
            posts=len(tally.sent),
            acknowledged=len(tally.acknowledged),
            statuses_during_outage=during,
            recovered_in_s=round(recovered_in, 2),
            lost=len(lost),
        )
        assert 500 not in tally.statuses
        assert set(during) <= {200, 201, 503}
        assert lost == set()
    finally:
        service.stop()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
