"""Driving the peer (bench/peer.py) from the benchmark, in its own virtual environment.

The peer runs as a subprocess of `.venv-peer/bin/python` on a fresh database of
the same server, once with its default settings and once with its database
functions, each at the concurrencies the ledger is measured at. Around each
timed window the CPU of the peer's process (its application and its threads
posting, together) and of PostgreSQL is read from /proc, as for the ledger.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import asyncpg

from bench.cpu import Backends, process_seconds
from ledger import aio
from tests.pg import with_database

HERE = Path(__file__).resolve().parent
PYTHON = Path(os.environ.get("LEDGER_BENCH_PEER_PYTHON", HERE.parent / ".venv-peer/bin/python"))
SETTINGS = {"default": {}, "db_functions": {"POSTGRES_ENABLE_DB_FUNCTIONS": "y"}}
"""Each way the peer is measured: its defaults, and with its database functions."""


def available() -> bool:
    """Whether the peer's virtual environment exists (`make bench` makes it)."""
    return PYTHON.exists()


def _environment(dsn: str) -> dict[str, str]:
    """What `eventsourcing.postgres` reads, from a PostgreSQL URL."""
    url = urlsplit(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
    }
    return env


async def _sql(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def _fresh_database(admin_dsn: str) -> Iterator[str]:
    name = f"ledger_bench_peer_{uuid.uuid4().hex[:8]}"
    aio.run(_sql(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin_dsn, name)
    finally:
        aio.run(_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    if not line:
        raise RuntimeError("the peer ended early; see its standard error above")
    return line.strip()


def measure(
    admin_dsn: str, seconds: float, concurrencies: tuple[int, ...], settings: dict[str, str]
) -> dict[str, Any]:
    """The peer's figures at each concurrency (`single_cN`, with `cpu_us` per event)."""
    out: dict[str, Any] = {}
    with _fresh_database(admin_dsn) as dsn:
        env = {**os.environ, **_environment(dsn), **settings}
        proc = subprocess.Popen(  # noqa: S603 - our own script in its own environment
            [str(PYTHON), str(HERE / "peer.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            if _line(proc.stdout) != "ready":
                raise RuntimeError("the peer did not start")
            assert proc.stdin is not None
            for c in concurrencies:
                backends = Backends(dsn)
                backends.start()
                peer_began = process_seconds(proc.pid)
                proc.stdin.write(f"go {c} {seconds}\n")
                proc.stdin.flush()
                figures: dict[str, Any] = json.loads(_line(proc.stdout))
                peer_spent = process_seconds(proc.pid) - peer_began
                pg_spent = sum(backends.stop().values())
                events = max(int(figures["events"]), 1)
                cpu = {
                    "peer": round(peer_spent / events * 1e6, 1),
                    "postgresql": round(pg_spent / events * 1e6, 1),
                }
                cpu["total"] = round(sum(cpu.values()), 1)
                figures["cpu_us"] = cpu
                out[f"single_c{c}"] = figures
            proc.stdin.close()
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return out
