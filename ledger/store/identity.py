"""The log's identity: its origin and signing key, fixed when the store is first started.

The signing key lives in a file (mode 0600), never in the database; the store
records only the verifier key, so an instance given another key refuses to start.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

from ledger.secret_files import write_new_secret
from ledger.store.signed_memory import SignedMemory, SignedMemoryError, memory_path
from ledger.tlog.errors import NoteError
from ledger.tlog.keys import ED25519, Signer, generate_signer, parse_signer

log = structlog.get_logger(__name__)

ORIGIN_PREFIX = "guarantee-ledger/"


class IdentityError(RuntimeError):
    """The signing key or origin given does not fit this store; the message says what to do."""


@dataclass(frozen=True)
class LogIdentity:
    """What the store records: the origin and the verifier key."""

    origin: str
    verifier_key: str


def default_origin() -> str:
    """`guarantee-ledger/` and 16 random hex digits."""
    return ORIGIN_PREFIX + secrets.token_hex(8)


def read_key_file(path: Path) -> Signer:
    """The signer in `path`; IdentityError if unreadable or not a signed-note private key."""
    # Another instance may be writing it this very moment (a new store): wait briefly.
    for _ in range(50):
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise IdentityError(f"cannot read the log signing key {path}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise IdentityError(
                f"{path} is not a signed-note private key: it is not UTF-8 text"
            ) from None
        if text:
            break
        time.sleep(0.1)
    try:
        signer = parse_signer(text)
    except NoteError as exc:
        raise IdentityError(f"{path} is not a signed-note private key: {exc}") from None
    if signer.alg != ED25519:
        raise IdentityError(f"{path} is not an Ed25519 log key (type 0x01)")
    _warn_if_readable(path)
    return signer


def _warn_if_readable(path: Path) -> None:
    """Say so when others than its owner may read the log's private key (it is made 0600)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "log_key.readable_by_others",
            path=str(path),
            mode=oct(mode & 0o777),
            fix=f"chmod 600 {path}",
        )


