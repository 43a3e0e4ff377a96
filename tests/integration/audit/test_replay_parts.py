"""A replay folded in two processes writes the state file a single process writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import asyncpg
import pytest

from events.business import business_date
from ledger.audit.child_process import ORPHANED, start
from ledger.audit.replay import ReplayError, replay
from ledger.audit.replay_parts import (
    IMPORTED,
    PART_MODULE,
    SECOND_PART,
    Job,
    _outcome,
    replay_parted,
)
from ledger.audit.state_file import write_state, write_state_parted
from ledger.embedded import with_database
from ledger.runtime import Runtime
from tests.integration.audit import tamper
from tests.integration.audit.scenario import play_all


async def _in_two(runtime: Runtime, tmp_path: Path, dsn: str | None = None, **cut: object) -> bytes:
    out = io.BytesIO()
    async with runtime.pool.acquire() as conn:
        parted = await replay_parted(conn, dsn or runtime.dsn, tmp_path, parts_from=0, **cut)
        try:
            assert parted.later == SECOND_PART
            await write_state_parted(parted.fold, out, parted.later, parted.rest)
        finally:
            await parted.abandon()
    return out.getvalue()


async def _in_one(runtime: Runtime, **cut: object) -> bytes:
    out = io.BytesIO()
    async with runtime.pool.acquire() as conn:
        write_state(await replay(conn, **cut), out)
    return out.getvalue()


async def test_two_processes_write_the_bytes_one_process_writes(
    runtime: Runtime, tmp_path: Path
) -> None:
    await play_all(runtime.ledger)
    assert await _in_two(runtime, tmp_path) == await _in_one(runtime)


async def test_two_processes_stop_where_one_does_at_a_position_a_moment_and_a_date(
    runtime: Runtime, tmp_path: Path
) -> None:
    await play_all(runtime.ledger)
    moment: dt.datetime = await runtime.pool.fetchval(
        "SELECT e.recorded_at FROM events e JOIN event_log l USING (seq) WHERE l.position = 13"
    )
    occurred: dt.datetime = await runtime.pool.fetchval(
        "SELECT ledger_occurred_at(e.body) FROM events e JOIN event_log l USING (seq) "
        "WHERE l.position = 16"
    )
    cuts: list[dict[str, object]] = [
        {"to_position": 14},
        {"as_of": moment},
        {"business_date": business_date(occurred)},
    ]
    for n, cut in enumerate(cuts):
        (tmp_path / str(n)).mkdir()
        assert await _in_two(runtime, tmp_path / str(n), **cut) == await _in_one(runtime, **cut)


async def test_a_broken_chain_is_refused_by_two_processes_as_by_one(
    runtime: Runtime, tmp_path: Path
) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":400000000')
    with pytest.raises(ReplayError, match="position 14"):
        await _in_two(runtime, tmp_path)


async def test_a_short_log_is_replayed_in_one_process(runtime: Runtime, tmp_path: Path) -> None:
    await play_all(runtime.ledger)
    async with runtime.pool.acquire() as conn:
        parted = await replay_parted(conn, runtime.dsn, tmp_path)
    assert (parted.second, parted.later, await parted.rest()) == (None, (), {})


async def test_a_second_process_that_cannot_write_is_a_replay_error_naming_where(
    runtime: Runtime, tmp_path: Path
) -> None:
    await play_all(runtime.ledger)
    gone = tmp_path / "gone"  # nowhere to write its read models
    with pytest.raises(ReplayError, match=f"could not write {gone}/programs: No such file"):
        await _in_two(runtime, gone)


@pytest.mark.parametrize(
    ("where", "said"),
    [("no database", "no_such_ledger"), ("no server", "Connection refused")],
)
async def test_a_second_process_that_dies_is_a_replay_error_saying_of_what(
    runtime: Runtime, tmp_path: Path, where: str, said: str
) -> None:
    await play_all(runtime.ledger)
    if where == "no database":
        dsn = with_database(runtime.dsn, "no_such_ledger")
    else:
        dsn = "postgresql://postgres@127.0.0.1:1/ledger"  # nothing listens on port 1
    with pytest.raises(ReplayError, match=rf"second process failed \(exit 1\): .*{said}"):
        await _in_two(runtime, tmp_path, dsn)


async def test_a_second_process_refuses_what_is_not_a_snapshot_id_before_taking_it(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Its refusal comes as its first line, where 'imported' would have; it is still read."""
    parts = tmp_path / "parts"
    parts.mkdir()
    job = Job(runtime.dsn, "1'; SELECT 1; --", 10, ["programs"], str(parts), 1 << 20)
    second = await start(PART_MODULE, job)
    assert second.stdout is not None
    first_line = await second.stdout.readline()
    with pytest.raises(ReplayError, match="not a snapshot id"):
        await _outcome(second, first_line)
    assert list(parts.iterdir()) == []


async def test_a_second_process_stops_at_once_when_the_first_is_gone(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Killed, the first process cannot stop the second; its stdin closing does."""
    head = await play_all(runtime.ledger)
    parts = tmp_path / "parts"
    parts.mkdir()
    exporter = await asyncpg.connect(runtime.dsn)
    try:
        async with (
            exporter.transaction(isolation="repeatable_read", readonly=True),
            tamper.superuser(runtime.dsn) as su,
            su.transaction(),
        ):
            exported = await exporter.fetchval("SELECT pg_export_snapshot()")
            # The second's scan of the log waits on this lock: it is folding, not done.
            await su.execute("LOCK TABLE event_log IN ACCESS EXCLUSIVE MODE")
            job = Job(runtime.dsn, exported, head, ["programs"], str(parts), 1)
            second = await start(PART_MODULE, job)
            assert second.stdin is not None
            assert second.stdout is not None
            assert await second.stdout.readline() == IMPORTED
            second.stdin.close()  # as the pipe does when the first process is killed
            code = await asyncio.wait_for(second.wait(), 10)
    finally:
        await exporter.close()
    await second.communicate()
    assert code == ORPHANED
    assert not parts.exists()  # the directory the first made for its parts, taken back
