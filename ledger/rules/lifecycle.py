"""Rules for a guarantee's life before a claim: repayment, renewal, release, default."""

from __future__ import annotations

import datetime as dt

from events.payloads import GuaranteeReleased, GuaranteeRenewed, LoanDefaulted, LoanRepaid
from ledger.rules.dates import within_term
from ledger.rules.issuance import check_cap
from ledger.rules.limits import check_exposure, discharge, track_balance
from ledger.rules.refusal import invalid_state, invalid_value
from ledger.rules.state import GuaranteeState, GuaranteeStatus, View


def guarantee(view: View, guarantee_id: str) -> GuaranteeState:
    """The guarantee, or invalid-state when it does not exist."""
    found = view.guarantees.get(guarantee_id)
    if found is None:
        raise invalid_state(f"guarantee {guarantee_id} does not exist")
    return found


def require(g: GuaranteeState, event_type: str, *allowed: GuaranteeStatus) -> None:
    """Refuse with invalid-state unless the guarantee is in one of `allowed`."""
    if g.status not in allowed:
        raise invalid_state(
            f"{event_type} is not allowed on guarantee {g.guarantee_id} in status {g.status}",
            guarantee_status=g.status,  # `status` is the problem's HTTP status
        )


def set_balance(view: View, g: GuaranteeState, balance: int) -> None:
    """Change the balance, keeping the SME's in-force total in step."""
    before = g.in_force_balance
    g.balance = balance
    _sync(view, g, before)


def set_status(view: View, g: GuaranteeState, status: GuaranteeStatus) -> None:
    """Change the status, keeping the SME's in-force total in step."""
    before = g.in_force_balance
    g.status = status
    _sync(view, g, before)


def _sync(view: View, g: GuaranteeState, before: int) -> None:
    key = (g.sme_id, g.program_id)
    change = g.in_force_balance - before
    view.sme_balance[key] = view.sme_balance.get(key, 0) + change
    track_balance(view, g, change)
    view.touch("guarantee", g.guarantee_id)


def repay(view: View, event: LoanRepaid, at: dt.datetime | None = None) -> None:
    """A repayment lowers the balance, never below zero."""
    g = guarantee(view, event.guarantee_id)
    require(g, "loan.repaid", "active", "defaulted")
    before = g.balance
    set_balance(view, g, max(0, g.balance - event.amount))
    discharge(view, g, "repaid", before - g.balance, at)


def renew(view: View, event: GuaranteeRenewed) -> None:
    """Extend the maturity (and optionally reset the balance) of an active guarantee."""
    g = guarantee(view, event.guarantee_id)
    require(g, "guarantee.renewed", "active")
    program = view.programs[g.program_id]
    # An amendment applies to guarantees issued after it, so a renewal keeps the
    # term limit of the version this guarantee was issued under.
    max_months = g.max_term_months or program.terms.max_term_months
    if event.maturity_date <= g.first_start_date:
        raise invalid_value("$.data.maturity_date", "maturity_date must be after the start date")
    if not within_term(g.first_start_date, event.maturity_date, max_months):
        # Refused like a post out of turn, with the state machine's refusals (docs/rules.md).
        raise invalid_state(
            f"a renewal must mature within {max_months} months of the first start date "
            f"{g.first_start_date.isoformat()}",
            max_term_months=max_months,
        )
    if event.balance is not None:
        if event.balance > g.loan_amount:
            raise invalid_value(
                "$.data.balance", f"balance may be at most the loan amount {g.loan_amount}"
            )
        if event.balance > g.balance:
            check_cap(view, g.sme_id, program, event.balance - g.balance)
            check_exposure(view, g.guarantor_id, g.sme_id, event.balance - g.balance)
        set_balance(view, g, event.balance)
    g.maturity_date = event.maturity_date
    view.touch("guarantee", g.guarantee_id)


def release(view: View, event: GuaranteeReleased, at: dt.datetime | None = None) -> None:
    """An active guarantee ends without loss; its balance no longer counts."""
    g = guarantee(view, event.guarantee_id)
    require(g, "guarantee.released", "active")
    left = g.in_force_balance
    set_status(view, g, "released")
    discharge(view, g, "released", left, at)


def default(view: View, event: LoanDefaulted) -> None:
    """The borrower defaulted; claims may follow."""
    g = guarantee(view, event.guarantee_id)
    require(g, "loan.defaulted", "active")
    if event.overdue_principal > g.balance:
        raise invalid_value(
            "$.data.overdue_principal",
            f"overdue_principal may be at most the balance {g.balance}",
        )
    if event.default_date < g.first_start_date:
        raise invalid_value("$.data.default_date", "default_date is before the guarantee started")
    set_status(view, g, "defaulted")
