"""GET /metrics: Prometheus text that prometheus_client's own parser reads, same names as before."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ledger.http.metrics import Metrics
from tests.e2e.conftest import Keys
from tests.factory import institution

Client = TestClient[Any, Any]


async def _scrape(client: Client) -> dict[str, list[Sample]]:
    r = await client.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = text_string_to_metric_families(await r.text())
    return {f.name: f.samples for f in families}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    [value] = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return value


async def test_requests_and_appends_parse_under_the_names_they_always_had(
    client: Client, keys: Keys
) -> None:
    await client.post("/v1/events", json=institution("B-1"), headers=await keys.role("admin"))
    await client.get("/v1/guarantees/G-1", headers=await keys.role("reader"))
    found = await _scrape(client)
    requests = found["ledger_http_requests"]
    post = {"method": "POST", "route": "/v1/events", "status": "201"}
    assert _value(requests, "ledger_http_requests_total", **post) == 1
    missing = {"route": "/v1/guarantees/{guarantee_id}", "status": "404"}
    assert _value(requests, "ledger_http_requests_total", **missing) == 1
    latency = found["ledger_http_request_duration_seconds"]
    assert _value(latency, "ledger_http_request_duration_seconds_count", **post) == 1
    assert _value(latency, "ledger_http_request_duration_seconds_bucket", le="+Inf", **post) == 1
    assert _value(found["ledger_events_appended"], "ledger_events_appended_total") == 1


async def test_the_scrape_measures_the_pool_the_database_and_the_read_models(
    client: Client,
) -> None:
    found = await _scrape(client)
    for gauge in ("ledger_db_pool_size", "ledger_db_pool_in_use", "ledger_db_pool_max"):
        assert _value(found[gauge], gauge) >= 0
    assert _value(found["ledger_database_up"], "ledger_database_up") == 1
    assert _value(found["ledger_projection_lag_events"], "ledger_projection_lag_events") == 0


async def test_the_process_and_its_collector_are_measured_too(client: Client) -> None:
    found = await _scrape(client)
    assert _value(found["process_cpu_seconds"], "process_cpu_seconds_total") > 0
    assert "python_gc_collections" in found
    assert "python_info" in found


def test_two_apps_in_one_process_count_apart() -> None:
    one, other = Metrics(), Metrics()
    one.observe("GET", "/healthz", 200, 0.001)
    one.appended(3)
    seen = {f.name: f.samples for f in text_string_to_metric_families(other.render({}).decode())}
    assert seen["ledger_http_requests"] == []
    assert _value(seen["ledger_events_appended"], "ledger_events_appended_total") == 0


async def test_signing_that_stopped_shows_in_the_metrics(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """A leaf rewritten under a signed checkpoint: the sealer refuses to sign what follows,
    and the scrape says so (it was only in the log)."""
    import asyncio

    import asyncpg

    admin = await keys.role("admin")
    for n in (1, 2):
        await client.post("/v1/events", json=institution(f"B-{n}"), headers=admin)
    async with asyncio.timeout(10):
        while _value((found := await _scrape(client))["ledger_log_unsigned_events"],
                     "ledger_log_unsigned_events") != 0:  # fmt: skip
            await asyncio.sleep(0.05)
    assert (
        _value(found["ledger_checkpoint_signing_refused"], "ledger_checkpoint_signing_refused") == 0
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                "UPDATE log_tile_leaves SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1)"
                " WHERE idx = 0 AND n = 0"
            )
    finally:
        await conn.close()
    await client.post("/v1/events", json=institution("B-3"), headers=admin)
    async with asyncio.timeout(10):
        while _value((found := await _scrape(client))["ledger_checkpoint_signing_refused"],
                     "ledger_checkpoint_signing_refused") != 1:  # fmt: skip
            await asyncio.sleep(0.05)
    assert _value(found["ledger_log_unsigned_events"], "ledger_log_unsigned_events") == 1
