"""Verify recomputes the Merkle tree and its signed checkpoints: tree rows rewritten are named."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import asyncpg

from ledger.runtime import Runtime
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from tests.factory import ADMIN, institution, posted
from tests.integration.audit import tamper
from tests.integration.audit.verifying import verified


async def _fill(runtime: Runtime, count: int, first: int = 0) -> None:
    """Events up to `count` (from `first`), then a checkpoint covering them all."""
    for start in range(first, count, 100):
        batch = [institution(f"B-{i}") for i in range(start, min(count, start + 100))]
        await runtime.ledger.post(posted(*batch), ADMIN)
    for _ in range(100):
        if await runtime.pool.fetchval("SELECT max(size) FROM log_checkpoints") == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no checkpoint of the whole log")


async def _as_superuser(runtime: Runtime, *statements: str) -> None:
    """Run statements past every trigger, as a database superuser could."""
    conn = await asyncpg.connect(runtime.dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                await conn.execute(statement)
    finally:
        await conn.close()


def _flip_entry(level: int, idx: int, entry: int) -> str:
    """SQL flipping the first byte of one hash of a tile."""
    at = entry * 32
    return (
        f"UPDATE log_tiles SET hashes = overlay(hashes PLACING "
        f"set_byte(substring(hashes FROM {at + 1} FOR 1), 0, "
        f"get_byte(hashes, {at}) # 1) FROM {at + 1} FOR 1) "
        f"WHERE level = {level} AND idx = {idx}"
    )


def _flip_leaf(idx: int, n: int) -> str:
    """SQL flipping the first byte of one leaf of the level-0 tile still filling."""
    return (
        "UPDATE log_tile_leaves SET hash = overlay(hash PLACING "
        "set_byte(substring(hash FROM 1 FOR 1), 0, get_byte(hash, 0) # 1) FROM 1 FOR 1) "
        f"WHERE idx = {idx} AND n = {n}"
    )


async def test_an_untouched_tree_and_its_checkpoints_verify(runtime: Runtime) -> None:
    """Tiles of two levels and every checkpoint agree with the events."""
    await _fill(runtime, 300)
    assert (await verified(runtime.dsn)).ok


async def test_a_changed_leaf_hash_is_named_at_its_position(runtime: Runtime) -> None:
    """One byte of leaf 41's stored hash, in the tile still filling: verify names
    position 42 as changed."""
    await _fill(runtime, 60)
    await _as_superuser(runtime, _flip_leaf(0, 41))
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 42, "changed")
    assert "tile 0/000.p/60" in (report.reason or "")


async def test_a_changed_hash_of_a_full_tile_is_named_at_its_position(runtime: Runtime) -> None:
    """One byte of leaf 41's hash in the full tile of leaves 0..255: position 42."""
    await _fill(runtime, 300)
    await _as_superuser(runtime, _flip_entry(0, 0, 41))
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 42, "changed")


async def test_a_changed_upper_tile_is_named_at_the_first_position_it_covers(
    runtime: Runtime,
) -> None:
    """The level-1 hash of leaves 0..255 rewritten: position 1 is named."""
    await _fill(runtime, 300)
    await _as_superuser(runtime, _flip_entry(1, 0, 0))
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 1, "changed")


async def test_a_removed_tile_is_named(runtime: Runtime) -> None:
    """A deleted full tile row is named at the first position it held."""
    await _fill(runtime, 300)
    await _as_superuser(runtime, "DELETE FROM log_tiles WHERE level = 0 AND idx = 0")
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 1, "changed")


async def test_removed_leaves_of_the_tile_filling_are_named(runtime: Runtime) -> None:
    """The leaves of the tile still filling deleted: the first position they held."""
    await _fill(runtime, 300)
    await _as_superuser(runtime, "DELETE FROM log_tile_leaves WHERE idx = 1")
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 257, "changed")


async def test_a_rewritten_tree_size_is_named_at_the_first_position_it_leaves_out(
    runtime: Runtime,
) -> None:
    """The tiles intact, the size the sealer grows the tree from set back: named."""
    await _fill(runtime, 34)
    await _as_superuser(runtime, "UPDATE log_tree SET size = 20")
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 21, "changed")
    assert report.reason is not None
    assert "records its size as 20" in report.reason


async def test_a_rewritten_checkpoint_is_named(runtime: Runtime) -> None:
    """A checkpoint row whose root was replaced no longer matches the events."""
    await _fill(runtime, 20)
    await _as_superuser(runtime, "UPDATE log_checkpoints SET root = sha256('x') WHERE size = 20")
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (
        False,
        20,
        "checkpoint-mismatch",
    )
    # Its signed note still states the root the events give: the row is blamed, not them.
    assert "the checkpoint row was rewritten, not the events" in (report.reason or "")


