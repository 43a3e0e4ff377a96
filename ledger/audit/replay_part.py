"""The second process of a replay in two (ledger/audit/replay_parts.py).

Reads its Job on standard input, folds the read models it names in the snapshot the
first process exported, writes each as the state file holds it, and answers one line
of JSON (an Outcome) on standard output.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import asyncpg
import msgspec

from ledger import aio
from ledger.audit.child_process import answer, read_job
from ledger.audit.replay import ChainFold, ReplayError, fold_through
from ledger.audit.replay_parts import IMPORTED, Job, Outcome
from ledger.audit.scan import READ_ONLY_SETTINGS
from ledger.audit.state_file import write_docs
from ledger.collector import set_aside_start_up
from projections.fold import Fold
from projections.registry import REPLAYED

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


async def fold_part(job: Job) -> int:
    """Fold the job's read models and write them under its directory; their position."""
    if not _SNAPSHOT_ID.fullmatch(job.snapshot):
        raise ReplayError(f"not a snapshot id: {job.snapshot!r}")
    conn = await asyncpg.connect(job.dsn, timeout=10, server_settings=READ_ONLY_SETTINGS)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{job.snapshot}'")
            # Taken: the first process may end the transaction that exported it.
            sys.stdout.buffer.write(IMPORTED)
            sys.stdout.flush()
            fold = Fold([REPLAYED[name] for name in job.names], budget=job.budget)
            folder = ChainFold(fold, job.as_of, None, job.business_date)
            await fold_through(conn, folder, job.end)
    finally:
        await conn.close()
    fold.settle()
    try:
        for name, docs in fold.docs.items():
            with (Path(job.directory) / name).open("wb") as out:
                write_docs(docs, out)
    except OSError as exc:
        where = exc.filename or job.directory
        raise ReplayError(f"the replay could not write {where}: {exc.strerror}") from None
    return fold.position


def _take_back(line: bytes) -> None:
    # The first process is gone (killed, say): nobody will copy these parts in or delete
    # them, nor the directory it made for them beside the output.
    shutil.rmtree(msgspec.json.decode(line, type=Job).directory, ignore_errors=True)


def main() -> int:
    """Run the job on stdin's first line; print its Outcome; stop if stdin closes first."""
    # A long fold: its full collections need not walk start-up's objects.
    set_aside_start_up()
    job = msgspec.json.decode(read_job(_take_back), type=Job)
    return answer(
        lambda: Outcome(position=aio.run(fold_part(job))),
        lambda error, message: Outcome(error=error, message=message),
    )


if __name__ == "__main__":
    sys.exit(main())
