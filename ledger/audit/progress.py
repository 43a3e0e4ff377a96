"""Progress of long audit runs on stderr: how far, and how many events per second."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """A (done, total) callback that prints at most once per interval, after a first delay.

    Short runs print nothing until `finish`; long ones show a line per
    interval, so a person watching knows it is moving and how fast.
    """

    def __init__(
        self,
        label: str,
        *,
        out: TextIO | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Report as `label` to `out` (default stderr) every `interval` seconds."""
        self._label = label
        self._out = out
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._last = self._start
        self.done = 0

    def __call__(self, done: int, total: int = 0) -> None:
        """Record that `done` of `total` events are through (total 0: unknown)."""
        self.done = done
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            of = f"/{total}" if total else ""
            self._print(f"{self._label}: {done}{of} events, {self.rate(now):,.0f} events/s")

    def rate(self, now: float | None = None) -> float:
        """Events per second since the start."""
        elapsed = (self._clock() if now is None else now) - self._start
        return self.done / elapsed if elapsed > 0 else 0.0

    def finish(self, message: str, done: int | None = None) -> None:
        """Print the closing line, with the overall rate (of `done` events, when given: a
        short run may end before any progress was counted)."""
        if done is not None:
            self.done = done
        now = self._clock()
        self._print(f"{message} ({now - self._start:.1f} s, {self.rate(now):,.0f} events/s)")

    def _print(self, line: str) -> None:
        print(line, file=self._out or sys.stderr, flush=True)
