"""Verifying the witnesses' cosignatures the ledger keeps beside its checkpoints.

A cosignature is checked when a witness posts it; kept, it is served with its checkpoint
to every client that pins that witness's key. A stored line rewritten since would make
those clients refuse the checkpoint, with nothing in the log to say why: verify checks
each kept line against the key the witness's registration (a logged event) names.
"""

from __future__ import annotations

import asyncpg

from ledger.audit.faults import Fault
from ledger.store import witnesses
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.cosignature import verify_cosignature
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Verifier
from ledger.tlog.note import signature_line
from ledger.witness.accept import witnesses_of

_PAGE = 1000


async def check_cosignatures(conn: asyncpg.Connection, origin: str, through: int) -> None:
    """Fault at the first checkpoint (up to size `through`) with a kept cosignature that
    is not its registered witness's over that checkpoint."""
    registered = [(w.witness_id, w.key) for w in await witnesses.registered(conn)]
    keys = {w.witness_id: w.verifier for w in witnesses_of(registered)}  # ids are unique
    after = (0, "")
    while True:
        rows = await conn.fetch(
            """SELECT c.size, c.witness_id, c.line, k.root
                 FROM log_cosignatures c JOIN log_checkpoints k USING (size)
                WHERE (c.size, c.witness_id) > ($1, $2) AND c.size <= $3
                ORDER BY c.size, c.witness_id LIMIT $4""",
            *after,
            through,
            _PAGE,
        )
        for row in rows:
            size = int(row["size"])
            text = Checkpoint(origin, size, bytes(row["root"])).text()
            fault = _fault(keys.get(row["witness_id"]), row["witness_id"], size, text, row["line"])
            if fault is not None:
                raise fault
        if len(rows) < _PAGE:
            return
        after = (int(rows[-1]["size"]), str(rows[-1]["witness_id"]))


def _fault(
    verifier: Verifier | None, witness_id: str, size: int, text: str, line: str
) -> Fault | None:
    """Why a kept cosignature line is not its witness's over the checkpoint, if it is not."""
    where = f"the cosignature kept for witness {witness_id} at size {size}"
    if verifier is None:
        return Fault(
            size,
            "checkpoint-mismatch",
            f"{where} names a witness no registration in the log names: the row was added",
        )
    try:
        verify_cosignature(text, signature_line(line.rstrip("\n")), verifier)
    except TlogError as exc:
        return Fault(
            size,
            "checkpoint-mismatch",
            f"{where} is not that witness's over the checkpoint ({exc}): the row was "
            "rewritten, and clients pinning that witness would refuse the checkpoint",
        )
    return None
