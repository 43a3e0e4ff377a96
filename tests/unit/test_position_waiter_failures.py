"""The position waiter outlives its listening connection's failures: each is logged, none
escapes its task (at shutdown, asyncpg may raise InternalClientError mid-operation)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
import structlog

from ledger.store.positions import PositionWaiter


def _opening(listener: Any) -> Any:
    """A `connect` that opens `listener`."""

    async def connect() -> Any:
        return listener

    return connect


class _Closing:
    """A listening connection closed under its operation, as at shutdown."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def add_listener(self, *_: Any) -> None:
        raise self.error

    async def remove_listener(self, *_: Any) -> None:
        raise self.error

    def add_termination_listener(self, *_: Any) -> None:
        return None


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InternalClientError("got result for unknown protocol state 3"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionResetError("reset"),
    ],
)
async def test_a_listener_failing_when_the_sealer_changes_is_logged_not_raised(
    error: BaseException,
) -> None:
    waiter = PositionWaiter(pool=None)  # type: ignore[arg-type]  # the pool is never used here
    with structlog.testing.capture_logs() as logs:
        await waiter.start(_opening(_Closing(error)))
        waiter.sealing_here(None)  # the switch runs in a task of its own
        switching = list(waiter._switching)
        await asyncio.gather(*switching)  # raises if the failure escaped the task
    assert switching
    assert {e["event"] for e in logs} == {"positions.listen_failed"}
    assert all(e["log_level"] == "warning" for e in logs)


class _Counting:
    """A listening connection that counts the switches it is asked for."""

    def __init__(self) -> None:
        self.asked = 0

    async def add_listener(self, *_: Any) -> None:
        self.asked += 1

    async def remove_listener(self, *_: Any) -> None:
        self.asked += 1

    def add_termination_listener(self, *_: Any) -> None:
        return None


async def test_a_stopping_service_switches_its_listening_no_more() -> None:
    """As the sealer stops, it is no longer the active one: without the stop, the waiter
    would listen again on a connection about to close, and log that it could not."""
    listener = _Counting()
    waiter = PositionWaiter(pool=None)  # type: ignore[arg-type]  # the pool is never used here
    await waiter.start(_opening(listener))
    waiter.sealing_here(7)  # this instance's sealer is the active one: it stops listening
    await waiter.settled()
    asked = listener.asked
    waiter.stop_listening()
    waiter.sealing_here(None)  # the sealer stopping
    await waiter.settled()
    assert listener.asked == asked == 2
