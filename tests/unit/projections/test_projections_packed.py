"""A fold keeps its documents packed as JSON: that must change no read model."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from events.stored import LogEntry
from projections import fold as fold_module
from projections.base import Docs
from projections.fold import Fold
from projections.packed import SMALL, PackedDocs, Sharing, pack
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
    same, other, also_same = PackedDocs(), PackedDocs(), PackedDocs()
    same.put("guarantee:G", {"balance": 5, "sme_id": "S"})
    other.put("guarantee:G", {"balance": 6, "sme_id": "S"})
    also_same.put("guarantee:G", {"sme_id": "S", "balance": 5})
    sharing = Sharing()
    for docs in (same, other, also_same):
        docs.settle(sharing)
    first, third = same.raw("guarantee:G"), also_same.raw("guarantee:G")
    assert first is third
    assert other.raw("guarantee:G") == b'{"balance":6,"sme_id":"S"}'
    assert also_same.need("guarantee:G") == {"balance": 5, "sme_id": "S"}


def test_read_models_settled_together_hold_one_key_object_per_key() -> None:
    one, two = PackedDocs(), PackedDocs()
    one.put("".join(["guarantee:", "G"]), {"balance": 5})
    two.put("".join(["guarantee:", "G"]), {"members": {}})
    sharing = Sharing()
    one.settle(sharing)
    two.settle(sharing)
    (key_one,), (key_two,) = (d.raw_keys() for d in (one, two))
    assert key_one is key_two


def test_a_small_document_equal_to_one_under_another_key_is_held_once() -> None:
    docs = PackedDocs()
    sharing = Sharing()
    docs.put("guarantee:G1", {"parties": {"bank": "B"}})
    docs.settle(sharing)
    sharing.done()
    docs.put("guarantee:G2", {"parties": {"bank": "B"}})
    docs.settle(sharing)
    assert docs.raw("guarantee:G1") is docs.raw("guarantee:G2")
    assert docs.need("guarantee:G2") == {"parties": {"bank": "B"}}


def test_a_large_document_is_never_looked_up_among_others() -> None:
    sharing = Sharing()
    large = b'{"note":"' + b"x" * SMALL + b'"}'
    sharing.raw(large)
    assert sharing.raw(bytes(bytearray(large))) is not large


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
