"""Refusals of posted input: malformed JSON, and field errors located by JSON path."""

from __future__ import annotations

import re

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One problem with posted input: where it is (a JSON path) and what is wrong."""

    path: str
    message: str


class MalformedJson(ValueError):
    """The body is not JSON the ledger can read at all."""

    def __init__(self, detail: str) -> None:
        """Record why the body could not be read."""
        super().__init__(detail)
        self.detail = detail


class TooManyEvents(ValueError):
    """A post carries more events than one post may (the body is over the limit)."""

    def __init__(self, detail: str) -> None:
        """Record how many were sent, and the limit."""
        super().__init__(detail)
        self.detail = detail


class InvalidEvents(ValueError):
    """The body is JSON but one or more events in it are invalid."""

    def __init__(self, errors: list[FieldError]) -> None:
        """Record every problem found, each with its path."""
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


def field_problem(field: str, message: str) -> ValueError:
    """Build the ValueError a struct's __post_init__ raises to blame one of its fields."""
    # msgspec reports __post_init__ errors at the struct's path; the "field: " prefix
    # lets field_error() point at the field itself. msgspec's own messages never
    # start with a lower-case identifier and a colon, so the two cannot be confused.
    return ValueError(f"{field}: {message}")


_AT = re.compile(r"^(?P<msg>.*?) - at `(?P<key>key` in `)?(?P<path>\$[^`]*)`$", re.DOTALL)
_FIELD = re.compile(r"^(?P<field>[a-z_][a-z0-9_]*): (?P<msg>.*)$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`$", re.DOTALL)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXACT_END = re.compile(r"(matching regex '[^']*?)\\\\Z'")
"""The end of msgspec's message for a pattern written by events.types.exact."""


def as_published(message: str) -> str:
    """msgspec's `message`, naming a pattern as the API publishes it (`$`, not `\\Z`)."""
    return _EXACT_END.sub(r"\1$'", message)


def member_path(path: str, name: str) -> str:
    """Return the JSON path of an object member: `$.a.b`, or `$.a["odd name"]`."""
    if _PLAIN_NAME.match(name):
        return f"{path}.{name}"
    return f"{path}[{msgspec.json.encode(name).decode()}]"


MAX_MESSAGE = 300
"""Longest message kept: messages may quote posted values, which can be huge."""


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """Cut text to at most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_error(exc: msgspec.ValidationError, prefix: str = "$") -> FieldError:
    """Turn a msgspec validation error into a FieldError whose path starts with prefix."""
    text = str(exc)
    m = _AT.match(text)
    if m is None:
        message, path = text, prefix
    else:
        message, path = m["msg"], prefix + m["path"][1:]
    message = as_published(message)
    if m is not None and m["key"]:
        return FieldError(path=path, message=shorten(f"{message} (object key)"))
    if fm := _FIELD.match(message):
        return FieldError(path=member_path(path, fm["field"]), message=shorten(fm["msg"]))
    if fm := _MISSING.match(message):
        return FieldError(path=member_path(path, fm["field"]), message="required field is missing")
    if fm := _UNKNOWN.match(message):
        return FieldError(path=member_path(path, shorten(fm["field"], 80)), message="unknown field")
    return FieldError(path=path, message=shorten(message))
