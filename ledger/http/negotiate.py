"""Choosing an answer's media type from the request's Accept header (RFC 9110 §12.5.1)."""

from __future__ import annotations

import math
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
                    number = float(value.strip())
                except ValueError:
                    number = 1.0
                # A weight that is no finite number is ignored, not the range.
                weight = min(max(number, 0.0), 1.0) if math.isfinite(number) else 1.0
        found.append((media.lower(), weight))
    return found


def _weight(offered: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int]:
    """The weight of the most specific range matching `offered` (0 when none does), how
    specific it is (named exactly beats a wildcard on a tie), and where it stands in the
    header (earlier wins what is left of a tie)."""
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
    return (0.0, 0, 0) if best is None else (best[1], best[0], best[2])


def preferred(request: web.Request, offered: Sequence[str]) -> str:
    """Which of `offered` the client prefers: the highest weight above 0; on a tie, the
    one it names exactly rather than by a wildcard, then the one it names first, then
    the first offered. With no Accept, or none of them acceptable, the first offered
    (the header may be disregarded, RFC 9110)."""
    ranges = _ranges(request.headers.get("Accept", ""))
    if not ranges:
        return offered[0]
    scored = [(*_weight(media, ranges), order, media) for order, media in enumerate(offered)]
    acceptable = [s for s in scored if s[0] > 0]
    if not acceptable:
        return offered[0]
    acceptable.sort(key=lambda s: (-s[0], -s[1], s[2], s[3]))
    return acceptable[0][4]
