"""Where a fold puts the packed documents it lets go of: a private temporary SQLite file.

A replay holds every read model's documents until the end, about 1.7 kB for each
guarantee and 200 bytes for each SME: on a store of a million events with 300 000
guarantees that is 700 MB of memory. Once the documents held pass a budget, the
fold writes them here and starts afresh; a document it needs again is read back.

SQLite with an empty file name is a database of the connection's own on disk that
nobody else can open and that is deleted when the connection closes (the fold that
holds it is let go of), so nothing is left behind by a replay that stops half-way.
Its B-tree also gives the documents back in key order, which is the order the state
file is written in (SQLite compares TEXT by its UTF-8 bytes, which orders as Python
orders the strings).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

PAGE_SIZE = 16384
"""Bytes in a page of the spill: documents of 300 to 800 bytes fit many to a page."""

PAGE_CACHE_KIB = 8192
"""SQLite's page cache: the spill's share of the replay's memory."""


class SpillError(Exception):
    """The spill could not be written (most often: no room left in the temporary directory)."""


class Spill:
    """The documents a fold has let go of, each read model's in a table of its own."""

    def __init__(self) -> None:
        """Open a private temporary database (nothing is written until documents are)."""
        db = sqlite3.connect("", isolation_level=None)
        for pragma in (
            f"page_size = {PAGE_SIZE}",
            "journal_mode = OFF",
            "synchronous = OFF",
            "locking_mode = EXCLUSIVE",
            f"cache_size = -{PAGE_CACHE_KIB}",
        ):
            db.execute(f"PRAGMA {pragma}")
        self._db = db
        self._models = 0

    def model(self) -> SpilledDocs:
        """A table of the spill for one more read model's documents."""
        self._models += 1
        spilled = SpilledDocs(self._db, self._models)
        spilled.create()
        return spilled


class SpilledDocs:
    """One read model's documents in the spill, as their packed JSON."""

    def __init__(self, db: sqlite3.Connection, model: int) -> None:
        """The documents of read model number `model` in `db`, in table docs_`model`."""
        table = f"docs_{model:d}"
        self._db = db
        self._create = f"CREATE TABLE {table} (key TEXT PRIMARY KEY, doc BLOB) WITHOUT ROWID"
        self._get = f"SELECT doc FROM {table} WHERE key = ?"  # noqa: S608 - docs_ and a number
        self._put = f"INSERT OR REPLACE INTO {table} VALUES (?, ?)"  # noqa: S608 - as above
        self._rows = f"SELECT key, doc FROM {table} ORDER BY key"  # noqa: S608 - as above

    def create(self) -> None:
        """Create the table (empty)."""
        self._db.execute(self._create)

    def get(self, key: str) -> bytes | None:
        """The packed document under `key`, or None."""
        row: tuple[bytes] | None = self._db.execute(self._get, (key,)).fetchone()
        return None if row is None else row[0]

    def put_all(self, packed: dict[str, bytes]) -> None:
        """Write (or overwrite) these documents, in key order.

        Without a journal nothing half-written can be undone: after a SpillError the
        spill, and the fold that holds it, cannot go on.
        """
        try:
            self._db.execute("BEGIN")
            # (key, document) pairs sort by key alone: no two have the same key.
            self._db.executemany(self._put, sorted(packed.items()))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise SpillError(
                f"the read models outgrew memory and could not be written to a temporary "
                f"file ({exc}); SQLite puts it in SQLITE_TMPDIR, else TMPDIR, else /var/tmp: "
                f"point one of them at a directory with room"
            ) from exc

    def rows(self, size: int) -> Iterator[list[tuple[str, bytes]]]:
        """Every (key, packed document) in key order, `size` at a time."""
        cursor = self._db.execute(self._rows)
        while batch := cursor.fetchmany(size):
            yield batch
