"""A refused event stores nothing and carries the contract's status and slug."""

from __future__ import annotations

import datetime as dt

import pytest

from events import payloads as p
from events.stored import Actor
from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime
from tests.integration.domain.scenario import event_count, post, seed
from tests.unit.rules.world import BANK, GUAR, LIANGJIANG, POOL, REVIEWER, issued, key

LJ = {"program_id": LIANGJIANG.program_id, "guarantor_id": POOL, "reguarantor_id": None}


async def state_rows(rt: Runtime) -> tuple[int, ...]:
    """Row counts and balance sum of the decision state."""
    row = await rt.pool.fetchrow(
        """SELECT (SELECT count(*) FROM w_guarantees) AS g,
                  (SELECT coalesce(sum(balance), 0) FROM w_guarantees) AS b,
                  (SELECT count(*) FROM w_claims) AS c,
                  (SELECT count(*) FROM streams) AS s"""
    )
    assert row is not None
    return tuple(int(v) for v in row.values())


CASES: list[tuple[str, p.Payload, Actor, int, str, str | None]] = [
    ("wrong poster", issued("G-2", loan_amount=1), key(BANK), 403, "forbidden", None),
    (
        "over the cap",
        issued("G-2", loan_amount=2_000_000_001),
        key(GUAR),
        409,
        "cap-exceeded",
        None,
    ),
    ("duplicate id", issued("G-1", loan_amount=1), key(GUAR), 409, "invalid-state", None),
    ("not eligible", issued("G-2", **LJ), key(POOL), 409, "not-eligible", None),
    (
        "fee too high",
        issued("G-2", loan_amount=1, fee_rate_bp=101),
        key(GUAR),
        422,
        "validation-error",
        "$.data.fee_rate_bp",
    ),
    (
        "state machine",
        p.ClaimFiled(guarantee_id="G-1", claim_id="C-1", amount=1),
        key(BANK),
        409,
        "invalid-state",
        None,
    ),
    (
        "renewal too long",
        p.GuaranteeRenewed(guarantee_id="G-1", maturity_date=dt.date(2030, 3, 2)),
        key(GUAR),
        409,
        "invalid-state",
        None,
    ),
    (
        "unknown guarantee",
        p.LoanRepaid(guarantee_id="G-none", amount=1),
        key(BANK),
        409,
        "invalid-state",
        None,
    ),
    (
        "reviewer issuing",
        issued("G-2", loan_amount=1),
        key(REVIEWER),
        403,
        "forbidden",
        None,
    ),
]


@pytest.mark.parametrize(
    ("event", "actor", "status", "slug", "path"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_a_refused_event_stores_nothing_and_names_its_slug(
    runtime: Runtime,
    event: p.Payload,
    actor: Actor,
    status: int,
    slug: str,
    path: str | None,
) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=1_000_000_000), key(GUAR))
    before = (await event_count(runtime), await state_rows(runtime))
    with pytest.raises(Refusal) as refused:
        await post(runtime, event, actor)
    assert (refused.value.status, refused.value.slug, refused.value.path) == (status, slug, path)
    assert (await event_count(runtime), await state_rows(runtime)) == before


async def test_cap_exceeded_says_balance_cap_and_requested(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=2_500_000_000), key(GUAR))
    with pytest.raises(Refusal) as refused:
        await post(runtime, issued("G-2", loan_amount=600_000_000), key(GUAR))
    assert refused.value.extra == {
        "balance": 2_500_000_000,
        "cap": 3_000_000_000,
        "requested": 600_000_000,
    }
