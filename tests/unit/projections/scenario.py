"""Event sequences for projection tests: decided by the pure rules, postable to the real ledger."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from events.credit_code import check_character
from events.stored import Actor, LogEntry, StoredEvent, encode_stored
from ledger.rules.decide import decide
from ledger.rules.refusal import Refusal
from ledger.rules.state import GuaranteeState, View
from ledger.seeds import (
    BANK_ID,
    GUARANTOR_ID,
    NATIONAL_FUND_ID,
    POOL_ID,
    REGUARANTOR_ID,
    REVIEWER_ID,
    SEED_INSTITUTIONS,
    load_seed_programs,
)
from tests.factory import ADMIN, actor, envelope, posted

NATIONAL = "national-sme-tech-2024"
LIANGJIANG = "liangjiang-sci-tech-growth"
SMALL = "small-capped"
PROGRAMS = (NATIONAL, LIANGJIANG, SMALL)
BANK2 = "CQ-BANK-2"
GUARANTOR2 = "CQ-GUAR-2"
REGUARANTOR2 = "CQ-REGUAR-2"


def _sme(prefix: str) -> str:
    return prefix + check_character(prefix)


SMES = (_sme("91500000MA5U7K3Q8"), _sme("91440300708461136"), _sme("91500000MA5UAB12C"))
"""Three valid credit codes."""

T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

Step = tuple[dict[str, Any], Actor]
"""An envelope and the actor that posts it."""


def small_terms(per_sme_cap: int = 3_000_000, fund_cap_bp: int = 500) -> dict[str, Any]:
    """A small program with caps on the fund and the re-guarantor, to reach them quickly."""
    return {
        "per_sme_cap": per_sme_cap,
        "loan_amount_min": 1,
        "loan_amount_max": 2_000_000,
        "max_term_months": 36,
        "fee_rate_bp_max": 200,
        "shares_bp": {"bank": 2000, "reguarantor": 2000, "national_fund": 4000},
        "compensation_caps_bp": {"national_fund": fund_cap_bp, "reguarantor": 1500},
        "parties": {"national_fund": NATIONAL_FUND_ID},
    }


def setup_steps() -> list[Step]:
    """Institutions, the two seed programs, a small capped program, and eligible SMEs."""
    steps: list[Step] = []
    for inst in SEED_INSTITUTIONS:
        data = {"institution_id": inst.institution_id, "name": inst.name, "kind": inst.kind}
        steps.append((envelope("institution.registered", data), ADMIN))
    for iid, kind in ((BANK2, "bank"), (GUARANTOR2, "guarantor"), (REGUARANTOR2, "reguarantor")):
        data = {"institution_id": iid, "name": f"Institution {iid}", "kind": kind}
        steps.append((envelope("institution.registered", data), ADMIN))
    for program in load_seed_programs():
        data = {"program_id": program.program_id, "name": program.name, "terms": _terms(program)}
        steps.append((envelope("program.registered", data), ADMIN))
    data = {"program_id": SMALL, "name": "Small capped program", "terms": small_terms()}
    steps.append((envelope("program.registered", data), ADMIN))
    reviewer = actor("reviewer", REVIEWER_ID)
    for sme_id, category in zip(SMES, ("little_giant", "tech_sme", "high_tech"), strict=True):
        steps.append((envelope("sme.registered", {"sme_id": sme_id, "name": "SME"}), reviewer))
        for cat in (category, "recommended"):
            data = {
                "sme_id": sme_id,
                "category": cat,
                "reference": f"REF-{cat}",
                "valid_from": "2024-01-01",
                "valid_until": "2030-12-31",
            }
            steps.append((envelope("sme.eligibility_recorded", data), reviewer))
    return steps


def _terms(program: Any) -> dict[str, Any]:
    import msgspec

    terms: dict[str, Any] = msgspec.to_builtins(program.terms)
    return terms


@dataclass
class PureLedger:
    """Decides steps with the pure rules, producing the log entries the ledger would store."""

    view: View = field(default_factory=View)
    versions: dict[str, int] = field(default_factory=dict)
    entries: list[LogEntry] = field(default_factory=list)
    accepted: list[Step] = field(default_factory=list)
    prev: bytes = b"\0" * 32

    def post(self, step: Step) -> LogEntry | None:
        """Decide one step; the entry when accepted, None when the rules refuse it."""
        body, who = step
        item = posted(body)[0]
        saved = copy.deepcopy(self.view)
        when = T0 + dt.timedelta(seconds=len(self.entries))
        try:
            derived = decide(self.view, item.payload.TYPE, item.payload, who, when)
        except Refusal:
            self.view = saved
            return None
        stream = item.payload.stream_id
        version = self.versions.get(stream, 0) + 1
        self.versions[stream] = version
        stored = StoredEvent(
            event_id=str(item.envelope.event_id),
            type=item.payload.TYPE,
            occurred_at=when,
            expected_version=None,
            data=item.payload,
            derived=derived,
            stream_id=stream,
            stream_version=version,
            recorded_at=when,
            actor=who,
        )
        position = len(self.entries) + 1
        self.prev = hashlib.sha256(self.prev + encode_stored(stored)).digest()
        entry = LogEntry.of(stored, position, self.prev.hex())
        self.entries.append(entry)
        self.accepted.append(step)
        return entry

    def post_all(self, steps: list[Step]) -> PureLedger:
        """Decide every step in order; returns itself."""
        for step in steps:
            self.post(step)
        return self

    def guarantee(self, guarantee_id: str) -> GuaranteeState | None:
        """The rules' state of a guarantee."""
        return self.view.guarantees.get(guarantee_id)


