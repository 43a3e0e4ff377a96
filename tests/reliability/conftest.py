"""The fault tests' shared fixture, and their figures shown at the end of every run,
captured output or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import FIGURES, Service


@pytest.fixture
def service(db_dsn: str, tmp_path: Path) -> Iterator[Service]:
    """One `ledger serve` process on the test database, logging to tmp_path/service.log."""
    running = Service(db_dsn, tmp_path / "service.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A section listing posts made, acknowledged, stored and lost per fault test."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
