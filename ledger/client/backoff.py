"""How long the client waits before trying a request again, and how many times."""

from __future__ import annotations

import random

LONGEST_ASKED = 60.0
"""Longest Retry-After the client waits for (a longer one is waited this long)."""


class Backoff:
    """Bounded exponential backoff with jitter: how many tries, and how long between them."""

    def __init__(self, retries: int = 5, first: float = 0.1, most: float = 2.0) -> None:
        """At most `retries` retries; waits start at `first` s and never exceed `most` s."""
        self.retries = retries
        self.first = first
        self.most = most

    def delay(self, attempt: int, asked: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based); `asked`: Retry-After,
        honoured up to LONGEST_ASKED even where it is longer than `most`."""
        wait = min(self.most, self.first * 2.0**attempt) * (0.5 + random.random() / 2)  # noqa: S311
        return max(wait, min(asked or 0.0, LONGEST_ASKED))
