"""Every console page in a real browser: the figures it shows are the API's, its plots are
drawn, the browser reports no error, and the live feed shows what is posted."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from ledger.demo_scenario import LIANGJIANG, NATIONAL, SME_HIGH_TECH
from ledger.seeds import BANK_ID, GUARANTOR_ID, REVIEWER_ID, SME_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import api, new_sme_id, resolve, shown_figures, sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Each page of the demo, with the plots it must draw.
PAGES = [
    ("/console/programs", ["loss-split", "cap-use"]),
    (f"/console/programs/{LIANGJIANG}", ["loss-split"]),
    ("/console/smes", []),
    (f"/console/smes/{SME_ID}", ["exposure"]),
    (f"/console/smes/{SME_HIGH_TECH}", ["exposure"]),
    ("/console/guarantees/G-NAT-001", ["balance"]),
    ("/console/guarantees/G-LJ-001", ["balance"]),
    ("/console/claims/C-NAT-001", ["loss-split"]),
    ("/console/institutions", []),
    (f"/console/institutions/{GUARANTOR_ID}", []),
    (f"/console/institutions/{BANK_ID}", []),
    ("/console/audit", []),
]


async def test_every_page_shows_exactly_the_figures_the_api_answers(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "auditor")
    checked = 0
    for path, plots in PAGES:
        page = await visit(watched, ledger, path)
        bodies: dict[str, Any] = {}
        for source, field, value in await shown_figures(page):
            if source not in bodies:
                bodies[source] = await api(ledger, "auditor", source)
            # A figure the API leaves null (a rate with nothing discharged) is shown as "—".
            expected = resolve(bodies[source], field)
            assert ("" if expected is None else str(expected)) == value, f"{path}: {field}"
            checked += 1
        for kind in plots:
            marks = await page.get_attribute(f"[data-plot={kind}] svg", "data-marks")
            assert marks is not None, f"{path}: no {kind} plot"
            assert int(marks) > 0, f"{path}: empty {kind} plot"
            caption = await page.inner_text(f"[data-plot={kind}] table caption")
            label = await page.get_attribute(f"[data-plot={kind}] svg", "aria-label")
            assert caption == label, f"{path}: the {kind} table is not captioned as its plot"
    assert checked > 100
    assert watched.unexpected_errors() == []
    await watched.page.context.close()


async def test_the_program_page_shows_what_each_role_bore_and_the_fund_cap_used(
    browser: Any, ledger: LiveLedger
) -> None:
    """The demo's compensation: the fund bore 75 000 000 fen, all of its 5% cap."""
    watched = await sign_in(browser, ledger, "reader")
    page = await visit(watched, ledger, f"/console/programs/{NATIONAL}")
    fund = page.locator("[data-table=cap-use] [data-field='totals.caps.national_fund.used']")
    assert await fund.get_attribute("data-value") == "75000000"
    assert await fund.inner_text() == "¥750,000.00"
    await page.context.close()


async def test_a_guarantee_page_links_its_events_to_their_proofs(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "auditor")
    page = await visit(watched, ledger, "/console/guarantees/G-NAT-001")
    stream = await api(ledger, "auditor", "/v1/streams/guarantee-G-NAT-001")
    links = await page.eval_on_selector_all(
        "[data-table=events] a", "els => els.map(a => a.getAttribute('href'))"
    )
    assert links == [f"/console/events/{e['event_id']}" for e in stream["events"]]
    await page.click("text=Claim C-NAT-001")
    await page.wait_for_selector("[data-page=claim]")
    assert page.url.endswith("/console/claims/C-NAT-001")
    await page.context.close()


async def test_the_live_feed_shows_an_event_as_soon_as_it_is_posted(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "auditor")
    page = await visit(watched, ledger, "/console/feed", idle=False)
    await page.wait_for_selector("text=Following the log")
    sme_id = new_sme_id()
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": "sme.registered",
        "data": {"sme_id": sme_id, "name": "Feed Test Co."},
    }
    headers = {"Authorization": f"Bearer {ledger.keys[REVIEWER_ID]}"}
    url = ledger.url + "/v1/events"
    async with aiohttp.ClientSession() as http, http.post(url, json=envelope, headers=headers) as r:
        assert r.status == 201, await r.text()
        position = (await r.json())["position"]
    row = page.locator(f"[data-table=feed] tr[data-position='{position}']")
    await row.wait_for(timeout=10000)
    assert sme_id in await row.inner_text()
    assert watched.unexpected_errors() == []
    await page.context.close()


async def test_a_guarantee_is_found_by_its_id_from_the_find_page(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "reader")
    page = await visit(watched, ledger, "/console/smes")
    await page.fill("#guarantee-search", "G-NAT-002")
    await page.press("#guarantee-search", "Enter")
    await page.wait_for_selector("[data-page=guarantee]")
    assert await page.inner_text("main h1") == "Guarantee G-NAT-002"
    await page.context.close()
