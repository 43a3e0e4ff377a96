"""The benchmark's helpers: timed phases with their CPU, and waiting for a ledger at rest."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import asyncpg

from bench.cpu import CpuSplit
from bench.stats import Run
from ledger import aio


def say(message: str) -> None:
    """A progress line on standard error."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def sql(dsn: str, statement: str) -> Any:
    """The first value of one statement on a new connection."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def in_turns(
    rounds: int, measures: Mapping[str, Callable[[], dict[str, Any]]], what: str
) -> dict[str, list[dict[str, Any]]]:
    """`rounds` windows of each measure, taken in turns; which one goes first alternates
    from round to round (the order turns round), so none always follows another."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in measures}
    order = list(measures)
    for i in range(rounds):
        for label in order if i % 2 == 0 else order[::-1]:
            say(f"{label}, {what}, window {i + 1}")
            runs[label].append(measures[label]())
    return runs


def raw(load: Coroutine[Any, Any, Run]) -> dict[str, Any]:
    """The figures of a load of raw INSERTs, run to its end."""
    return aio.run(load).as_dict()


def with_cpu(
    server: int | None,
    database: str,
    phase: Callable[..., dict[str, Any]],
    *args: Any,
    settle: str | None = None,
) -> dict[str, Any]:
    """The figures of a timed phase, with the CPU each process spent on it per event
    (bench/cpu.py), PostgreSQL's being that of the backends serving `database`. With
    `settle` (a ledger's DSN), counting goes on until its read models have caught up, so
    the runner's share of the phase is counted whole."""
    split = CpuSplit(server, database)
    split.start()
    figures = phase(*args)
    if settle is not None:
        wait_settled(settle)
    figures["cpu_us"] = split.stop(int(figures["events"]))
    return figures


def wait_settled(dsn: str, within: float = 600.0) -> None:
    """Wait until every read model has caught up with the log, so a timed load has the
    machine to itself rather than sharing it with the runner's catch-up."""
    deadline = time.monotonic() + within
    query = """SELECT coalesce(min(c.position), 0) >= (SELECT coalesce(max(position), 0)
                                                          FROM event_log)
                 FROM projection_checkpoints c"""
    while not aio.run(sql(dsn, query)):
        if time.monotonic() > deadline:
            say("read models still catching up; measuring anyway")
            return
        time.sleep(1.0)


def checkpoint(dsn: str) -> None:
    """Write out what the loads so far left dirty, so the next figure is timed on a ledger
    at rest rather than beside PostgreSQL flushing them (a checkpoint of the fill's
    million writes takes tens of seconds and started during the full-store appends)."""
    say("checkpoint")
    try:
        aio.run(sql(dsn, "CHECKPOINT"))
    except asyncpg.InsufficientPrivilegeError:
        say("this role may not CHECKPOINT; measuring anyway")


def head(dsn: str) -> int:
    """The position of the last event stored."""
    return int(aio.run(sql(dsn, "SELECT coalesce(max(position), 0) FROM event_log")))
