"""Why a posted event is refused, in the problem vocabulary of the HTTP API."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A rule refused an event; nothing of the post is stored."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        path: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.path = path
        self.extra = dict(extra or {})

    def at(self, prefix: str) -> Refusal:
        """The same refusal, located inside a batch (`$[3]`)."""
        path = None if self.path is None else prefix + self.path.removeprefix("$")
        where = f"{prefix}: " if prefix != "$" else ""
        refusal = Refusal(self.status, self.slug, where + self.detail, path=path, extra=self.extra)
        return refusal


def invalid_state(detail: str, **extra: Any) -> Refusal:
    """409 invalid-state: state machine, duplicate ids, unknown referenced ids."""
    return Refusal(409, "invalid-state", detail, extra=extra)


def forbidden(detail: str) -> Refusal:
    """403 forbidden: the key's role may not post this event."""
    return Refusal(403, "forbidden", detail)


def invalid_value(path: str, detail: str) -> Refusal:
    """422 validation-error for a value that breaks the program's terms."""
    return Refusal(422, "validation-error", detail, path=path)
