"""The embedded PostgreSQL keeps the ledger's data across restarts."""

import asyncio
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog

from ledger.cli import main
from ledger.config import ENV_VARS, Settings
from ledger.embedded import EmbeddedPostgres, EmbeddedPostgresError, create_database


async def _execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _fetch_names(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [row["name"] for row in await conn.fetch("SELECT name FROM kept ORDER BY name")]
    finally:
        await conn.close()


def test_rows_survive_a_stop_and_start_in_the_same_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-made" / "data"
    with EmbeddedPostgres(data_dir) as pg:
        asyncio.run(
            _execute(
                pg.dsn,
                "CREATE TABLE kept (name text PRIMARY KEY)",
                "INSERT INTO kept VALUES ('guarantee-1')",
            )
        )
    assert (data_dir / "pg" / "PG_VERSION").exists()

    with EmbeddedPostgres(data_dir) as pg:
        assert asyncio.run(_fetch_names(pg.dsn)) == ["guarantee-1"]


def test_stop_shuts_the_server_down(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path)
    dsn = pg.start()
    pg.stop()
    pg.stop()  # idempotent
    assert not pg.running
    with pytest.raises(EmbeddedPostgresError):
        pg.dsn  # noqa: B018
    with pytest.raises(OSError):
        asyncio.run(_execute(dsn, "SELECT 1"))


def test_a_second_handle_keeps_the_server_up_for_the_first(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path) as first:
        with EmbeddedPostgres(tmp_path) as second:
            assert second.dsn == first.dsn
        asyncio.run(_execute(first.dsn, "SELECT 1"))


def test_create_database_clones_a_template_and_is_idempotent(tmp_path: Path) -> None:
    async def scenario(dsn: str) -> list[str]:
        template = await create_database(dsn, "ledger_template")
        await _execute(
            template, "CREATE TABLE kept (name text)", "INSERT INTO kept VALUES ('seed')"
        )
        clone = await create_database(dsn, "ledger test 1", template="ledger_template")
        assert clone == await create_database(dsn, "ledger test 1")
        return await _fetch_names(clone)

    with EmbeddedPostgres(tmp_path) as pg:
        assert asyncio.run(scenario(pg.dsn)) == ["seed"]


@pytest.fixture
def serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Environment for `ledger serve` on an embedded store in tmp_path; logging restored."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path / "data"
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _install_service(monkeypatch: pytest.MonkeyPatch, run_service: object) -> None:
    module = types.ModuleType("ledger.service")
    module.run_service = run_service  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ledger.service", module)


def test_serve_without_database_url_uses_the_embedded_store_and_stops_it_on_ctrl_c(
    serve_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsns: list[str] = []

    async def interrupted_service(settings: Settings, dsn: str) -> None:
        assert settings.data_dir == serve_env
        dsns.append(dsn)
        await _execute(dsn, "CREATE TABLE kept (name text)", "INSERT INTO kept VALUES ('g-1')")
        raise KeyboardInterrupt  # what Ctrl-C does to a service without its own handler

    _install_service(monkeypatch, interrupted_service)
    assert main(["serve"]) == 130
    with pytest.raises(OSError):  # the embedded server was stopped
        asyncio.run(_execute(dsns[0], "SELECT 1"))

    async def reading_service(settings: Settings, dsn: str) -> None:
        dsns.append(dsn)
        assert await _fetch_names(dsn) == ["g-1"]

    _install_service(monkeypatch, reading_service)
    assert main(["serve", "--port", "8181"]) == 0
    assert len(dsns) == 2
    with pytest.raises(OSError):
        asyncio.run(_execute(dsns[1], "SELECT 1"))
