"""Event-stream consumers that stop reading are cut off, and the service's memory stays flat."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bench.service import free_port
from ledger import client as lc
from ledger.client.sse import SseParser
from tests import pg
from tests.e2e.live import Live
from tests.reliability.harness import report

ROOT = Path(__file__).resolve().parents[2]
STALLED = 8
EVENTS = 16_000
NAME = "x" * 190


@dataclass
class AppProcess:
    """The served app: how to reach it, its process id and its log file."""

    live: Live
    pid: int
    log: Path


@pytest.fixture
def app_process(pg_admin_dsn: str, pg_template: str, tmp_path: Path) -> Iterator[AppProcess]:
    """The ledger's app in its own process, cutting stalled streams after 1 s."""
    name = asyncio.run(pg.create_database(pg_admin_dsn, pg_template))
    dsn = pg.with_database(pg_admin_dsn, name)
    port = free_port()
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.stream_service", dsn, str(port), "1.0"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=out,
        )
    try:
        live = Live(f"http://127.0.0.1:{port}", dsn, "", None)  # type: ignore[arg-type]
        live.admin = asyncio.run(live.key(role="admin"))
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.1)
        yield AppProcess(live, proc.pid, log)
    finally:
        proc.kill()  # nothing to shut down cleanly: the database is dropped next
        proc.wait(20)
        asyncio.run(pg.drop_database(pg_admin_dsn, name))


def _answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _fill(live: Live) -> None:
    async with lc.LedgerClient(live.url, live.admin) as c:
        for start in range(0, EVENTS, 1000):
            await c.post(
                [
                    lc.NewEvent(
                        type="institution.registered",
                        data={"institution_id": f"B-{n}", "name": NAME, "kind": "bank"},
                    )
                    for n in range(start, start + 1000)
                ]
            )


def _stall(live: Live) -> socket.socket:
    """Open the stream and never read from it (a receive buffer of a few KiB)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
    sock.sendall(
        f"GET /v1/events/stream HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {live.admin}\r\n\r\n".encode()
    )
    return sock


def _cut_offs(log: Path) -> list[dict[str, object]]:
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("event") == "event_stream.consumer_cut_off"]


def test_stalled_stream_consumers_are_cut_off_and_memory_stays_flat(
    app_process: AppProcess,
) -> None:
    live, log = app_process.live, app_process.log
    process = psutil.Process(app_process.pid)
    asyncio.run(_fill(live))
    body = asyncio.run(_read_all(live))
    baseline = process.memory_info().rss
    sockets = [_stall(live) for _ in range(STALLED)]
    peak = baseline
    deadline = time.monotonic() + 20
    while len(_cut_offs(log)) < STALLED and time.monotonic() < deadline:
        peak = max(peak, process.memory_info().rss)
        time.sleep(0.05)
    cut = _cut_offs(log)
    after = process.memory_info().rss
    for s in sockets:
        s.close()
    mib = 1024 * 1024
    report(
        "stalled stream consumers",
        consumers=STALLED,
        stream_bytes_each=f"{body / mib:.1f} MiB",
        rss_before=f"{baseline / mib:.1f} MiB",
        rss_peak=f"{peak / mib:.1f} MiB",
        rss_after_cut=f"{after / mib:.1f} MiB",
        cut_off=len(cut),
        max_pending=f"{max(int(str(c['pending_bytes'])) for c in cut) / 1024:.0f} KiB",
    )
    assert len(cut) == STALLED
    # Were they buffered for, the service would hold most of the stream for each one.
    assert peak - baseline < 24 * mib
    assert peak - baseline < STALLED * body / 4


async def _read_all(live: Live) -> int:
    """Read the whole stream once, as a healthy consumer does; return its size in bytes."""
    parser = SseParser()
    size = 0
    async with (
        lc.LedgerClient(live.url, live.admin) as c,
        c.session.get(
            live.url + "/v1/events/stream", headers={"Authorization": f"Bearer {live.admin}"}
        ) as r,
    ):
        async for chunk in r.content.iter_any():
            size += len(chunk)
            parser.feed(chunk)
            if parser.last_id == str(EVENTS):
                return size
    raise AssertionError("the stream ended early")
