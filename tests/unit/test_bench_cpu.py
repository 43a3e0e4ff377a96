"""The benchmark's CPU split: seconds per process from /proc, and per event by part."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cpu import CpuSplit, children, process_seconds
from bench.probe import spin

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_a_process_that_worked_has_spent_cpu() -> None:
    spin(200_000)
    assert process_seconds(os.getpid()) > 0


def test_a_process_that_is_gone_has_spent_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_seconds(child.pid) == 0.0


def test_children_are_the_processes_a_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in children(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_without_a_server_the_split_counts_this_process_per_event() -> None:
    split = CpuSplit()
    split.start()
    spin(2_000_000)
    cpu = split.stop(events=1000)
    assert cpu["client"] > 0
    assert cpu["total"] == pytest.approx(cpu["client"] + cpu.get("postgresql", 0.0), abs=0.2)


def test_with_a_server_the_split_counts_the_server_and_finished_loads() -> None:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        split = CpuSplit(server.pid)
        split.start()
        load = "total = 0\nfor i in range(3_000_000):\n    total += i"
        subprocess.run([sys.executable, "-c", load], check=True)
        cpu = split.stop(events=100)
    finally:
        server.kill()
        server.wait()
    assert "client" not in cpu
    assert cpu["load_generator"] > 0
    assert cpu["service"] >= 0
