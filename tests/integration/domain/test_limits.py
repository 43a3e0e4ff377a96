"""Risk limits through the real append transaction: exact under concurrent posts, two instances."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec

from events import payloads as p
from events.breaker import Breaker
from events.business import SHANGHAI
from events.stored import StoredEvent, decode_stored
from events.terms import CompensationRateLimit
from ledger.audit.as_of import state_as_of
from ledger.http.as_of import as_of_cut
from ledger.posting import PostResult
from ledger.rules.refusal import Refusal
from ledger.rules.replay import verify
from ledger.runtime import Runtime, running
from ledger.store.reads import head_position, read_log
from projections import queries
from projections.runner import ProjectionRunner
from tests.integration.domain.scenario import event_count, post, post_batch, seed
from tests.integration.projections.support import fold_of_log
from tests.unit.rules.world import (
    ADMIN,
    BANK,
    GUAR,
    NATIONAL,
    REVIEWER,
    eligibility,
    issued,
    key,
    sme_code,
    terms,
)

LOAN = 100_000_000
LIMIT = CompensationRateLimit(role="guarantor", warning_bp=400, suspend_bp=500, min_discharged=0)


def _outcomes(results: list[PostResult | BaseException]) -> tuple[int, list[str]]:
    unexpected = [r for r in results if not isinstance(r, PostResult | Refusal)]
    assert not unexpected, unexpected
    return sum(isinstance(r, PostResult) for r in results), [
        r.slug for r in results if isinstance(r, Refusal)
    ]


async def _limit(rt: Runtime, net_assets: int, leverage_x100: int, single_bp: int) -> None:
    await post_batch(
        rt,
        [
            p.InstitutionNetAssetsRecorded(
                institution_id=GUAR, net_assets=net_assets, as_of=dt.date(2024, 12, 31)
            ),
            p.InstitutionLimitsSet(
                institution_id=GUAR, max_leverage_x100=leverage_x100, max_single_sme_bp=single_bp
            ),
        ],
        ADMIN,
    )


async def _smes(rt: Runtime, count: int) -> list[str]:
    smes = [sme_code(n) for n in range(1, count + 1)]
    registers: list[p.Payload] = []
    for sme in smes:
        registers += [p.SmeRegistered(sme_id=sme, name="SME"), eligibility(sme, "little_giant")]
    await post_batch(rt, registers, key(REVIEWER))
    return smes


async def _log(rt: Runtime) -> list[StoredEvent]:
    return [decode_stored(row.body) for row in await read_log(rt.pool, 0, 100_000)]


async def test_forty_issuances_from_two_instances_store_exactly_the_thirty_leverage_admits(
    db_dsn: str,
) -> None:
    async with running(db_dsn) as first, running(db_dsn) as second:
        await seed(first, "little_giant")
        smes = await _smes(first, 40)
        # 10 x 300 000 000 fen = 3 000 000 000 fen: thirty loans of 100 000 000, one per SME.
        await _limit(first, 300_000_000, 1000, 10000)
        before = await event_count(first)
        posts = [
            post([first, second][n % 2], issued(f"G-{n}", sme_id=sme, loan_amount=LOAN), key(GUAR))
            for n, sme in enumerate(smes)
        ]
        stored, refused = _outcomes(await asyncio.gather(*posts, return_exceptions=True))
        assert (stored, refused) == (30, ["leverage-exceeded"] * 10)
        assert await event_count(second) == before + 30
        in_force = await second.pool.fetchval(
            "SELECT sum(balance) FROM w_guarantees WHERE guarantor_id = $1", GUAR
        )
        assert in_force == 30 * LOAN


async def test_forty_issuances_to_one_sme_store_exactly_the_thirty_concentration_admits(
    db_dsn: str,
) -> None:
    async with running(db_dsn) as first, running(db_dsn) as second:
        await seed(first, "little_giant")
        # 10% of 15 000 000 000 fen = 1 500 000 000: thirty loans of 50 000 000 (the
        # program's per-SME cap would admit sixty).
        await _limit(first, 15_000_000_000, 1500, 1000)
        posts = [
            post([first, second][n % 2], issued(f"G-{n}", loan_amount=LOAN // 2), key(GUAR))
            for n in range(40)
        ]
        stored, refused = _outcomes(await asyncio.gather(*posts, return_exceptions=True))
        assert (stored, refused) == (30, ["concentration-exceeded"] * 10)
        issued_count = await second.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'guarantee.issued'"
        )
        assert issued_count == 30


async def test_guarantees_issued_before_the_limits_count_against_them(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=900_000_000), key(GUAR))
    await _limit(runtime, 10_000_000_000, 1500, 1000)
    before = await event_count(runtime)
    refusal = await _refused(runtime, issued("G-2", loan_amount=100_000_001))
    assert refusal.slug == "concentration-exceeded"
    assert refusal.extra == {
        "in_force": 900_000_000,
        "limit": 1_000_000_000,
        "requested": 100_000_001,
    }
    assert await event_count(runtime) == before
    await post(runtime, issued("G-3", loan_amount=100_000_000), key(GUAR))


async def test_a_guarantor_without_limits_leaves_its_guarantees_unmarked(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1"), key(GUAR))
    marked = await runtime.pool.fetchval(
        "SELECT count(*) FROM w_guarantees WHERE guarantor_id IS NOT NULL"
    )
    assert marked == 0


async def _refused(rt: Runtime, payload: p.Payload, actor: Any = None) -> Refusal:
    try:
        await post(rt, payload, actor or key(GUAR))
    except Refusal as refusal:
        return refusal
    raise AssertionError(f"{payload.TYPE} was accepted")


async def test_reinstatement_errors_store_nothing(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    before = await event_count(runtime)
    not_limited = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
    )
    assert (await _refused(runtime, not_limited, ADMIN)).slug == "invalid-state"
    await post(
        runtime,
        p.ProgramAmended(
            program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=LIMIT)
        ),
        ADMIN,
    )
    assert (await _refused(runtime, not_limited, ADMIN)).slug == "invalid-state"
    assert (await _refused(runtime, not_limited, key(GUAR))).slug == "forbidden"
    assert await event_count(runtime) == before + 1


async def _claims_ready(rt: Runtime, count: int, **at: Any) -> None:
    """`count` guarantees C-n, each with an approved claim K-n of LOAN fen."""
    for n in range(count):
        gid = f"C-{n}"
        await post(rt, issued(gid, loan_amount=LOAN), key(GUAR), **at)
        default = p.LoanDefaulted(
            guarantee_id=gid, overdue_principal=1, default_date=dt.date(2025, 5, 1)
        )
        await post(rt, default, key(BANK), **at)
        filed = p.ClaimFiled(guarantee_id=gid, claim_id=f"K-{n}", amount=LOAN)
        await post(rt, filed, key(BANK), **at)
        approval = p.ClaimApproved(guarantee_id=gid, claim_id=f"K-{n}", approved_amount=LOAN)
        await post(rt, approval, key(GUAR), **at)


async def test_no_issuance_is_accepted_after_the_event_that_suspended_its_guarantor(
    db_dsn: str,
) -> None:
    at = "2025-06-01T10:00:00+08:00"
    async with running(db_dsn) as first, running(db_dsn) as second:
        await seed(first, "little_giant")
        smes = await _smes(first, 30)
        amended = p.ProgramAmended(
            program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=LIMIT)
        )
        await post(first, amended, ADMIN)
        await _claims_ready(first, 3, occurred_at=at)
        # Repayments of 5 700 000 000 fen: each compensation of 100 000 000 adds under
        # 200 bp, so the third one crosses 500 bp, racing thirty issuances.
        for n, sme in enumerate(smes[:3]):
            big = issued(f"R-{n}", sme_id=sme, loan_amount=1_900_000_000)
            await post(first, big, key(GUAR), occurred_at=at)
            repaid = p.LoanRepaid(guarantee_id=f"R-{n}", amount=1_900_000_000)
            await post(first, repaid, key(BANK), occurred_at=at)
        racing: list[Any] = [
            post(
                [first, second][n % 2],
                p.CompensationPaid(guarantee_id=f"C-{n}", claim_id=f"K-{n}"),
                key(GUAR),
                occurred_at=at,
            )
            for n in range(3)
        ]
        racing += [
            post(
                [second, first][n % 2],
                issued(f"N-{n}", sme_id=sme, loan_amount=LOAN),
                key(GUAR),
                occurred_at=at,
            )
            for n, sme in enumerate(smes)
        ]
        stored, refused = _outcomes(await asyncio.gather(*racing, return_exceptions=True))
        assert set(refused) <= {"program-suspended"}
        log = await _log(second)
    # Replaying the log decides every stored event again in log order and raises at
    # the first it would refuse: an issuance after the suspending compensation would.
    view = verify(log)
    breaker = view.breakers[(NATIONAL.program_id, GUAR, 2025)]
    assert breaker.suspended
    suspended_at = _suspension_position(log)
    late = [
        i
        for i, e in enumerate(log)
        if i > suspended_at and e.type == "guarantee.issued" and e.occurred_at.year == 2025
    ]
    assert late == []
    assert stored + len(refused) == 33


def _suspension_position(log: list[StoredEvent]) -> int:
    """Index in the log of the event after which the guarantor is first suspended."""
    from ledger.rules.decide import decide
    from ledger.rules.state import View

    view = View()
    for i, e in enumerate(log):
        decide(view, e.type, e.data, e.actor, e.occurred_at)
        b = view.breakers.get((NATIONAL.program_id, GUAR, 2025))
        if b is not None and b.suspended:
            return i
    raise AssertionError("never suspended")


async def test_the_stored_breaker_equals_the_one_a_replay_of_the_log_gives(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    amended = p.ProgramAmended(
        program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=LIMIT)
    )
    await post(runtime, amended, ADMIN)
    await _claims_ready(runtime, 1)
    await post(runtime, p.CompensationPaid(guarantee_id="C-0", claim_id="K-0"), key(GUAR))
    refusal = await _refused(runtime, issued("N-1", loan_amount=LOAN))
    assert refusal.slug == "program-suspended"
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).year
    assert refusal.extra["rate_bp"] == 10000
    assert refusal.extra["year"] == year
    row = await runtime.pool.fetchval(
        "SELECT doc FROM w_breakers WHERE program_id = $1 AND institution_id = $2 AND year = $3",
        NATIONAL.program_id,
        GUAR,
        year,
    )
    stored = msgspec.json.decode(row, type=Breaker)
    replayed = verify(await _log(runtime)).breakers[(NATIONAL.program_id, GUAR, year)]
    assert stored == replayed
    assert stored.suspended


async def test_a_limit_added_by_amendment_rates_the_discharges_stored_before_it(
    runtime: Runtime,
) -> None:
    """Discharges in a program with no limit are counted in the guarantor's and the bank's
    stored breakers, each adding to what the last one stored; a limit added afterwards
    rates them, and suspends issuance."""
    await seed(runtime, "little_giant")
    await _claims_ready(runtime, 1)
    await post(runtime, p.CompensationPaid(guarantee_id="C-0", claim_id="K-0"), key(GUAR))
    await post(runtime, issued("N-0", loan_amount=LOAN), key(GUAR))  # no limit yet
    await post(runtime, p.LoanRepaid(guarantee_id="N-0", amount=LOAN // 2), key(BANK))
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).year
    rows = await runtime.pool.fetch(
        "SELECT institution_id, doc FROM w_breakers WHERE program_id = $1 AND year = $2",
        NATIONAL.program_id,
        year,
    )
    counted = Breaker(compensated=LOAN, repaid=LOAN // 2)
    assert {r["institution_id"]: msgspec.json.decode(r["doc"], type=Breaker) for r in rows} == {
        GUAR: counted,
        BANK: counted,
    }
    amended = p.ProgramAmended(
        program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=LIMIT)
    )
    await post(runtime, amended, ADMIN)
    refusal = await _refused(runtime, issued("N-1", loan_amount=LOAN))
    assert (refusal.slug, refusal.extra["rate_bp"]) == ("program-suspended", 6666)
    assert verify(await _log(runtime)).breakers[(NATIONAL.program_id, GUAR, year)] == counted


async def test_no_issuance_stored_with_the_amendment_that_suspends_it_escapes_it(
    runtime: Runtime,
) -> None:
    """An amendment adding a limit the guarantor is already past, posted amid a burst of
    its issuances: stored together in one transaction, those after it would be checked
    without the breaker the limit makes apply. None after it in the log is accepted."""
    await seed(runtime, "little_giant")
    await _claims_ready(runtime, 1)
    await post(runtime, p.CompensationPaid(guarantee_id="C-0", claim_id="K-0"), key(GUAR))
    smes = [sme_code(400 + n) for n in range(20)]
    registered: list[p.Payload] = [p.SmeRegistered(sme_id=s, name=f"SME {s}") for s in smes]
    registered += [eligibility(s, "little_giant") for s in smes]
    await post_batch(runtime, registered, key(REVIEWER))
    amended = p.ProgramAmended(
        program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=LIMIT)
    )
    burst: list[Any] = [
        post(runtime, issued(f"B-{n}", sme_id=sme, loan_amount=LOAN), key(GUAR))
        for n, sme in enumerate(smes)
    ]
    burst.insert(10, post(runtime, amended, ADMIN))
    results = await asyncio.gather(*burst, return_exceptions=True)
    unexpected = [r for r in results if not isinstance(r, PostResult | Refusal)]
    assert not unexpected, unexpected
    amendment = results[10]
    assert isinstance(amendment, PostResult)
    at = amendment.receipts[0].position
    after = [
        r.receipts[0].position
        for r in results
        if isinstance(r, PostResult) and r is not amendment and r.receipts[0].position > at
    ]
    assert after == []


async def test_a_limit_tightened_after_a_reinstatement_suspends_in_rules_replay_and_read_model(
    runtime: Runtime,
) -> None:
    """Reinstated under 500 bp at a rate of 10 000 bp, then the program amended to 300 bp:
    the tighter limit rates the year afresh, as the stored decision, a replay of the log
    and the institution's read model each say."""
    await seed(runtime, "little_giant")
    await post(runtime, _amended(LIMIT), ADMIN)
    await _claims_ready(runtime, 1)
    await post(runtime, p.CompensationPaid(guarantee_id="C-0", claim_id="K-0"), key(GUAR))
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).year
    reinstated = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id=GUAR, year=year, reason="Reviewed."
    )
    await post(runtime, reinstated, ADMIN)
    await post(runtime, issued("N-1", loan_amount=LOAN), key(GUAR))
    tighter = CompensationRateLimit(
        role="guarantor", warning_bp=200, suspend_bp=300, min_discharged=0
    )
    await post(runtime, _amended(tighter), ADMIN)
    refusal = await _refused(runtime, issued("N-2", loan_amount=LOAN))
    assert (refusal.slug, refusal.extra["suspend_bp"]) == ("program-suspended", 300)
    stored = msgspec.json.decode(
        await runtime.pool.fetchval(
            "SELECT doc FROM w_breakers WHERE program_id = $1 AND institution_id = $2 "
            "AND year = $3",
            NATIONAL.program_id,
            GUAR,
            year,
        ),
        type=Breaker,
    )
    assert verify(await _log(runtime)).breakers[(NATIONAL.program_id, GUAR, year)] == stored
    runner = ProjectionRunner(runtime.dsn)
    try:
        await runner.catch_up()
    finally:
        await runner.close()
    today = dt.datetime.now(SHANGHAI).date()
    async with runtime.pool.acquire() as conn:
        cut = await as_of_cut(conn, None, today, None, _in(5), await head_position(conn))
        bodies = {
            "the fold": (await fold_of_log(runtime.pool)).institution_position(GUAR),
            "the read model": await queries.institution_position(conn, GUAR),
            "the books as of today": await state_as_of(conn, cut, "institution_id", GUAR),
        }
    for where, body in bodies.items():
        assert body is not None, where
        [program] = [g for g in body["programs"] if g["program_id"] == NATIONAL.program_id]
        assert program["limit"]["status"] == "suspended", where


def _in(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


def _amended(limit: CompensationRateLimit) -> p.ProgramAmended:
    return p.ProgramAmended(
        program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=limit)
    )
