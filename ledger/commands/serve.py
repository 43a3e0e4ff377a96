"""`ledger serve`: run the service, on an embedded PostgreSQL unless given a database."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeAlias, cast

import structlog

from ledger import aio
from ledger.commands import CommandError, Subparsers
from ledger.config import DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, HOST, PORT, Settings, parse_port

# ledger.service.run_service: applies migrations, serves HTTP and the background
# workers, and returns once asked to stop (SIGINT/SIGTERM).
RunService: TypeAlias = Callable[[Settings, str], Coroutine[Any, Any, None] | None]


def register(subparsers: Subparsers) -> None:
    """Add `ledger serve [--host HOST] [--port PORT]`."""
    parser = subparsers.add_parser(
        "serve",
        help="run the ledger service",
        description=(
            "Run the ledger's HTTP service. Without LEDGER_DATABASE_URL it starts an "
            f"embedded PostgreSQL in ${DATA_DIR} (default ./.ledger-data) that keeps its "
            "data across restarts. Ctrl-C stops the service, then the database."
        ),
    )
    parser.add_argument("--host", help=f"address to listen on (default: ${HOST} or {DEFAULT_HOST})")
    parser.add_argument(
        "--port",
        type=_port_argument,
        help=f"port to listen on (default: ${PORT} or {DEFAULT_PORT})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted; stop the embedded PostgreSQL, if started, last."""
    settings = settings.with_overrides(host=args.host, port=args.port)
    _listen_address(settings)
    run_service = _load_run_service()
    log = structlog.get_logger("ledger.serve")
    with _sigterm_interrupts():
        if settings.database_url is not None:
            _call(run_service, settings, settings.database_url)
            return 0

        from ledger.embedded import EmbeddedPostgres, EmbeddedPostgresError

        embedded = EmbeddedPostgres(settings.data_dir)
        try:
            log.info("starting embedded PostgreSQL", data_dir=str(embedded.pgdata))
            try:
                dsn = embedded.start()
            except EmbeddedPostgresError as exc:
                raise CommandError(str(exc)) from exc
            except OSError as exc:
                said = _starting_failure(exc, settings)
                if said is None:
                    raise
                raise CommandError(said) from None
            _call(run_service, settings, dsn)
        finally:
            if embedded.running:
                log.info("stopping embedded PostgreSQL")
                # A second Ctrl-C must not leave the database half stopped.
                with _sigint_ignored():
                    embedded.stop()
    return 0


def _listen_address(settings: Settings) -> None:
    """Refuse, before anything starts, a listen address that names no address at all
    (a mistyped LEDGER_HOST), which would otherwise fail like an unreachable database."""
    import socket

    if not settings.host:
        return  # every interface
    try:
        socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise CommandError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None


def _port_argument(value: str) -> int:
    try:
        return parse_port(value, source="--port")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _load_run_service() -> RunService:
    # Imported here so `ledger --help` and the other commands stay fast.
    try:
        module = importlib.import_module("ledger.service")
    except ModuleNotFoundError as exc:
        if exc.name != "ledger.service":
            raise
        raise CommandError("this installation has no ledger.service module") from None
    return cast(RunService, module.run_service)


def _call(run_service: RunService, settings: Settings, dsn: str) -> None:
    try:
        result = run_service(settings, dsn)
        if inspect.iscoroutine(result):
            aio.run(result)
    except Exception as exc:
        said = _starting_failure(exc, settings)
        if said is None:
            raise
        raise CommandError(said) from None


def _starting_failure(exc: Exception, settings: Settings) -> str | None:
    """One line for what stops the service from starting (an operator's to fix), or None
    for anything else, which keeps its traceback."""
    import errno

    from ledger.commands._failures import database_failure

    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {settings.host}:{settings.port}: the address is in use"
    if (
        isinstance(exc, OSError)
        and exc.filename is None
        and exc.errno
        in (
            errno.EADDRNOTAVAIL,
            errno.EACCES,
        )
    ):
        # An address of no interface of this machine, or a port it may not open.
        return f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
    if isinstance(exc, OSError) and exc.filename is not None:
        # A data directory or key file that cannot be made or read where it was put.
        return f"cannot use {exc.filename}: {exc.strerror or exc}"
    return database_failure(exc)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks run on `docker stop` too.

    The service may install its own handlers while it runs; this one covers the rest.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
