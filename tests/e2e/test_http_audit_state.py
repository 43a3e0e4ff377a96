"""GET /v1/audit/state: a read model as it stood at a position, for auditors."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.audit import state_process
from ledger.demo_scenario import scenario
from ledger.http.app import create_app
from ledger.seeds import GUARANTOR_ID, SME_ID
from projections import fold
from projections.spill import Spill, SpilledDocs
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.integration.audit import tamper

Client = TestClient[Any, Any]


@pytest.fixture
def client(kept: Client) -> Client:
    """The demo's statement filing needs the read models kept (conftest's `kept`)."""
    return kept


async def _load_demo(client: Client, keys: Keys) -> dict[str, int]:
    """Post the whole demo scenario; return the position of each step."""
    positions: dict[str, int] = {}
    for step in scenario():
        headers = await keys.role("admin") if step.poster == "admin" else await keys.of(step.poster)
        r = await client.post("/v1/events", json=step.envelope(), headers=headers)
        assert r.status == 201, await r.text()
        positions[step.name] = (await r.json())["position"]
    return positions


async def _unavailable(r: Any) -> dict[str, Any]:
    """The body of a 503 service-unavailable answer that says when to retry."""
    body: dict[str, Any] = await r.json()
    assert (r.status, r.headers["Retry-After"], body["type"]) == (
        503,
        "1",
        "/problems/service-unavailable",
    )
    return body


async def _guarantee_at(client: Client, keys: Keys, position: int) -> Any:
    """An auditor's GET /v1/audit/state of G-NAT-001 at `position`."""
    return await client.get(
        "/v1/audit/state",
        params={"position": position, "guarantee_id": "G-NAT-001"},
        headers=await keys.role("auditor"),
    )


async def test_guarantee_state_before_and_after_its_default(client: Client, keys: Keys) -> None:
    positions = await _load_demo(client, keys)
    auditor = await keys.role("auditor")
    at = positions["default G-NAT-001"]
    before = await client.get(
        "/v1/audit/state",
        params={"position": at - 1, "guarantee_id": "G-NAT-001"},
        headers=auditor,
    )
    after = await client.get(
        "/v1/audit/state", params={"position": at, "guarantee_id": "G-NAT-001"}, headers=auditor
    )
    assert (before.status, after.status) == (200, 200)
    assert ((await before.json())["status"], (await after.json())["status"]) == (
        "active",
        "defaulted",
    )


async def test_a_guarantee_not_yet_issued_at_that_position_is_404(
    client: Client, keys: Keys
) -> None:
    positions = await _load_demo(client, keys)
    r = await _guarantee_at(client, keys, positions["issue G-NAT-001"] - 1)
    assert (r.status, (await r.json())["type"]) == (404, "/problems/not-found")


async def test_position_beyond_the_head_is_422_naming_position(client: Client, keys: Keys) -> None:
    await _load_demo(client, keys)
    r = await client.get(
        "/v1/audit/state",
        params={"position": 10_000, "sme_id": "91500000MA5U7K3Q8Y"},
        headers=await keys.role("auditor"),
    )
    body = await r.json()
    assert (r.status, body["errors"][0]["path"]) == (422, "query.position")


async def test_two_ids_at_once_are_422(client: Client, keys: Keys) -> None:
    r = await client.get(
        "/v1/audit/state",
        params={"position": 0, "guarantee_id": "G-1", "claim_id": "C-1"},
        headers=await keys.role("auditor"),
    )
    assert (r.status, r.content_type) == (422, "application/problem+json")
    body = await r.json(content_type=None)
    assert (body["type"], body["status"]) == ("/problems/validation-error", 422)
    # Neither id is at fault alone: the error is the query's as a whole.
    assert [e["path"] for e in body["errors"]] == ["query"]
    assert "exactly one of" in body["errors"][0]["message"]


async def test_an_sme_id_with_a_wrong_check_character_is_422_naming_it(
    client: Client, keys: Keys
) -> None:
    r = await client.get(
        "/v1/audit/state",
        params={"position": 0, "sme_id": "91500000MA5U7K3Q80"},
        headers=await keys.role("auditor"),
    )
    body = await r.json()
    assert (r.status, body["errors"][0]["path"]) == (422, "query.sme_id")
    assert "expected 'Y'" in body["errors"][0]["message"]


@pytest.mark.parametrize("name", ["claim_id", "guarantee_id", "institution_id", "program_id"])
@pytest.mark.parametrize("ident", ["\u202e\x00abc\n", "G" * 65])
async def test_an_id_no_event_can_give_is_422_naming_it_and_not_echoed(
    client: Client, keys: Keys, name: str, ident: str
) -> None:
    r = await client.get(
        "/v1/audit/state",
        params={"position": 0, name: ident},
        headers=await keys.role("auditor"),
    )
    body = await r.json()
    assert (r.status, body["errors"][0]["path"]) == (422, f"query.{name}")
    assert ident not in await r.text()


async def test_a_reader_may_not_read_past_states(client: Client, keys: Keys) -> None:
    r = await client.get(
        "/v1/audit/state",
        params={"position": 0, "guarantee_id": "G-1"},
        headers=await keys.role("reader"),
    )
    assert (r.status, (await r.json())["type"]) == (403, "/problems/forbidden")


