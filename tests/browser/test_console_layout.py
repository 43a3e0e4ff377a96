"""Every page fits a laptop screen (1280x800) and a phone (390x844) without sideways scrolling.

With LEDGER_CONSOLE_SCREENSHOTS=DIR (`make screenshots`), the pages are also saved as PNG
files there: the screenshots of docs/console.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ledger.seeds import GUARANTOR_ID, SME_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAGES = {
    "programs": "/console/programs",
    "sme": f"/console/smes/{SME_ID}",
    "guarantee": "/console/guarantees/G-NAT-001",
    "claim": "/console/claims/C-NAT-001",
    "institution": f"/console/institutions/{GUARANTOR_ID}",
    "audit": "/console/audit",
    "feed": "/console/feed",
}

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.mark.parametrize("size", list(SIZES))
async def test_every_page_fits_the_screen_width(
    browser: Any, ledger: LiveLedger, size: str
) -> None:
    width, height = SIZES[size]
    watched = await sign_in(browser, ledger, "auditor", width=width, height=height)
    shots = os.environ.get("LEDGER_CONSOLE_SCREENSHOTS")
    for name, path in PAGES.items():
        page = await visit(watched, ledger, path, idle=name != "feed")
        if name == "feed":
            await page.wait_for_selector("text=Following the log")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px screen"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            await page.screenshot(
                path=str(Path(shots) / f"console-{name}-{size}.png"), full_page=size == "desktop"
            )
    assert watched.unexpected_errors() == []
    await watched.page.context.close()
