"""Verification in the browser against the ledger's own verifiable log, end to end:
the checkpoint it signs verifies, its growth is proved consistent, and an event's proof
verifies. Skipped on a ledger that does not serve the log."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from ledger.seeds import REVIEWER_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import new_sme_id, sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _text(ledger: LiveLedger, path: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {ledger.keys['auditor']}"}
    async with aiohttp.ClientSession() as http, http.get(ledger.url + path, headers=headers) as r:
        return r.status, await r.text()


async def _checkpoint_size(ledger: LiveLedger, at_least: int) -> int:
    status, _ = await _text(ledger, "/v1/log/key")
    assert status == 200, "the ledger serves its verifiable log"
    for _ in range(100):
        status, note = await _text(ledger, "/v1/log/checkpoint")
        if status == 200 and int(note.split("\n")[1]) >= at_least:
            return int(note.split("\n")[1])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no checkpoint covers position {at_least} after 10 s")


async def _post_one(ledger: LiveLedger) -> int:
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": "sme.registered",
        "data": {"sme_id": new_sme_id(), "name": "Log Test Co."},
    }
    headers = {"Authorization": f"Bearer {ledger.keys[REVIEWER_ID]}"}
    url = ledger.url + "/v1/events"
    async with aiohttp.ClientSession() as http, http.post(url, json=envelope, headers=headers) as r:
        assert r.status == 201, await r.text()
        return int((await r.json())["position"])


async def test_the_ledgers_checkpoints_verify_and_grow_consistently_in_the_browser(
    browser: Any, ledger: LiveLedger
) -> None:
    size = await _checkpoint_size(ledger, ledger.head)
    watched = await sign_in(browser, ledger, "auditor")
    page = await visit(watched, ledger, "/console/audit")
    await page.wait_for_selector("[data-verified-size]")
    first = int(await page.get_attribute("[data-verified-size]", "data-verified-size") or 0)
    assert first >= size
    grown = await _checkpoint_size(ledger, await _post_one(ledger))
    page = await visit(watched, ledger, "/console/audit")
    await page.wait_for_selector(f"[data-verified-size='{grown}']")
    assert f"proved consistent with tree size {first}" in await page.inner_text("main")
    assert await page.is_hidden("#alarm")
    assert watched.unexpected_errors() == []
    await page.context.close()


async def test_an_events_proof_from_the_ledger_verifies_in_the_browser(
    browser: Any, ledger: LiveLedger
) -> None:
    await _checkpoint_size(ledger, ledger.head)
    watched = await sign_in(browser, ledger, "auditor")
    page = await visit(watched, ledger, "/console/guarantees/G-NAT-001")
    await page.click("[data-table=events] a >> nth=0")
    await page.wait_for_selector("[data-proof]")
    assert await page.get_attribute("[data-proof]", "data-proof") == "verified"
    assert "guarantee.issued" in await page.inner_text("main")
    assert await page.is_hidden("#alarm")
    await page.context.close()
