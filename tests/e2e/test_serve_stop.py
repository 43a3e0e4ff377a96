"""`ledger serve` told to stop (SIGTERM) ends its open streams and long polls at once,
rather than holding the stop for their lifetime or wait."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from tests.e2e.live import served


async def _open_feeds_then_stop(url: str, key: str, stop: asyncio.Future[None]) -> float:
    """Open a stream and a long poll, stop the service, and return how long both took
    to end after the stop began; the long poll answers its (empty) page."""
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        stream = await session.get(
            f"{url}/v1/events/stream", headers={"Accept": "text/event-stream"}
        )
        assert stream.status == 200
        await stream.content.readuntil(b"\n\n")  # the retry: line: the stream is open
        poll = asyncio.create_task(session.get(f"{url}/v1/events?after=0&wait=30"))
        await asyncio.sleep(0.5)  # the long poll is waiting
        started = time.monotonic()
        stop.set_result(None)
        answer = await asyncio.wait_for(poll, 20)
        assert answer.status == 200
        assert (await answer.json())["events"] == []
        rest = await asyncio.wait_for(stream.content.read(), 20)  # ends: EOF
        assert b"data:" not in rest
        return time.monotonic() - started


def test_a_stop_ends_open_streams_and_long_polls_at_once(
    pg_admin_dsn: str, pg_template: str, tmp_path: Path
) -> None:
    with served(pg_admin_dsn, pg_template, tmp_path / "service.log") as live:
        process = live.service.proc
        assert process is not None

        async def run() -> float:
            stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            async def stopper() -> None:
                await stop
                process.terminate()

            stopping = asyncio.create_task(stopper())
            took = await _open_feeds_then_stop(live.url, live.admin, stop)
            await stopping
            return took

        took = asyncio.run(run())
        started = time.monotonic()
        process.wait(20)
        exited = time.monotonic() - started
    assert took < 5.0
    assert exited < 5.0
