"""Replay to any point equals what the live read models showed when the log stood there."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ledger.audit.compare import compare_live
from ledger.audit.replay import ReplayError, replay
from ledger.audit.state import state_at
from ledger.runtime import Runtime
from ledger.seeds import SME_ID
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from tests.integration.audit import readmodels, tamper
from tests.integration.audit.scenario import play, play_all


async def _follow(runtime: Runtime) -> ProjectionRunner:
    runner = ProjectionRunner(runtime.dsn)
    await runner.catch_up()
    return runner


async def test_replay_to_each_past_position_equals_the_live_read_models_then(
    runtime: Runtime,
) -> None:
    runner = ProjectionRunner(runtime.dsn)
    seen: dict[int, readmodels.Bodies] = {}
    try:
        async for position in play(runtime.ledger):
            assert await runner.catch_up() == position
            seen[position] = await readmodels.live(runtime.pool)
    finally:
        await runner.close()
    # By the end every read model exists, so equality below compares real bodies.
    assert None not in seen[max(seen)].values()
    async with runtime.pool.acquire() as conn:
        for position, bodies in seen.items():
            fold = await replay(conn, to_position=position)
            assert readmodels.replayed(fold) == bodies, position


async def test_replay_as_of_a_moment_stops_after_the_events_recorded_by_then(
    runtime: Runtime,
) -> None:
    await play_all(runtime.ledger)
    moment: dt.datetime = await runtime.pool.fetchval(
        "SELECT e.recorded_at FROM events e JOIN event_log l USING (seq) WHERE l.position = 13"
    )
    async with runtime.pool.acquire() as conn:
        fold = await replay(conn, as_of=moment)
        before = await replay(conn, as_of=moment - dt.timedelta(microseconds=1))
    assert (fold.position, before.position) == (13, 12)


async def test_replay_beyond_the_head_is_refused(runtime: Runtime) -> None:
    head = await play_all(runtime.ledger)
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ReplayError, match="beyond the head"):
            await replay(conn, to_position=head + 1)


async def test_replay_refuses_a_log_whose_chain_is_broken(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":400000000')
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ReplayError, match="position 14"):
            await replay(conn)


async def test_state_at_a_position_answers_the_guarantee_as_it_stood_then(
    runtime: Runtime,
) -> None:
    await play_all(runtime.ledger)
    async with runtime.pool.acquire() as conn:
        issued = await state_at(conn, 13, guarantee_id="G-1")
        defaulted = await state_at(conn, 16, guarantee_id="G-1")
        before = await state_at(conn, 12, guarantee_id="G-1")
    assert issued is not None
    assert defaulted is not None
    assert (issued["status"], issued["position"]) == ("active", 13)
    assert defaulted["status"] == "defaulted"
    assert before is None


async def test_state_at_answers_claims_and_smes_too(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with runtime.pool.acquire() as conn:
        claim = await state_at(conn, 19, claim_id="C-1")
        exposure = await state_at(conn, 13, sme_id=SME_ID)
    assert claim is not None
    assert exposure is not None
    assert claim["status"] == "compensated"
    assert exposure["programs"][0]["balance"] == 1_000_000_000


async def test_state_at_needs_exactly_one_id(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ValueError, match="exactly one"):
            await state_at(conn, 1, guarantee_id="G-1", claim_id="C-1")


async def test_live_read_models_compare_equal_to_a_replay(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    await (await _follow(runtime)).close()
    async with runtime.pool.acquire() as conn:
        comparison = await compare_live(conn)
    assert comparison.same
    assert set(comparison.positions.values()) == {22}


async def test_compare_lists_a_live_read_model_value_that_differs(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    await (await _follow(runtime)).close()
    conn = await asyncpg.connect(runtime.dsn)
    try:
        await conn.execute(
            """UPDATE proj_guarantees SET doc = jsonb_set(doc, '{balance}', '1')
                WHERE key = 'guarantee:G-2'"""
        )
        comparison = await compare_live(conn)
    finally:
        await conn.close()
    assert [(d.projection, d.key, d.path, d.live) for d in comparison.differences] == [
        ("guarantees", "guarantee:G-2", "$.balance", 1)
    ]


async def _two_behind(runtime: Runtime) -> tuple[int, int]:
    """The scenario played with every read model caught up half-way, then guarantees and
    claims to the end: the two positions."""
    half = 0
    async for position in play(runtime.ledger):
        if not half and position >= 12:
            half = position
            await (await _follow(runtime)).close()  # every read model to here
    some = ProjectionRunner(runtime.dsn, ["guarantees", "claims"])
    try:
        end = await some.catch_up()
    finally:
        await some.close()
    return half, end


async def test_read_models_at_different_positions_each_compare_equal_to_the_replay_there(
    runtime: Runtime,
) -> None:
    half, end = await _two_behind(runtime)
    async with runtime.pool.acquire() as conn:
        comparison = await compare_live(conn)
    assert comparison.same
    assert comparison.positions == {
        "claims": end,
        "guarantees": end,
        "institutions": half,
        "movements": half,
        "programs": half,
        "sme_exposure": half,
    }
    assert half < end


async def test_compare_finds_a_difference_in_a_read_model_behind_the_others(
    runtime: Runtime,
) -> None:
    await _two_behind(runtime)
    async with runtime.pool.acquire() as conn:
        key = await conn.fetchval("SELECT min(key) FROM proj_programs")
        await conn.execute(
            "UPDATE proj_programs SET doc = doc || '{\"extra\": 7}' WHERE key = $1", key
        )
        comparison = await compare_live(conn)
    assert [(d.projection, d.key, d.path, d.live) for d in comparison.differences] == [
        ("programs", key, "$.extra", 7)
    ]


async def test_compare_lists_documents_found_on_one_side_only(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    await (await _follow(runtime)).close()
    async with runtime.pool.acquire() as conn:
        await conn.execute("DELETE FROM proj_guarantees WHERE key = 'guarantee:G-1'")
        await conn.execute(
            """INSERT INTO proj_guarantees (generation, key, doc)
               SELECT generation, 'guarantee:G-9', '{"balance": 3}' FROM proj_guarantees
                LIMIT 1"""
        )
        comparison = await compare_live(conn)
    missing, extra = comparison.differences
    assert missing.describe().startswith("guarantees guarantee:G-1 $: live absent, replayed {")
    assert extra.describe() == "guarantees guarantee:G-9 $: live {'balance': 3}, replayed absent"


async def test_compare_tells_a_float_from_the_integer_of_the_same_value(
    runtime: Runtime,
) -> None:
    await play_all(runtime.ledger)
    await (await _follow(runtime)).close()
    async with runtime.pool.acquire() as conn:
        balance = await conn.fetchval(
            "SELECT (doc->>'balance')::bigint FROM proj_guarantees WHERE key = 'guarantee:G-2'"
        )
        await conn.execute(
            """UPDATE proj_guarantees SET doc = jsonb_set(doc, '{balance}', $1::text::jsonb)
                WHERE key = 'guarantee:G-2'""",
            f"{balance}.0",
        )
        comparison = await compare_live(conn)
    assert [(d.key, d.path, d.live, d.replayed) for d in comparison.differences] == [
        ("guarantee:G-2", "$.balance", float(balance), balance)
    ]


async def test_a_fold_of_some_read_models_reads_only_the_type_of_other_events(
    runtime: Runtime,
) -> None:
    """Its documents and position are those of a fold that decodes every event (as one
    with a moment to stop at does)."""
    head = await play_all(runtime.ledger)
    chosen = [PROJECTIONS["guarantees"], PROJECTIONS["claims"]]
    far = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
    async with runtime.pool.acquire() as conn:
        skipping = await replay(conn, projections=chosen)
        decoding = await replay(conn, projections=chosen, as_of=far)
    assert skipping.position == decoding.position == head
    for name in ("guarantees", "claims"):
        assert skipping.documents(name) == decoding.documents(name)
        assert skipping.documents(name)
    async with runtime.pool.acquire() as conn:
        registered = await conn.fetchval(
            """SELECT max(l.position) FROM event_log l JOIN events e USING (seq)
                WHERE e.type = 'sme.registered'"""
        )
        # Up to an event neither read model handles: the fold stands at it all the same.
        assert (await replay(conn, to_position=registered, projections=chosen)).position == (
            registered
        )


async def test_an_event_no_read_model_folds_is_still_checked_against_its_link(
    runtime: Runtime,
) -> None:
    await play_all(runtime.ledger)
    async with runtime.pool.acquire() as conn:
        position = await conn.fetchval(
            """SELECT l.position FROM event_log l JOIN events e USING (seq)
                WHERE e.type = 'sme.registered' ORDER BY l.position LIMIT 1"""
        )
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, position, b"Photonics", b"Phot0nics")
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ReplayError, match=f"position {position}"):
            await replay(conn, projections=[PROJECTIONS["guarantees"]])


async def test_replay_refuses_a_log_with_an_event_taken_out(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.remove(su, 14)
    async with runtime.pool.acquire() as conn:
        assert (await replay(conn, to_position=13)).position == 13  # whole before it
        with pytest.raises(ReplayError, match="position 14"):
            await replay(conn)


async def test_replay_refuses_a_log_row_whose_event_row_is_gone(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        seq = await tamper.seq_at(su, 14)
        await su.execute("DELETE FROM events WHERE seq = $1", seq)
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ReplayError, match="position 14"):
            await replay(conn)
