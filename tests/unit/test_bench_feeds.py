"""bench.feeds: the feed targets are judged and shown from the measured figures."""

from __future__ import annotations

from bench import feeds

FIGURES = {
    "follow": {"events": 1000, "seconds": 0.05, "events_per_s": 20_000.0},
    "stream": {"events": 1000, "seconds": 0.1, "events_per_s": 10_000.0},
    "stream_delay_c8": {"events": 500, "p50_ms": 1.5, "p99_ms": 99.0, "max_ms": 120.0},
}


def test_each_feed_target_is_judged_against_its_figure() -> None:
    judged = feeds.evaluate(FIGURES)
    assert judged["follow_events_per_s"]["met"] is True
    assert judged["stream_events_per_s"]["met"] is False
    assert judged["stream_delay_p99_ms"]["met"] is True


def test_the_table_shows_every_feed_figure() -> None:
    table = feeds.render(FIGURES)
    assert "| catch-up through follow() | 1000 | 20000 |" in table
    assert "| catch-up through the stream | 1000 | 10000 |" in table
    assert "1.5 | 99.0 |" in table
