"""Running totals past 2^63 - 1 fen: a program's volume and a guarantor's exposure have no
bound a bigint could hold (each loan is at most 10^15 fen, their number unbounded).

Such a store is made here by raising the stored totals directly (as owner), where
reaching them by posts would take some ten thousand loans of 10^15 fen.
"""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
import pytest

from events import payloads as p
from events.derived import CompensationDerived
from events.types import ROLES
from ledger.audit.as_of_rows import Cut as AsOfCut
from ledger.audit.as_of_sums import sums
from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime
from projections import as_of, as_of_daily
from projections.statements import Cut, statement
from tests.integration.domain.scenario import post, post_batch, seed, stored_facts
from tests.unit.rules.world import ADMIN, BANK, GUAR, NATIONAL, claim_events, issued, key

BIGINT = 2**63 - 1


async def test_a_compensation_in_a_program_whose_volume_passed_a_bigint_is_decided(
    runtime: Runtime, owner_conn: asyncpg.Connection
) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=1_000_000_000), key(GUAR))
    for event in claim_events("G-1", "C-1", 600_000_000, 600_000_000):
        await post(
            runtime, event, key(BANK if isinstance(event, p.ClaimFiled | p.LoanDefaulted) else GUAR)
        )
    await owner_conn.execute(
        """INSERT INTO w_program_volume AS w (program_id, role, shard, volume)
           VALUES ($1, 'national_fund', 0, $2), ($1, 'national_fund', 1, $2)
           ON CONFLICT (program_id, role, shard) DO UPDATE SET volume = w.volume + $2""",
        NATIONAL.program_id,
        BIGINT,
    )
    result = await post(runtime, p.CompensationPaid(guarantee_id="G-1", claim_id="C-1"), key(GUAR))
    stored = await runtime.pool.fetchval(
        "SELECT body FROM events WHERE event_id = $1", result.receipts[0].event_id
    )
    assert stored is not None
    # The fund's cap (5 % of a volume past 2^64) is far above its share: it bears it all.
    derived = await _derived(runtime, "G-1")
    assert derived.shares.national_fund == 240_000_000


async def test_a_guarantor_whose_exposure_passed_a_bigint_is_refused_as_over_its_leverage(
    runtime: Runtime, owner_conn: asyncpg.Connection
) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=1_000_000_000), key(GUAR))
    await post_batch(
        runtime,
        [
            p.InstitutionNetAssetsRecorded(
                institution_id=GUAR, net_assets=10**15, as_of=dt.date(2024, 12, 31)
            ),
            p.InstitutionLimitsSet(
                institution_id=GUAR, max_leverage_x100=1000, max_single_sme_bp=10000
            ),
        ],
        ADMIN,
    )
    # Two more guarantees of the guarantor's, to other SMEs, each with a balance of 2^62 fen.
    await owner_conn.execute(
        """INSERT INTO w_guarantees (guarantee_id, program_id, sme_id, loan_amount, balance,
                                     volume_roles, doc, guarantor_id)
           SELECT 'G-X' || n, program_id, sme_id || n, loan_amount, $1, volume_roles, doc,
                  guarantor_id
             FROM w_guarantees, generate_series(1, 2) AS n WHERE guarantee_id = 'G-1'""",
        2**62,
    )
    with pytest.raises(Refusal) as refused:
        await post(runtime, issued("G-2", loan_amount=1_000_000), key(GUAR))
    assert (refused.value.status, refused.value.slug) == (409, "leverage-exceeded")
    assert refused.value.extra["in_force"] > BIGINT


async def _derived(runtime: Runtime, guarantee_id: str) -> CompensationDerived:
    facts = await stored_facts(runtime, f"guarantee-{guarantee_id}")
    (derived,) = [d for t, _, d in facts if t == "compensation.paid"]
    assert isinstance(derived, CompensationDerived)
    return derived


async def test_a_statement_whose_sums_pass_a_bigint_adds_up_exactly(
    owner_conn: asyncpg.Connection,
) -> None:
    """Three issuances of 2^62 fen each in one quarter: sums of 3 * 2^62, exact."""
    await owner_conn.execute(
        "INSERT INTO projection_checkpoints (name) VALUES ('movements') ON CONFLICT DO NOTHING"
    )
    generation = await owner_conn.fetchval(
        "SELECT generation FROM projection_checkpoints WHERE name = 'movements'"
    )
    await owner_conn.execute(
        """INSERT INTO proj_movement_rows (generation, institution_id, program_id, business_date,
                                          position, recorded_at, guarantee_id, kind, amount,
                                          in_force, share)
           SELECT $1, 'G', 'P', DATE '2025-05-01', n, now(), 'G-' || n, 'issued', $2, $2, 0
             FROM generate_series(1, 3) AS n""",
        generation,
        2**62,
    )
    body = await statement(
        owner_conn,
        "G",
        "guarantor",
        dt.date(2025, 4, 1),
        dt.date(2025, 6, 30),
        dt.datetime.now(dt.UTC),
        Cut(),
    )
    (figures,) = body["programs"]
    assert figures["issued"] == {"count": 3, "amount": 3 * 2**62}
    assert (figures["opening_in_force"], figures["closing_in_force"]) == (0, 3 * 2**62)
    assert type(figures["closing_in_force"]) is int


async def test_the_books_as_of_a_date_take_off_late_rows_past_a_bigint_exactly(
    owner_conn: asyncpg.Connection,
) -> None:
    """A day's totals hold three rows of 2^62 fen each that were placed after the cut:
    their sum, 3 * 2^62, is taken off exactly (it does not fit a bigint)."""
    width = len(as_of.SUMS_I)
    late = [2**62, 0, 0, 0]
    first_role = [1] + [0] * (len(ROLES) - 1)  # how many rows gave each role, per row
    day = {"2025-05-01": [3 * 2**62 + 5, 0, 0, 0, *(4 * n for n in first_role), 4]}
    await owner_conn.executemany(
        "INSERT INTO proj_as_of (generation, key, doc) VALUES (1, $1, $2::jsonb)",
        [
            (as_of_daily.months_key("G"), json.dumps({"months": ["2025-05"]})),
            (as_of_daily.daily_key("G", "2025-05"), json.dumps({"P": day})),
        ],
    )
    await owner_conn.execute(
        """INSERT INTO proj_as_of_rows (generation, entity, program_id, ref, business_date,
                                        position, recorded_at, kind, roles, figures)
           SELECT 1, 'G', 'P', 'G-' || n, DATE '2025-05-01', 10 + n, now(), 'sum', 1, $1
             FROM generate_series(1, 3) AS n""",
        late,
    )
    cut = AsOfCut(generation=1, day=dt.date(2025, 5, 31), position=5)
    assert await sums(owner_conn, cut, ["G"], width) == {
        ("G", "P"): [5, 0, 0, 0, *first_role, 1]
    }
