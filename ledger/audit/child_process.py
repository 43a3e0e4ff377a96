"""A process the ledger starts for audit work, from both ends: starting it, answering.

The starter sends the job as one line on the child's standard input (not argv: the
DSN may carry a password, which `ps` would show) and keeps that pipe open until it
has read the child's answer; the pipe closes when the starter ends, however it ends
(`kill -9` included). The child has a thread wait for that, and stops at once: nobody
will read what it would work out. The child answers one line of JSON; an error it
raised comes back as a kind and a message, and is raised again in the starter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable

import msgspec

from ledger.audit.replay import ReplayError
from projections.spill import SpillError

ORPHANED = 3
"""A child's exit code when its standard input closes before it is done."""


async def start(module: str, job: msgspec.Struct) -> asyncio.subprocess.Process:
    """`python -m module` of this interpreter, `job` sent on its stdin and the pipe left open."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    child.stdin.write(msgspec.json.encode(job) + b"\n")
    await child.stdin.drain()
    return child


async def finish(child: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    """All the child writes on stdout and stderr, once it has ended.

    Not communicate(): it would close the child's stdin first, which tells it to stop.
    """
    assert child.stdout is not None
    assert child.stderr is not None
    out, err = await asyncio.gather(child.stdout.read(), child.stderr.read())
    await child.wait()
    _let_go(child)
    return out, err


async def stop(child: asyncio.subprocess.Process) -> None:
    """Kill the child if it still runs (the starter gives up on it), and let go of it."""
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
    _let_go(child)


def _let_go(child: asyncio.subprocess.Process) -> None:
    # Once it has ended: closing its stdin then tells it nothing.
    if child.stdin is not None and not child.stdin.is_closing():
        child.stdin.close()


def _stop_when_orphaned(job: bytes, orphaned: Callable[[bytes], object] | None) -> None:
    # On the descriptor itself: a daemon thread blocked in sys.stdin's buffered reader
    # holds its lock, and the interpreter then aborts at exit.
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        pass
    if orphaned is not None:
        with contextlib.suppress(Exception):  # stopping is what matters now
            orphaned(job)
    os._exit(ORPHANED)


def read_job(orphaned: Callable[[bytes], object] | None = None) -> bytes:
    """The job on standard input's first line; from then on, stop when stdin closes (the
    starter is gone), first calling `orphaned` with the job to take back what it left."""
    line = sys.stdin.buffer.readline()
    threading.Thread(target=_stop_when_orphaned, args=(line, orphaned), daemon=True).start()
    return line


def last_line(err: bytes) -> str:
    """What a child died of: the last line of what it wrote to stderr."""
    return (err.decode(errors="replace").strip().splitlines() or ["nothing on stderr"])[-1]


def answer(
    work: Callable[[], msgspec.Struct], refused: Callable[[str, str], msgspec.Struct]
) -> int:
    """Print what `work` gives as one line of JSON, or what `refused(kind, message)` makes
    of the error it raised: 'replay' (ReplayError), 'lookup' (LookupError: a business
    date before a registration) or 'spill' (SpillError), for the starter to raise again."""
    try:
        outcome = work()
    except ReplayError as exc:
        outcome = refused("replay", str(exc))
    except LookupError as exc:
        outcome = refused("lookup", str(exc))
    except SpillError as exc:
        outcome = refused("spill", str(exc))
    sys.stdout.buffer.write(msgspec.json.encode(outcome) + b"\n")
    return 0


def refusal(kind: str, message: str) -> Exception:
    """The error a child's `answer` reported as `kind`, to raise again in the starter."""
    if kind == "lookup":
        return LookupError(message)
    if kind == "spill":
        return SpillError(message)
    return ReplayError(message)
