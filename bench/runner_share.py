"""What writing the read models inline could save at most: `python -m bench.runner_share`.

Inline read models (written in the append transaction) would take the read-model
runner's process and its backend off every post, and add the document reads and
writes to the append. This measures the first half in one run on one service:
windows of single `guarantee.issued` posts with the runner working, alternating with
windows where the runner is paused (SIGSTOP) and its work left for after the window
(SIGCONT, then caught up, untimed). The paused windows show the ceiling of the gain:
rate, latency and CPU per post with no read model written at all.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.__main__ import server
from bench.ab import HERE, Side, alternated
from bench.cpu import children
from bench.phases import wait_settled


@contextlib.contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """The processes `pids` stopped for the block, continued after it."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def window(side: Side, concurrency: int, seconds: float, runner_on: bool) -> dict[str, Any]:
    """One window of single posts, the runner working or paused throughout it."""
    assert side.service.proc is not None
    if runner_on:
        return side.window(concurrency, seconds)
    with paused(children(side.service.proc.pid)):
        figures = side.window(concurrency, seconds, settle=False)
    wait_settled(side.dsn)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure, print one JSON document of medians per concurrency, runner on and paused."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per state and load")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ledger-runner-") as tmp, server(Path(tmp)) as admin:
        side = Side("r", HERE, admin, Path(tmp))
        try:
            for c in args.concurrency:
                states = {
                    "runner_on": functools.partial(window, side, c, args.seconds, True),
                    "runner_paused": functools.partial(window, side, c, args.seconds, False),
                }
                results[f"c{c}"] = alternated(args.rounds, states, f"concurrency {c}")
        finally:
            side.close()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
