"""GET /v1/events/stream: server-sent events with resume, heartbeats and a cut-off for stalls."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from typing import Any

import asyncpg
import pytest
import structlog
from aiohttp.test_utils import TestClient

from ledger.auth.keys import revoke_key
from ledger.http.app import create_app
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.e2e.sse import end_seal_listeners, opened, post_banks

Client = TestClient[Any, Any]


@pytest.fixture
async def quick(db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """A client of an app whose streams beat every 0.2 s and cut a consumer stalled 0.5 s."""
    limits = dataclasses.replace(FAST, stream_heartbeat=0.2, stream_stall=0.5)
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=limits))


async def test_the_stream_sends_each_event_with_its_position_type_and_feed_body(
    client: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 5)
    page = await (await client.get("/v1/events?after=0", headers=admin)).json()
    async with opened(client, admin) as stream:
        events = await stream.read_until(5)
    assert [e.id for e in events] == ["1", "2", "3", "4", "5"]
    assert {e.event for e in events} == {"institution.registered"}
    assert [json.loads(e.data) for e in events] == page["events"]


async def test_an_event_posted_while_connected_arrives_live(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    async with opened(client, admin) as stream:
        await stream.read_for(0.2)
        await post_banks(client, admin, 1, 1)
        events = await stream.read_until(1, within=5)
    assert events[0].id == "1"


async def test_a_stream_whose_listen_connection_was_lost_still_gets_events_live(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    admin = await keys.role("admin")
    async with opened(client, admin) as stream:
        await stream.read_for(0.3)
        ended = await end_seal_listeners(db_dsn)
        await stream.read_for(0.3)
        await post_banks(client, admin, 1, 1)
        events = await stream.read_until(1, within=3)
    assert ended >= 1
    assert events[0].id == "1"


async def test_the_stream_answers_with_the_request_id_it_was_given(
    client: Client, keys: Keys
) -> None:
    headers = {**await keys.role("admin"), "X-Request-ID": "feed-42"}
    async with opened(client, headers) as stream:
        assert stream.response.headers["X-Request-ID"] == "feed-42"


async def test_after_skips_the_positions_before_it(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 4)
    async with opened(client, admin, "?after=2") as stream:
        events = await stream.read_until(2)
    assert [e.id for e in events] == ["3", "4"]


async def test_last_event_id_wins_over_after(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 4)
    async with opened(client, {**admin, "Last-Event-ID": "3"}, "?after=1") as stream:
        events = await stream.read_until(1)
        await stream.read_for(0.3)
    assert [e.id for e in stream.events] == ["4"]
    assert events[0].id == "4"


async def test_resume_after_dropped_connections_gives_every_position_once_in_order(
    client: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    total = 60

    async def poster() -> None:
        for n in range(0, total, 3):
            await post_banks(client, admin, n, 3)
            await asyncio.sleep(0.01)

    posting = asyncio.create_task(poster())
    received: list[int] = []
    last_id: str | None = None
    while len(received) < total:
        headers = admin if last_id is None else {**admin, "Last-Event-ID": last_id}
        async with opened(client, headers) as stream:
            # Drop the connection after a few events, mid-stream.
            await stream.read_until(min(5, total - len(received)), within=10)
        received += [int(e.id or 0) for e in stream.events]
        last_id = stream.parser.last_id
    await posting
    assert received == list(range(1, total + 1))


async def test_an_idle_stream_gets_heartbeat_comments(quick: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    async with opened(quick, admin) as stream:
        # Three of them (every 0.2 s here), however long a loaded machine takes to send them.
        await stream.read_comments_until(3)
    assert len(stream.comments) >= 3
    assert stream.events == []


async def test_a_stream_ends_cleanly_at_its_lifetime(
    db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    limits = dataclasses.replace(FAST, stream_lifetime=0.3)
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=limits))
    admin = await keys.role("admin")
    r = await client.get("/v1/events/stream", headers=admin)
    async with asyncio.timeout(5):
        body = await r.read()
    assert body.startswith(b"retry: ")


async def test_a_key_revoked_while_streaming_ends_the_stream_within_a_heartbeat(
    quick: Client, keys: Keys, db_dsn: str
) -> None:
    key = await keys.new(role="auditor")
    r = await quick.get("/v1/events/stream", headers={"Authorization": f"Bearer {key}"})
    assert r.status == 200
    conn = await asyncpg.connect(db_dsn)
    try:
        await revoke_key(conn, key.split("_")[1])
    finally:
        await conn.close()
    async with asyncio.timeout(5):
        body = await r.read()  # ends: the stream closed
    assert body.startswith(b"retry: ")


@pytest.mark.parametrize("role", ["reader"])
async def test_a_key_that_may_not_read_the_log_gets_403(
    client: Client, keys: Keys, role: str
) -> None:
    r = await client.get("/v1/events/stream", headers=await keys.role(role))
    assert r.status == 403
    assert (await r.json(content_type=None))["type"] == "/problems/forbidden"


async def test_no_key_gets_401(client: Client) -> None:
    r = await client.get("/v1/events/stream")
    assert r.status == 401


@pytest.mark.parametrize("value", ["x", "-1", "1.5", "99999999999999999999", "4611686018427387905"])
async def test_a_bad_last_event_id_gets_422_naming_the_header(
    client: Client, keys: Keys, value: str
) -> None:
    r = await client.get(
        "/v1/events/stream", headers={**await keys.role("auditor"), "Last-Event-ID": value}
    )
    assert r.status == 422
    problem = await r.json(content_type=None)
    assert problem["errors"][0]["path"] == "header.Last-Event-ID"


async def test_a_consumer_that_stops_reading_is_cut_off_with_a_log_line(
    quick: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    # More than the kernel buffers of a loopback connection hold (4 MiB for the sender).
    for start in range(0, 9000, 1000):
        await post_banks(quick, admin, start, 1000, long=True)
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    url = quick.make_url("/")
    key = admin["Authorization"]
    with structlog.testing.capture_logs() as logs, sock:
        await loop.sock_connect(sock, (url.host, url.port))
        request = f"GET /v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\n\r\n"
        await loop.sock_sendall(sock, request.encode())
        # Never read: the service fills the socket, then waits 0.5 s and gives up.
        async with asyncio.timeout(10):
            while not any(e["event"] == "event_stream.consumer_cut_off" for e in logs):
                await asyncio.sleep(0.1)
        cut = next(e for e in logs if e["event"] == "event_stream.consumer_cut_off")
        assert cut["log_level"] == "warning"
        assert 0 <= cut["sent_through"] < 9000
        # The connection is closed: reading drains what was sent, then ends.
        async with asyncio.timeout(10):
            while await _recv(loop, sock):
                pass


async def _recv(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
    try:
        return await loop.sock_recv(sock, 1 << 16)
    except ConnectionResetError:
        return b""


async def test_head_answers_the_headers_alone_and_keeps_the_connection_usable(
    client: Client, keys: Keys
) -> None:
    """An answer to HEAD has no body: the events must not follow it onto the connection."""
    admin = await keys.role("admin")
    await post_banks(client, admin, 0, 3)
    url = client.make_url("/")
    key = admin["Authorization"]
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        head = f"HEAD /v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\n\r\n"
        writer.write(head.encode() + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(5):
            answered = await reader.readuntil(b"\r\n\r\n")
            after = await reader.readuntil(b"\r\n")
    finally:
        writer.close()
    assert answered.startswith(b"HTTP/1.1 200")
    assert b"text/event-stream" in answered
    assert after == b"HTTP/1.1 200 OK\r\n"
