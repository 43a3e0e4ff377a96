"""Finding a PostgreSQL for the tests, and giving each test a fresh migrated database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ledger.store.migrate import migrate
from tests.db_supply import DatabaseSupply


def with_database(dsn: str, name: str) -> str:
    """The same server DSN pointing at database `name`."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(
            ["docker", "info"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """An admin DSN: LEDGER_TEST_DSN, else a testcontainers PostgreSQL, else the embedded one."""
    configured = os.environ.get("LEDGER_TEST_DSN")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    from ledger.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(workdir / "pg")
    try:
        yield server.start()
    finally:
        server.stop()


async def create_template(admin_dsn: str) -> str:
    """A migrated template database for this test run; returns its name."""
    name = f"ledger_tpl_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(with_database(admin_dsn, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return name


_supplies: dict[tuple[str, str], DatabaseSupply] = {}


def supply_ahead(admin_dsn: str, template: str) -> DatabaseSupply:
    """Make clones of `template` ahead of time, for `create_database` to hand out.

    The caller closes the supply when the test run ends (it drops what is left).
    """
    supply = DatabaseSupply(
        lambda: clone_database(admin_dsn, template), lambda name: drop_database(admin_dsn, name)
    )
    _supplies[(admin_dsn, template)] = supply
    return supply


def end_supply(admin_dsn: str, template: str) -> None:
    """Stop making clones of `template`, and drop those never handed out."""
    supply = _supplies.pop((admin_dsn, template), None)
    if supply is not None:
        supply.close()


async def create_database(admin_dsn: str, template: str) -> str:
    """A fresh database cloned from the template (made ahead when supplied); returns its name."""
    supply = _supplies.get((admin_dsn, template))
    if supply is not None:
        return await asyncio.to_thread(supply.take)
    return await clone_database(admin_dsn, template)


async def clone_database(admin_dsn: str, template: str) -> str:
    """A database cloned from the template now; returns its name."""
    name = f"ledger_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    finally:
        await admin.close()
    return name


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop a test database, closing whatever still uses it."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fetch_rows(dsn: str, query: str, *args: object) -> list[tuple[object, ...]]:
    """The rows of `query` on `dsn` as tuples, on a connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r.values()) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()
