"""How the read router probes its standbys: each on its own timer, and the first probe
of each says what it found."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
import structlog

from ledger.standbys import ReadRouter, Standby


@pytest.fixture
async def silent_dsn() -> AsyncIterator[str]:
    """A database address that takes connections and never answers (a hung standby)."""
    held: list[asyncio.StreamWriter] = []

    async def take(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/ledger"
    finally:
        for writer in held:
            writer.close()
        server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_standby_that_never_answers_does_not_slow_the_others_probes(
    owner_pool: asyncpg.Pool, db_dsn: str, silent_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hung = Standby("hung", silent_dsn, owner_pool)
    other = Standby("other", db_dsn, owner_pool)
    router = ReadRouter(owner_pool, [hung, other], max_lag=2.0, interval=0.1)
    probed: Counter[str] = Counter()
    probe = router._probe

    async def counted(standby: Standby, primary_lsn: int | None, now: float) -> None:
        await probe(standby, primary_lsn, now)
        probed[standby.name] += 1

    monkeypatch.setattr(router, "_probe", counted)
    running = asyncio.create_task(router.run())
    try:
        await asyncio.wait_for(router.measured.wait(), 10)  # the first round waits for both
        before = probed["other"]
        await asyncio.sleep(1.5)  # the hung one's probes each wait 2 s
        assert probed["other"] - before >= 5
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


async def test_the_first_probe_of_a_standby_away_or_not_one_is_logged(
    owner_pool: asyncpg.Pool, db_dsn: str
) -> None:
    away = Standby("away", f"postgresql://postgres@127.0.0.1:{_closed_port()}/ledger", owner_pool)
    primary = Standby("primary", db_dsn, owner_pool)  # answers, but is no standby
    router = ReadRouter(owner_pool, [away, primary], max_lag=2.0)
    with structlog.testing.capture_logs() as logs:
        await router.probe_all()
    said = {(line["event"], line["standby"]) for line in logs if "standby" in line}
    assert ("standby.down", "away") in said
    assert ("standby.skipped", "primary") in said
    with structlog.testing.capture_logs() as again:
        await router.probe_all()
    assert [line for line in again if "standby" in line] == []
