"""Documents held as compact JSON between events, so a fold of a large log stays small."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from projections.base import Doc, Docs
from projections.spill import SpilledDocs

_ENCODE = msgspec.json.Encoder(order="deterministic")
_DECODE = msgspec.json.Decoder(dict)


def pack(doc: Doc, buffer: bytearray) -> bytes:
    """`doc` as canonical JSON, in a bytes object of exactly its size.

    Encoded straight to bytes, a small document keeps the larger block its encoder
    grew into (CPython's allocator does not move a block that shrinks by less than a
    quarter): a 78-byte SME exposure document sat in a 112-byte block, 32 MB over a
    million SMEs. Encoded into a reused buffer and copied out, it takes 80.
    """
    _ENCODE.encode_into(doc, buffer)
    return bytes(buffer)


SMALL = 512
"""Packed documents up to this size are looked up among those packed lately: several read
models hold the same per-guarantee document, and many guarantees the same small one
(their claims' parties). Larger ones are seldom equal to another and cost more to hash."""

HELD_PER_KEY = 160
"""What a packed document costs in memory beyond its JSON: its bytes object's header, its
key and the key's slot in the dict (measured at about 100 to 190 bytes)."""

SPILLED_ROWS = 4096
"""Spilled documents read back in one go when all of them are listed."""

RECENT = 1 << 16
"""How many small documents Sharing remembers before it starts again."""


class Sharing:
    """What the documents of several read models, settled together, hold once.

    A key names the same guarantee in every read model that keeps one, and a
    guarantee's balance document is the same in three of them: held once, a key and
    a document cost 60 to 300 bytes less each time. Both are immutable, so sharing
    them changes nothing any read model holds.
    """

    def __init__(self) -> None:
        """Start with nothing settled."""
        self._keys: dict[str, str] = {}
        self._small: dict[bytes, bytes] = {}

    def key(self, key: str) -> str:
        """The one object for `key` in this settling."""
        return self._keys.setdefault(key, key)

    def raw(self, raw: bytes) -> bytes:
        """The bytes object of an equal small document packed lately, else `raw`."""
        if len(raw) > SMALL:
            return raw
        return self._small.setdefault(raw, raw)

    def done(self) -> None:
        """End a settling: its keys are let go, and the small documents every so often."""
        self._keys.clear()
        if len(self._small) > RECENT:
            self._small.clear()


class PackedDocs(Docs):
    """Docs that hold each document as its canonical JSON bytes (keys sorted, no spaces).

    A document an apply looks up is unpacked into a dict and stays one, so applies see
    and change it as with plain Docs, until `settle` packs the changed ones again. A
    document is what its JSON says, exactly as the runner reads it back from jsonb, so
    packing changes no read model; it takes a fraction of the memory of nested dicts.
    """

    def __init__(self) -> None:
        """Start empty."""
        super().__init__()
        self._packed: dict[str, bytes] = {}
        self._spilled: SpilledDocs | None = None
        self.held = 0
        """About how many bytes the packed documents held in memory take (see HELD_PER_KEY)."""
        self.keep_rows = False
        """Whether emitted rows are kept (for `take_rows`), as when comparing row tables."""

    def peek(self, key: str) -> Doc | None:
        """The document under `key` (unpacked for the applies to come), or None."""
        doc = self._docs.get(key)
        if doc is None:
            raw = self.raw(key)
            if raw is not None:
                doc = self._docs[key] = _DECODE.decode(raw)
        return doc

    get = peek

    def emit(self, row: tuple[Any, ...]) -> None:
        """Rows are for the SQL tables: an in-memory fold keeps documents only, unless told
        to keep them (`keep_rows`) until taken."""
        if self.keep_rows:
            self.rows.append(row)

    def settle(self, sharing: Sharing | None = None) -> None:
        """Pack every changed document, and let go of the unpacked ones.

        Call only between events: an apply may change a document after `put` (and
        always `put`s what it changes, so nothing changed is ever let go unpacked).
        With `sharing`, documents settled with these hold one key object per key and
        one bytes object per small document (see Sharing).
        """
        packed = self._packed
        buffer = bytearray()
        held = self.held
        for key in self.changed:
            raw = pack(self._docs[key], buffer)
            before = packed.get(key)
            held += len(raw) - len(before) if before is not None else len(raw) + HELD_PER_KEY
            if sharing is None:
                packed[key] = raw
            else:
                packed[sharing.key(key)] = sharing.raw(raw)
        self.held = held
        self.changed.clear()
        self._docs.clear()

    def spill(self, spilled: SpilledDocs) -> None:
        """Write the packed documents held in memory to `spilled`, and let go of them.

        Call only after `settle`. From then on a document not held in memory is looked
        up there; one changed again is held in memory until the next spill.
        """
        spilled.put_all(self._packed)
        self._spilled = spilled
        self._packed = {}
        self.held = 0

    def packed(self, size: int) -> Iterator[dict[str, msgspec.Raw]]:
        """Every document as its canonical JSON, by key in key order, `size` at a time.

        Call `settle` first. Each slice is a dict that encodes to a JSON object of
        those documents in one call (keys sorted alone: pairs would cost a tuple each).
        """
        if self._spilled is not None:
            # Some are on disk: put the rest with them, and read them back in order.
            self.spill(self._spilled)
            for rows in self._spilled.rows(size):
                yield {key: msgspec.Raw(raw) for key, raw in rows}
            return
        packed = self._packed
        keys = sorted(packed)
        for start in range(0, len(keys), size):
            yield {key: msgspec.Raw(packed[key]) for key in keys[start : start + size]}

    def raw_keys(self) -> Iterator[str]:
        """The key objects the packed documents held in memory are held under."""
        return iter(self._packed)

    def raw(self, key: str) -> bytes | None:
        """The canonical JSON `key` was last settled as, or None."""
        raw = self._packed.get(key)
        if raw is None and self._spilled is not None:
            raw = self._spilled.get(key)
        return raw

    def items(self) -> Iterator[tuple[str, Doc]]:
        """Every (key, document), unpacked afresh where not held as a dict."""
        held = self._docs
        packed = self._packed
        if self._spilled is not None:
            for rows in self._spilled.rows(SPILLED_ROWS):
                for key, raw in rows:
                    if key not in held and key not in packed:
                        yield key, _DECODE.decode(raw)
        for key, raw in packed.items():
            if key not in held:
                yield key, _DECODE.decode(raw)
        yield from held.items()
