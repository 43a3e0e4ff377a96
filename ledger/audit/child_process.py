"""What a process the ledger starts for audit work shares with the one that started it.

The starting process keeps the child's standard input open until it has read the
child's answer; the pipe closes when the starter ends, however it ends (`kill -9`
included). The child has a thread wait for that, and stops at once: nobody will read
what it would work out.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

import msgspec

from ledger.audit.replay import ReplayError
from projections.spill import SpillError

ORPHANED = 3
"""A child's exit code when its standard input closes before it is done."""


def _stop_when_orphaned() -> None:
    # On the descriptor itself: a daemon thread blocked in sys.stdin's buffered reader
    # holds its lock, and the interpreter then aborts at exit.
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        pass
    os._exit(ORPHANED)


def read_job() -> bytes:
    """The job on standard input's first line; from then on, stop when stdin closes."""
    line = sys.stdin.buffer.readline()
    threading.Thread(target=_stop_when_orphaned, daemon=True).start()
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
