"""ledger.client's proofs against a real `ledger serve` with the demo loaded: a poster proves
its own event from its receipt, follows the log's checkpoints as they grow, and catches a
stored event rewritten in the database."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest

from ledger import client as lc
from ledger.tlog.keys import Signer
from ledger.tlog.note import parse
from tests.e2e.live import Live
from tests.e2e.test_client_live import _bank, live
from tests.e2e.witnesses import cosigned, registration, witness_key
from tests.integration.audit import tamper

__all__ = ["live"]  # the served demo, as test_client_live serves it (one per module)


async def _keys(live: Live) -> lc.LogKeys:
    """The log's key, as a user learns it once (here from the ledger itself) and pins it."""
    headers = {"Authorization": f"Bearer {live.admin}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{live.url}/v1/log/key") as r,
    ):
        return lc.LogKeys((await r.text()).strip())


def _new_bank() -> lc.NewEvent:
    return _bank("B-" + uuid.uuid4().hex[:10])


def test_a_poster_proves_its_own_event_from_its_receipt(live: Live) -> None:
    async def run() -> tuple[lc.Receipt, lc.ProvedEvent]:
        keys = await _keys(live)
        async with lc.LedgerClient(live.url, live.admin) as c:
            receipt = await c.post(_new_bank())
            return receipt, await c.prove(receipt, keys, wait=5.0)

    receipt, proved = asyncio.run(run())
    assert (proved.event_id, proved.position) == (receipt.event_id, receipt.position)
    assert (proved.type, proved.stream_id) == ("institution.registered", receipt.stream_id)
    assert proved.checkpoint.size >= receipt.position
    assert f'"event_id":"{receipt.event_id}"'.encode() in proved.body


def test_checkpoints_followed_as_the_log_grows_are_each_proved_an_extension(live: Live) -> None:
    async def run() -> tuple[lc.TrustedCheckpoint, lc.TrustedCheckpoint, lc.ProvedEvent]:
        keys = await _keys(live)
        async with lc.LedgerClient(live.url, live.admin) as c:
            first = await c.checkpoint(keys)
            receipt = await c.post(_new_bank())
            proved = await c.prove(receipt, keys, since=first, wait=5.0)
            later = await c.checkpoint(keys, since=proved.checkpoint)
            again = lc.trusted_checkpoint(later.note, keys)  # kept as text, trusted again
            assert again == later
            return first, later, proved

    first, later, proved = asyncio.run(run())
    assert first.size < proved.position <= later.size
    assert first.origin == later.origin


def test_an_event_rewritten_in_the_database_fails_its_proof(live: Live) -> None:
    """Its leaf in the signed tree was hashed from the bytes as posted."""

    async def run() -> None:
        keys = await _keys(live)
        async with lc.LedgerClient(live.url, live.admin) as c:
            receipt = await c.post(_new_bank())
            await c.prove(receipt, keys, wait=5.0)
            async with tamper.superuser(live.dsn) as conn:
                await tamper.change_body(conn, receipt.position, b'"name":"', b'"name":"X')
            try:
                with pytest.raises(lc.ProofFailed, match="does not hold"):
                    await c.prove(receipt, keys)
            finally:
                async with tamper.superuser(live.dsn) as conn:
                    await tamper.change_body(conn, receipt.position, b'"name":"X', b'"name":"')

    asyncio.run(run())


def test_a_checkpoint_checked_with_another_logs_key_is_refused(live: Live) -> None:
    from ledger.tlog.keys import generate_signer

    async def run() -> None:
        keys = await _keys(live)
        stranger = lc.LogKeys(generate_signer(keys.log.name).verifier().encode())
        async with lc.LedgerClient(live.url, live.admin) as c:
            with pytest.raises(lc.ProofFailed, match="no signature by a known key"):
                await c.checkpoint(stranger)

    asyncio.run(run())


async def _witnessed_keys(live: Live, witness: Signer) -> lc.LogKeys:
    """The log's key and `witness`'s, registered with the ledger, one cosignature required."""
    async with lc.LedgerClient(live.url, live.admin) as c:
        key = witness.verifier().encode()
        await c.post(registration("W-" + uuid.uuid4().hex[:8], key))
    return lc.LogKeys((await _keys(live)).log.encode(), [key], min_witnesses=1)


async def _cosign_latest(live: Live, witness: Signer, size: int) -> None:
    """What a witness run does: cosign the latest checkpoint (once it covers `size`) and
    send the cosignature to the ledger."""
    headers = {"Authorization": f"Bearer {live.admin}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        while True:
            async with session.get(f"{live.url}/v1/log/checkpoint") as r:
                note = await r.text()
            if int(parse(note).text.split("\n")[1]) >= size:
                break
            await asyncio.sleep(0.05)
        text = {"Content-Type": "text/plain"}
        body = cosigned(note, witness, at=int(time.time())).encode()
        async with session.post(f"{live.url}/v1/log/cosignatures", data=body, headers=text) as r:
            assert r.status in (200, 201), await r.text()


def test_a_proof_waits_for_the_pinned_witnesses_to_cosign_its_checkpoint(live: Live) -> None:
    witness = witness_key()

    async def run() -> tuple[lc.Receipt, lc.ProvedEvent]:
        keys = await _witnessed_keys(live, witness)
        async with lc.LedgerClient(live.url, live.admin) as c:
            receipt = await c.post(_new_bank())
            proving = asyncio.create_task(c.prove(receipt, keys, wait=10.0))
            await asyncio.sleep(0.5)
            assert not proving.done()  # signed by the log, not cosigned yet
            await _cosign_latest(live, witness, receipt.position)
            return receipt, await proving

    receipt, proved = asyncio.run(run())
    assert proved.position == receipt.position
    assert proved.checkpoint.witnesses == (witness.name,)


def test_a_checkpoint_the_witnesses_have_not_cosigned_is_not_witnessed_not_failed(
    live: Live,
) -> None:
    """An honest log whose latest checkpoint no witness has cosigned yet is no evidence of
    tampering: the answer says to ask again, and is no ProofFailed."""
    witness = witness_key()

    async def run() -> None:
        keys = await _witnessed_keys(live, witness)
        async with lc.LedgerClient(live.url, live.admin) as c:
            receipt = await c.post(_new_bank())
            await c.prove(receipt, await _keys(live), wait=5.0)  # a checkpoint covers it
            for call in (c.prove(receipt, keys, wait=0.3), c.checkpoint(keys, wait=0.3)):
                with pytest.raises(lc.NotWitnessed, match="0 of the pinned witnesses") as raised:
                    await call
                assert not isinstance(raised.value, lc.ProofFailed)

    asyncio.run(run())
