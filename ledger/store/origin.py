"""The log's origin: the name of this ledger's log, the `source` of its CloudEvents."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import asyncpg

ORIGIN_ENV = "LEDGER_LOG_ORIGIN"
"""Environment variable that names the log's origin."""

PREFIX = "guarantee-ledger/"
"""What a default origin starts with; 16 hex digits particular to the store follow."""


async def log_origin(
    conn: asyncpg.Connection | asyncpg.Pool, environ: Mapping[str, str] = os.environ
) -> str:
    """The log origin: LEDGER_LOG_ORIGIN when set, else one fixed for this store.

    Without a stored origin, the store's own identity (its database's name and object
    id, fixed when it was created) gives 16 hex digits that stay the same across
    restarts and service instances. Where the store keeps an origin of its own, this
    is the one place to read it from.
    """
    # The origin the log's identity fixed when the store was first served (its
    # checkpoints' key name, ledger/store/identity.py) wins: it is the log's name.
    recorded = await conn.fetchval("SELECT origin FROM log_identity")
    if recorded is not None:
        return str(recorded)
    configured = environ.get(ORIGIN_ENV, "").strip()
    if configured:
        return configured
    row = await conn.fetchrow(
        "SELECT current_database() AS name, oid::text AS oid "
        "FROM pg_database WHERE datname = current_database()"
    )
    assert row is not None
    digest = hashlib.sha256(f"{row['name']}\n{row['oid']}".encode()).hexdigest()
    return PREFIX + digest[:16]
