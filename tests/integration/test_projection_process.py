"""The read-model runner beside `ledger serve` is started again whenever it ends."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
import structlog

from ledger import projection_process


async def _new_pid(runner: projection_process.Runner, old: int, within: float) -> int:
    deadline = time.monotonic() + within
    while (pid := runner.pid) is None or pid == old:
        assert time.monotonic() < deadline, "the runner was not started again"
        await asyncio.sleep(0.05)
    return pid


async def test_a_runner_killed_is_started_again_and_said(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projection_process, "RESTART_FIRST", 0.1)
    runner = projection_process.Runner(db_dsn)
    await runner.start()
    try:
        first = runner.pid
        assert first is not None
        with structlog.testing.capture_logs() as logs:
            os.kill(first, signal.SIGKILL)
            second = await _new_pid(runner, first, within=20)
        assert runner.restarts == 1
        [ended] = [line for line in logs if line["event"] == "projections.ended"]
        assert ended["exit_code"] == -signal.SIGKILL
        assert ended["log_level"] == "error"
        os.kill(second, signal.SIGKILL)  # and again, after a longer wait
        await _new_pid(runner, second, within=20)
        assert runner.restarts == 2
    finally:
        await runner.stop()
    assert runner.pid is None


async def test_a_runner_stopped_on_purpose_is_not_started_again(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projection_process, "RESTART_FIRST", 0.1)
    runner = projection_process.Runner(db_dsn)
    await runner.start()
    await runner.stop()
    await asyncio.sleep(0.5)
    assert (runner.pid, runner.restarts) == (None, 0)
