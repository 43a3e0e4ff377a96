"""For every tree size up to 300, the store's proofs verify against the checkpoints it signed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.store import tree
from ledger.store.checkpoints import Checkpointer
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.keys import Signer, generate_signer
from ledger.tlog.note import open_note
from ledger.tlog.proofs import verify_consistency, verify_inclusion
from tests import pg

MAX = 300
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(MAX)]
SIGNER: Signer = generate_signer("guarantee-ledger/proptest")


@pytest.fixture(scope="module")
def signed_tree(pg_admin_dsn: str, pg_template: str) -> Iterator[tuple[str, dict[int, bytes]]]:
    """A tree grown one leaf at a time, a checkpoint signed at every size: DSN and roots."""

    async def build() -> tuple[str, dict[int, bytes]]:
        name = await pg.create_database(pg_admin_dsn, pg_template)
        dsn = pg.with_database(pg_admin_dsn, name)
        conn = await asyncpg.connect(dsn)
        try:
            checkpointer = Checkpointer(SIGNER)
            await checkpointer.start(conn)
            roots = {}
            for size in range(1, MAX + 1):
                leaf = [LEAVES[size - 1]]
                await conn.execute("SELECT ledger_tree_append($1, $2)", size - 1, leaf)
                signed = await checkpointer.sign(conn, size)
                note, _ = open_note(signed.note, [SIGNER.verifier()])
                roots[size] = parse_checkpoint(note.text).root
        finally:
            await conn.close()
        return name, roots

    name, roots = asyncio.run(build())
    yield pg.with_database(pg_admin_dsn, name), roots
    asyncio.run(pg.drop_database(pg_admin_dsn, name))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(
    signed_tree: tuple[str, dict[int, bytes]], data: st.DataObject
) -> None:
    """Any position in any signed size, and any pair of signed sizes."""
    dsn, roots = signed_tree
    size = data.draw(st.integers(1, MAX))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))

    async def check() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            leaf, path, root = await tree.proof_with_root(conn, index, size)
            assert leaf == LEAVES[index]
            assert root == roots[size]
            verify_inclusion(index, size, LEAVES[index], path, roots[size])
            proof = await tree.consistency_proof(conn, old, size)
            verify_consistency(old, size, roots[old], roots[size], proof)
        finally:
            await conn.close()

    asyncio.run(check())
