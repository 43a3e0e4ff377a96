"""Shared fixtures: a real PostgreSQL per test run, a fresh database per test."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog
from hypothesis import settings

from bench.service import Service
from ledger.runtime import Runtime, running
from ledger.store.identity import establish
from ledger.tlog.keys import Signer
from tests import pg

# No deadline per example: a shared, loaded machine can stall any example past Hypothesis's
# 200 ms, which it would report as a failure of the code under test.
settings.register_profile("ledger", deadline=None)
settings.load_profile("ledger")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Each test leaves logging as it found it (some configure it onto their own streams)."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    """Commands a test runs in-process set start-up aside from the collector
    (ledger.collector); undone after each test, so what later tests leave behind is
    still collected, and an unclosed resource still warns."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin DSN of the PostgreSQL the tests use (see tests/pg.py for the order)."""
    with pg.postgres_server(tmp_path_factory.mktemp("postgres")) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def pg_template(pg_admin_dsn: str) -> Iterator[str]:
    """A migrated template database, cloned for each test (made ahead: tests/db_supply.py)."""
    name = asyncio.run(pg.create_template(pg_admin_dsn))
    pg.supply_ahead(pg_admin_dsn, name)
    try:
        yield name
    finally:
        pg.end_supply(pg_admin_dsn, name)
        asyncio.run(pg.drop_database(pg_admin_dsn, name))


@pytest.fixture
async def db_dsn(pg_admin_dsn: str, pg_template: str) -> AsyncIterator[str]:
    """DSN of a fresh, migrated database that only this test uses (as the schema owner)."""
    name = await pg.create_database(pg_admin_dsn, pg_template)
    yield pg.with_database(pg_admin_dsn, name)
    await pg.drop_database(pg_admin_dsn, name)


@pytest.fixture
async def owner_conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test's fresh migrated database, as the schema owner."""
    connection = await asyncpg.connect(db_dsn)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def owner_pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A small pool on the test's fresh migrated database, as the schema owner."""
    made = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """Where this test's log signing key lives (created by the first start)."""
    return tmp_path / "log-signing.key"


@pytest.fixture
async def log_signer(db_dsn: str, key_file: Path) -> Signer:
    """The log's signing key on this test's database, established as `ledger serve` does."""
    conn = await asyncpg.connect(db_dsn)
    try:
        return await establish(conn, key_file, None)
    finally:
        await conn.close()


@pytest.fixture
async def runtime(db_dsn: str, log_signer: Signer) -> AsyncIterator[Runtime]:
    """A running ledger (pool, sealer signing checkpoints, waiter) on the test's database."""
    async with running(db_dsn, signer=log_signer) as rt:
        yield rt


@pytest.fixture
def service(db_dsn: str, tmp_path: Path) -> Iterator[Service]:
    """One `ledger serve` process on the test database, logging to tmp_path/service.log."""
    running_service = Service(db_dsn, tmp_path / "service.log")
    running_service.start()
    try:
        yield running_service
    finally:
        running_service.stop()
