"""A second fresh database, for moving a ledger from one database to another."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests import pg


@pytest.fixture
async def other_dsn(pg_admin_dsn: str, pg_template: str) -> AsyncIterator[str]:
    """DSN of another fresh, migrated, empty database (as the schema owner)."""
    name = await pg.create_database(pg_admin_dsn, pg_template)
    yield pg.with_database(pg_admin_dsn, name)
    await pg.drop_database(pg_admin_dsn, name)
