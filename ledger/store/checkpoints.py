"""Signed checkpoints: the active sealer signs each new tree size, at most every half second."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import structlog

from ledger.store import tree
from ledger.store.signed_memory import SignedMemory, SignedMemoryError
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Signer
from ledger.tlog.note import MAX_SIGNATURES, open_note, sign
from ledger.tlog.proofs import verify_consistency

log = structlog.get_logger(__name__)

SIGN_INTERVAL = 0.5
"""Seconds a grown log waits for its checkpoint at most (batching, never one per event)."""


@dataclass(frozen=True)
class Signed:
    """A stored checkpoint: its size, root and the log's signed note."""

    size: int
    root: bytes
    note: str


async def latest(conn: asyncpg.Connection | asyncpg.Pool) -> Signed | None:
    """The checkpoint of the largest size, if any."""
    row = await conn.fetchrow(
        "SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1"
    )
    return None if row is None else Signed(row["size"], bytes(row["root"]), row["note"])


async def at_size(conn: asyncpg.Connection | asyncpg.Pool, size: int) -> Signed | None:
    """The checkpoint signed at `size`, if any."""
    row = await conn.fetchrow("SELECT size, root, note FROM log_checkpoints WHERE size = $1", size)
    return None if row is None else Signed(row["size"], bytes(row["root"]), row["note"])


SERVED_COSIGNATURES = MAX_SIGNATURES - 1
"""Cosignatures served with a checkpoint at most: with the log's own signature, a note then
holds no more signatures than verifiers (the ledger's own among them) accept."""


async def with_cosignatures(conn: asyncpg.Connection | asyncpg.Pool, signed: Signed) -> str:
    """The checkpoint's note with the cosignatures received for it appended, the first
    SERVED_COSIGNATURES received."""
    lines = await conn.fetch(
        """SELECT line FROM log_cosignatures WHERE size = $1
            ORDER BY received_at, witness_id LIMIT $2""",
        signed.size,
        SERVED_COSIGNATURES,
    )
    return signed.note + "".join(r["line"] for r in lines)


class RefusedToSign(RuntimeError):
    """The tree is not consistent with the last checkpoint: the log must not sign it."""


