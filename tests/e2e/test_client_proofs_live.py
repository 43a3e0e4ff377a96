"""ledger.client's proofs against a real `ledger serve` with the demo loaded: a poster proves
its own event from its receipt, follows the log's checkpoints as they grow, and catches a
stored event rewritten in the database."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from ledger import client as lc
from tests.e2e.live import Live
from tests.e2e.test_client_live import _bank, live
from tests.integration.audit import tamper

__all__ = ["live"]  # the served demo, as test_client_live serves it (one per module)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


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
