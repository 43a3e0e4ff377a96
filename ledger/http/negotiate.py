"""Choosing an answer's media type from the request's Accept header (RFC 9110 §12.5.1)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights, in the order sent."""
    found: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    weight = 1.0  # a weight that is no number is ignored, not the range
        found.append((media.lower(), weight))
    return found


def _weight(offered: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The weight of the most specific range matching `offered` (0 when none does), and
    where that range stands in the header (earlier wins a tie)."""
    kind = offered.split("/")[0]
    best: tuple[int, float, int] | None = None
    for index, (media, weight) in enumerate(ranges):
        if media == offered:
            specificity = 2
        elif media == f"{kind}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, weight, index)
    return (0.0, 0) if best is None else (best[1], best[2])


def preferred(request: web.Request, offered: Sequence[str]) -> str:
    """Which of `offered` the client prefers: the highest weight above 0, the one named
    first in Accept on a tie, else the first offered. With no Accept, or none of them
    acceptable, the first offered (the header may be disregarded, RFC 9110)."""
    accept = request.headers.get("Accept", "")
    ranges = _ranges(accept)
    if not ranges:
        return offered[0]
    scored = [(_weight(media, ranges), order, media) for order, media in enumerate(offered)]
    acceptable = [(w, at, order, media) for (w, at), order, media in scored if w > 0]
    if not acceptable:
        return offered[0]
    acceptable.sort(key=lambda s: (-s[0], s[1], s[2]))
    return acceptable[0][3]
