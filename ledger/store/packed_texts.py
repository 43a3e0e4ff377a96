"""A column of texts sent as one text parameter and split back in SQL.

asyncpg encodes a list parameter element by element, testing each element
against `collections.abc` on the way: about a microsecond an array and a few
tenths of one an element, where one text is copied whole. PostgreSQL splits the
text back (`string_to_array`) for about what decoding the array cost it. A post's
two calls carry some thirty columns of ids (ledger_prepare, ledger_append), and a
round of the read-model runner hundreds of keys and documents: packed, they cost
the service and the runner less, and the appending backend a few per cent more
(docs/performance.md, "What profiling found").

`pack` writes a separator first and then each element behind one: the separator
is a character no element holds, so the split gives back exactly the elements
(an empty column packs to the empty text). `unpacked` is the SQL that splits a
packed parameter back into a text[]; columns holding NULLs stay arrays.
"""

from __future__ import annotations

from collections.abc import Collection

_SEPARATORS = "\x1f\x1e\x1d\x1c"
"""Tried in turn: control characters, which no id and no JSON document holds."""


def pack(items: Collection[str]) -> str:
    """`items` as one text: a separator held by none of them, then each behind one."""
    if not items:
        return ""
    for separator in _SEPARATORS:
        text = separator + separator.join(items)
        if text.count(separator) == len(items):
            return text
    return _pack_rare(list(items))


def _pack_rare(items: list[str]) -> str:
    """Packed with the lowest character none of `items` holds (their texts hold every
    control character tried first)."""
    held = set("".join(items))
    separator = next(
        chr(code)
        for code in range(1, 0x110000)
        if chr(code) not in held and not 0xD800 <= code <= 0xDFFF
    )
    return separator + separator.join(items)


def unpacked(parameter: str) -> str:
    """SQL for the text[] a packed `parameter` (such as "$2") holds: split at its first
    character, and the empty text before that character dropped."""
    return f"(string_to_array({parameter}, left({parameter}, 1)))[2:]"


def call(function: str, arity: int, packed: Collection[int]) -> str:
    """`SELECT * FROM function($1, ..., $arity)`, with the parameters numbered in `packed`
    passed packed and unpacked in the call."""
    arguments = ", ".join(
        unpacked(f"${n}") if n in packed else f"${n}" for n in range(1, arity + 1)
    )
    return f"SELECT * FROM {function}({arguments})"  # noqa: S608 - names and numbers only
