"""POST /v1/events for risk limits: bad limits are 422 naming the field, refusals are 409."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import Keys
from tests.e2e.test_http_posting import _issue, _load_until, _problem, _refused
from tests.factory import envelope

Client = TestClient[Any, Any]
GUAR = "CQ-SCI-GUAR"


def _net_assets(net_assets: Any) -> dict[str, Any]:
    return envelope(
        "institution.net_assets_recorded",
        {"institution_id": GUAR, "net_assets": net_assets, "as_of": "2024-12-31"},
    )


def _limits(leverage: Any = 1000, single: Any = 1000) -> dict[str, Any]:
    return envelope(
        "institution.limits_set",
        {"institution_id": GUAR, "max_leverage_x100": leverage, "max_single_sme_bp": single},
    )


async def _count(client: Client, admin: dict[str, str]) -> int:
    r = await client.get("/v1/events?after=0&limit=1000", headers=admin)
    return len((await r.json())["events"])


@pytest.mark.parametrize(
    ("event", "path"),
    [
        (_net_assets(0), "$.data.net_assets"),
        (_net_assets(-5), "$.data.net_assets"),
        (_limits(leverage=-1000), "$.data.max_leverage_x100"),
        (_limits(leverage=10**9), "$.data.max_leverage_x100"),
        (_limits(single=0), "$.data.max_single_sme_bp"),
        (_limits(single=20000), "$.data.max_single_sme_bp"),
    ],
)
async def test_absurd_limits_are_422_naming_the_field(
    client: Client, keys: Keys, event: dict[str, Any], path: str
) -> None:
    admin = await keys.role("admin")
    body = await _refused(client, event, admin)
    _problem(body, "validation-error", 422)
    assert [e["path"] for e in body["errors"]] == [path]
    assert await _count(client, admin) == 0


async def test_leverage_exceeded_says_in_force_limit_and_requested(
    client: Client, keys: Keys
) -> None:
    headers = await _load_until(client, keys, "issue G-NAT-001")
    admin = headers["admin"] if "admin" in headers else await keys.role("admin")
    r = await client.post(
        "/v1/events", json=[_net_assets(100_000_000), _limits(1200, 10000)], headers=admin
    )
    assert r.status == 201, await r.text()
    before = await _count(client, admin)
    body = await _refused(client, _issue("G-BIG", 200_000_001), headers[GUAR])
    _problem(body, "leverage-exceeded", 409)
    assert (body["in_force"], body["limit"], body["requested"]) == (
        1_000_000_000,
        1_200_000_000,
        200_000_001,
    )
    assert await _count(client, admin) == before


async def test_reinstating_where_nothing_is_suspended_is_409(client: Client, keys: Keys) -> None:
    headers = await _load_until(client, keys, "issue G-NAT-001")
    admin = await keys.role("admin")
    before = await _count(client, admin)
    reinstated = envelope(
        "limit.reinstated",
        {
            "program_id": "national-sme-tech-2024",
            "institution_id": GUAR,
            "year": 2025,
            "reason": "Reviewed by the board.",
        },
    )
    body = await _refused(client, reinstated, admin)
    _problem(body, "invalid-state", 409)
    body = await _refused(client, reinstated, headers[GUAR])
    _problem(body, "forbidden", 403)
    assert await _count(client, admin) == before