BANKS = (BANK_ID, BANK2)
GUARANTORS = (GUARANTOR_ID, GUARANTOR2)
REGUARANTORS = (REGUARANTOR_ID, REGUARANTOR2)


def issue(
    gid: str, program: str, sme: str, amount: int, *, bank: int = 0, guarantor: int = 0
) -> Step:
    """A guarantee.issued step, posted by its guarantor."""
    guarantor_id = POOL_ID if program == LIANGJIANG else GUARANTORS[guarantor % 2]
    data: dict[str, Any] = {
        "guarantee_id": gid,
        "program_id": program,
        "sme_id": sme,
        "bank_id": BANKS[bank % 2],
        "guarantor_id": guarantor_id,
        "loan_amount": amount,
        "fee_rate_bp": 50,
        "start_date": "2025-01-01",
        "maturity_date": "2026-01-01",
    }
    if program != LIANGJIANG:
        data["reguarantor_id"] = REGUARANTORS[guarantor % 2]
    return envelope("guarantee.issued", data), actor(_kind(guarantor_id), guarantor_id)


def _kind(institution_id: str) -> str:
    return "compensation_pool" if institution_id == POOL_ID else "guarantor"


def on_guarantee(ledger: PureLedger, gid: str, type_: str, **data: Any) -> Step:
    """A step on an existing guarantee, posted by the party the rules expect."""
    g = ledger.guarantee(gid)
    bank = g.bank_id if g else BANK_ID
    guarantor = g.guarantor_id if g else GUARANTOR_ID
    who = (
        actor("bank", bank)
        if type_ in ("loan.repaid", "loan.defaulted", "claim.filed")
        else actor(_kind(guarantor), guarantor)
    )
    return envelope(type_, {"guarantee_id": gid, **data}), who


def lifecycle(ledger: PureLedger, gid: str, *, loss: int, recover: int) -> list[Step]:
    """Default, claim, approve, pay, recover and close one issued guarantee (decided as built)."""
    steps = [
        on_guarantee(
            ledger, gid, "loan.defaulted", overdue_principal=loss, default_date="2025-06-01"
        ),
        on_guarantee(ledger, gid, "claim.filed", claim_id=f"C-{gid}", amount=loss),
        on_guarantee(ledger, gid, "claim.approved", claim_id=f"C-{gid}", approved_amount=loss),
        on_guarantee(ledger, gid, "compensation.paid", claim_id=f"C-{gid}"),
        on_guarantee(ledger, gid, "recovery.recorded", claim_id=f"C-{gid}", amount=recover),
        on_guarantee(ledger, gid, "claim.closed", claim_id=f"C-{gid}"),
    ]
    return steps


