"""How fast one core of this machine runs Python right now: a fixed loop, timed.

On a shared virtual machine the same code can run at half speed one minute and
full speed the next (seen here: one pure-Python loop took 0.54 to 1.04 s in six
runs in a row, with the machine otherwise idle). Each timed phase of the
benchmark records this probe just before it starts, so figures taken at a slow
moment can be told from a slow ledger.
"""

from __future__ import annotations

import statistics
import time

SPINS = 1_000_000
"""Iterations of the probe's loop: about 25 ms at full speed here."""


def spin(n: int) -> int:
    """A fixed amount of interpreter work: the sum of 0 .. n-1, one addition at a time."""
    total = 0
    for i in range(n):
        total += i
    return total


def cpu_probe_ms(rounds: int = 5, spins: int = SPINS) -> float:
    """The median wall time of `rounds` runs of `spin(spins)`, in milliseconds."""
    if rounds < 1:
        raise ValueError("rounds must be 1 or more")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        spin(spins)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)
