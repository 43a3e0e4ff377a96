"""Signed checkpoints: within a second of growth, batched, consistent, one per size."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest
import structlog.testing

from ledger.runtime import Runtime, running
from ledger.store import checkpoints, tree
from ledger.store.checkpoints import Checkpointer, RefusedToSign
from ledger.store.identity import IdentityError, establish
from ledger.store.signed_memory import SignedMemory, memory_path
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.keys import Signer, generate_signer
from ledger.tlog.note import open_note
from tests.factory import ADMIN, institution, posted


async def _wait_checkpoint(db_dsn: str, size: int, within: float = 5.0) -> checkpoints.Signed:
    # Generous: a loaded machine can stall the half-second signing. How soon the log signs
    # is the benchmark's checkpoint lag, not a test's wall clock.
    conn = await asyncpg.connect(db_dsn)
    try:
        deadline = time.monotonic() + within
        while True:
            found = await checkpoints.latest(conn)
            if found is not None and found.size >= size:
                return found
            assert time.monotonic() < deadline, f"no checkpoint of size {size} in {within}s"
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_a_post_is_checkpointed_with_no_other_post_after_it(
    runtime: Runtime, db_dsn: str, log_signer: Signer
) -> None:
    """The active sealer signs the new size on its own, over the stored tree's root."""
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    signed = await _wait_checkpoint(db_dsn, 1)
    note, _ = open_note(signed.note, [log_signer.verifier()])
    body = parse_checkpoint(note.text)
    assert (body.origin, body.size) == (log_signer.name, 1)
    conn = await asyncpg.connect(db_dsn)
    try:
        assert body.root == await tree.root_at(conn, 1) == signed.root
    finally:
        await conn.close()


async def test_checkpoints_are_batched_not_per_event(runtime: Runtime, db_dsn: str) -> None:
    """Many posts in a burst get a few checkpoints, the last of the full size."""
    await asyncio.gather(
        *(runtime.ledger.post(posted(institution(f"B-{i}")), ADMIN) for i in range(60))
    )
    await _wait_checkpoint(db_dsn, 60)
    conn = await asyncpg.connect(db_dsn)
    try:
        count = await conn.fetchval("SELECT count(*) FROM log_checkpoints")
    finally:
        await conn.close()
    assert 1 <= count <= 10


async def test_a_second_checkpoint_of_one_size_is_refused_by_the_database(
    runtime: Runtime, db_dsn: str
) -> None:
    """The size is the key: no two checkpoints of one size can be stored."""
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    signed = await _wait_checkpoint(db_dsn, 1)
    conn = await asyncpg.connect(db_dsn)
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, 'x')",
                signed.size,
                bytes(32),
            )
    finally:
        await conn.close()


async def _rewrite_first_leaf_and_grow(conn: asyncpg.Connection) -> bytes:
    """As someone who controls the database: the first of two leaves rewritten (triggers
    off), then the tree grown to 3. Returns the rewritten tree's root at 2."""
    await conn.execute("SET LOCAL session_replication_role = replica")
    # The tile still filling: its leaves' rows (migration 0023).
    await conn.execute(
        # One bit flipped: a byte set to a fixed value would leave the 1 in 256 leaves
        # already holding it unchanged, and the tree consistent.
        "UPDATE log_tile_leaves SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1)"
        " WHERE idx = 0 AND n = 0"
    )
    forged = await tree.root_at(conn, 2)
    await conn.execute("UPDATE log_tree SET size = 3")
    await conn.execute("INSERT INTO log_tile_leaves (idx, n, hash) VALUES (0, 2, sha256('x'))")
    return forged


async def test_the_log_refuses_to_sign_a_tree_inconsistent_with_its_checkpoint(
    runtime: Runtime, db_dsn: str, log_signer: Signer
) -> None:
    """A leaf rewritten below a signed checkpoint stops signing (RefusedToSign)."""
    await runtime.ledger.post(posted(institution("B-1"), institution("B-2")), ADMIN)
    await _wait_checkpoint(db_dsn, 2)
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            await _rewrite_first_leaf_and_grow(conn)
        checkpointer = Checkpointer(log_signer)
        await checkpointer.start(conn)
        with pytest.raises(RefusedToSign, match="not consistent"):
            await checkpointer.sign(conn, 3)
    finally:
        await conn.close()


