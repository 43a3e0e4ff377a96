"""The console's benchmark figures: its table, and its target among the others."""

from __future__ import annotations

from bench.console import render

FIGURES = {
    "guarantees": 100000,
    "target_ms": 100.0,
    "worst_p95_ms": 12.5,
    "timings": {"programs page": {"p50_ms": 0.4, "p95_ms": 1.2, "max_ms": 3.0}},
}


def test_the_console_table_names_the_store_size_and_each_request() -> None:
    table = render(FIGURES)
    assert "100000 guarantees stored" in table
    assert "| programs page | 0.4 | 1.2 | 3.0 |" in table
