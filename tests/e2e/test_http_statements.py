"""GET /v1/statements/{institution_id}: figures, CSV, access and bad input (docs/statements.md)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.http.app import create_app
from ledger.runtime import Runtime
from ledger.seeds import SEED_INSTITUTIONS, load_seed_programs
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.integration.business.scenario import post_dated, seed_dated, year
from tests.unit.rules.world import BANK, FUND, GUAR

Client = TestClient[Any, Any]
NATIONAL = "national-sme-tech-2024"
HEAD = len(SEED_INSTITUTIONS) + len(load_seed_programs()) + 4 + len(year())
"""The head of the log once the year is posted (seed_dated registers 4 SME facts)."""


@pytest.fixture
async def books(runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """The year of business posted, and a client of the service with its read models."""
    await seed_dated(runtime)
    assert (await post_dated(runtime, year()))[-1] == HEAD
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))


async def _get(client: Client, who: dict[str, str], institution: str, **params: str) -> Any:
    params.setdefault("min_position", str(HEAD))
    r = await client.get(f"/v1/statements/{institution}", params=params, headers=who)
    assert r.status == 200, await r.text()
    return await r.json()


def _program(body: dict[str, Any], program_id: str = NATIONAL) -> dict[str, Any]:
    found = [p for p in body["programs"] if p["program_id"] == program_id]
    assert len(found) == 1, body
    return found[0]


def _identity(p: dict[str, Any]) -> int:
    return (
        p["opening_in_force"]
        + p["issued"]["amount"]
        + p["renewed_net"]
        - p["repaid"]
        - p["released"]["amount"]
        - p["compensated"]["amount"]
        - p["closed"]["amount"]
    )


async def test_each_quarter_of_the_guarantor_shows_its_movements(books: Client, keys: Keys) -> None:
    who = await keys.of(GUAR)
    q = {n: _program(await _get(books, who, GUAR, period=f"2025-Q{n}")) for n in range(1, 5)}
    assert (q[1]["opening_in_force"], q[1]["issued"], q[1]["closing_in_force"]) == (
        0,
        {"count": 1, "amount": 1_000_000_000},
        1_000_000_000,
    )
    assert (q[2]["issued"]["amount"], q[2]["repaid"], q[2]["closing_in_force"]) == (
        500_000_000,
        100_000_000,
        1_400_000_000,
    )
    assert q[3]["defaulted"] == {"count": 1, "overdue_principal": 600_000_000}
    assert q[4]["compensated"] == {"count": 1, "amount": 600_000_000, "borne": 285_000_000}
    assert q[4]["released"] == {"count": 1, "amount": 400_000_000}
    assert q[4]["discharged"] == 1_000_000_000
    assert q[4]["compensation_rate_bp"] == 6000
    assert q[1]["compensation_rate_bp"] is None
    for n in range(1, 5):
        assert _identity(q[n]) == q[n]["closing_in_force"]


async def test_the_recovery_in_2026_returns_the_guarantor_its_part(
    books: Client, keys: Keys
) -> None:
    body = await _get(books, await keys.role("auditor"), GUAR, period="2026-Q1")
    program = _program(body)
    assert program["recovered"] == {"amount": 100_000_000, "returned": 47_500_000}
    assert program["net_loss"] == -47_500_000


async def test_the_national_fund_sees_the_guarantees_in_which_it_bears_a_share(
    books: Client, keys: Keys
) -> None:
    body = await _get(books, await keys.role("reader"), FUND, period="2025")
    assert body["kind"] == "national_fund"
    assert _program(body)["compensated"]["borne"] == 75_000_000


async def test_a_statement_has_the_shape_of_spec_9(books: Client, keys: Keys) -> None:
    body = await _get(books, await keys.role("admin"), GUAR, period="2025-Q2")
    assert list(body) == [
        "institution_id",
        "kind",
        "from",
        "to",
        "known_at",
        "position",
        "programs",
    ]
    assert (body["from"], body["to"], body["kind"]) == ("2025-04-01", "2025-06-30", "guarantor")
    assert body["known_at"].endswith("+08:00")
    assert body["position"] > 0


async def test_csv_parses_into_the_same_numbers_as_the_json(books: Client, keys: Keys) -> None:
    who = await keys.of(GUAR)
    body = await _get(books, who, GUAR, period="2025")
    r = await books.get(
        f"/v1/statements/{GUAR}",
        params={"period": "2025", "known_at": body["known_at"]},
        headers={**who, "Accept": "text/csv"},
    )
    assert (r.status, r.content_type) == (200, "text/csv")
    rows = list(csv.DictReader(io.StringIO(await r.text())))
    program = _program(body)
    assert len(rows) == len(body["programs"])
    row = next(r for r in rows if r["program_id"] == NATIONAL)
    for path, value in (
        ("opening_in_force", program["opening_in_force"]),
        ("issued.count", program["issued"]["count"]),
        ("issued.amount", program["issued"]["amount"]),
        ("compensated.borne", program["compensated"]["borne"]),
        ("recovered.returned", program["recovered"]["returned"]),
        ("closing_in_force", program["closing_in_force"]),
        ("compensation_rate_bp", program["compensation_rate_bp"]),
    ):
        assert int(row[path]) == value, path


async def test_another_institutions_key_is_forbidden(books: Client, keys: Keys) -> None:
    r = await books.get(f"/v1/statements/{GUAR}?period=2025", headers=await keys.of(BANK))
    assert (r.status, (await r.json())["type"]) == (403, "/problems/forbidden")


async def test_an_unknown_institution_is_404(books: Client, keys: Keys) -> None:
    r = await books.get("/v1/statements/NOBODY?period=2025", headers=await keys.role("auditor"))
    assert (r.status, (await r.json())["type"]) == (404, "/problems/not-found")


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("period=2025-Q5", "query.period"),
        ("period=2025-13", "query.period"),
        ("from=2025-07-01&to=2025-06-30", "query.from"),
        ("from=2025-02-30&to=2025-06-30", "query.from"),
        ("from=2025-01-01", "query.to"),
        ("", "query.period"),
        ("period=2025&from=2025-01-01", "query.period"),
        ("period=2025&known_at=2999-01-01T00:00:00%2B08:00", "query.known_at"),
        ("period=2025&known_at=yesterday", "query.known_at"),
        ("period=2025&known_at=0001-01-01T00:00:00%2B08:00", "query.known_at"),
        ("period=2025&known_at=0001-01-01T00:00:00%2B08:00&filed=latest", "query.known_at"),
    ],
)
async def test_bad_input_is_422_naming_what_to_fix(
    client: Client, keys: Keys, query: str, path: str
) -> None:
    r = await client.get(f"/v1/statements/{GUAR}?{query}", headers=await keys.role("auditor"))
    body = await r.json()
    assert (r.status, body["type"], body["errors"][0]["path"]) == (
        422,
        "/problems/validation-error",
        path,
    )
