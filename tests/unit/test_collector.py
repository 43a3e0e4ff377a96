"""Setting start-up's objects aside from the garbage collector."""

from __future__ import annotations

import gc
import weakref

from ledger.collector import set_aside_start_up

# tests/conftest.py unfreezes after every test, so each starts with nothing frozen.


def test_objects_made_before_are_no_longer_examined() -> None:
    made_before: list[object] = [object()]
    assert any(o is made_before for o in gc.get_objects())
    set_aside_start_up()
    assert not any(o is made_before for o in gc.get_objects())
    made_after: list[object] = [object()]
    assert any(o is made_after for o in gc.get_objects())


def test_a_garbage_cycle_made_before_is_collected_not_frozen() -> None:
    class Node:
        pass

    collected: list[str] = []
    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    weakref.finalize(a, collected.append, "a")
    del a, b
    set_aside_start_up()
    assert collected == ["a"]