async def test_a_stored_root_rewritten_beside_its_signed_note_stops_signing(
    runtime: Runtime, db_dsn: str, log_signer: Signer
) -> None:
    """A leaf rewritten and the checkpoint row's root set to the rewritten tree's: the
    note still states the signed root, so the log neither trusts the row nor signs on."""
    await runtime.ledger.post(posted(institution("B-1"), institution("B-2")), ADMIN)
    await _wait_checkpoint(db_dsn, 2)
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            forged = await _rewrite_first_leaf_and_grow(conn)
            await conn.execute("UPDATE log_checkpoints SET root = $1 WHERE size = 2", forged)
        checkpointer = Checkpointer(log_signer)
        await checkpointer.start(conn)
        assert checkpointer.refusing is not None
        assert "another origin, size or root" in checkpointer.refusing
        assert await checkpointer.after_round(conn, 3) is None
        assert await conn.fetchval("SELECT max(size) FROM log_checkpoints") == 2
    finally:
        await conn.close()


async def _two_signed(
    runtime: Runtime, db_dsn: str, log_signer: Signer, tmp_path: Path
) -> SignedMemory:
    """B-1 and B-2 posted and checkpointed at 2; the memory beside the key (empty yet)."""
    await runtime.ledger.post(posted(institution("B-1"), institution("B-2")), ADMIN)
    await _wait_checkpoint(db_dsn, 2)
    return SignedMemory(tmp_path / "log-signing.key.last-signed", log_signer.name)


async def test_a_checkpoint_row_removed_and_the_tree_rewritten_is_not_signed_again(
    runtime: Runtime, db_dsn: str, log_signer: Signer, tmp_path: Path
) -> None:
    """The service remembers what it signed outside the database: with checkpoint 2's row
    deleted and its leaves rewritten, it signs neither 2 again nor 3 over them (a service
    without that memory would: the last check)."""
    memory = await _two_signed(runtime, db_dsn, log_signer, tmp_path)
    conn = await asyncpg.connect(db_dsn)
    try:
        await Checkpointer(log_signer, memory=memory).sign(conn, 2)  # stored already: kept
        remembered = memory.load()
        assert remembered is not None
        assert remembered.size == 2
        async with conn.transaction():
            await _rewrite_first_leaf_and_grow(conn)
            await conn.execute("DELETE FROM log_checkpoints")
        checkpointer = Checkpointer(log_signer, memory=memory)
        await checkpointer.start(conn)
        assert checkpointer.signed_size() == 0
        with pytest.raises(RefusedToSign, match="does not extend it"):
            await checkpointer.sign(conn, 2)
        with pytest.raises(RefusedToSign, match="remembered checkpoint 2"):
            await checkpointer.sign(conn, 3)
        assert await conn.fetchval("SELECT count(*) FROM log_checkpoints") == 0
        await Checkpointer(log_signer).sign(conn, 3)  # without the memory it would sign
    finally:
        await conn.close()


async def test_a_checkpoint_it_cannot_remember_is_not_signed(
    runtime: Runtime, db_dsn: str, log_signer: Signer, tmp_path: Path
) -> None:
    await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    await _wait_checkpoint(db_dsn, 1)
    await runtime.ledger.post(posted(institution("B-2")), ADMIN)
    memory = SignedMemory(tmp_path / "no-such-folder" / "last-signed", log_signer.name)
    conn = await asyncpg.connect(db_dsn)
    try:
        checkpointer = Checkpointer(log_signer, memory=memory)
        await checkpointer.start(conn)
        await conn.execute("DELETE FROM log_checkpoints WHERE size = 2")  # if signed meanwhile
        with pytest.raises(RefusedToSign, match="cannot remember checkpoint 2"):
            await checkpointer.sign(conn, 2)
    finally:
        await conn.close()


