"""A past state of a long log folded in a process of its own, off the service's event loop.

`GET /v1/audit/state?position=N` folds one read model from position 1 to N. In the
service's process that fold shared the event loop with every other request: on a store
of 1.1 million events one such request took about 8 s, and while it ran, posts at
concurrency 1 on the same service fell from about 360 a second to 25, their p99 from
5.5 to over 300 ms. From ELSEWHERE_FROM events on, the service runs
`python -m ledger.audit.state_process` instead and waits for its answer, which costs
the event loop nothing: posts then kept 250 to 265 a second, p99 12 ms.
"""

from __future__ import annotations

import sys
from typing import Any

import asyncpg
import msgspec

from ledger import aio
from ledger.audit.child_process import answer, finish, last_line, read_job, refusal, start, stop
from ledger.audit.state import state_at
from ledger.collector import set_aside_start_up

MODULE = "ledger.audit.state_process"
"""What the service runs, as `python -m MODULE`."""

ELSEWHERE_FROM = 100_000
"""Positions from which a state is folded in a process of its own (below, the fold takes
less than the half second a process takes to start)."""


class StateJob(msgspec.Struct, frozen=True):
    """What the process is asked, on its standard input: one read model at one position."""

    dsn: str
    position: int
    name: str
    ident: str


class StateAnswer(msgspec.Struct, frozen=True, omit_defaults=True):
    """What it answers on its standard output: the body (None: not there), or why not."""

    body: dict[str, Any] | None = None
    error: str | None = None
    """Which error the service raises in turn (child_process.answer and refusal)."""
    message: str = ""


class FoldFailed(Exception):
    """The process folding a state ended without an answer (it says what it died of)."""


async def state_elsewhere(dsn: str, position: int, name: str, ident: str) -> dict[str, Any] | None:
    """`state_at(position, name=ident)` on the database at `dsn`, folded in a process of
    its own. Raises ReplayError and SpillError as `state_at` does, FoldFailed otherwise."""
    child = await start(MODULE, StateJob(dsn, position, name, ident))
    try:
        out, err = await finish(child)
    finally:
        await stop(child)  # when the request was cancelled or timed out
    try:
        answer = msgspec.json.decode(out, type=StateAnswer)
    except msgspec.DecodeError:
        raise FoldFailed(f"exit {child.returncode}: {last_line(err)}") from None
    if answer.error is not None:
        raise refusal(answer.error, answer.message)
    return answer.body


async def _fold(job: StateJob) -> dict[str, Any] | None:
    conn = await asyncpg.connect(
        job.dsn, timeout=10, server_settings={"default_transaction_read_only": "on"}
    )
    try:
        return await state_at(
            conn, job.position, business_date=None, known_at=None, **{job.name: job.ident}
        )
    finally:
        await conn.close()


def main() -> int:
    """Fold the job on stdin's first line; print its StateAnswer."""
    # A long fold: its full collections need not walk start-up's objects.
    set_aside_start_up()
    job = msgspec.json.decode(read_job(), type=StateJob)
    return answer(
        lambda: StateAnswer(body=aio.run(_fold(job))),
        lambda error, message: StateAnswer(error=error, message=message),
    )


if __name__ == "__main__":
    sys.exit(main())
