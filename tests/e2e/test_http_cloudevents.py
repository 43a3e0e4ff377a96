"""CloudEvents 1.0 (structured JSON) from GET /v1/events and from the event stream."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema_rs
import pytest
from aiohttp.test_utils import TestClient

from ledger.store.origin import PREFIX, log_origin
from tests.e2e.conftest import Keys
from tests.e2e.sse import opened, post_banks

Client = TestClient[Any, Any]

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "cloudevents" / "cloudevents.schema.json").read_text()
)
VALIDATOR = jsonschema_rs.Draft7Validator(SCHEMA, validate_formats=True)
BATCH = "application/cloudevents-batch+json"
CONTEXT = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
EXTENSIONS = {"position", "streamversion", "recordedtime", "ledgerhash"}


def assert_cloudevent(event: dict[str, Any]) -> None:
    """Valid by the CloudEvents JSON schema and by the rules of the spec it leaves out."""
    VALIDATOR.validate(event)
    assert event["specversion"] == "1.0"
    assert set(event) == CONTEXT | EXTENSIONS
    for name in EXTENSIONS:
        # Extension names: lower-case letters and digits, at most 20 characters;
        # values of the CloudEvents types (Integer is 32-bit signed).
        assert re.fullmatch(r"[a-z0-9]{1,20}", name)
        value = event[name]
        assert isinstance(value, str) or (isinstance(value, int) and -(2**31) <= value < 2**31)


async def test_the_page_feed_answers_a_cloudevents_batch_when_asked(
    client: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 3)
    plain = (await (await client.get("/v1/events", headers=admin)).json())["events"]
    r = await client.get("/v1/events", headers={**admin, "Accept": BATCH})
    assert r.status == 200
    assert r.headers["Content-Type"] == BATCH
    batch = await r.json(content_type=None)
    assert len(batch) == 3
    for event, entry in zip(batch, plain, strict=True):
        assert_cloudevent(event)
        assert event["id"] == entry["event_id"]
        assert event["type"] == entry["type"]
        assert event["subject"] == entry["stream_id"]
        assert event["time"] == entry["occurred_at"]
        assert event["datacontenttype"] == "application/json"
        assert event["data"] == entry["data"]
        assert event["position"] == entry["position"]
        assert event["streamversion"] == entry["stream_version"]
        assert event["recordedtime"] == entry["recorded_at"]
        assert event["ledgerhash"] == entry["hash"]


async def test_every_cloudevent_names_the_log_origin_as_its_source(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 2)
    batch = await (await client.get("/v1/events", headers={**admin, "Accept": BATCH})).json(
        content_type=None
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        origin = await log_origin(conn, {})
    finally:
        await conn.close()
    assert origin.startswith(PREFIX)
    assert re.fullmatch(r"[0-9a-f]{16}", origin.removeprefix(PREFIX))
    assert {e["source"] for e in batch} == {origin}


async def test_a_configured_origin_is_used_as_given(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        environ = {"LEDGER_LOG_ORIGIN": "ledger.example.cn/guarantees"}
        assert await log_origin(conn, environ) == "ledger.example.cn/guarantees"
    finally:
        await conn.close()


async def test_without_a_configured_origin_the_store_names_itself(db_dsn: str) -> None:
    """The prefix and the first 16 hex digits of SHA-256 of "<database name>\\n<its oid>",
    the same from any connection to the store."""
    first, second = await asyncpg.connect(db_dsn), await asyncpg.connect(db_dsn)
    try:
        row = await first.fetchrow(
            "SELECT datname, oid FROM pg_database WHERE datname = current_database()"
        )
        assert row is not None
        store = f"{row['datname']}\n{row['oid']}"
        expected = PREFIX + hashlib.sha256(store.encode()).hexdigest()[:16]
        assert await log_origin(first, {}) == expected
        assert await log_origin(second, {}) == expected
    finally:
        await first.close()
        await second.close()


async def test_an_empty_page_is_an_empty_batch(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/events", headers={**await keys.role("auditor"), "Accept": BATCH})
    assert await r.json(content_type=None) == []


async def test_the_stream_gives_cloudevents_with_format_cloudevents(
    client: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    await post_banks(client, admin, 1, 3)
    async with opened(client, admin, "?format=cloudevents") as stream:
        events = await stream.read_until(3)
    for n, sse in enumerate(events, start=1):
        event = json.loads(sse.data)
        assert_cloudevent(event)
        assert sse.id == str(n) == str(event["position"])
        assert sse.event == event["type"]


async def test_an_unknown_stream_format_gets_422(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/events/stream?format=xml", headers=await keys.role("admin"))
    assert r.status == 422
    assert (await r.json(content_type=None))["errors"][0]["path"] == "query.format"


@pytest.mark.parametrize(
    "accept",
    ["application/json", "*/*", "", f"{BATCH};q=0", f"application/json, {BATCH};q=0.1"],
)
async def test_other_accept_headers_get_the_page(client: Client, keys: Keys, accept: str) -> None:
    r = await client.get("/v1/events", headers={**await keys.role("admin"), "Accept": accept})
    assert r.content_type == "application/json"
    assert "events" in await r.json()
