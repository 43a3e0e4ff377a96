"""Rules that must hold under concurrent posts, from one or two service instances."""

from __future__ import annotations

import asyncio
import datetime as dt

from events import payloads as p
from events.derived import CompensationDerived
from ledger.posting import PostResult
from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime, running
from tests.integration.domain.scenario import post, post_batch, seed, stored_facts
from tests.unit.rules.world import BANK, GUAR, REVIEWER, SME, eligibility, issued, key, sme_code

LOAN = 100_000_000  # 1 000 000 yuan; the national cap of 30 000 000 yuan admits 30.


def _outcomes(results: list[PostResult | BaseException]) -> tuple[int, list[str]]:
    unexpected = [r for r in results if not isinstance(r, PostResult | Refusal)]
    assert not unexpected, unexpected
    stored = sum(isinstance(r, PostResult) for r in results)
    return stored, [r.slug for r in results if isinstance(r, Refusal)]


async def _issue_many(runtimes: list[Runtime], count: int) -> list[PostResult | BaseException]:
    posts = [
        post(runtimes[n % len(runtimes)], issued(f"G-{n}", loan_amount=LOAN), key(GUAR))
        for n in range(count)
    ]
    return await asyncio.gather(*posts, return_exceptions=True)


async def _issued_in_store(rt: Runtime) -> tuple[int, int]:
    row = await rt.pool.fetchrow(
        """SELECT (SELECT count(*) FROM events WHERE type = 'guarantee.issued') AS n,
                  (SELECT sum(balance) FROM w_guarantees WHERE sme_id = $1) AS balance""",
        SME,
    )
    assert row is not None
    return int(row["n"]), int(row["balance"])


async def test_forty_concurrent_issuances_store_exactly_what_the_cap_admits(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    stored, refused = _outcomes(await _issue_many([runtime], 40))
    assert (stored, refused) == (30, ["cap-exceeded"] * 10)
    assert await _issued_in_store(runtime) == (30, 3_000_000_000)


async def test_two_service_instances_on_one_database_keep_the_cap_together(db_dsn: str) -> None:
    async with running(db_dsn) as first, running(db_dsn) as second:
        await seed(first, "little_giant")
        stored, refused = _outcomes(await _issue_many([first, second], 40))
        assert (stored, refused) == (30, ["cap-exceeded"] * 10)
        assert await _issued_in_store(second) == (30, 3_000_000_000)


async def test_concurrent_compensations_in_one_program_share_the_fund_cap(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    other = sme_code(1)
    await post_batch(
        runtime,
        [p.SmeRegistered(sme_id=other, name="Second SME"), eligibility(other, "little_giant")],
        key(REVIEWER),
    )
    # Two SMEs, so that only the program lock can keep the compensations apart.
    claims = [("G-1", "C-1", SME), ("G-2", "C-2", other)]
    for gid, claim, sme in claims:
        await post(runtime, issued(gid, sme_id=sme, loan_amount=1_000_000_000), key(GUAR))
        default = p.LoanDefaulted(
            guarantee_id=gid, overdue_principal=1, default_date=dt.date(2026, 1, 10)
        )
        await post(runtime, default, key(BANK))
        await post(
            runtime, p.ClaimFiled(guarantee_id=gid, claim_id=claim, amount=600_000_000), key(BANK)
        )
        approval = p.ClaimApproved(guarantee_id=gid, claim_id=claim, approved_amount=600_000_000)
        await post(runtime, approval, key(GUAR))
    await asyncio.gather(
        *(
            post(runtime, p.CompensationPaid(guarantee_id=gid, claim_id=claim), key(GUAR))
            for gid, claim, _ in claims
        )
    )
    # The fund's cap is 5% of 2 000 000 000: one compensation uses it all, the other none.
    funds = []
    for gid, _, _ in claims:
        *_, (kind, _, derived) = await stored_facts(runtime, f"guarantee-{gid}")
        assert kind == "compensation.paid"
        assert isinstance(derived, CompensationDerived)
        funds.append(derived.shares.national_fund)
    assert sorted(funds) == [0, 100_000_000]


async def _program_volumes(rt: Runtime) -> tuple[dict[tuple[str, str], int], ...]:
    """The running volume totals, and the same volumes summed over every guarantee."""
    totals = await rt.pool.fetch(
        "SELECT program_id, role, sum(volume) AS v FROM w_program_volume GROUP BY 1, 2"
    )
    summed = await rt.pool.fetch(
        """SELECT g.program_id, r.role, sum(g.loan_amount) AS v
             FROM w_guarantees g, unnest(g.volume_roles) AS r(role) GROUP BY 1, 2"""
    )
    return tuple(
        {(row["program_id"], row["role"]): int(row["v"]) for row in rows}
        for rows in (totals, summed)
    )


async def _seed_smes(rt: Runtime, count: int) -> list[str]:
    """The seed set-up, and `count` more eligible SMEs registered in one batch."""
    await seed(rt, "little_giant")
    smes = [sme_code(n) for n in range(1, count + 1)]
    registers: list[p.Payload] = []
    for sme in smes:
        registers += [p.SmeRegistered(sme_id=sme, name="SME"), eligibility(sme, "little_giant")]
    await post_batch(rt, registers, key(REVIEWER))
    return smes


async def test_concurrent_issuances_for_many_smes_keep_the_program_volume_exact(
    db_dsn: str,
) -> None:
    async with running(db_dsn) as first, running(db_dsn) as second:
        smes = await _seed_smes(first, 32)
        posts = [
            post(
                [first, second][n % 2],
                issued(f"G-{n}", sme_id=sme, loan_amount=LOAN + n),
                key(GUAR),
            )
            for n, sme in enumerate(smes)
        ]
        stored, refused = _outcomes(await asyncio.gather(*posts, return_exceptions=True))
        totals, summed = await _program_volumes(second)
    assert (stored, refused) == (32, [])
    assert totals == summed
    assert set(totals.values()) == {sum(LOAN + n for n in range(32))}


async def test_concurrent_batches_of_issuances_sharing_volume_shards_never_deadlock(
    runtime: Runtime,
) -> None:
    smes = await _seed_smes(runtime, 128)
    # Eight batches of sixteen SMEs each: between them they share volume shards, and
    # each batch takes its shard rows in one order, so none waits on another in a cycle.
    batches = [
        post_batch(
            runtime,
            [issued(f"G-{n}", sme_id=smes[n], loan_amount=LOAN) for n in range(b, 128, 8)],
            key(GUAR),
        )
        for b in range(8)
    ]
    stored, refused = _outcomes(await asyncio.gather(*batches, return_exceptions=True))
    totals, summed = await _program_volumes(runtime)
    assert (stored, refused) == (8, [])
    assert totals == summed
    assert set(totals.values()) == {128 * LOAN}
