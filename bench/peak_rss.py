"""`python -m bench.peak_rss CMD...`: run a command; print its seconds, peak memory and exit code.

The peak is that of all the command's processes together: a replay may fold in two
processes at once (ledger/audit/replay_parts.py), and the operating system's own
figure for a command's children (ru_maxrss) is the largest single process, not their
sum. The tree's resident memory is summed every POLL seconds from /proc; the larger
of that and ru_maxrss is printed, so a peak between two polls of one process is not
missed either.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

POLL = 0.02
"""Seconds between two readings of the process tree's memory."""


def tree(pid: int) -> list[int]:
    """`pid` and every process under it (those that have not ended yet)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(child) for child in children)
    return found


def resident_bytes(pid: int) -> int:
    """A process's resident memory (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    """Run argv[1:], output discarded; print `seconds peak_bytes exit_code`."""
    began = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)  # noqa: S603 - the benchmark's own command
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(resident_bytes(pid) for pid in tree(proc.pid)))
        time.sleep(POLL)
    seconds = time.perf_counter() - began
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(seconds, max(peak, largest), proc.returncode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
