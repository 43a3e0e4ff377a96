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


class Peer:
    """The peer running with `settings` on a fresh database of `admin_dsn`'s server,
    ready for timed windows (use as a context manager)."""

    def __init__(self, admin_dsn: str, settings: dict[str, str]) -> None:
        self._admin_dsn = admin_dsn
        self._settings = settings
        self._stack = contextlib.ExitStack()
        self._proc: subprocess.Popen[str] | None = None
        self.dsn = ""

    def __enter__(self) -> Peer:
        try:
            self.dsn = self._stack.enter_context(_fresh_database(self._admin_dsn))
            env = {**os.environ, **_environment(self.dsn), **self._settings}
            self._proc = proc = subprocess.Popen(  # noqa: S603 - our own script, own environment
                [str(PYTHON), str(HERE / "peer.py")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            self._stack.callback(self._stop)
            if _line(proc.stdout) != "ready":
                raise RuntimeError("the peer did not start")
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def window(self, concurrency: int, seconds: float) -> dict[str, Any]:
        """One timed window of new aggregates saved at `concurrency`, with `cpu_us` per event."""
        proc = self._proc
        assert proc is not None
        assert proc.stdin is not None
        backends = Backends(self.dsn)
        backends.start()
        peer_began = process_seconds(proc.pid)
        proc.stdin.write(f"go {concurrency} {seconds}\n")
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
        return figures
