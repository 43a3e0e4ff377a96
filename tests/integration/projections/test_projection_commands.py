"""`ledger projections rebuild` and `ledger project` against a real database."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog

from ledger.cli import main
from ledger.runtime import running
from projections import queries
from tests.integration.projections.support import post_steps
from tests.unit.projections.scenario import PureLedger, setup_steps


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`main` points logging at the captured stderr; later tests must not write to it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


async def _post_setup(dsn: str) -> int:
    steps = PureLedger().post_all(setup_steps()).accepted
    async with running(dsn) as runtime:
        await post_steps(runtime, steps)
    return len(steps)


async def _checkpoints(dsn: str) -> dict[str, tuple[int, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT name, generation, position FROM projection_checkpoints")
    finally:
        await conn.close()
    return {r["name"]: (r["generation"], r["position"]) for r in rows}


def test_rebuild_command_swaps_in_the_named_model_and_shows_events_per_second(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    count = asyncio.run(_post_setup(db_dsn))
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_dsn)
    assert main(["projections", "rebuild", "programs"]) == 0
    out, err = capsys.readouterr()
    assert f"through position {count}" in out
    assert "events/s" in err
    checkpoints = asyncio.run(_checkpoints(db_dsn))
    assert checkpoints["programs"] == (2, count)
    assert checkpoints["claims"] == (1, 0)


def test_rebuild_command_refuses_an_unknown_name(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_dsn)
    assert main(["projections", "rebuild", "nonsense"]) == 2


def test_rebuild_command_refuses_a_batch_size_below_one_as_a_usage_error(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_dsn)
    assert main(["projections", "rebuild", "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


async def test_project_command_keeps_the_read_models_until_terminated(db_dsn: str) -> None:
    count = await _post_setup(db_dsn)
    env = {**os.environ, "LEDGER_DATABASE_URL": db_dsn, "LEDGER_LOG_FORMAT": "json"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("ledger")),
        "project",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        async with asyncio.timeout(20):
            while await queries.reflected_position(conn) < count:
                assert proc.returncode is None
                await asyncio.sleep(0.1)
    finally:
        await conn.close()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
