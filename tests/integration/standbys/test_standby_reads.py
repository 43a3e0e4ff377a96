"""Read routes served by a real streaming hot standby, with the primary as the fallback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import pytest

from bench.payloads import sme_id
from ledger.audit import state_process
from ledger.http.context import RUNTIME
from ledger.standbys import READ_APPLICATION
from tests.e2e.sse import opened
from tests.integration.standbys.conftest import Ledger, unique_tag

_LAST_QUERIES = """SELECT query FROM pg_stat_activity
                    WHERE application_name = $1 AND datname = current_database()"""


async def _standby_ran(ledger: Ledger, text: str) -> bool:
    rows = await ledger.on_standby(_LAST_QUERIES, READ_APPLICATION)
    return any(text in row["query"] for row in rows)


async def test_sme_exposure_is_read_on_the_standby(ledger: Ledger) -> None:
    position = await ledger.issue(1)
    before = ledger.standby.reads
    r = await ledger.client.get(
        f"/v1/smes/{sme_id(1)}/exposure?min_position={position}",
        headers=await ledger.keys.role("reader"),
    )
    body = await r.json()
    assert r.status == 200
    assert body["position"] >= position
    assert body["programs"][0]["active_guarantees"] == 1
    assert ledger.standby.reads == before + 1
    assert await _standby_ran(ledger, "proj_sme_exposure")


async def test_a_guarantee_is_read_on_the_standby(ledger: Ledger) -> None:
    position = await ledger.issue(2)
    r = await ledger.client.get(
        f"/v1/guarantees/G-t-2?min_position={position}", headers=await ledger.keys.role("reader")
    )
    assert r.status == 200
    assert (await r.json())["guarantee_id"] == "G-t-2"
    assert await _standby_ran(ledger, "proj_guarantees")


async def test_streams_the_feed_and_audit_state_are_read_on_the_standby(ledger: Ledger) -> None:
    position = await ledger.issue(3)
    auditor = await ledger.keys.role("auditor")
    # Reflecting the position on the standby means it replayed the log that far too.
    await ledger.client.get(f"/v1/guarantees/G-t-3?min_position={position}", headers=auditor)
    paths = [
        # A stream and a past state are each read in one read-only transaction: its last
        # statement is its end.
        ("/v1/streams/guarantee-G-t-3", "COMMIT"),
        ("/v1/events?after=0&limit=10", "event_log"),
        (f"/v1/audit/state?position={position}&guarantee_id=G-t-3", "COMMIT"),
    ]
    for path, text in paths:
        before = ledger.standby.reads
        r = await ledger.client.get(path, headers=auditor)
        assert r.status == 200, (path, await r.text())
        assert ledger.standby.reads == before + 1, path
        assert await _standby_ran(ledger, text), path


async def test_proofs_and_tiles_are_read_on_the_standby(signed_ledger: Ledger) -> None:
    ledger = signed_ledger
    position = await ledger.issue(6)
    auditor = await ledger.keys.role("auditor")
    # The latest checkpoint (asked of the primary) covers the event once signed.
    deadline = time.monotonic() + 20
    while True:
        r = await ledger.client.get("/v1/log/checkpoint", headers=auditor)
        if r.status == 200 and int((await r.text()).splitlines()[1]) >= position:
            break
        assert time.monotonic() < deadline, "no checkpoint covers the event"
        await asyncio.sleep(0.2)
    # Reflecting the position on the standby means it replayed the tree that far too.
    await ledger.client.get(f"/v1/guarantees/G-t-6?min_position={position}", headers=auditor)
    [row] = await ledger.on_standby(
        "SELECT e.event_id::text FROM events e JOIN event_log l USING (seq) WHERE position = $1",
        position,
    )
    paths = [
        f"/v1/log/proof/inclusion?position={position}",
        f"/v1/log/proof/consistency?from=1&to={position}",
        "/v1/log/tile/0/000.p/1",
        f"/v1/events/{row['event_id']}/proof",
    ]
    for path in paths:
        before = ledger.standby.reads
        r = await ledger.client.get(path, headers=auditor)
        assert r.status == 200, (path, await r.text())
        assert ledger.standby.reads == before + 1, path


async def test_a_past_state_folded_in_a_process_of_its_own_is_read_on_the_standby(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    position = await ledger.issue(5)
    auditor = await ledger.keys.role("auditor")
    await ledger.client.get(f"/v1/guarantees/G-t-5?min_position={position}", headers=auditor)
    path = f"/v1/audit/state?position={position}&guarantee_id=G-t-5"
    here = await ledger.client.get(path, headers=auditor)
    monkeypatch.setattr(state_process, "ELSEWHERE_FROM", 0)
    before = ledger.standby.reads
    elsewhere = await ledger.client.get(path, headers=auditor)
    assert (here.status, elsewhere.status) == (200, 200)
    assert await elsewhere.read() == await here.read()
    assert ledger.standby.reads == before + 1


async def test_the_primary_serves_no_read_route_while_the_standby_is_in_use(
    ledger: Ledger,
) -> None:
    position = await ledger.issue(4)
    reader = await ledger.keys.role("reader")
    router = ledger.client.app[RUNTIME].reads
    primary_before = router.primary_reads
    for _ in range(10):
        r = await ledger.client.get(
            f"/v1/smes/{sme_id(4)}/exposure?min_position={position}", headers=reader
        )
        assert r.status == 200
    assert router.primary_reads == primary_before


async def _post_steadily(ledger: Ledger, stop: asyncio.Event, tag: str) -> int:
    n = 1000
    while not stop.is_set():
        n += 1
        await ledger.issue(n, tag)
        await asyncio.sleep(0.02)
    return n - 1000


async def test_min_position_reads_see_their_own_writes_under_steady_posting(
    ledger: Ledger,
) -> None:
    stop = asyncio.Event()
    load = asyncio.create_task(_post_steadily(ledger, stop, unique_tag()))
    reader = await ledger.keys.role("reader")
    before = ledger.standby.reads
    try:
        for n in range(10, 40):
            position = await ledger.issue(n)
            r = await ledger.client.get(
                f"/v1/guarantees/G-t-{n}?min_position={position}", headers=reader
            )
            assert r.status == 200, await r.text()
            body = await r.json()
            assert body["position"] >= position
            assert body["guarantee_id"] == f"G-t-{n}"
    finally:
        stop.set()
        posted = await load
    assert posted > 0
    assert ledger.standby.reads > before


async def _read_steadily(ledger: Ledger, stop: asyncio.Event, statuses: Counter[int]) -> None:
    reader = await ledger.keys.role("reader")
    while not stop.is_set():
        r = await ledger.client.get(f"/v1/smes/{sme_id(1)}/exposure", headers=reader)
        statuses[r.status] += 1
        await asyncio.sleep(0.01)


async def test_reads_keep_answering_from_the_primary_while_the_standby_is_stopped(
    ledger: Ledger,
) -> None:
    position = await ledger.issue(1)
    # Read once with min_position, so that the SME is in the read models before the readers
    # start (without it, a read can come before the projection: a 404 with or without standbys).
    r = await ledger.client.get(
        f"/v1/smes/{sme_id(1)}/exposure?min_position={position}",
        headers=await ledger.keys.role("reader"),
    )
    assert r.status == 200
    stop = asyncio.Event()
    statuses: Counter[int] = Counter()
    tasks = [
        asyncio.create_task(_post_steadily(ledger, stop, unique_tag())),
        *(asyncio.create_task(_read_steadily(ledger, stop, statuses)) for _ in range(4)),
    ]
    router, standby = ledger.client.app[RUNTIME].reads, ledger.standby
    try:
        await asyncio.sleep(0.5)
        assert standby.reads > 0
        await asyncio.to_thread(ledger.pair.stop_standby)
        await ledger.out_of_use()
        by_primary = router.primary_reads
        await asyncio.sleep(1.5)
        assert router.primary_reads > by_primary, "the primary did not take over the reads"
        r = await ledger.client.get("/readyz")
        assert r.status == 200  # readiness is about the primary alone
        await asyncio.to_thread(ledger.pair.start_standby)
        await ledger.in_use()
        served_before = standby.reads
        await asyncio.sleep(1.0)
        assert standby.reads > served_before, "the standby was not used again"
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        with contextlib.suppress(Exception):
            await asyncio.to_thread(ledger.pair.start_standby)
    assert set(statuses) == {200}, statuses


async def test_a_standby_whose_replay_is_paused_is_skipped(ledger: Ledger) -> None:
    reader = await ledger.keys.role("reader")
    await ledger.on_standby("SELECT pg_wal_replay_pause()")
    try:
        await ledger.out_of_use(within=3.0)
        assert ledger.standby.paused
        position = await ledger.issue(5)
        served = ledger.standby.reads
        started = time.monotonic()
        r = await ledger.client.get(f"/v1/guarantees/G-t-5?min_position={position}", headers=reader)
        assert r.status == 200
        assert time.monotonic() - started < 2.0  # the primary answered; nobody waited
        assert ledger.standby.reads == served
        metrics = await (await ledger.client.get("/metrics")).text()
        name = ledger.standby.name
        assert f'ledger_standby_replay_paused{{standby="{name}"}} 1.0' in metrics
        assert f'ledger_standby_in_use{{standby="{name}"}} 0.0' in metrics
    finally:
        await ledger.on_standby("SELECT pg_wal_replay_resume()")
    await ledger.in_use()


async def test_metrics_show_the_standby_in_use_with_its_lag(ledger: Ledger) -> None:
    await ledger.issue(6)
    text = await (await ledger.client.get("/metrics")).text()
    name = ledger.standby.name
    lines = text.splitlines()
    assert f'ledger_standby_in_use{{standby="{name}"}} 1.0' in lines
    assert f'ledger_standby_up{{standby="{name}"}} 1.0' in lines
    [lag] = [line for line in lines if line.startswith("ledger_standby_replay_lag_seconds{")]
    assert 0 <= float(lag.split()[-1]) <= 2.0


async def test_the_event_stream_sends_the_backlog_from_the_standby_then_live_events(
    ledger: Ledger,
) -> None:
    position = await ledger.issue(7)
    auditor = await ledger.keys.role("auditor")
    await ledger.client.get(f"/v1/guarantees/G-t-7?min_position={position}", headers=auditor)
    before = ledger.standby.reads
    async with opened(ledger.client, auditor) as stream:
        backlog = await stream.read_until(position)
        assert ledger.standby.reads > before  # the backlog came from the standby
        live = await ledger.issue(8)
        events = await stream.read_until(live, within=10)
    assert [int(e.id) for e in backlog[:position]] == list(range(1, position + 1))
    assert [int(e.id) for e in events] == list(range(1, live + 1))
