"""Payloads of a guarantee's life and of its claims."""

from __future__ import annotations

import datetime
from typing import ClassVar

from events.errors import field_problem
from events.payload_base import PayloadBase, _check_sme_id
from events.types import (
    Bp,
    Fen,
    Ident,
    Reason,
    SmeId,
)


class _GuaranteeEvent(PayloadBase, frozen=True, kw_only=True):
    guarantee_id: Ident

    @property
    def stream_id(self) -> str:
        """Return `guarantee-{guarantee_id}`."""
        return f"guarantee-{self.guarantee_id}"


class GuaranteeIssued(_GuaranteeEvent, frozen=True, kw_only=True):
    """A guarantor guaranteed a bank loan to an SME under a program."""

    TYPE: ClassVar[str] = "guarantee.issued"
    program_id: Ident
    sme_id: SmeId
    bank_id: Ident
    guarantor_id: Ident
    reguarantor_id: Ident | None = None
    loan_amount: Fen
    fee_rate_bp: Bp
    start_date: datetime.date
    maturity_date: datetime.date

    def __post_init__(self) -> None:
        """Refuse a bad credit code or a maturity not after the start."""
        _check_sme_id(self.sme_id)
        if self.start_date >= self.maturity_date:
            raise field_problem(
                "maturity_date",
                f"{self.maturity_date} must be after start_date {self.start_date}",
            )


class LoanRepaid(_GuaranteeEvent, frozen=True, kw_only=True):
    """The bank received a repayment of principal on the guaranteed loan."""

    TYPE: ClassVar[str] = "loan.repaid"
    amount: Fen


class GuaranteeRenewed(_GuaranteeEvent, frozen=True, kw_only=True):
    """The guarantee was extended to a new maturity, optionally with a new balance."""

    TYPE: ClassVar[str] = "guarantee.renewed"
    maturity_date: datetime.date
    balance: Fen | None = None


class GuaranteeReleased(_GuaranteeEvent, frozen=True, kw_only=True):
    """The guarantee ended without loss."""

    TYPE: ClassVar[str] = "guarantee.released"


class LoanDefaulted(_GuaranteeEvent, frozen=True, kw_only=True):
    """The borrower defaulted on the guaranteed loan."""

    TYPE: ClassVar[str] = "loan.defaulted"
    overdue_principal: Fen
    default_date: datetime.date


class _ClaimEvent(_GuaranteeEvent, frozen=True, kw_only=True):
    claim_id: Ident


class ClaimFiled(_ClaimEvent, frozen=True, kw_only=True):
    """The bank claimed compensation under the guarantee."""

    TYPE: ClassVar[str] = "claim.filed"
    amount: Fen


class ClaimApproved(_ClaimEvent, frozen=True, kw_only=True):
    """The guarantor approved a claim, for at most the filed amount."""

    TYPE: ClassVar[str] = "claim.approved"
    approved_amount: Fen


class ClaimRejected(_ClaimEvent, frozen=True, kw_only=True):
    """The guarantor rejected a claim."""

    TYPE: ClassVar[str] = "claim.rejected"
    reason: Reason


class CompensationPaid(_ClaimEvent, frozen=True, kw_only=True):
    """The approved amount was paid to the bank and the loss shared out."""

    TYPE: ClassVar[str] = "compensation.paid"


class RecoveryRecorded(_ClaimEvent, frozen=True, kw_only=True):
    """Money was recovered from the borrower after compensation."""

    TYPE: ClassVar[str] = "recovery.recorded"
    amount: Fen


class ClaimClosed(_ClaimEvent, frozen=True, kw_only=True):
    """The claim was closed; no more recoveries are expected."""

    TYPE: ClassVar[str] = "claim.closed"
