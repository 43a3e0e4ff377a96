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


async def start(dsn: str) -> asyncio.subprocess.Process:
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


async def stop(process: asyncio.subprocess.Process, within: float = 10.0) -> None:
    """SIGTERM the runner and wait for it; kill it if it does not stop in time."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(within):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
