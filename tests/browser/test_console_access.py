"""Who sees what in the console, where the key is kept, and the headers that fence the page in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger.http.console import ASSETS
from ledger.seeds import BANK_ID, GUARANTOR_ID, POOL_ID, SME_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import open_page, shown_figures, sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize("path", ["/", "/console/programs", "/console/assets/app.js"])
async def test_console_answers_allow_only_the_ledgers_own_scripts_and_styles(
    ledger: LiveLedger, path: str
) -> None:
    async with aiohttp.ClientSession() as http, http.get(ledger.url + path) as r:
        assert r.status == 200
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "connect-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert "unsafe" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Frame-Options"] == "DENY"


async def test_the_console_files_hold_no_inline_script_or_style_nor_fetch_from_elsewhere() -> None:
    html = (ASSETS / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html
    for path in Path(ASSETS).rglob("*"):
        if path.suffix in (".js", ".css", ".html"):
            # The SVG namespace is a name, not an address anything is fetched from.
            text = path.read_text().replace("http://www.w3.org/2000/svg", "")
            assert "innerHTML" not in text, path
            assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), path


async def test_the_key_is_kept_in_session_storage_and_sent_only_as_a_header(
    browser: Any, ledger: LiveLedger
) -> None:
    key = ledger.keys["auditor"]
    watched = await sign_in(browser, ledger, "auditor")
    page = watched.page
    for path in ("/console/programs", "/console/guarantees/G-NAT-001", "/console/audit"):
        await visit(watched, ledger, path)
        assert key not in page.url
    assert await page.evaluate("sessionStorage.getItem('ledger.console.key')") == key
    local = await page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert key not in local
    assert await page.context.cookies() == []
    assert await page.evaluate("document.cookie") == ""
    assert not [url for url in watched.requests if key in url]
    await page.click("#sign-out")
    await page.wait_for_selector("#api-key")
    assert await page.evaluate("sessionStorage.length") == 0
    await page.context.close()


async def test_an_unknown_key_is_refused_at_sign_in_and_not_kept(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await open_page(browser)
    page = watched.page
    await page.goto(ledger.url + "/")
    await page.fill("#api-key", "lk_0000000000000000_not-a-key")
    await page.click("form.sign-in button[type=submit]")
    await page.wait_for_selector("#sign-in-error .notice")
    assert "does not know this key" in await page.inner_text("#sign-in-error")
    assert await page.evaluate("sessionStorage.length") == 0
    await page.context.close()


async def test_a_reader_is_told_what_it_may_not_read_and_shown_none_of_it(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, "reader")
    page = await visit(watched, ledger, "/console/guarantees/G-NAT-001")
    assert await page.locator("[data-table=events]").count() == 0
    assert "need an auditor's or admin's key" in await page.inner_text("main")
    page = await visit(watched, ledger, "/console/feed", idle=False)
    await page.wait_for_selector("text=needs an auditor's or admin's key")
    assert await page.locator("[data-table=feed]").count() == 0
    page = await visit(watched, ledger, "/console/audit")
    await page.wait_for_selector("text=Recomputing the chain needs an auditor's or admin's key")
    assert watched.unexpected_errors() == []
    await page.context.close()


async def test_an_institution_reads_its_own_position_and_not_anothers(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, BANK_ID)
    page = await visit(watched, ledger, f"/console/institutions/{GUARANTOR_ID}")
    assert "Your key may not read this" in await page.inner_text("main")
    assert await shown_figures(page) == []
    page = await visit(watched, ledger, f"/console/institutions/{BANK_ID}")
    assert len(await shown_figures(page)) > 5
    await page.context.close()


async def test_an_smes_guarantees_list_only_those_the_institution_is_party_to(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, POOL_ID)
    page = await visit(watched, ledger, f"/console/smes/{SME_ID}")
    assert "No guarantee of this SME that your key may read" in await page.inner_text("main")
    assert await page.locator("a[href^='/console/guarantees/']").count() == 0
    await page.context.close()
