"""A stored event whose bytes were rewritten into no event: the routes that read it back
answer 409 naming its position and verify, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import Keys
from tests.factory import institution
from tests.integration.audit import tamper

Client = TestClient[Any, Any]


@pytest.mark.parametrize("path", ["/v1/events?after=0", "/v1/streams/institution-B-2"])
async def test_an_event_rewritten_into_no_event_is_named_not_a_500(
    client: Client, keys: Keys, db_dsn: str, path: str
) -> None:
    admin = await keys.role("admin")
    for n in range(3):
        r = await client.post("/v1/events", json=institution(f"B-{n}"), headers=admin)
        assert r.status == 201
    async with tamper.superuser(db_dsn) as su:
        seq = await tamper.seq_at(su, 3)
        await su.execute("UPDATE events SET body = 'xyz'::bytea WHERE seq = $1", seq)
    r = await client.get(path, headers=await keys.role("auditor"))
    assert r.status == 409
    assert r.content_type == "application/problem+json"
    problem = await r.json()
    assert problem["type"] == "/problems/invalid-state"
    assert "position 3" in problem["detail"]
    assert "ledger audit verify" in problem["detail"]
