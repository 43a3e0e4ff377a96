"""What a service's log says about keys: a request the HTTP parser cannot read is refused
with a problem document, and its Authorization header, which the parser quotes in its
error, never reaches the log; the log's public verifier key does, readable."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from bench.service import create_key
from tests.reliability.harness import Service


async def _raw_request(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_a_key_in_a_header_the_parser_refuses_is_answered_with_a_problem_never_logged(
    service: Service, db_dsn: str
) -> None:
    key = create_key(db_dsn, "--role", "admin")
    secret = key.split("_", 2)[2]
    # A control character in the header's value: aiohttp's parser refuses the request
    # before any handler runs, and its error quotes the whole header line.
    answer = await _raw_request(
        service.url,
        b"GET /v1/programs HTTP/1.1\r\nHost: ledger\r\n"
        b"Authorization: Bearer " + key.encode() + b"\x00\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["type"] == "/problems/malformed-request"
    assert secret.encode() not in answer
    service.stop()  # every line written
    log = service.log.read_text()
    [refused] = [json.loads(line) for line in log.splitlines() if "request refused" in line]
    assert refused["level"] == "warning"
    assert "Invalid header value char" in refused["event"]
    assert secret not in log  # nor anything of the header it refused
    assert "Authorization" not in log


def test_the_log_names_the_public_verifier_key_it_starts_with(
    service: Service, db_dsn: str
) -> None:
    key = create_key(db_dsn, "--role", "auditor")
    request = urllib.request.Request(
        service.url + "/v1/log/key", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        verifier = answer.read().decode().strip()
    service.stop()
    started = [
        json.loads(line)
        for line in service.log.read_text().splitlines()
        if line.startswith("{") and '"log identity"' in line
    ]
    assert [line["verifier"] for line in started] == [verifier]