async def test_a_new_store_creates_its_key_file_mode_0600(db_dsn: str, tmp_path: Path) -> None:
    """The first start writes the key (0600) and records its verifier key and origin."""
    key = tmp_path / "keys" / "log-signing.key"
    conn = await asyncpg.connect(db_dsn)
    try:
        signer = await establish(conn, key, None)
        assert key.stat().st_mode & 0o777 == 0o600
        assert signer.name.startswith("guarantee-ledger/")
        assert len(signer.name) == 33
        row = await conn.fetchrow("SELECT origin, verifier_key FROM log_identity")
        assert (row["origin"], row["verifier_key"]) == (signer.name, signer.verifier().encode())
        assert (await establish(conn, key, None)).verifier() == signer.verifier()
    finally:
        await conn.close()


async def test_a_key_file_others_may_read_is_used_with_a_warning(
    db_dsn: str, tmp_path: Path
) -> None:
    key = tmp_path / "log-signing.key"
    key.write_text(generate_signer("guarantee-ledger/test").encode() + "\n")
    key.chmod(0o644)
    conn = await asyncpg.connect(db_dsn)
    try:
        with structlog.testing.capture_logs() as logs:
            await establish(conn, key, None)
    finally:
        await conn.close()
    [warning] = [e for e in logs if e["event"] == "log_key.readable_by_others"]
    assert (warning["mode"], warning["fix"]) == ("0o644", f"chmod 600 {key}")


async def test_another_key_or_none_refuses_to_start(db_dsn: str, tmp_path: Path) -> None:
    """Once recorded, a different key file or a missing one is refused, naming the fix."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await establish(conn, tmp_path / "a.key", "guarantee-ledger/test")
        other = tmp_path / "b.key"
        other.write_text(generate_signer("guarantee-ledger/test").encode() + "\n")
        with pytest.raises(IdentityError, match="is not this store's log key"):
            await establish(conn, other, None)
        with pytest.raises(IdentityError, match="does not exist"):
            await establish(conn, tmp_path / "missing.key", None)
        with pytest.raises(IdentityError, match="LEDGER_LOG_ORIGIN"):
            await establish(conn, tmp_path / "a.key", "guarantee-ledger/other")
    finally:
        await conn.close()


@pytest.mark.parametrize("origin", ['账本<"x">|{y}', "a%zz", "a#b", "1a:b/c", "x[y"])
async def test_a_new_store_is_not_named_by_what_is_no_schema_less_url(
    db_dsn: str, tmp_path: Path, origin: str
) -> None:
    """The origin is every checkpoint's first line and every CloudEvent's source (a
    URI-reference): refused before a key is made or anything recorded."""
    conn = await asyncpg.connect(db_dsn)
    try:
        with pytest.raises(IdentityError, match="cannot name a new log"):
            await establish(conn, tmp_path / "a.key", origin)
        assert await conn.fetchval("SELECT count(*) FROM log_identity") == 0
    finally:
        await conn.close()
    assert not (tmp_path / "a.key").exists()


@pytest.mark.parametrize(
    "origin", ["ledger.example.com/guarantees", "ledger.example.com:8443/log", "a%20b/c:d"]
)
async def test_a_new_store_is_named_by_a_schema_less_url(
    db_dsn: str, tmp_path: Path, origin: str
) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        signer = await establish(conn, tmp_path / "a.key", origin)
    finally:
        await conn.close()
    assert signer.name == origin


async def test_a_key_made_before_keeps_its_name(db_dsn: str, tmp_path: Path) -> None:
    """A key file made earlier (by an earlier release, or kept from a store being
    restored) is not renamed: the check is for the keys the ledger makes."""
    key = tmp_path / "a.key"
    key.write_text(generate_signer("账本.example.cn/ledger").encode() + "\n")
    conn = await asyncpg.connect(db_dsn)
    try:
        await establish(conn, key, None)  # its first start, as an earlier release made it
        signer = await establish(conn, key, "账本.example.cn/ledger")
    finally:
        await conn.close()
    assert signer.name == "账本.example.cn/ledger"


async def test_a_signed_store_that_lost_its_identity_gets_no_new_key(
    db_dsn: str, tmp_path: Path
) -> None:
    """A restore without `log_identity` is refused, not given a second key for the same log."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO log_checkpoints (size, root, note) VALUES (32, $1, 'a note')",
            bytes(32),
        )
        key = tmp_path / "log-signing.key"
        with pytest.raises(IdentityError, match="signed up to size 32, but not the log's identity"):
            await establish(conn, key, None)
        assert not key.exists()
        assert await conn.fetchval("SELECT count(*) FROM log_identity") == 0
    finally:
        await conn.close()


