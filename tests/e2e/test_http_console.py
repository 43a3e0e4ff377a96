"""The console's routes and the lists it finds things by, over HTTP with the demo loaded."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.demo import database_keys, run_demo
from ledger.demo_scenario import LIANGJIANG, NATIONAL, SME_HIGH_TECH, SME_LIANGJIANG
from ledger.http.app import create_app
from ledger.seeds import BANK_ID, POOL_ID, SEED_INSTITUTIONS, SME_ID
from tests.e2e.conftest import FAST, ClientFactory, Keys

Client = TestClient[Any, Any]


@pytest.fixture
async def demo(db_dsn: str, aiohttp_client: ClientFactory, keys: Keys) -> Client:
    """The app with its read models, the demo loaded and reflected."""
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))
    url = str(client.make_url("")).rstrip("/")
    admin = await keys.new(role="admin")
    await run_demo(url, admin, database_keys(db_dsn), say=lambda _: None, session=client.session)
    # Every read model reflects the demo's last event before the lists are read.
    r = await client.get(
        "/v1/guarantees/G-LJ-001?min_position=26", headers={"Authorization": f"Bearer {admin}"}
    )
    assert r.status == 200
    return client


async def test_the_program_list_holds_each_program_as_its_own_route_answers(
    demo: Client, keys: Keys
) -> None:
    headers = await keys.role("reader")
    listed = await (await demo.get("/v1/programs", headers=headers)).json()
    assert [p["program_id"] for p in listed["programs"]] == [LIANGJIANG, NATIONAL]
    for body in listed["programs"]:
        alone = await (await demo.get(f"/v1/programs/{body['program_id']}", headers=headers)).json()
        assert body == alone


async def test_the_institution_list_names_every_institution_with_its_kind(
    demo: Client, keys: Keys
) -> None:
    body = await (await demo.get("/v1/institutions", headers=await keys.of(BANK_ID))).json()
    assert {(i["institution_id"], i["kind"]) for i in body["institutions"]} == {
        (i.institution_id, i.kind) for i in SEED_INSTITUTIONS
    }


async def test_smes_are_listed_a_page_at_a_time_in_id_order(demo: Client, keys: Keys) -> None:
    headers = await keys.role("reader")
    first = await (await demo.get("/v1/smes?limit=2", headers=headers)).json()
    rest = await (
        await demo.get(f"/v1/smes?limit=2&after={first['next_after']}", headers=headers)
    ).json()
    ids = [s["sme_id"] for s in first["smes"] + rest["smes"]]
    assert ids == sorted([SME_ID, SME_HIGH_TECH, SME_LIANGJIANG])
    assert rest["next_after"] is None


@pytest.mark.parametrize(
    ("who", "seen"), [("reader", ["G-NAT-001"]), (BANK_ID, ["G-NAT-001"]), (POOL_ID, [])]
)
async def test_an_smes_guarantees_are_those_the_key_may_read(
    demo: Client, keys: Keys, who: str, seen: list[str]
) -> None:
    headers = await (keys.role(who) if who == "reader" else keys.of(who))
    body = await (await demo.get(f"/v1/smes/{SME_ID}/guarantees", headers=headers)).json()
    assert [g["guarantee_id"] for g in body["guarantees"]] == seen


async def test_an_unknown_smes_guarantees_are_404_and_a_bad_limit_422(
    demo: Client, keys: Keys
) -> None:
    headers = await keys.role("reader")
    assert (await demo.get("/v1/smes/91500000MA5U00000W/guarantees", headers=headers)).status == 404
    assert (await demo.get(f"/v1/smes/{SME_ID}/guarantees?limit=0", headers=headers)).status == 422
    assert (await demo.get("/v1/smes")).status == 401


async def test_a_guarantee_keeps_its_balance_after_each_event_that_moved_it(
    demo: Client, keys: Keys
) -> None:
    headers = await keys.role("reader")
    body = await (await demo.get("/v1/guarantees/G-LJ-001", headers=headers)).json()
    history = [(p["type"], p["balance"]) for p in body["balance_history"]]
    assert history == [
        ("guarantee.issued", 800_000_000),
        ("loan.repaid", 0),
        ("guarantee.released", 0),
    ]
    assert all(len(p["business_date"]) == 10 for p in body["balance_history"])


@pytest.mark.parametrize("path", ["/", "/console", "/console/guarantees/G-NAT-001"])
async def test_every_console_page_is_the_same_document_under_a_strict_policy(
    demo: Client, path: str
) -> None:
    r = await demo.get(path)
    assert r.status == 200
    assert r.content_type == "text/html"
    assert '<script type="module" src="/console/assets/app.js">' in await r.text()
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


async def test_console_assets_are_served_with_their_type_and_revalidated(demo: Client) -> None:
    r = await demo.get("/console/assets/app.js")
    assert r.status == 200
    assert r.content_type == "text/javascript"
    again = await demo.get("/console/assets/app.js", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304


@pytest.mark.parametrize(
    "path", ["/console/assets/nope.js", "/console/assets/..%2Findex.html", "/console/assets/x"]
)
async def test_anything_but_a_console_asset_is_404_under_the_same_policy(
    demo: Client, path: str
) -> None:
    from ledger.http.console import SECURITY_HEADERS

    r = await demo.get(path)
    assert r.status == 404
    assert r.content_type == "application/problem+json"
    assert {name: r.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_no_file_outside_the_console_folder_is_ever_an_asset() -> None:
    from ledger.http.console import _asset

    assert _asset("assets/../../http/console.py") is None
    assert _asset("assets/app.js") is not None
