"""Hypothesis fuzz of POST /v1/events against a real service: no 5xx, every refusal a problem."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.payloads import guarantee_issued, sme_registered
from tests import pg
from tests.reliability.harness import Service, prepare

SLUGS = {
    "malformed-json",
    "unauthorized",
    "forbidden",
    "not-found",
    "version-conflict",
    "idempotency-conflict",
    "cap-exceeded",
    "invalid-state",
    "not-eligible",
    "payload-too-large",
    "unsupported-media-type",
    "validation-error",
    "service-unavailable",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_envelopes(draw: st.DrawFn) -> Any:
    """A valid envelope with one field replaced, dropped or added, at the top or in data."""
    n = draw(st.integers(0, 50))
    base = draw(st.sampled_from([guarantee_issued(n, "fz"), sme_registered(n)]))
    target = base if draw(st.booleans()) else base["data"]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    key = draw(st.sampled_from(sorted(target)))
    if action == "replace":
        target[key] = draw(json_values)
    elif action == "drop":
        del target[key]
    else:
        target[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    return base


@pytest.fixture(scope="module")
def fuzz_target(
    pg_admin_dsn: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, str, str]]:
    """A service on its own database, with the benchmark program and 51 SMEs registered."""
    name = asyncio.run(pg.create_database(pg_admin_dsn, pg_template))
    dsn = pg.with_database(pg_admin_dsn, name)
    service = Service(dsn, tmp_path_factory.mktemp("fuzz") / "service.log")
    service.start()
    try:
        key = prepare(dsn, service)
        _post(service, key, [sme_registered(n) for n in range(51)])
        yield service, key, dsn
    finally:
        service.stop()
        asyncio.run(pg.drop_database(pg_admin_dsn, name))


def _post(service: Service, key: str, body: Any) -> tuple[int, str, Any]:
    request = urllib.request.Request(
        service.url + "/v1/events",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), json.loads(err.read())


async def _count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()


ACCEPTED: list[str] = []


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=mutated_envelopes())
def test_mutated_posts_never_fail_the_server_and_refusals_are_problems(
    fuzz_target: tuple[Service, str, str], body: Any
) -> None:
    service, key, _dsn = fuzz_target
    status, content_type, answer = _post(service, key, body)
    assert status < 500, answer
    if status >= 400:
        assert content_type.startswith("application/problem+json")
        assert answer["type"].removeprefix("/problems/") in SLUGS
        assert answer["status"] == status
    elif status == 201:
        ACCEPTED.append(answer["event_id"])


def test_the_store_holds_exactly_the_setup_and_the_accepted_fuzzed_posts(
    fuzz_target: tuple[Service, str, str],
) -> None:
    """Runs after the fuzz: every refused post stored nothing."""
    _service, _key, dsn = fuzz_target
    setup = 3 + 51
    assert asyncio.run(_count(dsn)) == setup + len(ACCEPTED)
