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
