"""Loading the demo scenario (ledger/demo_scenario.py) through the HTTP API, each step
posted with its poster's key, and the keys the demo needs made in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from ledger.demo_scenario import ADMIN, posters, scenario


class DemoFailed(RuntimeError):
    """The ledger refused a step of the demo."""


InstitutionKeys = Callable[[list[str]], Awaitable[dict[str, str]]]
"""Makes keys for the given institution ids (called once they are registered)."""


async def run_demo(
    url: str,
    admin_key: str,
    institution_keys: InstitutionKeys,
    say: Callable[[str], None] = print,
    session: aiohttp.ClientSession | None = None,
) -> int:
    """Post every step with its poster's key; return how many events were newly stored.

    Reposts of an earlier run of the demo count 0: the ledger answers them with 200.
    """
    keys = {ADMIN: admin_key}
    own = session is None
    http = aiohttp.ClientSession() if session is None else session
    stored = last = 0
    try:
        for step in scenario():
            if step.poster not in keys:
                # The admin steps come first: the institutions exist by now.
                keys.update(await institution_keys(posters()))
            headers = {"Authorization": f"Bearer {keys[step.poster]}"}
            if step.type == "statement.filed":
                # Filed as the read models tell it: let them take in what came before.
                await _statement_reflects(http, url, headers, step.data, last)
            async with http.post(f"{url}/v1/events", json=step.envelope(), headers=headers) as r:
                body = await r.json(content_type=None)
            if r.status not in (200, 201):
                detail = body.get("detail", body) if isinstance(body, dict) else body
                raise DemoFailed(f"{step.name}: {r.status} {detail}")
            stored += r.status == 201
            last = int(body["position"])
            again = " (already there)" if r.status == 200 else ""
            say(f"{step.name:<28} by {step.poster:<14} -> position {body['position']}{again}")
    finally:
        if own:
            await http.close()
    return stored


async def _statement_reflects(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    filing: dict[str, Any],
    position: int,
) -> None:
    """Wait until the statement about to be filed reflects `position` (the last step)."""
    params = {"from": filing["from"], "to": filing["to"], "min_position": str(position)}
    for _ in range(10):
        async with http.get(
            f"{url}/v1/statements/{filing['institution_id']}", params=params, headers=headers
        ) as r:
            if r.status == 200:
                return
            if r.status != 503:
                raise DemoFailed(f"statement of {filing['institution_id']}: {r.status}")


def database_keys(dsn: str) -> InstitutionKeys:
    """Institution keys created straight in the ledger's database (not possible over HTTP)."""

    async def make(institutions: list[str]) -> dict[str, str]:
        import asyncpg

        from ledger.auth.keys import create_key

        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return {i: (await create_key(conn, institution_id=i)).key for i in institutions}
        finally:
            await conn.close()

    return make
