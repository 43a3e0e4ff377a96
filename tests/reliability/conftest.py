"""Show the fault tests' figures at the end of every run, captured output or not."""

from __future__ import annotations

import pytest

from tests.reliability.harness import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A section listing posts made, acknowledged, stored and lost per fault test."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
