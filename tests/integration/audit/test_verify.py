"""Chain verification on a real PostgreSQL, against rewrites made as a superuser."""

from __future__ import annotations

import asyncio

from ledger.runtime import Runtime
from tests.integration.audit import tamper
from tests.integration.audit.scenario import play_all
from tests.integration.audit.verifying import verified


async def _digest(runtime: Runtime, position: int) -> tuple[int, bytes]:
    value = await runtime.pool.fetchval("SELECT hash FROM event_log WHERE position = $1", position)
    return position, bytes(value)


async def _checkpointed(runtime: Runtime, size: int) -> int:
    """Wait (a few seconds at most) for a signed checkpoint of at least `size`; its size."""
    for _ in range(100):
        signed = await runtime.pool.fetchval("SELECT max(size) FROM log_checkpoints")
        if signed is not None and signed >= size:
            return int(signed)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no checkpoint of size {size}")


async def test_an_untouched_ledger_verifies_through_its_head_with_the_stored_head_hash(
    runtime: Runtime,
) -> None:
    head = await play_all(runtime.ledger)
    report = await verified(runtime.dsn)
    stored = await runtime.pool.fetchval("SELECT hash FROM event_log WHERE position = $1", head)
    assert (report.ok, report.verified_through, report.first_bad_position) == (True, head, None)
    assert report.head_hash == bytes(stored).hex()


async def test_an_empty_ledger_verifies_with_nothing_to_check(runtime: Runtime) -> None:
    report = await verified(runtime.dsn)
    assert (report.ok, report.verified_through) == (True, 0)


async def test_a_changed_body_is_named_at_its_position(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":400000000')
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 14, "changed")
    assert report.verified_through == 13


async def test_a_deleted_event_is_named_as_removed_at_its_position(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.remove(su, 9)
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (9, "removed")


async def test_a_log_row_deleted_without_its_event_is_named_as_removed(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await su.execute("DELETE FROM event_log WHERE position = 5")
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (5, "removed")


async def test_a_log_row_left_without_its_event_row_is_named_as_removed(runtime: Runtime) -> None:
    """No foreign key ties the log to its event rows; verification does."""
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await su.execute("DELETE FROM events WHERE seq = $1", await tamper.seq_at(su, 6))
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (6, "removed")


async def test_renumbered_log_after_a_deletion_is_still_caught_where_the_event_was_removed(
    runtime: Runtime,
) -> None:
    """The forger closes the gap and reseals: the left-out event row gives it away."""
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await su.execute("DELETE FROM event_log WHERE position = 7")
        await su.execute("UPDATE event_log SET position = position - 1 WHERE position > 7")
        await tamper.reseal(su)
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (7, "removed")


async def test_two_swapped_bodies_are_named_at_the_first_as_reordered(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.swap_bodies(su, 12, 15)
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (12, "reordered")
    assert "position 15" in (report.reason or "")


async def test_two_swapped_log_rows_are_named_at_the_first_as_reordered(
    runtime: Runtime,
) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.swap_positions(su, 12, 15)
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (12, "reordered")


async def test_a_reordered_log_relinked_by_a_forger_is_named_where_the_order_breaks(
    runtime: Runtime,
) -> None:
    """Two log rows swapped and every link recomputed: the recording order gives it away."""
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.swap_positions(su, 12, 15)
        await tamper.reseal(su)
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (12, "reordered")


async def test_verifying_through_a_position_before_a_rewrite_is_ok(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":400000000')
    report = await verified(runtime.dsn, through=13)
    assert (report.ok, report.verified_through) == (True, 13)


async def test_a_digest_taken_before_a_resealed_rewrite_catches_it(runtime: Runtime) -> None:
    """A forger who also recomputes every link and the tree fools the chain, but not an
    earlier digest, nor the checkpoints the log signed."""
    head = await play_all(runtime.ledger)
    digest = await _digest(runtime, 20)
    signed = await _checkpointed(runtime, head)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 17, b'"amount":600000000', b'"amount":60000000')
        await tamper.reseal(su)
    report = await verified(runtime.dsn)
    assert (report.ok, report.problem) == (False, "checkpoint-mismatch")
    assert 17 <= (report.first_bad_position or 0) <= signed
    report = await verified(runtime.dsn, digest=digest)
    assert (report.ok, report.first_bad_position, report.problem) == (
        False,
        20,
        "digest-mismatch",
    )


async def test_a_rewrite_relinked_beside_the_untouched_tree_is_named_and_vouched_before(
    runtime: Runtime,
) -> None:
    """Links recomputed, tiles left alone: the stored leaves name the position, and the
    report vouches for the positions before it only, with their link."""
    head = await play_all(runtime.ledger)
    await _checkpointed(runtime, head)
    before = await _digest(runtime, 16)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 17, b'"amount":600000000', b'"amount":60000000')
        await tamper.reseal(su, tree=False)
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 17, "changed")
    assert (report.verified_through, report.head_hash) == (16, before[1].hex())


async def test_a_failing_verify_vouches_for_no_position_a_signed_root_no_longer_covers(
    runtime: Runtime,
) -> None:
    """Links and tree recomputed: the report's digest is one taken before the rewrite."""
    head = await play_all(runtime.ledger)
    await _checkpointed(runtime, head)
    links = {position: (await _digest(runtime, position))[1] for position in range(1, head + 1)}
    links[0] = bytes(32)
    sizes = [r["size"] for r in await runtime.pool.fetch("SELECT size FROM log_checkpoints")]
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 17, b'"amount":600000000', b'"amount":60000000')
        await tamper.reseal(su)
    report = await verified(runtime.dsn)
    assert report.problem == "checkpoint-mismatch"
    # The last checkpoint before the rewrite still holds; none after it does.
    assert report.verified_through == max((s for s in sizes if s < 17), default=0)
    assert report.head_hash == links[report.verified_through].hex()


async def test_a_digest_beyond_a_truncated_head_reports_the_removed_tail(runtime: Runtime) -> None:
    head = await play_all(runtime.ledger)
    digest = await _digest(runtime, head)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.remove(su, head)
        await tamper.remove(su, head - 1)
    report = await verified(runtime.dsn, digest=digest)
    assert (report.ok, report.first_bad_position, report.problem) == (False, head - 1, "removed")


async def test_a_digest_of_the_untouched_history_is_confirmed(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    digest = await _digest(runtime, 10)
    report = await verified(runtime.dsn, digest=digest)
    assert (report.ok, report.verified_through) == (True, 22)


async def test_progress_reports_reach_the_head(runtime: Runtime) -> None:
    head = await play_all(runtime.ledger)
    seen: list[tuple[int, int]] = []
    await verified(runtime.dsn, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (head, head)
