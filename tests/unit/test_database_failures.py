"""Telling a database that cannot serve now from a refused request, and what a client is
told about it."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.store.failures import database_unavailable, unavailable_detail


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (asyncpg.DiskFullError("could not extend file"), "its disk is full"),
        (asyncpg.TooManyConnectionsError("sorry, too many clients"), "no connection to spare"),
        (ConnectionRefusedError(111, "refused"), "cannot be reached"),
    ],
)
def test_a_client_is_told_why_the_database_cannot_serve_it(exc: Exception, said: str) -> None:
    assert database_unavailable(exc)
    assert said in unavailable_detail(exc)
    assert unavailable_detail(exc).endswith("retry later")


def test_a_server_without_the_service_role_is_told_how_to_restore() -> None:
    """A pg_dump restored into another server lacks the cluster-wide role: one line on
    what to create and to restore again (it was an asyncpg traceback)."""
    from ledger.commands._failures import database_failure

    said = database_failure(
        asyncpg.InvalidParameterValueError('role "ledger_service" does not exist')
    )
    assert said is not None
    assert said.startswith("the database server has no role ledger_service")
    assert "CREATE ROLE ledger_service NOLOGIN" in said
    assert "restore again" in said

