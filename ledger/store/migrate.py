"""Numbered SQL migrations, applied once each under an advisory lock, then the function files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from ledger.store.function_files import apply_functions

# Any two instances starting at once serialise here; the number is arbitrary
# but fixed forever ("ledger" in ASCII, then 1).
MIGRATION_LOCK = 0x6C65646765720001

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The database and the shipped migrations disagree."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> bytes:
        """SHA-256 of the file, to detect a released migration edited later."""
        return hashlib.sha256(self.sql.encode()).digest()


def shipped_migrations() -> list[Migration]:
    """The migrations shipped with this release, in version order."""
    found = []
    for entry in resources.files("ledger.store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number: {versions}")
    return found


NO_LEDGER = "this database holds no ledger yet (run `ledger serve` once to create it)"
"""What a command that reads a ledger says of a database without one."""


class NoLedger(MigrationError):
    """The database holds no ledger, and the command was not one to create it."""


async def migrate_existing(conn: asyncpg.Connection) -> list[int]:
    """`migrate()` a database that holds a ledger; NoLedger where it holds none, before
    anything is written (a DSN naming the wrong database gets no ledger of its own)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NULL"):
        raise NoLedger(NO_LEDGER)
    return await migrate(conn)


async def migrate(conn: asyncpg.Connection, *, through: int | None = None) -> list[int]:
    """Apply every shipped migration not yet applied, then make the SQL functions equal their
    files (ledger/store/functions/); return the versions applied now. With `through`, apply
    migrations up to that version only and leave the functions as they made them, as an
    earlier release would have (to check an upgrade from it)."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   bytea NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {
            r["version"]: bytes(r["checksum"])
            for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        done: list[int] = []
        for migration in shipped_migrations():
            if through is not None and migration.version > through:
                break
            known = applied.get(migration.version)
            if known is not None:
                if known != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was edited after "
                        "it was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            done.append(migration.version)
        unknown = sorted(set(applied) - {m.version for m in shipped_migrations()})
        if unknown:
            raise MigrationError(f"database has migrations this release does not know: {unknown}")
        if through is None:
            await apply_functions(conn)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def pending(conn: asyncpg.Connection) -> list[int]:
    """Versions shipped but not yet applied (empty when the schema is current)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied: set[int] = set()
    if exists:
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [m.version for m in shipped_migrations() if m.version not in applied]
