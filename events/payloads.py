"""The data of every event type, one frozen Struct each, keyed by stable type names."""

from __future__ import annotations

import datetime
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from events.credit_code import credit_code_problem
from events.errors import field_problem
from events.terms import ProgramTerms
from events.types import (
    Bp,
    Category,
    Fen,
    Ident,
    InstitutionKind,
    LeverageX100,
    Name,
    PositiveBp,
    Reason,
    Reference,
    SmeId,
    Year,
)
from events.witness_key import witness_key_problem


class PayloadBase(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Common configuration of event data: strict on input, canonical on output."""

    # omit_defaults keeps the stored bytes of old events unchanged when a field with a
    # default is added later (new fields only ever come with defaults).
    TYPE: ClassVar[str]

    @property
    def stream_id(self) -> str:
        """Return the id of the stream the event belongs to."""
        raise NotImplementedError


def _check_sme_id(sme_id: str) -> None:
    problem = credit_code_problem(sme_id)
    if problem is not None:
        raise field_problem("sme_id", problem)


class InstitutionRegistered(PayloadBase, frozen=True, kw_only=True):
    """An institution (bank, guarantor, fund, pool, reviewer ...) joined the ledger."""

    TYPE: ClassVar[str] = "institution.registered"
    institution_id: Ident
    name: Name
    kind: InstitutionKind

    @property
    def stream_id(self) -> str:
        """Return `institution-{institution_id}`."""
        return f"institution-{self.institution_id}"


class _ProgramEvent(PayloadBase, frozen=True, kw_only=True):
    program_id: Ident

    @property
    def stream_id(self) -> str:
        """Return `program-{program_id}`."""
        return f"program-{self.program_id}"


class ProgramRegistered(_ProgramEvent, frozen=True, kw_only=True):
    """A guarantee program was set up with its terms."""

    TYPE: ClassVar[str] = "program.registered"
    name: Name
    terms: ProgramTerms


class ProgramAmended(_ProgramEvent, frozen=True, kw_only=True):
    """A program's terms were replaced, for guarantees issued from now on."""

    TYPE: ClassVar[str] = "program.amended"
    terms: ProgramTerms


class _SmeEvent(PayloadBase, frozen=True, kw_only=True):
    sme_id: SmeId

    def __post_init__(self) -> None:
        """Refuse a credit code whose check character is wrong."""
        _check_sme_id(self.sme_id)

    @property
    def stream_id(self) -> str:
        """Return `sme-{sme_id}`."""
        return f"sme-{self.sme_id}"


class SmeRegistered(_SmeEvent, frozen=True, kw_only=True):
    """An SME became known to the ledger."""

    TYPE: ClassVar[str] = "sme.registered"
    name: Name


class SmeEligibilityRecorded(_SmeEvent, frozen=True, kw_only=True):
    """A reviewer recorded that an SME holds a category for a period."""

    TYPE: ClassVar[str] = "sme.eligibility_recorded"
    category: Category
    reference: Reference
    valid_from: datetime.date
    valid_until: datetime.date

    def __post_init__(self) -> None:
        """Refuse a bad credit code or a period that ends before it starts."""
        super().__post_init__()
        if self.valid_from > self.valid_until:
            raise field_problem(
                "valid_until", f"{self.valid_until} is before valid_from {self.valid_from}"
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


class _InstitutionEvent(PayloadBase, frozen=True, kw_only=True):
    institution_id: Ident

    @property
    def stream_id(self) -> str:
        """Return `institution-{institution_id}`."""
        return f"institution-{self.institution_id}"


class InstitutionNetAssetsRecorded(_InstitutionEvent, frozen=True, kw_only=True):
    """An institution's net assets as of a date (the base of its leverage limits)."""

    TYPE: ClassVar[str] = "institution.net_assets_recorded"
    net_assets: Fen
    as_of: datetime.date


class InstitutionLimitsSet(_InstitutionEvent, frozen=True, kw_only=True):
    """A guarantor's leverage and single-SME concentration limits, relative to net assets."""

    TYPE: ClassVar[str] = "institution.limits_set"
    max_leverage_x100: LeverageX100
    max_single_sme_bp: PositiveBp


class LimitReinstated(_InstitutionEvent, frozen=True, kw_only=True):
    """An admin lifted an institution's compensation-rate suspension in a program for a year."""

    TYPE: ClassVar[str] = "limit.reinstated"
    program_id: Ident
    year: Year
    reason: Reason


class WitnessRegistered(PayloadBase, frozen=True, kw_only=True):
    """A party that witnesses the log registered its cosignature key."""

    TYPE: ClassVar[str] = "witness.registered"
    witness_id: Ident
    name: Name
    key: Annotated[str, Meta(min_length=1, max_length=400)]

    def __post_init__(self) -> None:
        """Refuse a key that is not an Ed25519 cosignature verifier key."""
        problem = witness_key_problem(self.key)
        if problem is not None:
            raise field_problem("key", problem)

    @property
    def stream_id(self) -> str:
        """Return `witness-{witness_id}`."""
        return f"witness-{self.witness_id}"


class StatementFiled(PayloadBase, frozen=True, kw_only=True):
    """An institution filed its statement for business dates from..to."""

    TYPE: ClassVar[str] = "statement.filed"
    institution_id: Ident
    from_: datetime.date = msgspec.field(name="from")
    to: datetime.date

    def __post_init__(self) -> None:
        """Refuse a period that ends before it starts."""
        if self.from_ > self.to:
            raise field_problem("from", f"from {self.from_} is after to {self.to}")

    @property
    def stream_id(self) -> str:
        """Return `institution-{institution_id}`."""
        return f"institution-{self.institution_id}"


Payload = (
    InstitutionRegistered
    | ProgramRegistered
    | ProgramAmended
    | SmeRegistered
    | SmeEligibilityRecorded
    | GuaranteeIssued
    | LoanRepaid
    | GuaranteeRenewed
    | GuaranteeReleased
    | LoanDefaulted
    | ClaimFiled
    | ClaimApproved
    | ClaimRejected
    | CompensationPaid
    | RecoveryRecorded
    | ClaimClosed
    | InstitutionNetAssetsRecorded
    | InstitutionLimitsSet
    | LimitReinstated
    | WitnessRegistered
    | StatementFiled
)
"""Any event's data."""

_ALL: tuple[type[Payload], ...] = (
    InstitutionRegistered,
    ProgramRegistered,
    ProgramAmended,
    SmeRegistered,
    SmeEligibilityRecorded,
    GuaranteeIssued,
    LoanRepaid,
    GuaranteeRenewed,
    GuaranteeReleased,
    LoanDefaulted,
    ClaimFiled,
    ClaimApproved,
    ClaimRejected,
    CompensationPaid,
    RecoveryRecorded,
    ClaimClosed,
    InstitutionNetAssetsRecorded,
    InstitutionLimitsSet,
    LimitReinstated,
    WitnessRegistered,
    StatementFiled,
)

PAYLOADS: dict[str, type[Payload]] = {cls.TYPE: cls for cls in _ALL}
"""Payload class per stable event type name (`"guarantee.issued"` ...)."""

EVENT_TYPES: tuple[str, ...] = tuple(PAYLOADS)
"""All event type names, in SPEC order."""


def type_of(payload: Payload) -> str:
    """Return the stable type name of a payload."""
    return payload.TYPE
