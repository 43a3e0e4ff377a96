"""The checksums a migrated database records are those of the released migrations."""

from __future__ import annotations

import asyncpg

from tests.unit.test_released_migrations import RELEASED


async def test_a_migrated_database_records_the_released_checksums(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    finally:
        await conn.close()
    recorded = {r["version"]: bytes(r["checksum"]).hex() for r in rows}
    assert {v: recorded.get(v) for v in RELEASED} == RELEASED
