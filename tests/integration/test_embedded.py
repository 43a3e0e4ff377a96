"""The embedded PostgreSQL keeps the ledger's data across restarts."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

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
