"""`ledger audit verify|replay|export|digest` run on a hot standby, which refuses every write."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from ledger.cli import main
from ledger.runtime import running
from projections.runner import ProjectionRunner
from tests import pg
from tests.integration.audit.scenario import play_all
from tests.streaming import Pair

Cli = Callable[..., tuple[int, str, str]]


async def _populate_and_replicate(pair: Pair, database: str) -> int:
    """Play the audit scenario on the primary, follow it with the read models, and wait
    until the standby has replayed all of it; the head position."""
    dsn = pair.primary_dsn(database)
    async with running(dsn) as rt:
        head = await play_all(rt.ledger)
    runner = ProjectionRunner(dsn)
    try:
        await runner.catch_up()
    finally:
        await runner.close()
    primary = await asyncpg.connect(dsn)
    try:
        wanted = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
    finally:
        await primary.close()
    deadline = time.monotonic() + 30
    while not await _replayed(pair.standby_dsn(database), wanted):
        assert time.monotonic() < deadline, "the standby did not catch up"
        await asyncio.sleep(0.05)
    return head


async def _replayed(standby_dsn: str, lsn: str) -> bool:
    try:
        conn = await asyncpg.connect(standby_dsn)
    except asyncpg.InvalidCatalogNameError:  # the database itself is not replayed yet
        return False
    try:
        return bool(await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn))
    finally:
        await conn.close()


@pytest.fixture
def replicated(pair: Pair, template: str) -> Iterator[tuple[str, int]]:
    """A ledger database with history, replayed on the standby: (name, head position)."""
    database = asyncio.run(pg.create_database(pair.primary_dsn(), template))
    try:
        yield database, asyncio.run(_populate_and_replicate(pair, database))
    finally:
        asyncio.run(pg.drop_database(pair.primary_dsn(), database))


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `ledger audit ARGV...` with the given environment; exit code, stdout, stderr."""

    def run(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        for name in ("LEDGER_DATABASE_URL", "LEDGER_READ_DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr("ledger.cli.configure_logging", lambda _fmt: None)
        code = main(["audit", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _standby_env(pair: Pair, database: str) -> dict[str, str]:
    # The primary's URL is one that refuses every connection: nothing may reach for it.
    return {
        "LEDGER_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        "LEDGER_READ_DATABASE_URL": pair.standby_dsn(database),
    }


def test_verify_runs_on_the_standby(pair: Pair, replicated: tuple[str, int], ledger: Cli) -> None:
    database, head = replicated
    code, out, err = ledger(_standby_env(pair, database), "verify", "--standby")
    assert code == 0, err
    assert out.startswith(f"ok: verified positions 1 to {head}")
    assert f"reading from 127.0.0.1:{pair.standby_port}/{database}" in err


def test_export_from_the_standby_is_the_primarys_export(
    pair: Pair, replicated: tuple[str, int], ledger: Cli, tmp_path: Path
) -> None:
    database, head = replicated
    from_standby, from_primary = tmp_path / "standby.ndjson", tmp_path / "primary.ndjson"
    env = _standby_env(pair, database)
    assert ledger(env, "export", "--standby", "--out", str(from_standby))[0] == 0
    primary_env = {"LEDGER_DATABASE_URL": pair.primary_dsn(database)}
    assert ledger(primary_env, "export", "--out", str(from_primary))[0] == 0
    assert len(from_standby.read_bytes().splitlines()) == head
    assert from_standby.read_bytes() == from_primary.read_bytes()


def test_replay_and_compare_run_on_the_standby(
    pair: Pair, replicated: tuple[str, int], ledger: Cli, tmp_path: Path
) -> None:
    database, _ = replicated
    env = _standby_env(pair, database)
    out = tmp_path / "state.json"
    assert ledger(env, "replay", "--standby", "--to-position", "13", "--out", str(out))[0] == 0
    assert '"position":13' in out.read_text().replace(" ", "")
    code, text, err = ledger(env, "replay", "--standby", "--compare")
    assert code == 0, err
    assert "the live read models equal the replay" in text


def test_replay_in_two_processes_on_the_standby_writes_the_primarys_state(
    pair: Pair,
    replicated: tuple[str, int],
    ledger: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second process imports a snapshot the first exported on the standby."""
    database, head = replicated
    on_primary, on_standby = tmp_path / "primary.json", tmp_path / "standby.json"
    primary_env = {"LEDGER_DATABASE_URL": pair.primary_dsn(database)}
    to = ("--to-position", str(head))
    assert ledger(primary_env, "replay", *to, "--out", str(on_primary))[0] == 0
    monkeypatch.setattr("ledger.audit.replay_parts.PARTS_FROM", 0)
    env = _standby_env(pair, database)
    code, _, err = ledger(env, "replay", "--standby", *to, "--out", str(on_standby))
    assert code == 0, err
    assert on_standby.read_bytes() == on_primary.read_bytes()


def test_a_standby_dsn_as_the_database_url_works_as_well(
    pair: Pair, replicated: tuple[str, int], ledger: Cli
) -> None:
    database, head = replicated
    code, out, _ = ledger({"LEDGER_DATABASE_URL": pair.standby_dsn(database)}, "digest")
    assert code == 0
    assert out.startswith(f"{head}:")


def test_standby_without_a_read_database_url_is_refused_saying_why(ledger: Cli) -> None:
    code, _, err = ledger(
        {"LEDGER_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}, "verify", "--standby"
    )
    assert code == 2
    assert "LEDGER_READ_DATABASE_URL, which is not set" in err


def test_the_reading_commands_cannot_write_even_on_the_primary(db_dsn: str) -> None:
    from ledger.audit.actions import _connection

    async def write() -> None:
        async with _connection(db_dsn) as conn:
            await conn.execute("CREATE TABLE audit_must_not_write (x int)")

    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        asyncio.run(write())
