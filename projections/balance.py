"""A guarantee's in-force balance as the rules keep it, shared by the read models."""

from __future__ import annotations

from dataclasses import dataclass

from events import payloads as p
from events.derived import CompensationDerived, IssuedDerived
from events.stored import LogEntry
from projections.base import Doc, Docs

GUARANTEE_EVENTS = frozenset(
    {
        "guarantee.issued",
        "loan.repaid",
        "guarantee.renewed",
        "guarantee.released",
        "loan.defaulted",
        "claim.filed",
        "claim.approved",
        "claim.rejected",
        "compensation.paid",
        "recovery.recorded",
        "claim.closed",
    }
)
"""Event types of a guarantee's stream (claims live there too)."""

PROGRAM_EVENTS = frozenset({"program.registered", "program.amended"})
"""Event types of a program's stream."""


def guarantee_key(guarantee_id: str) -> str:
    """Key of a guarantee's document in any projection."""
    return f"guarantee:{guarantee_id}"


@dataclass(frozen=True)
class BalanceChange:
    """How one event moved a guarantee's in-force balance and whether it is in force."""

    before: int
    after: int
    was_in_force: bool
    in_force: bool

    @property
    def delta(self) -> int:
        """Change of the in-force balance (0 once released or closed)."""
        return self.after - self.before


def new_guarantee(entry: LogEntry) -> Doc:
    """The balance document of a just-issued guarantee: in force for its loan amount."""
    data = entry.data
    derived = entry.derived
    assert isinstance(data, p.GuaranteeIssued)
    assert isinstance(derived, IssuedDerived)
    return {
        "program_id": data.program_id,
        "sme_id": data.sme_id,
        "loan_amount": data.loan_amount,
        "balance": data.loan_amount,
        "in_force": True,
        "parties": dict(derived.parties),
        "shares_bp": derived.shares_bp.as_dict(),
    }


def _in_force_balance(doc: Doc) -> int:
    return int(doc["balance"]) if doc["in_force"] else 0


def track(docs: Docs, entry: LogEntry) -> BalanceChange | None:
    """Update the guarantee's balance document for `entry`; None for events that do not move it.

    Mirrors ledger/rules (lifecycle.py, claims.py): a repayment lowers the balance but
    never below 0; a renewal with a balance sets it; compensation lowers it by the approved
    amount; release and claim closing take the guarantee out of force.
    """
    data = entry.data
    if isinstance(data, p.GuaranteeIssued):
        doc = new_guarantee(entry)
        docs.put(guarantee_key(data.guarantee_id), doc)
        return BalanceChange(0, data.loan_amount, False, True)
    if entry.type not in GUARANTEE_EVENTS:
        return None
    key = guarantee_key(data.guarantee_id)  # type: ignore[union-attr]
    doc = docs.need(key)
    balance, in_force = int(doc["balance"]), bool(doc["in_force"])
    match data:
        case p.LoanRepaid():
            balance = max(0, balance - data.amount)
        case p.GuaranteeRenewed() if data.balance is not None:
            balance = data.balance
        case p.CompensationPaid():
            derived = entry.derived
            assert isinstance(derived, CompensationDerived)
            balance = max(0, balance - derived.approved_amount)
        case p.GuaranteeReleased() | p.ClaimClosed():
            in_force = False
        case _:
            return None
    before = _in_force_balance(doc)
    was = bool(doc["in_force"])
    doc["balance"], doc["in_force"] = balance, in_force
    docs.put(key, doc)
    return BalanceChange(before, _in_force_balance(doc), was, in_force)


def guarantee_id_of(entry: LogEntry) -> str | None:
    """The guarantee an event is about, or None for register events."""
    if entry.type in GUARANTEE_EVENTS:
        return str(entry.data.guarantee_id)  # type: ignore[union-attr]
    return None
