"""`ledger audit replay --compare` recomputes every filed statement and checks its digest."""

from __future__ import annotations

import asyncio
import re

import pytest

from ledger.cli import main
from ledger.runtime import running
from projections.runner import ProjectionRunner
from tests.factory import envelope, posted
from tests.integration.audit import tamper
from tests.integration.audit.scenario import GUARANTOR, play_all


async def _caught_up(dsn: str) -> None:
    runner = ProjectionRunner(dsn)
    try:
        await runner.catch_up()
    finally:
        await runner.close()


def _populate_with_a_filing(dsn: str) -> int:
    """The scenario, its read models caught up, then the guarantor's 2025 statement filed;
    the filing's position. (The filing waits for the movements read model to hold the log.)"""

    async def go() -> int:
        async with running(dsn) as rt:
            await play_all(rt.ledger)
        await _caught_up(dsn)
        filing = envelope(
            "statement.filed",
            {"institution_id": GUARANTOR.institution_id, "from": "2025-01-01", "to": "2025-12-31"},
        )
        async with running(dsn) as rt:
            result = await rt.ledger.post(posted(filing), GUARANTOR)
        await _caught_up(dsn)
        return result.receipts[0].position

    return asyncio.run(go())


def _compare(
    dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    capsys.readouterr()
    monkeypatch.setenv("LEDGER_DATABASE_URL", dsn)
    monkeypatch.setattr("ledger.cli.configure_logging", lambda _fmt: None)
    code = main(["audit", "replay", "--compare"])
    return code, capsys.readouterr().out


def test_compare_says_every_filed_statement_recomputes_to_its_digest(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate_with_a_filing(db_dsn)
    code, out = _compare(db_dsn, monkeypatch, capsys)
    assert code == 0
    assert "every filed statement recomputes to its digest (1 checked)" in out


def test_compare_names_a_filing_whose_digest_the_log_no_longer_gives(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    position = _populate_with_a_filing(db_dsn)

    async def forge() -> str:
        async with tamper.superuser(db_dsn) as su:
            body = await tamper.body_at(su, position)
            found = re.search(rb'"digest":"([0-9a-f]{64})"', body)
            assert found is not None
            await tamper.change_body(su, position, found.group(1), b"0" * 64)
            await tamper.reseal(su, fingerprints=False)  # the chain recomputed, as a forger would
            return found.group(1).decode()

    recomputed = asyncio.run(forge())
    code, out = _compare(db_dsn, monkeypatch, capsys)
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == (
        f"statement.filed at position {position} ({GUARANTOR.institution_id}, 2025-01-01 to "
        f"2025-12-31): recomputes to digest {recomputed}, not the {'0' * 64} it was filed with"
    )
    assert lines[-1].startswith("1 differences (")
