"""Payloads of institution limits, witnesses and filed statements."""

from __future__ import annotations

import datetime
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from events.errors import field_problem
from events.payload_base import PayloadBase
from events.types import (
    Fen,
    Ident,
    LeverageX100,
    Name,
    PositiveBp,
    Reason,
    Year,
)
from events.witness_key import witness_key_problem


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
