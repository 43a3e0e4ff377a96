"""The benchmark's peak memory of a command: all its processes together, not the largest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.peak_rss import resident_bytes, tree

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

MB = 1 << 20

# A parent holding 80 MB while its child holds 80 MB for a while: together 160 MB and
# more, though neither process alone ever holds more than about 90.
_TWO_AT_ONCE = (
    "import subprocess, sys\n"
    "held = b'x' * (80 << 20)\n"
    "child = \"held = b'x' * (80 << 20); import time; time.sleep(1.0)\"\n"
    "subprocess.run([sys.executable, '-c', child], check=True)\n"
    "sys.exit(7)\n"
)


def _peak_of(*command: str) -> tuple[float, int, int]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.peak_rss", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak, code = done.stdout.split()
    return float(seconds), int(peak), int(code)


def test_the_peak_is_of_a_command_and_its_child_together() -> None:
    _, peak, _ = _peak_of(sys.executable, "-c", _TWO_AT_ONCE)
    assert peak >= 160 * MB


def test_the_commands_exit_code_is_passed_on() -> None:
    assert _peak_of(sys.executable, "-c", _TWO_AT_ONCE)[2] == 7


def test_a_process_tree_holds_the_process_and_those_it_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert tree(os.getpid())[0] == os.getpid()
        assert child.pid in tree(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_a_process_that_is_gone_holds_no_memory() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert resident_bytes(child.pid) == 0
