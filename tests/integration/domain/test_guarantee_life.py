"""A whole guarantee life through the real ledger, for both seed programs, every number checked."""

from __future__ import annotations

import datetime as dt

from events import payloads as p
from events.derived import CompensationDerived, IssuedDerived, RecoveryDerived
from events.stored import decode_stored
from events.types import Role, RoleAmounts
from ledger.rules.replay import verify
from ledger.runtime import Runtime
from ledger.store.reads import read_log
from tests.integration.domain.scenario import guarantee, post, seed, stored_facts
from tests.unit.rules.world import (
    ADMIN,
    BANK,
    FUND,
    GUAR,
    LIANGJIANG,
    NATIONAL,
    POOL,
    REGUAR,
    issued,
    key,
    terms,
)

DEFAULT_DAY = dt.date(2026, 1, 10)


async def live(rt: Runtime, gid: str, poster: str, steps: list[tuple[p.Payload, int]]) -> None:
    """Post each step as its party and check the stored in-force balance after it."""
    for event, balance in steps:
        party = BANK if event.TYPE in ("loan.repaid", "loan.defaulted", "claim.filed") else poster
        await post(rt, event, key(party))
        stored_balance, _ = await guarantee(rt, gid)
        assert stored_balance == balance, f"after {event.TYPE}"


def life(gid: str, maturity: dt.date, claim: int, recoveries: tuple[int, int]) -> list[p.Payload]:
    """Repay, renew to the full loan, default, claim, approve 600 000 000, pay, recover twice."""
    c = f"C-{gid}"
    return [
        p.LoanRepaid(guarantee_id=gid, amount=100_000_000),
        p.GuaranteeRenewed(guarantee_id=gid, maturity_date=maturity, balance=1_000_000_000),
        p.LoanDefaulted(guarantee_id=gid, overdue_principal=claim, default_date=DEFAULT_DAY),
        p.ClaimFiled(guarantee_id=gid, claim_id=c, amount=claim),
        p.ClaimApproved(guarantee_id=gid, claim_id=c, approved_amount=600_000_000),
        p.CompensationPaid(guarantee_id=gid, claim_id=c),
        p.RecoveryRecorded(guarantee_id=gid, claim_id=c, amount=recoveries[0]),
        p.RecoveryRecorded(guarantee_id=gid, claim_id=c, amount=recoveries[1]),
        p.ClaimClosed(guarantee_id=gid, claim_id=c),
    ]


