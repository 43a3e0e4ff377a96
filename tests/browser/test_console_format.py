"""How the console writes money and rates: from integer fen and basis points, exactly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveLedger
from tests.browser.helpers import open_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

_FORMAT = """async () => {
  const f = await import('/console/assets/format.js');
  return {
    yuan: [0, 5, 100, 123456789, 1000000000000000, -250].map(f.yuan),
    percent: [0, 1, 4000, 10000, 35].map(f.percent),
    date: ['2025-03-01T23:30:00+00:00', '2025-03-01T10:00:00+08:00'].map(f.businessDate),
  };
}"""


async def test_amounts_rates_and_business_dates_are_written_exactly(
    browser: Any, ledger: LiveLedger
) -> None:
    watched = await open_page(browser)
    await watched.page.goto(ledger.url + "/console/")
    shown = await watched.page.evaluate(_FORMAT)
    assert shown == {
        "yuan": ["¥0.00", "¥0.05", "¥1.00", "¥1,234,567.89", "¥10,000,000,000,000.00", "-¥2.50"],
        "percent": ["0.00%", "0.01%", "40.00%", "100.00%", "0.35%"],
        # Business dates are dates in Asia/Shanghai: 23:30 UTC is the next morning there.
        "date": ["2025-03-02", "2025-03-01"],
    }
    await watched.page.context.close()
