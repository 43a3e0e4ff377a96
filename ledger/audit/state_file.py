"""Writing a replayed state as indented JSON, a slice of documents at a time.

The file is `{"position": N, "read_models": {name: {key: document}}}` with keys
sorted and an indent of 2: the bytes `msgspec.json.format(encode(state), indent=2)`
would give for the whole state, written without ever holding the whole state
as one object, so writing a ledger of millions of documents stays small.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Collection, Mapping
from pathlib import Path
from typing import BinaryIO

import msgspec

from projections.fold import Fold
from projections.packed import PackedDocs

SLICE = 4096
"""Documents formatted in one go: enough to make formatting cheap, few enough to stay small."""

_DOC_INDENT = b"\n" + b" " * 4
# Documents sit 3 levels deep (6 spaces); a slice formatted on its own puts them at 1.


def write_state(fold: Fold, out: BinaryIO) -> None:
    """Write every read model's documents, by projection and key, as of the fold's position."""
    fold.settle()
    names = sorted(fold.docs)
    out.write(_HEAD % fold.position)
    for n, name in enumerate(names):
        out.write(_member(n, name))
        write_docs(fold.docs[name], out)
        out.write(b"}")
    out.write(_TAIL if names else _EMPTY_TAIL)


async def write_state_parted(
    fold: Fold,
    out: BinaryIO,
    later: Collection[str],
    rest: Callable[[], Awaitable[Mapping[str, Path]]],
) -> None:
    """`write_state` of `fold` and of the read models `later`, folded to the same position
    by another process (ledger/audit/replay_parts.py): `rest()` gives the files it wrote
    them to (each what `write_docs` writes), and is awaited only once the file reaches
    the first of them, so the read models held here are written meanwhile."""
    fold.settle()
    names = sorted({*fold.docs, *later})
    out.write(_HEAD % fold.position)
    files: Mapping[str, Path] | None = None
    for n, name in enumerate(names):
        out.write(_member(n, name))
        if name in fold.docs:
            write_docs(fold.docs[name], out)
        else:
            files = await rest() if files is None else files
            with files[name].open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
        out.write(b"}")
    out.write(_TAIL if names else _EMPTY_TAIL)


_HEAD = b'{\n  "position": %d,\n  "read_models": {'
_TAIL = b"\n  }\n}\n"
_EMPTY_TAIL = b"}\n}\n"


def _member(n: int, name: str) -> bytes:
    return (b",\n" if n else b"\n") + b"    " + msgspec.json.encode(name) + b": {"


def write_docs(docs: PackedDocs, out: BinaryIO) -> None:
    """What stands between the braces of one read model in the state file: nothing when
    it is empty (`{}`), else one member per line, each document formatted as it would
    be inside the whole state. Call after the fold's `settle`."""
    first = True
    for chunk in docs.packed(SLICE):
        formatted = msgspec.json.format(msgspec.json.encode(chunk), indent=2)
        # "{\n  member,\n  member\n}" -> "      member,\n      member"
        body = formatted[1:-2].replace(b"\n", _DOC_INDENT)
        out.write(body if first else b"," + body)
        first = False
    if not first:
        out.write(b"\n    ")