def create_key_file(path: Path, origin: str) -> Signer:
    """A new key named `origin` written to `path` (mode 0600); an existing file is read instead."""
    signer = generate_signer(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_new_secret(path, signer.encode() + "\n")
    except FileExistsError:
        return read_key_file(path)
    return signer


async def recorded(conn: asyncpg.Connection | asyncpg.Pool) -> LogIdentity | None:
    """The identity the store recorded, if it has one yet."""
    row = await conn.fetchrow("SELECT origin, verifier_key FROM log_identity")
    return None if row is None else LogIdentity(row["origin"], row["verifier_key"])


_SEGMENT_FIRST = r"(?:[A-Za-z0-9\-._~!$&'()*,;=@]|%[0-9A-Fa-f]{2})"
_SEGMENT_NEXT = r"(?:[A-Za-z0-9\-._~!$&'()*,;=@:]|%[0-9A-Fa-f]{2})"
_HOST_PORT = r"[A-Za-z][A-Za-z0-9.\-]*:[0-9]+"
_NEW_ORIGIN = re.compile(rf"(?:{_HOST_PORT}|{_SEGMENT_FIRST}+)(?:/{_SEGMENT_NEXT}*)*")
"""A schema-less URL (C2SP tlog-checkpoint) that is also a URI-reference, each
CloudEvent's `source`: RFC 3986's path-noscheme, or a host and port first (which
parses as a scheme and a path); without '+' (no key name holds one)."""


def check_new_origin(origin: str) -> None:
    """Refuse an origin a new store's log could not be named by."""
    if not _NEW_ORIGIN.fullmatch(origin):
        raise IdentityError(
            f"LEDGER_LOG_ORIGIN {origin!r} cannot name a new log: give a schema-less URL "
            "such as ledger.example.com/guarantees (ASCII letters, digits, - . _ ~ ! $ & "
            "' ( ) * , ; = @ and %XX escapes, segments joined by '/', ':' only after "
            "the first or in a host:port first); it names the log in every checkpoint "
            "and is each CloudEvent's source"
        )


def signer_for(key_file: Path, known: LogIdentity | None, origin: str | None) -> Signer:
    """The key to sign with: read (or, for a store with no identity yet, created) and checked."""
    if known is None:
        if key_file.exists():
            signer = read_key_file(key_file)
        else:
            if origin is not None:
                check_new_origin(origin)
            signer = create_key_file(key_file, origin or default_origin())
        if origin is not None and signer.name != origin:
            raise IdentityError(
                f"the signing key in {key_file} is named {signer.name}, "
                f"not LEDGER_LOG_ORIGIN {origin}"
            )
        return signer
    if not key_file.exists():
        raise IdentityError(
            f"this store's log is signed by {known.verifier_key}, but its signing key file "
            f"{key_file} does not exist: set LEDGER_SIGNING_KEY_FILE to that key's file"
        )
    return read_key_file(key_file)


def check_fits(signer: Signer, known: LogIdentity, key_file: Path, origin: str | None) -> None:
    """Refuse a key other than the one the store recorded, or another origin."""
    if signer.verifier().encode() != known.verifier_key:
        raise IdentityError(
            f"the signing key in {key_file} is not this store's log key "
            f"{known.verifier_key}: refusing to start"
        )
    if origin is not None and origin != known.origin:
        raise IdentityError(
            f"LEDGER_LOG_ORIGIN is {origin}, but this store's log is {known.origin}"
        )


async def establish(conn: asyncpg.Connection, key_file: Path, origin: str | None) -> Signer:
    """The log's signer for this store: recorded on first start, checked on every other."""
    known = await recorded(conn)
    if known is None:
        await _refuse_signed_store_without_identity(conn)
    signer = signer_for(key_file, known, origin)
    if known is None:
        await _refuse_key_of_another_log(conn, key_file, signer)
        await conn.execute(
            """INSERT INTO log_identity (origin, verifier_key) VALUES ($1, $2)
               ON CONFLICT (one) DO NOTHING""",
            signer.name,
            signer.verifier().encode(),
        )
        known = await recorded(conn)
        assert known is not None
    check_fits(signer, known, key_file, origin)
    return signer


async def _refuse_signed_store_without_identity(conn: asyncpg.Connection) -> None:
    """A store whose log was signed, but which no longer records by whom, gets no new key.

    That is a partial restore (every table but `log_identity`): a new key would give
    the same log a second identity and bind the store to it for good.
    """
    signed = await conn.fetchval("SELECT max(size) FROM log_checkpoints")
    if signed is not None:
        raise IdentityError(
            f"this store holds checkpoints signed up to size {signed}, but not the log's "
            "identity (its log_identity table is empty, as after a partial restore): "
            "restore log_identity from the same backup as the rest; no new key is made "
            "for a log already signed"
        )


async def _refuse_key_of_another_log(
    conn: asyncpg.Connection, key_file: Path, signer: Signer
) -> None:
    """A new, empty store does not take a key that has signed another store's log.

    Its `.last-signed` file says it has: the new store would share that log's name and
    key (two histories under one identity), and never sign, since its tree does not
    extend what the key signed. A store that holds events already (an export imported
    without its log) is that log, and takes its key.
    """
    memory = memory_path(key_file)
    try:
        signed = SignedMemory(memory, signer.name).load()
    except SignedMemoryError:
        return  # the service's own start says what is wrong with the file
    if signed is None or await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)"):
        return
    raise IdentityError(
        f"the signing key in {key_file} has signed another store's log {signer.name} "
        f"(up to size {signed.size}, {memory}), and this store is new: give it a key of its "
        "own (LEDGER_SIGNING_KEY_FILE naming a file that does not exist yet, where one is "
        "made), or load that log into it with `ledger audit import`"
    )
