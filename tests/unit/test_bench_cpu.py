"""The benchmark's CPU split: seconds per process from /proc, and per event by part."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cpu import CpuSplit, _role, children, process_seconds
from bench.peers import _environment
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


def test_a_backend_is_told_by_the_statements_it_runs() -> None:
    assert _role("SELECT * FROM ledger_seal($1, $2, $3, $4, $5, $6, $7, $8)") == "sealer"
    assert _role("SELECT name, generation, position FROM projection_checkpoints") == "runner"
    assert _role("SELECT * FROM ledger_append($1, $2)") is None


def test_the_runner_listening_to_seals_is_not_taken_for_the_sealer() -> None:
    assert _role('LISTEN "ledger_sealed"') is None
    assert _role('UNLISTEN "ledger_sealed"') is None


def test_the_peer_reads_the_database_from_a_postgresql_url() -> None:
    env = _environment("postgresql://bench:s%40cret@127.0.0.1:5433/peer_db")
    assert env["POSTGRES_DBNAME"] == "peer_db"
    assert env["POSTGRES_HOST"] == "127.0.0.1"
    assert env["POSTGRES_PORT"] == "5433"
    assert env["POSTGRES_USER"] == "bench"
    assert env["POSTGRES_PASSWORD"] == "s@cret"
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
