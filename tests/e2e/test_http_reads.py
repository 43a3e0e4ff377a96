"""Reading over HTTP: the log with long polls, streams, read models' min_position, ops routes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import structlog
from aiohttp.test_utils import TestClient

from ledger.http.context import RUNTIME
from ledger.rules.footprint import Footprint
from ledger.store import decisions
from tests.e2e.conftest import Keys
from tests.e2e.sse import end_seal_listeners
from tests.factory import envelope, institution

SME = "91500000MA5U7K3Q8Y"
ELIGIBILITY = {
    "sme_id": SME,
    "category": "little_giant",
    "reference": "MIIT-2024-0173",
    "valid_from": "2024-07-01",
    "valid_until": "2027-06-30",
}

Client = TestClient[Any, Any]


async def test_log_pages_by_after_and_limit_with_next_after(client: Client, keys: Keys) -> None:
    await client.post(
        "/v1/events",
        json=[institution(f"B-{i}") for i in range(5)],
        headers=await keys.role("admin"),
    )
    r = await client.get("/v1/events?after=1&limit=2", headers=await keys.role("auditor"))
    page = await r.json()
    assert [e["position"] for e in page["events"]] == [2, 3]
    assert page["next_after"] == 3
    assert len(page["events"][0]["hash"]) == 64


async def test_empty_log_answers_next_after_unchanged(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/events?after=7", headers=await keys.role("admin"))
    assert await r.json() == {"events": [], "next_after": 7}


async def test_long_poll_returns_as_soon_as_an_event_is_sealed(client: Client, keys: Keys) -> None:
    auditor, admin = await keys.role("auditor"), await keys.role("admin")
    started = time.monotonic()
    poll = asyncio.create_task(client.get("/v1/events?after=0&wait=10", headers=auditor))
    await asyncio.sleep(0.3)
    await client.post("/v1/events", json=institution("B-1"), headers=admin)
    page = await (await poll).json()
    assert [e["position"] for e in page["events"]] == [1]
    assert time.monotonic() - started < 5


async def test_a_long_poll_whose_listen_connection_was_lost_is_still_woken_by_a_seal(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    auditor, admin = await keys.role("auditor"), await keys.role("admin")
    poll = asyncio.create_task(client.get("/v1/events?after=0&wait=20", headers=auditor))
    await asyncio.sleep(0.5)
    ended = await end_seal_listeners(db_dsn)
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await client.post("/v1/events", json=institution("B-1"), headers=admin)
    page = await (await poll).json()
    assert ended >= 1
    assert [e["position"] for e in page["events"]] == [1]
    assert time.monotonic() - started < 5


async def test_long_poll_with_nothing_new_waits_then_answers_empty(
    client: Client, keys: Keys
) -> None:
    started = time.monotonic()
    r = await client.get("/v1/events?wait=0.5", headers=await keys.role("auditor"))
    assert (await r.json())["events"] == []
    assert time.monotonic() - started >= 0.5


async def test_unknown_stream_is_404(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/streams/institution-NOPE", headers=await keys.role("auditor"))
    assert (await r.json(content_type=None))["type"] == "/problems/not-found"


async def test_stream_from_version_skips_earlier_versions(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    await client.post("/v1/events", json=institution("B-1"), headers=admin)
    r = await client.get("/v1/streams/institution-B-1?from_version=2", headers=admin)
    assert await r.json() == {"stream_id": "institution-B-1", "version": 1, "events": []}


async def test_a_streams_version_is_that_of_the_last_event_it_can_give(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """An event committed but not yet sealed (its post not yet answered) counts in neither
    the stream's events nor its version, and both count it once it is sealed."""
    admin = await keys.role("admin")
    for registered in (institution("G-1", kind="guarantor"), institution("R-1", kind="reviewer")):
        assert (await client.post("/v1/events", json=registered, headers=admin)).status == 201
    sme = envelope("sme.registered", {"sme_id": SME, "name": "Chongqing Photonics"})
    r = await client.post("/v1/events", json=sme, headers=await keys.of("G-1"))
    assert r.status == 201
    reviewer = await keys.of("R-1")
    hung = await asyncpg.connect(db_dsn)  # an appender that holds every later seal back
    try:
        await hung.execute("BEGIN")
        await decisions.prepare(hung, Footprint())
        await hung.fetchval("SELECT pg_current_xact_id()")
        second = envelope("sme.eligibility_recorded", ELIGIBILITY)
        posting = asyncio.create_task(client.post("/v1/events", json=second, headers=reviewer))
        deadline = time.monotonic() + 5
        while await hung.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1", f"sme-{SME}"
        ) < 2:
            assert time.monotonic() < deadline, "the second event was never committed"
            await asyncio.sleep(0.02)
        r = await client.get(f"/v1/streams/sme-{SME}", headers=admin)
        page = await r.json()
        assert (page["version"], len(page["events"])) == (1, 1)
    finally:
        await hung.close()
    assert (await posting).status == 201
    page = await (await client.get(f"/v1/streams/sme-{SME}", headers=admin)).json()
    assert (page["version"], [e["stream_version"] for e in page["events"]]) == (2, [1, 2])


