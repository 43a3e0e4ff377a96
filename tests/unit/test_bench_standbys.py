"""The benchmark's hot standby table: each route, from the primary alone and via the standby."""

from bench.standbys import render

_RUN = {"operations": 100, "seconds": 1.0, "p50_ms": 2.0, "p99_ms": 9.0, "errors": 0}


def test_each_route_is_shown_without_and_with_the_standby() -> None:
    figures = {
        "smes": 200,
        "concurrency": 16,
        "primary_exposure": {**_RUN, "reads_per_s": 100.0},
        "standby_exposure": {**_RUN, "reads_per_s": 90.0, "served_by_standby": 100},
        "primary_guarantee": {**_RUN, "reads_per_s": 120.0},
        "standby_guarantee": {**_RUN, "reads_per_s": 110.0, "served_by_standby": 98},
    }
    lines = render(figures)
    assert "| exposure | primary alone | 100.0 | 2.0 | 9.0 | 0 | 0 of 100 |" in lines
    assert "| guarantee | hot standby | 110.0 | 2.0 | 9.0 | 0 | 98 of 100 |" in lines


def test_a_skipped_phase_says_why() -> None:
    lines = render({"skipped": "no PostgreSQL server binaries"})
    assert lines[-1] == "Reads through a hot standby: not measured (no PostgreSQL server binaries)."
