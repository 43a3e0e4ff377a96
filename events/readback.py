"""Reading stored event data back without the checks it passed when it was posted.

Every stored event was checked on the way in (patterns, ranges, credit-code check
characters, date order), and the hash chain proves its bytes unchanged since. So
reading it back checks only its shape: what replay, the read models and the event
feeds decode is each event's own data, at a fraction of the cost (the credit-code
check alone was a third of replaying an SME registration). It also keeps history
readable when an input check is tightened later: an event accepted under the old
check still reads back as what it was.

The classes read back are subclasses of the posted ones (the same fields in the same
order, so they encode to the same bytes and pass every isinstance test), with the
field constraints and `__post_init__` checks dropped. They compare and hash equal to
the posted class's instances with the same fields.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union

import msgspec

from events.payloads import PAYLOADS, PayloadBase


def plain(tp: Any) -> Any:
    """`tp` without its msgspec constraints (Annotated metadata), at any depth."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return plain(typing.get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return Union[tuple(plain(arg) for arg in typing.get_args(tp))]  # noqa: UP007
    if origin in (list, set, frozenset, dict):
        return origin[tuple(plain(arg) for arg in typing.get_args(tp))]
    return tp


def _no_checks(self: object) -> None:
    """Stored data was checked when it was posted."""


def trusting(cls: type[PayloadBase]) -> type[PayloadBase]:
    """A subclass of `cls` that decodes the same JSON into the same fields, unchecked."""

    def __eq__(self: PayloadBase, other: object) -> bool:
        if not isinstance(other, cls):
            return NotImplemented
        return msgspec.structs.asdict(self) == msgspec.structs.asdict(other)

    def __ne__(self: PayloadBase, other: object) -> bool:
        same = __eq__(self, other)
        return same if same is NotImplemented else not same

    def __hash__(self: PayloadBase) -> int:
        # The posted class's hash covers its type: build the posted value (which runs
        # its __post_init__ check, so data failing a later-tightened check is unhashable).
        return hash(cls(**msgspec.structs.asdict(self)))

    namespace: dict[str, Any] = {
        "__annotations__": {},
        "__post_init__": _no_checks,
        "__eq__": __eq__,
        "__ne__": __ne__,
        "__hash__": __hash__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    for field in msgspec.structs.fields(cls):
        namespace["__annotations__"][field.name] = plain(field.type)
        if field.default is not msgspec.NODEFAULT:
            namespace[field.name] = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            namespace[field.name] = msgspec.field(default_factory=field.default_factory)
    twin: type[PayloadBase] = types.new_class(
        cls.__name__,
        (cls,),
        {"frozen": True, "kw_only": True},
        lambda ns: ns.update(namespace),
    )
    return twin


READ_BACK: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(trusting(cls)) for name, cls in PAYLOADS.items()
}
"""By event type, the decoder of its stored data."""
