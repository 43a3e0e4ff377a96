"""A body the ledger cannot read is the poster's to fix, answered as such, and logged as such."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import json
import logging
from collections.abc import AsyncIterator

import pytest
import structlog
from aiohttp import web

from ledger.http import unreadable
from ledger.http.app import create_app
from ledger.http.context import Limits
from ledger.tlog.keys import Signer
from tests.e2e.conftest import FAST, Keys
from tests.e2e.posting import Client
from tests.e2e.posting import problem as _problem
from tests.factory import institution


@pytest.mark.parametrize("coding", ["x-gzip", "gzip, gzip", "compress", "foo"])
async def test_a_body_in_a_coding_the_ledger_does_not_decode_is_415_and_stores_nothing(
    client: Client, keys: Keys, coding: str
) -> None:
    admin = await keys.role("admin")
    event = institution("B-1")
    raw = json.dumps(event).encode()
    headers = {**admin, "Content-Type": "application/json", "Content-Encoding": coding}
    r = await client.post("/v1/events", data=raw, headers=headers)
    body = await r.json(content_type=None)
    _problem(body, "unsupported-media-type", 415)
    assert repr(coding) in body["detail"]
    assert r.headers["Accept-Encoding"] == "gzip, deflate"
    again = await client.post("/v1/events", json=event, headers=admin)
    assert again.status == 201  # not 200: the refused post stored nothing


@pytest.mark.parametrize("coding", ["gzip", "GZIP", "identity"])
async def test_a_body_in_a_coding_the_ledger_decodes_is_stored(
    client: Client, keys: Keys, coding: str
) -> None:
    raw = json.dumps(institution("B-1")).encode()
    sent = raw if coding == "identity" else gzip.compress(raw)
    headers = {
        **await keys.role("admin"),
        "Content-Type": "application/json",
        "Content-Encoding": coding,
    }
    r = await client.post("/v1/events", data=sent, headers=headers)
    assert r.status == 201, await r.text()


@pytest.fixture
async def served(db_dsn: str, log_signer: Signer) -> AsyncIterator[tuple[str, int]]:
    """The app served as `ledger serve` serves it (its runner: a request is not cancelled
    when its poster goes, as aiohttp's test server would)."""
    async with _serving(db_dsn, log_signer, FAST) as at:
        yield at


@contextlib.asynccontextmanager
async def _serving(db_dsn: str, signer: Signer, limits: Limits) -> AsyncIterator[tuple[str, int]]:
    """The app with `limits`, served by the ledger's runner on a free port."""
    app = create_app(db_dsn, pool_size=4, limits=limits, signer=signer)
    runner = unreadable.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield "127.0.0.1", int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def _answer(at: tuple[str, int], request: bytes, then_close: bool = False) -> bytes:
    """Send raw bytes on a connection of its own; what the service answers, to its end."""
    reader, writer = await asyncio.open_connection(*at)
    try:
        writer.write(request)
        if then_close:
            await writer.drain()
            writer.close()
            return b""
        async with asyncio.timeout(5):
            return await reader.read()  # to the end: the service closes the connection
    finally:
        writer.close()


async def test_a_body_not_in_its_coding_is_answered_then_the_connection_closed_quietly(
    served: tuple[str, int], keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    """No server-side traceback for the poster's mistake, and nothing read after it."""
    key = (await keys.role("admin"))["Authorization"]
    body = b'{"event_id": "not gzip"}'
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Encoding: gzip\r\nAuthorization: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with caplog.at_level(logging.WARNING):
        answer = await _answer(served, head.encode() + body)
    status, rest = answer.split(b"\r\n", 1)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert b"\r\nConnection: close\r\n" in rest
    assert b"/problems/malformed-request" in rest
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_poster_gone_mid_body_is_logged_as_such_not_as_the_database_failing(
    served: tuple[str, int], keys: Keys
) -> None:
    key = (await keys.role("admin"))["Authorization"]
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {key}\r\nContent-Length: 1000\r\n\r\n"
    )
    with structlog.testing.capture_logs() as logs:
        await _answer(served, head.encode() + b'{"event_id": ', then_close=True)
        async with asyncio.timeout(5):
            while not any(e["event"] == "request" for e in logs):
                await asyncio.sleep(0.05)
    events = [e["event"] for e in logs]
    assert "request.body_incomplete" in events
    assert "request.database_unavailable" not in events
    (access,) = [e for e in logs if e["event"] == "request"]
    assert access["status"] == 400


@pytest.fixture
async def impatient(db_dsn: str, log_signer: Signer) -> AsyncIterator[tuple[str, int]]:
    """As `served`, with a body given 0.5 s to arrive."""
    async with _serving(db_dsn, log_signer, dataclasses.replace(FAST, body_timeout=0.5)) as at:
        yield at


async def test_a_body_that_does_not_arrive_in_time_is_refused_and_the_connection_closed(
    impatient: tuple[str, int], keys: Keys
) -> None:
    key = (await keys.role("admin"))["Authorization"]
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {key}\r\nContent-Length: 1000\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(*impatient)
    try:
        writer.write(head.encode() + b'{"event_id": ')  # and nothing more
        async with asyncio.timeout(5):
            answer = await reader.read()  # to the end: the service closes the connection
    finally:
        writer.close()
    status, rest = answer.split(b"\r\n", 1)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert b"did not arrive within 0.5 s" in rest


async def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(
    db_dsn: str, log_signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unreadable, "IDLE_TIMEOUT", 0.5)
    async with _serving(db_dsn, log_signer, FAST) as at:
        reader, writer = await asyncio.open_connection(*at)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the service, unanswered
        writer.close()


async def test_a_request_the_parser_refuses_has_a_request_id_and_is_counted(
    served: tuple[str, int],
) -> None:
    answer = await _answer(served, b"GET /healthz HTTP/1.1\r\nHost: a\x01b\r\n\r\n")
    status, rest = answer.split(b"\r\n", 1)
    metrics = await _answer(
        served, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status.endswith(b" 400 Bad Request")  # HTTP/1.0: the version was not read
    assert b"\r\nX-Request-ID: " in rest
    assert b'route="(unreadable)",status="400"' in metrics
