"""The client before answers and bodies out of the ordinary: a checkpoint that is not
text is a failed proof, a log gone back behind a trusted checkpoint is one too, and a
body past a megabyte is sent without blocking the loop."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from ledger import client as lc
from ledger.client import trusted_checkpoint
from ledger.tlog.keys import generate_signer
from tests.e2e.fake_server import serving
from tests.unit.test_client_proofs import _keys, _note

LARGE = b"[" + b" " * (2 * 1024 * 1024) + b"]"


class Upstream:
    """Serves a checkpoint of bytes that are not UTF-8, and refuses posts past 1 MiB."""

    def __init__(self) -> None:
        self.received = 0
        self.note = b"\xff\xfe not a note\n"

    async def checkpoint(self, request: web.Request) -> web.Response:
        return web.Response(body=self.note, content_type="text/plain")

    async def proof(self, request: web.Request) -> web.Response:
        problem = {
            "type": "/problems/not-checkpointed",
            "title": "Not checkpointed",
            "status": 409,
            "detail": "no signed checkpoint covers that event yet",
        }
        return web.json_response(
            problem,
            status=409,
            content_type="application/problem+json",
            headers={"Retry-After": "1"},
        )

    async def events(self, request: web.Request) -> web.Response:
        self.received = len(await request.read())
        problem = {"type": "/problems/payload-too-large", "title": "Too large", "status": 413}
        return web.json_response(problem, status=413, content_type="application/problem+json")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    fake = Upstream()
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_get("/v1/log/checkpoint", fake.checkpoint)
    app.router.add_post("/v1/events", fake.events)
    app.router.add_get("/v1/events/{event_id}/proof", fake.proof)
    async with serving(app) as url:
        yield fake, url


async def test_a_checkpoint_that_is_not_utf8_text_is_a_failed_proof(
    upstream: tuple[Upstream, str],
) -> None:
    _, url = upstream
    keys = lc.LogKeys(generate_signer("example.com/log").verifier().encode())
    async with lc.LedgerClient(url, "key") as client:
        with pytest.raises(lc.ProofFailed, match="not UTF-8"):
            await client.checkpoint(keys)


async def test_a_body_past_a_megabyte_is_sent_whole_and_refused_as_too_large(
    upstream: tuple[Upstream, str],
) -> None:
    """Sent as raw bytes, aiohttp would warn (an error in this suite) before sending."""
    fake, url = upstream
    async with lc.LedgerClient(url, "key") as client:
        with pytest.raises(lc.PayloadTooLarge):
            await client.request("POST", "/v1/events", body=LARGE)
    assert fake.received == len(LARGE)


@pytest.mark.parametrize("min_witnesses", [0, 1])
async def test_a_proof_not_yet_checkpointed_by_a_log_gone_back_behind_since_is_failed(
    upstream: tuple[Upstream, str], min_witnesses: int
) -> None:
    """The client trusted a checkpoint of size 13; the log now signs only 5 and says the
    event is not checkpointed yet: no reason to wait, the log went back."""
    fake, url = upstream
    fake.note = _note(5).encode()
    keys = _keys(min_witnesses)
    since = trusted_checkpoint(_note(13, cosigned=True), keys)
    async with lc.LedgerClient(url, "key") as client:
        with pytest.raises(lc.ProofFailed, match="went back from size 13"):
            await client.prove(str(uuid.UUID(int=7)), keys, since=since)
        with pytest.raises(lc.ProofFailed, match="went back from size 13"):
            await client.checkpoint(keys, since=since)
