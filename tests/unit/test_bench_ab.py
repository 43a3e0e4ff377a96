"""bench/ab.py: windows taken in turns, and each side's figures the medians of its windows."""

from __future__ import annotations

from bench.ab import alternated, summary


def _window(rate: float, p50: float, service: float) -> dict[str, object]:
    return {
        "events_per_s": rate,
        "p50_ms": p50,
        "p99_ms": p50 * 3,
        "cpu_us": {"service": service, "total": service * 2},
    }


def test_a_sides_figures_are_the_medians_of_its_windows() -> None:
    windows = [_window(100, 5.0, 900), _window(300, 2.0, 1500), _window(200, 9.0, 1200)]
    assert summary(windows) == {
        "events_per_s": 200,
        "p50_ms": 5.0,
        "p99_ms": 15.0,
        "cpu_service_us": 1200,
        "cpu_total_us": 2400,
    }


def test_an_even_number_of_windows_takes_the_mean_of_the_middle_two() -> None:
    windows = [_window(100, 2.0, 800), _window(300, 4.0, 1000)]
    assert summary(windows)["events_per_s"] == 200
    assert summary(windows)["cpu_service_us"] == 900


def test_windows_are_taken_in_turns_and_who_goes_first_alternates() -> None:
    taken: list[str] = []

    def measure(label: str, rate: float) -> dict[str, object]:
        taken.append(label)
        return _window(rate, 1.0, 100)

    medians = alternated(
        3, {"a": lambda: measure("a", 10), "b": lambda: measure("b", 20)}, "concurrency 1"
    )
    assert taken == ["a", "b", "b", "a", "a", "b"]
    assert (medians["a"]["events_per_s"], medians["b"]["events_per_s"]) == (10, 20)
