"""The test-database supply: what it makes ahead is handed out once, or dropped at the end."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.db_supply import DatabaseSupply, SupplyFailed


class _Server:
    """Names made and dropped, as a PostgreSQL would hold them."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.made: list[str] = []
        self.dropped: list[str] = []

    async def make(self) -> str:
        with self._lock:
            name = f"db{next(self._counter)}"
            self.made.append(name)
            return name

    async def drop(self, name: str) -> None:
        with self._lock:
            self.dropped.append(name)


def test_each_database_is_handed_out_once_in_the_order_made() -> None:
    server = _Server()
    supply = DatabaseSupply(server.make, server.drop, ahead=2)
    try:
        taken = [supply.take() for _ in range(5)]
    finally:
        supply.close()
    assert taken == ["db1", "db2", "db3", "db4", "db5"]


def test_closing_drops_every_database_made_and_never_taken() -> None:
    server = _Server()
    supply = DatabaseSupply(server.make, server.drop, ahead=2)
    taken = supply.take()
    supply.close()
    assert sorted(server.dropped) == sorted(set(server.made) - {taken})
    assert taken not in server.dropped


def test_a_database_that_cannot_be_made_fails_one_taker_with_the_cause() -> None:
    server = _Server()
    attempts = itertools.count(1)

    async def refuse_the_first() -> str:
        if next(attempts) == 1:
            raise OSError("source database is being accessed by other users")
        return await server.make()

    supply = DatabaseSupply(refuse_the_first, server.drop)
    try:
        with pytest.raises(SupplyFailed) as raised:
            supply.take()
        after = supply.take()
    finally:
        supply.close()
    assert isinstance(raised.value.__cause__, OSError)
    assert after == "db1"
