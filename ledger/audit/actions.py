"""What each `ledger audit` command does, given a DSN; output to stdout or a file."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

import asyncpg

from ledger.audit.compare import Difference, compare_live
from ledger.audit.compare_filings import FilingMismatch, check_filings
from ledger.audit.compare_row_tables import compare_row_tables
from ledger.audit.decisions import decide_again
from ledger.audit.export import ExportError, export_log
from ledger.audit.progress import Progress
from ledger.audit.replay import ReplayError
from ledger.audit.replay_parts import replay_parted
from ledger.audit.restore import ImportRefused, import_log
from ledger.audit.scan import READ_ONLY_SETTINGS, head
from ledger.audit.state_file import write_state, write_state_parted
from ledger.audit.verify import format_digest, verified_line, verify_chain
from ledger.commands import CommandError
from ledger.store.migrate import NO_LEDGER


@contextlib.asynccontextmanager
async def _connection(dsn: str, *, read_only: bool = True) -> AsyncIterator[asyncpg.Connection]:
    settings = READ_ONLY_SETTINGS if read_only else None
    try:
        conn = await asyncpg.connect(dsn, timeout=10, server_settings=settings)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the ledger's database: {exc}") from None
    try:
        yield conn
    except asyncpg.UndefinedTableError:
        raise CommandError(NO_LEDGER) from None
    except asyncpg.SerializationError as exc:
        if "conflict with recovery" not in str(exc):
            raise
        # A hot standby cancels a long read whose rows its replay must remove.
        raise CommandError(
            "the standby cancelled the read to go on replaying; run it again, or set "
            "hot_standby_feedback = on (or a larger max_standby_streaming_delay) there"
        ) from None
    finally:
        await conn.close()


def _device(target: Path) -> bool:
    return target.exists() and not target.is_file()


@contextlib.contextmanager
def output_to(path: str | None) -> Iterator[BinaryIO]:
    """stdout, or a file that appears under its name only once it is complete."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    target = Path(path)
    if _device(target):
        # A device or pipe (/dev/null, a FIFO): write straight to it. Renaming a
        # finished file over it would replace the device itself.
        with _written(path, target) as out:
            yield out
        return
    partial = target.with_name(target.name + ".partial")
    try:
        with _written(path, partial) as out:
            yield out
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _written(path: str, file: Path) -> Iterator[BinaryIO]:
    # `file` opened for writing; that it cannot be opened, or has no room left, is the
    # command's error naming `path`.
    try:
        opened = file.open("wb")
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with opened as out:  # closing flushes: a full disk may show only then
            yield out
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise cannot_write(path, exc) from None


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
"""Errors of a write that mean the output's file system has no room for it."""


def cannot_write(path: str | Path, exc: OSError) -> CommandError:
    """The command's error for an output it could not write."""
    return CommandError(f"cannot write {path}: {exc.strerror or exc}")


async def digest(dsn: str) -> int:
    """Print `POSITION:HASH` of the head of the log."""
    async with _connection(dsn) as conn:
        position, hash_ = await head(conn)
    if hash_ is None:
        raise CommandError("the ledger is empty: there is nothing to take a digest of yet")
    print(format_digest(position, hash_))
    return 0


async def verify(
    dsn: str,
    digest_: tuple[int, bytes] | None,
    through: int | None,
    as_json: bool,
    log_key: str | None = None,
) -> int:
    """Recompute the chain; print the report; exit 1 when it is not ok. With `log_key`
    (pinned), the store's checkpoints must also be signed by that key."""
    progress = Progress("verify")
    async with _connection(dsn) as conn:
        foreign = None if log_key is None else await _foreign_key(conn, log_key)
        report = await verify_chain(conn, through=through, digest=digest_, progress=progress)
    if foreign is not None and report.ok:
        report = dataclasses.replace(
            report, ok=False, problem="checkpoint-mismatch", reason=foreign
        )
    if as_json:
        print(json.dumps(report.to_json()))
    elif report.ok:
        print(f"ok: verified positions 1 to {report.verified_through}")
        print(f"digest: {report.verified_through}:{report.head_hash}")
        if digest_ is not None:
            print(f"the digest {digest_[0]}:{digest_[1].hex()} holds")
    elif report.first_bad_position is None:
        print(f"NOT OK: {report.reason}")
        print(f"the chain holds through position {report.verified_through}")
    else:
        print(f"NOT OK: first bad position {report.first_bad_position} ({report.problem})")
        print(f"reason: {report.reason}")
        print(verified_line(report.verified_through))
    # The scan may stop in its first batch, before any progress was counted.
    if report.ok:
        progress.finish(f"verified {report.verified_through} events", report.verified_through)
    else:
        good = report.verified_through
        progress.finish(f"NOT OK after {good} good events", good)
    return 0 if report.ok else 1


