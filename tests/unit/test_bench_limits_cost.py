"""The limits' cost to posts without them: how the benchmark rates and judges it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.limits_cost import CONCURRENCY, _compare, render
from bench.report import evaluate


def _window(rate: float, service_us: float) -> dict[str, Any]:
    return {"events_per_s": rate, "cpu_us": {"service": service_us, "total": 3 * service_us}}


def _figures(off: list[float], on: list[float]) -> dict[str, Any]:
    windows = {
        "off": [_window(r, 300.0) for r in off],
        "on": [_window(r, 303.0) for r in on],
    }
    compared = _compare(windows)
    return {"rounds": len(off), "seconds": 3.0} | {f"single_c{c}": compared for c in CONCURRENCY}


def test_each_side_is_rated_by_its_median_window() -> None:
    figures = _figures([1000.0, 900.0, 1100.0], [960.0, 1200.0, 700.0])
    assert figures["single_c32"]["off"]["events_per_s"] == 1000.0
    assert figures["single_c32"]["on"]["events_per_s"] == 960.0
    assert figures["single_c32"]["slower_pct"] == 4.0


def test_the_cpu_per_post_is_compared_per_process() -> None:
    figures = _figures([1000.0], [1000.0])
    assert figures["single_c1"]["service_cpu_pct"] == 1.0
    assert figures["single_c1"]["total_cpu_pct"] == 1.0


def test_the_report_judges_the_limits_cost_at_concurrency_32_when_measured() -> None:
    recorded = Path(__file__).resolve().parents[2] / "bench" / "results.json"
    results: dict[str, Any] = json.loads(recorded.read_text())
    results["limits_cost"] = _figures([1000.0, 1000.0], [990.0, 990.0])
    judged = evaluate(results)["limits_slower_pct"]
    assert (judged["value"], judged["met"]) == (1.0, True)
    results["limits_cost"] = _figures([1000.0, 1000.0], [960.0, 960.0])
    assert evaluate(results)["limits_slower_pct"]["met"] is False


def test_the_table_has_a_row_per_concurrency() -> None:
    lines = render(_figures([1000.0], [990.0]))
    assert [line.split(" | ")[0] for line in lines[3:]] == [
        f"| single posts, concurrency {c}" for c in CONCURRENCY
    ]


def test_the_table_gives_cpu_per_post_in_whole_microseconds() -> None:
    windows = {
        "off": [_window(1000.0, 1255.1), _window(1000.0, 1255.5)],
        "on": [_window(990.0, 1256.2), _window(990.0, 1256.4)],
    }
    figures = {"rounds": 2, "seconds": 1.5} | {
        f"single_c{c}": _compare(windows) for c in CONCURRENCY
    }
    cells = render(figures)[3].split(" | ")
    assert cells[4:] == ["1255, 1256", "3766, 3769 |"]
