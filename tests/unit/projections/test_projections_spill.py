"""A fold that writes its documents to the spill holds and writes what one in memory does."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import state_file
from projections import fold as fold_module
from projections.fold import Fold
from projections.packed import PackedDocs
from projections.registry import PROJECTIONS
from projections.spill import Spill, SpillError
from tests.unit.projections.scenario import OPS, random_steps


def _state(fold: Fold) -> bytes:
    out = io.BytesIO()
    state_file.write_state(fold, out)
    return out.getvalue()


@settings(max_examples=30, deadline=None)
@given(OPS, st.sampled_from([1, 7, 50]), st.sampled_from([0, 2_000]))
def test_a_fold_that_spills_holds_and_writes_what_one_in_memory_does(
    ops: list[tuple[int, int, int]], every: int, budget: int
) -> None:
    """Spilled after every settling (budget 0) or now and then, nothing read back differs."""
    entries = random_steps(ops).entries
    in_memory = Fold(PROJECTIONS.values()).apply_all(entries)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fold_module, "SETTLE_EVERY", every)
        patch.setattr(fold_module, "HELD_BYTES", budget)
        spilled = Fold(PROJECTIONS.values()).apply_all(entries)
    for name in PROJECTIONS:
        assert spilled.documents(name) == in_memory.documents(name)
    assert _state(spilled) == _state(in_memory)


def test_a_fold_under_its_budget_never_spills(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold_module, "HELD_BYTES", 1 << 30)
    fold = Fold().apply_all(random_steps([(0, 0, 40)] * 20).entries)
    fold.settle()
    assert not fold._spilled


def test_a_fold_over_its_budget_holds_nothing_packed_after_settling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fold_module, "HELD_BYTES", 0)
    fold = Fold().apply_all(random_steps([(0, 0, 40)] * 20).entries)
    fold.settle()
    assert fold._spilled
    assert all(docs.held == 0 and not list(docs.raw_keys()) for docs in fold.docs.values())


def test_a_spilled_document_changed_again_is_read_as_changed() -> None:
    docs = PackedDocs()
    docs.put("guarantee:G", {"balance": 5})
    docs.settle()
    docs.spill(Spill().model())
    assert docs.need("guarantee:G") == {"balance": 5}
    docs.put("guarantee:G", {"balance": 7})
    docs.settle()
    assert docs.raw("guarantee:G") == b'{"balance":7}'
    assert dict(docs.items()) == {"guarantee:G": {"balance": 7}}


def test_spilled_documents_come_back_in_key_order_with_those_held() -> None:
    docs = PackedDocs()
    for key in ("d", "b"):
        docs.put(key, {"k": key})
    docs.settle()
    docs.spill(Spill().model())
    for key in ("c", "a", "e"):
        docs.put(key, {"k": key})
    docs.settle()
    slices = list(docs.packed(2))
    assert [list(s) for s in slices] == [["a", "b"], ["c", "d"], ["e"]]


def test_read_models_share_one_spill_without_seeing_each_others_documents() -> None:
    spill = Spill()
    one, two = PackedDocs(), PackedDocs()
    one.put("guarantee:G", {"balance": 5})
    two.put("guarantee:G", {"members": {}})
    for docs in (one, two):
        docs.settle()
        docs.spill(spill.model())
    assert one.need("guarantee:G") == {"balance": 5}
    assert two.need("guarantee:G") == {"members": {}}


def test_held_bytes_follow_what_settling_packs() -> None:
    docs = PackedDocs()
    docs.put("k", {"a": 1})
    docs.settle()
    first = docs.held
    docs.put("k", {"a": 1000})
    docs.settle()
    assert docs.held == first + 3


def test_a_spill_with_no_room_left_says_where_it_writes() -> None:
    spilled = Spill().model()
    spilled._db.execute("PRAGMA max_page_count = 3")  # room for the schema and little else
    with pytest.raises(SpillError, match="SQLITE_TMPDIR, else TMPDIR, else /var/tmp"):
        spilled.put_all({f"sme:{n}": b"x" * 4000 for n in range(100)})
