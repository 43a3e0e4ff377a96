"""Computing what a statement.filed fixes, in the append transaction that stores it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable

import asyncpg

from events.business import SHANGHAI
from events.derived import StatementDerived
from events.party_payloads import InstitutionRegistered
from events.payloads import Payload, StatementFiled
from ledger.rules.state import View
from ledger.store.reads import head_position
from projections.statements import Cut, holds, statement, statement_digest

FILING_WAIT = 5.0
"""Seconds a filing waits at most for the movements read model to hold the log."""


class MovementsBehind(Exception):
    """The movements read model does not hold every acknowledged event yet: a filing now
    would leave some out, so it is not stored (a 503 to retry)."""


async def fix_statements(conn: asyncpg.Connection, view: View, payloads: Iterable[Payload]) -> None:
    """Put into `view` the position and digest of the statement each filing names.

    The statement is fixed as known when the filing is accepted (docs/statements.md): once the
    movements read model holds every event sealed when this transaction looked (every
    event acknowledged before the filing was posted), it is what GET /v1/statements
    answers; its last counted position is stored with the filing, so that the same
    statement can be recomputed from the log at any later time. Events posted in the
    same transaction are not counted (they are not accepted before it). An institution
    the decision state does not know is left to the rules to refuse.
    """
    payloads = list(payloads)
    # Institutions registered by this transaction's own events: one filed for in the
    # same batch, after its registration, has nothing to count yet, but a statement.
    registered = {
        e.institution_id: e.kind for e in payloads if isinstance(e, InstitutionRegistered)
    }
    kinds = {**registered, **{i: known.kind for i, known in view.institutions.items()}}
    filings = [e for e in payloads if isinstance(e, StatementFiled)]
    if not any(e.institution_id in kinds for e in filings):
        return
    head = await head_position(conn)
    deadline = asyncio.get_running_loop().time() + FILING_WAIT
    if not await holds(conn, head, deadline):
        raise MovementsBehind(
            f"the movements read model does not hold position {head} yet, so a statement "
            "filed now would leave out events acknowledged before it; retry shortly"
        )
    for event in filings:
        kind = kinds.get(event.institution_id)
        if kind is None:
            continue
        body = await statement(
            conn,
            event.institution_id,
            kind,
            event.from_,
            event.to,
            dt.datetime.now(SHANGHAI),
            Cut(),
        )
        view.statements[(event.institution_id, event.from_, event.to)] = StatementDerived(
            position=body["position"], digest=statement_digest(body)
        )
