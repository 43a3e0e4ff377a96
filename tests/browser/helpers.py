"""Driving the console: sign in with a key, collect what the browser complained about."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from events.credit_code import check_character
from tests.browser.conftest import LiveLedger

# Chromium logs every 4xx answer of fetch() as a console error. The console asks for
# routes that a key may be refused (403) or that a ledger may not serve yet (404) and
# says so on the page; those lines are expected, any other error is not.
_EXPECTED_NETWORK = re.compile(
    r"Failed to load resource: the server responded with a status of 40[34]\b"
)


@dataclass
class Watched:
    """A signed-in page and everything its console and network said."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        """Console errors and uncaught exceptions other than expected refusals."""
        return [e for e in self.errors if not _EXPECTED_NETWORK.search(e)]


async def open_page(browser: Any, *, width: int = 1280, height: int = 800) -> Watched:
    """A fresh browser context (empty storage) with one page."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.set_default_timeout(10000)
    watched = Watched(page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: watched.requests.append(r.url))
    return watched


async def sign_in(
    browser: Any, ledger: LiveLedger, who: str, *, fake: Any = None, **size: int
) -> Watched:
    """Open the console and sign in with the key of `who` (a role or an institution id);
    `fake` (a route handler) answers for the log routes it is given first."""
    watched = await open_page(browser, **size)
    page = watched.page
    if fake is not None:
        await page.route("**/v1/log/**", fake)
        await page.route("**/v1/events/*/proof", fake)
    await page.goto(ledger.url + "/")
    await page.fill("#api-key", ledger.keys[who])
    await page.click("form.sign-in button[type=submit]")
    await page.wait_for_selector("[data-page]")
    return watched


async def visit(watched: Watched, ledger: LiveLedger, path: str, *, idle: bool = True) -> Any:
    """Go to a console path and wait until its page has been drawn (and, with `idle`, until
    it asks nothing more: not for the live feed, which keeps a request open)."""
    page = watched.page
    await page.goto(ledger.url + path)
    await page.wait_for_selector("main [data-page], main h1")
    if idle:
        await page.wait_for_load_state("networkidle")
    return page


async def api(ledger: LiveLedger, who: str, path: str) -> Any:
    """GET a JSON route with the key of `who`, as the tests' own check of the page."""
    headers = {"Authorization": f"Bearer {ledger.keys[who]}"}
    async with aiohttp.ClientSession() as http, http.get(ledger.url + path, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


def resolve(body: Any, dotted: str) -> Any:
    """The value at a dotted path (numbers index lists) of a JSON body."""
    value = body
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


async def shown_figures(page: Any) -> list[tuple[str, str, str]]:
    """Every figure the page shows with its source route: (source, field, exact value)."""
    found: list[tuple[str, str, str]] = await page.eval_on_selector_all(
        "[data-source] [data-field]",
        """els => els.map(e => [e.closest('[data-source]').dataset.source,
                                e.dataset.field, e.dataset.value])""",
    )
    return found


def new_sme_id() -> str:
    """A credit code no test has used: a fresh SME to post about."""
    first = "91500000MA" + uuid.uuid4().hex[:7].upper().translate(str.maketrans("IOSVZ", "12345"))
    return first + check_character(first)
