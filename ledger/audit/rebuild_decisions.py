"""Writing the decision state again from the log: `ledger audit decisions --rebuild`.

The rules decide posts against the w_* tables, written in each append transaction.
Rows that no longer follow from the log (a store upgraded from a release that kept
less, a restore that mixed tables of two moments, a row changed by hand) decide the
next posts wrongly. `ledger audit decisions` names them; this writes every row again
from the same fold, with the service stopped, all or nothing: the log itself, its
tree and checkpoints are not touched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import asyncpg

from ledger.audit.decision_rows import STATE_TABLES, Difference
from ledger.audit.decisions import Decided, Folded, fold_log
from ledger.audit.log_hold import SERVICE_RUNNING, hold_the_log
from ledger.rules.state import View, breaker_key_text
from ledger.store import decisions

DECISION_TABLES = tuple(name for name in STATE_TABLES if name != "streams")
"""The tables rewritten whole (the ones compared, but the streams', mended one by one)."""

WRITE_BATCH = 2000
"""State rows written per call of ledger_append."""


class RebuildRefused(Exception):
    """The decision state cannot be rebuilt; nothing was changed. The message says why."""


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild found and wrote."""

    decided: Decided
    differences: list[Difference]
    """The rows that differed from the fold before the rebuild (none: nothing written)."""


def _state_rows(view: View) -> Iterator[tuple[str, str]]:
    """Every row of the state as (kind, key), as a post marks the rows it changes."""
    yield from (("institution", k) for k in view.institutions)
    yield from (("program", k) for k in view.programs)
    yield from (("sme", k) for k in view.smes)
    yield from (("guarantee", k) for k in view.guarantees)
    yield from (("claim", k) for k in view.claim_owner)
    yield from (("limits", k) for k in view.guarantor_limits)
    yield from (("breaker", breaker_key_text(k)) for k in view.breakers)


async def _write(conn: asyncpg.Connection, folded: Folded) -> None:
    view = folded.view
    rows = _state_rows(view)
    while batch := list(itertools.islice(rows, WRITE_BATCH)):
        view.dirty = set(batch)
        # Each guarantee adds its loan to its program's volume once, as when it was issued.
        issued = [key for kind, key in batch if kind == "guarantee"]
        await decisions.save(conn, view, issued)
    view.dirty = set()


async def _mend_streams(
    conn: asyncpg.Connection, folded: Folded, differences: list[Difference]
) -> None:
    for stream in sorted({d.key for d in differences if d.table == "streams"}):
        if stream not in folded.versions:
            await conn.execute("DELETE FROM streams WHERE stream_id = $1", stream)
            continue
        await conn.execute(
            """INSERT INTO streams (stream_id, version, occurred_at) VALUES ($1, $2, $3)
               ON CONFLICT (stream_id)
               DO UPDATE SET version = EXCLUDED.version, occurred_at = EXCLUDED.occurred_at""",
            stream,
            folded.versions[stream],
            folded.occurred[stream],
        )


async def rebuild_decisions(
    conn: asyncpg.Connection, *, progress: Callable[[int, int], None] | None = None
) -> Rebuilt:
    """Fold the log and write the decision state it gives, in one transaction on `conn`
    (as the schema owner); RebuildRefused, with nothing changed, when it cannot be."""
    async with conn.transaction():
        if not await hold_the_log(conn):
            raise RebuildRefused(SERVICE_RUNNING)
        decided, folded = await fold_log(conn, progress=progress)
        if folded is None:
            assert decided.fault is not None
            raise RebuildRefused(
                f"{decided.fault.describe()}: no state follows from a log the rules do not "
                "decide again as stored"
            )
        before = await folded.compare(conn)
        if not before:
            return Rebuilt(decided, [])
        await conn.execute(f"TRUNCATE {', '.join(DECISION_TABLES)}")
        await _write(conn, folded)
        await _mend_streams(conn, folded, before)
        after = await folded.compare(conn)
        if after:
            raise RebuildRefused(
                f"the rows written still differ from the fold ({after[0].describe()}, "
                f"{len(after)} in all)"
            )
    return Rebuilt(decided, before)
