"""The console where things go wrong or grow large: a key revoked mid-session, an address that
does not decode, a key that cannot be sent, figures past 2^53 fen, limits exceeded, a long
list of an SME's guarantees, and shares that depend on the SME's category."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest

from ledger.auth.keys import create_key, revoke_key, split_key
from ledger.demo_scenario import NATIONAL
from ledger.seeds import BANK_ID, GUARANTOR_ID, REGUARANTOR_ID, REVIEWER_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import new_sme_id, open_page, sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _key(ledger: LiveLedger, **made_for: str) -> str:
    conn = await asyncpg.connect(ledger.dsn)
    try:
        return (await create_key(conn, **made_for)).key  # type: ignore[arg-type]
    finally:
        await conn.close()


async def test_a_key_revoked_mid_session_brings_back_the_sign_in_form(
    browser: Any, ledger: LiveLedger
) -> None:
    key = await _key(ledger, role="reader")
    watched = await open_page(browser)
    page = watched.page
    await page.goto(ledger.url + "/")
    await page.fill("#api-key", key)
    await page.click("form.sign-in button[type=submit]")
    await page.wait_for_selector("[data-page=programs]")
    conn = await asyncpg.connect(ledger.dsn)
    try:
        await revoke_key(conn, split_key(key)[0])  # type: ignore[index]
    finally:
        await conn.close()
    # A page whose drawing meets the 401. The tab's own check of the log may meet it
    # first and sign the tab out (the nav then hides): the form is already there.
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    smes = page.locator("#nav a[href='/console/smes']")
    if await smes.is_visible():
        with contextlib.suppress(PlaywrightTimeout):
            await smes.click(timeout=3000)
    await page.wait_for_selector("#api-key")
    await page.wait_for_load_state("networkidle")
    assert "no longer accepts this key" in await page.inner_text("main")
    assert await page.locator("text=This page could not be shown").count() == 0
    assert await page.locator("#api-key").is_visible()
    await page.context.close()


async def test_an_address_whose_escapes_do_not_decode_is_no_page_and_no_error(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "reader")
    for broken in ("/console/smes/%ZZ", "/console/guarantees/%E0%A4%A"):
        page = await visit(watched, ledger, broken)
        assert await page.inner_text("main h1") == "No such page"
    assert watched.unexpected_errors() == []
    await watched.page.context.close()


async def test_a_key_a_browser_cannot_send_is_refused_before_asking_the_ledger(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await open_page(browser)
    page = watched.page
    await page.goto(ledger.url + "/")
    asked = len(watched.requests)
    await page.fill("#api-key", "ключ")
    await page.click("form.sign-in button[type=submit]")
    await page.wait_for_selector("#sign-in-error .notice")
    assert "letters, digits and _ only" in await page.inner_text("#sign-in-error")
    assert not [url for url in watched.requests[asked:] if "/v1/" in url]
    assert await page.evaluate("sessionStorage.length") == 0
    await page.context.close()


_EXACT = """async () => {
  const api = await import('/console/assets/api.js');
  const f = await import('/console/assets/format.js');
  const body = api.exactJson(
    '{"big": 9007199254740993, "small": 12, "rate": 1.5, "neg": -9007199254740995}');
  return [typeof body.big, f.yuan(body.big), body.small, body.rate, f.yuan(body.neg)];
}"""


async def test_amounts_past_2_53_fen_are_read_and_shown_to_the_fen(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await open_page(browser)
    await watched.page.goto(ledger.url + "/console/")
    assert await watched.page.evaluate(_EXACT) == [
        "bigint",
        "¥90,071,992,547,409.93",
        12,
        1.5,
        "-¥90,071,992,547,409.95",
    ]
    await watched.page.context.close()


_OVER = """async () => {
  const plots = await import('/console/assets/plots.js');
  const bars = plots.againstLimit('exposure', 'Balance against the cap',
    [{label: 'P', value: 3000000001, limit: 3000000000}, {label: 'Q', value: 5, limit: 10}],
    ['Program', 'Balance'], [['P', 'x'], ['Q', 'y']]);
  const rates = plots.rateAgainstLimits('rate', 'Rate by quarter',
    [{label: '2025-Q1', value: 150}, {label: '2025-Q2', value: 600},
     {label: '2025-Q3', value: null}],
    [{name: 'warning', value: 300, cls: 'warning'},
     {name: 'suspension', value: 500, cls: 'suspend'}],
    ['Quarter', 'Rate'], [['2025-Q1', 'a'], ['2025-Q2', 'b'], ['2025-Q3', 'c']]);
  const cells = (fig) =>
    [...fig.querySelectorAll('tbody tr')].map((tr) => tr.lastElementChild.textContent);
  const heads = (fig) => [...fig.querySelectorAll('thead th')].map((th) => th.textContent);
  return [heads(bars), cells(bars), heads(rates), cells(rates)];
}"""


async def test_a_bar_over_its_limit_is_named_in_its_table_not_only_coloured(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await open_page(browser)
    await watched.page.goto(ledger.url + "/console/")
    assert await watched.page.evaluate(_OVER) == [
        ["Program", "Balance", "Over the limit"],
        ["over by ¥0.01", "—"],
        ["Quarter", "Rate", "At the suspension line"],
        ["—", "at or over 5.00%", "—"],
    ]
    await watched.page.context.close()


async def test_the_national_programs_shares_are_shown_by_sme_category(
    browser: Any, ledger: LiveLedger
) -> None:
    """A high-tech SME's guarantee gives the fund 35% and the guarantor 25% (docs/rules.md),
    not the program-wide 40% and 20%."""
    watched = await sign_in(browser, ledger, "reader")
    page = await visit(watched, ledger, f"/console/programs/{NATIONAL}")
    rows = await page.eval_on_selector_all(
        "[data-table=shares-by-category] tbody tr",
        "trs => trs.map(tr => [...tr.children].map(td => td.textContent))",
    )
    assert ["high_tech", "35.00%", "25.00%"] in rows
    assert ["little_giant", "40.00%", "20.00%"] in rows
    assert watched.unexpected_errors() == []
    await page.context.close()


async def _post(ledger: LiveLedger, key: str, body: Any) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(ledger.url + "/v1/events", json=body, headers=headers) as r,
    ):
        assert r.status == 201, await r.text()


def _event(type_: str, **data: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": type_, "data": data}


def _issued(guarantee_id: str, sme_id: str, guarantor_id: str) -> dict[str, Any]:
    return _event(
        "guarantee.issued",
        guarantee_id=guarantee_id,
        program_id=NATIONAL,
        sme_id=sme_id,
        bank_id=BANK_ID,
        guarantor_id=guarantor_id,
        reguarantor_id=REGUARANTOR_ID,
        loan_amount=1_000_000,
        fee_rate_bp=80,
        start_date="2025-06-01",
        maturity_date="2026-06-01",
    )


async def test_an_smes_guarantees_past_the_first_page_are_shown_and_found(
    browser: Any, ledger: LiveLedger
) -> None:
    """Another guarantor's 250 guarantees, then one of the demo's guarantor: its key finds
    its one past the pages it may not read; an auditor pages through all 251."""
    other = "PG-" + uuid.uuid4().hex[:8].upper()
    sme_id = new_sme_id()
    await _post(ledger, ledger.keys["admin"], _event(
        "institution.registered", institution_id=other, name="Paging Guarantee Co.",
        kind="guarantor",
    ))  # fmt: skip
    reviewer = ledger.keys[REVIEWER_ID]
    await _post(ledger, reviewer, _event("sme.registered", sme_id=sme_id, name="Paging SME"))
    await _post(ledger, reviewer, _event(
        "sme.eligibility_recorded", sme_id=sme_id, category="little_giant",
        reference="REVIEW-PAGING", valid_from="2025-01-01", valid_until="2027-12-31",
    ))  # fmt: skip
    many = [_issued(f"G-PG-{i:04d}", sme_id, other) for i in range(250)]
    await _post(ledger, await _key(ledger, institution_id=other), many)
    await _post(ledger, ledger.keys[GUARANTOR_ID], _issued("Z-PG-LAST", sme_id, GUARANTOR_ID))

    watched = await sign_in(browser, ledger, GUARANTOR_ID)
    page = await visit(watched, ledger, f"/console/smes/{sme_id}")
    links = page.locator("[data-table=guarantees] a[href^='/console/guarantees/']")
    assert await links.all_inner_texts() == ["Z-PG-LAST"]
    assert "No guarantee of this SME" not in await page.inner_text("main")
    await page.context.close()

    watched = await sign_in(browser, ledger, "auditor")
    page = await visit(watched, ledger, f"/console/smes/{sme_id}")
    links = page.locator("[data-table=guarantees] a[href^='/console/guarantees/']")
    assert await links.count() == 200
    await page.click("button.more")
    await page.locator("[data-table=guarantees] tbody tr").nth(250).wait_for()
    assert await page.locator("button.more").is_hidden()
    assert await links.count() == 251
    assert (await links.all_inner_texts())[-1] == "Z-PG-LAST"
    assert watched.unexpected_errors() == []
    await page.context.close()


async def test_more_smes_when_the_ledger_is_busy_says_so_and_throws_nothing(
    browser: Any, ledger: LiveLedger
) -> None:
    """The second page of SMEs answered 503: a message on the page, no uncaught error."""
    watched = await sign_in(browser, ledger, "reader")
    page = watched.page

    async def smes(route: Any) -> None:
        if "after=" in route.request.url:
            problem = {
                "type": "/problems/service-unavailable",
                "status": 503,
                "title": "Service unavailable",
                "detail": "database unreachable",
            }
            await route.fulfill(status=503, json=problem, headers={"Retry-After": "1"})
        else:
            first = {"smes": [{"sme_id": new_sme_id(), "name": "SME"}], "next_after": "X"}
            await route.fulfill(status=200, json=first)

    await page.route("**/v1/smes?*", smes)
    page = await visit(watched, ledger, "/console/smes")
    await page.click("button.more")
    await page.wait_for_selector("text=The ledger is busy or its database is unreachable")
    assert [e for e in watched.errors if e.startswith("uncaught")] == []
    await page.context.close()
