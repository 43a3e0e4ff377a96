"""The position waiter outlives its listening connection's failures: each is logged, none
escapes its task (at shutdown, asyncpg may raise InternalClientError mid-operation)."""

from __future__ import annotations

import asyncio
import contextlib
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


class _RefusingOnce(_Counting):
    """A listening connection whose first LISTEN fails, the connection staying open."""

    async def add_listener(self, *_: Any) -> None:
        self.asked += 1
        if self.asked == 1:
            raise asyncpg.InterfaceError(
                "cannot perform operation: another operation is in progress"
            )

    def is_closed(self) -> bool:
        return False


async def test_a_listen_that_failed_on_an_open_connection_is_tried_again() -> None:
    """Without it, the waiter would keep the connection, not listening, and learn every
    post's position from its quarter-second poll."""
    listener = _RefusingOnce()
    waiter = PositionWaiter(pool=None)  # type: ignore[arg-type]  # nothing is pending
    with structlog.testing.capture_logs():
        await waiter.start(_opening(listener))
        assert listener.asked == 1
        running = asyncio.create_task(waiter.run())
        try:
            async with asyncio.timeout(5):
                while listener.asked < 2:
                    await asyncio.sleep(0.05)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    assert listener.asked == 2
