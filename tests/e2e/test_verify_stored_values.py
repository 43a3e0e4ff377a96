"""Every value the ledger stores for an event is covered: a superuser's change to any
one is named by `ledger audit verify` and by GET /v1/audit/verify at its position."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.demo_scenario import scenario
from tests.e2e.conftest import Keys
from tests.factory import institution
from tests.integration.audit import tamper

Client = TestClient[Any, Any]


@pytest.fixture
def client(kept: Client) -> Client:
    """The demo's statement filing needs the read models kept (conftest's `kept`)."""
    return kept


TARGET = 6
"""The position whose stored values the tests change (a demo step, alone in its post)."""

# Each change is one UPDATE as a superuser with the append-only triggers off
# ($1 is the target's events row (seq), $2 its position), and what verify's
# reason says about it.
CHANGES = {
    "event_id": ("UPDATE events SET event_id = gen_random_uuid() WHERE seq = $1", "its event_id"),
    "stream_id": (
        "UPDATE events SET stream_id = stream_id || '-x' WHERE seq = $1",
        "its stream_id",
    ),
    "stream_version": (
        "UPDATE events SET stream_version = stream_version + 100 WHERE seq = $1",
        "its stream_version",
    ),
    "type": ("UPDATE events SET type = 'x.' || type WHERE seq = $1", "its type"),
    "recorded_at": (
        "UPDATE events SET recorded_at = recorded_at + interval '1 microsecond' WHERE seq = $1",
        "its recorded_at",
    ),
    "fingerprint": (
        "UPDATE events SET fingerprint = sha256(fingerprint) WHERE seq = $1",
        "its fingerprint",
    ),
    "seq": ("UPDATE events SET seq = DEFAULT WHERE seq = $1", "its seq was changed"),
    "body": ("UPDATE events SET body = body || ' '::bytea WHERE seq = $1", "no longer matches"),
    "log position": (
        "UPDATE event_log SET position = position + 1000000 WHERE position = $2",
        "its log row's position was changed",
    ),
    "log seq": (
        "UPDATE event_log SET seq = seq + 1000000000 WHERE position = $2",
        "its seq was changed",
    ),
    "log hash": (
        "UPDATE event_log SET hash = sha256(hash) WHERE position = $2",
        "no longer matches",
    ),
}


async def _load(client: Client, keys: Keys) -> int:
    """Post the demo, one event per post, and an event with a time and version of its own."""
    for step in scenario():
        headers = await keys.role("admin") if step.poster == "admin" else await keys.of(step.poster)
        r = await client.post("/v1/events", json=step.envelope(), headers=headers)
        assert r.status == 201, await r.text()
    own = institution("B-9", occurred_at="2026-01-05T09:00:00+05:30", expected_version=0)
    r = await client.post("/v1/events", json=own, headers=await keys.role("admin"))
    assert r.status == 201, await r.text()
    position: int = (await r.json())["position"]
    return position


async def _over_http(client: Client, keys: Keys) -> dict[str, Any]:
    r = await client.get("/v1/audit/verify", headers=await keys.role("auditor"))
    assert r.status == 200
    body: dict[str, Any] = await r.json()
    return body


async def _with_dsn(dsn: str) -> tuple[int, dict[str, Any]]:
    """`ledger audit verify --json` as an operator runs it, in a process of its own."""
    ledger = Path(sys.executable).with_name("ledger")
    process = await asyncio.create_subprocess_exec(
        str(ledger),
        "audit",
        "verify",
        "--json",
        env={**os.environ, "LEDGER_DATABASE_URL": dsn},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, json.loads(out)


async def _change(dsn: str, sql: str) -> None:
    async with tamper.superuser(dsn) as su:
        seq = await tamper.seq_at(su, TARGET)
        await su.execute(sql.replace("$1", str(seq)).replace("$2", str(TARGET)))


def _named(report: dict[str, Any]) -> tuple[bool, int | None, str | None]:
    return report["ok"], report["first_bad_position"], report["problem"]


async def test_an_untouched_ledger_verifies_ok_with_a_dsn_and_over_http(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    head = await _load(client, keys)
    code, report = await _with_dsn(db_dsn)
    assert (code, *_named(report), report["verified_through"]) == (0, True, None, None, head)
    assert _named(await _over_http(client, keys)) == (True, None, None)


@pytest.mark.parametrize("column", list(CHANGES))
async def test_a_changed_stored_value_is_named_changed_at_its_position(
    client: Client, keys: Keys, db_dsn: str, column: str
) -> None:
    sql, said = CHANGES[column]
    await _load(client, keys)
    await _change(db_dsn, sql)
    code, report = await _with_dsn(db_dsn)
    assert (code, *_named(report)) == (1, False, TARGET, "changed")
    assert said in report["reason"]
    assert _named(await _over_http(client, keys)) == (False, TARGET, "changed")


async def test_a_changed_actor_is_named_changed_at_its_position(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """The actor has no column: it is read from the hashed bytes only."""
    await _load(client, keys)
    async with tamper.superuser(db_dsn) as su:
        await tamper.change_body(su, TARGET, b'"actor":{"role":"', b'"actor":{"role":"x')
    code, report = await _with_dsn(db_dsn)
    assert (code, *_named(report)) == (1, False, TARGET, "changed")
    assert _named(await _over_http(client, keys)) == (False, TARGET, "changed")


async def test_a_changed_transaction_id_is_named_reordered_at_its_position(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """tx_id is the recording order, which the log must follow: moving an event's
    transaction after the next one's is a reordered log, and looks the same as one."""
    await _load(client, keys)
    await _change(
        db_dsn,
        "UPDATE events SET tx_id = (tx_id::text::bigint + 1000000)::text::xid8 WHERE seq = $1",
    )
    code, report = await _with_dsn(db_dsn)
    assert (code, *_named(report)) == (1, False, TARGET, "reordered")
    assert _named(await _over_http(client, keys)) == (False, TARGET, "reordered")


async def test_a_moved_stream_id_hides_the_event_from_its_stream_and_verify_names_it(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """What an operator's rewrite does to readers, and that verify catches it."""
    await _load(client, keys)
    async with tamper.superuser(db_dsn) as su:
        stream = await su.fetchval(
            "SELECT e.stream_id FROM events e JOIN event_log l USING (seq) WHERE l.position = $1",
            TARGET,
        )
    auditor = await keys.role("auditor")
    before = await (await client.get(f"/v1/streams/{stream}", headers=auditor)).json()
    await _change(db_dsn, CHANGES["stream_id"][0])
    after = await (await client.get(f"/v1/streams/{stream}", headers=auditor)).json()
    # A stream left with no event it can give (the moved one was its only) is not found.
    assert after.get("type", "/problems/not-found") == "/problems/not-found"
    positions = [[e["position"] for e in page.get("events", [])] for page in (before, after)]
    assert TARGET in positions[0]
    assert TARGET not in positions[1]
    report = await _over_http(client, keys)
    assert _named(report) == (False, TARGET, "changed")
    assert "stream_id" in report["reason"]
