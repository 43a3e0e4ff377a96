"""Server-sent events read incrementally from bytes (the WHATWG event-stream format)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event: its id (the ledger's position), type and data."""

    id: str | None
    event: str
    data: str


@dataclass(frozen=True)
class SseComment:
    """A comment line (the ledger sends one as a heartbeat on an idle stream)."""

    text: str


class SseParser:
    """Turns the bytes of an event stream, in chunks of any size, into events and comments."""

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self.last_id: str | None = None
        """The last event id seen (what a reconnection sends as Last-Event-ID)."""
        self.retry_ms: int | None = None
        """The reconnection delay the server asked for, if any."""

    def feed(self, chunk: bytes) -> list[SseEvent | SseComment]:
        """Parse `chunk`; return what it completed, in order."""
        out: list[SseEvent | SseComment] = []
        data, held = self._pending + chunk, b""
        if data.endswith(b"\r"):
            # Maybe the first half of a CRLF split across chunks: decide with the next one.
            data, held = data[:-1], b"\r"
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *complete, rest = lines.split(b"\n")
        self._pending = rest + held
        for raw in complete:
            item = self._line(raw.decode("utf-8", errors="replace"))
            if item is not None:
                out.append(item)
        return out

    def _line(self, line: str) -> SseEvent | SseComment | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return SseComment(line[1:].lstrip(" "))
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if self._id is not None:
            self.last_id = self._id
        data, event, self._data, self._event = self._data, self._event, [], ""
        if not data:
            return None
        return SseEvent(id=self.last_id, event=event or "message", data="\n".join(data))
