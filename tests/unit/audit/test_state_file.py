"""The replayed state file: written a slice at a time, the same bytes as encoding it whole."""

from __future__ import annotations

import io
from typing import Any

import msgspec
import pytest

from ledger.audit import state_file
from projections.fold import Fold
from projections.registry import PROJECTIONS
from tests.unit.projections.scenario import random_steps

OPS = [(kind, target, frac) for kind in range(16) for target, frac in ((0, 40), (1, 100), (2, 7))]


def _whole(fold: Fold) -> bytes:
    # The state built as one object and encoded in one go: what the file always held.
    state: dict[str, Any] = {
        "position": fold.position,
        "read_models": {name: fold.documents(name) for name in fold.docs},
    }
    raw = msgspec.json.encode(state, order="deterministic")
    return msgspec.json.format(raw, indent=2) + b"\n"


def _written(fold: Fold) -> bytes:
    out = io.BytesIO()
    state_file.write_state(fold, out)
    return out.getvalue()


@pytest.mark.parametrize("slice_", [1, 2, 4096])
def test_the_file_is_the_whole_state_encoded_at_once(
    slice_: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_file, "SLICE", slice_)
    fold = Fold().apply_all(random_steps(OPS).entries)
    assert fold.position > 20
    assert _written(fold) == _whole(fold)


def test_empty_read_models_and_an_empty_fold_are_written_alike() -> None:
    ledger = random_steps([])
    fold = Fold([PROJECTIONS["claims"], PROJECTIONS["programs"]]).apply_all(ledger.entries)
    assert fold.documents("claims") == {}
    assert _written(fold) == _whole(fold)
    assert _written(Fold()) == _whole(Fold())
    empty = b'{\n  "position": 0,\n  "read_models": {}\n}\n'
    assert _written(Fold([])) == _whole(Fold([])) == empty