OP_KINDS = 16
"""How many kinds of random operation `random_steps` knows."""

OPS = st.lists(
    st.tuples(st.integers(0, OP_KINDS - 1), st.integers(0, 50), st.integers(1, 100)),
    max_size=60,
)
"""Random (kind, target, percent) operations for `random_steps`, for property tests."""


def _amount(base: int, frac: int) -> int:
    return max(1, base * frac // 100)


def _issue_amount(program: str, frac: int) -> int:
    if program == LIANGJIANG:
        return 500_000_000 + frac * 20_000_000
    if program == SMALL:
        return frac * 20_000
    return frac * 10_000_000


def _op(ledger: PureLedger, kind: int, target: int, frac: int) -> Step | None:
    # One operation on the state the rules hold now; None when it has no target yet.
    if kind == 0:
        program = PROGRAMS[target % 3]
        gid = f"G-{len(ledger.view.guarantees) + 1}-{len(ledger.entries)}"
        sme = SMES[(target // 3) % 3]
        return issue(gid, program, sme, _issue_amount(program, frac), bank=target, guarantor=frac)
    if kind == 11:
        terms = small_terms(per_sme_cap=1_000_000 + frac * 50_000, fund_cap_bp=frac * 10)
        data = {"program_id": SMALL, "terms": terms}
        return envelope("program.amended", data), ADMIN
    ids = sorted(ledger.view.guarantees)
    if not ids:
        return None
    g = ledger.view.guarantees[ids[target % len(ids)]]
    claim = g.claims.get(g.open_claim) if g.open_claim else None
    cid = g.open_claim or f"C-{g.guarantee_id}-{len(g.claims) + 1}"
    gid = g.guarantee_id
    if kind >= 12:
        kind = _next_kind(g.status, frac, claim)
    match kind:
        case 1:
            return on_guarantee(ledger, gid, "loan.repaid", amount=_amount(g.balance + 5, frac))
        case 2:
            extra = {} if frac % 2 else {"balance": _amount(g.loan_amount, frac)}
            return on_guarantee(
                ledger, gid, "guarantee.renewed", maturity_date="2027-06-01", **extra
            )
        case 3:
            return on_guarantee(ledger, gid, "guarantee.released")
        case 4:
            overdue = _amount(g.balance, frac)
            return on_guarantee(
                ledger, gid, "loan.defaulted", overdue_principal=overdue, default_date="2025-06-01"
            )
        case 5:
            amount = _amount(g.balance, frac)
            return on_guarantee(ledger, gid, "claim.filed", claim_id=cid, amount=amount)
        case 6:
            approved = _amount(claim.amount if claim else 1, frac)
            return on_guarantee(
                ledger, gid, "claim.approved", claim_id=cid, approved_amount=approved
            )
        case 7:
            return on_guarantee(ledger, gid, "claim.rejected", claim_id=cid, reason="not covered")
        case 8:
            return on_guarantee(ledger, gid, "compensation.paid", claim_id=cid)
        case 9:
            left = (claim.approved_amount or 1) - claim.recovered_total if claim else 1
            return on_guarantee(
                ledger, gid, "recovery.recorded", claim_id=cid, amount=_amount(max(left, 1), frac)
            )
    return on_guarantee(ledger, gid, "claim.closed", claim_id=cid)


def _next_kind(status: str, frac: int, claim: Any) -> int:
    # Moves a guarantee along its life, so random sequences reach claims and recoveries.
    if status == "active":
        return 4
    if status == "defaulted":
        return 5
    if status == "claimed":
        return 7 if frac < 15 else 6
    if status == "approved":
        return 8
    if status == "compensated" and claim is not None and frac < 70:
        return 9
    return 10


def random_steps(ops: list[tuple[int, int, int]]) -> PureLedger:
    """Set up, then decide one step per (kind, target, percent) op; refused ones are dropped."""
    ledger = PureLedger().post_all(setup_steps())
    for kind, target, frac in ops:
        step = _op(ledger, kind % OP_KINDS, target, frac)
        if step is not None:
            ledger.post(step)
    return ledger
