"""Telling a database that cannot serve now from a request the database refused."""

from __future__ import annotations

import asyncpg

from ledger.store.positions import SealTimeout

# SQLSTATE classes that say the database is away or overloaded, not that the
# request or the code is wrong: connection (08), resources (53), operator
# intervention such as shutdown or a statement/lock timeout (57), and a lock
# that could not be had in time (55P03), a serialization failure or deadlock (40).
_UNAVAILABLE_CLASSES = ("08", "53", "57", "40")
_UNAVAILABLE_STATES = frozenset({"55P03"})


def database_unavailable(exc: BaseException) -> bool:
    """Whether an exception means the database cannot serve now (answer 503, retry later)."""
    # TimeoutError is an OSError; InternalClientError is what asyncpg raises when a
    # connection dies in the middle of an operation.
    if isinstance(
        exc, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError | SealTimeout
    ):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return (
            state[:2] in _UNAVAILABLE_CLASSES
            or state in _UNAVAILABLE_STATES
            or _not_accepting_connections(exc, state)
        )
    return False


def _not_accepting_connections(exc: asyncpg.PostgresError, state: str) -> bool:
    # An operator closed the database to new connections (ALTER DATABASE ... WITH
    # ALLOW_CONNECTIONS false): PostgreSQL says so with the general 55000, which
    # otherwise marks mistakes in a statement, so the message decides.
    return state == "55000" and "not currently accepting connections" in str(exc)


def unavailable_detail(exc: BaseException) -> str:
    """What to tell a client whose request the database could not serve (`exc` is one
    `database_unavailable` accepts): the cause where the client can act on it."""
    if isinstance(exc, asyncpg.DiskFullError):
        return "the database has no room left (its disk is full): nothing was stored; retry later"
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return "the database has no connection to spare now; retry later"
    return "the database cannot be reached; retry later"
