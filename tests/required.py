"""Tests that cannot run on this machine skip, unless the run requires every test (CI sets
LEDGER_TEST_REQUIRE_ALL=1 once it has made sure of Chromium): then they fail, so that a
broken browser or standby set-up is never a green run with those tests left out."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_ALL = "LEDGER_TEST_REQUIRE_ALL"


def cannot_run(reason: str) -> NoReturn:
    """Skip with `reason`, or fail with it where every test is required."""
    if os.environ.get(REQUIRE_ALL) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ALL}=1: every test must run here)", pytrace=False)
    pytest.skip(reason)
