"""Taking back what a refused post changed in a decision state it shares with other posts.

Posts that arrive together are decided one after another against one View
and stored in one transaction. A single event that is refused leaves the View
as it was (the rules check everything before they change anything), but in a
batch the events before the refused one have already changed it: their
changes are undone from an Undo taken before the batch was decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import msgspec

from events.breaker import Breaker
from events.types import ROLES
from ledger.rules.footprint import Footprint
from ledger.rules.state import (
    GuaranteeState,
    GuarantorLimits,
    InstitutionState,
    ProgramState,
    SmeState,
    View,
)

S = TypeVar("S", bound=msgspec.Struct)
K = TypeVar("K")
V = TypeVar("V")

_encode = msgspec.msgpack.Encoder().encode
_institution = msgspec.msgpack.Decoder(InstitutionState)
_program = msgspec.msgpack.Decoder(ProgramState)
_sme = msgspec.msgpack.Decoder(SmeState)
_guarantee = msgspec.msgpack.Decoder(GuaranteeState)
_limits = msgspec.msgpack.Decoder(GuarantorLimits)
_breaker = msgspec.msgpack.Decoder(Breaker)


def _save(states: dict[K, S], keys: Iterable[K]) -> dict[K, bytes | None]:
    # Encoded, since the rules change states in place (a guarantee's balance, a claim).
    return {k: (None if (s := states.get(k)) is None else _encode(s)) for k in keys}


def _put_back(
    states: dict[K, S], saved: dict[K, bytes | None], decoder: msgspec.msgpack.Decoder[S]
) -> None:
    for key, encoded in saved.items():
        if encoded is None:
            states.pop(key, None)
        else:
            states[key] = decoder.decode(encoded)


def _plain(values: dict[K, V], keys: Iterable[K]) -> dict[K, V | None]:
    return {k: values.get(k) for k in keys}


def _plain_back(values: dict[K, V], saved: dict[K, V | None]) -> None:
    for key, value in saved.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value


class Undo:
    """The entries of `view` that a post with footprint `fp` may change, as they are now.

    The footprint names every state row a post reads or writes (it is what
    was loaded for it), so saving those rows is enough to take the post back.
    """

    def __init__(self, view: View, fp: Footprint) -> None:
        self._view = view
        self._institutions = _save(view.institutions, fp.institutions)
        self._programs = _save(view.programs, fp.programs)
        self._smes = _save(view.smes, fp.smes)
        self._guarantees = _save(view.guarantees, fp.guarantees)
        self._claims = _plain(view.claim_owner, fp.claims)
        self._balances = _plain(view.sme_balance, fp.balances)
        self._volumes = _plain(
            view.program_volume, [(program, role) for program in fp.programs for role in ROLES]
        )
        # Which of these a post changes is known only once its guarantees are loaded;
        # they hold just the few rows its footprint loaded, so all are saved.
        self._limits = _save(view.guarantor_limits, list(view.guarantor_limits))
        self._in_force = dict(view.guarantor_in_force)
        self._to_sme = dict(view.guarantor_sme)
        self._breakers = _save(view.breakers, list(view.breakers))
        self._dirty = set(view.dirty)

    def restore(self) -> None:
        """Put every saved entry back as it was; drop those the post added."""
        view = self._view
        _put_back(view.institutions, self._institutions, _institution)
        _put_back(view.programs, self._programs, _program)
        _put_back(view.smes, self._smes, _sme)
        _put_back(view.guarantees, self._guarantees, _guarantee)
        _plain_back(view.claim_owner, self._claims)
        _plain_back(view.sme_balance, self._balances)
        _plain_back(view.program_volume, self._volumes)
        view.guarantor_limits = {}
        _put_back(view.guarantor_limits, self._limits, _limits)
        view.guarantor_in_force = self._in_force
        view.guarantor_sme = self._to_sme
        view.breakers = {}
        _put_back(view.breakers, self._breakers, _breaker)
        view.dirty = self._dirty
