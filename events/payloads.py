"""The data of every event type, one frozen Struct each, keyed by stable type names."""

from __future__ import annotations

from events.guarantee_payloads import ClaimApproved as ClaimApproved
from events.guarantee_payloads import ClaimClosed as ClaimClosed
from events.guarantee_payloads import ClaimFiled as ClaimFiled
from events.guarantee_payloads import ClaimRejected as ClaimRejected
from events.guarantee_payloads import CompensationPaid as CompensationPaid
from events.guarantee_payloads import GuaranteeIssued as GuaranteeIssued
from events.guarantee_payloads import GuaranteeReleased as GuaranteeReleased
from events.guarantee_payloads import GuaranteeRenewed as GuaranteeRenewed
from events.guarantee_payloads import LoanDefaulted as LoanDefaulted
from events.guarantee_payloads import LoanRepaid as LoanRepaid
from events.guarantee_payloads import RecoveryRecorded as RecoveryRecorded
from events.limit_payloads import InstitutionLimitsSet as InstitutionLimitsSet
from events.limit_payloads import InstitutionNetAssetsRecorded as InstitutionNetAssetsRecorded
from events.limit_payloads import LimitReinstated as LimitReinstated
from events.limit_payloads import StatementFiled as StatementFiled
from events.limit_payloads import WitnessRegistered as WitnessRegistered
from events.party_payloads import InstitutionRegistered as InstitutionRegistered
from events.party_payloads import ProgramAmended as ProgramAmended
from events.party_payloads import ProgramRegistered as ProgramRegistered
from events.party_payloads import SmeEligibilityRecorded as SmeEligibilityRecorded
from events.party_payloads import SmeRegistered as SmeRegistered
from events.payload_base import PayloadBase as PayloadBase

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
"""All event type names, in the order docs/api.md lists them."""


def type_of(payload: Payload) -> str:
    """Return the stable type name of a payload."""
    return payload.TYPE
