"""Writing a replayed state as indented JSON, a slice of documents at a time.

The file is `{"position": N, "read_models": {name: {key: document}}}` with keys
sorted and an indent of 2: the bytes `msgspec.json.format(encode(state), indent=2)`
would give for the whole state, written without ever holding the whole state
as one object, so writing a ledger of millions of documents stays small.
"""

from __future__ import annotations

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
    out.write(b'{\n  "position": %d,\n  "read_models": {' % fold.position)
    names = sorted(fold.docs)
    for n, name in enumerate(names):
        out.write(b",\n" if n else b"\n")
        out.write(b"    " + msgspec.json.encode(name) + b": {")
        _write_docs(fold.docs[name], out)
        out.write(b"}")
    out.write(b"\n  }\n}\n" if names else b"}\n}\n")


def _write_docs(docs: PackedDocs, out: BinaryIO) -> None:
    # Between the braces of one read model: nothing when it is empty (`{}`), else one
    # member per line, each document formatted as it would be inside the whole state.
    first = True
    for chunk in docs.packed(SLICE):
        formatted = msgspec.json.format(msgspec.json.encode(chunk), indent=2)
        # "{\n  member,\n  member\n}" -> "      member,\n      member"
        body = formatted[1:-2].replace(b"\n", _DOC_INDENT)
        out.write(body if first else b"," + body)
        first = False
    if not first:
        out.write(b"\n    ")
