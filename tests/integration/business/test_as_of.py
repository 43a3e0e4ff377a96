"""The books as of a business date (docs/statements.md): a replay of only the events up to it."""

from __future__ import annotations

import datetime as dt

import pytest

from events import payloads as p
from events.business import business_date
from ledger.audit.state import OutOfBusinessOrder, state_at
from ledger.runtime import Runtime
from projections.fold import Fold
from tests.integration.business.scenario import SECOND_SME, post_dated, seed_dated, year
from tests.integration.projections.support import log_entries
from tests.unit.rules.world import BANK, GUAR, issued, key

IDS = {
    "guarantee_id": ["G-1", "G-2"],
    "claim_id": ["C-1"],
    "sme_id": [SECOND_SME],
    "institution_id": [GUAR, BANK],
    "program_id": ["national-sme-tech-2024"],
}


def _render(fold: Fold, name: str, key: str, year: int) -> object:
    match name:
        case "guarantee_id":
            return fold.guarantee_summary(key)
        case "claim_id":
            return fold.claim_shares(key)
        case "sme_id":
            return fold.sme_exposure(key)
        case "institution_id":
            return fold.institution_position(key, year)
    return fold.program_summary(key)


async def test_the_view_at_every_business_date_equals_a_fold_of_the_events_up_to_it(
    runtime: Runtime,
) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, year())
    entries = await log_entries(runtime.pool)
    days = sorted({business_date(e.occurred_at) for e in entries})
    async with runtime.pool.acquire() as conn:
        for day in days:
            fold = Fold().apply_all(e for e in entries if business_date(e.occurred_at) <= day)
            for name, keys in IDS.items():
                for one in keys:
                    got = await state_at(conn, business_date=day, **{name: one})
                    assert got == _render(fold, name, one, day.year), (day, name, one)


async def test_known_at_before_a_late_event_gives_the_earlier_figures_after_it_the_new(
    runtime: Runtime,
) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, year()[:3])
    before_late = runtime.ledger.now()  # by the clock posts are recorded by
    # Reported in August, it happened in June.
    await post_dated(
        runtime,
        [
            (
                p.LoanRepaid(guarantee_id="G-1", amount=50_000_000),
                key(BANK),
                "2025-06-20T10:00:00+08:00",
            )
        ],
    )
    june = dt.date(2025, 6, 30)
    async with runtime.pool.acquire() as conn:
        then = await state_at(conn, business_date=june, known_at=before_late, guarantee_id="G-1")
        now = await state_at(conn, business_date=june, guarantee_id="G-1")
    assert then is not None
    assert now is not None
    assert (then["balance"], now["balance"]) == (1_000_000_000, 950_000_000)


async def test_a_guarantee_issued_after_the_date_is_not_in_the_view(runtime: Runtime) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, year()[:2])
    async with runtime.pool.acquire() as conn:
        assert await state_at(conn, business_date=dt.date(2025, 3, 31), guarantee_id="G-2") is None


async def test_events_before_their_program_in_business_time_are_refused_by_name(
    runtime: Runtime,
) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, [(issued("G-9"), key(GUAR), "2024-12-01T10:00:00+08:00")])
    async with runtime.pool.acquire() as conn:
        with pytest.raises(OutOfBusinessOrder, match="later business_date"):
            await state_at(
                conn, business_date=dt.date(2024, 12, 31), program_id="national-sme-tech-2024"
            )
