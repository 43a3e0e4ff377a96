"""Folding stored events back through the rules: the decision state and facts the log implies."""

from __future__ import annotations

from collections.abc import Iterable

from events.derived import Derived, StatementDerived
from events.payloads import StatementFiled
from events.stored import StoredEvent
from ledger.rules.decide import decide
from ledger.rules.state import View


class ReplayMismatch(Exception):
    """A stored event's derived facts differ from what deciding it again gives."""

    def __init__(self, event: StoredEvent, decided: Derived) -> None:
        super().__init__(
            f"event {event.event_id} ({event.type}, {event.stream_id} v{event.stream_version}) "
            f"stored {event.derived!r} but deciding it again gives {decided!r}"
        )
        self.event = event
        self.decided = decided


def decide_stored(view: View, event: StoredEvent) -> Derived:
    """Decide a stored event again, as its actor, at its business time.

    A filing's figures came from the read models when it was accepted: they are taken as
    stored, for this filing alone (GET /v1/statements/{id}?filed=latest checks them
    against the log). A Refusal propagates.
    """
    data, derived = event.data, event.derived
    if isinstance(data, StatementFiled) and isinstance(derived, StatementDerived):
        view.statements[(data.institution_id, data.from_, data.to)] = derived
    return decide(view, event.type, data, event.actor, event.occurred_at)


def fold(events: Iterable[StoredEvent], view: View | None = None) -> tuple[View, list[Derived]]:
    """Decide stored events in log order, each as its actor; return the state and facts.

    Every stored event was accepted, so a Refusal here means the log and the
    rules disagree; it propagates to the caller unchanged.
    """
    state = View() if view is None else view
    derived = [decide(state, e.type, e.data, e.actor, e.occurred_at) for e in events]
    return state, derived


def verify(events: Iterable[StoredEvent]) -> View:
    """Fold stored events and raise ReplayMismatch at the first whose stored facts differ."""
    state = View()
    for event in events:
        decided = decide(state, event.type, event.data, event.actor, event.occurred_at)
        if decided != event.derived:
            raise ReplayMismatch(event, decided)
    return state
