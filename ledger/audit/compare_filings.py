"""Filed statements recomputed: each still has the digest it was filed with.

A filing stores, in its own hashed event, the position its statement counted and
the statement's digest; `?filed=latest` recomputes it from the movements read
model and checks that digest on every read. `replay --compare` checks the same
for every filing at once, after it has compared that read model with a replay of
the log: a filing whose digest the log no longer gives (an import of a history
forged with its chain recomputed, say) is named, where it would otherwise surface
only when someone asked for that statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from events.derived import StatementDerived
from events.payloads import StatementFiled
from events.stored import read_log_entry
from ledger.filed_statements import DigestMismatch, Filing, filed_statement
from projections.statements import institution_kind, movements_position

_FILINGS = """
SELECT l.position, l.hash, e.body
  FROM events e JOIN event_log l USING (seq)
 WHERE e.type = 'statement.filed'
 ORDER BY l.position
"""


@dataclass(frozen=True)
class FilingMismatch:
    """A filed statement that no longer recomputes to its digest."""

    position: int
    institution_id: str
    period: str
    reason: str

    def describe(self) -> str:
        """One line for people: which filing, and why."""
        return (
            f"statement.filed at position {self.position} ({self.institution_id}, "
            f"{self.period}): {self.reason}"
        )


@dataclass(frozen=True)
class FilingsChecked:
    """What checking the filings found: how many were checked, and every mismatch."""

    checked: int
    not_yet: int
    """Filings past the position the movements read model holds, left for next time."""
    mismatches: list[FilingMismatch]


async def check_filings(conn: asyncpg.Connection) -> FilingsChecked:
    """Recompute every sealed filing the movements read model holds; name each mismatch."""
    held = await movements_position(conn)
    checked, not_yet, mismatches = 0, 0, []
    for row in await conn.fetch(_FILINGS):
        entry = read_log_entry(bytes(row["body"]), row["position"], bytes(row["hash"]).hex())
        data, derived = entry.data, entry.derived
        if not isinstance(data, StatementFiled) or not isinstance(derived, StatementDerived):
            continue  # refused institutions' filings store no statement (none is posted)
        period = f"{data.from_.isoformat()} to {data.to.isoformat()}"
        if derived.position > held:
            not_yet += 1
            continue
        kind = await institution_kind(conn, data.institution_id)
        filing = Filing(entry.recorded_at, derived.position, derived.digest, entry.position)
        checked += 1
        if kind is None:
            reason = "its institution is not in the read models"
            mismatches.append(FilingMismatch(entry.position, data.institution_id, period, reason))
            continue
        try:
            await filed_statement(conn, data.institution_id, kind, data.from_, data.to, filing)
        except DigestMismatch as exc:
            reason = f"recomputes to digest {exc.recomputed}, not the {exc.filed} it was filed with"
            mismatches.append(FilingMismatch(entry.position, data.institution_id, period, reason))
    return FilingsChecked(checked, not_yet, mismatches)