async def test_a_national_guarantee_lives_from_issue_to_close(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    gid = "G-N"
    await post(runtime, issued(gid, loan_amount=1_000_000_000), key(GUAR))
    events = life(gid, dt.date(2029, 3, 1), 700_000_000, (100_000_000, 50_000_000))
    balances = [900_000_000, 1_000_000_000, 1_000_000_000, 1_000_000_000, 1_000_000_000]
    balances += [400_000_000, 400_000_000, 400_000_000, 0]
    await live(runtime, gid, GUAR, list(zip(events, balances, strict=True)))

    _, state = await guarantee(runtime, gid)
    assert (state.status, state.balance, state.maturity_date) == (
        "closed",
        400_000_000,
        dt.date(2029, 3, 1),
    )
    facts = await stored_facts(runtime, f"guarantee-{gid}")
    assert [version for _, version, _ in facts] == list(range(1, 11))
    parties: dict[Role, str] = {
        "bank": BANK,
        "guarantor": GUAR,
        "reguarantor": REGUAR,
        "national_fund": FUND,
    }
    assert facts[0][2] == IssuedDerived(
        program_version=1,
        category="little_giant",
        shares_bp=RoleAmounts(bank=2000, guarantor=2000, reguarantor=2000, national_fund=4000),
        parties=parties,
    )
    assert facts[6][2] == CompensationDerived(
        approved_amount=600_000_000,
        shares=RoleAmounts(
            bank=120_000_000,
            guarantor=310_000_000,
            reguarantor=120_000_000,
            national_fund=50_000_000,
        ),
        parties=parties,
    )
    assert [f[2] for f in facts[7:9]] == [
        RecoveryDerived(
            split=RoleAmounts(
                bank=20_000_000,
                guarantor=51_666_667,
                reguarantor=20_000_000,
                national_fund=8_333_333,
            )
        ),
        # Outstanding 100 000 000 / 258 333 333 / 100 000 000 / 41 666 667: 10% of each,
        # the odd fen to the fund (remainder .7 beats the guarantor's .3).
        RecoveryDerived(
            split=RoleAmounts(
                bank=10_000_000,
                guarantor=25_833_333,
                reguarantor=10_000_000,
                national_fund=4_166_667,
            )
        ),
    ]
    assert [f[2] for f in facts[1:6]] == [None] * 5
    assert facts[9] == ("claim.closed", 10, None)


async def test_a_liangjiang_guarantee_lives_from_issue_to_close(runtime: Runtime) -> None:
    await seed(runtime, "recommended")
    gid = "G-L"
    lj = {"program_id": LIANGJIANG.program_id, "guarantor_id": POOL, "reguarantor_id": None}
    await post(runtime, issued(gid, loan_amount=1_000_000_000, **lj), key(POOL))
    # Renewed to exactly 60 months after the first start date (2025-03-01).
    events = life(gid, dt.date(2030, 3, 1), 800_000_000, (100_000_000, 33_333_333))
    balances = [900_000_000, 1_000_000_000, 1_000_000_000, 1_000_000_000, 1_000_000_000]
    balances += [400_000_000, 400_000_000, 400_000_000, 0]
    await live(runtime, gid, POOL, list(zip(events, balances, strict=True)))

    _, state = await guarantee(runtime, gid)
    assert (state.status, state.balance) == ("closed", 400_000_000)
    facts = await stored_facts(runtime, f"guarantee-{gid}")
    parties: dict[Role, str] = {"bank": BANK, "guarantor": POOL, "compensation_pool": POOL}
    assert facts[0][2] == IssuedDerived(
        program_version=1,
        category="recommended",
        shares_bp=RoleAmounts(bank=5000, compensation_pool=5000),
        parties=parties,
    )
    assert facts[6][2] == CompensationDerived(
        approved_amount=600_000_000,
        shares=RoleAmounts(bank=300_000_000, compensation_pool=300_000_000),
        parties=parties,
    )
    assert [f[2] for f in facts[7:9]] == [
        RecoveryDerived(split=RoleAmounts(bank=50_000_000, compensation_pool=50_000_000)),
        # 33 333 333 split evenly leaves one fen; equal remainders go to the earlier role.
        RecoveryDerived(split=RoleAmounts(bank=16_666_667, compensation_pool=16_666_666)),
    ]


async def test_the_stored_log_replays_to_the_same_facts(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=1_000_000_000), key(GUAR))
    await post(runtime, issued("G-2", loan_amount=500_000_000), key(GUAR))
    for event in life("G-1", dt.date(2029, 3, 1), 700_000_000, (100_000_000, 50_000_000)):
        party = BANK if event.TYPE in ("loan.repaid", "loan.defaulted", "claim.filed") else GUAR
        await post(runtime, event, key(party))
    log = [decode_stored(row.body) for row in await read_log(runtime.pool, 0, 1000)]
    view = verify(log)
    assert view.guarantees["G-1"].status == "closed"
    assert view.programs["national-sme-tech-2024"].borne["national_fund"] == 75_000_000


async def test_an_amendment_fixes_new_shares_only_for_guarantees_issued_after_it(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=1_000_000_000), key(GUAR))
    amended = terms(shares_bp={"bank": 3000, "reguarantor": 2000, "national_fund": 4000})
    await post(runtime, p.ProgramAmended(program_id=NATIONAL.program_id, terms=amended), ADMIN)
    await post(runtime, issued("G-2", loan_amount=1_000_000_000), key(GUAR))
    for event in life("G-1", dt.date(2029, 3, 1), 700_000_000, (1, 1))[2:6]:
        party = BANK if event.TYPE in ("loan.defaulted", "claim.filed") else GUAR
        await post(runtime, event, key(party))

    g2 = await stored_facts(runtime, "guarantee-G-2")
    assert isinstance(g2[0][2], IssuedDerived)
    assert (g2[0][2].program_version, g2[0][2].shares_bp) == (
        2,
        RoleAmounts(bank=3000, guarantor=1000, reguarantor=2000, national_fund=4000),
    )
    g1 = await stored_facts(runtime, "guarantee-G-1")
    compensation = g1[-1][2]
    assert isinstance(compensation, CompensationDerived)
    # G-1 keeps 20/20/20/40; the fund's cap is 5% of the 2 000 000 000 issued.
    assert compensation.shares == RoleAmounts(
        bank=120_000_000, guarantor=260_000_000, reguarantor=120_000_000, national_fund=100_000_000
    )
