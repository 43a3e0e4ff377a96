"""Requests aiohttp's parser refuses are answered with problem+json by the service's runner."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from ledger.http.unreadable import AppRunner, unreadable_problem

SECRET = "lk_0123456789abcdef_s3cr3tvalue"


async def _hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": "world"})


@pytest.fixture
async def served() -> AsyncIterator[int]:
    """A small app served by the ledger's runner on a free port."""
    app = web.Application()
    app.router.add_get("/hello", _hello)
    runner = AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def _exchange(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; the status line, the headers and the body, read until close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


async def test_a_header_the_parser_refuses_is_answered_with_a_problem(served: int) -> None:
    status, headers, body = await _exchange(
        served,
        b"GET /hello HTTP/1.1\r\nHost: ledger\r\n"
        b"Authorization: Bearer " + SECRET.encode() + b"\x00\r\n\r\n",
    )
    assert status.split(" ", 2)[1] == "400"
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"] == "/problems/malformed-request"
    assert problem["status"] == 400
    assert headers["server"] == "ledger"
    assert "Invalid header value char" in problem["detail"]
    assert "s3cr3t" not in body.decode()


async def test_a_request_line_too_long_is_answered_with_a_problem(served: int) -> None:
    status, headers, body = await _exchange(
        served, b"GET /hello?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: ledger\r\n\r\n"
    )
    assert status.split(" ", 2)[1] == "400"
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"] == "/problems/malformed-request"


async def test_the_server_closes_the_connection_after_such_an_answer(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    try:
        writer.write(b"GET /hello HTTP/1.1\r\nHost: a\x01b\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # returns at the server's close
        assert reader.at_eof()
    finally:
        writer.close()
    assert b"/problems/malformed-request" in answer


async def test_a_readable_request_is_answered_by_the_app(served: int) -> None:
    status, _, body = await _exchange(
        served, b"GET /hello HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n"
    )
    assert status.split(" ", 2)[1] == "200"
    assert json.loads(body) == {"hello": "world"}


def test_the_detail_keeps_only_the_first_line_of_the_parsers_reason() -> None:
    exc = BadHttpMessage("Invalid header value char:\n\n  b'Bearer " + SECRET + "'\n ^")
    problem = unreadable_problem(400, exc)
    assert problem.detail == "the request is not readable HTTP/1.1: Invalid header value char"


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer " + SECRET.encode(),
        b"Authorization: Basic b3BlcmF0b3I6U3VwM3JTM2NyZXQ=",
        b"Cookie: session=" + SECRET.encode(),
        b"X-Api-Key: " + SECRET.encode(),
    ],
)
async def test_a_header_too_long_is_refused_without_quoting_it(served: int, header: bytes) -> None:
    status, _, body = await _exchange(
        served, b"GET /hello HTTP/1.1\r\nHost: ledger\r\n" + header + b"x" * 9000 + b"\r\n\r\n"
    )
    value = header.partition(b": ")[2].split(b" ")[-1]
    assert status.split(" ", 2)[1] == "400"
    assert json.loads(body)["detail"] == (
        "the request is not readable HTTP/1.1: Got more than 8190 bytes when reading"
    )
    assert value[:12] not in body


def test_what_the_server_fails_at_itself_is_an_internal_error_problem() -> None:
    assert unreadable_problem(500, RuntimeError("boom")).slug == "internal-error"
    assert unreadable_problem(504, None).status == 504
    assert unreadable_problem(503, None).slug == "service-unavailable"


@pytest.mark.parametrize("coding", ["br", "zstd"])
async def test_a_body_in_a_coding_the_parser_cannot_decode_is_415(served: int, coding: str) -> None:
    status, headers, body = await _exchange(
        served,
        b"POST /hello HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: " + coding.encode() + b"\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert status.split(" ", 2)[1] == "415"
    assert headers["content-type"] == "application/problem+json"
    assert headers["accept-encoding"] == "gzip, deflate"
    problem = json.loads(body)
    assert problem["type"] == "/problems/unsupported-media-type"
    assert "install" not in problem["detail"]
