"""Progress lines for long audit runs."""

from __future__ import annotations

import io

from ledger.audit.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_run_shorter_than_the_interval_prints_no_progress_line() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = Progress("verify", out=out, clock=clock)
    clock.now += 0.5
    progress(500, 1000)
    assert out.getvalue() == ""


def test_a_long_run_prints_how_far_and_how_fast() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = Progress("verify", out=out, clock=clock)
    clock.now += 2.0
    progress(4000, 10000)
    assert out.getvalue() == "verify: 4000/10000 events, 2,000 events/s\n"


def test_the_closing_line_gives_the_overall_rate() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = Progress("export", out=out, clock=clock)
    clock.now += 4.0
    progress(1000)
    out.truncate(0)
    out.seek(0)
    progress.finish("exported 1000 events")
    assert out.getvalue() == "exported 1000 events (4.0 s, 250 events/s)\n"


def test_a_run_that_ends_before_counting_gives_the_rate_of_what_it_says_it_did() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = Progress("decisions", out=out, clock=clock)
    clock.now += 0.2
    progress.finish("decided 33 events", 33)
    assert out.getvalue() == "decided 33 events (0.2 s, 165 events/s)\n"
