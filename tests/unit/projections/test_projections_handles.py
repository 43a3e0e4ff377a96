"""Property: a projection given only the event types it handles keeps the same documents."""

from __future__ import annotations

from hypothesis import given, settings

from projections.base import Docs
from projections.fold import Fold
from projections.registry import PROJECTIONS
from tests.unit.projections.scenario import OP_KINDS, OPS, random_steps


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_skipping_the_types_a_projection_does_not_handle_changes_no_document(
    ops: list[tuple[int, int, int]],
) -> None:
    entries = random_steps(ops).entries
    fold = Fold(PROJECTIONS.values()).apply_all(entries)
    for name, proj in PROJECTIONS.items():
        every = Docs()
        for entry in entries:
            proj.apply(every, entry)
        assert dict(every.items()) == fold.documents(name), name


def test_the_scenarios_post_every_type_some_projection_ignores() -> None:
    """So the property above sees each skipped type at least once."""
    ops = [(kind, target, 50) for kind in range(OP_KINDS) for target in (0, 1)]
    entries = random_steps(ops).entries
    posted = {entry.type for entry in entries}
    skipped = {t for proj in PROJECTIONS.values() for t in posted if t not in proj.handles}
    assert {"sme.registered", "sme.eligibility_recorded", "institution.registered"} <= skipped
