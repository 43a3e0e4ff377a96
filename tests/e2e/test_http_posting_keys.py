"""POST /v1/events and the poster's key: missing, unknown, revoked (at once, and under
concurrent posts), and told before anything about the body."""

from __future__ import annotations

from tests.e2e.conftest import Keys
from tests.e2e.posting import Client
from tests.e2e.posting import post as _post
from tests.e2e.posting import problem as _problem
from tests.e2e.posting import refused as _refused
from tests.factory import institution


async def test_no_key_is_401(client: Client) -> None:
    r = await client.post("/v1/events", json=institution("B-1"))
    _problem(await r.json(content_type=None), "unauthorized", 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_unknown_key_is_401(client: Client, keys: Keys) -> None:
    real = (await keys.role("admin"))["Authorization"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for header in (forged, "Bearer lk_nonsense", "Basic abc", "Bearer "):
        r = await client.post(
            "/v1/events", json=institution("B-1"), headers={"Authorization": header}
        )
        assert r.status == 401, header


async def test_two_authorization_headers_are_400_and_store_nothing(
    client: Client, keys: Keys
) -> None:
    """Neither is taken, not even when both are valid keys."""
    from multidict import CIMultiDict

    event = institution("B-1")
    admin = (await keys.role("admin"))["Authorization"]
    bank = f"Bearer {await keys.new(role='admin')}"
    twice = CIMultiDict([("Authorization", admin), ("Authorization", bank)])
    r = await client.post("/v1/events", json=event, headers=twice)
    body = await r.json(content_type=None)
    _problem(body, "malformed-request", 400)
    assert "one Authorization header" in body["detail"]
    assert (await _post(client, event, {"Authorization": admin}))[0] == 201  # not 200


async def test_revoked_key_is_refused_at_once(client: Client, keys: Keys, db_dsn: str) -> None:
    import asyncpg

    from ledger.auth.keys import revoke_key, split_key

    key = await keys.new(role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    assert (await _post(client, institution("B-1"), headers))[0] == 201
    conn = await asyncpg.connect(db_dsn)
    try:
        await revoke_key(conn, split_key(key)[0])  # type: ignore[index]
    finally:
        await conn.close()
    body = await _refused(client, institution("B-2"), headers)
    _problem(body, "unauthorized", 401)


async def test_an_unknown_key_is_told_so_before_what_is_wrong_with_the_body(
    client: Client,
) -> None:
    headers = {"Authorization": "Bearer lk_0123456789abcdef_" + "A" * 43}
    r = await client.post("/v1/events", data=b"{not json", headers=headers)
    assert r.status == 401
    r = await client.post("/v1/events", data=b"{}", headers=headers)
    assert r.status == 401


async def test_concurrent_posts_with_a_revoked_key_store_nothing_and_the_rest_stand(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    import asyncio

    import asyncpg

    from ledger.auth.keys import revoke_key, split_key

    good = {"Authorization": f"Bearer {await keys.new(role='admin')}"}
    revoked_key = await keys.new(role="admin")
    revoked = {"Authorization": f"Bearer {revoked_key}"}
    conn = await asyncpg.connect(db_dsn)
    try:
        await revoke_key(conn, split_key(revoked_key)[0])  # type: ignore[index]
        posts = [
            _post(client, institution(f"B-{n}"), revoked if n % 3 == 0 else good) for n in range(12)
        ]
        statuses = [status for status, _ in await asyncio.gather(*posts)]
        assert statuses == [401 if n % 3 == 0 else 201 for n in range(12)]
        stored = await conn.fetchval("SELECT count(*) FROM events")
        assert stored == 8
    finally:
        await conn.close()
