"""A fold keeps its documents packed as JSON: that must change no read model."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from events.stored import LogEntry
from projections import fold as fold_module
from projections.base import Docs
from projections.fold import Fold
from projections.packed import PackedDocs, pack
from projections.registry import PROJECTIONS
from tests.unit.projections.scenario import OPS, random_steps


def _plain(entries: list[LogEntry]) -> dict[str, dict[str, object]]:
    # Every projection applied to plain dict documents, never packed.
    held = {name: Docs() for name in PROJECTIONS}
    for entry in entries:
        for name, proj in PROJECTIONS.items():
            proj.apply(held[name], entry)
    return {name: dict(docs.items()) for name, docs in held.items()}


@settings(max_examples=40, deadline=None)
@given(OPS, st.sampled_from([1, 3, 10_000]))
def test_a_packed_fold_holds_the_documents_plain_dicts_would(
    ops: list[tuple[int, int, int]], every: int
) -> None:
    """Whether packed after every event, now and then or never, documents are the same."""
    entries = random_steps(ops).entries
    saved = fold_module.SETTLE_EVERY
    fold_module.SETTLE_EVERY = every
    try:
        fold = Fold(PROJECTIONS.values()).apply_all(entries)
    finally:
        fold_module.SETTLE_EVERY = saved
    assert {name: fold.documents(name) for name in PROJECTIONS} == _plain(entries)


def test_a_document_changed_after_put_is_packed_as_changed() -> None:
    docs = PackedDocs()
    doc = {"programs": {}, "sme_id": "S"}
    docs.put("sme:S", doc)
    doc["programs"]["P"] = {"balance": 5}
    docs.settle()
    assert docs.raw("sme:S") == b'{"programs":{"P":{"balance":5}},"sme_id":"S"}'
    assert docs.need("sme:S") == {"programs": {"P": {"balance": 5}}, "sme_id": "S"}


def test_a_document_only_looked_at_is_let_go_unchanged() -> None:
    docs = PackedDocs()
    docs.put("program:P", {"b": 1, "a": [1, 2]})
    docs.settle()
    assert docs.peek("program:P") == {"a": [1, 2], "b": 1}
    docs.settle()
    assert dict(docs.items()) == {"program:P": {"a": [1, 2], "b": 1}}
    assert docs.get("program:Q") is None


def test_equal_documents_settled_together_under_one_key_are_held_once() -> None:
    same, also_same, other = PackedDocs(), PackedDocs(), PackedDocs()
    same.put("guarantee:G", {"balance": 5, "sme_id": "S"})
    also_same.put("guarantee:G", {"sme_id": "S", "balance": 5})
    other.put("guarantee:G", {"balance": 6, "sme_id": "S"})
    shared: dict[str, tuple[str, bytes]] = {}
    for docs in (same, also_same, other):
        docs.settle(shared)
    first, second, third = (d.raw("guarantee:G") for d in (same, also_same, other))
    assert first is second
    assert third == b'{"balance":6,"sme_id":"S"}'
    assert also_same.need("guarantee:G") == {"balance": 5, "sme_id": "S"}


def test_packed_slices_hold_every_document_in_key_order() -> None:
    docs = PackedDocs()
    for key in ("b", "c", "a", "d", "e"):
        docs.put(key, {"k": key})
    docs.settle()
    slices = list(docs.packed(2))
    assert [list(s) for s in slices] == [["a", "b"], ["c", "d"], ["e"]]
    assert msgspec.json.decode(msgspec.json.encode(slices[1])) == {"c": {"k": "c"}, "d": {"k": "d"}}


def test_a_packed_document_is_its_canonical_json() -> None:
    doc = {"sme_id": "91500000000018983B", "programs": {"P": {"balance": 5}}}
    packed = b'{"programs":{"P":{"balance":5}},"sme_id":"91500000000018983B"}'
    assert pack(doc, bytearray()) == packed


def test_a_shorter_document_packed_after_a_longer_one_keeps_nothing_of_it() -> None:
    buffer = bytearray()
    pack({"note": "x" * 500}, buffer)
    assert pack({"a": 1}, buffer) == b'{"a":1}'
