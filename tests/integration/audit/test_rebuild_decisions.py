"""`ledger audit decisions --rebuild`: the decision state written again from the log, all
or nothing, with the service stopped; the log itself untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ledger.audit.decisions import decide_again
from ledger.audit.rebuild_decisions import DECISION_TABLES, RebuildRefused, rebuild_decisions
from ledger.runtime import running
from ledger.tlog.keys import Signer
from tests.factory import posted
from tests.integration.audit.scenario import GUARANTOR
from tests.integration.audit.tamper import past_triggers
from tests.integration.audit.test_decisions import (
    CAP,
    _as_superuser,
    _history,
    _issued,
)
from tests.pg import fetch_rows

_LOG = "SELECT count(*), max(position) FROM event_log"
_CHECKPOINTS = "SELECT size, note FROM log_checkpoints ORDER BY size"
LOWERED = "UPDATE w_guarantees SET balance = 1 WHERE guarantee_id = 'G-3'"
"""G-3's in-force balance hidden, as under the cap check."""


async def _rebuild(dsn: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await rebuild_decisions(conn)
    finally:
        await conn.close()


async def _same_as_the_log(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return (await decide_again(conn)).same
    finally:
        await conn.close()


async def _stopped_history(db_dsn: str, log_signer: Signer) -> None:
    """The scenario posted by a ledger that is then stopped, as the rebuild wants."""
    async with running(db_dsn, signer=log_signer) as rt:
        await _history(rt)


async def test_rows_that_differ_from_the_log_are_written_again(
    db_dsn: str, log_signer: Signer
) -> None:
    await _stopped_history(db_dsn, log_signer)
    log, checkpoints = await fetch_rows(db_dsn, _LOG), await fetch_rows(db_dsn, _CHECKPOINTS)
    await past_triggers(db_dsn, LOWERED)
    await past_triggers(db_dsn, "DELETE FROM w_breakers")
    await past_triggers(db_dsn, "INSERT INTO w_claims VALUES ('C-9', 'G-3')")
    await past_triggers(db_dsn, "UPDATE w_program_volume SET volume = volume + 7")
    await past_triggers(
        db_dsn, "UPDATE streams SET version = version + 1 WHERE stream_id LIKE 'g%'"
    )
    rebuilt = await _rebuild(db_dsn)
    changed = {(d.table, d.key, d.column) for d in rebuilt.differences}
    assert ("w_guarantees", "G-3", "balance") in changed
    assert ("w_claims", "C-9", "row") in changed
    assert {d.table for d in rebuilt.differences} >= {"w_breakers", "w_program_volume", "streams"}
    assert await _same_as_the_log(db_dsn)
    assert await fetch_rows(db_dsn, _LOG) == log
    assert await fetch_rows(db_dsn, _CHECKPOINTS) == checkpoints


async def test_a_guarantee_kept_without_its_terms_gets_those_it_was_issued_under(
    db_dsn: str, log_signer: Signer
) -> None:
    """A row written by a release that kept no terms per guarantee (an upgraded store): the
    service would split its losses by the program's current caps, the log by its own."""
    await _stopped_history(db_dsn, log_signer)
    without_terms = """convert_to((convert_from(doc, 'UTF8')::jsonb
                          || '{"compensation_caps_bp": null, "max_term_months": null}')::text,
                         'UTF8')"""
    await past_triggers(db_dsn, f"UPDATE w_guarantees SET doc = {without_terms}")
    rebuilt = await _rebuild(db_dsn)
    assert "doc.compensation_caps_bp" in {d.column for d in rebuilt.differences}
    [(doc,)] = await fetch_rows(db_dsn, "SELECT doc FROM w_guarantees WHERE guarantee_id = 'G-3'")
    terms = json.loads(bytes(doc))
    assert terms["compensation_caps_bp"] is not None
    assert terms["max_term_months"] is not None
    assert await _same_as_the_log(db_dsn)


async def test_a_state_equal_to_the_log_is_not_written(db_dsn: str, log_signer: Signer) -> None:
    await _stopped_history(db_dsn, log_signer)
    versions = "SELECT guarantee_id, xmin::text FROM w_guarantees ORDER BY guarantee_id"
    before = await fetch_rows(db_dsn, versions)
    rebuilt = await _rebuild(db_dsn)
    assert rebuilt.differences == []
    assert await fetch_rows(db_dsn, versions) == before


async def test_a_running_service_is_not_rebuilt_under(db_dsn: str, log_signer: Signer) -> None:
    async with running(db_dsn, signer=log_signer) as rt:
        await _history(rt)
        await past_triggers(db_dsn, LOWERED)
        with pytest.raises(RebuildRefused, match="a `ledger serve` is running"):
            await _rebuild(db_dsn)
    balance = "SELECT balance FROM w_guarantees WHERE guarantee_id = 'G-3'"
    assert await fetch_rows(db_dsn, balance) == [(1,)]


async def test_a_log_the_rules_refuse_is_not_rebuilt(db_dsn: str, log_signer: Signer) -> None:
    """An issuance let past the cap by a hidden balance: no state follows from that log, and
    the stored one is left as it is."""
    async with running(db_dsn, signer=log_signer) as rt:
        await _history(rt)
        await _as_superuser(rt, "UPDATE w_guarantees SET balance = 0 WHERE guarantee_id = 'G-3'")
        let_in = await rt.ledger.post(posted(_issued("G-4", CAP - 500_000_000)), GUARANTOR)
    position = let_in.receipts[0].position
    state = "SELECT guarantee_id, balance FROM w_guarantees ORDER BY guarantee_id"
    before = await fetch_rows(db_dsn, state)
    with pytest.raises(RebuildRefused, match=f"position {position} .*409 cap-exceeded"):
        await _rebuild(db_dsn)
    assert await fetch_rows(db_dsn, state) == before


def test_the_command_rebuilds_and_says_what_changed(
    db_dsn: str, log_signer: Signer, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    import asyncio

    from ledger.cli import main

    asyncio.run(_stopped_history(db_dsn, log_signer))
    asyncio.run(
        past_triggers(db_dsn, LOWERED)
    )
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_dsn)
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    assert main(["audit", "decisions", "--rebuild"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt: w_guarantees G-3 balance: stored 1, decided 1000000000" in out
    assert "ok: the decision state is rebuilt from" in out
    assert main(["audit", "decisions"]) == 0


async def test_every_table_of_the_decision_state_is_rewritten(db_dsn: str) -> None:
    """The tables the rebuild truncates are all the w_* tables the schema has: one left out
    would keep rows no longer the log's beside those written again."""
    rows = await fetch_rows(db_dsn, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'w\\_%'")
    assert set(DECISION_TABLES) == {name for (name,) in rows}
