"""A witness shown a rewritten history refuses to cosign, keeps the evidence and exits 3.

The log here is a small aiohttp fake that signs whatever tree the test gives it
with a real log key: the witness cannot tell it from the ledger, as intended.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from ledger.tlog.keys import COSIGNATURE_V1, ED25519, Signer, generate_signer
from ledger.tlog.note import sign
from ledger.tlog.proofs import Node, prove_consistency
from tests.e2e.fake_server import serving
from tests.e2e.ledger_cli import run_ledger

ORIGIN = "fake-ledger/0000000000000000"


class _Leaves:
    """A NodeReader over leaves held in memory."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)

    def read_nodes(self, nodes: Sequence[Node]) -> list[bytes]:
        return [root_of_leaves(self.leaves[i << lv : (i + 1) << lv]) for lv, i in nodes]


def _leaves(*names: str) -> list[bytes]:
    return [leaf_hash(n.encode()) for n in names]


@dataclass
class FakeLog:
    """Serves a checkpoint of `leaves` signed by `signer`, and proofs over them."""

    signer: Signer
    leaves: list[bytes]
    posted: list[str] = field(default_factory=list)
    origin: str = ORIGIN

    def note(self) -> str:
        size = len(self.leaves)
        text = Checkpoint(self.origin, size, root_of_leaves(self.leaves)).text()
        return sign(text, [self.signer])

    def app(self) -> web.Application:
        async def checkpoint(request: web.Request) -> web.Response:
            if not self.leaves:  # as the ledger answers with no checkpoint signed
                problem = {"type": "/problems/not-found", "title": "Not found", "status": 404,
                           "detail": "no checkpoint is signed yet"}  # fmt: skip
                return web.json_response(problem, status=404)
            return web.Response(text=self.note())

        async def consistency(request: web.Request) -> web.Response:
            old, new = int(request.query["from"]), int(request.query["to"])
            hashes = prove_consistency(old, new, _Leaves(self.leaves))
            body = {
                "from": old,
                "to": new,
                "hashes": [base64.b64encode(h).decode() for h in hashes],
            }
            return web.json_response(body)

        async def cosignatures(request: web.Request) -> web.Response:
            self.posted.append(await request.text())
            return web.json_response({"size": len(self.leaves), "cosignatures": []}, status=201)

        app = web.Application()
        app.router.add_get("/v1/log/checkpoint", checkpoint)
        app.router.add_get("/v1/log/proof/consistency", consistency)
        app.router.add_post("/v1/log/cosignatures", cosignatures)
        return app


@pytest.fixture
def log_key() -> Signer:
    return generate_signer(ORIGIN, ED25519)


@pytest.fixture
async def fake(log_key: Signer) -> AsyncIterator[tuple[FakeLog, str]]:
    log = FakeLog(log_key, _leaves("a0", "a1", "a2", "a3"))
    async with serving(log.app()) as url:
        yield log, url


def _witness_args(url: str, log_key: Signer, tmp_path: Path) -> list[str]:
    key = generate_signer("fw", COSIGNATURE_V1)
    key_file = tmp_path / "witness.key"
    key_file.write_text(key.encode() + "\n")
    return [
        "witness", "--url", url, "--api-key", "k", "--log-key", log_key.verifier().encode(),
        "--witness-key", str(key_file), "--state", str(tmp_path / "state"), "--once",
    ]  # fmt: skip


def _evidence(tmp_path: Path) -> Path:
    [folder] = (tmp_path / "state").glob("evidence-*")
    return folder


async def test_a_rewritten_history_is_never_cosigned(
    fake: tuple[FakeLog, str], log_key: Signer, tmp_path: Path
) -> None:
    log, url = fake
    args = _witness_args(url, log_key, tmp_path)
    assert (await run_ledger(*args)).code == 0
    assert len(log.posted) == 1
    cosigned = (tmp_path / "state" / "cosigned-checkpoint").read_text()
    # The log rewrites its first entry and grows: signed, but not an extension.
    log.leaves = _leaves("forged", "a1", "a2", "a3", "a4", "a5")
    ran = await run_ledger(*args)
    assert ran.code == 3, ran.err
    assert "not consistent" in ran.err
    assert len(log.posted) == 1
    folder = _evidence(tmp_path)
    assert (folder / "previous-checkpoint").read_text() == cosigned
    assert (folder / "offered-checkpoint").read_text() == log.note()
    assert json.loads((folder / "proof.json").read_text())["to"] == 6
    assert (tmp_path / "state" / "cosigned-checkpoint").read_text() == cosigned


async def test_a_checkpoint_signed_by_another_key_is_never_cosigned(
    fake: tuple[FakeLog, str], log_key: Signer, tmp_path: Path
) -> None:
    log, url = fake
    log.signer = generate_signer(ORIGIN, ED25519)
    ran = await run_ledger(*_witness_args(url, log_key, tmp_path))
    assert ran.code == 3
    assert "not signed by the log key" in ran.err
    assert log.posted == []
    assert (_evidence(tmp_path) / "offered-checkpoint").read_text() == log.note()


async def test_a_log_that_shrinks_is_never_cosigned(
    fake: tuple[FakeLog, str], log_key: Signer, tmp_path: Path
) -> None:
    log, url = fake
    args = _witness_args(url, log_key, tmp_path)
    assert (await run_ledger(*args)).code == 0
    log.leaves = log.leaves[:3]
    ran = await run_ledger(*args)
    assert ran.code == 3
    assert "went back" in ran.err
    assert len(log.posted) == 1


async def test_a_log_that_shows_no_checkpoint_after_one_was_cosigned_is_a_fork(
    fake: tuple[FakeLog, str], log_key: Signer, tmp_path: Path
) -> None:
    """Every checkpoint deleted (or the store rolled back to before the first): exit 3 with
    the evidence, not a transient error to retry."""
    log, url = fake
    args = _witness_args(url, log_key, tmp_path)
    assert (await run_ledger(*args)).code == 0
    cosigned = (tmp_path / "state" / "cosigned-checkpoint").read_text()
    log.leaves = []
    ran = await run_ledger(*args)
    assert ran.code == 3, ran.err
    assert "went back from size 4 to no signed checkpoint at all" in ran.err
    folder = _evidence(tmp_path)
    assert (folder / "previous-checkpoint").read_text() == cosigned
    assert "404" in (folder / "offered-checkpoint").read_text()


async def test_a_checkpoint_of_another_origin_is_never_cosigned_and_both_are_kept(
    fake: tuple[FakeLog, str], log_key: Signer, tmp_path: Path
) -> None:
    log, url = fake
    args = _witness_args(url, log_key, tmp_path)
    assert (await run_ledger(*args)).code == 0
    cosigned = log.note()
    log.origin = "another-log/0000000000000000"
    ran = await run_ledger(*args)
    assert ran.code == 3
    assert "origin" in ran.err
    assert len(log.posted) == 1
    evidence = _evidence(tmp_path)
    assert (evidence / "offered-checkpoint").read_text() == log.note()
    assert (evidence / "previous-checkpoint").read_text() == cosigned
