"""The benchmark's summaries: repeated runs, the CPU probe, and how the report shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.comparisons import median_window
from bench.probe import cpu_probe_ms, spin
from bench.report import evaluate, render
from bench.stats import repeated

MB = 2**20


def test_repeated_runs_are_rated_by_their_median_time() -> None:
    figures = repeated(1_000_000, [(12.0, 100 * MB), (8.0, 120 * MB), (10.0, 110 * MB)])
    assert figures["seconds"] == 10.0
    assert figures["events_per_s"] == 100_000.0


def test_repeated_runs_keep_each_time_in_run_order_and_the_highest_peak() -> None:
    figures = repeated(500, [(3.0, 100 * MB), (1.0, 150 * MB), (2.0, 120 * MB)])
    assert figures["runs_s"] == [3.0, 1.0, 2.0]
    assert figures["peak_rss_mb"] == 150.0


def test_an_even_number_of_runs_takes_the_mean_of_the_middle_two() -> None:
    assert repeated(100, [(1.0, MB), (4.0, MB), (2.0, MB), (3.0, MB)])["seconds"] == 2.5


def test_repeated_refuses_no_runs() -> None:
    with pytest.raises(ValueError, match="no runs"):
        repeated(100, [])


def test_the_probe_spins_a_fixed_amount_of_work() -> None:
    assert spin(1000) == 999 * 1000 // 2


def test_the_probe_times_in_milliseconds() -> None:
    assert 0 < cpu_probe_ms(rounds=1, spins=1000) < 1000


def test_the_probe_needs_a_round() -> None:
    with pytest.raises(ValueError, match="rounds"):
        cpu_probe_ms(rounds=0)


def _results() -> dict[str, Any]:
    recorded = Path(__file__).resolve().parents[2] / "bench" / "results.json"
    results: dict[str, Any] = json.loads(recorded.read_text())
    return results


def test_the_report_lists_every_replay_run_behind_the_median() -> None:
    results = _results()
    results["ledger"]["replay"] = repeated(1000, [(0.012, MB), (0.009, MB), (0.01, MB)])
    assert "median of 0.012, 0.009, 0.01 s" in render(results)


def test_the_report_names_the_slowest_and_fastest_probe() -> None:
    results = _results()
    results["probe_ms"] = {"ledger.replay": 30.5, "baseline.single_c1": 22.0}
    assert "22 (baseline.single_c1) to 30.5 (ledger.replay)" in render(results)


def test_the_report_shows_the_pass_through_beside_the_raw_rate() -> None:
    results = _results()
    results["baseline"]["single_c32"]["events_per_s"] = 8000.0
    results["passthrough"] = {
        "single_c32": {"events_per_s": 3200.0, "p50_ms": 10.0, "p99_ms": 20.0},
        "batch100_c8": {"events_per_s": 50000.0, "p50_ms": 12.0, "p99_ms": 30.0},
    }
    lines = render(results).splitlines()
    row = next(line for line in lines if "pass-through to the raw INSERT, single posts" in line)
    assert row.endswith("| 3200 | 10.0 | 20.0 | 8000 | 0.40 |")


def test_the_report_of_a_run_without_a_pass_through_leaves_its_rows_out() -> None:
    results = _results()
    results.pop("passthrough", None)
    results["targets"] = evaluate(results)  # as a run without one judges them
    assert "pass-through" not in render(results)


def test_the_report_gives_the_cpu_per_event_and_the_rate_it_allows() -> None:
    results = _results()
    results["machine"]["cpus"] = 2
    results["ledger"]["batch100_c8"]["cpu_us"] = {
        "service": 60.0,
        "runner": 20.0,
        "postgresql": 100.0,
        "load_generator": 20.0,
        "total": 200.0,
    }
    lines = render(results).splitlines()
    row = next(line for line in lines if line.startswith("| ledger, batches of 100 |"))
    assert row == "| ledger, batches of 100 | 60 | 20 | 100 |  |  |  | 20 | 200 | 10000 | 14286 |"


def _single(rate: float, p50: float) -> dict[str, Any]:
    return {"events_per_s": rate, "p50_ms": p50, "p99_ms": 2 * p50}


def test_the_report_gives_the_ledger_over_the_peer_at_each_concurrency() -> None:
    results = _results()
    results["peer"] = {
        "db_functions": {f"single_c{c}": _single(500.0, 2.0) for c in (1, 8, 32)},
    }
    for c, rate in ((1, 250.0), (8, 500.0), (32, 1000.0)):
        results["ledger"][f"single_c{c}"].update(_single(rate, 4.0))
    lines = render(results).splitlines()
    for c, ratio in ((1, "0.50"), (8, "1.00"), (32, "2.00")):
        row = next(line for line in lines if line.startswith(f"| concurrency {c} |"))
        assert "| 500 (2.0) |" in row
        assert row.endswith(f"| {ratio} |")


def test_the_quick_run_is_judged_only_on_what_it_measured() -> None:
    results = _results()
    for key in ("batch100_c8", "replay", "catch_up", "growth_empty", "growth_full"):
        results["ledger"].pop(key, None)
    results["baseline"].pop("batch100_c8")
    assert set(evaluate(results)) >= {"single_c1_p50_ms", "single_c32_ratio"}
    assert "batch100_events_per_s" not in evaluate(results)
    assert "replay_events_per_s" not in evaluate(results)


def test_the_console_first_byte_is_judged_when_it_was_timed() -> None:
    results = _results()
    results["console"] = {**results.get("console", {}), "worst_p95_ms": 0.8}
    assert evaluate(results)["console_first_byte_p95_ms"]["met"] is True


def test_the_cpu_target_at_concurrency_1_counts_the_ledgers_processes_not_its_client() -> None:
    results = _results()
    results["ledger"]["single_c1"]["cpu_us"] = {
        "service": 700.0,
        "runner": 150.0,
        "postgresql": 600.0,
        "load_generator": 100.0,
        "total": 1550.0,
    }
    assert evaluate(results)["single_c1_cpu_us"]["value"] == 1450.0


def test_a_systems_single_posts_are_reported_by_its_median_window_whole() -> None:
    windows = [
        {"events_per_s": 300.0, "p50_ms": 3.0, "cpu_us": {"total": 900.0}},
        {"events_per_s": 100.0, "p50_ms": 9.0, "cpu_us": {"total": 2000.0}},
        {"events_per_s": 200.0, "p50_ms": 5.0, "cpu_us": {"total": 1200.0}},
    ]
    chosen = median_window(windows)
    assert (chosen["events_per_s"], chosen["p50_ms"], chosen["cpu_us"]) == (
        200.0,
        5.0,
        {"total": 1200.0},
    )
    assert chosen["rates_seen"] == [300.0, 100.0, 200.0]
