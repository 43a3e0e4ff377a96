"""Small asyncio helpers shared by the ledger's background loops."""

from __future__ import annotations

import asyncio


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
