"""The client's event-stream parser: events, comments and ids, whatever the chunking."""

from __future__ import annotations

from ledger.client.sse import SseComment, SseEvent, SseParser

STREAM = (
    b"retry: 1000\n\n"
    b'id: 1\nevent: guarantee.issued\ndata: {"a": 1}\n\n'
    b": keep-alive\n\n"
    b"id: 2\r\nevent: loan.repaid\r\ndata: line one\r\ndata: line two\r\n\r\n"
)


def _parse(chunks: list[bytes]) -> tuple[SseParser, list[SseEvent | SseComment]]:
    parser = SseParser()
    out: list[SseEvent | SseComment] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return parser, out


def test_events_comments_and_retry_are_read_in_order() -> None:
    parser, out = _parse([STREAM])
    assert out == [
        SseEvent(id="1", event="guarantee.issued", data='{"a": 1}'),
        SseComment("keep-alive"),
        SseEvent(id="2", event="loan.repaid", data="line one\nline two"),
    ]
    assert parser.retry_ms == 1000
    assert parser.last_id == "2"


def test_any_chunking_gives_the_same_events() -> None:
    _, whole = _parse([STREAM])
    for size in (1, 2, 3, 7, 64):
        chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
        assert _parse(chunks)[1] == whole


def test_an_unfinished_event_is_not_dispatched() -> None:
    _, out = _parse([b"id: 5\ndata: x\n"])
    assert out == []
