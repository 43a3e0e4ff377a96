"""Who may post which event (docs/rules.md, "Who takes part")."""

from __future__ import annotations

from events.payloads import (
    GuaranteeIssued,
    GuaranteeReleased,
    InstitutionNetAssetsRecorded,
    LoanDefaulted,
    LoanRepaid,
    Payload,
    SmeEligibilityRecorded,
    SmeRegistered,
    StatementFiled,
)
from events.stored import Actor
from ledger.rules.refusal import forbidden
from ledger.rules.state import View

ADMIN_EVENTS = frozenset(
    {
        "institution.registered",
        "program.registered",
        "program.amended",
        "witness.registered",
        "institution.limits_set",
        "limit.reinstated",
    }
)
READ_ONLY_ROLES = frozenset({"auditor", "reader"})
"""Roles no rule lets post any event: their keys only read."""


def read_only(role: str) -> str:
    """Why a key of a read-only `role` is refused whatever it posts."""
    return f"a key of role {role} may not post events: it only reads"


BANK_EVENTS = frozenset({"loan.repaid", "loan.defaulted", "claim.filed"})
GUARANTOR_EVENTS = frozenset(
    {
        "guarantee.renewed",
        "claim.approved",
        "claim.rejected",
        "compensation.paid",
        "recovery.recorded",
        "claim.closed",
    }
)


def authorize(view: View, event_type: str, payload: Payload, actor: Actor) -> None:
    """Refuse with 403 unless `actor` is the party the rules name for this event (docs/rules.md).

    Runs after the guarantee was looked up: an event on an unknown guarantee
    is refused by the rules (invalid-state) before it gets here.
    """
    who = actor.institution_id
    if event_type in ADMIN_EVENTS:
        if actor.role != "admin":
            raise forbidden(f"only an admin key may post {event_type}")
        return
    if isinstance(payload, InstitutionNetAssetsRecorded):
        if actor.role != "admin" and who != payload.institution_id:
            raise forbidden("only an admin key or the institution itself may record its net assets")
        return
    if isinstance(payload, SmeRegistered):
        if actor.role not in ("guarantor", "reviewer"):
            raise forbidden("only a guarantor or reviewer key may register an SME")
        return
    if isinstance(payload, SmeEligibilityRecorded):
        if actor.role != "reviewer":
            raise forbidden("only a reviewer key may record an eligibility")
        return
    if isinstance(payload, StatementFiled):
        if actor.role != "admin" and who != payload.institution_id:
            raise forbidden("only the institution itself or an admin may file its statement")
        return
    if isinstance(payload, GuaranteeIssued):
        if who is None or who != payload.guarantor_id:
            raise forbidden("only the guarantor named in guarantee.issued may post it")
        return
    guarantee_id: str = payload.guarantee_id  # type: ignore[union-attr]
    g = view.guarantees.get(guarantee_id)
    if g is None:
        return
    if event_type in BANK_EVENTS or isinstance(payload, (LoanRepaid, LoanDefaulted)):
        allowed, roles = {g.bank_id}, "its bank"
    elif event_type in GUARANTOR_EVENTS:
        allowed, roles = {g.guarantor_id}, "its guarantor"
    elif isinstance(payload, GuaranteeReleased):
        allowed, roles = {g.bank_id, g.guarantor_id}, "its bank or its guarantor"
    else:  # pragma: no cover - every event type is listed above
        raise forbidden(f"{event_type} has no poster")
    if who is None or who not in allowed:
        # Who the parties are is for the parties (and an admin) to read, as on the read
        # routes; anyone else learns only which role may post it.
        parties = {g.bank_id, g.guarantor_id, g.reguarantor_id}
        named = actor.role == "admin" or (who is not None and who in parties)
        posters = " or ".join(sorted(allowed)) if named else roles
        raise forbidden(f"{event_type} on guarantee {guarantee_id} may be posted only by {posters}")