async def test_min_position_beyond_the_read_models_is_503_with_retry_after(
    client: Client, keys: Keys
) -> None:
    # This app runs no projection runner, so the read models never reach position 1.
    await client.post("/v1/events", json=institution("B-1"), headers=await keys.role("admin"))
    r = await client.get("/v1/programs/P-1?min_position=1", headers=await keys.role("reader"))
    assert r.status == 503
    assert r.headers["Retry-After"]
    assert (await r.json(content_type=None))["type"] == "/problems/service-unavailable"


async def test_unknown_read_model_id_is_404(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/guarantees/G-NOPE", headers=await keys.role("reader"))
    assert r.status == 404


async def test_audit_verify_reports_an_intact_chain(client: Client, keys: Keys) -> None:
    await client.post(
        "/v1/events",
        json=[institution("B-1"), institution("B-2")],
        headers=await keys.role("admin"),
    )
    r = await client.get("/v1/audit/verify", headers=await keys.role("auditor"))
    body = await r.json()
    assert (body["ok"], body["verified_through"], body["first_bad_position"]) == (True, 2, None)


async def test_healthz_and_readyz_answer_ok(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    r = await client.get("/readyz")
    assert (r.status, (await r.json())["status"]) == (200, "ready")


async def test_metrics_count_requests_by_route_and_status_and_appends(
    client: Client, keys: Keys
) -> None:
    await client.post("/v1/events", json=institution("B-1"), headers=await keys.role("admin"))
    await client.get("/v1/guarantees/G-1", headers=await keys.role("reader"))
    text = await (await client.get("/metrics")).text()
    assert 'ledger_http_requests_total{method="POST",route="/v1/events",status="201"} 1.0' in text
    assert 'route="/v1/guarantees/{guarantee_id}",status="404"' in text
    assert "ledger_events_appended_total 1.0" in text
    assert "ledger_http_request_duration_seconds_bucket{" in text
    for gauge in ("ledger_db_pool_size", "ledger_db_pool_in_use", "ledger_projection_lag_events"):
        assert f"\n{gauge} " in text


async def test_exhausted_pool_answers_503_quickly(client: Client, keys: Keys) -> None:
    headers = await keys.role("auditor")
    pool = client.app[RUNTIME].pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        started = time.monotonic()
        r = await client.get("/v1/events", headers=headers)
        assert r.status == 503
        assert time.monotonic() - started < 3
    finally:
        for conn in held:
            await pool.release(conn)
    assert (await client.get("/v1/events", headers=headers)).status == 200


async def test_request_id_is_echoed_or_made_and_logs_never_hold_the_key(
    client: Client, keys: Keys
) -> None:
    headers = await keys.role("admin")
    secret = headers["Authorization"].removeprefix("Bearer ")
    with structlog.testing.capture_logs() as logs:
        r1 = await client.post(
            "/v1/events", json=institution("B-1"), headers={**headers, "X-Request-ID": "req-123"}
        )
        r2 = await client.get("/v1/events", headers={**headers, "X-Request-ID": "bad id ; drop"})
        await client.get("/v1/events", headers={"Authorization": f"Bearer {secret}x"})
    assert r1.headers["X-Request-ID"] == "req-123"
    assert r2.headers["X-Request-ID"] not in ("", "bad id ; drop")
    access = [e for e in logs if e["event"] == "request"]
    assert [e["status"] for e in access] == [201, 200, 401]
    assert [e.get("problem") for e in access] == [None, None, "unauthorized"]
    assert all(e["latency_ms"] >= 0 and e["route"] == "/v1/events" for e in access)
    assert secret[10:] not in repr(logs)
    assert "Bearer" not in repr(logs)


async def test_min_position_past_the_head_of_the_log_is_422(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/programs/P-1?min_position=5", headers=await keys.role("reader"))
    assert r.status == 422
    assert (await r.json(content_type=None))["errors"][0]["path"] == "query.min_position"


async def test_every_answer_names_the_ledger_and_no_versions_as_its_server(
    client: Client, keys: Keys
) -> None:
    headers = await keys.role("admin")
    answers = [
        await client.get("/healthz"),
        await client.get("/v1/events", headers=headers),
        await client.get("/v1/no-such-route", headers=headers),
        await client.post("/v1/events", data=b"{", headers=headers),
    ]
    async with client.get("/v1/events/stream", headers=headers) as stream:
        answers.append(stream)
    assert [r.headers.get("Server") for r in answers] == ["ledger"] * len(answers)
