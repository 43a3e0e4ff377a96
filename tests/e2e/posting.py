"""Posting to POST /v1/events in the end-to-end tests, and checking the problems answered."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


def problem(body: dict[str, Any], slug: str, status: int) -> None:
    """Assert `body` is the problem `slug` with `status`, titled and detailed."""
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]


async def refused(client: Client, body: Any, headers: dict[str, str]) -> Any:
    """Post, expecting a problem whose status matches the HTTP status."""
    r = await client.post("/v1/events", json=body, headers=headers)
    assert r.content_type == "application/problem+json"
    problem = await r.json(content_type=None)
    assert problem["status"] == r.status
    return problem


async def post(client: Client, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    """Post; return the status and the decoded answer."""
    r = await client.post("/v1/events", json=body, headers=headers)
    return r.status, await r.json(content_type=None)
