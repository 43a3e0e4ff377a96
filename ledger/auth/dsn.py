"""Reaching the ledger's database from a command, the same way `ledger serve` does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ledger.commands import CommandError
from ledger.config import Settings


@contextlib.contextmanager
def resolve_dsn(settings: Settings, *, create: bool = True) -> Iterator[str]:
    """Yield LEDGER_DATABASE_URL, or the DSN of the embedded PostgreSQL in LEDGER_DATA_DIR.

    The embedded server is joined when `ledger serve` already runs on that directory,
    and started (then stopped again) otherwise. A command that reads an existing
    ledger passes `create=False`: a directory with no store is then an error rather
    than a new empty store.
    """
    if settings.database_url is not None:
        yield settings.database_url
        return
    from ledger.embedded import EmbeddedPostgres, EmbeddedPostgresError

    embedded = EmbeddedPostgres(settings.data_dir)
    if not create and not embedded.initialised:
        raise CommandError(
            f"no ledger store in {embedded.data_dir}: run this where the service keeps "
            "its store (LEDGER_DATA_DIR, as given to `ledger serve`), or set "
            "LEDGER_DATABASE_URL"
        )
    try:
        dsn = embedded.start()
    except EmbeddedPostgresError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield dsn
    finally:
        embedded.stop()
