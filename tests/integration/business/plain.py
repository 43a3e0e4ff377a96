"""A statement recomputed by a plain fold over the events, written apart from the read model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from events import payloads as p
from events.derived import CompensationDerived, IssuedDerived, RecoveryDerived
from events.stored import LogEntry

SH = dt.timezone(dt.timedelta(hours=8))
FLOWS = (
    "issued.count",
    "issued.amount",
    "renewed_net",
    "repaid",
    "released.count",
    "released.amount",
    "compensated.count",
    "compensated.amount",
    "compensated.borne",
    "closed.count",
    "closed.amount",
    "defaulted.count",
    "defaulted.overdue_principal",
    "recovered.amount",
    "recovered.returned",
)
"""The figures that are sums over the period's events."""


def _day(entry: LogEntry) -> dt.date:
    return entry.occurred_at.astimezone(SH).date()


class _Guarantee:
    def __init__(self, entry: LogEntry) -> None:
        data, derived = entry.data, entry.derived
        assert isinstance(data, p.GuaranteeIssued)
        assert isinstance(derived, IssuedDerived)
        self.program = data.program_id
        self.balance = data.loan_amount
        self.in_force = True
        self.roles: dict[str, str] = dict(derived.parties)
        self.roles.setdefault("bank", data.bank_id)
        self.roles.setdefault("guarantor", data.guarantor_id)
        if data.reguarantor_id:
            self.roles.setdefault("reguarantor", data.reguarantor_id)

    def counted(self) -> int:
        return self.balance if self.in_force else 0

    def part(self, institution: str, amounts: dict[str, int]) -> int:
        return sum(v for role, v in amounts.items() if self.roles.get(role) == institution)


def _empty(program_id: str) -> dict[str, Any]:
    figures: dict[str, Any] = {"program_id": program_id, "opening_in_force": 0, "closing": 0}
    figures.update(dict.fromkeys(FLOWS, 0))
    return figures


def plain_statement(
    entries: list[LogEntry], institution: str, first: dt.date, last: dt.date
) -> dict[str, dict[str, Any]]:
    """Per program: opening, closing and every flow, by JSON path (`issued.count` ...)."""
    guarantees: dict[str, _Guarantee] = {}
    out: dict[str, dict[str, Any]] = {}
    for entry in entries:
        day = _day(entry)
        if day > last:
            continue
        data = entry.data
        if isinstance(data, p.GuaranteeIssued):
            guarantees[data.guarantee_id] = _Guarantee(entry)
        gid = getattr(data, "guarantee_id", None)
        if gid is None:
            continue
        g = guarantees[gid]
        if institution not in g.roles.values():
            continue
        f = out.setdefault(g.program, _empty(g.program))
        before = 0 if isinstance(data, p.GuaranteeIssued) else g.counted()
        match data:
            case p.LoanRepaid():
                g.balance = max(0, g.balance - data.amount)
            case p.GuaranteeRenewed() if data.balance is not None:
                g.balance = data.balance
            case p.GuaranteeReleased() | p.ClaimClosed():
                g.in_force = False
            case p.CompensationPaid():
                assert isinstance(entry.derived, CompensationDerived)
                g.balance = max(0, g.balance - entry.derived.approved_amount)
        after = g.counted()
        if day < first:
            f["opening_in_force"] += after - before
            f["closing"] += after - before
            continue
        f["closing"] += after - before
        match data:
            case p.GuaranteeIssued():
                f["issued.count"] += 1
                f["issued.amount"] += data.loan_amount
            case p.GuaranteeRenewed():
                f["renewed_net"] += after - before
            case p.LoanRepaid():
                f["repaid"] += before - after
            case p.GuaranteeReleased():
                f["released.count"] += 1
                f["released.amount"] += before - after
            case p.ClaimClosed():
                f["closed.count"] += 1
                f["closed.amount"] += before - after
            case p.CompensationPaid():
                derived = entry.derived
                assert isinstance(derived, CompensationDerived)
                f["compensated.count"] += 1
                f["compensated.amount"] += derived.approved_amount
                f["compensated.borne"] += g.part(institution, dict(derived.shares.as_dict()))
            case p.LoanDefaulted():
                f["defaulted.count"] += 1
                f["defaulted.overdue_principal"] += data.overdue_principal
            case p.RecoveryRecorded():
                assert isinstance(entry.derived, RecoveryDerived)
                f["recovered.amount"] += data.amount
                f["recovered.returned"] += g.part(institution, dict(entry.derived.split.as_dict()))
    return out
