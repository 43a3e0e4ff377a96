"""The pure in-memory fold of the log into every read model: what replay and tests compare to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from events.business import SHANGHAI
from events.payloads import EVENT_TYPES
from events.stored import LogEntry
from projections import claims, guarantees, institutions, programs, sme_exposure
from projections.base import Apply, Doc, Projection
from projections.packed import PackedDocs, Sharing
from projections.registry import REPLAYED
from projections.spill import Spill, SpilledDocs

SETTLE_EVERY = 1000
"""Events between packings of the documents they changed: bounds what is held as dicts."""

HELD_BYTES = 64 << 20
"""Packed documents held in memory before they are written to the spill (see spill.py)."""


class Fold:
    """Every projection's documents held in memory, fed the same `apply` as the SQL runner.

    Documents are kept packed (see PackedDocs), so a fold of millions of them fits in memory.
    """

    def __init__(
        self, projections: Iterable[Projection] | None = None, *, budget: int | None = None
    ) -> None:
        """Start empty, at position 0, with every replayed projection (or the ones given),
        holding up to `budget` bytes of packed documents before spilling (HELD_BYTES when
        None)."""
        self._budget = budget
        chosen = list(REPLAYED.values()) if projections is None else list(projections)
        self.projections: dict[str, Projection] = {proj.name: proj for proj in chosen}
        self.docs: dict[str, PackedDocs] = {name: PackedDocs() for name in self.projections}
        self.position = 0
        # By event type, the projections that handle it: most events concern one or two.
        self._steps: dict[str, list[tuple[Apply, PackedDocs]]] = {
            type_: [
                (proj.apply, self.docs[name])
                for name, proj in self.projections.items()
                if type_ in proj.handles
            ]
            for type_ in EVENT_TYPES
        }
        self.folded = frozenset(type_ for type_, steps in self._steps.items() if steps)
        """The event types some read model of this fold handles."""
        self._unsettled = 0
        self._sharing = Sharing()
        self._spilled: dict[str, SpilledDocs] = {}
        """Each read model's part of the spill, once there is one."""

    def apply(self, entry: LogEntry) -> None:
        """Apply the next log entry; entries must come in position order, each once."""
        if entry.position <= self.position:
            raise ValueError(f"position {entry.position} is not after {self.position}")
        for apply, docs in self._steps[entry.type]:
            apply(docs, entry)
        self.position = entry.position
        self._unsettled += 1
        if self._unsettled >= SETTLE_EVERY:
            self.settle()

    def pass_over(self, position: int) -> None:
        """Move past an event of a type none of the read models handles (see `folded`):
        as `apply` would, without decoding it."""
        if position <= self.position:
            raise ValueError(f"position {position} is not after {self.position}")
        self.position = position

    def settle(self) -> None:
        """Pack the documents changed since the last time (only ever between events), and
        once those held pass HELD_BYTES, write them all to the spill and let go of them."""
        for docs in self.docs.values():
            docs.settle(self._sharing)
        self._sharing.done()
        self._unsettled = 0
        budget = HELD_BYTES if self._budget is None else self._budget
        if sum(docs.held for docs in self.docs.values()) > budget:
            self.spill()

    def spill(self) -> None:
        """Write every packed document to the spill, held in memory no more."""
        if not self._spilled:
            spill = Spill()
            self._spilled = {name: spill.model() for name in self.docs}
        for name, docs in self.docs.items():
            docs.spill(self._spilled[name])
        self._sharing = Sharing()  # nor the small documents it remembers

    def apply_all(self, entries: Iterable[LogEntry]) -> Fold:
        """Apply entries in order; returns the fold itself."""
        for entry in entries:
            self.apply(entry)
        return self

    def documents(self, name: str) -> dict[str, Doc]:
        """Every document of one projection, by key (to compare with its table)."""
        return dict(self.docs[name].items())

    def _doc(self, name: str, key: str) -> Doc | None:
        return self.docs[name].get(key)

    def sme_exposure(self, sme_id: str) -> dict[str, Any] | None:
        """The SME exposure body, or None for an unknown SME."""
        sme = self._doc(sme_exposure.NAME, sme_exposure.sme_key(sme_id))
        if sme is None:
            return None
        keys = sme_exposure.program_keys(sme)
        found = {key: self.docs[sme_exposure.NAME].need(key) for key in keys}
        return sme_exposure.render(sme, found, self.position)

    def guarantee_summary(self, guarantee_id: str) -> dict[str, Any] | None:
        """The guarantee body, or None for an unknown guarantee."""
        doc = self._doc(guarantees.NAME, f"guarantee:{guarantee_id}")
        return None if doc is None else guarantees.render(doc, self.position)

    def claim_shares(self, claim_id: str) -> dict[str, Any] | None:
        """The claim body, or None for an unknown claim."""
        doc = self._doc(claims.NAME, claims.claim_key(claim_id))
        return None if doc is None else claims.render(doc, self.position)

    def institution_position(
        self, institution_id: str, year: int | None = None
    ) -> dict[str, Any] | None:
        """The institution position body (with the breakers of `year`, default the current
        year as the live read model shows them), or None for an unknown institution."""
        doc = self._doc(institutions.NAME, institutions.institution_key(institution_id))
        if doc is None:
            return None
        keys = institutions.program_keys(doc)
        found = {key: self.docs[institutions.NAME].need(key) for key in keys}
        if year is None:
            year = dt.datetime.now(SHANGHAI).year
        return institutions.render(doc, found, self.position, year)

    def program_summary(self, program_id: str) -> dict[str, Any] | None:
        """The program body, or None for an unknown program."""
        doc = self._doc(programs.NAME, programs.program_key(program_id))
        return None if doc is None else programs.render(doc, self.position)
