"""The demo scenario loads through the HTTP API and the read models show its outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from events.business import SHANGHAI
from ledger.demo import database_keys, run_demo
from ledger.demo_scenario import scenario
from ledger.http.app import create_app
from ledger.seeds import GUARANTOR_ID
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.e2e.test_http_audit_state_as_of import PATIENT

DEMO_CLAIM_BORNE = {
    "bank": 120_000_000,
    "guarantor": 285_000_000,
    "reguarantor": 120_000_000,
    "national_fund": 75_000_000,
    "compensation_pool": 0,
}
"""What each party bears of the demo's claim C-NAT-001 (600 000 000 fen approved): the
fund's 40% capped at 5% of the program's 1 500 000 000 volume, the guarantor the rest."""


@pytest.fixture
async def served(db_dsn: str, aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    """The app with its projection runner, as `ledger serve` runs it."""
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))


async def _load(client: TestClient[Any, Any], keys: Keys, db_dsn: str) -> int:
    url = str(client.make_url("")).rstrip("/")
    admin = await keys.new(role="admin")
    return await run_demo(
        url, admin, database_keys(db_dsn), say=lambda _: None, session=client.session
    )


async def test_demo_stores_every_step_and_a_second_run_stores_nothing(
    served: TestClient[Any, Any], keys: Keys, db_dsn: str
) -> None:
    assert await _load(served, keys, db_dsn) == len(scenario())
    assert await _load(served, keys, db_dsn) == 0


async def test_demo_claim_caps_the_fund_at_five_percent_of_the_program_volume(
    served: TestClient[Any, Any], keys: Keys, db_dsn: str
) -> None:
    """Volume 1 500 000 000 fen: the fund bears 75 000 000, the guarantor the rest of its 40%."""
    await _load(served, keys, db_dsn)
    head = len(scenario())
    r = await served.get(
        f"/v1/claims/C-NAT-001?min_position={head}", headers=await keys.role("auditor")
    )
    assert r.status == 200, await r.text()
    shares = (await r.json())["shares"]
    borne = {role: s["borne"] for role, s in shares.items()}
    recovered = {role: s["recovered"] for role, s in shares.items()}
    assert borne == DEMO_CLAIM_BORNE
    assert recovered == {
        "bank": 20_000_000,
        "guarantor": 47_500_000,
        "reguarantor": 20_000_000,
        "national_fund": 12_500_000,
        "compensation_pool": 0,
    }


async def test_demo_positions_show_the_pool_programs_rate_limit_and_only_there(
    served: TestClient[Any, Any], keys: Keys, db_dsn: str
) -> None:
    """The Liangjiang seed limits its banks: the bank's position shows this year's breaker."""
    await _load(served, keys, db_dsn)
    head = len(scenario())
    r = await served.get(
        f"/v1/institutions/CQ-TECH-BANK/position?min_position={head}",
        headers=await keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    rows = {row["program_id"]: row for row in (await r.json())["programs"]}
    limit = rows["liangjiang-sci-tech-growth"]["limit"]
    assert (limit["warning_bp"], limit["suspend_bp"]) == (300, 500)
    assert limit["status"] in {"ok", "warning", "suspended", "reinstated"}
    assert set(limit) == {"year", "rate_bp", "discharged", "warning_bp", "suspend_bp", "status"}
    assert "limit" not in rows["national-sme-tech-2024"]


async def test_demo_shows_the_late_june_repayment_against_the_filed_second_quarter(
    served: TestClient[Any, Any], keys: Keys, db_dsn: str
) -> None:
    """Filed in July, the 2025-Q2 statement misses a June repayment reported afterwards."""
    await _load(served, keys, db_dsn)
    head = len(scenario())
    r = await served.get(
        f"/v1/statements/{GUARANTOR_ID}",
        params={"period": "2025-Q2", "compare": "filed", "min_position": str(head)},
        headers=await keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body["late_events"] == [head]
    changed = {(c["program_id"], c["field"], c["filed"], c["now"]) for c in body["changes"]}
    assert changed == {
        ("national-sme-tech-2024", "repaid", 100_000_000, 150_000_000),
        ("national-sme-tech-2024", "closing_in_force", 1_400_000_000, 1_350_000_000),
        ("national-sme-tech-2024", "discharged", 100_000_000, 150_000_000),
    }


async def test_demo_spreads_its_business_over_the_quarters_of_2025(
    served: TestClient[Any, Any], keys: Keys, db_dsn: str
) -> None:
    await _load(served, keys, db_dsn)
    head = len(scenario())
    auditor = await keys.role("auditor")
    issued = []
    for period in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"):
        r = await served.get(
            f"/v1/statements/{GUARANTOR_ID}",
            params={"period": period, "min_position": str(head)},
            headers=auditor,
        )
        programs = {p["program_id"]: p for p in (await r.json())["programs"]}
        issued.append(programs["national-sme-tech-2024"])
    assert [q["issued"]["count"] for q in issued] == [1, 1, 0, 0, 0]
    assert issued[2]["defaulted"]["count"] == 1
    assert issued[3]["compensated"]["amount"] == 600_000_000
    assert issued[4]["recovered"]["amount"] == 100_000_000


async def test_an_institution_as_of_a_past_business_date_shows_that_years_breaker(
    db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    """The demo's Liangjiang loan was repaid in 2025, which its bank's breaker counts for
    2025: the books as of the end of 2025 show that year's breaker, the live position the
    current year's."""
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=PATIENT, projections=True))
    head = await _load(client, keys, db_dsn)
    auditor = await keys.role("auditor")
    r = await client.get(
        "/v1/audit/state",
        params={"business_date": "2025-12-31", "institution_id": "CQ-TECH-BANK"},
        headers=auditor,
    )
    assert r.status == 200, await r.text()
    then = _limit(await r.json())
    r = await client.get(
        f"/v1/institutions/CQ-TECH-BANK/position?min_position={head}", headers=auditor
    )
    now = _limit(await r.json())
    assert (then["year"], then["discharged"], then["rate_bp"]) == (2025, 800_000_000, 0)
    assert (now["year"], now["discharged"], now["rate_bp"]) == (
        dt.datetime.now(SHANGHAI).year,
        0,
        None,
    )


def _limit(body: dict[str, Any]) -> dict[str, Any]:
    [row] = [p for p in body["programs"] if p["program_id"] == "liangjiang-sci-tech-growth"]
    limit: dict[str, Any] = row["limit"]
    return limit
