"""Shared fixtures: a real PostgreSQL per test run, a fresh database per test."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from ledger.runtime import Runtime, running
from tests import pg


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
    """A migrated template database, cloned for each test."""
    name = asyncio.run(pg.create_template(pg_admin_dsn))
    yield name
    asyncio.run(pg.drop_database(pg_admin_dsn, name))


@pytest.fixture
async def db_dsn(pg_admin_dsn: str, pg_template: str) -> AsyncIterator[str]:
    """DSN of a fresh, migrated database that only this test uses (as the schema owner)."""
    name = await pg.create_database(pg_admin_dsn, pg_template)
    yield pg.with_database(pg_admin_dsn, name)
    await pg.drop_database(pg_admin_dsn, name)


@pytest.fixture
async def runtime(db_dsn: str) -> AsyncIterator[Runtime]:
    """A running ledger (pool, sealer, waiter) on the test's database."""
    async with running(db_dsn) as rt:
        yield rt