class Checkpointer:
    """Signs a checkpoint for the tree's size once it has grown, after proving it consistent.

    Runs inside the active sealer (the holder of its lock), on its connection.
    """

    def __init__(
        self,
        signer: Signer,
        *,
        interval: float = SIGN_INTERVAL,
        memory: SignedMemory | None = None,
    ) -> None:
        self._signer = signer
        self._memory = memory
        self._interval = interval
        self._last: Signed | None = None
        self._grown_at: float | None = None
        # The checkpointer's own: tiles hashed for one checkpoint serve the next.
        self._tiles = tree.TileCache.sized(64)
        self.refusing: str | None = None
        """Why this sealer does not sign, when it does not."""

    @property
    def origin(self) -> str:
        """The log's origin: its key's name."""
        return self._signer.name

    async def start(self, conn: asyncpg.Connection) -> None:
        """Take up from the last stored checkpoint (checking it is the log's own)."""
        self._grown_at = None
        self.refusing = None
        self._last = await latest(conn)
        if self._last is not None:
            wrong = self._not_ours(self._last)
            if wrong is not None:
                # Sealing must go on; signing after a checkpoint not ours never does.
                self.refusing = f"stored checkpoint {self._last.size} is not the log's: {wrong}"
                log.error("checkpoint.refused", error=self.refusing)
                return
        try:
            await self._check_remembered(conn)
        except RefusedToSign as exc:
            self.refusing = str(exc)
            log.error("checkpoint.refused", error=self.refusing)

    async def _check_remembered(self, conn: asyncpg.Connection) -> None:
        """Say at once, not at the next signing, when the store is behind or beside what
        this service signed (a database restored from an older backup, rows removed)."""
        remembered = self._remembered()
        if remembered is None or remembered.size <= self.signed_size():
            return
        size = await tree.tree_size(conn)
        if size >= remembered.size:
            if await tree.root_at(conn, remembered.size, self._tiles) != remembered.root:
                raise RefusedToSign(
                    f"this service signed a checkpoint of size {remembered.size} "
                    f"({self._memory_path()}); the stored tree at that size has another "
                    "root: the store holds a second history"
                )
            return
        # Also after a crash between remembering a checkpoint and storing it, until the
        # sealer redoes its lost rounds; otherwise signing waits for a person.
        log.warning(
            "checkpoint.store_behind",
            remembered=remembered.size,
            stored=self.signed_size(),
            tree=size,
            memory=self._memory_path(),
            meaning="the store holds less than this service signed: restored from an "
            "older backup, or rounds lost in a crash the sealer redoes; posts are kept, "
            "and no checkpoint is signed until the tree extends the one remembered",
        )

    def _not_ours(self, stored: Signed) -> str | None:
        """Why a stored checkpoint is not one this log signed, or None when it is.

        The next checkpoint is proved consistent with the last one's root, so that root
        must be the one the log signed: the note's own text, not the row's columns beside
        it, which anyone who can write the table could change.
        """
        try:
            note, _ = open_note(stored.note, [self._signer.verifier()])
        except TlogError as exc:
            return str(exc)
        if note.text != Checkpoint(self.origin, stored.size, stored.root).text():
            return "its signed note states another origin, size or root than its row"
        return None

    async def _extends(
        self, conn: asyncpg.Connection, old: int, old_root: bytes, size: int, root: bytes, what: str
    ) -> None:
        proof = await tree.consistency_proof(conn, old, size, self._tiles)
        try:
            verify_consistency(old, size, old_root, root, proof)
        except TlogError as exc:
            raise RefusedToSign(
                f"the tree at {size} is not consistent with {what} {old}: {exc}"
            ) from exc

    def _remembered(self) -> Checkpoint | None:
        if self._memory is None:
            return None
        try:
            return self._memory.load()
        except SignedMemoryError as exc:
            raise RefusedToSign(str(exc)) from None

    def _memory_path(self) -> str:
        return "" if self._memory is None else str(self._memory.path)

    def signed_size(self) -> int:
        """The size of the last checkpoint signed (0 before any)."""
        return 0 if self._last is None else self._last.size

    async def after_round(self, conn: asyncpg.Connection, size: int) -> float | None:
        """Sign `size` if due; return seconds until a checkpoint is due, or None if none is."""
        if self.refusing is not None or size <= self.signed_size():
            self._grown_at = None
            return None
        now = time.monotonic()
        if self._grown_at is None:
            self._grown_at = now
        due = self._grown_at + self._interval
        if now < due:
            return due - now
        await self.sign(conn, size)
        self._grown_at = None
        return None

    async def sign(self, conn: asyncpg.Connection, size: int) -> Signed:
        """Sign the tree at `size` after proving it consistent with the last checkpoint stored
        and with the last this service signed (its memory, outside the database)."""
        root = await tree.root_at(conn, size, self._tiles)
        last = self._last
        if last is not None and last.size < size:
            await self._extends(conn, last.size, last.root, size, root, "checkpoint")
        remembered = self._remembered()
        if remembered is not None:
            if remembered.size > size or (remembered.size == size and remembered.root != root):
                raise RefusedToSign(
                    f"this service signed a checkpoint of size {remembered.size} "
                    f"({self._memory_path()}); the stored tree at {size} does not extend it: "
                    "checkpoints were removed or the tree rewritten"
                )
            if remembered.size < size:
                await self._extends(
                    conn, remembered.size, remembered.root, size, root, "the remembered checkpoint"
                )
        checkpoint = Checkpoint(self.origin, size, root)
        note = sign(checkpoint.text(), [self._signer])
        if self._memory is not None and (remembered is None or remembered.size < size):
            # Remembered before it is stored or served: after a crash the service still
            # holds itself to what it may have signed. Unable to remember, it signs nothing
            # (sealing goes on). Its two fsyncs run off the event loop, which serves posts.
            try:
                await asyncio.to_thread(self._memory.save, checkpoint)
            except OSError as exc:
                raise RefusedToSign(
                    f"cannot remember checkpoint {size} in {self._memory.path}: {exc}"
                ) from None
        # The sealer's connection commits its rounds without waiting for the WAL flush
        # (a lost round is redone identically), but a checkpoint, once served, must never
        # be lost: it commits durably, which also flushes the rounds it covers.
        async with conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = on")
            stored = await conn.fetchrow(
                """INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, $3)
                   ON CONFLICT (size) DO NOTHING RETURNING size""",
                size,
                root,
                note,
            )
        if stored is None:
            # Signed already (by a sealer active before this one): keep the stored one.
            existing = await at_size(conn, size)
            if existing is None or existing.root != root or self._not_ours(existing):
                raise RefusedToSign(f"a different checkpoint of size {size} is stored")
            self._last = existing
        else:
            self._last = Signed(size, root, note)
            log.info("checkpoint.signed", size=size)
        return self._last
