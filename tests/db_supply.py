"""Fresh test databases made ahead of the tests that take them, on a thread of their own.

Cloning the migrated template takes PostgreSQL two checkpoints (CREATE DATABASE ...
STRATEGY FILE_COPY): 0.3 to 0.5 s on this kind of machine, mostly waiting on the disk,
and most tests begin with one. Made while the previous tests run, that wait is taken
off the tests' path.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable

_TAKE_TIMEOUT = 300.0
"""Seconds a test waits for a database before the supply is taken to be stuck."""


class SupplyFailed(RuntimeError):
    """The supply's thread could not make a database; the cause is chained."""


class DatabaseSupply:
    """Keeps up to `ahead` databases made by `make` ready for `take`; `close` drops the rest."""

    def __init__(
        self,
        make: Callable[[], Awaitable[str]],
        drop: Callable[[str], Awaitable[None]],
        ahead: int = 2,
    ) -> None:
        self._make = make
        self._drop = drop
        self._ready: queue.Queue[str | Exception] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-database-supply", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """The name of a fresh database, now this caller's alone (blocks until one is made).

        A database that could not be made fails this caller alone, with the cause.
        """
        waited = 0.0
        while True:
            try:
                made = self._ready.get(timeout=0.5)
            except queue.Empty:
                if self._failure is not None:
                    raise SupplyFailed("no test database could be made") from self._failure
                waited += 0.5
                if waited >= _TAKE_TIMEOUT or not self._thread.is_alive():
                    raise SupplyFailed(f"no test database was made in {waited:.0f} s") from None
                continue
            if isinstance(made, Exception):
                raise SupplyFailed("this test's database could not be made") from made
            return made

    def close(self) -> None:
        """Stop making databases and drop those made but never taken."""
        self._stop.set()
        self._thread.join(timeout=60)
        left = []
        while True:
            try:
                made = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(made, str):
                left.append(made)
        if left:
            asyncio.run(self._drop_all(left))

    async def _drop_all(self, names: list[str]) -> None:
        for name in names:
            await self._drop(name)

    def _run(self) -> None:
        try:
            asyncio.run(self._supply())
        except BaseException as exc:  # the supply itself broke: every later `take` says why
            self._failure = exc

    async def _supply(self) -> None:
        while not self._stop.is_set():
            made: str | Exception
            try:
                made = await self._make()
            except Exception as exc:
                made = exc
            while True:
                if self._stop.is_set():
                    if isinstance(made, str):
                        with contextlib.suppress(Exception):
                            await self._drop(made)
                    return
                try:
                    self._ready.put(made, timeout=0.2)
                    break
                except queue.Full:
                    continue