async def _foreign_key(conn: asyncpg.Connection, pinned: str) -> str | None:
    """Why the store's checkpoints prove nothing to whoever pinned `pinned`, or None.

    Verify checks each checkpoint's signature with the key the store recorded; a pinned
    key makes that key the one the auditor learnt out of band, not the store's word.
    """
    from ledger.store import identity

    known = await identity.recorded(conn)
    if known is None:
        return None
    if known.verifier_key != pinned:
        return (
            f"the store's checkpoints are signed by the log key {known.verifier_key}, "
            f"not the pinned {pinned}: they prove nothing about this log"
        )
    return None


def out_of_business_order(business_date: dt.date | None, exc: LookupError) -> CommandError:
    """What a replay as of `business_date` says when an event dated up to it refers to
    something registered later in business time (the fold raised `exc`)."""
    return CommandError(
        f"the events dated up to {business_date} refer to something registered "
        f"later in business time ({exc}); choose a later --business-date"
    )


async def replay_state(
    dsn: str,
    to_position: int | None,
    as_of: dt.datetime | None,
    out: str | None,
    *,
    business_date: dt.date | None = None,
) -> int:
    """Rebuild every read model at a position or moment (or as of a business date as
    known at that moment) and write it as JSON."""
    progress = Progress("replay")
    with contextlib.ExitStack() as stack:
        # Where the second process of a long replay writes its read models: beside the
        # output, which needs that room anyway (replay_parts.py).
        beside = None if out in (None, "-") or _device(Path(out)) else Path(out).parent
        try:
            held = tempfile.TemporaryDirectory(".replay", dir=beside)
        except OSError as exc:
            raise cannot_write(out or "a temporary directory", exc) from None
        parts = Path(stack.enter_context(held))
        async with _connection(dsn) as conn:
            try:
                parted = await replay_parted(
                    conn,
                    dsn,
                    parts,
                    to_position=to_position,
                    as_of=as_of,
                    business_date=business_date,
                    progress=progress,
                )
                try:
                    with output_to(out) as stream:
                        if parted.later:
                            await write_state_parted(parted.fold, stream, parted.later, parted.rest)
                        else:
                            write_state(parted.fold, stream)
                finally:
                    await parted.abandon()
            except LookupError as exc:
                raise out_of_business_order(business_date, exc) from None
            except ReplayError as exc:
                raise CommandError(str(exc)) from None
        fold = parted.fold
    progress.finish(f"replayed {fold.position} events to position {fold.position}", fold.position)
    return 0


async def compare(dsn: str) -> int:
    """Compare the live read models, documents and row tables, with a replay; list every
    difference; exit 1 if any."""
    # Two passes over the log, each with its own count and rate, from its own start.
    documents = Progress("compare read models")
    async with _connection(dsn) as conn:
        try:
            result = await compare_live(conn, progress=documents)
            documents.finish("read models replayed")
            rows = Progress("compare statement and as-of rows")
            rows_at, row_differences = await compare_row_tables(conn, dsn, progress=rows)
            rows.finish("statement and as-of rows replayed")
            filings = await check_filings(conn)
        except ReplayError as exc:
            raise CommandError(str(exc)) from None
    differences: list[Difference | FilingMismatch] = [
        *result.differences,
        *row_differences,
        *filings.mismatches,
    ]
    positions = {**result.positions, **rows_at}
    at = ", ".join(f"{name} at {pos}" for name, pos in sorted(positions.items()))
    for difference in differences:
        print(difference.describe())
    if not differences:
        print(f"the live read models equal the replay ({at})")
        later = f"; {filings.not_yet} past that read model, not yet" if filings.not_yet else ""
        print(f"every filed statement recomputes to its digest ({filings.checked} checked{later})")
    else:
        print(f"{len(differences)} differences ({at})")
    return 0 if not differences else 1


