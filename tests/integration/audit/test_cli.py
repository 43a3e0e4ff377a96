"""`ledger audit ...` end to end against a real PostgreSQL, as an auditor runs it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from ledger.cli import main
from ledger.runtime import running
from projections.runner import ProjectionRunner
from tests.integration.audit import tamper
from tests.integration.audit.scenario import play_all


def _populate(dsn: str, *, follow: bool = False) -> int:
    async def go() -> int:
        async with running(dsn) as rt:
            head = await play_all(rt.ledger)
        if follow:
            runner = ProjectionRunner(dsn)
            try:
                await runner.catch_up()
            finally:
                await runner.close()
        return head

    return asyncio.run(go())


def _head_hash(dsn: str) -> str:
    async def go() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            value = await conn.fetchval("SELECT hash FROM event_log ORDER BY position DESC LIMIT 1")
        finally:
            await conn.close()
        return bytes(value).hex()

    return asyncio.run(go())


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `ledger audit ARGV...` on a database; return exit code, stdout and stderr."""

    def run(dsn: str, *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()  # drop what setting up the ledger logged
        monkeypatch.setenv("LEDGER_DATABASE_URL", dsn)
        # Logging set-up outlives the test and would keep writing to its captured stderr.
        monkeypatch.setattr("ledger.cli.configure_logging", lambda _fmt: None)
        code = main(["audit", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_digest_prints_the_head_position_and_its_hash(db_dsn: str, ledger: Cli) -> None:
    head = _populate(db_dsn)
    code, out, _ = ledger(db_dsn, "digest")
    assert (code, out) == (0, f"{head}:{_head_hash(db_dsn)}\n")


def test_verify_exits_zero_on_an_untouched_ledger(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)
    code, out, _ = ledger(db_dsn, "verify")
    assert code == 0
    assert out.startswith("ok: verified positions 1 to 22")


def test_verify_exits_one_naming_a_changed_event(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)

    async def change() -> None:
        async with tamper.superuser(db_dsn) as su:
            await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":4')

    asyncio.run(change())
    code, out, _ = ledger(db_dsn, "verify", "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["first_bad_position"]) == (1, False, 14)


def test_a_failing_verify_closes_on_stderr_with_not_ok_and_the_good_events_counted(
    db_dsn: str, ledger: Cli
) -> None:
    _populate(db_dsn)

    async def change() -> None:
        async with tamper.superuser(db_dsn) as su:
            await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":4')

    asyncio.run(change())
    code, _, err = ledger(db_dsn, "verify")
    closing = err.strip().splitlines()[-1]
    assert code == 1
    assert closing.startswith("NOT OK after 13 good events (")
    assert not closing.endswith(" 0 events/s)")


def test_verify_with_a_digest_that_does_not_hold_exits_one(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)
    code, out, _ = ledger(db_dsn, "verify", "--digest", "5:" + "ab" * 32)
    assert code == 1
    assert "first bad position 5 (digest-mismatch)" in out


def test_through_before_the_digests_position_is_a_usage_error(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)
    code, out, err = ledger(db_dsn, "verify", "--through", "3", "--digest", "5:" + "ab" * 32)
    assert (code, out) == (2, "")
    assert "--through 3 stops before the digest's position 5" in err


def test_through_zero_is_a_usage_error(db_dsn: str, ledger: Cli) -> None:
    code, out, err = ledger(db_dsn, "verify", "--through", "0")
    assert (code, out) == (2, "")
    assert "positions start at 1" in err


def test_a_malformed_digest_is_a_usage_error(db_dsn: str, ledger: Cli) -> None:
    code, _, err = ledger(db_dsn, "verify", "--digest", "5")
    assert code == 2
    assert "POSITION:HASH" in err


def test_export_then_import_into_another_database_gives_the_same_head_hash(
    db_dsn: str, other_dsn: str, ledger: Cli, tmp_path: Path
) -> None:
    _populate(db_dsn)
    exported = tmp_path / "ledger.ndjson"
    assert ledger(db_dsn, "export", "--out", str(exported))[0] == 0
    # A ledger never served with a signing key has no log to end its export with.
    code, _, err = ledger(other_dsn, "import", str(exported))
    assert code == 1
    assert "--without-log" in err
    assert ledger(other_dsn, "import", str(exported), "--without-log")[0] == 0
    assert _head_hash(other_dsn) == _head_hash(db_dsn)
    assert len(exported.read_bytes().splitlines()) == 22


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_an_empty_file_is_no_export_to_import(
    other_dsn: str, ledger: Cli, tmp_path: Path, content: bytes
) -> None:
    """A backup that failed (a file of nothing) does not restore as an empty ledger."""
    empty = tmp_path / "ledger.ndjson"
    empty.write_bytes(content)
    code, _, err = ledger(other_dsn, "import", str(empty))
    assert code == 1
    assert "holds no event and no log line" in err
    assert ledger(other_dsn, "import", str(empty), "--without-log")[0] == 0


def test_import_into_a_ledger_with_events_exits_one_and_says_why(
    db_dsn: str, ledger: Cli, tmp_path: Path
) -> None:
    _populate(db_dsn)
    exported = tmp_path / "ledger.ndjson"
    assert ledger(db_dsn, "export", "--out", str(exported))[0] == 0
    code, _, err = ledger(db_dsn, "import", str(exported))
    assert code == 1
    assert "not empty" in err


def test_replay_to_a_position_writes_every_read_model_as_it_stood_then(
    db_dsn: str, ledger: Cli, tmp_path: Path
) -> None:
    _populate(db_dsn)
    out = tmp_path / "state.json"
    assert ledger(db_dsn, "replay", "--to-position", "13", "--out", str(out))[0] == 0
    state = json.loads(out.read_text())
    assert state["position"] == 13
    assert list(state["read_models"]["guarantees"]) == ["guarantee:G-1"]
    assert set(state["read_models"]) == {
        "claims",
        "guarantees",
        "institutions",
        "movements",
        "programs",
        "sme_exposure",
    }


def test_replay_in_two_processes_writes_the_same_file_and_leaves_nothing_beside_it(
    db_dsn: str, ledger: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db_dsn)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, two = tmp_path / "one" / "state.json", tmp_path / "two" / "state.json"
    assert ledger(db_dsn, "replay", "--to-position", "20", "--out", str(one))[0] == 0
    monkeypatch.setattr("ledger.audit.replay_parts.PARTS_FROM", 0)
    assert ledger(db_dsn, "replay", "--to-position", "20", "--out", str(two))[0] == 0
    assert two.read_bytes() == one.read_bytes()
    assert list((tmp_path / "two").iterdir()) == [two]


def test_replay_in_two_processes_to_stdout_writes_the_same_state(
    db_dsn: str, ledger: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db_dsn)
    code, alone, _ = ledger(db_dsn, "replay", "--to-position", "20")
    monkeypatch.setattr("ledger.audit.replay_parts.PARTS_FROM", 0)
    assert ledger(db_dsn, "replay", "--to-position", "20")[:2] == (code, alone)


def test_replay_into_a_missing_directory_says_so_before_folding(
    db_dsn: str, ledger: Cli, tmp_path: Path
) -> None:
    _populate(db_dsn)
    out = tmp_path / "missing" / "state.json"
    code, _, err = ledger(db_dsn, "replay", "--to-position", "13", "--out", str(out))
    assert (code, err) == (1, f"ledger: error: cannot write {out}: No such file or directory\n")


def test_replay_onto_a_full_device_says_it_has_no_room(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)
    code, _, err = ledger(db_dsn, "replay", "--to-position", "13", "--out", "/dev/full")
    assert (code, err) == (1, "ledger: error: cannot write /dev/full: No space left on device\n")


def test_export_into_a_missing_directory_says_so(db_dsn: str, ledger: Cli, tmp_path: Path) -> None:
    _populate(db_dsn)
    out = tmp_path / "missing" / "ledger.ndjson"
    code, _, err = ledger(db_dsn, "export", "--out", str(out))
    assert (code, err) == (1, f"ledger: error: cannot write {out}: No such file or directory\n")


def test_replay_as_of_a_moment_before_the_first_event_is_empty(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)
    code, out, _ = ledger(db_dsn, "replay", "--as-of", "2000-01-01T00:00:00")
    assert (code, json.loads(out)["position"]) == (0, 0)


def test_replay_compare_exits_zero_when_the_live_read_models_agree(
    db_dsn: str, ledger: Cli
) -> None:
    _populate(db_dsn, follow=True)
    code, out, _ = ledger(db_dsn, "replay", "--compare")
    assert code == 0
    assert "the live read models equal the replay" in out


def test_replay_compare_closes_each_of_its_two_passes_with_its_own_rate(
    db_dsn: str, ledger: Cli
) -> None:
    _populate(db_dsn, follow=True)
    _, _, err = ledger(db_dsn, "replay", "--compare")
    closing = [line.split(" (")[0] for line in err.splitlines() if "events/s)" in line]
    assert closing == ["read models replayed", "statement and as-of rows replayed"]


def test_replay_needs_a_position_a_moment_or_compare(db_dsn: str, ledger: Cli) -> None:
    code, _, err = ledger(db_dsn, "replay")
    assert code == 2  # a usage error, never the 1 of differences found
    assert "--to-position" in err


def test_replay_compare_to_a_position_is_a_usage_error(db_dsn: str, ledger: Cli) -> None:
    code, _, err = ledger(db_dsn, "replay", "--compare", "--to-position", "5")
    assert code == 2
    assert "--compare replays to the positions the live read models reflect" in err


def test_replay_as_of_a_business_date_folds_only_the_events_dated_up_to_it(
    db_dsn: str, ledger: Cli, tmp_path: Path
) -> None:
    _populate(db_dsn)
    out = tmp_path / "state.json"
    # Every event of the scenario defaults to its recording time, today or later.
    code, _, _ = ledger(db_dsn, "replay", "--business-date", "2020-01-01", "--out", str(out))
    assert code == 0
    state = json.loads(out.read_text())
    assert state["read_models"]["guarantees"] == {}


def test_known_at_without_a_business_date_is_refused(db_dsn: str, ledger: Cli) -> None:
    code, _, err = ledger(db_dsn, "replay", "--known-at", "2025-01-01T00:00:00+08:00")
    assert code == 2
    assert "--business-date" in err


def test_decisions_exits_zero_when_the_decision_state_equals_the_log_decided_again(
    db_dsn: str, ledger: Cli
) -> None:
    head = _populate(db_dsn)
    code, out, err = ledger(db_dsn, "decisions")
    assert code == 0
    assert out == (
        f"ok: {head} events decided again as stored ({head} sealed, 0 not yet); "
        "the decision state equals the fold\n"
    )
    assert f"decided {head} events" in err


def test_decisions_exits_one_naming_each_row_that_differs(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn)

    async def change() -> None:
        async with tamper.superuser(db_dsn) as su:
            await su.execute("UPDATE w_claims SET guarantee_id = 'G-2' WHERE claim_id = 'C-1'")

    asyncio.run(change())
    code, out, _ = ledger(db_dsn, "decisions")
    assert (code, out.splitlines()) == (
        1,
        [
            "w_claims C-1 guarantee_id: stored 'G-2', decided 'G-1'",
            "NOT OK: 1 difference in the decision state",
        ],
    )


def test_replay_compare_exits_one_naming_a_changed_statement_row(db_dsn: str, ledger: Cli) -> None:
    _populate(db_dsn, follow=True)

    async def change() -> int:
        conn = await asyncpg.connect(db_dsn)
        try:
            position: int = await conn.fetchval(
                """UPDATE proj_movement_rows SET share = share + 1
                    WHERE ctid = (SELECT ctid FROM proj_movement_rows
                                   ORDER BY position DESC, institution_id LIMIT 1)
                RETURNING position"""
            )
        finally:
            await conn.close()
        return position

    position = asyncio.run(change())
    code, out, _ = ledger(db_dsn, "replay", "--compare")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f"proj_movement_rows position {position} row: live (")
    assert lines[1].startswith(f"proj_movement_rows position {position} row: live absent")
    assert lines[-1].startswith("2 differences (")


def test_replay_compare_exits_one_naming_a_changed_daily_total_of_the_as_of_model(
    db_dsn: str, ledger: Cli
) -> None:
    """The as-of read model's daily totals are documents a replay does not fold: compared
    all the same, one figure changed is named by its key and path."""
    _populate(db_dsn, follow=True)

    async def change() -> str:
        conn = await asyncpg.connect(db_dsn)
        try:
            key: str = await conn.fetchval(
                """SELECT key FROM proj_as_of WHERE key LIKE 'daily:%'
                    ORDER BY key COLLATE "C" LIMIT 1"""
            )
            doc = json.loads(await conn.fetchval("SELECT doc FROM proj_as_of WHERE key = $1", key))
            doc["_tampered"] = 1
            await conn.execute(
                "UPDATE proj_as_of SET doc = $2::jsonb WHERE key = $1", key, json.dumps(doc)
            )
        finally:
            await conn.close()
        return key

    key = asyncio.run(change())
    code, out, _ = ledger(db_dsn, "replay", "--compare")
    assert code == 1
    assert f"as_of {key} $._tampered: live 1, replayed absent" in out.splitlines()
    assert out.splitlines()[-1].startswith("1 differences (")
