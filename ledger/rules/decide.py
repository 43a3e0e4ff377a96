"""The decision: one posted event against the decision state -> derived facts, or a refusal."""

from __future__ import annotations

import datetime as dt

from events import payloads as p
from events.derived import Derived
from events.stored import Actor
from ledger.rules import claims, filing, issuance, lifecycle, limits, registry
from ledger.rules.authorize import READ_ONLY_ROLES, authorize, read_only
from ledger.rules.refusal import forbidden
from ledger.rules.state import View


def admit(view: View, event_type: str, payload: p.Payload, actor: Actor) -> None:
    """Refuse (403) a poster who may not post this event, before anything else is checked.

    What other checks would tell (a stream's version, its latest business time, whether
    an id is taken) is for the parties to it: a key that may not post the event learns
    only that. A guarantee the event names must exist (404) for its parties to be known.
    """
    if actor.role in READ_ONLY_ROLES:
        # Before anything is looked up: such a key is told only that it may not post.
        raise forbidden(read_only(actor.role))
    if hasattr(payload, "guarantee_id") and not isinstance(payload, p.GuaranteeIssued):
        lifecycle.guarantee(view, payload.guarantee_id)
    authorize(view, event_type, payload, actor)


def decide(
    view: View,
    event_type: str,
    payload: p.Payload,
    actor: Actor,
    at: dt.datetime | None = None,
) -> Derived:
    """Check `payload` (of `event_type`, posted by `actor`, at business time `at`) and
    apply it to `view`.

    `at` (the event's occurred_at) places it in a year of the compensation-rate
    breakers; without it (rule tests only) the breakers are left out.

    Returns the facts the ledger derives and stores with the event (fixed
    shares, loss split, recovery split), or raises Refusal. `view` is changed
    only when the event is accepted, except that a refused batch is thrown
    away whole by the caller.
    """
    admit(view, event_type, payload, actor)
    return settle(view, payload, at)


def settle(view: View, payload: p.Payload, at: dt.datetime | None = None) -> Derived:
    """`decide` for a poster already admitted (`admit`): the rules of the event itself."""
    match payload:
        case p.InstitutionRegistered():
            registry.register_institution(view, payload)
        case p.ProgramRegistered():
            registry.register_program(view, payload)
        case p.ProgramAmended():
            registry.amend_program(view, payload)
        case p.SmeRegistered():
            registry.register_sme(view, payload)
        case p.SmeEligibilityRecorded():
            registry.record_eligibility(view, payload)
        case p.GuaranteeIssued():
            return issuance.issue(view, payload, at)
        case p.LoanRepaid():
            lifecycle.repay(view, payload, at)
        case p.GuaranteeRenewed():
            lifecycle.renew(view, payload)
        case p.GuaranteeReleased():
            lifecycle.release(view, payload, at)
        case p.LoanDefaulted():
            lifecycle.default(view, payload)
        case p.ClaimFiled():
            claims.file(view, payload)
        case p.ClaimApproved():
            claims.approve(view, payload)
        case p.ClaimRejected():
            claims.reject(view, payload)
        case p.CompensationPaid():
            return claims.compensate(view, payload, at)
        case p.RecoveryRecorded():
            return claims.recover(view, payload)
        case p.ClaimClosed():
            claims.close(view, payload, at)
        case p.InstitutionNetAssetsRecorded():
            limits.record_net_assets(view, payload)
        case p.InstitutionLimitsSet():
            limits.set_limits(view, payload)
        case p.LimitReinstated():
            limits.reinstate_limit(view, payload)
        case p.WitnessRegistered():
            # Nothing the rules decide on: the ledger reads registered keys from the
            # events themselves; a second registration is refused by its stream's version.
            pass
        case p.StatementFiled():
            return filing.file_statement(view, payload)
    return None
