"""Commands that read an existing ledger say so when there is none, and create nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ledger.cli import main
from ledger.runtime import Runtime
from tests import pg
from tests.factory import ADMIN, institution, posted


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[int, str]:
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture
async def empty_dsn(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A database that holds no ledger (template0: nothing migrated)."""
    name = await pg.create_database(pg_admin_dsn, "template0")
    yield pg.with_database(pg_admin_dsn, name)
    await pg.drop_database(pg_admin_dsn, name)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--url", "http://127.0.0.1:9", "--key", "lk_x_y"],
        ["audit", "verify"],
        ["audit", "replay", "--to-position", "1"],
        ["keys", "list"],
        ["projections", "rebuild"],
        ["project"],
    ],
)
def test_a_directory_without_a_store_is_named_and_left_empty(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "store"))
    code, err = _run(args, monkeypatch, capsys)
    assert code != 0
    assert f"no ledger store in {tmp_path / 'store'}" in err
    assert not (tmp_path / "store").exists()


def test_the_demo_on_a_database_without_a_ledger_says_so(
    empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", empty_dsn)
    code, err = _run(["demo", "--url", "http://127.0.0.1:9"], monkeypatch, capsys)
    assert code != 0
    assert "this database holds no ledger yet" in err
    assert "w_institutions" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "list"],
        ["keys", "revoke", "0123456789abcdef"],
        ["projections", "rebuild"],
        ["project"],
        ["log-key"],
        ["audit", "checkpoint"],
    ],
)
async def test_a_database_without_a_ledger_is_named_in_one_line_and_left_empty(
    args: list[str], empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", empty_dsn)
    code, err = await asyncio.to_thread(_run, args, monkeypatch, capsys)
    assert code == 1
    assert "ledger: error: this database holds no ledger yet" in err
    conn = await asyncpg.connect(empty_dsn)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        )
    finally:
        await conn.close()
    assert tables == 0


async def test_an_import_makes_the_store_it_loads_into(
    runtime: Runtime, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`ledger audit import` into a directory without a store: the one command that makes
    a ledger from a file makes the store too (it said 'no ledger store')."""
    await runtime.ledger.post(posted(institution("B-1"), institution("B-2")), ADMIN)
    export = tmp_path / "ledger.ndjson"
    monkeypatch.setenv("LEDGER_DATABASE_URL", runtime.dsn)
    code, err = await asyncio.to_thread(
        _run, ["audit", "export", "--out", str(export)], monkeypatch, capsys
    )
    assert code == 0, err
    monkeypatch.delenv("LEDGER_DATABASE_URL")
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(key_file))
    code, err = await asyncio.to_thread(_run, ["audit", "import", str(export)], monkeypatch, capsys)
    assert code == 0, err
    code, err = await asyncio.to_thread(_run, ["audit", "verify"], monkeypatch, capsys)
    assert code == 0, err
    assert "verified 2 events" in err
