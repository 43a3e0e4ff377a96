"""SQL-injection strings in every place a poster or reader can put text are harmless."""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp

from bench.service import create_key
from tests.reliability.harness import Service, new_id, stored_event_ids

NASTY = [
    "'; DROP TABLE events; --",
    "x' OR '1'='1",
    'B-1"; TRUNCATE event_log CASCADE; --',
    "$1); DELETE FROM streams; --",
]


async def test_injection_strings_in_ids_are_refused_and_in_names_stored_verbatim(
    service: Service, db_dsn: str
) -> None:
    admin = await asyncio.to_thread(create_key, db_dsn, "--role", "admin")
    headers = {"Authorization": f"Bearer {admin}"}
    async with aiohttp.ClientSession() as session:
        for text in NASTY:
            bad_id = {
                "event_id": new_id(),
                "type": "institution.registered",
                "data": {"institution_id": text, "name": "Bank", "kind": "bank"},
            }
            async with session.post(service.url + "/v1/events", json=bad_id, headers=headers) as r:
                assert r.status == 422
                assert (await r.json())["errors"][0]["path"] == "$.data.institution_id"
        named = {
            "event_id": new_id(),
            "type": "institution.registered",
            "data": {"institution_id": "B-SAFE", "name": NASTY[0], "kind": "bank"},
        }
        async with session.post(service.url + "/v1/events", json=named, headers=headers) as r:
            assert r.status == 201
        async with session.get(
            service.url + "/v1/streams/institution-B-SAFE", headers=headers
        ) as r:
            assert r.status == 200
            assert NASTY[0] in await r.text()
        for text in NASTY:
            quoted = urllib.parse.quote(text, safe="")
            for path in (
                f"/v1/guarantees/{quoted}",
                f"/v1/claims/{quoted}",
                f"/v1/streams/{quoted}",
                f"/v1/smes/{quoted}/exposure",
            ):
                async with session.get(service.url + path, headers=headers) as r:
                    # An SME id must be a credit code: anything else is a 422 naming it.
                    assert r.status == (422 if "/smes/" in path else 404), path
    assert await stored_event_ids(db_dsn) == [named["event_id"]]
