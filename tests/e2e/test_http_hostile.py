"""Hostile or odd input is answered with a 4xx problem, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import Keys
from tests.factory import institution

Client = TestClient[Any, Any]

_EVENT = '"event_id": "3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f61", "type": "institution.registered"'
_DATA = '"institution_id": "B-1", "name": "Bank", "kind": "bank"'

BODIES: dict[str, tuple[bytes, int]] = {
    "truncated": (b'{"event_id": "x"', 400),
    "empty body": (b"", 400),
    "not utf-8": (b'{"a": "\xff\xfe"}', 400),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, 400),
    "lone surrogate": (
        ("{" + _EVENT + ', "data": {' + _DATA.replace("Bank", "\\ud800") + "}}").encode(),
        400,
    ),
    "NUL in a name": (
        ("{" + _EVENT + ', "data": {' + _DATA.replace("Bank", "Ba\\u0000nk") + "}}").encode(),
        422,
    ),
    "number as string": (
        (
            "{"
            + _EVENT.replace("institution.registered", "loan.repaid")
            + ', "data": {"guarantee_id": "G", "amount": "100"}}'
        ).encode(),
        422,
    ),
    "float for money": (
        (
            "{"
            + _EVENT.replace("institution.registered", "loan.repaid")
            + ', "data": {"guarantee_id": "G", "amount": 100.5}}'
        ).encode(),
        422,
    ),
    "huge number": (
        (
            "{"
            + _EVENT.replace("institution.registered", "loan.repaid")
            + ', "data": {"guarantee_id": "G", "amount": 1'
            + "0" * 400
            + "}}"
        ).encode(),
        422,
    ),
    "null data": (("{" + _EVENT + ', "data": null}').encode(), 422),
    "null field": (
        ("{" + _EVENT + ', "data": {' + _DATA.replace('"Bank"', "null") + "}}").encode(),
        422,
    ),
    # Refused rather than resolved: JSON readers disagree on which of the two counts.
    "duplicated keys": (
        ("{" + _EVENT + ', "data": {' + _DATA + ', "kind": "guarantor"}}').encode(),
        422,
    ),
    "unknown field": (("{" + _EVENT + ', "data": {' + _DATA + ', "x": 1}}').encode(), 422),
    "unknown type": (
        ("{" + _EVENT.replace("institution.registered", "x.y") + ', "data": {}}').encode(),
        422,
    ),
    "bare string": (b'"hello"', 422),
    "bare number": (b"42", 422),
    "empty array": (b"[]", 422),
    "array of nulls": (b"[null, null]", 422),
    "bad uuid": (
        ("{" + _EVENT.replace("3f2b8c1e", "zzzz") + ', "data": {' + _DATA + "}}").encode(),
        422,
    ),
    "negative version": (
        ("{" + _EVENT + ', "expected_version": -1, "data": {' + _DATA + "}}").encode(),
        422,
    ),
}


@pytest.mark.parametrize("name", list(BODIES))
async def test_odd_body_is_a_problem_not_a_server_error(
    client: Client, keys: Keys, name: str
) -> None:
    body, expected = BODIES[name]
    r = await client.post(
        "/v1/events",
        data=body,
        headers={**await keys.role("admin"), "Content-Type": "application/json"},
    )
    assert r.status == expected, await r.text()
    if expected < 300:
        return
    assert r.content_type == "application/problem+json"
    problem = await r.json(content_type=None)
    assert problem["status"] == expected
    if expected == 422:
        assert problem["errors"]


async def test_unknown_route_is_a_404_problem(client: Client) -> None:
    r = await client.get("/v1/nothing/here")
    assert (r.status, r.content_type) == (404, "application/problem+json")
    assert (await r.json(content_type=None))["type"] == "/problems/not-found"


async def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(client: Client) -> None:
    r = await client.delete("/v1/events")
    assert (r.status, r.content_type) == (405, "application/problem+json")
    assert "POST" in r.headers["Allow"]


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=abc",
        "limit=0",
        "limit=1001",
        "wait=31",
        "wait=nan",
        "wait=-1",
        "wait=inf",
        "wait=1e999",
        "wait=4e1",
        "wait=" + "0" * 40,
        "wait=1%0A",
        "after=5%0A",
        "after=1&after=2",
        "after=" + "9" * 40,
    ],
)
async def test_bad_log_query_is_422_naming_the_parameter(
    client: Client, keys: Keys, query: str
) -> None:
    r = await client.get(f"/v1/events?{query}", headers=await keys.role("auditor"))
    assert r.status == 422
    problem = await r.json(content_type=None)
    assert problem["errors"][0]["path"].startswith("query.")


@pytest.mark.parametrize("wait", ["0", "0.25", "1e-05", "2.5E-1", "2.778480951723176e-308"])
async def test_a_wait_written_as_json_or_python_writes_a_number_is_taken(
    client: Client, keys: Keys, wait: str
) -> None:
    r = await client.get(f"/v1/events?after=99&wait={wait}", headers=await keys.role("auditor"))
    assert r.status == 200, await r.text()
    assert (await r.json())["events"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/streams/%00%ED%A0%80x",
        "/v1/streams/guarantee-%00",
        "/v1/guarantees/%ED%A0%80",
        "/v1/claims/" + "x" * 5000,
        "/v1/institutions/a%00b/position",
        "/v1/programs/%F0%9F%92%A5",
    ],
)
async def test_odd_ids_in_a_path_are_404_not_a_crash(client: Client, keys: Keys, path: str) -> None:
    r = await client.get(path, headers=await keys.role("auditor"))
    assert (r.status, r.content_type) == (404, "application/problem+json")


async def test_an_unknown_expectation_is_ignored_and_the_request_answered(
    client: Client, keys: Keys
) -> None:
    headers = {**await keys.role("admin"), "Expect": "garbage"}
    read = await client.get("/v1/programs", headers=headers)
    posted = await client.post("/v1/events", json={"nope": 1}, headers=headers)
    assert read.status == 200
    assert posted.status == 422
    assert posted.content_type == "application/problem+json"


async def test_a_client_expecting_100_continue_gets_it_and_its_post_stored(
    client: Client, keys: Keys
) -> None:
    headers = {**await keys.role("admin"), "Expect": "100-continue"}
    r = await client.post("/v1/events", json=institution("B-EXPECT"), headers=headers)
    assert r.status == 201, await r.text()
