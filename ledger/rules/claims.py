"""Rules for claims: filing, approval, rejection, compensation, recovery, closing."""

from __future__ import annotations

import datetime as dt

from events.derived import CompensationDerived, RecoveryDerived
from events.payloads import (
    ClaimApproved,
    ClaimClosed,
    ClaimFiled,
    ClaimRejected,
    CompensationPaid,
    RecoveryRecorded,
)
from events.types import ROLES, Role, RoleAmounts
from ledger.rules.lifecycle import guarantee, require, set_balance, set_status
from ledger.rules.limits import discharge
from ledger.rules.refusal import invalid_state
from ledger.rules.shares import compensation_cap, split_loss, split_recovery
from ledger.rules.state import ClaimState, GuaranteeState, View


def _claim(g: GuaranteeState, claim_id: str, event_type: str) -> ClaimState:
    if g.open_claim != claim_id:
        raise invalid_state(
            f"{event_type}: claim {claim_id} is not the open claim of guarantee {g.guarantee_id}"
        )
    return g.claims[claim_id]


def file(view: View, event: ClaimFiled) -> None:
    """The bank claims on a defaulted guarantee; one open claim at a time."""
    g = guarantee(view, event.guarantee_id)
    require(g, "claim.filed", "defaulted")
    if event.claim_id in view.claim_owner:
        raise invalid_state(f"claim id {event.claim_id} is already used")
    if event.amount > g.balance:
        raise invalid_state(
            f"claim amount {event.amount} exceeds the guarantee balance {g.balance}",
            balance=g.balance,
        )
    g.claims[event.claim_id] = ClaimState(
        claim_id=event.claim_id, status="filed", amount=event.amount
    )
    g.open_claim = event.claim_id
    view.claim_owner[event.claim_id] = g.guarantee_id
    view.touch("claim", event.claim_id)
    set_status(view, g, "claimed")


def approve(view: View, event: ClaimApproved) -> None:
    """The guarantor approves at most the filed amount."""
    g = guarantee(view, event.guarantee_id)
    require(g, "claim.approved", "claimed")
    claim = _claim(g, event.claim_id, "claim.approved")
    if event.approved_amount > claim.amount:
        raise invalid_state(
            f"approved_amount {event.approved_amount} exceeds the filed amount {claim.amount}"
        )
    claim.status = "approved"
    claim.approved_amount = event.approved_amount
    set_status(view, g, "approved")


def reject(view: View, event: ClaimRejected) -> None:
    """The guarantor rejects the claim; the guarantee returns to defaulted."""
    g = guarantee(view, event.guarantee_id)
    require(g, "claim.rejected", "claimed")
    claim = _claim(g, event.claim_id, "claim.rejected")
    claim.status = "rejected"
    g.open_claim = None
    set_status(view, g, "defaulted")


def _headroom(view: View, g: GuaranteeState) -> dict[Role, int | None]:
    """Each capped role's room left in the program, by the caps of the terms `g` was issued
    under: an amendment applies to guarantees issued after it (docs/rules.md)."""
    program = view.programs[g.program_id]
    caps = g.compensation_caps_bp
    if caps is None:
        caps = program.terms.compensation_caps_bp
    headroom: dict[Role, int | None] = {}
    for role, rate in caps.items():
        volume = view.program_volume.get((g.program_id, role), 0)
        cap = compensation_cap(rate, volume)
        headroom[role] = max(0, cap - program.borne.get(role, 0))
    return headroom


def compensate(
    view: View, event: CompensationPaid, at: dt.datetime | None = None
) -> CompensationDerived:
    """Pay the approved claim and fix each party's share of the loss."""
    g = guarantee(view, event.guarantee_id)
    require(g, "compensation.paid", "approved")
    claim = _claim(g, event.claim_id, "compensation.paid")
    loss = claim.approved_amount or 0
    split = split_loss(loss, g.shares_bp.as_dict(), _headroom(view, g))
    borne = RoleAmounts.from_mapping(split)
    program = view.programs[g.program_id]
    for role in ROLES:
        if split[role]:
            program.borne[role] = program.borne.get(role, 0) + split[role]
    view.touch("program", g.program_id)
    claim.borne = borne
    claim.status = "compensated"
    set_balance(view, g, max(0, g.balance - loss))
    set_status(view, g, "compensated")
    discharge(view, g, "compensated", loss, at)
    parties = {role: g.parties[role] for role in ROLES if role in g.parties}
    return CompensationDerived(approved_amount=loss, shares=borne, parties=parties)


def recover(view: View, event: RecoveryRecorded) -> RecoveryDerived:
    """Split a recovery back to the roles in proportion to what each still has unrecovered."""
    g = guarantee(view, event.guarantee_id)
    require(g, "recovery.recorded", "compensated")
    claim = _claim(g, event.claim_id, "recovery.recorded")
    loss = claim.approved_amount or 0
    if claim.borne is None or claim.recovered_total + event.amount > loss:
        raise invalid_state(
            f"recoveries on claim {claim.claim_id} would total "
            f"{claim.recovered_total + event.amount} fen, more than the loss of {loss}",
            recovered=claim.recovered_total,
            loss=loss,
        )
    part = split_recovery(event.amount, claim.borne.as_dict(), claim.recovered.as_dict())
    claim.recovered = RoleAmounts.from_mapping(
        {role: claim.recovered.get(role) + part[role] for role in ROLES}
    )
    view.touch("guarantee", g.guarantee_id)
    return RecoveryDerived(split=RoleAmounts.from_mapping(part))


def close(view: View, event: ClaimClosed, at: dt.datetime | None = None) -> None:
    """Close the compensated claim and, with it, the guarantee."""
    g = guarantee(view, event.guarantee_id)
    require(g, "claim.closed", "compensated")
    claim = _claim(g, event.claim_id, "claim.closed")
    claim.status = "closed"
    g.open_claim = None
    left = g.in_force_balance
    set_status(view, g, "closed")
    discharge(view, g, "closed", left, at)