async def test_a_store_beside_what_the_service_signed_is_refused_when_it_starts(
    runtime: Runtime, db_dsn: str, log_signer: Signer, tmp_path: Path
) -> None:
    """A store restored from an older backup and grown with other events is found out when
    the checkpointer starts, and said at once, not at the next signing."""
    memory = await _two_signed(runtime, db_dsn, log_signer, tmp_path)
    conn = await asyncpg.connect(db_dsn)
    try:
        await Checkpointer(log_signer, memory=memory).sign(conn, 2)  # stored already: kept
        async with conn.transaction():
            await _rewrite_first_leaf_and_grow(conn)
            await conn.execute("DELETE FROM log_checkpoints")
        checkpointer = Checkpointer(log_signer, memory=memory)
        with structlog.testing.capture_logs() as logs:
            await checkpointer.start(conn)
        assert checkpointer.refusing is not None
        assert "the stored tree at that size has another root" in checkpointer.refusing
        assert [e["event"] for e in logs] == ["checkpoint.refused"]
        assert await checkpointer.after_round(conn, 3) is None
    finally:
        await conn.close()


async def test_a_store_behind_what_the_service_signed_is_said_when_it_starts(
    runtime: Runtime, db_dsn: str, log_signer: Signer, tmp_path: Path
) -> None:
    """A store holding less than the service remembers signing is logged at start; signing
    waits for the tree to extend it rather than refusing for good."""
    memory = await _two_signed(runtime, db_dsn, log_signer, tmp_path)
    conn = await asyncpg.connect(db_dsn)
    try:
        root = await tree.root_at(conn, 2)
        memory.save(Checkpoint(log_signer.name, 5, root))  # a checkpoint of a later store
        checkpointer = Checkpointer(log_signer, memory=memory)
        with structlog.testing.capture_logs() as logs:
            await checkpointer.start(conn)
        [behind] = [e for e in logs if e["event"] == "checkpoint.store_behind"]
        assert (behind["remembered"], behind["stored"], behind["tree"]) == (5, 2, 2)
        assert checkpointer.refusing is None
    finally:
        await conn.close()


async def test_a_refusal_found_at_start_stays_on_the_sealer(
    db_dsn: str, log_signer: Signer, tmp_path: Path
) -> None:
    """What the metric `ledger_checkpoint_signing_refused` reads: a refusal the checkpointer
    found when it started stays, round after round (it read 0 while nothing was signed)."""
    async with running(db_dsn, signer=log_signer) as rt:
        await rt.ledger.post(posted(institution("B-1"), institution("B-2")), ADMIN)
        await _wait_checkpoint(db_dsn, 2)
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("UPDATE log_checkpoints SET root = sha256('x') WHERE size = 2")
    finally:
        await conn.close()
    async with running(db_dsn, signer=log_signer) as rt:
        await rt.ledger.post(posted(institution("B-4")), ADMIN)
        async with asyncio.timeout(10):
            while rt.sealer.refusal is None:
                await asyncio.sleep(0.05)
        assert "is not the log's" in rt.sealer.refusal
        await asyncio.sleep(0.3)  # rounds after it
        assert rt.sealer.refusal is not None


async def test_a_new_store_refuses_a_key_that_signed_another_store_s_log(
    db_dsn: str, tmp_path: Path
) -> None:
    """The key file beside another store (its `.last-signed` says so) is not taken by a new
    one: two histories would share one log's name and key."""
    key = tmp_path / "log-signing.key"
    signer = generate_signer("guarantee-ledger/test")
    key.write_text(signer.encode() + "\n")
    key.chmod(0o600)
    SignedMemory(memory_path(key), signer.name).save(Checkpoint(signer.name, 42, bytes(32)))
    conn = await asyncpg.connect(db_dsn)
    try:
        with pytest.raises(
            IdentityError, match=r"has signed another store's log \S+ \(up to size 42"
        ):
            await establish(conn, key, None)
        assert await conn.fetchval("SELECT count(*) FROM log_identity") == 0
    finally:
        await conn.close()
