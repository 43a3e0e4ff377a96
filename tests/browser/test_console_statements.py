"""The institution page over statements (docs/statements.md) and limits (docs/limits.md), answered
here in their documented formats through the browser's routing, so the page is checked
before those land."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ledger.demo_scenario import NATIONAL
from ledger.seeds import GUARANTOR_ID
from tests.browser.conftest import LiveLedger
from tests.browser.helpers import sign_in, visit

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT = {"role": "guarantor", "warning_bp": 400, "suspend_bp": 500, "min_discharged": 100000000}


def _statement(period: str) -> dict[str, Any]:
    # A rate that climbs quarter by quarter: 0%, 1.5%, 3%, ... of 10^9 fen discharged.
    year, quarter = period.split("-Q")
    step = (int(year) - 2025) * 4 + int(quarter) - 1
    compensated = step * 15_000_000
    return {
        "institution_id": GUARANTOR_ID,
        "kind": "guarantor",
        "from": period,
        "to": period,
        "known_at": "2026-12-04T10:00:00+08:00",
        "position": 26,
        "programs": [
            {
                "program_id": NATIONAL,
                "opening_in_force": 0,
                "issued": {"count": 0, "amount": 0},
                "renewed_net": 0,
                "repaid": 1_000_000_000 - compensated,
                "released": {"count": 0, "amount": 0},
                "compensated": {"count": 1, "amount": compensated, "borne": compensated // 2},
                "closed": {"count": 0, "amount": 0},
                "closing_in_force": 0,
                "discharged": 1_000_000_000,
                "compensation_rate_bp": compensated * 10000 // 10**9,
                "defaulted": {"count": 0, "overdue_principal": 0},
                "recovered": {"amount": 0, "returned": 0},
                "net_loss": compensated // 2,
            }
        ],
    }


async def _statements(route: Any) -> None:
    url = urlsplit(route.request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    period = query.get("period", "2025-Q1")
    if "-Q" not in period:
        period += "-Q1"
    if route.request.headers.get("accept") == "text/csv":
        await route.fulfill(status=200, content_type="text/csv", body="program_id,net_loss\n")
    elif query.get("compare") == "filed":
        now = _statement(period)
        body = {
            "filed": {**now, "filed_at": "2026-01-05T10:00:00+08:00", "digest": "ab" * 32},
            "now": now,
            "late_events": [25],
            "changes": [{"program_id": NATIONAL, "field": "repaid", "filed": 1, "now": 2}],
        }
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
    else:
        body = json.dumps(_statement(period))
        await route.fulfill(status=200, content_type="application/json", body=body)


async def _limited_programs(route: Any) -> None:
    response = await route.fetch()
    body = await response.json()
    for program in body["programs"]:
        if program["program_id"] == NATIONAL:
            program["terms"]["compensation_rate_limit"] = LIMIT
    await route.fulfill(response=response, body=json.dumps(body))


async def test_the_compensation_rate_is_plotted_by_quarter_against_its_limit(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await sign_in(browser, ledger, GUARANTOR_ID)
    page = watched.page
    await page.route("**/v1/statements/**", _statements)
    await page.route("**/v1/programs", _limited_programs)
    await visit(watched, ledger, f"/console/institutions/{GUARANTOR_ID}")
    plot = page.locator("[data-plot=rate]")
    assert int(await plot.locator("svg").get_attribute("data-marks") or 0) > 8
    assert "suspension 5.00%" in (await plot.locator("svg").get_attribute("aria-label") or "")
    rates = await plot.locator("td[data-value]").evaluate_all(
        "tds => tds.filter((_, i) => i % 3 === 2).map(td => td.dataset.value)"
    )
    assert rates == [
        str(_statement(f"{y}-Q{q}")["programs"][0]["compensation_rate_bp"])
        for y in (2025, 2026)
        for q in (1, 2, 3, 4)
    ]
    # Quarters at or over the suspension line are drawn as over the limit.
    assert await plot.locator("rect.over").count() == 4  # 6%, 7.5%, 9% and 10.5%
    # Every period answered as filed is shown as filed against now, without asking.
    assert await page.locator("[data-filed]").count() == 10
    async with page.expect_download() as download:
        await page.click("text=Download CSV")
    assert (await download.value).suggested_filename.startswith(f"statement-{GUARANTOR_ID}-")
    await page.click("text=As filed against now")
    await page.wait_for_selector("text=What changed in")
    assert "repaid" in await page.inner_text("main")
    assert watched.unexpected_errors() == []
    await page.context.close()