async def test_business_date_answers_the_guarantee_as_of_that_day(
    db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    # The business-date form reads the as-of read model: this service keeps it.
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))
    await _load_demo(client, keys)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    r = await client.get(
        "/v1/audit/state",
        params={"business_date": today, "guarantee_id": "G-NAT-001"},
        headers=await keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    assert (await r.json())["guarantee_id"] == "G-NAT-001"


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"business_date": "2025-02-30", "guarantee_id": "G-1"}, "query.business_date"),
        ({"business_date": "2025-06-30", "known_at": "3000-01-01T00:00:00Z"}, "query.known_at"),
        ({"business_date": "2025-06-30", "known_at": "2025-06-30"}, "query.known_at"),
        (
            {"business_date": "2025-06-30", "known_at": "0001-01-01T00:00:00+08:00"},
            "query.known_at",
        ),
        ({"business_date": "2025-06-30", "position": "3", "guarantee_id": "G-1"}, "query"),
    ],
)
async def test_bad_business_time_parameters_are_422_naming_them(
    client: Client, keys: Keys, params: dict[str, str], path: str
) -> None:
    params = {"guarantee_id": "G-1", **params}
    r = await client.get("/v1/audit/state", params=params, headers=await keys.role("auditor"))
    body = await r.json()
    assert (r.status, body["errors"][0]["path"]) == (422, path)


async def test_a_fold_with_no_room_for_its_temporary_file_is_503_to_retry(
    client: Client, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fold behind a past state spills to a temporary file once it outgrows memory;
    when that file cannot be written the answer is 503 with Retry-After, not a 500."""
    positions = await _load_demo(client, keys)
    real_model = Spill.model

    def unwritable(spill: Spill) -> SpilledDocs:
        spilled = real_model(spill)
        spill._db.execute("PRAGMA query_only = 1")  # every write now fails in SQLite
        return spilled

    monkeypatch.setattr(fold, "SETTLE_EVERY", 1)
    monkeypatch.setattr(fold, "HELD_BYTES", -1)  # spill at the first settling
    monkeypatch.setattr(Spill, "model", unwritable)
    r = await _guarantee_at(client, keys, positions["default G-NAT-001"])
    body = await _unavailable(r)
    assert "temporary file" in body["detail"]


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("guarantee_id", "G-NAT-001"),
        ("claim_id", "C-NAT-001"),
        ("sme_id", SME_ID),
        ("institution_id", GUARANTOR_ID),
        ("program_id", "national-sme-tech-2024"),
    ],
)
async def test_a_state_folded_in_a_process_of_its_own_is_the_body_folded_here(
    client: Client, keys: Keys, monkeypatch: pytest.MonkeyPatch, name: str, ident: str
) -> None:
    positions = await _load_demo(client, keys)
    auditor = await keys.role("auditor")
    params = {"position": positions["approve C-NAT-001"], name: ident}
    here = await client.get("/v1/audit/state", params=params, headers=auditor)
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    elsewhere = await client.get("/v1/audit/state", params=params, headers=auditor)
    assert (here.status, elsewhere.status) == (200, 200)
    assert await elsewhere.read() == await here.read()


async def test_a_state_not_there_yet_is_404_when_folded_in_a_process_of_its_own(
    client: Client, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    positions = await _load_demo(client, keys)
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    r = await _guarantee_at(client, keys, positions["issue G-NAT-001"] - 1)
    assert (r.status, (await r.json())["type"]) == (404, "/problems/not-found")


async def test_a_broken_chain_is_409_when_the_state_is_folded_in_a_process_of_its_own(
    client: Client, keys: Keys, db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    positions = await _load_demo(client, keys)
    at = positions["issue G-NAT-001"]
    async with tamper.superuser(db_dsn) as su:
        await tamper.change_body(su, at, b"G-NAT-001", b"G-NAT-00X")
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    r = await _guarantee_at(client, keys, at)
    body = await r.json()
    assert (r.status, body["type"]) == (409, "/problems/invalid-state")
    assert f"position {at}" in body["detail"]


async def test_a_process_that_cannot_fold_the_state_is_503_saying_what_it_died_of(
    client: Client, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    positions = await _load_demo(client, keys)
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    monkeypatch.setattr(state_process, "MODULE", "ledger.audit.no_such_module")
    r = await _guarantee_at(client, keys, positions["issue G-NAT-001"])
    body = await _unavailable(r)
    assert "No module named ledger.audit.no_such_module" in body["detail"]


async def test_past_states_are_folded_one_process_at_a_time(
    client: Client, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each fold takes a core from posting: three auditors asking at once wait in turn."""
    positions = await _load_demo(client, keys)
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    real = state_process.state_elsewhere
    running, most = 0, 0

    async def counted(*args: Any) -> Any:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await real(*args)
        finally:
            running -= 1

    monkeypatch.setattr(state_process, "state_elsewhere", counted)
    auditor = await keys.role("auditor")
    params = {"position": positions["issue G-NAT-001"], "guarantee_id": "G-NAT-001"}
    answers = await asyncio.gather(
        *(client.get("/v1/audit/state", params=params, headers=auditor) for _ in range(3))
    )
    assert [r.status for r in answers] == [200, 200, 200]
    assert most == 1
