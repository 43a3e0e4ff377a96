"""What every projection is: pure `needs` and `apply` over a set of JSON documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from events.payloads import EVENT_TYPES
from events.stored import LogEntry

Doc = dict[str, Any]
"""One read-model document: plain JSON values (ints for money), stored as jsonb."""


class NotLoaded(LookupError):
    """An apply looked up a document nobody loaded: the batch must be applied the slow way."""


class Docs:
    """The documents a projection holds, recording which ones an apply changed.

    Strict documents (the runner's) know which keys were loaded from storage: looking up
    any other key raises NotLoaded instead of answering "absent", so a document that was
    never read can never be mistaken for a missing one and overwritten.
    """

    def __init__(self, docs: dict[str, Doc] | None = None, *, strict: bool = False) -> None:
        """Start with `docs` (key -> document), none marked changed."""
        self._docs: dict[str, Doc] = dict(docs or {})
        self._strict = strict
        self.known: set[str] = set()
        self.changed: set[str] = set()
        self.rows: list[tuple[Any, ...]] = []

    def peek(self, key: str) -> Doc | None:
        """The document under `key` if held, else None (for `needs`, never raises)."""
        return self._docs.get(key)

    def get(self, key: str) -> Doc | None:
        """The document under `key`, or None when there is none."""
        doc = self._docs.get(key)
        if doc is None and self._strict and key not in self.known:
            raise NotLoaded(key)
        return doc

    def need(self, key: str) -> Doc:
        """The document under `key`; a missing one means the log broke the rules."""
        doc = self.get(key)
        if doc is None:
            raise LookupError(f"read model document {key!r} is missing")
        return doc

    def put(self, key: str, doc: Doc) -> None:
        """Store (or replace) a document and mark it changed."""
        self._docs[key] = doc
        self.changed.add(key)

    def emit(self, row: tuple[Any, ...]) -> None:
        """Add a row to the projection's row table (see Projection.rows)."""
        self.rows.append(row)

    def take_rows(self) -> list[tuple[Any, ...]]:
        """The rows emitted since the last time, clearing them."""
        rows, self.rows = self.rows, []
        return rows

    def load(self, docs: dict[str, Doc], keys: set[str]) -> None:
        """Add documents read from storage for `keys`, never over ones already held."""
        self.known.update(keys)
        for key, doc in docs.items():
            self._docs.setdefault(key, doc)

    def items(self) -> Iterator[tuple[str, Doc]]:
        """Every (key, document) held."""
        return iter(self._docs.items())

    def take_changed(self) -> dict[str, Doc]:
        """The changed documents, clearing the change marks."""
        out = {key: self._docs[key] for key in sorted(self.changed)}
        self.changed.clear()
        return out


Needs = Callable[[Docs, LogEntry], Iterable[str]]
Apply = Callable[[Docs, LogEntry], None]


@dataclass(frozen=True)
class Projection:
    """One read model: its name, its table, and the pure functions that keep it."""

    name: str
    table: str
    needs: Needs
    """Keys an event reads or writes, given the documents known so far (may grow as
    documents are loaded: a loan.repaid names the guarantee, whose document names the SME).
    It may look only at documents it names itself, with `Docs.peek`."""
    apply: Apply
    """Apply one event to the documents, `put`ting each one it changes."""
    handles: frozenset[str] = frozenset(EVENT_TYPES)
    """Event types `apply` may change a document for; events of other types are never
    given to it (nor to `needs`). Most of a large log is of types a projection ignores,
    and skipping them is what keeps a replay fast."""
    rows: RowTable | None = None
    """A table of rows the applies `emit`, beside the documents: for read models that are
    queried by ranges (dates, positions) rather than looked up by key."""


@dataclass(frozen=True)
class RowTable:
    """A projection's table of emitted rows: its name and columns (after `generation`).

    Rows are only ever added, one or more per event, never changed: the documents hold
    what an apply needs to know, the rows what readers sum over.
    """

    table: str
    columns: tuple[str, ...]
