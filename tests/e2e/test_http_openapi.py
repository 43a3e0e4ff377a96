"""The served OpenAPI document: complete, and kept by the service under generated requests."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from ledger.auth.keys import create_key
from ledger.demo import database_keys, run_demo
from ledger.http.app import create_app
from ledger.store.identity import establish
from tests import pg
from tests.e2e.conftest import FAST, Keys

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


async def test_every_served_route_is_documented(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    assert served == documented


async def test_every_event_type_has_a_documented_envelope(client: TestClient[Any, Any]) -> None:
    from events.payloads import PAYLOADS

    schemas = (await (await client.get("/v1/openapi.json")).json())["components"]["schemas"]
    for type_ in PAYLOADS:
        envelope = schemas[f"Posted.{type_}"]
        assert envelope["properties"]["type"] == {"const": type_}


# A path, a value of the documented shape that names nothing, one of another shape, and
# what the answer to that one says.
UNSHAPED = "the id has a shape no event can give"
SHAPED = [
    ("/v1/guarantees/{guarantee_id}", "G-2025.unknown_1", "-starts-with-a-dash", UNSHAPED),
    ("/v1/guarantees/{guarantee_id}", "G-2025.unknown_2", "G-1%0A", UNSHAPED),
    ("/v1/claims/{claim_id}", "C9", "x" * 65, UNSHAPED),
    ("/v1/programs/{program_id}", "P.unknown", "has space", UNSHAPED),
    ("/v1/institutions/{institution_id}/position", "I-unknown", "a%2Fb", UNSHAPED),
    ("/v1/streams/{stream_id}", "guarantee-G-unknown", "loan-G-1", UNSHAPED),
    (
        "/v1/events/{event_id}/proof",
        "00000000-0000-4000-8000-000000000000",
        "not-a-uuid",
        "not a UUID",
    ),
]
_PARAMETER = re.compile(r"\{[a-z_]+\}")


@pytest.mark.parametrize(("path", "shaped", "other", "said"), SHAPED)
async def test_a_path_id_of_the_documented_shape_is_looked_up_and_another_names_nothing(
    client: TestClient[Any, Any], keys: Keys, path: str, shaped: str, other: str, said: str
) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    [param] = [p for p in doc["paths"][path]["get"]["parameters"] if p["in"] == "path"]
    schema = param["schema"]
    if "pattern" in schema:
        assert re.fullmatch(schema["pattern"].strip("^$"), shaped)
        assert not re.fullmatch(schema["pattern"].strip("^$"), urllib.parse.unquote(other))
    else:
        assert schema == {"type": "string", "format": "uuid"}
    headers = await keys.role("admin")
    looked_up = await client.get(_PARAMETER.sub(lambda _: shaped, path), headers=headers)
    refused = await client.get(_PARAMETER.sub(lambda _: other, path), headers=headers)
    assert (looked_up.status, refused.status) == (404, 404)
    assert "shape" not in (await looked_up.json())["detail"]
    assert said in (await refused.json())["detail"]


@pytest.mark.parametrize("route", ["/v1/smes/{}/exposure", "/v1/smes/{}/guarantees"])
async def test_an_sme_path_with_a_wrong_check_character_is_422_naming_the_right_one(
    client: TestClient[Any, Any], keys: Keys, route: str
) -> None:
    headers = await keys.role("admin")
    unknown = await client.get(route.format("91500000MA5U00000W"), headers=headers)
    wrong = await client.get(route.format("91500000MA5U000009"), headers=headers)
    problem = await wrong.json()
    assert (unknown.status, wrong.status) == (404, 422)
    assert problem["errors"][0]["path"] == "path.sme_id"
    assert "invalid check character '9', expected 'W'" in problem["errors"][0]["message"]


async def test_a_checkpoint_size_is_documented_as_the_whole_number_it_must_be(
    client: TestClient[Any, Any], keys: Keys
) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    [param] = doc["paths"]["/v1/log/checkpoints/{size}"]["get"]["parameters"]
    assert (param["schema"]["type"], param["schema"]["minimum"]) == ("integer", 0)
    headers = await keys.role("auditor")
    for size in ("-1", "x", str(param["schema"]["maximum"] + 1)):
        answer = await client.get(f"/v1/log/checkpoints/{size}", headers=headers)
        assert answer.status == 422
        assert (await answer.json())["errors"][0]["path"] == "path.size"
    none = await client.get("/v1/log/checkpoints/0", headers=headers)
    assert (none.status, (await none.json())["type"]) == (404, "/problems/not-found")


REQUIRED_QUERY = [
    ("/v1/log/proof/inclusion", "position", "?size=1"),
    ("/v1/log/proof/consistency", "from", "?to=1"),
    ("/v1/log/proof/consistency", "to", "?from=1"),
]


@pytest.mark.parametrize(("path", "name", "without"), REQUIRED_QUERY)
async def test_a_query_parameter_the_service_cannot_go_without_is_documented_required(
    client: TestClient[Any, Any], keys: Keys, path: str, name: str, without: str
) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    [param] = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    assert param["required"] is True
    answer = await client.get(path + without, headers=await keys.role("auditor"))
    assert answer.status == 422
    assert (await answer.json())["errors"][0]["path"] == f"query.{name}"


async def test_a_position_up_to_the_documented_maximum_is_accepted(
    client: TestClient[Any, Any], keys: Keys
) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    [after] = [p for p in doc["paths"]["/v1/events"]["get"]["parameters"] if p["name"] == "after"]
    highest = after["schema"]["maximum"]
    headers = await keys.role("auditor")
    for value in (highest - 1, highest):  # 19 digits each
        answer = await client.get(f"/v1/events?after={value}", headers=headers)
        assert answer.status == 200, await answer.text()
        assert (await answer.json())["events"] == []
    beyond = await client.get(f"/v1/events?after={highest + 1}", headers=headers)
    assert beyond.status == 422


async def test_a_list_cursor_is_documented_as_the_id_or_empty_the_service_takes(
    client: TestClient[Any, Any], keys: Keys
) -> None:
    doc = await (await client.get("/v1/openapi.json")).json()
    cursors = [
        p["schema"]
        for path in ("/v1/smes", "/v1/smes/{sme_id}/guarantees")
        for p in doc["paths"][path]["get"]["parameters"]
        if p["name"] == "after"
    ]
    assert cursors[0] == cursors[1]  # both lists check their cursor alike (listings.py)
    pattern = re.compile(cursors[0]["pattern"])
    headers = await keys.role("admin")
    for value, status in (("", 200), ("G-NAT-001", 200), ("\\", 422), ("-x", 422), ("G-1\n", 422)):
        # As JSON Schema reads it (ECMA-262), where $ is the end of the text.
        assert bool(pattern.fullmatch(value)) is (status == 200)
        answer = await client.get("/v1/smes", params={"after": value}, headers=headers)
        assert answer.status == status, (value, await answer.text())


class LiveServer:
    """The app served on a real port from its own thread and event loop."""

    def __init__(self, dsn: str, key_file: Path) -> None:
        self.dsn = dsn
        self.key_file = key_file
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),))

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        conn = await asyncpg.connect(self.dsn)
        try:
            signer = await establish(conn, self.key_file, None)
        finally:
            await conn.close()
        # Event streams end after half a second, so generated requests to them finish.
        limits = dataclasses.replace(FAST, stream_lifetime=0.5)
        app = create_app(self.dsn, pool_size=4, limits=limits, projections=True, signer=signer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        assert self._ready.wait(30)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._loop.close()


async def _admin_key(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return (await create_key(conn, role="admin")).key
    finally:
        await conn.close()


@pytest.fixture
def live(pg_admin_dsn: str, pg_template: str, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A served ledger with the demo loaded, and an admin key."""
    name = asyncio.run(pg.create_database(pg_admin_dsn, pg_template))
    dsn = pg.with_database(pg_admin_dsn, name)
    try:
        key = asyncio.run(_admin_key(dsn))
        with LiveServer(dsn, tmp_path / "log-signing.key") as server:
            asyncio.run(run_demo(server.url, key, database_keys(dsn), say=lambda _: None))
            yield server, key
    finally:
        asyncio.run(pg.drop_database(pg_admin_dsn, name))


def test_generated_requests_get_no_5xx_and_answers_match_the_schema(
    live: tuple[LiveServer, str],
) -> None:
    server, key = live
    schema = schemathesis.openapi.from_url(f"{server.url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {key}"}
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            if case.query and "wait" in case.query:
                case.query["wait"] = 0  # long polls would only slow the run down
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        exercise()
    documented = {f"{m.upper()} {p}" for p, ops in schema.raw_schema["paths"].items() for m in ops}
    # Loaded from a URL, schemathesis leaves out the operation serving the document itself
    # (fetched by the other tests here).
    assert set(calls) == documented - {"GET /v1/openapi.json"}
