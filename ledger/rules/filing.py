"""Filing a statement: by the institution itself or an admin, with its figures fixed."""

from __future__ import annotations

from events.derived import StatementDerived
from events.payloads import StatementFiled
from ledger.rules.refusal import invalid_state
from ledger.rules.state import View


def file_statement(view: View, event: StatementFiled) -> StatementDerived:
    """The position and digest the filed statement fixes, computed before deciding."""
    if event.institution_id not in view.institutions:
        raise invalid_state(f"institution {event.institution_id} is not registered")
    fixed = view.statements.get((event.institution_id, event.from_, event.to))
    if fixed is None:  # pragma: no cover - the poster computes it for every filing
        raise invalid_state(f"the statement of {event.institution_id} could not be computed")
    return fixed
