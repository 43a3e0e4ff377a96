"""A standby in use but behind: what it lacks, the primary answers, within one request."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest

from bench.payloads import GUARANTOR_ID, sme_id
from events.business import SHANGHAI
from ledger.http.context import RUNTIME
from projections.statements import POSITION_SQL
from tests.integration.standbys.conftest import Ledger

DELAY_S = 5
HEAD = "SELECT coalesce(max(position), 0) FROM event_log"
AS_OF = "SELECT position FROM projection_checkpoints WHERE name = 'as_of'"


@pytest.fixture
async def delayed(lenient_ledger: Ledger) -> AsyncIterator[Ledger]:
    """The lenient ledger's standby applying each commit DELAY_S seconds late."""
    ledger = lenient_ledger
    ledger.pair.reconfigure_standby(recovery_min_apply_delay=f"{DELAY_S}s")
    try:
        yield ledger
    finally:
        ledger.pair.reconfigure_standby()


async def test_min_position_waits_on_a_standby_behind_then_the_primary_answers(
    delayed: Ledger,
) -> None:
    reader = await delayed.keys.role("reader")
    router = delayed.client.app[RUNTIME].reads
    position = await delayed.issue(1)
    on_standby, on_primary = delayed.standby.reads, router.primary_reads
    started = time.monotonic()
    r = await delayed.client.get(f"/v1/guarantees/G-t-1?min_position={position}", headers=reader)
    waited = time.monotonic() - started
    assert r.status == 200, await r.text()
    assert (await r.json())["position"] >= position
    assert 1.0 <= waited < DELAY_S  # the standby's bound, not its delay
    assert (delayed.standby.reads, router.primary_reads) == (on_standby, on_primary + 1)
    assert delayed.standby.usable  # behind a position, yet within its lag bound


async def test_what_the_standby_has_not_replayed_yet_is_found_on_the_primary(
    delayed: Ledger,
) -> None:
    reader = await delayed.keys.role("reader")
    router = delayed.client.app[RUNTIME].reads
    position = await delayed.issue(2)
    # Once the primary's read models have it (the standby still lacks it), ask plainly.
    r = await delayed.client.get(f"/v1/guarantees/G-t-2?min_position={position}", headers=reader)
    assert r.status == 200
    on_primary = router.primary_reads
    assert delayed.standby.usable  # so the read below goes to the standby first
    r = await delayed.client.get("/v1/guarantees/G-t-2", headers=reader)
    assert r.status == 200, await r.text()
    assert (await r.json())["guarantee_id"] == "G-t-2"
    assert router.primary_reads == on_primary + 1
    assert delayed.standby.fallbacks == 0  # a 404 there is no failure of the standby


async def test_audit_state_past_the_standbys_head_is_read_on_the_primary(delayed: Ledger) -> None:
    auditor = await delayed.keys.role("auditor")
    router = delayed.client.app[RUNTIME].reads
    position = await delayed.issue(3)
    on_primary = router.primary_reads
    assert delayed.standby.usable
    r = await delayed.client.get(
        f"/v1/audit/state?position={position}&guarantee_id=G-t-3", headers=auditor
    )
    assert r.status == 200, await r.text()
    assert (await r.json())["guarantee_id"] == "G-t-3"
    assert router.primary_reads == on_primary + 1


async def _standby_holds_its_head(ledger: Ledger) -> None:
    """Wait until the standby's statement and as-of read models reflect its own head."""
    deadline = time.monotonic() + 3 * DELAY_S
    while True:
        [row] = await ledger.on_standby(
            f"SELECT ({HEAD}) AS head, ({POSITION_SQL}) AS movements, ({AS_OF}) AS as_of"
        )
        if row["movements"] == row["as_of"] == row["head"]:
            return
        assert time.monotonic() < deadline, dict(row)
        await asyncio.sleep(0.1)


async def test_a_statement_as_known_now_counts_what_the_standby_has_not_replayed(
    delayed: Ledger,
) -> None:
    """The log as it stood when the request came is the primary's: a statement from a
    standby still behind it would leave out events recorded before its known_at."""
    router = delayed.client.app[RUNTIME].reads
    await _standby_holds_its_head(delayed)  # so it would answer at once from what it has
    position = await delayed.issue(4)
    known_at = delayed.client.app[RUNTIME].ledger.now().isoformat()
    assert delayed.standby.usable
    on_primary = router.primary_reads
    r = await delayed.client.get(
        f"/v1/statements/{GUARANTOR_ID}",
        params={"period": str(dt.datetime.now(SHANGHAI).year), "known_at": known_at},
        headers=await delayed.keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body["position"] >= position
    assert sum(p["issued"]["count"] for p in body["programs"]) == 1
    assert router.primary_reads == on_primary + 1


async def test_the_books_as_of_today_count_what_the_standby_has_not_replayed(
    delayed: Ledger,
) -> None:
    await _standby_holds_its_head(delayed)
    await delayed.issue(5)
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    r = await delayed.client.get(
        "/v1/audit/state",
        params={"business_date": today, "sme_id": sme_id(5)},
        headers=await delayed.keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    [program] = (await r.json())["programs"]
    assert program["active_guarantees"] == 1