async def test_a_digest_caught_rewrite_vouches_for_the_checkpoint_before_it(
    runtime: Runtime,
) -> None:
    """Checkpoints at 20 and 40, a digest at 30, then event 25 rewritten with every link
    and the tree recomputed: the digest names 30, and the checkpoint at 20, read in the
    same batch, is still vouched for."""
    await _fill(runtime, 20)
    await _fill(runtime, 40, first=20)
    rows = await runtime.pool.fetch("SELECT position, hash FROM event_log")
    links = {r["position"]: bytes(r["hash"]) for r in rows}
    sizes = [r["size"] for r in await runtime.pool.fetch("SELECT size FROM log_checkpoints")]
    assert 20 in sizes
    assert not [s for s in sizes if 20 < s < 40]
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 25, b"Institution B-24", b"Institution F-24")
        await tamper.reseal(su)
    report = await verified(runtime.dsn, digest=(30, links[30]))
    assert (report.first_bad_position, report.problem) == (30, "digest-mismatch")
    assert (report.verified_through, report.head_hash) == (20, links[20].hex())


async def test_a_crude_break_after_a_thorough_rewrite_hides_nothing(runtime: Runtime) -> None:
    """Event 15 rewritten with every link and the tree recomputed, then event 25 changed
    crudely: the checkpoint at 20, read in the batch that breaks at 25, still names the
    rewrite, and nothing is vouched for."""
    await _fill(runtime, 20)
    await _fill(runtime, 40, first=20)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 15, b"Institution B-14", b"Institution F-14")
        await tamper.reseal(su)
        await tamper.change_body(su, 25, b"Institution B-24", b"Institution F-24")
    report = await verified(runtime.dsn)
    assert (report.first_bad_position, report.problem) == (20, "checkpoint-mismatch")
    assert report.verified_through == 0


async def test_a_recorded_log_key_rewritten_into_no_key_is_a_finding_not_a_crash(
    runtime: Runtime,
) -> None:
    await _fill(runtime, 20)
    await _as_superuser(runtime, "UPDATE log_identity SET verifier_key = 'garbage'")
    report = await verified(runtime.dsn)
    assert (report.ok, report.problem) == (False, "checkpoint-mismatch")
    first = await runtime.pool.fetchval("SELECT min(size) FROM log_checkpoints")
    assert report.first_bad_position == first
    assert "the log's identity was rewritten" in (report.reason or "")


async def test_a_checkpoint_whose_note_and_root_were_both_rewritten_blames_the_row(
    runtime: Runtime,
) -> None:
    """A note stating a made-up root no longer carries the log's signature: the row was
    rewritten; the events, checked link by link, were not."""
    await _fill(runtime, 20)
    conn = await asyncpg.connect(runtime.dsn)
    try:
        note: str = await conn.fetchval("SELECT note FROM log_checkpoints WHERE size = 20")
    finally:
        await conn.close()
    origin, size, _root = note.split("\n", 3)[:3]
    forged_root = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    forged = note.replace(f"{origin}\n{size}\n{_root}\n", f"{origin}\n{size}\n{forged_root}\n")
    await _as_superuser(
        runtime,
        f"UPDATE log_checkpoints SET root = sha256('x'), note = $${forged}$$ WHERE size = 20",
    )
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (
        False,
        20,
        "checkpoint-mismatch",
    )
    assert "not signed by the log's key: the checkpoint row was rewritten" in (report.reason or "")


async def test_a_forged_checkpoint_note_is_named(runtime: Runtime) -> None:
    """A checkpoint note whose signature was altered fails the log key."""
    await _fill(runtime, 20)
    await _as_superuser(
        runtime,
        "UPDATE log_checkpoints SET note = replace(note, '\u2014 ', '\u2014 x') WHERE size = 20",
    )
    report = await verified(runtime.dsn)
    assert (report.ok, report.problem) == (False, "checkpoint-mismatch")
    assert "not signed by the log's key" in (report.reason or "")


async def test_a_checkpoint_beyond_a_truncated_log_is_a_removal(runtime: Runtime) -> None:
    """The last event removed after its checkpoint was signed: removed at that position."""
    await _fill(runtime, 20)
    await _as_superuser(
        runtime,
        "DELETE FROM events WHERE seq = (SELECT seq FROM event_log WHERE position = 20)",
        "DELETE FROM event_log WHERE position = 20",
    )
    report = await verified(runtime.dsn)
    assert (report.ok, report.first_bad_position, report.problem) == (False, 20, "removed")


async def test_checkpoints_left_without_the_log_key_they_were_signed_by_are_a_finding(
    runtime: Runtime,
) -> None:
    """Event 15 rewritten with every link, the tree and the checkpoints' roots recomputed,
    and the recorded log key removed so that no signed note is checked against it."""
    await _fill(runtime, 20)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 15, b"Institution B-14", b"Institution F-14")
        await tamper.reseal(su)
        leaves = [leaf_hash(await tamper.body_at(su, n)) for n in range(1, 21)]
        sizes = [int(r[0]) for r in await su.fetch("SELECT size FROM log_checkpoints")]
    for size in sizes:  # the rows' roots now those of the rewritten events
        await tamper.past_triggers(
            runtime.dsn,
            "UPDATE log_checkpoints SET root = $1 WHERE size = $2",
            root_of_leaves(leaves[:size]),
            size,
        )
    await tamper.past_triggers(runtime.dsn, "DELETE FROM log_identity")
    report = await verified(runtime.dsn)
    assert (report.ok, report.problem) == (False, "checkpoint-mismatch")
    assert report.first_bad_position == await runtime.pool.fetchval(
        "SELECT min(size) FROM log_checkpoints"
    )
    assert "records no log key" in (report.reason or "")