async def decisions(dsn: str) -> int:
    """Decide every event again and compare the decision state; exit 1 at any difference."""
    progress = Progress("decisions")
    async with _connection(dsn) as conn:
        found = await decide_again(conn, progress=progress)
    if found.fault is not None:
        print(f"NOT OK: {found.fault.describe()}")
        print(f"the {found.events} events before it were decided as stored")
    for difference in found.differences:
        print(difference.describe())
    if found.same:
        print(
            f"ok: {found.events} events decided again as stored ({found.sealed} sealed, "
            f"{found.events - found.sealed} not yet); the decision state equals the fold"
        )
    elif found.differences:
        count = len(found.differences)
        print(f"NOT OK: {count} difference{'' if count == 1 else 's'} in the decision state")
    progress.finish(f"decided {found.events} events", found.events)
    return 0 if found.same else 1


async def rebuild_decisions(dsn: str) -> int:
    """Write the decision state again from the log (service stopped), all or nothing."""
    from ledger.audit import rebuild_decisions as rebuild
    from ledger.store.migrate import migrate_existing

    progress = Progress("decisions")
    async with _connection(dsn, read_only=False) as conn:
        # Run right after installing a new release, it brings the store to it first.
        await migrate_existing(conn)
        try:
            rebuilt = await rebuild.rebuild_decisions(conn, progress=progress)
        except rebuild.RebuildRefused as exc:
            raise CommandError(f"nothing rebuilt: {exc}") from None
    decided = rebuilt.decided
    progress.finish(f"decided {decided.events} events", decided.events)
    for difference in rebuilt.differences:
        print(f"rebuilt: {difference.describe()}")
    count = len(rebuilt.differences)
    if count:
        print(
            f"ok: the decision state is rebuilt from {decided.events} events "
            f"({count} value{'' if count == 1 else 's'} changed); it equals the fold"
        )
    else:
        print(f"ok: {decided.events} events decided again as stored; nothing to rebuild")
    return 0


async def export(dsn: str, out: str | None) -> int:
    """Write the log as NDJSON."""
    progress = Progress("export")
    async with _connection(dsn) as conn:
        with output_to(out) as stream:
            try:
                done = await export_log(conn, stream, progress=progress)
            except ExportError as exc:
                raise CommandError(f"export stopped: {exc}") from None
    progress.finish(
        f"exported {done.count} events; digest {done.head_position}:{done.head_hash}", done.count
    )
    return 0


@contextlib.contextmanager
def opened(path: str) -> Iterator[BinaryIO]:
    """An export file opened for reading, or a CommandError naming why it cannot be."""
    try:
        source = Path(path).open("rb")  # noqa: SIM115 - closed when the block ends
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    with source:
        yield source


async def import_file(
    dsn: str, source: BinaryIO, key_file: Path | None = None, *, without_log: bool = False
) -> int:
    """Load an export into the empty ledger (creating its schema first if needed)."""
    from ledger.store.migrate import migrate

    progress = Progress("import")
    async with _connection(dsn, read_only=False) as conn:
        await migrate(conn)
        try:
            done = await import_log(
                conn, source, progress=progress, key_file=key_file, without_log=without_log
            )
        except ImportRefused as exc:
            raise CommandError(f"nothing imported: {exc}") from None
    progress.finish(
        f"imported {done.count} events; digest {done.head_position}:{done.head_hash}", done.count
    )
    return 0
