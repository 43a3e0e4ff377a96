"""Running the `ledger` command as a separate process from async tests."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from bench.service import LEDGER


@dataclass(frozen=True)
class Ran:
    """A finished `ledger` process: exit code, standard output and error."""

    code: int
    out: str
    err: str


async def run_ledger(*args: str, within: float = 120.0, **env: str) -> Ran:
    """Run `ledger ARGS` with the test's environment plus `env`; wait for it to end."""
    proc = await asyncio.create_subprocess_exec(
        *LEDGER,
        *args,
        env={**os.environ, "LEDGER_LOG_FORMAT": "json", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
