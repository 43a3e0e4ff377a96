"""Small asyncio helpers shared by the ledger's background loops and commands."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed; None (asyncio's own) elsewhere, e.g. Windows.

    uvloop spends markedly less CPU per socket read and write, which the service
    and its read-model runner share with PostgreSQL on small machines.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on the loop from loop_factory().

    asyncio.Runner keeps asyncio.run's behaviour: Ctrl-C cancels `main` and then
    raises KeyboardInterrupt, and the remaining tasks are cancelled on the way out.
    """
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; return whether it was set.

    Uses asyncio.timeout rather than asyncio.wait_for: on Python 3.11,
    wait_for can swallow a cancellation that arrives just as the wait ends,
    which leaves a background loop running after it was told to stop.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
