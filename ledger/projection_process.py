"""The read-model runner beside `ledger serve`, in a process of its own.

Applying events to the read models is CPU work in Python. Inside the
service's event loop it would delay every request behind its batches. As
a child process it shares nothing with the HTTP loop but the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys

import structlog

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # If `ledger serve` is killed outright (SIGKILL), its runner goes too.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


RESTART_FIRST = 1.0
"""Seconds before a runner that ended is started again; doubled at each quick failure."""
RESTART_MOST = 30.0
STEADY = 60.0
"""A runner that ran this long before ending is restarted after RESTART_FIRST again."""


async def _spawn(dsn: str) -> asyncio.subprocess.Process:
    """Start `ledger project` on `dsn`; its output joins the service's."""
    env = {**os.environ, "LEDGER_DATABASE_URL": dsn}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from ledger.cli import main; sys.exit(main(['project']))",
        env=env,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    log.info("projections.started", pid=process.pid)
    return process


class Runner:
    """The runner process of one `ledger serve`, started again whenever it ends.

    Nothing else would notice: a runner killed (out of memory, by hand) or ended by a
    failure left the read models still on this instance for good, with `min_position`
    reads answering 503 and plain reads stale, and nothing said. Its work is
    exactly-once (each batch commits its checkpoint with its rows), so a new one goes
    on from where the last stopped.
    """

    def __init__(self, dsn: str) -> None:
        """A runner on `dsn`, not started yet."""
        self._dsn = dsn
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self.restarts = 0
        """How many times the runner was started again after it ended."""

    @property
    def pid(self) -> int | None:
        """The running runner's process id, if one runs."""
        process = self._process
        return None if process is None or process.returncode is not None else process.pid

    async def start(self) -> None:
        """Start the runner, and watch it."""
        self._process = await _spawn(self._dsn)
        self._watch = asyncio.create_task(self._restart_when_ended(), name="projections-watch")

    async def _restart_when_ended(self) -> None:
        wait = RESTART_FIRST
        loop = asyncio.get_running_loop()
        while True:
            assert self._process is not None
            started = loop.time()
            code = await self._process.wait()
            if loop.time() - started >= STEADY:
                wait = RESTART_FIRST
            log.error("projections.ended", exit_code=code, restart_in_s=wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RESTART_MOST)
            try:
                self._process = await _spawn(self._dsn)
            except OSError as exc:
                log.error("projections.not_restarted", error=str(exc))
                continue
            self.restarts += 1

    async def stop(self, within: float = 10.0) -> None:
        """Stop watching, SIGTERM the runner and wait for it; kill it if it does not stop
        in time."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(within):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
