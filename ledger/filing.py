"""Computing what a statement.filed fixes, in the append transaction that stores it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import asyncpg

from events.business import SHANGHAI
from events.derived import StatementDerived
from events.payloads import Payload, StatementFiled
from ledger.rules.state import View
from projections.statements import Cut, statement, statement_digest


async def fix_statements(conn: asyncpg.Connection, view: View, payloads: Iterable[Payload]) -> None:
    """Put into `view` the position and digest of the statement each filing names.

    The statement is the one GET /v1/statements answers at this moment: everything the
    movements read model holds, whose last counted position is stored with the filing,
    so that the same statement can be recomputed from the log at any later time. An
    institution the decision state does not know is left to the rules to refuse.
    """
    for event in payloads:
        if not isinstance(event, StatementFiled):
            continue
        institution = view.institutions.get(event.institution_id)
        if institution is None:
            continue
        body = await statement(
            conn,
            event.institution_id,
            institution.kind,
            event.from_,
            event.to,
            dt.datetime.now(SHANGHAI),
            Cut(),
        )
        view.statements[(event.institution_id, event.from_, event.to)] = StatementDerived(
            position=body["position"], digest=statement_digest(body)
        )
