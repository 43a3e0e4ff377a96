"""Helpers for tests of witnesses: register one, wait for a checkpoint, cosign it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient

from ledger.tlog.cosignature import cosign
from ledger.tlog.keys import COSIGNATURE_V1, Signer, generate_signer, key_id
from ledger.tlog.note import Signature, parse
from tests.factory import envelope

Client = TestClient[Any, Any]


def witness_key(name: str = "fund-witness") -> Signer:
    """A new witness key (type 0x04)."""
    return generate_signer(name, COSIGNATURE_V1)


def alias(signer: Signer, name: str) -> Signer:
    """The same private key as a cosigner key under another name (and so another key id)."""
    return Signer(name, key_id(name, COSIGNATURE_V1, signer.verifier().public), COSIGNATURE_V1,
                  signer.seed)  # fmt: skip


def renamed(signature: Signature, as_: Signer) -> Signature:
    """A cosignature's bytes under another key's name and id: what anyone can make of one,
    since a cosignature signs no name."""
    return Signature(as_.name, as_.key_id, signature.signature)


def registration(witness_id: str, key: str) -> dict[str, Any]:
    """A witness.registered envelope."""
    data = {"witness_id": witness_id, "name": f"Witness {witness_id}", "key": key}
    return envelope("witness.registered", data)


async def checkpoint_of(client: Client, headers: dict[str, str], size: int) -> str:
    """The latest checkpoint note once it covers `size` (waits at most 3 s)."""
    deadline = time.monotonic() + 3.0
    while True:
        r = await client.get("/v1/log/checkpoint", headers=headers)
        if r.status == 200:
            text = await r.text()
            if int(parse(text).text.split("\n")[1]) >= size:
                return text
        assert time.monotonic() < deadline, "no checkpoint in time"
        await asyncio.sleep(0.05)


def cosigned(note: str, *witnesses: Signer, at: int = 1_700_000_000) -> str:
    """`note` with each witness's cosignature/v1 line appended."""
    text = parse(note).text
    return note + "".join(cosign(text, w, at).line() for w in witnesses)
