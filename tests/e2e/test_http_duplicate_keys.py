"""POST /v1/events refuses a key repeated in one object: 422 naming the key, nothing stored."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.e2e.conftest import Keys
from tests.factory import institution

Client = TestClient[Any, Any]


async def test_a_repeated_key_in_the_data_is_refused_with_its_path(
    client: Client, keys: Keys
) -> None:
    event = institution("B-1")
    raw = json.dumps(event, separators=(",", ":"))
    twice = raw.replace('"kind":"bank"', '"kind":"guarantor","kind":"bank"')
    headers = {**await keys.role("admin"), "Content-Type": "application/json"}
    r = await client.post("/v1/events", data=twice.encode(), headers=headers)
    assert r.status == 422
    assert r.content_type == "application/problem+json"
    problem = await r.json(content_type=None)
    assert problem["type"] == "/problems/validation-error"
    assert [e["path"] for e in problem["errors"]] == ["$.data.kind"]
    assert "'kind' appears more than once" in problem["detail"]
    stored = await client.get("/v1/events", headers=await keys.role("auditor"))
    assert (await stored.json())["events"] == []
