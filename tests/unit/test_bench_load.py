"""The benchmark's load generator and its keep-alive client, against a scripted server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable

import pytest

from bench.client import Connection, ConnectionLost
from bench.load import load

# A reply for the n-th request (from 1) with its body; None drops the connection unanswered.
Reply = Callable[[int, bytes], bytes | None]


def answer(status: int, body: bytes = b"{}", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Scripted:
    """An HTTP/1.1 server that answers as `reply` says; records requests and connections."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"Content-Length: (\d+)", head)
                assert match is not None
                body = await reader.readexactly(int(match[1]))
                self.requests.append((head, body))
                out = self.reply(len(self.requests), body)
                if out is None:
                    break
                writer.write(out)
                await writer.drain()
                if b"Connection: close" in out:
                    break
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def serving(reply: Reply) -> AsyncIterator[Scripted]:
    scripted = Scripted(reply)
    listening = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    scripted.url = f"http://127.0.0.1:{port}"
    async with listening:
        yield scripted


async def test_posts_share_one_connection() -> None:
    async with serving(lambda n, body: answer(201, b'{"n": %d}' % n)) as ledger:
        connection = Connection(ledger.url, "/v1/events", {"Authorization": "Bearer k"})
        try:
            assert await connection.post(b'{"a": 1}') == (201, b'{"n": 1}')
            assert await connection.post(b"[]") == (201, b'{"n": 2}')
        finally:
            await connection.close()
    assert ledger.connections == 1
    head, body = ledger.requests[0]
    assert head.startswith(b"POST /v1/events HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer k\r\n" in head
    assert b"\r\nContent-Length: 8\r\n" in head
    assert body == b'{"a": 1}'


async def test_reconnects_after_connection_close() -> None:
    async with serving(lambda n, body: answer(409, b"no", "Connection: close")) as ledger:
        connection = Connection(ledger.url, "/v1/events", {})
        try:
            assert await connection.post(b"1") == (409, b"no")
            assert await connection.post(b"2") == (409, b"no")
        finally:
            await connection.close()
    assert ledger.connections == 2


async def test_a_dropped_connection_is_reported_then_replaced() -> None:
    async with serving(lambda n, body: None if n == 1 else answer(200)) as ledger:
        connection = Connection(ledger.url, "/v1/events", {})
        try:
            with pytest.raises(ConnectionLost):
                await connection.post(b"1")
            assert await connection.post(b"2") == (200, b"{}")
        finally:
            await connection.close()
    assert ledger.connections == 2


async def test_load_counts_only_acknowledged_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def reply(n: int, body: bytes) -> bytes | None:
        events = json.loads(body)
        assert len(events) == 3
        return answer(201) if n % 2 else answer(422, b"refused")

    async with serving(reply) as ledger:
        spec = {"url": ledger.url, "key": "k", "mode": "batch", "batch": 3, "concurrency": 2}
        run = await load({**spec, "seconds": 30, "start": 0, "max_operations": 10})
    assert (run.operations, run.events, run.errors) == (5, 15, 5)
    assert capsys.readouterr().err.count("post refused: 422 refused") == 3


async def test_load_fails_when_a_post_gets_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.load.TIMEOUT_S", 0.1)
    async with serving(lambda n, body: b"") as ledger:
        spec = {"url": ledger.url, "key": "k", "mode": "issue", "concurrency": 2}
        with pytest.raises(TimeoutError):
            await load({**spec, "seconds": 30})
    assert len(ledger.requests) == 2
