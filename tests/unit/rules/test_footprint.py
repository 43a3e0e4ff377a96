"""Footprints: every two posts where one changes what the other reads share a lock."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from events import payloads as p
from ledger.rules.footprint import Footprint, GuaranteeRef, footprint, referenced_guarantees
from tests.unit.rules.world import NATIONAL, SME, eligibility, issued, sme_code

P = NATIONAL.program_id
OTHER_SME = sme_code(1)
# Existing guarantees: G-0 and G-3 of two SMEs in one program.
REFS = {"G-0": GuaranteeRef(P, SME), "G-3": GuaranteeRef(P, OTHER_SME)}
DAY = dt.date(2026, 1, 1)

# What each event reads and writes, written out from the rules (docs/rules.md) independently of
# footprint.py: (sample event, resources read, resources written).
TABLE: list[tuple[p.Payload, set[str], set[str]]] = [
    (NATIONAL, {"terms"}, {"terms"}),
    (p.ProgramAmended(program_id=P, terms=NATIONAL.terms), {"terms"}, {"terms"}),
    (p.SmeRegistered(sme_id=SME, name="S"), {"sme"}, {"sme"}),
    (eligibility(SME, "high_tech"), {"sme"}, {"sme"}),
    (
        issued("G-1"),
        {"terms", "sme", "balance:S", "G-1"},
        {"balance:S", "volume", "G-1"},
    ),
    (
        issued("G-2", sme_id=OTHER_SME),
        {"terms", "balance:O", "G-2"},
        {"balance:O", "volume", "G-2"},
    ),
    (p.LoanRepaid(guarantee_id="G-0", amount=1), {"G-0"}, {"G-0", "balance:S"}),
    (
        p.GuaranteeRenewed(guarantee_id="G-0", maturity_date=DAY, balance=5),
        {"G-0", "terms", "balance:S"},
        {"G-0", "balance:S"},
    ),
    (p.GuaranteeReleased(guarantee_id="G-0"), {"G-0"}, {"G-0", "balance:S"}),
    (
        p.LoanDefaulted(guarantee_id="G-0", overdue_principal=1, default_date=DAY),
        {"G-0"},
        {"G-0"},
    ),
    (p.ClaimFiled(guarantee_id="G-0", claim_id="C-1", amount=1), {"G-0", "C-1"}, {"G-0", "C-1"}),
    (p.ClaimFiled(guarantee_id="G-3", claim_id="C-1", amount=1), {"G-3", "C-1"}, {"G-3", "C-1"}),
    (p.ClaimApproved(guarantee_id="G-0", claim_id="C-1", approved_amount=1), {"G-0"}, {"G-0"}),
    (p.ClaimRejected(guarantee_id="G-0", claim_id="C-1", reason="x"), {"G-0"}, {"G-0"}),
    (
        p.CompensationPaid(guarantee_id="G-0", claim_id="C-1"),
        {"G-0", "terms", "volume", "borne"},
        {"G-0", "borne", "balance:S"},
    ),
    (
        p.CompensationPaid(guarantee_id="G-3", claim_id="C-3"),
        {"G-3", "terms", "volume", "borne"},
        {"G-3", "borne", "balance:O"},
    ),
    (p.RecoveryRecorded(guarantee_id="G-0", claim_id="C-1", amount=1), {"G-0"}, {"G-0"}),
    (p.ClaimClosed(guarantee_id="G-0", claim_id="C-1"), {"G-0"}, {"G-0", "balance:S"}),
]


def _fp(event: p.Payload) -> Footprint:
    return footprint(
        [event], {k: v for k, v in REFS.items() if k in referenced_guarantees([event])}
    )


def _conflict(a: Footprint, b: Footprint) -> bool:
    """Whether two footprints cannot hold their locks at the same time."""
    a_all, b_all = a.exclusive | a.shared, b.exclusive | b.shared
    return bool((a.exclusive & b_all) | (b.exclusive & a_all))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(a, b, id=f"{a[0].TYPE}-{i}/{b[0].TYPE}-{j}")
        for (i, a), (j, b) in itertools.combinations_with_replacement(enumerate(TABLE), 2)
    ],
)
def test_posts_where_one_writes_what_the_other_reads_share_a_lock(
    first: tuple[p.Payload, set[str], set[str]], second: tuple[p.Payload, set[str], set[str]]
) -> None:
    (a, a_reads, a_writes), (b, b_reads, b_writes) = first, second
    # Writes that only add rows to a sum (volume) commute; a read of what the other writes
    # does not, because the log must replay the order the decisions were made in.
    depends = (a_writes & b_reads) | (b_writes & a_reads)
    if depends:
        assert _conflict(_fp(a), _fp(b)), f"{a.TYPE} and {b.TYPE} depend on {depends}"


def test_issuances_in_one_program_for_different_smes_run_side_by_side() -> None:
    assert not _conflict(_fp(issued("G-1")), _fp(issued("G-2", sme_id=OTHER_SME)))


def test_claim_steps_that_leave_the_balance_alone_do_not_lock_the_sme() -> None:
    event = p.ClaimApproved(guarantee_id="G-0", claim_id="C-1", approved_amount=1)
    assert f"sme:{SME}" not in _fp(event).exclusive | _fp(event).shared


def test_a_guarantee_unknown_before_locking_is_not_loaded() -> None:
    fp = footprint([p.LoanRepaid(guarantee_id="G-new", amount=1)], {})
    assert fp.guarantees == set()
    assert fp.exclusive == {"stream:guarantee-G-new"}


def test_a_batch_may_act_on_a_guarantee_it_issues() -> None:
    fp = footprint([issued("G-1"), p.LoanRepaid(guarantee_id="G-1", amount=1)], {})
    assert "G-1" in fp.guarantees
    assert (SME, P) in fp.balances


def test_an_issuance_names_the_guarantee_it_creates_among_those_to_look_up() -> None:
    assert referenced_guarantees([issued("G-1")]) == {"G-1"}


def test_a_compensation_loads_its_program_volume_and_locks_the_program() -> None:
    fp = _fp(p.CompensationPaid(guarantee_id="G-0", claim_id="C-1"))
    assert (fp.volumes, f"program:{P}" in fp.exclusive) == ({P}, True)


def test_an_issuance_takes_no_lock_for_limits_it_may_not_have() -> None:
    """Limits are probed in ledger_prepare: the issuance's own locks are the cap's alone."""
    fp = footprint([issued("G-1")], {})
    assert fp.exclusive == {"stream:guarantee-G-1", f"sme:{SME}"}
    assert fp.shared == {f"program:{P}"}
    assert not fp.barrier
    assert fp.limit_pairs == {("CQ-SCI-GUAR", SME)}
    assert fp.breakers == {(P, "CQ-SCI-GUAR"): False, (P, "CQ-TECH-BANK"): False}


@pytest.mark.parametrize(
    "event",
    [
        p.InstitutionNetAssetsRecorded(
            institution_id="CQ-SCI-GUAR", net_assets=1, as_of=dt.date(2025, 1, 1)
        ),
        p.InstitutionLimitsSet(
            institution_id="CQ-SCI-GUAR", max_leverage_x100=1000, max_single_sme_bp=1000
        ),
        p.ProgramAmended(program_id=P, terms=NATIONAL.terms),
    ],
)
def test_changing_what_a_limit_applies_to_is_a_barrier(event: p.Payload) -> None:
    assert footprint([event], {}).barrier


def test_a_discharge_names_its_guarantee_for_the_breaker_probe() -> None:
    fp = footprint([p.LoanRepaid(guarantee_id="G-0", amount=1)], REFS)
    assert fp.discharges == {"G-0"}
    assert fp.breakers == {}


def test_a_discharge_of_a_guarantee_issued_in_the_same_post_locks_its_breakers() -> None:
    fp = footprint([issued("G-1"), p.GuaranteeReleased(guarantee_id="G-1")], {})
    assert fp.breakers == {(P, "CQ-SCI-GUAR"): True, (P, "CQ-TECH-BANK"): True}


def test_a_reinstatement_changes_its_breaker() -> None:
    event = p.LimitReinstated(program_id=P, institution_id="CQ-SCI-GUAR", year=2025, reason="R")
    fp = footprint([event], {})
    assert fp.breakers == {(P, "CQ-SCI-GUAR"): True}
    assert not fp.barrier
