"""The books as of a business date, replayed with no database: over HTTP or from an export,
byte for byte what the DSN replay writes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from events import payloads as p
from ledger.audit.remote_replay import replay_export, replay_remote
from ledger.remote import Ledger
from ledger.runtime import Runtime
from ledger.tlog.keys import Signer
from tests.e2e.conftest import Keys
from tests.e2e.ledger_cli import run_ledger
from tests.e2e.test_audit_replay_url import (
    _auditor,
    _bytes,
    _dsn_replay,
    _export,
    _url,
    replayed_three_ways,
)
from tests.e2e.witnesses import checkpoint_of
from tests.integration.business.scenario import post_dated, seed_dated, year
from tests.unit.rules.world import BANK, GUAR, issued, key

Client = TestClient[Any, Any]

JUNE = dt.date(2025, 6, 30)
DATES = (dt.date(2025, 1, 2), JUNE, dt.date(2026, 12, 31))
"""Only the registrations; half the year with a late report; everything."""


async def _dated(runtime: Runtime, client: Client, keys: Keys) -> dt.datetime:
    """A year of business in which a June repayment is reported after the autumn's events,
    and the log ends with events dated after June; the moment before that late report."""
    await seed_dated(runtime)
    events = year()
    await post_dated(runtime, events[:5])
    before_late = runtime.ledger.now()  # by the clock posts are recorded by
    late = p.LoanRepaid(guarantee_id="G-2", amount=50_000_000)
    await post_dated(runtime, [(late, key(BANK), "2025-06-20T10:00:00+08:00")])
    positions = await post_dated(runtime, events[5:])
    await checkpoint_of(client, await keys.role("reader"), positions[-1])
    return before_late


async def test_replay_over_http_as_of_a_business_date_equals_the_dsn_replay(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    await _dated(runtime, client, keys)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        for day in DATES:
            fold = await replay_remote(ledger, log_signer.verifier(), business_date=day)
            assert _bytes(fold) == await _dsn_replay(runtime, business_date=day), day


async def test_replay_over_http_as_known_before_a_late_report_leaves_it_out(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    before_late = await _dated(runtime, client, keys)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        then = await replay_remote(
            ledger, log_signer.verifier(), business_date=JUNE, as_of=before_late
        )
        now = await replay_remote(ledger, log_signer.verifier(), business_date=JUNE)
    assert _bytes(then) == await _dsn_replay(runtime, business_date=JUNE, as_of=before_late)
    balances = [fold.guarantee_summary("G-2") for fold in (then, now)]
    assert [b["balance"] if b else None for b in balances] == [400_000_000, 350_000_000]


async def test_replay_from_an_export_as_of_a_business_date_equals_the_dsn_replay(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    before_late = await _dated(runtime, client, keys)
    source = await _export(runtime)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        for day in DATES:
            fold = await replay_export(
                io.BytesIO(source), ledger=ledger, log_key=log_signer.verifier(), business_date=day
            )
            assert _bytes(fold) == await _dsn_replay(runtime, business_date=day), day
    alone = await replay_export(io.BytesIO(source), business_date=JUNE, as_of=before_late)
    assert _bytes(alone) == await _dsn_replay(runtime, business_date=JUNE, as_of=before_late)


async def test_the_commands_write_the_books_of_a_business_date_as_the_dsn_replay_does(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer, db_dsn: str, tmp_path: Path
) -> None:
    before_late = await _dated(runtime, client, keys)
    point = ["--business-date", JUNE.isoformat(), "--known-at", before_late.isoformat()]
    dsn, over_http, from_file = await replayed_three_ways(
        point, runtime, client, keys, log_signer, db_dsn, tmp_path
    )
    assert (dsn.code, over_http.code, from_file.code) == (0, 0, 0), dsn.err + from_file.err
    assert over_http.out == dsn.out
    assert from_file.out == dsn.out
    assert '"G-2"' in dsn.out


async def test_a_business_date_before_what_its_events_refer_to_is_refused_as_with_a_dsn(
    runtime: Runtime, db_dsn: str, tmp_path: Path
) -> None:
    await seed_dated(runtime)
    # Issued on 2024-12-01 under a program registered on 2025-01-02 (business time).
    await post_dated(runtime, [(issued("G-9"), key(GUAR), "2024-12-01T10:00:00+08:00")])
    export = tmp_path / "log.ndjson"
    export.write_bytes(await _export(runtime))
    point = ["--business-date", "2024-12-31"]
    dsn = await run_ledger("audit", "replay", *point, LEDGER_DATABASE_URL=db_dsn)
    from_file = await run_ledger("audit", "replay", *point, "--from-export", str(export))
    assert (dsn.code, from_file.code) == (1, 1)
    assert "choose a later --business-date" in dsn.err
    assert from_file.err.splitlines()[-1] == dsn.err.splitlines()[-1]


@pytest.mark.parametrize(
    ("point", "said"),
    [
        (["--known-at", "2025-06-30T00:00:00+08:00"], "--known-at goes with --business-date"),
        (["--business-date", "2025-06-30", "--to-position", "3"], "not --to-position"),
    ],
)
async def test_the_remote_replay_refuses_what_the_dsn_replay_refuses(
    tmp_path: Path, point: list[str], said: str
) -> None:
    export = tmp_path / "log.ndjson"
    export.write_bytes(b"")
    ran = await run_ledger("audit", "replay", *point, "--from-export", str(export))
    assert ran.code == 2
    assert said in ran.err
