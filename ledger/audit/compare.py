"""Comparing the live read models with a replay of the log to the positions they reflect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from ledger.audit.replay import replay
from ledger.audit.scan import snapshot
from projections.base import Doc
from projections.fold import Fold
from projections.registry import REPLAYED
from projections.store import decode_doc, encode_doc

_MISSING = object()


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
    return "absent" if value is _MISSING else repr(value)


async def compare_live(
    conn: asyncpg.Connection, *, progress: Callable[[int, int], None] | None = None
) -> Comparison:
    """Replay once and compare each live read model when the replay reaches its checkpoint.

    Everything is read from one snapshot, so the read models keep following
    the log meanwhile without disturbing the comparison.
    """
    differences: list[Difference] = []
    async with snapshot(conn):
        rows = await conn.fetch(
            "SELECT name, generation, position FROM projection_checkpoints ORDER BY name"
        )
        live = {r["name"]: (int(r["generation"]), int(r["position"])) for r in rows}
        wanted = {name: pos for name, (_, pos) in live.items() if name in REPLAYED}
        pending: dict[int, list[str]] = {}
        for name, position in wanted.items():
            pending.setdefault(position, []).append(name)
        docs_at: dict[str, dict[str, Doc]] = {}

        def capture(fold: Fold) -> None:
            # Copies, since the fold changes documents in place as it goes on.
            for name in pending.pop(fold.position, []):
                docs_at[name] = _copy(fold.documents(name))

        # A read model at position 0 is compared with no documents at all.
        await replay(
            conn,
            to_position=max(wanted.values(), default=0),
            progress=progress,
            on_position=capture,
        )
        for name in sorted(wanted):
            stored = await _live_docs(conn, name, live[name][0])
            differences.extend(diff_docs(name, stored, docs_at.get(name, {})))
    return Comparison(positions=wanted, differences=differences)


def _copy(docs: dict[str, Doc]) -> dict[str, Doc]:
    # Round-trip through the JSON a table would hold: what is compared is what is stored.
    return {key: decode_doc(encode_doc(doc)) for key, doc in docs.items()}


async def _live_docs(conn: asyncpg.Connection, name: str, generation: int) -> dict[str, Doc]:
    table = REPLAYED[name].table
    rows = await conn.fetch(
        f"SELECT key, doc::text AS doc FROM {table} WHERE generation = $1",  # noqa: S608
        generation,
    )
    return {r["key"]: decode_doc(r["doc"]) for r in rows}


def diff_docs(
    projection: str, live: dict[str, Doc], replayed: dict[str, Doc]
) -> Iterator[Difference]:
    """Every differing leaf between two sets of documents, in key order."""
    for key in sorted(set(live) | set(replayed)):
        for path, a, b in _diff(live.get(key, _MISSING), replayed.get(key, _MISSING), "$"):
            yield Difference(projection, key, path, a, b)


def _diff(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            yield from _diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path, a, b
