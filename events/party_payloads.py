"""Payloads of the parties: institutions, programs and SMEs."""

from __future__ import annotations

import datetime
from typing import ClassVar

from events.errors import field_problem
from events.payload_base import PayloadBase, _check_sme_id
from events.terms import ProgramTerms
from events.types import (
    Category,
    Ident,
    InstitutionKind,
    Name,
    Reference,
    SmeId,
)


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
