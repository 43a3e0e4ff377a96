"""Failures an operator can act on, from any command, said in one line: a database that
cannot be reached or holds no ledger, a DSN it refuses, a standard output that is
closed or full.

Commands catch what they expect themselves; what reaches `ledger`'s top level is
matched here before it would end in a traceback.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

_OUTPUT_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def database_failure(exc: BaseException) -> str | None:
    """One line for a database that cannot be used as configured, or None."""
    import asyncpg

    from ledger.runtime import SERVICE_ROLE
    from ledger.store.migrate import NO_LEDGER, MigrationError, NoLedger

    if isinstance(exc, NoLedger | asyncpg.UndefinedTableError):
        return NO_LEDGER
    if isinstance(exc, MigrationError):
        # An edited migration, or a store of a later release: nothing was changed.
        return f"this release cannot take over the store: {exc}"
    if isinstance(exc, asyncpg.PostgresError) and f'role "{SERVICE_ROLE}" does not exist' in str(
        exc
    ):
        return (
            f"the database server has no role {SERVICE_ROLE} (a pg_dump restored into "
            f"another server?): create it (CREATE ROLE {SERVICE_ROLE} NOLOGIN; GRANT "
            f"{SERVICE_ROLE} TO the schema's owner) and restore again, so that its grants "
            "are restored too (docs/audit.md, Restoring a backup)"
        )
    if isinstance(exc, asyncpg.ClientConfigurationError):
        return f"LEDGER_DATABASE_URL is not usable: {exc}"
    if (
        isinstance(exc, asyncpg.UndefinedObjectError) and "configuration parameter" in str(exc)
    ) or isinstance(exc, asyncpg.InvalidParameterValueError):
        # Options of the DSN's query string are sent as server settings.
        return f"the database refused a setting of LEDGER_DATABASE_URL: {exc}"
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return (
            "the database is read-only (a hot standby?): LEDGER_DATABASE_URL must name "
            "the primary; standbys go in LEDGER_READ_DATABASE_URL"
        )
    unreachable = (
        ConnectionRefusedError,
        socket.gaierror,
        TimeoutError,
        asyncpg.InvalidCatalogNameError,
        asyncpg.InvalidPasswordError,
        asyncpg.InvalidAuthorizationSpecificationError,
        asyncpg.CannotConnectNowError,
    )
    # A socket directory that does not exist (host=/path), a server refusing the
    # connection's TLS or closing it: but not standard output closed under a command.
    lost = (
        (isinstance(exc, FileNotFoundError) and exc.filename is None)
        or isinstance(exc, ConnectionError)
    ) and not isinstance(exc, BrokenPipeError)
    if isinstance(exc, unreachable) or lost:
        return f"cannot reach the ledger's database: {exc or type(exc).__name__}"
    return None


def output_failure(exc: BaseException) -> str | None:
    """One line for an output closed (`| head`) or full (`> /dev/full`), or None.

    Files a command writes under a name of its own say their own failures; one with
    no name is standard output. Nothing more can reach it, not even Python's flush at
    exit: it is pointed at /dev/null once said.
    """
    if not isinstance(exc, OSError) or exc.filename is not None:
        return None
    if isinstance(exc, BrokenPipeError):
        said = "standard output was closed before everything was written"
    elif exc.errno in _OUTPUT_FULL:
        said = f"cannot write the output: {exc.strerror or exc}"
    else:
        return None
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return said
