"""Comparing the live read models with a replay of the log to the positions they reflect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from ledger.audit.replay import replay
from ledger.audit.scan import snapshot
from projections.base import Doc
from projections.fold import Fold
from projections.registry import REPLAYED
from projections.spill import Spill, SpilledDocs

MISSING = object()
"""A value one side lacks (a document, a field, a row): shown as `absent`."""


@dataclass(frozen=True)
class Difference:
    """One value where a live read model and the replay disagree."""

    projection: str
    key: str
    path: str
    live: Any
    replayed: Any

    def describe(self) -> str:
        """One line for people: where, and both values (`absent` when one side has none)."""
        return (
            f"{self.projection} {self.key} {self.path}: live {_show(self.live)}, "
            f"replayed {_show(self.replayed)}"
        )


@dataclass(frozen=True)
class Comparison:
    """Every difference found, and the position each read model was compared at."""

    positions: dict[str, int]
    differences: list[Difference]

    @property
    def same(self) -> bool:
        """Whether the live read models equal the replay."""
        return not self.differences


def _show(value: Any) -> str:
    return "absent" if value is MISSING else repr(value)


async def compare_live(
    conn: asyncpg.Connection, *, progress: Callable[[int, int], None] | None = None
) -> Comparison:
    """Replay once and compare each live read model when the replay reaches its checkpoint.

    Everything is read from one snapshot, so the read models keep following
    the log meanwhile without disturbing the comparison. Neither side is ever held
    whole: the replay keeps its documents packed (and spilled, past its budget), a
    read model whose checkpoint lies before the end is copied aside, packed, when the
    replay passes it, and each is then read in key order beside its table, also read
    in key order, one document of each at a time.
    """
    differences: list[Difference] = []
    async with snapshot(conn):
        rows = await conn.fetch(
            "SELECT name, generation, position FROM projection_checkpoints ORDER BY name"
        )
        live = {r["name"]: (int(r["generation"]), int(r["position"])) for r in rows}
        wanted = {name: pos for name, (_, pos) in live.items() if name in REPLAYED}
        end = max(wanted.values(), default=0)
        pending: dict[int, list[str]] = {}
        for name, position in wanted.items():
            if 0 < position < end:  # at the end, the fold itself is read
                pending.setdefault(position, []).append(name)
        aside = Aside()

        def capture(fold: Fold) -> None:
            for name in pending.pop(fold.position, []):
                aside.keep(fold, name)

        fold = await replay(conn, to_position=end, progress=progress, on_position=capture)
        fold.settle()
        for name in sorted(wanted):
            position = wanted[name]
            # A read model at position 0 is compared with no documents at all.
            replayed = (
                packed_rows(fold.docs[name].packed(SLICE))
                if position == end
                else aside.rows(name)
                if position > 0
                else iter(())
            )
            stored = live_rows(conn, REPLAYED[name].table, live[name][0])
            differences.extend([d async for d in merged_differences(name, stored, replayed)])
    return Comparison(positions=wanted, differences=differences)


SLICE = 4096
"""Documents read from either side at a time."""

_CANONICAL = msgspec.json.Encoder(order="deterministic")
_DOC = msgspec.json.Decoder(dict)


class Aside:
    """Read models copied, packed and in key order, as they stood when the replay passed
    their checkpoint; in a temporary SQLite file (projections/spill.py)."""

    def __init__(self) -> None:
        self._spill: Spill | None = None
        self._kept: dict[str, SpilledDocs] = {}

    def keep(self, fold: Fold, name: str) -> None:
        fold.settle()  # between two events, as settling must be
        if self._spill is None:
            self._spill = Spill()
        kept = self._kept[name] = self._spill.model()
        for chunk in fold.docs[name].packed(SLICE):
            kept.put_all({key: bytes(raw) for key, raw in chunk.items()})

    def rows(self, name: str) -> Iterator[tuple[str, bytes]]:
        kept = self._kept.get(name)
        if kept is not None:
            for rows in kept.rows(SLICE):
                yield from rows


def packed_rows(chunks: Iterator[dict[str, msgspec.Raw]]) -> Iterator[tuple[str, bytes]]:
    for chunk in chunks:
        for key, raw in chunk.items():
            yield key, bytes(raw)


async def live_rows(
    conn: asyncpg.Connection, table: str, generation: int
) -> AsyncIterator[tuple[str, str]]:
    # COLLATE "C": in the order of the keys' UTF-8 bytes, which is Python's order of
    # strings, as the replay's documents come; the database's own collation may not be.
    query = (
        f"SELECT key, doc::text AS doc FROM {table} "  # noqa: S608 - table names are fixed
        'WHERE generation = $1 ORDER BY key COLLATE "C"'
    )
    async for r in conn.cursor(query, generation, prefetch=SLICE):
        yield r["key"], r["doc"]


async def merged_differences(
    projection: str, live: AsyncIterator[tuple[str, str]], replayed: Iterator[tuple[str, bytes]]
) -> AsyncIterator[Difference]:
    # Both sides in key order: a key on one side only is a document the other lacks. A
    # live document whose canonical JSON is the replayed one's bytes is the same in
    # every value and type; only others are walked leaf by leaf.
    here = await anext(live, None)
    there = next(replayed, None)
    a: Any
    b: Any
    while here is not None or there is not None:
        if there is None or (here is not None and here[0] < there[0]):
            assert here is not None
            key, a, b = here[0], _DOC.decode(here[1]), MISSING
            here = await anext(live, None)
        elif here is None or there[0] < here[0]:
            key, a, b = there[0], MISSING, _DOC.decode(there[1])
            there = next(replayed, None)
        else:
            key, a = here[0], _DOC.decode(here[1])
            b = a if _CANONICAL.encode(a) == there[1] else _DOC.decode(there[1])
            here, there = await anext(live, None), next(replayed, None)
        if a is not b:
            for path, x, y in _diff(a, b, "$"):
                yield Difference(projection, key, path, x, y)


def diff_docs(
    projection: str, live: dict[str, Doc], replayed: dict[str, Doc]
) -> Iterator[Difference]:
    """Every differing leaf between two sets of documents, in key order."""
    for key in sorted(set(live) | set(replayed)):
        for path, a, b in _diff(live.get(key, MISSING), replayed.get(key, MISSING), "$"):
            yield Difference(projection, key, path, a, b)


def _diff(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            yield from _diff(a.get(k, MISSING), b.get(k, MISSING), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path, a, b
