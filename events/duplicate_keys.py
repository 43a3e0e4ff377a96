"""Keys that appear twice in one JSON object: refused by path, never resolved by the last one.

JSON leaves an object with a repeated key undefined, and decoders differ on it
(most keep the last value, some the first). A ledger that stored what its own
decoder happened to keep could record an amount the poster's software did not
mean, so a body with a repeated key, at any depth, is refused.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from events.errors import FieldError, member_path, shorten

_ANY = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()


class _Members(list[tuple[str, Any]]):
    """An object's members in the order posted, repeated keys kept."""


def duplicate_key_errors(body: bytes | msgspec.Raw, prefix: str = "$") -> list[FieldError]:
    """One error per key that appears more than once in an object of `body` (a JSON text that
    msgspec reads), at that key's path under `prefix`; empty when there is none."""
    if not _may_repeat_a_key(body):
        return []
    try:
        tree = json.loads(bytes(body), object_pairs_hook=_Members)
    except (ValueError, RecursionError):
        return []  # not JSON Python reads; whatever is wrong is reported by the decoder
    return _repeated(tree, prefix)


def _may_repeat_a_key(body: bytes | msgspec.Raw) -> bool:
    # The fast answer, for every post: decoding into dicts keeps one member per
    # key, so re-encoded the body has as many colons outside strings as it had
    # members left. Colons inside strings are kept as they are, and a colon can
    # only appear anew from the escape \u003a: without one, the re-encoding has
    # fewer colons exactly when a member was dropped. About 2 us for a post.
    raw = body if isinstance(body, bytes) else bytes(body)
    if b"\\u003" in raw:  # \u003a, or a digit or sign as rarely escaped: read it all
        return True
    try:
        again = _ENCODER.encode(_ANY.decode(raw))
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return True
    return again.count(b":") != raw.count(b":")


def _repeated(tree: Any, prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []
    # Depth first with a stack, in document order: deep nesting needs no recursion.
    stack: list[tuple[str, Any]] = [(prefix, tree)]
    while stack:
        path, node = stack.pop()
        children: list[tuple[str, Any]] = []
        if isinstance(node, _Members):
            seen: set[str] = set()
            reported: set[str] = set()
            for key, value in node:
                if key in seen and key not in reported:
                    reported.add(key)
                    errors.append(FieldError(path=member_path(path, key), message=_said(key)))
                seen.add(key)
                children.append((member_path(path, key), value))
        elif isinstance(node, list):
            children = [(f"{path}[{i}]", item) for i, item in enumerate(node)]
        stack.extend(reversed(children))
    return errors


def _said(key: str) -> str:
    return f"key {shorten(key, 80)!r} appears more than once in this object; send it once"
