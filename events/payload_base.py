"""The base of every event payload: strict on input, canonical on output."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from events.credit_code import credit_code_problem
from events.errors import field_problem


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
